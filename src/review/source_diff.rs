//! A unified diff of a function as the target has it and as a fix makes it,
//! for `kgpc review`: the hunk headers count lines from where each text
//! starts in its file, so they name the file's own lines.

use similar::TextDiff;
use std::fmt::Write;
use std::time::Duration;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// How long the search for the smallest diff may take; after that, what is
/// left is shown as replaced lines, so no text makes the review wait.
const SEARCH_TIME: Duration = Duration::from_secs(1);

/// The unified diff from `original` to `patched`, whose first lines are
/// lines `first_line_original` and `first_line_patched` (1-based) of their
/// files, labelled `original_label` and `patched_label`; empty when the
/// texts are the same.
pub fn unified_diff(
    original: &str,
    patched: &str,
    original_label: &str,
    patched_label: &str,
    first_line_original: usize,
    first_line_patched: usize,
) -> String {
    let diff = TextDiff::configure()
        .timeout(SEARCH_TIME)
        .diff_lines(original, patched);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        if out.is_empty() {
            let _ = writeln!(out, "--- {original_label}\n+++ {patched_label}");
        }
        let (Some(first), Some(last)) = (hunk.ops().first(), hunk.ops().last()) else {
            continue;
        };
        let old = range(
            first.old_range().start,
            last.old_range().end,
            first_line_original,
        );
        let new = range(
            first.new_range().start,
            last.new_range().end,
            first_line_patched,
        );
        let _ = writeln!(out, "@@ -{old} +{new} @@");
        // similar writes the hunk's header on its first line and then its lines.
        let body = hunk.to_string();
        out.push_str(body.split_once('\n').map_or("", |(_, lines)| lines));
    }
    out
}

/// A hunk's range of lines `start..end` (0-based in the text) as a unified
/// diff writes it, in the lines of a file where the text starts at `first_line`:
/// `N` for one line, `N,LEN` otherwise, and the line before for an empty range.
fn range(start: usize, end: usize, first_line: usize) -> String {
    let len = end.saturating_sub(start);
    let line = first_line.max(1) + start;
    match len {
        1 => line.to_string(),
        0 => format!("{},0", line - 1),
        _ => format!("{line},{len}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "static int f(int a)\n{\n\tint b = a;\n\n\tb += 1;\n\tb += 2;\n\
                            \tb += 3;\n\tb += 4;\n\tb += 5;\n\treturn b;\n}\n";

    #[test]
    fn hunk_headers_count_from_where_the_functions_start() {
        let patched = ORIGINAL.replace("\tb += 4;\n", "\tif (b > 9)\n\t\treturn 9;\n\tb += 4;\n");
        let diff = unified_diff(ORIGINAL, &patched, "a/kernel/f.c", "b/kernel/f.c", 120, 118);
        assert_eq!(
            diff,
            "--- a/kernel/f.c\n+++ b/kernel/f.c\n@@ -124,6 +122,8 @@\n \tb += 1;\n \tb += 2;\n \tb += 3;\n\
             +\tif (b > 9)\n+\t\treturn 9;\n \tb += 4;\n \tb += 5;\n \treturn b;\n"
        );
    }

    #[test]
    fn distant_changes_are_separate_hunks() {
        let patched = ORIGINAL
            .replace("static int f", "static long f")
            .replace("return b;", "return b * 2;");
        let diff = unified_diff(ORIGINAL, &patched, "old", "new", 10, 10);
        assert_eq!(
            diff,
            "--- old\n+++ new\n@@ -10,4 +10,4 @@\n-static int f(int a)\n+static long f(int a)\n \
             {\n \tint b = a;\n \n@@ -16,5 +16,5 @@\n \tb += 3;\n \tb += 4;\n \tb += 5;\n\
             -\treturn b;\n+\treturn b * 2;\n }\n"
        );
    }

    #[test]
    fn removed_lines_and_a_missing_last_newline() {
        let diff = unified_diff("a\nb\nc\n", "a\nc", "x", "y", 1, 1);
        assert_eq!(
            diff,
            "--- x\n+++ y\n@@ -1,3 +1,2 @@\n a\n-b\n-c\n+c\n\\ No newline at end of file\n"
        );
        assert_eq!(
            unified_diff("a\n", "a\nb\n", "x", "y", 7, 7),
            "--- x\n+++ y\n@@ -7 +7,2 @@\n a\n+b\n"
        );
        assert_eq!(
            unified_diff("", "b\n", "x", "y", 7, 7),
            "--- x\n+++ y\n@@ -6,0 +7 @@\n+b\n"
        );
    }

    #[test]
    fn texts_with_nothing_in_common_are_diffed_in_bounded_time() {
        let original: String = (0..100_000).map(|n| format!("a{n}\n")).collect();
        let patched: String = (0..100_000).map(|n| format!("b{}\n", n % 7)).collect();
        let started = std::time::Instant::now();
        let diff = unified_diff(&original, &patched, "x", "y", 1, 1);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "took {:?}",
            started.elapsed()
        );
        assert!(diff.starts_with("--- x\n+++ y\n@@ -1,100000 +1,100000 @@\n"));
        assert_eq!(diff.lines().filter(|l| l.starts_with('-')).count(), 100_001);
    }

    #[test]
    fn the_same_texts_have_no_diff() {
        assert_eq!(unified_diff(ORIGINAL, ORIGINAL, "a", "b", 1, 1), "");
    }
}
