//! The one entry point to the grammar: [`parse`] turns source text into an
//! [`Ast`] and diagnostics.
//!
//! pest has no error recovery, so the grammar recovers by itself: text that
//! is not a known item or entry parses as `bad_item` or `bad_entry`. This
//! module runs pest item after item on a stack of its own; `items.rs` and
//! `blocks.rs` build the tree from what pest returns, `values.rs` its strings,
//! numbers and C text, and `broken.rs` reports what did not parse, re-parsing
//! a broken item on its own to tell what pest expected there. Nothing outside
//! this folder sees a pest type.

mod blocks;
mod broken;
mod items;
#[cfg(test)]
mod tests;
mod values;

use super::ast::*;
use super::nesting;
use super::recovery;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kgp.pest"]
struct KgpParser;

/// The stack the parser runs on. pest descends once per nested `{` or `(`,
/// and stops with "stack limit reached" when the stack runs low; a stack of
/// its own makes that depth the same on every thread kgpc parses on.
const PARSER_STACK: usize = 256 << 20;

/// What a parse cost, for the tests that keep it linear in the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// How many times pest ran, the re-parses of broken pieces included.
    pub runs: usize,
    /// The bytes pest read over all runs, up to the furthest place each one reached.
    pub bytes: usize,
}

/// Parses one file. Always returns a tree; what could not be parsed is in the diagnostics.
pub fn parse(file: FileId, text: &str) -> (Ast, Vec<Diagnostic>) {
    let (ast, diagnostics, _) = parse_on_own_stack(file, text, false);
    (ast, diagnostics)
}

/// [`parse`], also telling how much work it took. Measuring costs a run of
/// pest more for each item that does not parse, to learn how far it was read.
pub fn parse_measured(file: FileId, text: &str) -> (Ast, Vec<Diagnostic>, Work) {
    parse_on_own_stack(file, text, true)
}

fn parse_on_own_stack(file: FileId, text: &str, measure: bool) -> (Ast, Vec<Diagnostic>, Work) {
    let spawned = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("kgpc-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(file, text, measure))
            .map(|handle| handle.join())
    });
    match spawned {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // No thread could be made: parse on this one, whose stack may be smaller.
        Err(_) => parse_here(file, text, measure),
    }
}

/// Parses the file up to the group that nests too deeply, if there is one:
/// the item holding it and everything after is left unread and reported once.
fn parse_here(file: FileId, text: &str, measure: bool) -> (Ast, Vec<Diagnostic>, Work) {
    let Some(deep) = nesting::too_deep(text) else {
        return parse_items(file, text, measure);
    };
    let (mut ast, mut diagnostics, work) = parse_items(file, &text[..deep], measure);
    let start = ast.items.pop().map_or(0, |item| item.span().start);
    diagnostics.retain(|d| d.primary.as_ref().is_some_and(|l| l.span.start < start));
    ast.comments.retain(|c| c.span.start < start);
    let unread = Span::new(file, start, text.len());
    ast.items.push(Item::Bad(Bad {
        text: text[start..].to_string(),
        span: unread,
    }));
    ast.unread = Some(unread);
    diagnostics.push(
        Diagnostic::error(
            Code::NestingTooDeep,
            format!(
                "the spec nests deeper than {} levels",
                nesting::MAX_NESTING
            ),
        )
        .at(
            Span::new(file, deep, deep + 1),
            "this opens one level too many",
        )
        .with_help("close the blocks and parentheses that are left open; kgpc does not read the rest of the file"),
    );
    (ast, diagnostics, work)
}

/// Parses item after item, each from where the last one ended.
fn parse_items(file: FileId, text: &str, measure: bool) -> (Ast, Vec<Diagnostic>, Work) {
    let mut builder = Builder {
        file,
        base: 0,
        diagnostics: Vec::new(),
        work: Work::default(),
    };
    let mut ast = Ast {
        file,
        items: Vec::new(),
        comments: Vec::new(),
        unread: None,
    };
    let mut pos = 0;
    let mut recovering = false;
    while pos <= text.len() {
        let rest = &text[pos..];
        let piece = if recovering {
            &rest[..recovery::piece_len(rest)]
        } else {
            rest
        };
        builder.base = pos;
        let run = builder.run(Rule::one_item, piece);
        let pair = match run {
            Ok(mut pairs) => match pairs.next() {
                Some(pair) => pair,
                None => break,
            },
            Err(error) => {
                let diagnostic = builder.pest_error(&error, pos);
                builder.diagnostics.push(diagnostic);
                if !rest.trim().is_empty() {
                    ast.items.push(Item::Bad(Bad {
                        text: rest.to_string(),
                        span: Span::new(file, pos, text.len()),
                    }));
                }
                break;
            }
        };
        let end = pair.as_span().end();
        for inner in pair.clone().into_inner().flatten() {
            if inner.as_rule() == Rule::COMMENT {
                ast.comments.push(Comment {
                    text: inner.as_str().to_string(),
                    span: builder.span(&inner),
                });
            }
        }
        let mut done = true;
        for child in children(pair) {
            if child.as_rule() == Rule::EOI {
                continue;
            }
            done = false;
            if child.as_rule() == Rule::bad_item {
                if measure {
                    // The run above read this far too, trying the item before giving up on it.
                    let _ = builder.run(Rule::item_attempt, piece);
                }
                recovering = true;
            }
            if let Some(item) = builder.item(child) {
                ast.items.push(item);
            }
        }
        if done || end == 0 {
            break;
        }
        pos += end;
    }
    (ast, builder.diagnostics, builder.work)
}

/// The children of a pair without the comments, which `parse` collects separately.
fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| p.as_rule() != Rule::COMMENT)
}

/// Builds the tree from pest's pairs and collects the diagnostics.
struct Builder {
    file: FileId,
    /// Added to pest's offsets when a slice of the file is re-parsed.
    base: usize,
    diagnostics: Vec<Diagnostic>,
    work: Work,
}

impl Builder {
    /// Runs pest once on `text` and counts what that read.
    pub(super) fn run<'i>(
        &mut self,
        rule: Rule,
        text: &'i str,
    ) -> Result<pest::iterators::Pairs<'i, Rule>, pest::error::Error<Rule>> {
        let result = KgpParser::parse(rule, text);
        let reached = match &result {
            Ok(pairs) => pairs.clone().last().map_or(0, |p| p.as_span().end()),
            Err(error) => match error.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((_, e)) => e,
            },
        };
        self.work.runs += 1;
        self.work.bytes += reached;
        result
    }

    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    pub(super) fn word(&self, pair: &Pair<'_, Rule>) -> Word {
        Word {
            text: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }
}
