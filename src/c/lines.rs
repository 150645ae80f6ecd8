//! The lines of a C block and which of them may be re-indented.
//!
//! The formatter and the generator both move C blocks to another depth. Only
//! white space between tokens may change: a line that continues a
//! backslash-newline or a raw string is kept exactly as written, and so is
//! the end of a line whose break belongs to a literal or ends in a backslash.
//! The common indentation is that of the ordinary lines; a label or
//! preprocessor line written left of them (kernel style: `out:` and `#ifdef`
//! at column 0) stays left of them instead of shifting the whole block.

use crate::c::lexer::{self, Kind};

/// One line of a C block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Only white space.
    Blank,
    /// Kept byte for byte, leading white space included.
    Verbatim(&'a str),
    /// Code that may be re-indented: its indentation in columns beyond the
    /// common one (negative for a label or directive left of it), and its text
    /// without the leading white space.
    Code { indent: isize, text: &'a str },
}

/// The lines of a block from its first to its last non-blank line.
#[derive(Debug)]
pub struct Layout<'a> {
    pub lines: Vec<Line<'a>>,
    /// How many lines before the first non-blank line were left out.
    pub dropped: usize,
}

/// Width of a line's indentation in columns, with tabs to multiples of eight.
fn width(line: &str) -> usize {
    let mut w = 0;
    for c in line.chars() {
        match c {
            ' ' => w += 1,
            '\t' => w = (w / 8 + 1) * 8,
            _ => break,
        }
    }
    w
}

fn is_blank(line: &str) -> bool {
    line.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b'))
}

/// Whether a line (without its indentation) is a label such as `out:` or a
/// preprocessor line, which kernel style writes at column 0.
fn is_label_or_directive(text: &str) -> bool {
    if text.starts_with('#') || text.starts_with("%:") {
        return true;
    }
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let rest = text[name_end..].trim_start_matches([' ', '\t']);
    name_end > 0
        && !text.as_bytes()[0].is_ascii_digit()
        && rest.starts_with(':')
        && !rest.starts_with("::")
}

/// A line of the block before it is laid out.
struct Raw<'a> {
    /// The line continues a backslash-newline or a literal: it is kept as written.
    verbatim: bool,
    /// The line's break belongs to a literal or follows a backslash: its end is kept.
    keep_end: bool,
    text: &'a str,
}

/// Splits C text into lines and says how each may be re-indented.
pub fn layout(text: &str) -> Layout<'_> {
    let raw = raw_lines(text);
    // Blank lines at the start and end are left out, even after a
    // backslash-newline: the text that follows the block is not C.
    let Some(first) = raw.iter().position(|l| !is_blank(l.text)) else {
        return Layout {
            lines: Vec::new(),
            dropped: 0,
        };
    };
    let last = raw.iter().rposition(|l| !is_blank(l.text)).unwrap_or(first);
    let body = &raw[first..=last];
    let common = common_indent(body);
    let lines = body.iter().map(|l| laid_out(l, common)).collect();
    Layout {
        lines,
        dropped: first,
    }
}

/// The lines of `text`, each marked with what of it must be kept as written.
fn raw_lines(text: &str) -> Vec<Raw<'_>> {
    let bytes = text.as_bytes();
    // Byte ranges of the lines, without their `\n`.
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            ranges.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        ranges.push((start, text.len()));
    }
    // A line break inside a literal (a raw string, or a string continued by
    // a backslash-newline) belongs to the literal.
    let literals: Vec<(usize, usize)> = lexer::tokens(text)
        .iter()
        .filter(|t| matches!(t.kind, Kind::Literal | Kind::Unterminated))
        .filter(|t| text[t.start..t.end].contains('\n'))
        .map(|t| (t.start, t.end))
        .collect();
    // Tokens are in order and do not overlap, so a binary search finds the one
    // that may hold an offset.
    let inside = |offset: usize| {
        let i = literals.partition_point(|(s, _)| *s < offset);
        i > 0 && offset < literals[i - 1].1
    };
    let ends_in_splice = |(s, e): (usize, usize)| {
        let line = &bytes[s..e];
        let trimmed = line
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b'));
        trimmed.is_some_and(|i| line[i] == b'\\')
    };
    ranges
        .iter()
        .enumerate()
        .map(|(n, &(s, e))| {
            let continued = n > 0 && ends_in_splice(ranges[n - 1]);
            Raw {
                verbatim: continued || inside(s),
                keep_end: inside(e) || ends_in_splice((s, e)),
                text: &text[s..e],
            }
        })
        .collect()
}

/// The indentation of the block's ordinary code lines, or of all its code
/// lines when every one is a label or directive.
fn common_indent(body: &[Raw<'_>]) -> usize {
    let code = || {
        body.iter()
            .filter(|l| !l.verbatim && !is_blank(l.text))
            .map(|l| (width(l.text), l.text.trim_start_matches([' ', '\t'])))
    };
    code()
        .filter(|(_, t)| !is_label_or_directive(t))
        .map(|(w, _)| w)
        .min()
        .or_else(|| code().map(|(w, _)| w).min())
        .unwrap_or(0)
}

/// One line, its indentation measured from the common one.
fn laid_out<'a>(l: &Raw<'a>, common: usize) -> Line<'a> {
    if l.verbatim {
        return Line::Verbatim(l.text);
    }
    if is_blank(l.text) {
        return Line::Blank;
    }
    let rest = l.text.trim_start_matches([' ', '\t']);
    let text = if l.keep_end {
        rest
    } else {
        rest.trim_end_matches([' ', '\t', '\r', '\x0c', '\x0b'])
    };
    Line::Code {
        indent: width(l.text) as isize - common as isize,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_continuations_are_kept_as_written() {
        let l = layout("    x = \"a\\\n        b\";\n");
        assert_eq!(
            l.lines,
            vec![
                Line::Code {
                    indent: 0,
                    text: "x = \"a\\"
                },
                Line::Verbatim("        b\";"),
            ]
        );
    }

    #[test]
    fn raw_strings_keep_their_lines() {
        let l = layout("  s = R\"(a  \n   b)\";\n");
        assert_eq!(
            l.lines,
            vec![
                Line::Code {
                    indent: 0,
                    text: "s = R\"(a  "
                },
                Line::Verbatim("   b)\";"),
            ]
        );
    }

    #[test]
    fn labels_at_column_zero_do_not_shift_the_block() {
        let l = layout("\n\tif (x)\n\t\tgoto out;\nout:\n\treturn 0;\n");
        assert_eq!(l.dropped, 1);
        let indents: Vec<isize> = l
            .lines
            .iter()
            .map(|l| match l {
                Line::Code { indent, .. } => *indent,
                _ => 99,
            })
            .collect();
        assert_eq!(indents, vec![0, 8, -8, 0]);
    }
}
