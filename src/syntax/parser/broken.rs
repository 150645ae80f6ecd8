//! What did not parse: unknown items and entries, broken ones re-parsed with
//! a strict rule to tell what was expected, and pest's errors as diagnostics.

use super::{Builder, Rule};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast::*;
use crate::syntax::keywords::ITEM_KEYWORDS;
use crate::syntax::nesting;
use pest::iterators::Pair;

impl Builder {
    /// Reports an entry that is not understood in a block.
    pub(super) fn bad_entry(&mut self, pair: &Pair<'_, Rule>, block: &str) -> Bad {
        let span = self.span(pair);
        let text = pair.as_str();
        let first = leading_word(text);
        let known = entry_keywords(block);
        let diagnostic = if let Some(rule) = entry_rule(block, first) {
            self.reparse(rule, text, span.start)
        } else {
            let shown = shown(text, first);
            let mut d = Diagnostic::error(
                Code::UnknownEntry,
                format!(
                    "unknown entry `{shown}` in {} `{block}` block",
                    article(block)
                ),
            )
            .at(
                Span::new(self.file, span.start, span.start + shown.len().max(1)),
                "not understood here",
            )
            .with_note(format!(
                "{} `{block}` block holds: {}",
                capital(article(block)),
                known.join(", ")
            ));
            if let Some(best) = did_you_mean(first, known) {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            d
        };
        self.diagnostics.push(diagnostic);
        Bad {
            text: text.to_string(),
            span,
        }
    }

    /// Reports a top-level item that did not parse.
    pub(super) fn bad_item(&mut self, pair: &Pair<'_, Rule>) {
        let span = self.span(pair);
        let text = pair.as_str();
        let first = leading_word(text);
        let diagnostic = if ITEM_KEYWORDS.contains(&first) {
            self.reparse(Rule::strict_item, text, span.start)
        } else {
            let shown = shown(text, first);
            let mut d = Diagnostic::error(
                Code::UnknownItem,
                format!("expected an item, found `{shown}`"),
            )
            .at(
                Span::new(self.file, span.start, span.start + shown.len().max(1)),
                "not the start of an item",
            )
            .with_note(format!("a spec is made of: {}", ITEM_KEYWORDS.join(", ")));
            if let Some(best) = did_you_mean(first, ITEM_KEYWORDS) {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            d
        };
        self.diagnostics.push(diagnostic);
    }

    /// Parses a broken piece on its own with a strict rule to learn what was expected.
    fn reparse(&mut self, rule: Rule, text: &str, offset: usize) -> Diagnostic {
        match self.run(rule, text) {
            Err(error) => {
                let mut d = self.pest_error(&error, offset);
                let at_end = d
                    .primary
                    .as_ref()
                    .is_some_and(|l| l.span.start >= offset + text.trim_end().len());
                if let Some(open) = unclosed_brace(text).filter(|_| at_end) {
                    d = d.also(
                        Span::new(self.file, offset + open, offset + open + 1),
                        "this `{` is never closed",
                    );
                }
                d
            }
            Ok(pairs) => {
                let parsed = pairs.last().map_or(0, |p| p.as_span().end());
                let rest = text[parsed..].trim_start();
                let start = offset + text.len() - rest.len();
                let shown = rest.lines().next().unwrap_or("").trim_end();
                Diagnostic::error(Code::SyntaxError, format!("unexpected `{shown}`")).at(
                    Span::new(self.file, start, start + shown.len().max(1)),
                    "nothing may follow here",
                )
            }
        }
    }

    pub(super) fn pest_error(&self, error: &pest::error::Error<Rule>, offset: usize) -> Diagnostic {
        let (start, end) = match error.location {
            pest::error::InputLocation::Pos(p) => (p, p),
            pest::error::InputLocation::Span((s, e)) => (s, e),
        };
        let (code, message, label) = match &error.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                let mut names: Vec<&str> = positives.iter().filter_map(|r| rule_name(*r)).collect();
                names.sort_unstable();
                names.dedup();
                let expected = match names.as_slice() {
                    [] => "something else".to_string(),
                    [one] => (*one).to_string(),
                    [init @ .., last] => format!("{} or {}", init.join(", "), last),
                };
                (
                    Code::SyntaxError,
                    format!("expected {expected}"),
                    format!("expected {expected} here"),
                )
            }
            // pest's only own errors are its limits: the stack ran out in a deep nesting.
            pest::error::ErrorVariant::CustomError { message } => (
                Code::NestingTooDeep,
                format!("the spec nests too deeply to parse ({message})"),
                "the parser stopped here".to_string(),
            ),
        };
        let start = offset + start;
        let end = (offset + end).max(start);
        Diagnostic::error(code, message).at(Span::new(self.file, start, end), label)
    }
}

/// The entries a block may hold, for "unknown entry" messages.
fn entry_keywords(block: &str) -> &'static [&'static str] {
    match block {
        "patch" => &["description", "reference", "author", "cumulative"],
        "target" => &["release", "arch", "version", "build_id"],
        "object" => &[
            "replace",
            "extern",
            "requires",
            "pre_patch",
            "post_patch",
            "pre_unpatch",
            "post_unpatch",
        ],
        "state" => &["id", "version"],
        "test" => &[
            "load",
            "patch_first",
            "file",
            "program",
            "setup",
            "reload",
            "fixed",
            "always",
            "dmesg",
            "refused",
            "workload",
        ],
        _ => &["id", "gfp", "payload", "ctor", "dtor", "keep"],
    }
}

/// The rule of an entry keyword of a block, to re-parse a broken entry with.
fn entry_rule(block: &str, keyword: &str) -> Option<Rule> {
    Some(match (block, keyword) {
        ("patch", "description") => Rule::description,
        ("patch", "reference") => Rule::reference,
        ("patch", "author") => Rule::author,
        ("patch", "cumulative") => Rule::cumulative,
        ("target", "release") => Rule::release,
        ("target", "arch") => Rule::arch,
        ("target", "version") => Rule::version,
        ("target", "build_id") => Rule::build_id,
        ("object", "replace") => Rule::replacement,
        ("object", "extern") => Rule::extern_decl,
        ("object", "requires") => Rule::requires_item,
        ("object", "pre_patch" | "post_patch" | "pre_unpatch" | "post_unpatch") => Rule::callback,
        ("test", "load") => Rule::test_load,
        ("test", "patch_first") => Rule::test_patch_first,
        ("test", "file") => Rule::test_file,
        ("test", "program") => Rule::test_program,
        ("test", "setup") => Rule::test_setup,
        ("test", "reload") => Rule::test_reload,
        ("test", "fixed" | "always") => Rule::test_check,
        ("test", "dmesg") => Rule::test_dmesg,
        ("test", "refused") => Rule::test_refused,
        ("test", "workload") => Rule::test_workload,
        ("state", "id") => Rule::shadow_id,
        ("state", "version") => Rule::state_version,
        ("shadow" | "template", "id") => Rule::shadow_id,
        ("shadow" | "template", "gfp") => Rule::gfp,
        ("shadow" | "template", "payload") => Rule::payload,
        ("shadow" | "template", "ctor") => Rule::ctor,
        ("shadow" | "template", "dtor") => Rule::dtor,
        ("shadow" | "template", "keep") => Rule::keep,
        _ => return None,
    })
}

/// How a rule is called in messages; `None` hides it.
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::string | Rule::string_inner => "a string",
        Rule::ident => "a name",
        Rule::patch_name | Rule::object_name => "a name",
        Rule::number => "a number",
        Rule::version_number => "a version such as `6.1`",
        Rule::c_block => "`{`",
        Rule::c_parens => "a parameter list",
        Rule::header => "a header such as `<linux/slab.h>`",
        Rule::std_path => "a standard module such as `std/shadow_lock`",
        Rule::prototype => "a C prototype",
        Rule::gfp_expr => "GFP flags",
        Rule::star => "`*`",
        Rule::body_file => "`body`",
        Rule::in_file => "`in`",
        Rule::allow_inlined => "`allow_inlined`",
        Rule::sympos => "`sympos`",
        Rule::like => "`like`",
        Rule::c_type => "a C type",
        Rule::semicolon => "`;`",
        Rule::config_option => "a config option such as `CONFIG_BT`",
        Rule::config_word => "a value such as `y`, `m`, `n` or `8192`",
        Rule::requires_else => "`else`",
        Rule::EOI => "end of input",
        Rule::description
        | Rule::reference
        | Rule::author
        | Rule::cumulative
        | Rule::release
        | Rule::arch
        | Rule::version
        | Rule::build_id
        | Rule::replacement
        | Rule::callback
        | Rule::extern_decl
        | Rule::requires_item
        | Rule::shadow_id
        | Rule::gfp
        | Rule::payload
        | Rule::ctor
        | Rule::dtor
        | Rule::keep
        | Rule::state_version
        | Rule::test_load
        | Rule::test_patch_first
        | Rule::test_file
        | Rule::test_program
        | Rule::test_setup
        | Rule::test_reload
        | Rule::test_check
        | Rule::test_dmesg
        | Rule::test_refused
        | Rule::test_workload
        | Rule::bad_entry => "an entry or `}`",
        Rule::check_kind => "`fixed` or `always`",
        Rule::expect_contains | Rule::expect_lacks | Rule::expect_exits => {
            "`contains`, `lacks` or `exits`"
        }
        Rule::dmesg_phase => "`loaded` or `unloaded`",
        _ => return None,
    })
}

/// "a" or "an" before a keyword.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn capital(article: &str) -> &'static str {
    if article == "an" {
        "An"
    } else {
        "A"
    }
}

/// The offset of the outermost `{` of `text` that has no matching `}`,
/// skipping braces in strings, character constants and comments.
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut open: Vec<usize> = Vec::new();
    for (at, bracket) in nesting::brackets(text) {
        match bracket {
            b'{' => open.push(at),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.first().copied()
}

/// The word a broken piece starts with, empty when it starts with punctuation.
fn leading_word(text: &str) -> &str {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("")
}

/// How a broken piece is named in a message: its first word, else its first character.
fn shown(text: &str, first: &str) -> String {
    if first.is_empty() {
        text.chars().next().map(String::from).unwrap_or_default()
    } else {
        first.to_string()
    }
}
