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

    /// A diff's path, or the diff itself as a text block.
    pub(super) fn diff_text(&mut self, pair: Pair<'_, Rule>) -> Option<DiffText> {
        Some(match pair.as_rule() {
            Rule::text_block => DiffText::Inline(self.text_block(pair)?),
            _ => DiffText::File(self.string(pair)),
        })
    }

    /// A text block with the closing `"""`'s indentation taken off each line.
    /// Its layout is checked here: nothing may follow the opening `"""` on
    /// its line, nothing may precede the closing one on its line but
    /// indentation, and every line that is not blank starts with that
    /// indentation. A block that breaks a rule is reported (KGP0132) and
    /// read as well as it can be, so that parsing goes on.
    pub(super) fn text_block(&mut self, pair: Pair<'_, Rule>) -> Option<TextBlock> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let start = self.span(&inner).start;
        let raw = inner.as_str();
        let (opening, body) = raw.split_once('\n').unwrap_or((raw, ""));
        if !opening.trim().is_empty() {
            let at = Span::new(self.file, start, start + opening.len());
            self.bad_text_block(
                at,
                "text follows the opening `\"\"\"` on its line",
                "start the text on the line after `\"\"\"`",
            );
        }
        let first_line = start + opening.len() + usize::from(raw.len() > opening.len());
        let (lines, closing) = body.rsplit_once('\n').unwrap_or(("", body));
        let indent_len = closing.len() - closing.trim_start_matches([' ', '\t']).len();
        if indent_len < closing.len() {
            let at = Span::new(self.file, span.end - 3 - closing.len(), span.end - 3);
            self.bad_text_block(
                at,
                "text precedes the closing `\"\"\"` on its line",
                "put the closing `\"\"\"` on a line of its own",
            );
        }
        let indent = &closing[..indent_len];
        let mut text = String::with_capacity(lines.len() + 1);
        let mut offset = first_line;
        if body.contains('\n') {
            for line in lines.split('\n') {
                let line_text = line.strip_suffix('\r').unwrap_or(line);
                match line_text.strip_prefix(indent) {
                    Some(rest) => text.push_str(rest),
                    None if line_text.trim().is_empty() => {}
                    None => {
                        let at = Span::new(self.file, offset, offset + line_text.len());
                        self.bad_text_block(
                            at,
                            "this line is indented less than the closing `\"\"\"`",
                            "indent every line of the block at least as deep as the closing `\"\"\"`, which sets the indentation taken off",
                        );
                        text.push_str(line_text.trim_start_matches([' ', '\t']));
                    }
                }
                text.push('\n');
                offset += line.len() + 1;
            }
        }
        Some(TextBlock {
            span,
            text,
            first_line,
            indent: indent_len,
        })
    }

    fn bad_text_block(&mut self, at: Span, message: &str, help: &str) {
        self.diagnostics.push(
            Diagnostic::error(Code::BadTextBlock, message.to_string())
                .at(at, "here")
                .with_help(help.to_string()),
        );
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
