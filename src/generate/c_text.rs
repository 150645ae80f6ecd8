//! Turning spec text into C text: escaping and indentation.

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
            c => out.push(c),
        }
    }
    out
}

/// Makes text safe inside a `/* ... */` comment on one line.
pub fn c_comment(text: &str) -> String {
    text.replace("*/", "* /")
        .replace("/*", "/ *")
        .replace(['\n', '\r'], " ")
}

/// Re-indents a block of C: strips the indentation common to its lines,
/// indents each line by `depth` tabs, and writes each level of the block's
/// own indentation as a tab. A block indented in steps of two or four spaces,
/// as specs often are, comes out indented with tabs like kernel code.
///
/// Blank lines at the start and end are dropped. Returns the text and how
/// many lines were dropped at the start, which `#line` directives need.
pub fn reindent(text: &str, depth: usize) -> (String, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let Some(first) = first else {
        return (String::new(), 0);
    };
    let last = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .unwrap_or(first);
    let body = &lines[first..=last];
    let width = |line: &str| -> usize {
        let mut w = 0;
        for c in line.chars() {
            match c {
                ' ' => w += 1,
                '\t' => w = (w / 8 + 1) * 8,
                _ => break,
            }
        }
        w
    };
    let common = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| width(l))
        .min()
        .unwrap_or(0);
    // Continuation lines of block comments (` * ...`) do not set the step.
    let step = body
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('*'))
        .map(|l| width(l) - common)
        .filter(|w| *w > 0)
        .min()
        .unwrap_or(8);
    let unit = if step == 2 || step == 4 { step } else { 8 };
    let mut out = String::new();
    for line in body {
        let trimmed = line.trim_start_matches([' ', '\t']).trim_end();
        if trimmed.is_empty() {
            out.push('\n');
            continue;
        }
        let indent = width(line) - common;
        out.push_str(&"\t".repeat(depth + indent / unit));
        out.push_str(&" ".repeat(indent % unit));
        out.push_str(trimmed);
        out.push('\n');
    }
    (out, first)
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
}
