//! The values inside items: prototypes, C blocks, words, strings and numbers.

use super::{children, Builder, Rule};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::*;
use pest::iterators::Pair;

impl Builder {
    pub(super) fn prototype(&mut self, pair: Pair<'_, Rule>) -> Option<Prototype> {
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
        Some(Prototype {
            span,
            words,
            params: params?,
        })
    }

    pub(super) fn c_block(&mut self, pair: Pair<'_, Rule>) -> Option<CCode> {
        let text = pair.into_inner().next()?;
        Some(CCode {
            text: text.as_str().to_string(),
            span: self.span(&text),
        })
    }

    pub(super) fn first_c_block(&mut self, pair: Pair<'_, Rule>) -> Option<CCode> {
        let block = children(pair).next()?;
        self.c_block(block)
    }

    pub(super) fn first_word(&mut self, pair: Pair<'_, Rule>) -> Option<Word> {
        Some(self.word(&children(pair).next()?))
    }

    pub(super) fn first_string(&mut self, pair: Pair<'_, Rule>) -> Option<Str> {
        Some(self.string(children(pair).next()?))
    }

    pub(super) fn first_number(&mut self, pair: Pair<'_, Rule>) -> Option<Number> {
        let number = children(pair).next()?;
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
        Some(Number { value, span })
    }

    /// Resolves the escapes of a string literal.
    pub(super) fn string(&mut self, pair: Pair<'_, Rule>) -> Str {
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
}
