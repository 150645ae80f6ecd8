//! Exact tests of applying hunks: at the stated place, moved, with fuzz 1
//! and 2, failures with the nearest line, new and deleted files, a last line
//! without a newline and CRLF line ends; and a diff against the target's
//! real `fs/proc/cmdline.c`.

use super::*;
use crate::patch_file::parse;

/// The one file of a diff.
fn diff(text: &str) -> FileDiff {
    let mut patch = parse(text).expect("the diff parses");
    patch.files.remove(0)
}

/// Ten numbered lines, `1` to `10`.
fn ten() -> String {
    (1..=10).map(|n| format!("{n}\n")).collect()
}

const CHANGE_FIVE: &str = "--- a/f\n+++ b/f\n@@ -3,5 +3,5 @@\n 3\n 4\n-5\n+five\n 6\n 7\n";

#[test]
fn a_hunk_applies_where_it_says() {
    let applied = apply(&ten(), &diff(CHANGE_FIVE)).expect("it applies");
    assert_eq!(applied.text, ten().replace("5\n", "five\n"));
    assert_eq!(
        applied.hunks,
        [AppliedHunk {
            old_lines: 3..8,
            new_lines: 3..8,
            offset: 0,
            fuzz: 0
        }]
    );
}

#[test]
fn a_hunk_applies_at_an_offset_and_the_next_hunk_starts_from_there() {
    let original = format!("a\nb\nc\n{}", ten());
    let two = "--- a/f\n+++ b/f\n@@ -3,3 +3,4 @@\n 3\n-4\n+four\n+FOUR\n 5\n@@ -8,3 +9,3 @@\n 8\n-9\n+nine\n 10\n";
    let applied = apply(&original, &diff(two)).expect("it applies");
    assert_eq!(
        applied.text,
        format!("a\nb\nc\n{}", ten())
            .replace("4\n", "four\nFOUR\n")
            .replace("9\n", "nine\n")
    );
    let places: Vec<(Range<usize>, Range<usize>, isize, usize)> = applied
        .hunks
        .iter()
        .map(|h| (h.old_lines.clone(), h.new_lines.clone(), h.offset, h.fuzz))
        .collect();
    assert_eq!(places, [(6..9, 6..10, 3, 0), (11..14, 12..15, 3, 0)]);
}

#[test]
fn fuzz_one_and_two_ignore_the_outer_context_lines() {
    let first_differs = ten().replace("3\n", "three\n");
    let applied = apply(&first_differs, &diff(CHANGE_FIVE)).expect("fuzz 1 applies it");
    assert_eq!(applied.text, first_differs.replace("5\n", "five\n"));
    assert_eq!(
        (applied.hunks[0].fuzz, applied.hunks[0].old_lines.clone()),
        (1, 4..7)
    );
    let two_differ = ten().replace("3\n", "three\n").replace("4\n", "four\n");
    let applied = apply(&two_differ, &diff(CHANGE_FIVE)).expect("fuzz 2 applies it");
    assert_eq!(applied.text, two_differ.replace("5\n", "five\n"));
    assert_eq!(
        (applied.hunks[0].fuzz, applied.hunks[0].old_lines.clone()),
        (2, 5..6)
    );
}

#[test]
fn every_failing_hunk_is_reported_with_the_nearest_line() {
    let original = ten().replace("5\n", "FIVE\n").replace("9\n", "NINE\n");
    let two = "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n@@ -8,3 +8,3 @@\n 8\n-9\n+nine\n 10\n";
    let failures = apply(&original, &diff(two)).expect_err("neither applies");
    let summary: Vec<(usize, usize, Option<usize>)> = failures
        .iter()
        .map(|f| (f.hunk, f.line, f.nearest))
        .collect();
    assert_eq!(summary, [(1, 3, Some(2)), (2, 12, Some(8))]);
    assert_eq!(
        failures[0].reason,
        "its 7 context and removed lines match neither at line 2 (where the hunk says, moved by the \
         hunks before it) nor at any other line of the file, even with fuzz 2"
    );
}

#[test]
fn a_new_file_applies_to_nothing_and_a_deleted_file_leaves_nothing() {
    let new = diff("--- /dev/null\n+++ b/lib/new.c\n@@ -0,0 +1,2 @@\n+int a;\n+int b;\n");
    assert_eq!(
        apply("", &new).map(|a| a.text),
        Ok("int a;\nint b;\n".to_string())
    );
    let exists = apply("int a;\n", &new).expect_err("the file is there");
    assert_eq!(
        exists[0].reason,
        "the fix creates this file, but the target's source has it already"
    );
    let deleted = diff("--- a/lib/old.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-int a;\n-int b;\n");
    assert_eq!(
        apply("int a;\nint b;\n", &deleted).map(|a| a.text),
        Ok(String::new())
    );
}

#[test]
fn a_last_line_without_a_newline_stays_without_one() {
    let original = "1\n2\n3";
    let after_last = diff("--- a/f\n+++ b/f\n@@ -2,2 +2,3 @@\n 2\n 3\n+4\n");
    assert_eq!(
        apply(original, &after_last).map(|a| a.text),
        Ok("1\n2\n3\n4".to_string())
    );
    let before = diff("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n");
    assert_eq!(
        apply(original, &before).map(|a| a.text),
        Ok("one\n2\n3".to_string())
    );
}

#[test]
fn crlf_line_ends_of_the_original_are_kept() {
    let original = ten().replace('\n', "\r\n");
    let applied = apply(&original, &diff(CHANGE_FIVE)).expect("it applies");
    assert_eq!(applied.text, original.replace("5\r\n", "five\r\n"));
}

/// The target's real `fs/proc/cmdline.c`, from the cached source of Debian's 6.1 kernel.
#[test]
fn a_fix_applies_to_the_real_cmdline_c_and_changes_exactly_its_lines() {
    let release = "6.1.0-57-cloud-amd64";
    let cache = crate::fetch::cache_dir();
    let tree = crate::fetch::source_ready(&cache, release).unwrap_or_else(|| {
        panic!("the source of {release} is not in the kgpc cache: run `kgpc kernel fetch --source {release}`")
    });
    let original =
        crate::read::read_text(&tree.dir.join("fs/proc/cmdline.c")).expect("the file is read");
    let patch = parse(crate::patch_file::parse::tests::BACKPORT).expect("the backport parses");
    let applied = apply(&original, &patch.files[0]).expect("the fix applies to the target");
    let before: Vec<&str> = original.lines().collect();
    let after: Vec<&str> = applied.text.lines().collect();
    assert_eq!(after.len(), before.len() - 1);
    assert_eq!(after[..8], before[..8]);
    assert_eq!(after[8], "\tseq_printf(m, \"%s\\n\", saved_command_line);");
    assert_eq!(after[9..], before[10..]);
    assert_eq!(
        applied.hunks,
        [AppliedHunk {
            old_lines: 6..14,
            new_lines: 6..13,
            offset: 0,
            fuzz: 0
        }]
    );
}
