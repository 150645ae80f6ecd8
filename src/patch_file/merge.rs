//! One diff per file: a fix put together from a whole patch and the diffs of
//! single functions can change one file in several places, and a file's
//! hunks must be applied together, in the order of their lines.

use super::PatchFile;

/// `patch` with the hunks of every file diff that names the same file as
/// an earlier one moved into that one, ordered by the line they start at.
pub fn merge_same_files(mut patch: PatchFile) -> PatchFile {
    let mut merged: Vec<super::FileDiff> = Vec::with_capacity(patch.files.len());
    for file in patch.files.drain(..) {
        let same = merged
            .iter_mut()
            .find(|m| m.old_path == file.old_path && m.new_path == file.new_path);
        match same {
            Some(first) => {
                first.hunks.extend(file.hunks);
                first.hunks.sort_by_key(|h| h.old_start);
            }
            None => merged.push(file),
        }
    }
    patch.files = merged;
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch_file::parse;

    #[test]
    fn hunks_of_one_file_given_twice_are_applied_together_in_line_order() {
        let text = "--- a/f.c\n+++ b/f.c\n@@ -10,1 +10,1 @@\n-b\n+B\n\
                    --- a/g.c\n+++ b/g.c\n@@ -1,1 +1,1 @@\n-x\n+X\n\
                    --- a/f.c\n+++ b/f.c\n@@ -2,1 +2,1 @@\n-a\n+A\n";
        let patch = merge_same_files(parse(text).unwrap());
        let paths: Vec<&str> = patch.files.iter().map(|f| f.path()).collect();
        assert_eq!(paths, ["f.c", "g.c"]);
        let starts: Vec<usize> = patch.files[0].hunks.iter().map(|h| h.old_start).collect();
        assert_eq!(starts, [2, 10]);
        // Each hunk still points at the line it was written on.
        let lines: Vec<usize> = patch.files[0].hunks.iter().map(|h| h.line).collect();
        assert_eq!(lines, [13, 3]);
    }
}
