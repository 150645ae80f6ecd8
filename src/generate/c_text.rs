//! Turning spec text into C text: escaping and indentation.

use crate::c::lines::{layout, Line};

/// Escapes text for a C string literal, so that no input can end the literal early.
pub fn c_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Trigraphs such as `??/` would be read by a compiler in ISO mode.
            '?' => out.push_str("\\?"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:03o}", c as u32))
            }
            // Bidirectional controls as octal bytes: the same string, and no
            // -Wbidi-chars warning.
            c if is_bidi_control(c) => {
                let mut bytes = [0; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("\\{b:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The characters gcc's `-Wbidi-chars` warns about: embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes text safe inside a `/* ... */` comment on one line: the comment
/// cannot end early, no line break, control or bidirectional character is
/// written (they are shown as `<U+202E>`), and no `??` sequence is left for
/// `-Wtrigraphs` to find.
pub fn c_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace("*/", "* /").replace("/*", "/ *").chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '?' if out.ends_with('?') => out.push_str("\\?"),
            c if c.is_control() && c != '\t' || is_bidi_control(c) => {
                out.push_str(&format!("<U+{:04X}>", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Re-indents a block of C: strips the indentation common to its lines,
/// indents each line by `depth` tabs, and writes each level of the block's
/// own indentation as a tab. A block indented in steps of two or four spaces,
/// as specs often are, comes out indented with tabs like kernel code. Lines
/// that continue a backslash-newline or a raw string are kept as written, and
/// a label or directive left of the block stays left of it
/// ([`crate::c::lines`]).
///
/// Blank lines at the start and end are dropped. Returns the text and how
/// many lines were dropped at the start, which `#line` directives need.
pub fn reindent(text: &str, depth: usize) -> (String, usize) {
    let layout = layout(text);
    // Continuation lines of block comments (` * ...`) do not set the step.
    let step = layout
        .lines
        .iter()
        .filter_map(|l| match l {
            Line::Code { indent, text } if *indent > 0 && !text.starts_with('*') => {
                Some(*indent as usize)
            }
            _ => None,
        })
        .min()
        .unwrap_or(8);
    let unit = if step == 2 || step == 4 { step } else { 8 };
    let mut out = String::new();
    for line in &layout.lines {
        match line {
            Line::Blank => {}
            Line::Verbatim(text) => out.push_str(text),
            Line::Code { indent, text } if *indent >= 0 => {
                let indent = *indent as usize;
                out.push_str(&"\t".repeat(depth + indent / unit));
                out.push_str(&" ".repeat(indent % unit));
                out.push_str(text);
            }
            Line::Code { indent, text } => {
                // Left of the block by `-indent` columns of the spec's layout.
                let column = (depth * 8).saturating_sub(indent.unsigned_abs());
                out.push_str(&"\t".repeat(column / 8));
                out.push_str(&" ".repeat(column % 8));
                out.push_str(text);
            }
        }
        out.push('\n');
    }
    // A last line ending in a backslash would join the generator's next line.
    if out.trim_end_matches('\n').ends_with('\\') {
        out.push('\n');
    }
    (out, layout.dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_escape_their_literal() {
        assert_eq!(c_string(r#"a "quoted" \ text"#), r#"a \"quoted\" \\ text"#);
        assert_eq!(c_string("line\nbreak\u{1}"), "line\\nbreak\\001");
        assert_eq!(c_string("??/"), "\\?\\?/");
    }

    #[test]
    fn comments_cannot_end_early() {
        assert_eq!(c_comment("a */ b /* c"), "a * / b / * c");
    }

    #[test]
    fn no_trigraph_or_bidirectional_character_is_written() {
        assert_eq!(c_comment("what??/ ???"), "what?\\?/ ?\\?\\?");
        assert_eq!(c_comment("a\u{202e}b\0"), "a<U+202E>b<U+0000>");
        assert_eq!(c_string("a\u{2066}b"), "a\\342\\201\\246b");
    }

    #[test]
    fn reindent_keeps_relative_indentation() {
        let (text, dropped) = reindent("\n        if (x) {\n            y();\n        }\n    ", 1);
        assert_eq!(text, "\tif (x) {\n\t\ty();\n\t}\n");
        assert_eq!(dropped, 1);
        let (text, _) = reindent("\n\t\tif (x)\n\t\t\ty();\n", 1);
        assert_eq!(text, "\tif (x)\n\t\ty();\n");
        let (text, _) = reindent("  a(b,\n    c);\n", 0);
        assert_eq!(text, "a(b,\n\tc);\n");
        let (text, _) = reindent("    /*\n     * x\n     */\n    if (a)\n        b();\n", 1);
        assert_eq!(text, "\t/*\n\t * x\n\t */\n\tif (a)\n\t\tb();\n");
    }

    #[test]
    fn reindent_keeps_string_continuations_and_labels() {
        let (text, _) = reindent("\n        s = \"a\\\n        b\";\n", 1);
        assert_eq!(text, "\ts = \"a\\\n        b\";\n");
        let (text, _) = reindent("\n\tif (x)\n\t\tgoto out;\nout:\n\treturn 0;\n", 1);
        assert_eq!(text, "\tif (x)\n\t\tgoto out;\nout:\n\treturn 0;\n");
        let (text, _) = reindent("\n  x = 1; \\\n", 1);
        assert_eq!(text, "\tx = 1; \\\n\n");
    }
}
