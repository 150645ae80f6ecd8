//! Lowering: from the syntax trees of a spec and its imports to a [`Model`].
//!
//! Every rule that needs no kernel facts is checked here, and every problem
//! is reported: lowering goes on after an error so that one run shows all of
//! them. The model is returned even when there were errors, as far as it
//! could be built, so that later checks can report their problems too; the
//! caller must not generate code from it then.

use super::api::{ApiLevel, FEATURES, REQUIRED};
use super::model;
use super::model::{
    CallbackCode, DmesgExpectation, Extern, Fragment, Function, InputFile, Model, Object,
    PatchInfo, Reference, Refusal, Shadow, State, Target, TestCheck, TestLoad, TestPlan,
    TestSpecRef,
};
use super::names::{c_identifier_problem, MODULE_NAME_MAX, MODULE_PREFIX};
use super::release::{self, ReleaseRequest};
use super::version::KernelVersion;
use crate::c::braces::{brace_problem, BraceProblem};
use crate::c::words::join_words;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::digest::sha256_hex;
use crate::kernel::module_name::kernel_module_name;
use crate::load::{outside_scope, refusal_or, Loaded};
use crate::read::read_text;
use crate::scope::{self, ReadScope};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::ast::*;
use crate::syntax::suggest::did_you_mean;
use std::collections::HashMap;

/// What lowering needs from outside the spec.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    pub release: ReleaseRequest,
    /// Kernel facts will supply the prototypes the spec leaves out. Without
    /// them, a replacement without a prototype is an error.
    pub prototypes_from_kernel: bool,
}

/// Architectures with livepatch support in mainline, and the first version of each.
const ARCHES: &[(&str, KernelVersion)] = &[
    ("x86_64", KernelVersion::new(4, 0)),
    ("ppc64le", KernelVersion::new(4, 7)),
    ("s390x", KernelVersion::new(5, 5)),
    ("loongarch64", KernelVersion::new(6, 6)),
    ("arm64", KernelVersion::new(6, 17)),
];

const REFERENCE_KINDS: &[&str] = &["cve", "commit", "bug", "url"];

pub fn lower(
    loaded: &Loaded,
    sources: &mut SourceMap,
    options: &LowerOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Model> {
    let mut lowerer = Lowerer {
        sources,
        diagnostics,
        scope: &loaded.scope,
        names: HashMap::new(),
        prototypes_from_kernel: options.prototypes_from_kernel,
    };
    lowerer.run(loaded, options)
}

struct Lowerer<'a> {
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Diagnostics,
    /// Where body files may be read from.
    scope: &'a ReadScope,
    /// Every C name the patch module defines, with where it comes from.
    names: HashMap<String, Span>,
    prototypes_from_kernel: bool,
}

impl Lowerer<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn run(&mut self, loaded: &Loaded, options: &LowerOptions) -> Option<Model> {
        let root = &loaded.trees[0];
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

        let mut includes: Vec<String> = Vec::new();
        let mut data = Vec::new();
        let mut helpers = Vec::new();
        let mut templates: HashMap<String, &TemplateBlock> = HashMap::new();
        for &index in &loaded.order {
            for item in &loaded.trees[index].items {
                match item {
                    Item::Include(include) if !includes.contains(&include.header.text) => {
                        includes.push(include.header.text.clone());
                    }
                    Item::Include(_) => {}
                    Item::Data(d) => data.push(self.fragment(&d.body)),
                    Item::Helper(h) => {
                        if let Some(f) = self.helper(h) {
                            helpers.push(f);
                        }
                    }
                    Item::Template(t) => {
                        if let Some(first) = templates.get(&t.name.text) {
                            let first = first.name.span;
                            self.duplicate(
                                format!("template `{}` is defined twice", t.name.text),
                                t.name.span,
                                first,
                                "rename one of the templates",
                            );
                        } else {
                            templates.insert(t.name.text.clone(), t);
                        }
                    }
                    _ => {}
                }
            }
        }

        let mut shadows = Vec::new();
        let mut shadow_ids: HashMap<u64, (Span, String)> = HashMap::new();
        let mut states = Vec::new();
        let mut state_ids: HashMap<u64, (Span, String)> = HashMap::new();
        let mut objects: Vec<Object> = Vec::new();
        let mut object_spans: HashMap<String, Span> = HashMap::new();
        for item in items(root) {
            match item {
                Item::Shadow(s) => {
                    if let Some(shadow) = self.shadow(s, &templates, &mut shadow_ids) {
                        shadows.push(shadow);
                    }
                }
                Item::State(s) => {
                    if let Some(state) = self.state(s, &mut state_ids) {
                        states.push(state);
                    }
                }
                Item::Object(o) => {
                    if let Some(object) = self.object(o, &mut object_spans) {
                        objects.push(object);
                    }
                }
                _ => {}
            }
        }

        let patch = patch?;
        if let (Some(api), Some(target)) = (&api, &target) {
            self.gate_features(root, &patch, &states, api, target);
        }
        let changes = objects
            .iter()
            .any(|o| !o.funcs.is_empty() || !o.callbacks.is_empty())
            || !shadows.is_empty();
        // An empty patch is reported only when nothing else is wrong: after a
        // syntax error it is usually a consequence, not a cause.
        if !changes && !self.diagnostics.has_errors() {
            let span = patches.first().map(|p| p.name.span);
            let mut d = Diagnostic::error(
                Code::EmptyPatch,
                format!("patch `{}` changes nothing", patch.name),
            )
            .with_help("add an `object` block with a `replace` or a callback");
            if let Some(span) = span {
                d = d.at(span, "no replacement, callback or shadow variable");
            }
            self.error(d);
        }
        let tests: Vec<&TestBlock> = root.tests().collect();
        for extra in tests.iter().skip(1) {
            self.duplicate(
                "the spec has more than one `test` block".to_string(),
                extra.keyword,
                tests[0].keyword,
                "merge the `test` blocks into one",
            );
        }
        let test = tests.first().map(|t| self.test(t));
        if let (false, Some(target)) = (self.prototypes_from_kernel, &target) {
            let why = format!(
                "no debug vmlinux of {} was found, or --no-kernel-checks was given",
                target.release
            );
            for object in &objects {
                for func in &object.funcs {
                    if let Some(d) = super::positions::file_without_facts(
                        func,
                        object.display_name(),
                        &target.release,
                        &why,
                    ) {
                        self.error(d);
                    }
                }
            }
        }
        let inputs = self.inputs(loaded);
        Some(Model {
            patch,
            target: target?,
            api: api?,
            includes,
            data,
            helpers,
            objects,
            shadows,
            states,
            inputs,
            test,
        })
    }

    /// Reports items in imported files that only the spec itself may hold,
    /// and comments that were meant as C preprocessor lines.
    fn check_placement(&mut self, loaded: &Loaded) {
        for (index, tree) in loaded.trees.iter().enumerate() {
            for comment in &tree.comments {
                let directive = [
                    "#include", "#define", "#ifdef", "#ifndef", "#if ", "#endif", "#pragma",
                    "#undef",
                ]
                .into_iter()
                .find(|d| comment.text.starts_with(d));
                if let Some(directive) = directive {
                    let end = comment.span.start + directive.trim_end().len();
                    self.error(
                        Diagnostic::warning(
                            Code::PreprocessorComment,
                            format!("`{}` here is a comment, not C", directive.trim_end()),
                        )
                        .at(Span::new(comment.span.file, comment.span.start, end), "`#` starts a comment in a spec")
                        .with_help("write `include <linux/header.h>` for a header; other preprocessor lines belong in a `data { }` block"),
                    );
                }
            }
            let is_std = matches!(self.sources.origin(tree.file), Origin::Std(_));
            for item in &tree.items {
                if let Item::Api(entry) = item {
                    if !is_std {
                        self.error(
                            Diagnostic::error(Code::ApiOutsideStd, "`api` entries belong to the standard library")
                                .at(entry.span, "not allowed in a spec")
                                .with_help("the API table is `std/api`; the target's `version` selects the API"),
                        );
                    }
                }
                let only_in_spec = matches!(item, Item::Test(_))
                    || matches!(
                        item,
                        Item::Patch(_)
                            | Item::Target(_)
                            | Item::Object(_)
                            | Item::Shadow(_)
                            | Item::State(_)
                    );
                if index > 0 && only_in_spec {
                    let keyword = item.keyword();
                    let span = item.span();
                    self.error(
                        Diagnostic::error(Code::NotAllowedInImport, format!("an imported file cannot hold {} `{keyword}` item", if keyword.starts_with('o') { "an" } else { "a" }))
                            .at(Span::new(span.file, span.start, span.start + keyword.len()), "only the spec itself may hold this")
                            .with_help("imported files share includes, data, helpers and templates; move this into the spec"),
                    );
                }
            }
        }
    }

    /// The one item of a kind the spec must have exactly once.
    fn single<'t, T>(
        &mut self,
        found: &[&'t T],
        span: impl Fn(&T) -> Span,
        code: Code,
        keyword: &str,
        root: &Ast,
    ) -> Option<&'t T> {
        let file = root.file;
        match found {
            // The block may be in the part that nests too deeply to read (KGP0040).
            [] if root.unread.is_some() => None,
            // The block is there but did not parse: its syntax error says so already.
            [] if root.items.iter().any(|item| match item {
                Item::Bad(bad) => bad.text.strip_prefix(keyword).is_some_and(|rest| {
                    !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
                }),
                _ => false,
            }) =>
            {
                None
            }
            [] => {
                let name = self.sources.name(file).to_string();
                let d = Diagnostic::error(code, format!("`{name}` has no `{keyword}` block"))
                    .with_help(match keyword {
                        "patch" => "start the spec with `patch NAME { description \"...\" }`",
                        _ => "add `target { release \"6.1.0-*-cloud-amd64\" arch x86_64 }`",
                    });
                self.error(d);
                None
            }
            [one] => Some(*one),
            [first, rest @ ..] => {
                for other in rest {
                    self.error(
                        Diagnostic::error(
                            code,
                            format!("the spec has more than one `{keyword}` block"),
                        )
                        .at(span(other), "second block")
                        .also(span(first), "first block here")
                        .with_help(format!("merge the `{keyword}` blocks into one")),
                    );
                }
                Some(*first)
            }
        }
    }

    fn patch(&mut self, block: &PatchBlock) -> PatchInfo {
        let name = block.name.text.clone();
        let module_name = format!("{MODULE_PREFIX}{name}");
        if module_name.len() > MODULE_NAME_MAX {
            self.error(
                Diagnostic::error(Code::NameTooLong, format!("module name `{module_name}` is {} characters long", module_name.len()))
                    .at(block.name.span, format!("at most {} characters", MODULE_NAME_MAX - MODULE_PREFIX.len()))
                    .with_note(format!("the kernel limits module names to {MODULE_NAME_MAX} characters (MODULE_NAME_LEN is 56 with the NUL), and the module is `{MODULE_PREFIX}<name>`"))
                    .with_help("choose a shorter patch name"),
            );
        }
        let mut description: Option<&Str> = None;
        let mut cumulative: Option<Span> = None;
        let mut references = Vec::new();
        let mut authors = Vec::new();
        for entry in &block.entries {
            match entry {
                PatchEntry::Description(s) => {
                    self.no_nul(s, "description", "MODULE_DESCRIPTION");
                    if let Some(first) = description {
                        self.duplicate_property("description", s.span, first.span);
                    } else {
                        description = Some(s);
                    }
                }
                PatchEntry::Reference { kind, value } => {
                    self.reference(kind, value);
                    references.push(Reference {
                        kind: kind.text.clone(),
                        value: value.value.clone(),
                    });
                }
                PatchEntry::Author(s) => {
                    self.no_nul(s, "author", "MODULE_AUTHOR");
                    authors.push(s.value.clone());
                }
                PatchEntry::Cumulative(span) => {
                    if let Some(first) = cumulative {
                        self.duplicate_property("cumulative", *span, first);
                    } else {
                        cumulative = Some(*span);
                    }
                }
                PatchEntry::Bad(_) => {}
            }
        }
        PatchInfo {
            kernel_name: kernel_module_name(&module_name),
            module_name,
            name,
            description: description.map(|s| s.value.clone()),
            references,
            authors,
            cumulative: cumulative.is_some(),
        }
    }

    /// Refuses a NUL character in a string the module carries in `.modinfo`,
    /// where C would silently cut the text at it.
    fn no_nul(&mut self, s: &Str, what: &str, field: &str) {
        let Some(at) = self.sources.text(s.span.file)[s.span.range()].find('\0') else {
            return;
        };
        let start = s.span.start + at;
        self.error(
            Diagnostic::error(
                Code::NulCharacter,
                format!("the {what} holds a NUL character"),
            )
            .at(Span::new(s.span.file, start, start + 1), "a NUL character")
            .with_note(format!(
                "{field} would end at it: everything after it would be lost from the module's information"
            ))
            .with_help("remove the NUL character"),
        );
    }

    fn reference(&mut self, kind: &Word, value: &Str) {
        if !REFERENCE_KINDS.contains(&kind.text.as_str()) {
            let mut d = Diagnostic::error(
                Code::UnknownReferenceKind,
                format!("unknown reference kind `{}`", kind.text),
            )
            .at(kind.span, "not a kind of reference")
            .with_note(format!("the kinds are: {}", REFERENCE_KINDS.join(", ")));
            if let Some(best) = did_you_mean(&kind.text, REFERENCE_KINDS) {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            self.error(d);
            return;
        }
        let v = value.value.as_str();
        let problem = match kind.text.as_str() {
            "cve" => {
                let parts: Vec<&str> = v.split('-').collect();
                let ok = parts.len() == 3
                    && parts[0] == "CVE"
                    && parts[1].len() == 4
                    && parts[1].chars().all(|c| c.is_ascii_digit())
                    && parts[2].len() >= 4
                    && parts[2].chars().all(|c| c.is_ascii_digit());
                (!ok).then_some("a CVE id looks like `CVE-2024-26581`")
            }
            "commit" => {
                let ok = (7..=40).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit());
                (!ok).then_some("a commit id is 7 to 40 hexadecimal digits")
            }
            _ => (v.trim().is_empty()).then_some("a reference needs a value"),
        };
        if let Some(problem) = problem {
            self.error(
                Diagnostic::warning(
                    Code::MalformedReference,
                    format!("`{v}` does not look like a {} reference", kind.text),
                )
                .at(value.span, problem),
            );
        }
    }

    fn target(&mut self, block: &TargetBlock, options: &LowerOptions) -> Option<Target> {
        let mut releases: Vec<String> = Vec::new();
        let mut release_spans: Vec<Span> = Vec::new();
        let mut arch: Option<&Word> = None;
        let mut version: Option<&Word> = None;
        let mut build_id: Option<&Str> = None;
        for entry in &block.entries {
            match entry {
                TargetEntry::Release { values, .. } => {
                    for v in values.iter().filter(|v| v.value.trim().is_empty()) {
                        self.error(
                            Diagnostic::error(Code::InvalidVersion, "a release cannot be empty")
                                .at(v.span, "empty release")
                                .with_help("write a release as `uname -r` prints it, or a pattern such as \"6.1.0-*-cloud-amd64\""),
                        );
                    }
                    for v in values.iter().filter(|v| !v.value.trim().is_empty()) {
                        releases.push(v.value.clone());
                        release_spans.push(v.span);
                    }
                }
                TargetEntry::Arch(w) => {
                    if let Some(first) = arch {
                        self.duplicate_property("arch", w.span, first.span);
                    } else {
                        arch = Some(w);
                    }
                }
                TargetEntry::Version(w) => {
                    if let Some(first) = version {
                        self.duplicate_property("version", w.span, first.span);
                    } else {
                        version = Some(w);
                    }
                }
                TargetEntry::BuildId(s) => {
                    if let Some(first) = build_id {
                        self.duplicate_property("build_id", s.span, first.span);
                    } else {
                        build_id = Some(s);
                    }
                    if !(s.value.len() >= 8 && s.value.chars().all(|c| c.is_ascii_hexdigit())) {
                        self.error(
                            Diagnostic::error(Code::InvalidVersion, format!("`{}` is not a build id", s.value))
                                .at(s.span, "expected hexadecimal digits")
                                .with_help("a build id is the hex string `readelf -n vmlinux` prints as `Build ID`"),
                        );
                    }
                }
                TargetEntry::Bad(_) => {}
            }
        }
        if releases.is_empty() {
            self.missing(
                block.keyword,
                block.span,
                "target",
                "release",
                "release \"6.1.0-*-cloud-amd64\"",
            );
        }
        let arch_name = match arch {
            None => {
                self.missing(block.keyword, block.span, "target", "arch", "arch x86_64");
                None
            }
            Some(w) if !ARCHES.iter().any(|(a, _)| *a == w.text) => {
                let names: Vec<&str> = ARCHES.iter().map(|(a, _)| *a).collect();
                let mut d = Diagnostic::error(
                    Code::UnknownArch,
                    format!("architecture `{}` has no livepatch support", w.text),
                )
                .at(w.span, "unknown or unsupported")
                .with_note(format!("livepatch exists for: {}", names.join(", ")));
                // Debian and uname name some architectures differently from the kernel.
                let alias = match w.text.as_str() {
                    "amd64" | "x86-64" => Some("x86_64"),
                    "aarch64" => Some("arm64"),
                    "ppc64el" => Some("ppc64le"),
                    "s390" => Some("s390x"),
                    _ => None,
                };
                if let Some(best) = alias.or_else(|| did_you_mean(&w.text, &names)) {
                    d = d.with_help(format!("did you mean `{best}`?"));
                }
                self.error(d);
                None
            }
            Some(w) => Some(w.text.clone()),
        };
        if releases.is_empty() {
            return None;
        }
        let (release, release_source) = match release::resolve(&releases, &options.release) {
            Ok(found) => found,
            Err(why) => {
                let mut d = Diagnostic::error(
                    Code::ReleaseNotResolved,
                    format!("no kernel release chosen: {why}"),
                )
                .at(release_spans[0], "the spec's releases");
                for s in &release_spans[1..] {
                    d = d.also(*s, "also targeted");
                }
                if options.release.explicit.is_none() && !options.release.candidates.is_empty() {
                    let seen: Vec<String> = options
                        .release
                        .candidates
                        .iter()
                        .map(|(r, s)| format!("{r} ({s})"))
                        .collect();
                    d = d.with_note(format!("releases on this machine: {}", seen.join(", ")));
                }
                self.error(d.with_help(
                    "pass `--release RELEASE` with a release the spec names or matches",
                ));
                return None;
            }
        };
        let from_release = KernelVersion::from_release(&release);
        let version = match version {
            Some(w) => {
                match KernelVersion::parse(&w.text) {
                    Some(v) => {
                        if let Some(r) = from_release.filter(|r| !r.same_series(v)) {
                            self.error(
                            Diagnostic::error(Code::InvalidVersion, format!("version {v} disagrees with release `{release}`, which is {r}"))
                                .at(w.span, "does not match the release")
                                .with_help("fix the version, or drop it: kgpc reads it from the release"),
                        );
                        }
                        Some(v)
                    }
                    None => {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidVersion,
                                format!("`{}` is not a kernel version", w.text),
                            )
                            .at(w.span, "expected MAJOR.MINOR such as 6.1"),
                        );
                        None
                    }
                }
            }
            None => {
                if from_release.is_none() {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidVersion,
                            format!("cannot tell the kernel version of release `{release}`"),
                        )
                        .at(release_spans[0], "no version at its start")
                        .with_help("add `version MAJOR.MINOR` to the target block"),
                    );
                }
                from_release
            }
        };
        Some(Target {
            releases,
            release,
            release_source,
            span: release_spans[0],
            arch: arch_name?,
            version: version?,
            build_id: build_id.map(|s| s.value.to_lowercase()),
        })
    }

    /// Reads the API table of `std/api`.
    fn api_table(&mut self, tree: &Ast) -> Vec<(String, KernelVersion)> {
        let mut table = Vec::new();
        for item in &tree.items {
            let Item::Api(entry) = item else { continue };
            // The table is the embedded std/api; a unit test keeps its features known.
            if !FEATURES.iter().any(|(f, _)| *f == entry.feature.text) {
                continue;
            }
            match KernelVersion::parse(&entry.since.text) {
                Some(v) => table.push((entry.feature.text.clone(), v)),
                None => self.error(
                    Diagnostic::error(
                        Code::InvalidVersion,
                        format!("`{}` is not a kernel version", entry.since.text),
                    )
                    .at(entry.since.span, "expected MAJOR.MINOR"),
                ),
            }
        }
        table
    }

    fn api_level(
        &mut self,
        target: &Target,
        table: Vec<(String, KernelVersion)>,
    ) -> Option<ApiLevel> {
        let level = ApiLevel {
            version: target.version,
            table,
        };
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|f| !level.has(f)).collect();
        if !missing.is_empty() {
            let minimum = level.minimum();
            self.error(
                Diagnostic::error(Code::UnsupportedKernel, format!("Linux {} is older than {minimum}, the oldest kernel kgpc generates code for", target.version))
                    .with_note(format!("before {minimum} the livepatch API lacks: {}", missing.join(", ")))
                    .with_note("generating register/enable code for older kernels would be untested guesswork, so kgpc refuses")
                    .with_help(format!("target Linux {minimum} or later"))
                    .at(target.span, format!("Linux {}", target.version)),
            );
            return None;
        }
        Some(level)
    }

    /// Reports features the target kernel is too old for.
    fn gate_features(
        &mut self,
        root: &Ast,
        patch: &PatchInfo,
        states: &[State],
        api: &ApiLevel,
        target: &Target,
    ) {
        if let Some((_, since)) = ARCHES.iter().find(|(a, _)| *a == target.arch) {
            if target.version < *since {
                self.error(
                    Diagnostic::error(
                        Code::FeatureNeedsNewerKernel,
                        format!(
                            "livepatch on {} needs Linux {since}, but the target is Linux {}",
                            target.arch, target.version
                        ),
                    )
                    .at(target.span, format!("Linux {}", target.version))
                    .with_note(format!(
                        "mainline added HAVE_LIVEPATCH for {} in Linux {since}",
                        target.arch
                    ))
                    .with_help("check the architecture and the release"),
                );
            }
        }
        let gate = |this: &mut Self, feature: &str, span: Option<Span>, what: &str| {
            if api.has(feature) {
                return;
            }
            let since = api
                .since(feature)
                .map_or("a later kernel".to_string(), |v| format!("Linux {v}"));
            let mut d = Diagnostic::error(
                Code::FeatureNeedsNewerKernel,
                format!(
                    "{what} need {since}, but the target is Linux {}",
                    target.version
                ),
            )
            .with_help(format!("target {since} or later, or remove the {what}"));
            if let Some(span) = span {
                d = d.at(span, format!("needs {since}"));
            }
            this.error(d);
        };
        if !states.is_empty() {
            let span = root.states().next().map(|s| s.name.span);
            gate(self, "states", span, "states");
        }
        if patch.cumulative {
            let span = items(root).find_map(|i| match i {
                Item::Patch(p) => p.entries.iter().find_map(|e| {
                    if let PatchEntry::Cumulative(s) = e {
                        Some(*s)
                    } else {
                        None
                    }
                }),
                _ => None,
            });
            gate(self, "replace", span, "cumulative patches");
        }
    }

    fn object(&mut self, block: &ObjectBlock, seen: &mut HashMap<String, Span>) -> Option<Object> {
        let name = kernel_module_name(&block.name.text);
        if let Some(first) = seen.get(&name) {
            let first = *first;
            self.duplicate(
                format!("object `{name}` is defined twice"),
                block.name.span,
                first,
                "merge the two blocks; module names with `-` and `_` are the same module",
            );
            return None;
        }
        seen.insert(name.clone(), block.name.span);
        let module = (name != "vmlinux").then(|| name.clone());
        if name.len() > MODULE_NAME_MAX {
            self.error(
                Diagnostic::error(
                    Code::NameTooLong,
                    format!("module name `{name}` is longer than {MODULE_NAME_MAX} characters"),
                )
                .at(block.name.span, "no module can have this name"),
            );
        }
        self.claim(&format!("{name}_funcs"), block.name.span);
        let mut object = Object {
            module,
            span: block.name.span,
            ident: name.clone(),
            funcs: Vec::new(),
            callbacks: Vec::new(),
            externs: Vec::new(),
        };
        // A function named by several replacements (from different files, or at
        // different positions) gets C names that say which one each is.
        let mut replaced: HashMap<&str, usize> = HashMap::new();
        for entry in &block.entries {
            if let ObjectEntry::Replace(r) = entry {
                *replaced.entry(r.head.name().text.as_str()).or_default() += 1;
            }
        }
        let mut funcs: HashMap<(String, u64, Option<String>), Span> = HashMap::new();
        let mut callbacks: HashMap<CallbackKind, Span> = HashMap::new();
        let mut externs: HashMap<String, Span> = HashMap::new();
        for entry in &block.entries {
            match entry {
                ObjectEntry::Replace(r) => {
                    let old = r.head.name();
                    let sympos = r.sympos.as_ref().and_then(|n| n.value).unwrap_or(0);
                    let file = r.in_file.as_ref().map(|f| f.value.clone());
                    let key = (old.text.clone(), sympos, file);
                    if let Some(first) = funcs.get(&key) {
                        let first = *first;
                        self.duplicate(
                            format!(
                                "`{}` of {} is replaced twice",
                                old.text,
                                object.display_name()
                            ),
                            old.span,
                            first, "keep one replacement; if the object has two functions of this name, give each its `in \"FILE\"` or `sympos`");
                        continue;
                    }
                    funcs.insert(key, old.span);
                    let shared = replaced.get(old.text.as_str()).is_some_and(|n| *n > 1);
                    if let Some(f) = self.replacement(r, &object, sympos, shared) {
                        object.funcs.push(f);
                    }
                }
                ObjectEntry::Callback(c) => {
                    if let Some(first) = callbacks.get(&c.kind) {
                        let first = *first;
                        let message = format!(
                            "the `{}` callback of {} is defined twice",
                            c.kind.keyword(),
                            object.display_name()
                        );
                        self.duplicate(
                            message,
                            c.keyword,
                            first,
                            "merge the two bodies into one callback",
                        );
                        continue;
                    }
                    callbacks.insert(c.kind, c.keyword);
                    self.claim(&format!("{}_{}", object.ident, c.kind.keyword()), c.keyword);
                    let body = self.fragment(&c.body);
                    object.callbacks.push(CallbackCode {
                        kind: c.kind.into(),
                        body,
                    });
                }
                ObjectEntry::Extern(e) => {
                    let name = e.name();
                    if !self.identifier(name, "a symbol name") {
                        continue;
                    }
                    if let Some(first) = externs.get(&name.text) {
                        let first = *first;
                        self.duplicate(
                            format!("`{}` is declared twice", name.text),
                            name.span,
                            first,
                            "keep one declaration",
                        );
                        continue;
                    }
                    externs.insert(name.text.clone(), name.span);
                    let mut declaration = join_words(&e.words);
                    if let Some(suffix) = &e.suffix {
                        declaration.push_str(&suffix.text);
                    }
                    let origin = self.fragment_at(e.span, &declaration);
                    object.externs.push(Extern {
                        name: name.text.clone(),
                        span: name.span,
                        sympos_span: e.sympos.as_ref().map(|n| n.span),
                        declaration,
                        sympos: e.sympos.as_ref().and_then(|n| n.value).unwrap_or(0),
                        origin,
                    });
                }
                ObjectEntry::Bad(_) => {}
            }
        }
        object.callbacks.sort_by_key(|c| c.kind);
        Some(object)
    }

    fn replacement(
        &mut self,
        r: &Replacement,
        object: &Object,
        sympos: u64,
        shared: bool,
    ) -> Option<model::Replacement> {
        let old = r.head.name();
        if !self.identifier(old, "a function name") {
            return None;
        }
        // The new function is `livepatch_<name>`, followed by its file or position
        // when the object replaces several functions of that name, with the
        // object's name added when another object already replaces one.
        let mut c_name = format!("livepatch_{}", old.text);
        if shared {
            if let Some(file) = &r.in_file {
                c_name = format!("{c_name}_{}", file_ident(&file.value));
            } else if sympos > 0 {
                c_name = format!("{c_name}_sympos_{sympos}");
            }
        }
        let generated = ["livepatch_init", "livepatch_exit", "livepatch_post_unpatch"];
        if self.names.contains_key(&c_name) || generated.contains(&c_name.as_str()) {
            c_name = c_name.replacen("livepatch_", &format!("livepatch_{}_", object.ident), 1);
        }
        let prototype = match &r.head {
            ReplaceHead::Prototype(p) => Some(p),
            ReplaceHead::Name(_) if self.prototypes_from_kernel => None,
            ReplaceHead::Name(w) => {
                self.error(
                    Diagnostic::error(Code::MissingPrototype, format!("the replacement of `{}` has no prototype", w.text))
                        .at(w.span, "give the function's C prototype here")
                        .with_note("without the target's debug vmlinux, kgpc cannot read the signature from the kernel")
                        .with_help(format!(
                            "write the prototype as in the kernel source: `replace RETURN-TYPE {}(PARAMETERS) {{`",
                            w.text
                        )),
                );
                return None;
            }
        };
        self.claim(&c_name, old.span);
        let body = match &r.body {
            Body::Inline(code) => self.fragment(code),
            Body::File(path) => self.body_file(path)?,
        };
        let origin = match prototype {
            Some(p) => self.fragment_at(p.span, &prototype_text(p)),
            None => self.fragment_at(old.span, &old.text),
        };
        Some(model::Replacement {
            old_name: old.text.clone(),
            span: old.span,
            sympos,
            sympos_span: r.sympos.as_ref().map(|n| n.span),
            allow_inlined: r.allow_inlined.iter().map(|s| s.value.clone()).collect(),
            prototype_given: prototype.is_some(),
            source_file: r.in_file.as_ref().map(|s| s.value.clone()),
            file_span: r.in_file.as_ref().map(|s| s.span),
            position_checked: false,
            function: Function {
                c_name,
                return_type: prototype
                    .map(|p| return_type(p.return_words()))
                    .unwrap_or_default(),
                params: prototype.map(|p| p.params.text.clone()).unwrap_or_default(),
                origin,
                body,
            },
        })
    }

    fn body_file(&mut self, path: &Str) -> Option<Fragment> {
        let base = self
            .sources
            .base_dir(path.span.file)
            .map(std::path::Path::to_path_buf);
        let shown = base.as_ref().map_or_else(
            || std::path::PathBuf::from(&path.value),
            |b| b.join(&path.value),
        );
        let unreadable = |message: String| {
            Diagnostic::error(
                Code::UnreadableFile,
                format!("cannot read body file `{}`: {message}", shown.display()),
            )
            .at(path.span, "named here")
        };
        let resolved = match self.scope.resolve(base.as_deref(), &path.value) {
            Ok(resolved) => resolved,
            Err(refusal) => {
                let shown_text = shown.display().to_string();
                let d = match (
                    &refusal,
                    outside_scope(
                        &refusal,
                        self.scope,
                        "read body file",
                        &shown_text,
                        path.span,
                    ),
                ) {
                    (_, Some(d)) => d,
                    (scope::Refusal::Io(e), None) => unreadable(crate::read::describe_io(e))
                        .with_help("body files are resolved against the directory of the spec"),
                    _ => unreadable("it has no directory to be resolved against".into()).with_help(
                        "body files need a spec read from a file, not from standard input",
                    ),
                };
                self.error(d);
                return None;
            }
        };
        match read_text(&resolved.real) {
            Ok(text) => {
                let name = resolved.shown.display().to_string();
                let len = text.len();
                let file =
                    self.sources
                        .add(name.clone(), text.clone(), Origin::Disk(resolved.shown));
                self.check_braces(&text, Span::new(file, 0, len));
                Some(Fragment {
                    text,
                    file: name,
                    line: 1,
                    span: Span::new(file, 0, len),
                })
            }
            Err(error) => {
                let mut d = unreadable(error.to_string())
                    .with_help("a body file is C source: UTF-8 text of at most 4 MiB");
                d.code = refusal_or(&error, Code::UnreadableFile);
                self.error(d);
                None
            }
        }
    }

    fn helper(&mut self, h: &Helper) -> Option<Function> {
        let name = h.prototype.name();
        if !self.identifier(name, "a function name") {
            return None;
        }
        self.claim(&name.text, name.span);
        let origin = self.fragment_at(h.prototype.span, &prototype_text(&h.prototype));
        Some(Function {
            c_name: name.text.clone(),
            return_type: return_type(h.prototype.return_words()),
            params: h.prototype.params.text.clone(),
            origin,
            body: self.fragment(&h.body),
        })
    }

    fn shadow(
        &mut self,
        s: &ShadowBlock,
        templates: &HashMap<String, &TemplateBlock>,
        ids: &mut HashMap<u64, (Span, String)>,
    ) -> Option<Shadow> {
        if !self.identifier(&s.name, "a shadow variable name") {
            return None;
        }
        for suffix in [
            "_get",
            "_alloc",
            "_get_or_alloc",
            "_free",
            "_free_all",
            "_ctor",
            "_dtor",
            "_shadow",
        ] {
            self.claim(&format!("{}{suffix}", s.name.text), s.name.span);
        }
        self.claim(
            &format!("{}_SHADOW_ID", s.name.text.to_uppercase()),
            s.name.span,
        );
        let mut entries: Vec<&ShadowEntry> = Vec::new();
        let mut template_name = None;
        if let Some(like) = &s.like {
            match templates.get(&like.text) {
                Some(t) => {
                    entries.extend(t.entries.iter());
                    template_name = Some(like.text.clone());
                }
                None => {
                    let names: Vec<&str> = templates.keys().map(String::as_str).collect();
                    let mut d = Diagnostic::error(
                        Code::UnknownTemplate,
                        format!("no template named `{}`", like.text),
                    )
                    .at(like.span, "unknown template");
                    // A template of the standard library that is not imported yet.
                    let in_std = crate::std_specs::MODULES
                        .iter()
                        .find(|(_, text)| {
                            text.lines()
                                .any(|l| l.trim() == format!("template {} {{", like.text))
                        })
                        .map(|(module, _)| *module);
                    if let Some(module) = in_std {
                        d = d.with_help(format!(
                            "`{}` is in `{module}`: add `import {module}`",
                            like.text
                        ));
                    } else if let Some(best) = did_you_mean(&like.text, &names) {
                        d = d.with_help(format!("did you mean `{best}`?"));
                    } else {
                        d = d.with_help("templates come from `template` items, for example `import std/shadow_lock` brings `lock`");
                    }
                    self.error(d);
                }
            }
        }
        // Entries of the shadow itself come after the template's and override them.
        let own_start = entries.len();
        entries.extend(s.entries.iter());
        let mut id: Option<&Number> = None;
        let mut gfp = None;
        let mut payload = None;
        let mut ctor = None;
        let mut dtor = None;
        let mut keep = false;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let own = i >= own_start;
            let (key, span) = match entry {
                ShadowEntry::Id(n) => ("id", n.span),
                ShadowEntry::Gfp(w) => ("gfp", w.span),
                ShadowEntry::Payload(c) => ("payload", c.span),
                ShadowEntry::Ctor(c) => ("ctor", c.span),
                ShadowEntry::Dtor(c) => ("dtor", c.span),
                ShadowEntry::Keep(span) => ("keep", *span),
                ShadowEntry::Bad(_) => continue,
            };
            if own {
                if let Some(first) = seen.get(key) {
                    self.duplicate_property(key, span, *first);
                    continue;
                }
                seen.insert(key, span);
            }
            match entry {
                ShadowEntry::Id(n) => id = Some(n),
                ShadowEntry::Gfp(w) => gfp = Some(w.text.clone()),
                ShadowEntry::Payload(c) => payload = Some(c),
                ShadowEntry::Ctor(c) => ctor = Some(c),
                ShadowEntry::Dtor(c) => dtor = Some(c),
                ShadowEntry::Keep(_) => keep = true,
                ShadowEntry::Bad(_) => {}
            }
        }
        let Some(id) = id else {
            self.missing(s.name.span, s.span, "shadow", "id", "id 1");
            return None;
        };
        let Some(payload) = payload else {
            self.missing(
                s.name.span,
                s.span,
                "shadow",
                "payload",
                "payload { spinlock_t lock; }",
            );
            return None;
        };
        // Any id is valid, 0 too: klp_shadow_* only compare ids, and
        // kpatch's shadow-newpid uses 0. (States may not; see below.)
        let id_value = id.value?;
        if let Some((first, other)) = ids.get(&id_value) {
            self.error(
                Diagnostic::error(Code::DuplicateShadowId, format!("shadow variables `{}` and `{other}` share id {id_value}", s.name.text))
                    .at(id.span, format!("id of `{}`", s.name.text))
                    .also(*first, format!("id of `{other}`"))
                    .with_note("klp_shadow_get() finds a variable by object and id, so the two would read each other's data")
                    .with_help("give each shadow variable its own id"),
            );
        } else {
            ids.insert(id_value, (id.span, s.name.text.clone()));
        }
        Some(Shadow {
            name: s.name.text.clone(),
            id: id_value,
            owner: s
                .owner
                .text
                .replace(" *", "*")
                .replace('*', " *")
                .trim()
                .to_string(),
            gfp: gfp.unwrap_or_else(|| "GFP_KERNEL".to_string()),
            payload: self.fragment(payload),
            ctor: ctor.map(|c| self.fragment(c)),
            dtor: dtor.map(|c| self.fragment(c)),
            free_on_unpatch: !keep,
            template: template_name,
        })
    }

    fn state(&mut self, s: &StateBlock, ids: &mut HashMap<u64, (Span, String)>) -> Option<State> {
        if !self.identifier(&s.name, "a state name") {
            return None;
        }
        self.claim(
            &format!("{}_STATE_ID", s.name.text.to_uppercase()),
            s.name.span,
        );
        let mut id: Option<&Number> = None;
        let mut version: Option<&Number> = None;
        for entry in &s.entries {
            match entry {
                StateEntry::Id(n) => match id {
                    Some(first) => self.duplicate_property("id", n.span, first.span),
                    None => id = Some(n),
                },
                StateEntry::Version(n) => match version {
                    Some(first) => self.duplicate_property("version", n.span, first.span),
                    None => version = Some(n),
                },
                StateEntry::Bad(_) => {}
            }
        }
        let Some(id) = id else {
            self.missing(s.name.span, s.span, "state", "id", "id 1");
            return None;
        };
        let Some(version) = version else {
            self.missing(s.name.span, s.span, "state", "version", "version 1");
            return None;
        };
        let (id_value, version_value) = (id.value?, version.value?);
        if id_value == 0 {
            self.error(
                Diagnostic::error(
                    Code::InvalidNumber,
                    "state id 0 ends the kernel's state array",
                )
                .at(id.span, "use an id of 1 or more")
                .with_note("kernel/livepatch/state.c walks klp_patch.states until an entry whose id is 0; shadow variables may use id 0"),
            );
        }
        if version_value > u64::from(u32::MAX) {
            self.error(
                Diagnostic::error(Code::InvalidNumber, "a state version must fit in 32 bits")
                    .at(version.span, "klp_state.version is an unsigned int"),
            );
        }
        if let Some((first, other)) = ids.get(&id_value) {
            self.error(
                Diagnostic::error(
                    Code::DuplicateStateId,
                    format!("states `{}` and `{other}` share id {id_value}", s.name.text),
                )
                .at(id.span, format!("id of `{}`", s.name.text))
                .also(*first, format!("id of `{other}`"))
                .with_help("give each state its own id"),
            );
        } else {
            ids.insert(id_value, (id.span, s.name.text.clone()));
        }
        Some(State {
            name: s.name.text.clone(),
            span: s.name.span,
            id: id_value,
            version: version_value,
        })
    }

    fn test(&mut self, block: &TestBlock) -> TestPlan {
        let base_dir = self
            .sources
            .base_dir(block.span.file)
            .map(std::path::Path::to_path_buf);
        let mut plan = TestPlan {
            span: block.keyword,
            loads: Vec::new(),
            patches_first: Vec::new(),
            checks: Vec::new(),
            dmesg: Vec::new(),
            refused: None,
        };
        let nonempty = |this: &mut Self, s: &Str, what: &str| {
            if s.value.trim().is_empty() {
                this.error(
                    Diagnostic::error(Code::MissingProperty, format!("the {what} is empty"))
                        .at(s.span, "nothing to run or look for")
                        .with_help(
                            "an empty text is in every output, so the check could never fail",
                        ),
                );
            }
        };
        for entry in &block.entries {
            match entry {
                TestEntry::Load(s) => {
                    nonempty(self, s, "module to load");
                    plan.loads.push(TestLoad {
                        what: s.value.clone(),
                        base_dir: base_dir.clone(),
                        span: s.span,
                    });
                }
                TestEntry::PatchFirst(s) => {
                    let path = base_dir
                        .as_ref()
                        .map_or_else(|| std::path::PathBuf::from(&s.value), |b| b.join(&s.value));
                    if !path.is_file() {
                        self.error(
                            Diagnostic::error(Code::UnreadableFile, format!("cannot find the spec `{}`", path.display()))
                                .at(s.span, "named here")
                                .with_help("`patch_first` names another spec, relative to this spec's directory"),
                        );
                    }
                    plan.patches_first.push(TestSpecRef { path, span: s.span });
                }
                TestEntry::Check {
                    kind,
                    keyword,
                    command,
                    expect,
                } => {
                    nonempty(self, command, "command");
                    nonempty(self, expect, "text to look for");
                    plan.checks.push(TestCheck {
                        kind: (*kind).into(),
                        command: command.value.clone(),
                        expect: expect.value.clone(),
                        span: Span::new(keyword.file, keyword.start, expect.span.end),
                    });
                }
                TestEntry::Dmesg {
                    phase,
                    keyword,
                    lines,
                } => {
                    for line in lines {
                        nonempty(self, line, "kernel log text");
                    }
                    let end = lines.last().map_or(keyword.end, |l| l.span.end);
                    plan.dmesg.push(DmesgExpectation {
                        phase: (*phase).into(),
                        lines: lines.iter().map(|l| l.value.clone()).collect(),
                        span: Span::new(keyword.file, keyword.start, end),
                    });
                }
                TestEntry::Refused(s) => {
                    nonempty(self, s, "refusal text");
                    match &plan.refused {
                        Some(first) => self.duplicate_property("refused", s.span, first.span),
                        None => {
                            plan.refused = Some(Refusal {
                                text: s.value.clone(),
                                span: s.span,
                            })
                        }
                    }
                }
                TestEntry::Bad(_) => {}
            }
        }
        plan
    }

    fn identifier(&mut self, word: &Word, what: &str) -> bool {
        match c_identifier_problem(&word.text) {
            None => true,
            Some(problem) => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidName,
                        format!("`{}` is not valid as {what}: {problem}", word.text),
                    )
                    .at(word.span, if problem.contains("keyword") { "a C keyword" } else { "not a C identifier" })
                    .with_help("names become C identifiers: letters, digits and `_`, not starting with a digit"),
                );
                false
            }
        }
    }

    /// Records a C name the module defines; a second definition is an error.
    fn claim(&mut self, name: &str, span: Span) {
        const GENERATED: &[&str] = &[
            "patch",
            "objs",
            "states",
            "livepatch_init",
            "livepatch_exit",
            "livepatch_post_unpatch",
        ];
        if GENERATED.contains(&name) {
            self.error(
                Diagnostic::error(
                    Code::ReservedName,
                    format!("`{name}` is a name the generated module uses"),
                )
                .at(span, "collides with generated code")
                .with_help("rename it"),
            );
            return;
        }
        if let Some(first) = self.names.get(name) {
            let first = *first;
            self.error(
                Diagnostic::error(
                    Code::ReservedName,
                    format!("the C name `{name}` would be defined twice"),
                )
                .at(span, "defines it again")
                .also(first, "first defined by this")
                .with_help("rename one of them"),
            );
            return;
        }
        self.names.insert(name.to_string(), span);
    }

    fn duplicate(&mut self, message: String, span: Span, first: Span, help: &str) {
        self.error(
            Diagnostic::error(Code::DuplicateDefinition, message)
                .at(span, "defined again here")
                .also(first, "first defined here")
                .with_help(help),
        );
    }

    fn duplicate_property(&mut self, key: &str, span: Span, first: Span) {
        self.error(
            Diagnostic::error(Code::DuplicateProperty, format!("`{key}` is given twice"))
                .at(span, "given again here")
                .also(first, "first given here")
                .with_help("keep one of them"),
        );
    }

    /// Reports a missing property, unless the block already has an error:
    /// an entry that did not parse is usually the one that seems missing.
    fn missing(&mut self, span: Span, within: Span, block: &str, key: &str, example: &str) {
        let inside = |d: &Diagnostic| {
            d.is_error()
                && d.primary.as_ref().is_some_and(|l| {
                    l.span.file == within.file
                        && l.span.start >= within.start
                        && l.span.end <= within.end
                })
        };
        if self.diagnostics.iter().any(inside) {
            return;
        }
        self.error(
            Diagnostic::error(
                Code::MissingProperty,
                format!("this `{block}` block has no `{key}`"),
            )
            .at(span, format!("`{key}` is required"))
            .with_help(format!("add `{example}`")),
        );
    }

    /// A C block of the spec, refused (KGP0044) if its braces do not balance as C reads them.
    fn fragment(&mut self, code: &CCode) -> Fragment {
        self.check_braces(&code.text, code.span);
        let (line, _) = self.sources.line_col(code.span.file, code.span.start);
        Fragment {
            text: code.text.clone(),
            file: self.sources.name(code.span.file).to_string(),
            line,
            span: code.span,
        }
    }

    /// Reports braces that would let a C block close what it sits in.
    fn check_braces(&mut self, text: &str, span: Span) {
        let Some(problem) = brace_problem(text) else {
            return;
        };
        let (start, end, label, note) = match problem {
            BraceProblem::Closes(s, e) => (
                s,
                e,
                "this closes a brace the block never opened",
                "C would end the function or structure kgpc generates here, and read what follows as code outside it",
            ),
            BraceProblem::Unclosed(s, e) => (
                s,
                e,
                "this brace is never closed in the block",
                "C would read the code kgpc generates after the block as part of it",
            ),
            BraceProblem::InMacro(s, e) => (
                s,
                e,
                "the braces of this preprocessor line do not balance",
                "a macro that stands for a brace lets the block open or close what it sits in wherever the macro is used",
            ),
        };
        self.error(
            Diagnostic::error(
                Code::BodyBracesUnbalanced,
                "the braces of this C block do not balance as C reads them",
            )
            .at(
                Span::new(span.file, span.start + start, span.start + end),
                label,
            )
            .with_note(note)
            .with_note("C reads `<%` and `%>` as braces, and a backslash at the end of a `//` comment carries the next line into the comment")
            .with_help("write braces as `{` and `}`, balance them within the block and within each macro, and put a new function in a `helper`"),
        );
    }

    fn fragment_at(&self, span: Span, text: &str) -> Fragment {
        let (line, _) = self.sources.line_col(span.file, span.start);
        Fragment {
            text: text.to_string(),
            file: self.sources.name(span.file).to_string(),
            line,
            span,
        }
    }

    fn inputs(&self, loaded: &Loaded) -> Vec<InputFile> {
        let mut files: Vec<FileId> = loaded.trees.iter().map(|t| t.file).collect();
        for id in self.sources.ids() {
            if !files.contains(&id) && matches!(self.sources.origin(id), Origin::Disk(_)) {
                files.push(id);
            }
        }
        files
            .into_iter()
            .map(|id| InputFile {
                name: self.sources.name(id).to_string(),
                sha256: sha256_hex(self.sources.text(id).as_bytes()),
                standard: matches!(self.sources.origin(id), Origin::Std(_)),
            })
            .collect()
    }
}

fn items(tree: &Ast) -> impl Iterator<Item = &Item> {
    tree.items.iter()
}

/// The return type of a prototype, without storage-class and inlining words.
fn return_type(words: &[Word]) -> String {
    const DROP: &[&str] = &[
        "static",
        "extern",
        "inline",
        "__always_inline",
        "noinline",
        "__init",
        "__exit",
        "notrace",
        "__cold",
    ];
    let kept: Vec<Word> = words
        .iter()
        .filter(|w| !DROP.contains(&w.text.as_str()))
        .cloned()
        .collect();
    join_words(&kept)
}

fn prototype_text(p: &Prototype) -> String {
    format!("{}{}", join_words(&p.words), p.params.text)
}

/// A source file's path as part of a C name: `kernel/module/procfs.c` gives
/// `kernel_module_procfs`.
fn file_ident(path: &str) -> String {
    let path = path.trim_start_matches("./");
    let stem = path.strip_suffix(".c").unwrap_or(path);
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_become_identifier_parts() {
        assert_eq!(
            super::file_ident("kernel/module/procfs.c"),
            "kernel_module_procfs"
        );
        assert_eq!(super::file_ident("./fs/namespace.c"), "fs_namespace");
        assert_eq!(super::file_ident("a-b.h"), "a_b_h");
    }
}
