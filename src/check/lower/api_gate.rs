//! The API table of `std/api`, the target's API level, and the features a
//! target kernel is too old for.

use super::target::ARCHES;
use super::Lowerer;
use crate::check::api::{ApiLevel, FEATURES, REQUIRED};
use crate::check::model::{PatchInfo, State, Target};
use crate::check::version::KernelVersion;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{Ast, Item, PatchEntry};

impl Lowerer<'_> {
    /// Reads the API table of `std/api`.
    pub(super) fn api_table(&mut self, tree: &Ast) -> Vec<(String, KernelVersion)> {
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

    /// The target's API level, or `None` (reported) for a kernel older than kgpc supports.
    pub(super) fn api_level(
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
    pub(super) fn gate_features(
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
            let span = root.items.iter().find_map(|i| match i {
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
}
