//! Escaping spec text for the Markdown of `kgpc review`.
//!
//! A review is pasted into a pull request, and the spec under review is the
//! pull request's own text: a description, reference or file name holding
//! `|`, a newline, `## Risks` or `<!--` must not end a table cell, forge a
//! section or hide the rest of the review. Every piece of spec text goes
//! through one of these functions before it reaches the report.

/// Text inside a line (a table cell, a list item, a sentence): every line
/// break becomes a space, and every character that could open a link, an
/// HTML tag or comment, a code span or emphasis, or end a table cell is
/// escaped with a backslash, which CommonMark allows before any ASCII
/// punctuation. An underscore inside a word means nothing and is kept.
pub fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        if c == '_' && word(i.checked_sub(1)) && word(Some(i + 1)) {
            out.push(c);
        } else {
            push_text(&mut out, c);
        }
    }
    out
}

/// One line of a block of text (a line of the description): as [`text`],
/// and the first character is escaped when it could open a block there (a
/// heading, a list, a quote, a heading underline, a numbered list).
pub fn line(s: &str) -> String {
    let trimmed = s.trim_start();
    let digits = trimmed.len()
        - trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let (number, rest) = trimmed.split_at(digits);
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) if c.is_ascii_punctuation() && !matches!(c, '_' | '\\') => {
            format!("{number}\\{c}{}", text(chars.as_str()))
        }
        _ => text(trimmed),
    }
}

/// Spec text as an inline code span: the fence is longer than any run of
/// backticks inside, line breaks become spaces, and `|` is escaped, which
/// GitHub's tables require even inside code.
pub fn code(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if breaks_line(c) { ' ' } else { c })
        .collect();
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') || longest > 0 {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", flat.replace('|', "\\|"))
}

/// kgpc's own sentences with spec text quoted in backticks (diagnostic
/// messages): the code spans are kept, escaped as [`code`] does, and the
/// rest is escaped as [`text`]; an unpaired backtick is escaped.
pub fn message(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        out.push_str(&text(&rest[..open]));
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                out.push_str(&code(&after[..close]));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str("\\`");
                rest = after;
            }
        }
    }
    out.push_str(&text(rest));
    out
}

fn push_text(out: &mut String, c: char) {
    if breaks_line(c) {
        out.push(' ');
    } else if c.is_control() {
        out.push('\u{FFFD}');
    } else if matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '$' | '&'
    ) {
        out.push('\\');
        out.push(c);
    } else {
        out.push(c);
    }
}

/// Whether a character ends a line for a Markdown renderer or a browser.
fn breaks_line(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_leave_its_cell_or_open_html() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("x\n## Risks to weigh\n"), "x ## Risks to weigh ");
        assert_eq!(text("<!-- hide"), "\\<!-- hide");
        assert_eq!(
            text("https://example.org/a_b?c=1"),
            "https://example.org/a_b?c=1"
        );
        assert_eq!(text("_a_ *b*"), "\\_a\\_ \\*b\\*");
        assert_eq!(text("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(text("&lt;"), "\\&lt;");
    }

    #[test]
    fn a_line_cannot_open_a_block() {
        assert_eq!(line("## Risks"), "\\## Risks");
        assert_eq!(line("  - item"), "\\- item");
        assert_eq!(line("==="), "\\===");
        assert_eq!(line("1. first"), "1\\. first");
        assert_eq!(line("> quote"), "\\> quote");
        assert_eq!(line("plain words"), "plain words");
    }

    #[test]
    fn code_spans_hold_any_backticks_and_pipes() {
        assert_eq!(code("f"), "`f`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("``"), "``` `` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
        assert_eq!(code("std/api"), "`std/api`");
        assert_eq!(code("a|b\n## Risks"), "`a\\|b ## Risks`");
    }

    #[test]
    fn messages_keep_their_code_spans() {
        assert_eq!(
            message("no function `f_g` in <x>"),
            "no function `f_g` in \\<x>"
        );
        assert_eq!(message("odd ` tick_"), "odd \\` tick\\_");
        assert_eq!(message("a\n## b `c\nd`"), "a ## b `c d`");
    }
}
