//! The patched text of a file with its unchanged lines numbered as they are
//! in the original, through `#line` directives. Compiled a third time and
//! compared with the original, it tells a function that differs only because
//! lines moved (`__LINE__`, `WARN` entries, dynamic debug records) from one
//! whose code changed: `#line` changes nothing but line numbers.

use similar::{DiffOp, TextDiff};

/// `patched` with `#line` directives before each unchanged line whose number
/// differs from the original's. A directive never goes after a line that
/// continues with a backslash; it waits for the first line after the
/// continuation, so those lines keep the patched numbers (which can only
/// leave a difference, never hide one).
pub fn renumbered(original: &str, patched: &str) -> String {
    let numbers = original_numbers(original, patched);
    let mut out = String::with_capacity(patched.len() + 64);
    // The number the compiler gives the next line.
    let mut next = 1;
    let mut continued = false;
    for (line, number) in patched.split_inclusive('\n').zip(numbers) {
        if let Some(number) = number {
            if number != next && !continued {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("#line {number}\n"));
                next = number;
            }
        }
        out.push_str(line);
        next += 1;
        continued = line.trim_end_matches(['\n', '\r']).ends_with('\\');
    }
    out
}

/// For each line of `patched`, its number in `original` if it is one of the
/// lines the two have in common.
fn original_numbers(original: &str, patched: &str) -> Vec<Option<usize>> {
    let count = patched.split_inclusive('\n').count();
    let mut numbers = vec![None; count];
    let diff = TextDiff::from_lines(original, patched);
    for op in diff.ops() {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = *op
        {
            for k in 0..len {
                if let Some(slot) = numbers.get_mut(new_index + k) {
                    *slot = Some(old_index + k + 1);
                }
            }
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_lines_after_a_change_get_their_original_numbers() {
        let original = "a\nb\nc\nd\n";
        let patched = "a\nnew\nnewer\nb\nc\nd\n";
        assert_eq!(
            renumbered(original, patched),
            "a\nnew\nnewer\n#line 2\nb\nc\nd\n"
        );
        let shorter = "a\nd\n";
        assert_eq!(renumbered(original, shorter), "a\n#line 4\nd\n");
    }

    #[test]
    fn an_unchanged_text_is_not_touched() {
        let text = "int a;\nint b;\n";
        assert_eq!(renumbered(text, text), text);
    }

    #[test]
    fn no_directive_goes_inside_a_continued_line() {
        let original = "#define X \\\n\t1\nint a;\n";
        let patched = "#define X \\\n\t2\n\t/**/\nint a;\n";
        // Line 3 of the original is line 4 of the patched text.
        assert_eq!(
            renumbered(original, patched),
            "#define X \\\n\t2\n\t/**/\n#line 3\nint a;\n"
        );
        let moved = "#define Y \\\n\t1\nint a;\n";
        let out = renumbered(original, moved);
        assert!(!out.contains("\\\n#line"), "{out}");
    }

    #[test]
    fn a_last_line_without_a_line_break_is_kept() {
        assert_eq!(renumbered("a\nb", "x\ny\na\nb"), "x\ny\n#line 1\na\nb");
    }
}
