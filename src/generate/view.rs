//! The data the templates see: the model with every value already escaped
//! and every C fragment re-indented, plus the header comment's lines.

use super::c_text::{c_comment, c_string, reindent};
use super::GenerateOptions;
use crate::c::words::one_line;
use crate::check::model::{CallbackKind, Fragment, Function, Model, Object, Shadow, State, Target};
use serde::Serialize;

/// A placeholder the templates put where `#line` must return to the generated file.
const RESTORE: &str = "#line KGPC_RESTORE";

/// The symbol `THIS_MODULE` points at: every module defines its own.
const THIS_MODULE_SYMBOL: &str = "__this_module";

/// The C name of a patched module's `__this_module` in the patch module.
fn this_module_name(ident: &str) -> String {
    format!("kgpc_{ident}_this_module")
}

/// The C name of the object's `__this_module`, when it is a module whose
/// code the patch takes `THIS_MODULE` in.
fn this_module_alias(o: &Object) -> Option<String> {
    (o.module.is_some() && o.externs.iter().any(|e| e.name == THIS_MODULE_SYMBOL))
        .then(|| this_module_name(&o.ident))
}

#[derive(Serialize)]
pub struct View {
    kgpc_version: &'static str,
    module_name: String,
    spec: String,
    header: Vec<String>,
    includes: Vec<String>,
    has_externs: bool,
    /// Whether the code of a patched module takes its `THIS_MODULE`.
    has_this_module_aliases: bool,
    /// The modules the patch patches, as C identifiers.
    patched_modules: Vec<String>,
    data: Vec<FragmentView>,
    objects: Vec<ObjectView>,
    shadows: Vec<ShadowView>,
    states: Vec<StateView>,
    helpers: Vec<FunctionView>,
    /// What `THIS_MODULE` means in the helpers: the patched module's own, when
    /// the code of exactly one patched module takes it.
    helpers_this_module: Option<String>,
    cumulative: bool,
    description: Option<String>,
    authors: Vec<String>,
    /// The headers the fix changes, as the module directory names them.
    patched_headers: Vec<String>,
    /// The parts of headers hidden from modules that the code needs.
    hidden_headers: Vec<HiddenView>,
}

#[derive(Serialize)]
struct HiddenView {
    include: String,
    path: String,
    line: usize,
    text: String,
}

#[derive(Serialize)]
struct FragmentView {
    line: usize,
    file: String,
    text: String,
}

#[derive(Serialize)]
struct FunctionView {
    c_name: String,
    signature: String,
    origin: FragmentView,
    body: FragmentView,
    old_name: String,
    sympos: u64,
    source_file: Option<String>,
}

#[derive(Serialize)]
struct CallbackView {
    kind: &'static str,
    fn_name: String,
    return_type: &'static str,
    body: FragmentView,
}

#[derive(Serialize)]
struct CallbackRef {
    kind: &'static str,
    fn_name: String,
}

#[derive(Serialize)]
struct ExternView {
    name: String,
    declaration: String,
    sympos: u64,
    line: usize,
    file: String,
    /// The C name under which a module's own `__this_module` is referenced:
    /// the patch module defines a `__this_module` of its own.
    alias: Option<String>,
}

#[derive(Serialize)]
struct ObjectView {
    ident: String,
    module: Option<String>,
    display: String,
    funcs: Vec<FunctionView>,
    callbacks: Vec<CallbackView>,
    callback_refs: Vec<CallbackRef>,
    externs: Vec<ExternView>,
    /// What `THIS_MODULE` means in the code of the object's replacements:
    /// the patched module's `struct module`, not the patch module's.
    this_module: Option<String>,
    free_shadows: Vec<String>,
    user_post_unpatch: Option<String>,
}

#[derive(Serialize)]
struct ShadowView {
    name: String,
    id: u64,
    id_macro: String,
    owner: String,
    gfp: String,
    payload: FragmentView,
    ctor: Option<FragmentView>,
    dtor: Option<FragmentView>,
    ctor_fn: String,
    dtor_fn: String,
    free_on_unpatch: bool,
    template: Option<String>,
}

#[derive(Serialize)]
struct StateView {
    id_macro: String,
    id: String,
    version: u64,
}

/// Builds the templates' view of a model; `c_name` is the generated C file's name.
pub fn build(model: &Model, options: &GenerateOptions, c_name: &str) -> View {
    let viewer = Viewer { options };
    View {
        kgpc_version: env!("CARGO_PKG_VERSION"),
        module_name: model.patch.module_name.clone(),
        hidden_headers: model
            .fix
            .iter()
            .flat_map(|f| &f.hidden_headers)
            .map(|h| HiddenView {
                include: h.include.clone(),
                path: h.path.clone(),
                line: h.line,
                text: h.text.clone(),
            })
            .collect(),
        patched_headers: super::patched_headers(model)
            .into_iter()
            .map(|(name, _)| name)
            .collect(),
        spec: model
            .inputs
            .first()
            .map(|i| viewer.name_of(&i.name))
            .unwrap_or_default()
            .replace('\n', " "),
        header: header(model, &viewer, c_name),
        includes: model.includes.clone(),
        has_externs: model.objects.iter().any(|o| !o.externs.is_empty()),
        has_this_module_aliases: model.objects.iter().any(|o| this_module_alias(o).is_some()),
        patched_modules: model
            .objects
            .iter()
            .filter(|o| o.module.is_some())
            .map(|o| o.ident.clone())
            .collect(),
        data: model.data.iter().map(|d| viewer.fragment(d, 0)).collect(),
        objects: viewer.objects(model),
        helpers_this_module: {
            let mut aliases = model.objects.iter().filter_map(this_module_alias);
            match (aliases.next(), aliases.next()) {
                (Some(alias), None) => Some(alias),
                _ => None,
            }
        },
        shadows: model.shadows.iter().map(|s| viewer.shadow(s)).collect(),
        states: model.states.iter().map(state_view).collect(),
        helpers: model
            .helpers
            .iter()
            .map(|h| viewer.function(h, "", 0, None))
            .collect(),
        cumulative: model.patch.cumulative,
        description: model.patch.description.as_deref().map(c_string),
        authors: model.patch.authors.iter().map(|a| c_string(a)).collect(),
    }
}

/// Turns the model's parts into the templates' views, naming each source file
/// as the output names it.
struct Viewer<'a> {
    options: &'a GenerateOptions,
}

impl Viewer<'_> {
    /// A source file's name as `#line` and the header show it, escaped for C.
    fn name_of(&self, file: &str) -> String {
        let shown = self
            .options
            .path_names
            .iter()
            .find(|(from, _)| from == file)
            .map_or(file, |(_, to)| to.as_str());
        c_string(shown)
    }

    /// A C fragment re-indented to `depth`, with the line its text now starts at.
    fn fragment(&self, f: &Fragment, depth: usize) -> FragmentView {
        let (text, dropped) = reindent(&f.text, depth);
        FragmentView {
            line: f.line + dropped,
            file: self.name_of(&f.file),
            text,
        }
    }

    /// A replacement or helper: the function, its old name, position and source file.
    fn function(
        &self,
        f: &Function,
        old_name: &str,
        sympos: u64,
        source_file: Option<&String>,
    ) -> FunctionView {
        let separator = if f.return_type.ends_with('*') {
            ""
        } else {
            " "
        };
        FunctionView {
            c_name: f.c_name.clone(),
            signature: format!(
                "{}{separator}{}{}",
                f.return_type,
                f.c_name,
                one_line(&f.params, "\t")
            ),
            origin: FragmentView {
                line: f.origin.line,
                file: self.name_of(&f.origin.file),
                text: String::new(),
            },
            body: self.fragment(&f.body, 1),
            old_name: old_name.to_string(),
            sympos,
            source_file: source_file.map(|s| c_comment(s)),
        }
    }

    /// Every object; vmlinux's, added if the spec has none, frees the shadow
    /// variables that are not kept, in a post-unpatch callback that then calls the spec's own.
    fn objects(&self, model: &Model) -> Vec<ObjectView> {
        let mut objects: Vec<ObjectView> = model.objects.iter().map(|o| self.object(o)).collect();
        let freed: Vec<String> = model
            .shadows
            .iter()
            .filter(|s| s.free_on_unpatch)
            .map(|s| s.name.clone())
            .collect();
        if freed.is_empty() {
            return objects;
        }
        let at = match objects.iter().position(|o| o.module.is_none()) {
            Some(at) => at,
            None => {
                let empty = Object {
                    module: None,
                    span: crate::source::Span::new(crate::source::FileId(0), 0, 0),
                    ident: "vmlinux".into(),
                    funcs: Vec::new(),
                    callbacks: Vec::new(),
                    externs: Vec::new(),
                    requirements: Vec::new(),
                };
                objects.insert(0, self.object(&empty));
                0
            }
        };
        let vmlinux = &mut objects[at];
        vmlinux.free_shadows = freed;
        let kind = CallbackKind::PostUnpatch.keyword();
        vmlinux.user_post_unpatch = vmlinux
            .callback_refs
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| c.fn_name.clone());
        vmlinux.callback_refs.retain(|c| c.kind != kind);
        vmlinux.callback_refs.push(CallbackRef {
            kind,
            fn_name: "livepatch_post_unpatch".into(),
        });
        objects
    }

    fn object(&self, o: &Object) -> ObjectView {
        let callbacks: Vec<CallbackView> = o
            .callbacks
            .iter()
            .map(|c| CallbackView {
                kind: c.kind.keyword(),
                fn_name: format!("{}_{}", o.ident, c.kind.keyword()),
                return_type: if c.kind == CallbackKind::PrePatch {
                    "int"
                } else {
                    "void"
                },
                body: self.fragment(&c.body, 1),
            })
            .collect();
        ObjectView {
            ident: o.ident.clone(),
            module: o.module.clone(),
            display: o.display_name().to_string(),
            funcs: o
                .funcs
                .iter()
                .map(|r| self.function(&r.function, &r.old_name, r.sympos, r.source_file.as_ref()))
                .collect(),
            callback_refs: callbacks
                .iter()
                .map(|c| CallbackRef {
                    kind: c.kind,
                    fn_name: c.fn_name.clone(),
                })
                .collect(),
            callbacks,
            externs: o
                .externs
                .iter()
                .map(|e| ExternView {
                    name: e.name.clone(),
                    declaration: one_line(&e.declaration, "\t"),
                    sympos: e.sympos,
                    line: e.origin.line,
                    file: self.name_of(&e.origin.file),
                    alias: (o.module.is_some() && e.name == THIS_MODULE_SYMBOL)
                        .then(|| this_module_name(&o.ident)),
                })
                .collect(),
            this_module: this_module_alias(o),
            free_shadows: Vec::new(),
            user_post_unpatch: None,
        }
    }

    fn shadow(&self, s: &Shadow) -> ShadowView {
        let function_if = |present: bool, suffix: &str| {
            if present {
                format!("{}_{suffix}", s.name)
            } else {
                "NULL".into()
            }
        };
        ShadowView {
            name: s.name.clone(),
            id: s.id,
            id_macro: format!("{}_SHADOW_ID", s.name.to_uppercase()),
            owner: s.owner.clone(),
            gfp: s.gfp.clone(),
            payload: self.fragment(&s.payload, 1),
            ctor: s.ctor.as_ref().map(|f| self.fragment(f, 1)),
            dtor: s.dtor.as_ref().map(|f| self.fragment(f, 1)),
            ctor_fn: function_if(s.ctor.is_some(), "ctor"),
            dtor_fn: function_if(s.dtor.is_some(), "dtor"),
            free_on_unpatch: s.free_on_unpatch,
            template: s.template.clone(),
        }
    }
}

fn state_view(s: &State) -> StateView {
    StateView {
        id_macro: format!("{}_STATE_ID", s.name.to_uppercase()),
        id: format!("{:#x}", s.id),
        version: s.version,
    }
}

/// The lines of the header comment that explain the module.
fn header(model: &Model, viewer: &Viewer, c_name: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let p = &model.patch;
    if let Some(d) = &p.description {
        lines.extend(d.lines().map(c_comment));
        lines.push(String::new());
    }
    lines.extend(input_lines(model, viewer));
    lines.extend(target_lines(&model.target));
    for r in &p.references {
        lines.push(format!(
            "Reference: {} {}",
            c_comment(&r.kind),
            c_comment(&r.value)
        ));
    }
    for a in &p.authors {
        lines.push(format!("Author:    {}", c_comment(a)));
    }
    lines.push(String::new());
    for o in &model.objects {
        lines.extend(object_lines(o));
    }
    lines.extend(shadow_and_state_lines(model));
    if p.cumulative {
        lines.push("Cumulative: atomically replaces every earlier live patch.".into());
    }
    lines.push(String::new());
    lines.push(format!(
        "Build: make KDIR=<kernel build tree>; the module is {}.ko.",
        p.module_name
    ));
    lines.push(format!(
        "Compiler errors in {c_name} point at the spec through #line directives."
    ));
    lines
}

/// The spec and every file it read, with their SHA-256.
fn input_lines(model: &Model, viewer: &Viewer) -> Vec<String> {
    model
        .inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let label = if index == 0 {
                "Spec:      "
            } else {
                "Reads:     "
            };
            format!(
                "{label}{} (sha256 {})",
                c_comment(&viewer.name_of(&input.name)),
                input.sha256
            )
        })
        .collect()
}

/// The kernel the module is built for, and how it was chosen.
fn target_lines(t: &Target) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Target:    {} ({}, Linux {})",
            c_comment(&t.release),
            t.arch,
            t.version
        ),
        format!("           chosen as {}", c_comment(&t.release_source)),
    ];
    if t.releases.len() > 1 || t.releases.first() != Some(&t.release) {
        lines.push(format!(
            "           the spec targets {}",
            c_comment(&t.releases.join(", "))
        ));
    }
    if let Some(id) = &t.build_id {
        lines.push(format!("Build id:  {id}"));
    }
    lines
}

/// What the module does to one object: the functions it replaces, the
/// callbacks it runs and the symbols it uses that are not exported.
fn object_lines(o: &Object) -> Vec<String> {
    let mut lines = Vec::new();
    for f in &o.funcs {
        let mut place = Vec::new();
        if f.sympos > 0 {
            place.push(format!("sympos {}", f.sympos));
        }
        if let Some(file) = &f.source_file {
            place.push(format!("from {}", c_comment(file)));
        }
        let pos = if place.is_empty() {
            String::new()
        } else {
            format!(" ({})", place.join(", "))
        };
        lines.push(format!(
            "Replaces {}(){pos} in {}.",
            f.old_name,
            o.display_name()
        ));
    }
    for c in &o.callbacks {
        lines.push(format!(
            "Runs a {} callback for {}.",
            c.kind.keyword(),
            o.display_name()
        ));
    }
    for e in &o.externs {
        lines.push(format!(
            "Uses {}, not exported by {}.",
            e.name,
            o.display_name()
        ));
    }
    lines
}

fn shadow_and_state_lines(model: &Model) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &model.shadows {
        let fate = if s.free_on_unpatch {
            "freed when the patch is disabled"
        } else {
            "kept after the patch is disabled"
        };
        lines.push(format!(
            "Adds shadow variable {} (id {}) to {}, {fate}.",
            s.name, s.id, s.owner
        ));
    }
    for s in &model.states {
        lines.push(format!(
            "Sets up state {} (id {:#x}, version {}).",
            s.name, s.id, s.version
        ));
    }
    lines
}

/// Replaces each `#line KGPC_RESTORE` with a directive naming the generated
/// file and the line after it, so that diagnostics outside spec fragments
/// point at the generated file again.
pub fn restore_line_directives(text: &str, c_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.lines().enumerate() {
        if line == RESTORE {
            out.push_str(&format!("#line {} \"{}\"", index + 2, c_string(c_name)));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
