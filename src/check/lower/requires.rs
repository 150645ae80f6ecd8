//! `requires CONFIG_NAME[=VALUE] [else ACTION]`: kernel config requirements,
//! of the whole build at the top level and of one object inside its block.

use super::Lowerer;
use crate::check::requirement::{number, Requirement, Unmet, Wanted};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::config::is_option_name;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast::{self, Ast, ConfigValue, Item};
use std::collections::HashMap;

/// The actions an `else` may name.
const ACTIONS: &[&str] = &["skip", "error"];

impl Lowerer<'_> {
    /// The spec's top-level requirements, in order.
    pub(super) fn spec_requirements(&mut self, root: &Ast) -> Vec<Requirement> {
        let written: Vec<&ast::Requirement> = root
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Requires(r) => Some(r),
                _ => None,
            })
            .collect();
        self.requirements(&written, Unmet::Error)
    }

    /// Lowers requirements written in one place, whose unmet default is
    /// `default`, reporting malformed ones and options required twice.
    pub(super) fn requirements(
        &mut self,
        written: &[&ast::Requirement],
        default: Unmet,
    ) -> Vec<Requirement> {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut lowered = Vec::new();
        for r in written {
            if let Some(first) = seen.get(r.option.text.as_str()) {
                let first = *first;
                self.duplicate(
                    format!("`{}` is required twice", r.option.text),
                    r.option.span,
                    first,
                    "keep one requirement of each option; a build has one value of it",
                );
                continue;
            }
            seen.insert(&r.option.text, r.option.span);
            if let Some(requirement) = self.requirement(r, default) {
                lowered.push(requirement);
            }
        }
        lowered
    }

    /// One requirement, or `None` when it is malformed (reported).
    fn requirement(&mut self, r: &ast::Requirement, default: Unmet) -> Option<Requirement> {
        let option = self.config_option(&r.option);
        let wanted = match &r.value {
            None => Some(Wanted::Enabled),
            Some(ConfigValue::Text(s)) => Some(Wanted::Value(kconfig_string(&s.value))),
            Some(ConfigValue::Word(w)) => self.config_word(&r.option.text, w),
        };
        let unmet = match &r.otherwise {
            None => Some(default),
            Some(w) if w.text == "skip" => Some(Unmet::Skip),
            Some(w) if w.text == "error" => Some(Unmet::Error),
            Some(w) => {
                let mut d = Diagnostic::error(
                    Code::MalformedRequirement,
                    format!("`else {}` is not something a build can do", w.text),
                )
                .at(w.span, "expected `skip` or `error`")
                .with_note("`else skip` skips a build whose config does not meet the requirement; `else error` fails it");
                if let Some(best) = did_you_mean(&w.text, ACTIONS) {
                    d = d.with_help(format!("did you mean `{best}`?"));
                }
                self.error(d);
                None
            }
        };
        Some(Requirement {
            option: option?,
            wanted: wanted?,
            unmet: unmet?,
            span: r.span,
        })
    }

    /// The option's name, if it is one a `.config` can hold.
    fn config_option(&mut self, option: &ast::Word) -> Option<String> {
        if is_option_name(&option.text) {
            return Some(option.text.clone());
        }
        let mut d = Diagnostic::error(
            Code::MalformedRequirement,
            format!("`{}` is not a kernel config option", option.text),
        )
        .at(option.span, "expected `CONFIG_` and the option's name")
        .with_note(
            "a requirement names an option as the kernel's `.config` does, such as `CONFIG_BT`",
        );
        let bare = option.text.trim_start_matches("CONFIG_");
        if !bare.is_empty() && is_option_name(&format!("CONFIG_{bare}")) {
            d = d.with_help(format!("write `CONFIG_{}`", bare.to_ascii_uppercase()));
        }
        self.error(d);
        None
    }

    /// The value a word after `=` asks for: `y`, `m`, `n` or a number.
    fn config_word(&mut self, option: &str, w: &ast::Word) -> Option<Wanted> {
        if matches!(w.text.as_str(), "y" | "m" | "n") || number(&w.text).is_some() {
            return Some(Wanted::Value(w.text.clone()));
        }
        let help = match w.text.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => format!("write `{option}=y`"),
            "no" | "false" | "off" => format!("write `{option}=n`"),
            _ => format!(
                "a word that is no tristate or number is a string: write `{option}={}`",
                kconfig_string(&w.text)
            ),
        };
        self.error(
            Diagnostic::error(
                Code::MalformedRequirement,
                format!("`{}` is not a value of a kernel config option", w.text),
            )
            .at(w.span, "expected y, m, n, a number or a string")
            .with_help(help),
        );
        None
    }
}

/// A string as `.config` writes it: in quotes, with `"` and `\` escaped.
fn kconfig_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
