//! The blocks of entries: patch, target, object, shadow, template, state and test.
//!
//! Each function returns `None` only for a pair that lacks a part the grammar
//! always gives it, so that a mismatch between grammar and builder drops an
//! item instead of panicking.

use super::{children, Builder, Rule};
use crate::source::Span;
use crate::syntax::ast::*;
use pest::iterators::Pair;

impl Builder {
    pub(super) fn patch(&mut self, pair: Pair<'_, Rule>) -> Option<PatchBlock> {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next()?);
        let mut entries = Vec::new();
        for entry in inner {
            let entry_span = self.span(&entry);
            entries.push(match entry.as_rule() {
                Rule::description => PatchEntry::Description(self.first_string(entry)?),
                Rule::reference => {
                    let mut parts = children(entry);
                    let kind = self.word(&parts.next()?);
                    let value = self.string(parts.next()?);
                    PatchEntry::Reference { kind, value }
                }
                Rule::author => PatchEntry::Author(self.first_string(entry)?),
                Rule::cumulative => PatchEntry::Cumulative(entry_span),
                _ => PatchEntry::Bad(self.bad_entry(&entry, "patch")),
            });
        }
        Some(PatchBlock {
            span,
            name,
            entries,
        })
    }

    pub(super) fn target(&mut self, pair: Pair<'_, Rule>) -> Option<TargetBlock> {
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
                Rule::arch => TargetEntry::Arch(self.first_word(entry)?),
                Rule::version => TargetEntry::Version(self.first_word(entry)?),
                Rule::build_id => TargetEntry::BuildId(self.first_string(entry)?),
                _ => TargetEntry::Bad(self.bad_entry(&entry, "target")),
            });
        }
        Some(TargetBlock {
            span,
            keyword,
            entries,
        })
    }

    pub(super) fn object(&mut self, pair: Pair<'_, Rule>) -> Option<ObjectBlock> {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next()?);
        let mut entries = Vec::new();
        for entry in inner {
            entries.push(match entry.as_rule() {
                Rule::replacement => ObjectEntry::Replace(self.replacement(entry)?),
                Rule::callback => {
                    let span = self.span(&entry);
                    let mut parts = children(entry);
                    let kind_pair = parts.next()?;
                    let kind = CallbackKind::from_keyword(kind_pair.as_str())?;
                    let keyword = self.span(&kind_pair);
                    let body = self.c_block(parts.next()?)?;
                    ObjectEntry::Callback(Callback {
                        span,
                        kind,
                        keyword,
                        body,
                    })
                }
                Rule::extern_decl => ObjectEntry::Extern(self.extern_decl(entry)?),
                Rule::requires_item => ObjectEntry::Requires(self.requirement(entry)?),
                _ => ObjectEntry::Bad(self.bad_entry(&entry, "object")),
            });
        }
        Some(ObjectBlock {
            span,
            name,
            entries,
        })
    }

    /// `requires CONFIG_NAME[=VALUE] [else ACTION]`, at the top level or in an object.
    pub(super) fn requirement(&mut self, pair: Pair<'_, Rule>) -> Option<Requirement> {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let option = self.word(&inner.next()?);
        let (mut value, mut otherwise) = (None, None);
        for part in inner {
            match part.as_rule() {
                Rule::config_value => {
                    let given = children(part).next()?;
                    value = Some(match given.as_rule() {
                        Rule::string => ConfigValue::Text(self.string(given)),
                        _ => ConfigValue::Word(self.word(&given)),
                    });
                }
                _ => otherwise = Some(self.word(&children(part).last()?)),
            }
        }
        // The pair's span takes in the white space before an absent value or `else`.
        let end = [
            Some(option.span.end),
            value.as_ref().map(|v| v.span().end),
            otherwise.as_ref().map(|w| w.span.end),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(span.end);
        Some(Requirement {
            span: Span::new(self.file, span.start, end),
            option,
            value,
            otherwise,
        })
    }

    pub(super) fn replacement(&mut self, pair: Pair<'_, Rule>) -> Option<Replacement> {
        let span = self.span(&pair);
        let keyword = Span::new(self.file, span.start, span.start + "replace".len());
        let mut inner = children(pair);
        let head_pair = inner.next()?;
        let head = match head_pair.as_rule() {
            Rule::prototype => ReplaceHead::Prototype(self.prototype(head_pair)?),
            _ => ReplaceHead::Name(self.word(&head_pair)),
        };
        let (mut in_file, mut sympos, mut body) = (None, None, None);
        let mut allow_inlined = Vec::new();
        for part in inner {
            match part.as_rule() {
                Rule::in_file => in_file = Some(self.first_string(part)?),
                Rule::sympos => sympos = Some(self.first_number(part)?),
                Rule::body_file => body = Some(Body::File(self.first_string(part)?)),
                Rule::function_fix => {
                    body = Some(Body::Fix(self.diff_text(children(part).next()?)?))
                }
                Rule::allow_inlined => allow_inlined.extend(children(part).map(|p| self.string(p))),
                _ => body = Some(Body::Inline(self.c_block(part)?)),
            }
        }
        let body = body?;
        Some(Replacement {
            span,
            keyword,
            head,
            in_file,
            sympos,
            allow_inlined,
            body,
        })
    }

    pub(super) fn extern_decl(&mut self, pair: Pair<'_, Rule>) -> Option<ExternDecl> {
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
                Rule::sympos => sympos = Some(self.first_number(part)?),
                _ => {}
            }
        }
        Some(ExternDecl {
            span,
            words,
            suffix,
            sympos,
        })
    }

    pub(super) fn shadow(&mut self, pair: Pair<'_, Rule>) -> Option<ShadowBlock> {
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
                Rule::like => like = Some(self.first_word(part)?),
                _ => entries.push(self.shadow_entry(part, "shadow")?),
            }
        }
        Some(ShadowBlock {
            span,
            name: name?,
            owner: owner?,
            like,
            entries,
        })
    }

    pub(super) fn shadow_entry(
        &mut self,
        pair: Pair<'_, Rule>,
        block: &str,
    ) -> Option<ShadowEntry> {
        Some(match pair.as_rule() {
            Rule::shadow_id => ShadowEntry::Id(self.first_number(pair)?),
            Rule::gfp => {
                let word = self.first_word(pair)?;
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
            Rule::payload => ShadowEntry::Payload(self.first_c_block(pair)?),
            Rule::ctor => ShadowEntry::Ctor(self.first_c_block(pair)?),
            Rule::dtor => ShadowEntry::Dtor(self.first_c_block(pair)?),
            Rule::keep => ShadowEntry::Keep(self.span(&pair)),
            _ => ShadowEntry::Bad(self.bad_entry(&pair, block)),
        })
    }

    pub(super) fn state(&mut self, pair: Pair<'_, Rule>) -> Option<StateBlock> {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = self.word(&inner.next()?);
        let mut entries = Vec::new();
        for entry in inner {
            entries.push(match entry.as_rule() {
                Rule::shadow_id => StateEntry::Id(self.first_number(entry)?),
                Rule::state_version => StateEntry::Version(self.first_number(entry)?),
                _ => StateEntry::Bad(self.bad_entry(&entry, "state")),
            });
        }
        Some(StateBlock {
            span,
            name,
            entries,
        })
    }

    pub(super) fn test(&mut self, pair: Pair<'_, Rule>) -> Option<TestBlock> {
        let span = self.span(&pair);
        let keyword = Span::new(self.file, span.start, span.start + "test".len());
        let mut entries = Vec::new();
        for entry in children(pair) {
            entries.push(match entry.as_rule() {
                Rule::test_load => TestEntry::Load(self.first_string(entry)?),
                Rule::test_patch_first => TestEntry::PatchFirst(self.first_string(entry)?),
                Rule::test_check => {
                    let mut parts = children(entry);
                    let kind_pair = parts.next()?;
                    let kind = if kind_pair.as_str() == "fixed" {
                        CheckKind::Fixed
                    } else {
                        CheckKind::Always
                    };
                    let keyword = self.span(&kind_pair);
                    let command = self.script(parts.next()?)?;
                    let mut expects = Vec::new();
                    for part in parts {
                        expects.push(self.expectation(part)?);
                    }
                    TestEntry::Check {
                        kind,
                        keyword,
                        command,
                        expects,
                    }
                }
                Rule::test_file => TestEntry::File(self.first_string(entry)?),
                Rule::test_reload => TestEntry::Reload(self.first_string(entry)?),
                Rule::test_program => TestEntry::Program(self.first_string(entry)?),
                Rule::test_setup => {
                    let keyword = self.keyword_span(&entry, "setup");
                    let script = self.script(children(entry).next()?)?;
                    TestEntry::Setup { keyword, script }
                }
                Rule::test_dmesg => {
                    let mut parts = children(entry);
                    let phase_pair = parts.next()?;
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
                Rule::test_refused => TestEntry::Refused(self.first_string(entry)?),
                Rule::test_workload => TestEntry::Workload(self.first_string(entry)?),
                _ => TestEntry::Bad(self.bad_entry(&entry, "test")),
            });
        }
        Some(TestBlock {
            span,
            keyword,
            entries,
        })
    }
}

impl Builder {
    /// A test's shell script: a string or a text block.
    fn script(&mut self, pair: Pair<'_, Rule>) -> Option<Script> {
        Some(match pair.as_rule() {
            Rule::text_block => Script::Block(self.text_block(pair)?),
            _ => Script::Line(self.string(pair)),
        })
    }

    /// One expectation of a check.
    fn expectation(&mut self, pair: Pair<'_, Rule>) -> Option<Expectation> {
        let rule = pair.as_rule();
        let keyword = match rule {
            Rule::expect_contains => self.keyword_span(&pair, "contains"),
            Rule::expect_lacks => self.keyword_span(&pair, "lacks"),
            _ => self.keyword_span(&pair, "exits"),
        };
        Some(match rule {
            Rule::expect_contains => Expectation::Contains {
                keyword,
                text: self.first_string(pair)?,
            },
            Rule::expect_lacks => Expectation::Lacks {
                keyword,
                text: self.first_string(pair)?,
            },
            _ => Expectation::Exits {
                keyword,
                status: self.first_number(pair)?,
            },
        })
    }

    /// The span of the keyword `word` that starts `pair`.
    fn keyword_span(&self, pair: &Pair<'_, Rule>, word: &str) -> Span {
        let start = self.span(pair).start;
        Span::new(self.file, start, start + word.len())
    }
}
