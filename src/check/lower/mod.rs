//! Lowering: from the syntax trees of a spec and its imports to a [`Model`].
//!
//! Every rule that needs no kernel facts is checked here, and every problem
//! is reported: lowering goes on after an error so that one run shows all of
//! them. The model is returned even when there were errors, as far as it
//! could be built, so that later checks can report their problems too; the
//! caller must not generate code from it then.
//!
//! This file holds the state the steps share and the order they run in; each
//! kind of item is lowered in a file of its own.

mod api_gate;
mod duplicates;
mod fix;
mod fragments;
mod object;
mod patch;
mod placement;
mod requires;
mod shadow;
mod state;
mod target;
mod test_files;
mod test_plan;
#[cfg(test)]
mod tests;

use super::model::{Fragment, Function, InputFile, Model, Object, Shadow, State, UpstreamFix};
use super::release::ReleaseRequest;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::digest::sha256_hex;
use crate::load::{Loaded, NamedFiles};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::ast::{Ast, Item, PatchBlock, TargetBlock, TemplateBlock};
use std::collections::HashMap;

/// What lowering needs from outside the spec.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    pub release: ReleaseRequest,
    /// Kernel facts will supply the prototypes the spec leaves out. Without
    /// them, a replacement without a prototype is an error.
    pub prototypes_from_kernel: bool,
}

/// Lowers the loaded trees to a model, reporting every problem into
/// `diagnostics`. Lowering only reads `sources`, where load has put every
/// file; it takes it mutably as its callers have always passed it.
pub fn lower(
    loaded: &Loaded,
    sources: &mut SourceMap,
    options: &LowerOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Model> {
    let mut lowerer = Lowerer {
        sources,
        diagnostics,
        named: &loaded.named,
        bodies_read: Vec::new(),
        names: HashMap::new(),
        prototypes_from_kernel: options.prototypes_from_kernel,
    };
    lowerer.run(loaded, options)
}

struct Lowerer<'a> {
    sources: &'a SourceMap,
    diagnostics: &'a mut Diagnostics,
    /// The body files and `patch_first` specs, as loading found them.
    named: &'a NamedFiles,
    /// The body files the replacements use, in the order they were lowered.
    bodies_read: Vec<FileId>,
    /// Every C name the patch module defines, with where it comes from.
    names: HashMap<String, Span>,
    prototypes_from_kernel: bool,
}

/// The items any file may hold, from every tree in emission order.
struct SharedItems<'t> {
    includes: Vec<String>,
    data: Vec<Fragment>,
    helpers: Vec<Function>,
    templates: HashMap<String, &'t TemplateBlock>,
}

/// The items only the spec itself may hold, lowered.
struct SpecItems {
    shadows: Vec<Shadow>,
    states: Vec<State>,
    objects: Vec<Object>,
}

impl Lowerer<'_> {
    /// Reports a diagnostic of any severity.
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Lowers every item; the order of the steps is the order of their diagnostics.
    fn run(&mut self, loaded: &Loaded, options: &LowerOptions) -> Option<Model> {
        let root = loaded.trees.first()?;
        self.check_placement(loaded);
        let api_table = loaded
            .api
            .map(|i| self.api_table(&loaded.trees[i]))
            .unwrap_or_default();

        let patches: Vec<&PatchBlock> = root.patches().collect();
        let targets: Vec<&TargetBlock> = root.targets().collect();
        let patch = self
            .single(&patches, |p| p.name.span, Code::MissingPatch, "patch", root)
            .map(|p| self.patch(p));
        let target = self
            .single(&targets, |t| t.keyword, Code::MissingTarget, "target", root)
            .and_then(|t| self.target(t, options));
        let api = target.as_ref().and_then(|t| self.api_level(t, api_table));
        let shared = self.shared_items(loaded);
        let own = self.spec_items(root, &shared.templates);

        let patch = patch?;
        if let (Some(api), Some(target)) = (&api, &target) {
            self.gate_features(root, &patch, &own.states, api, target);
        }
        let requirements = self.spec_requirements(root);
        let fix = self.upstream_fix(root);
        self.report_empty_patch(&patch, &patches, &own, fix.is_some());
        let test = self.test_block(root);
        if let (false, Some(target)) = (self.prototypes_from_kernel, &target) {
            self.files_without_facts(&own.objects, target);
        }
        let inputs = self.inputs(loaded, fix.as_ref());
        Some(Model {
            patch,
            target: target?,
            api: api?,
            includes: shared.includes,
            data: shared.data,
            helpers: shared.helpers,
            objects: own.objects,
            shadows: own.shadows,
            states: own.states,
            inputs,
            test,
            fix,
            requirements,
        })
    }

    /// Includes, data, helpers and templates, which imports share with the spec.
    fn shared_items<'t>(&mut self, loaded: &'t Loaded) -> SharedItems<'t> {
        let mut shared = SharedItems {
            includes: Vec::new(),
            data: Vec::new(),
            helpers: Vec::new(),
            templates: HashMap::new(),
        };
        for &index in &loaded.order {
            for item in &loaded.trees[index].items {
                match item {
                    Item::Include(include) if !shared.includes.contains(&include.header.text) => {
                        shared.includes.push(include.header.text.clone());
                    }
                    Item::Include(_) => {}
                    Item::Data(d) => shared.data.push(self.fragment(&d.body)),
                    Item::Helper(h) => {
                        if let Some(f) = self.helper(h) {
                            shared.helpers.push(f);
                        }
                    }
                    Item::Template(t) => self.template(t, &mut shared.templates),
                    _ => {}
                }
            }
        }
        shared
    }

    /// Shadows, states and objects, in the order the spec gives them.
    fn spec_items(&mut self, root: &Ast, templates: &HashMap<String, &TemplateBlock>) -> SpecItems {
        let mut own = SpecItems {
            shadows: Vec::new(),
            states: Vec::new(),
            objects: Vec::new(),
        };
        let mut shadow_ids: HashMap<u64, (Span, String)> = HashMap::new();
        let mut state_ids: HashMap<u64, (Span, String)> = HashMap::new();
        let mut object_spans: HashMap<String, Span> = HashMap::new();
        for item in &root.items {
            match item {
                Item::Shadow(s) => {
                    if let Some(shadow) = self.shadow(s, templates, &mut shadow_ids) {
                        own.shadows.push(shadow);
                    }
                }
                Item::State(s) => {
                    if let Some(state) = self.state(s, &mut state_ids) {
                        own.states.push(state);
                    }
                }
                Item::Object(o) => {
                    if let Some(object) = self.object(o, &mut object_spans) {
                        own.objects.push(object);
                    }
                }
                _ => {}
            }
        }
        own
    }

    /// Every file the spec read, for the generated header and the review: the
    /// trees in load order, then the body files in the order the spec names them.
    fn inputs(&self, loaded: &Loaded, fix: Option<&UpstreamFix>) -> Vec<InputFile> {
        let trees = loaded.trees.iter().map(|t| t.file);
        trees
            .chain(fix.iter().flat_map(|f| f.patch_files.iter().copied()))
            .chain(self.bodies_read.iter().copied())
            .map(|id| InputFile {
                name: self.sources.name(id).to_string(),
                sha256: sha256_hex(self.sources.text(id).as_bytes()),
                standard: matches!(self.sources.origin(id), Origin::Std(_)),
            })
            .collect()
    }
}
