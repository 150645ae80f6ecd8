//! The one entry point to the grammar: [`parse`] turns source text into an
//! [`Ast`] and diagnostics.
//!
//! pest has no error recovery, so the grammar recovers by itself: text that
//! is not a known item or entry parses as `bad_item` or `bad_entry`. This file
//! reports those, re-parsing the broken item on its own to tell what pest
//! expected there. Nothing outside this file sees a pest type.

use super::ast::*;
use super::nesting;
use super::recovery;
use super::suggest::did_you_mean;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kgp.pest"]
struct KgpParser;

/// The keywords that start a top-level item, in the order the reference lists them.
pub const ITEM_KEYWORDS: &[&str] = &[
    "patch", "target", "import", "include", "object", "shadow", "template", "state", "helper",
    "data", "api", "test",
];

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
            if let Some(item) = builder.item(child, text) {
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

struct Builder {
    file: FileId,
    /// Added to pest's offsets when a slice of the file is re-parsed.
    base: usize,
    diagnostics: Vec<Diagnostic>,
    work: Work,
}

impl Builder {
    /// Runs pest once on `text` and counts what that read.
    fn run<'i>(
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

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    fn word(&self, pair: &Pair<'_, Rule>) -> Word {
        Word {
            text: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn item(&mut self, pair: Pair<'_, Rule>, text: &str) -> Option<Item> {
        let span = self.span(&pair);
        Some(match pair.as_rule() {
            Rule::patch_block => Item::Patch(self.patch(pair)),
            Rule::target_block => Item::Target(self.target(pair)),
            Rule::import_item => {
                let inner = children(pair).next()?;
                let path = match inner.as_rule() {
                    Rule::string => ImportPath::Relative(self.string(inner)),
                    _ => ImportPath::Std(self.word(&inner)),
                };
                Item::Import(Import { span, path })
            }
            Rule::include_item => {
                let header = self.word(&children(pair).next()?);
                Item::Include(Include { span, header })
            }
            Rule::object_block => Item::Object(self.object(pair)),
            Rule::shadow_block => Item::Shadow(self.shadow(pair)),
            Rule::template_block => {
                let mut inner = children(pair);
                let name = self.word(&inner.next()?);
                let entries = inner.map(|p| self.shadow_entry(p, "template")).collect();
                Item::Template(TemplateBlock {
                    span,
                    name,
                    entries,
                })
            }
            Rule::state_block => Item::State(self.state(pair)),
            Rule::helper_item => {
                let mut inner = children(pair);
                let prototype = self.prototype(inner.next()?);
                let body = self.c_block(inner.next()?);
                Item::Helper(Helper {
                    span,
                    prototype,
                    body,
                })
            }
            Rule::data_item => {
                let body = self.c_block(children(pair).next()?);
                Item::Data(Data { span, body })
            }
            Rule::api_item => {
                let mut inner = children(pair);
                let feature = self.word(&inner.next()?);
                let since = self.word(&inner.next()?);
                Item::Api(ApiEntry {
                    span,
                    feature,
                    since,
                })
            }
            Rule::test_block => Item::Test(self.test(pair)),
            Rule::bad_item => {
                self.bad_item(&pair, text);
                Item::Bad(Bad {
                    text: pair.as_str().to_string(),
                    span,
                })
            }
            _ => return None,
        })
    }

    fn patch(&mut self, pair: Pair<'_, Rule>) -> PatchBlock {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next().expect("patch has a name"));
        let mut entries = Vec::new();
        for entry in inner {
            let entry_span = self.span(&entry);
            entries.push(match entry.as_rule() {
                Rule::description => PatchEntry::Description(self.first_string(entry)),
                Rule::reference => {
                    let mut parts = children(entry);
                    let kind = self.word(&parts.next().expect("reference has a kind"));
                    let value = self.string(parts.next().expect("reference has a value"));
                    PatchEntry::Reference { kind, value }
                }
                Rule::author => PatchEntry::Author(self.first_string(entry)),
                Rule::cumulative => PatchEntry::Cumulative(entry_span),
                _ => PatchEntry::Bad(self.bad_entry(&entry, "patch")),
            });
        }
        PatchBlock {
            span,
            name,
            entries,
        }
    }

    fn target(&mut self, pair: Pair<'_, Rule>) -> TargetBlock {
        let span = self.span(&pair);
        let keyword = Span::new(self.file, span.start, span.start + "target".len());
        let mut entries = Vec::new();
        for entry in children(pair) {
            let entry_span = self.span(&entry);
            entries.push(match entry.as_rule() {
                Rule::release => {
                    let keyword = Span::new(
                        self.file,
                        entry_span.start,
                        entry_span.start + "release".len(),
                    );
                    let values = children(entry).map(|p| self.string(p)).collect();
                    TargetEntry::Release { keyword, values }
                }
                Rule::arch => TargetEntry::Arch(self.first_word(entry)),
                Rule::version => TargetEntry::Version(self.first_word(entry)),
                Rule::build_id => TargetEntry::BuildId(self.first_string(entry)),
                _ => TargetEntry::Bad(self.bad_entry(&entry, "target")),
            });
        }
        TargetBlock {
            span,
            keyword,
            entries,
        }
    }

    fn object(&mut self, pair: Pair<'_, Rule>) -> ObjectBlock {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next().expect("object has a name"));
        let mut entries = Vec::new();
        for entry in inner {
            entries.push(match entry.as_rule() {
                Rule::replacement => ObjectEntry::Replace(self.replacement(entry)),
                Rule::callback => {
                    let span = self.span(&entry);
                    let mut parts = children(entry);
                    let kind_pair = parts.next().expect("callback has a kind");
                    let kind = CallbackKind::from_keyword(kind_pair.as_str())
                        .expect("grammar lists the kinds");
                    let keyword = self.span(&kind_pair);
                    let body = self.c_block(parts.next().expect("callback has a body"));
                    ObjectEntry::Callback(Callback {
                        span,
                        kind,
                        keyword,
                        body,
                    })
                }
                Rule::extern_decl => ObjectEntry::Extern(self.extern_decl(entry)),
                _ => ObjectEntry::Bad(self.bad_entry(&entry, "object")),
            });
        }
        ObjectBlock {
            span,
            name,
            entries,
        }
    }

    fn replacement(&mut self, pair: Pair<'_, Rule>) -> Replacement {
        let span = self.span(&pair);
        let keyword = Span::new(self.file, span.start, span.start + "replace".len());
        let mut inner = children(pair);
        let head_pair = inner.next().expect("replace has a head");
        let head = match head_pair.as_rule() {
            Rule::prototype => ReplaceHead::Prototype(self.prototype(head_pair)),
            _ => ReplaceHead::Name(self.word(&head_pair)),
        };
        let (mut in_file, mut sympos, mut body) = (None, None, None);
        let mut allow_inlined = Vec::new();
        for part in inner {
            match part.as_rule() {
                Rule::in_file => in_file = Some(self.first_string(part)),
                Rule::sympos => sympos = Some(self.first_number(part)),
                Rule::body_file => body = Some(Body::File(self.first_string(part))),
                Rule::allow_inlined => allow_inlined.extend(children(part).map(|p| self.string(p))),
                _ => body = Some(Body::Inline(self.c_block(part))),
            }
        }
        let body = body.expect("the grammar requires a body");
        Replacement {
            span,
            keyword,
            head,
            in_file,
            sympos,
            allow_inlined,
            body,
        }
    }

    fn extern_decl(&mut self, pair: Pair<'_, Rule>) -> ExternDecl {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let mut suffix = None;
        let mut sympos = None;
        for part in children(pair) {
            match part.as_rule() {
                Rule::declarator => {
                    for piece in children(part) {
                        match piece.as_rule() {
                            Rule::c_parens | Rule::c_brackets => {
                                suffix = Some(CCode {
                                    text: piece.as_str().to_string(),
                                    span: self.span(&piece),
                                });
                            }
                            _ => words.push(self.word(&piece)),
                        }
                    }
                }
                Rule::sympos => sympos = Some(self.first_number(part)),
                _ => {}
            }
        }
        ExternDecl {
            span,
            words,
            suffix,
            sympos,
        }
    }

    fn shadow(&mut self, pair: Pair<'_, Rule>) -> ShadowBlock {
        let span = self.span(&pair);
        let mut name = None;
        let mut owner = None;
        let mut like = None;
        let mut entries = Vec::new();
        for part in children(pair) {
            match part.as_rule() {
                Rule::ident if name.is_none() => name = Some(self.word(&part)),
                Rule::c_type => {
                    // A `#` comment between the words is not part of the type.
                    let start = part.as_span().start();
                    let mut written = String::new();
                    let mut at = start;
                    for comment in part.clone().into_inner().flatten() {
                        if comment.as_rule() == Rule::COMMENT {
                            let span = comment.as_span();
                            written.push_str(&part.as_str()[at - start..span.start() - start]);
                            written.push(' ');
                            at = span.end();
                        }
                    }
                    written.push_str(&part.as_str()[at - start..]);
                    let text = written.split_whitespace().collect::<Vec<_>>().join(" ");
                    owner = Some(Word {
                        text,
                        span: self.span(&part),
                    });
                }
                Rule::like => like = Some(self.first_word(part)),
                _ => entries.push(self.shadow_entry(part, "shadow")),
            }
        }
        ShadowBlock {
            span,
            name: name.expect("shadow has a name"),
            owner: owner.expect("shadow has a type"),
            like,
            entries,
        }
    }

    fn shadow_entry(&mut self, pair: Pair<'_, Rule>, block: &str) -> ShadowEntry {
        match pair.as_rule() {
            Rule::shadow_id => ShadowEntry::Id(self.first_number(pair)),
            Rule::gfp => {
                let word = self.first_word(pair);
                let text = word
                    .text
                    .split('|')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" | ");
                ShadowEntry::Gfp(Word {
                    text,
                    span: word.span,
                })
            }
            Rule::payload => ShadowEntry::Payload(self.first_c_block(pair)),
            Rule::ctor => ShadowEntry::Ctor(self.first_c_block(pair)),
            Rule::dtor => ShadowEntry::Dtor(self.first_c_block(pair)),
            Rule::keep => ShadowEntry::Keep(self.span(&pair)),
            _ => ShadowEntry::Bad(self.bad_entry(&pair, block)),
        }
    }

    fn state(&mut self, pair: Pair<'_, Rule>) -> StateBlock {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next().expect("state has a name"));
        let entries = inner
            .map(|entry| match entry.as_rule() {
                Rule::shadow_id => StateEntry::Id(self.first_number(entry)),
                Rule::state_version => StateEntry::Version(self.first_number(entry)),
                _ => StateEntry::Bad(self.bad_entry(&entry, "state")),
            })
            .collect();
        StateBlock {
            span,
            name,
            entries,
        }
    }

    fn test(&mut self, pair: Pair<'_, Rule>) -> TestBlock {
        let span = self.span(&pair);
        let keyword = Span::new(self.file, span.start, span.start + "test".len());
        let mut entries = Vec::new();
        for entry in children(pair) {
            entries.push(match entry.as_rule() {
                Rule::test_load => TestEntry::Load(self.first_string(entry)),
                Rule::test_patch_first => TestEntry::PatchFirst(self.first_string(entry)),
                Rule::test_check => {
                    let mut parts = children(entry);
                    let kind_pair = parts.next().expect("a check has a kind");
                    let kind = if kind_pair.as_str() == "fixed" {
                        CheckKind::Fixed
                    } else {
                        CheckKind::Always
                    };
                    let keyword = self.span(&kind_pair);
                    let command = self.string(parts.next().expect("a check has a command"));
                    let expect = self.string(parts.next().expect("a check has a text"));
                    TestEntry::Check {
                        kind,
                        keyword,
                        command,
                        expect,
                    }
                }
                Rule::test_dmesg => {
                    let mut parts = children(entry);
                    let phase_pair = parts.next().expect("dmesg has a phase");
                    let phase = if phase_pair.as_str() == "loaded" {
                        Phase::Loaded
                    } else {
                        Phase::Unloaded
                    };
                    let keyword = self.span(&phase_pair);
                    let lines = parts.map(|p| self.string(p)).collect();
                    TestEntry::Dmesg {
                        phase,
                        keyword,
                        lines,
                    }
                }
                Rule::test_refused => TestEntry::Refused(self.first_string(entry)),
                _ => TestEntry::Bad(self.bad_entry(&entry, "test")),
            });
        }
        TestBlock {
            span,
            keyword,
            entries,
        }
    }

    fn prototype(&mut self, pair: Pair<'_, Rule>) -> Prototype {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let mut params = None;
        for part in children(pair) {
            match part.as_rule() {
                Rule::c_parens => {
                    params = Some(CCode {
                        text: part.as_str().to_string(),
                        span: self.span(&part),
                    })
                }
                _ => words.push(self.word(&part)),
            }
        }
        Prototype {
            span,
            words,
            params: params.expect("a prototype has parameters"),
        }
    }

    fn c_block(&mut self, pair: Pair<'_, Rule>) -> CCode {
        let text = pair.into_inner().next().expect("a C block has a text");
        CCode {
            text: text.as_str().to_string(),
            span: self.span(&text),
        }
    }

    fn first_c_block(&mut self, pair: Pair<'_, Rule>) -> CCode {
        let block = children(pair).next().expect("entry has a block");
        self.c_block(block)
    }

    fn first_word(&mut self, pair: Pair<'_, Rule>) -> Word {
        self.word(&children(pair).next().expect("entry has a word"))
    }

    fn first_string(&mut self, pair: Pair<'_, Rule>) -> Str {
        self.string(children(pair).next().expect("entry has a string"))
    }

    fn first_number(&mut self, pair: Pair<'_, Rule>) -> Number {
        let number = children(pair).next().expect("entry has a number");
        let span = self.span(&number);
        let text = number.as_str();
        let value = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        };
        if value.is_none() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidNumber,
                    format!("number `{text}` does not fit in 64 bits"),
                )
                .at(span, "too large"),
            );
        }
        Number { value, span }
    }

    /// Resolves the escapes of a string literal.
    fn string(&mut self, pair: Pair<'_, Rule>) -> Str {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                other => {
                    let end = other.map_or(i + 1, |(j, ch)| j + ch.len_utf8());
                    let at = Span::new(self.file, span.start + 1 + i, span.start + 1 + end);
                    let shown = other.map_or(String::new(), |(_, ch)| ch.to_string());
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidString,
                            format!("unknown escape `\\{shown}` in a string"),
                        )
                        .at(at, "not an escape kgpc knows")
                        .with_help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
                    );
                }
            }
        }
        Str { value, span }
    }

    /// Reports an entry that is not understood in a block.
    fn bad_entry(&mut self, pair: &Pair<'_, Rule>, block: &str) -> Bad {
        let span = self.span(pair);
        let text = pair.as_str();
        let first = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        let known = entry_keywords(block);
        let diagnostic = if let Some(rule) = entry_rule(block, first) {
            self.reparse(rule, text, span.start)
        } else {
            let shown = if first.is_empty() {
                text.chars().next().map(String::from).unwrap_or_default()
            } else {
                first.to_string()
            };
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
    fn bad_item(&mut self, pair: &Pair<'_, Rule>, _text: &str) {
        let span = self.span(pair);
        let text = pair.as_str();
        let first = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        let diagnostic = if ITEM_KEYWORDS.contains(&first) {
            self.reparse(Rule::strict_item, text, span.start)
        } else {
            let shown = if first.is_empty() {
                text.chars().next().map(String::from).unwrap_or_default()
            } else {
                first.to_string()
            };
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

    fn pest_error(&self, error: &pest::error::Error<Rule>, offset: usize) -> Diagnostic {
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
            "pre_patch",
            "post_patch",
            "pre_unpatch",
            "post_unpatch",
        ],
        "state" => &["id", "version"],
        "test" => &["load", "patch_first", "fixed", "always", "dmesg", "refused"],
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
        ("object", "pre_patch" | "post_patch" | "pre_unpatch" | "post_unpatch") => Rule::callback,
        ("test", "load") => Rule::test_load,
        ("test", "patch_first") => Rule::test_patch_first,
        ("test", "fixed" | "always") => Rule::test_check,
        ("test", "dmesg") => Rule::test_dmesg,
        ("test", "refused") => Rule::test_refused,
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
        | Rule::shadow_id
        | Rule::gfp
        | Rule::payload
        | Rule::ctor
        | Rule::dtor
        | Rule::keep
        | Rule::state_version
        | Rule::test_load
        | Rule::test_patch_first
        | Rule::test_check
        | Rule::test_dmesg
        | Rule::test_refused
        | Rule::bad_entry => "an entry or `}`",
        Rule::check_kind => "`fixed` or `always`",
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
    for (at, bracket) in super::nesting::brackets(text) {
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
