//! The patch block: the module's name, description, authors and references,
//! and the check that the patch changes something.

use super::{Lowerer, SpecItems};
use crate::check::model::{PatchInfo, Reference};
use crate::check::names::{MODULE_NAME_MAX, MODULE_PREFIX};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::module_name::kernel_module_name;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast::{PatchBlock, PatchEntry, Str, Word};

const REFERENCE_KINDS: &[&str] = &["cve", "commit", "bug", "url"];

impl Lowerer<'_> {
    /// The patch's name, module name and `.modinfo` text.
    pub(super) fn patch(&mut self, block: &PatchBlock) -> PatchInfo {
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
                    self.keep_first(&mut description, s, "description", |s| s.span);
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
                    self.keep_first(&mut cumulative, *span, "cumulative", |s| *s);
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

    /// Reports a reference of an unknown kind, or one that does not look like its kind.
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

    /// Reports a patch that changes nothing. Only when nothing else is wrong:
    /// after a syntax error an empty patch is usually a consequence, not a cause.
    pub(super) fn report_empty_patch(
        &mut self,
        patch: &PatchInfo,
        patches: &[&PatchBlock],
        own: &SpecItems,
        has_fix: bool,
    ) {
        let changes = has_fix
            || own
                .objects
                .iter()
                .any(|o| !o.funcs.is_empty() || !o.callbacks.is_empty())
            || !own.shadows.is_empty();
        if changes || self.diagnostics.has_errors() {
            return;
        }
        let span = patches.first().map(|p| p.name.span);
        let mut d = Diagnostic::error(
            Code::EmptyPatch,
            format!("patch `{}` changes nothing", patch.name),
        )
        .with_help("add an `object` block with a `replace` or a callback, or the fix as a patch: `fix \"FILE.patch\"`");
        if let Some(span) = span {
            d = d.at(span, "no replacement, callback or shadow variable");
        }
        self.error(d);
    }
}
