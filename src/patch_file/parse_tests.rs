//! Exact tests of reading patch files: a stable backport mail, a bare
//! `git diff`, each error, and mutated patches that must never panic.

use super::*;
use crate::patch_file::{HunkLine, KpatchKind, MailHeader};

/// A 6.1 stable backport as `git format-patch` writes it, modelled on Greg
/// Kroah-Hartman's stable queue.
pub(crate) const BACKPORT: &str = "\
From 3c1d2a8f4e5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d Mon Sep 17 00:00:00 2001
From: =?UTF-8?q?J=C3=B6rg=20Hacker?= <jorg@example.org>
Date: Tue, 12 Mar 2024 10:21:07 +0100
Subject: [PATCH 6.1 12/34] proc: print the command line with a trailing
 newline only once
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

commit 0123456789abcdef0123456789abcdef01234567 upstream.

cmdline_proc_show() printed the newline with a second call, which a
reader racing with an update could see apart (CVE-2024-99999).

Fixes: e1b2c3d4e5f6 (\"proc: add /proc/cmdline\")
Link: https://lore.kernel.org/r/20240312102107.1234-1-jorg@example.org
Closes: https://bugzilla.kernel.org/show_bug.cgi?id=123456
Reported-by: Ann Tester <ann@example.org>
Cc: stable@vger.kernel.org
Signed-off-by: J\u{f6}rg Hacker <jorg@example.org>
Signed-off-by: Greg Kroah-Hartman <gregkh@linuxfoundation.org>
---
 fs/proc/cmdline.c | 3 +--
 1 file changed, 1 insertion(+), 2 deletions(-)

diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
index 1234567..89abcde 100644
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -6,8 +6,7 @@
 
 static int cmdline_proc_show(struct seq_file *m, void *v)
 {
-	seq_puts(m, saved_command_line);
-	seq_putc(m, '\\n');
+	seq_printf(m, \"%s\\n\", saved_command_line);
 	return 0;
 }
 
-- 
2.39.2

";

#[test]
fn a_stable_backport_mail_is_read_whole() {
    let patch = parse(BACKPORT).expect("the backport parses");
    let h = &patch.header;
    assert_eq!(
        h.commit.as_deref(),
        Some("3c1d2a8f4e5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d")
    );
    assert_eq!(
        h.upstream_commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(h.author.as_deref(), Some("Jörg Hacker <jorg@example.org>"));
    assert_eq!(h.date.as_deref(), Some("Tue, 12 Mar 2024 10:21:07 +0100"));
    assert_eq!(
        h.subject.as_deref(),
        Some("proc: print the command line with a trailing newline only once")
    );
    assert!(h.message.starts_with("commit 0123456789abcdef"));
    assert!(h
        .message
        .ends_with("Signed-off-by: Greg Kroah-Hartman <gregkh@linuxfoundation.org>"));
    let tags: Vec<(&str, usize)> = h.tags.iter().map(|t| (t.key.as_str(), t.line)).collect();
    assert_eq!(
        tags,
        [
            ("Fixes", 14),
            ("Link", 15),
            ("Closes", 16),
            ("Reported-by", 17),
            ("Cc", 18),
            ("Signed-off-by", 19),
            ("Signed-off-by", 20)
        ]
    );
    assert_eq!(
        h.tag_values("fixes").collect::<Vec<_>>(),
        ["e1b2c3d4e5f6 (\"proc: add /proc/cmdline\")"]
    );
    assert_eq!(h.cves, ["CVE-2024-99999"]);
    assert_eq!(patch.files.len(), 1);
    let file = &patch.files[0];
    assert_eq!(file.old_path.as_deref(), Some("fs/proc/cmdline.c"));
    assert_eq!(file.new_path.as_deref(), Some("fs/proc/cmdline.c"));
    assert_eq!(file.line, 27);
    let hunk = &file.hunks[0];
    assert_eq!(
        (
            hunk.old_start,
            hunk.old_len,
            hunk.new_start,
            hunk.new_len,
            hunk.line
        ),
        (6, 8, 6, 7, 29)
    );
    assert_eq!(hunk.section, "");
    assert_eq!(hunk.lines[0], HunkLine::Context(String::new()));
    assert_eq!(
        hunk.lines[3],
        HunkLine::Remove("\tseq_puts(m, saved_command_line);".into())
    );
    assert_eq!(
        hunk.lines[5],
        HunkLine::Add("\tseq_printf(m, \"%s\\n\", saved_command_line);".into())
    );
    assert!(patch.kpatch.is_empty());
}

#[test]
fn a_bare_git_diff_with_a_new_a_deleted_and_a_renamed_file_parses() {
    let text = "\
diff --git a/lib/new.c b/lib/new.c
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/lib/new.c
@@ -0,0 +1,2 @@
+#include \"kpatch-macros.h\"
+KPATCH_POST_PATCH_CALLBACK(post_patch);
diff --git a/lib/old.c b/lib/old.c
deleted file mode 100644
index e69de29..0000000
--- a/lib/old.c
+++ /dev/null
@@ -1 +0,0 @@
-int old;
diff --git a/lib/a.c b/lib/b.c
similarity index 100%
rename from lib/a.c
rename to lib/b.c
";
    let patch = parse(text).expect("the diff parses");
    assert_eq!(patch.header, MailHeader::default());
    let paths: Vec<(Option<&str>, Option<&str>, usize)> = patch
        .files
        .iter()
        .map(|f| (f.old_path.as_deref(), f.new_path.as_deref(), f.line))
        .collect();
    assert_eq!(
        paths,
        [
            (None, Some("lib/new.c"), 4),
            (Some("lib/old.c"), None, 12),
            (Some("lib/a.c"), Some("lib/b.c"), 16)
        ]
    );
    assert_eq!(
        (
            patch.files[1].hunks[0].old_len,
            patch.files[1].hunks[0].new_len
        ),
        (1, 0)
    );
    let kinds: Vec<(KpatchKind, &str, usize)> = patch
        .kpatch
        .iter()
        .map(|m| (m.kind, m.argument.as_str(), m.line))
        .collect();
    assert_eq!(
        kinds,
        [
            (KpatchKind::Include, "", 7),
            (KpatchKind::PostPatchCallback, "post_patch", 8)
        ]
    );
}

#[test]
fn a_plain_diff_u_keeps_its_paths_and_drops_timestamps() {
    let text = "--- x.c.orig\t2024-03-12 10:00:00.000000000 +0100\n+++ x.c\t2024-03-12 10:01:00.000000000 +0100\n@@ -1 +1 @@ f(void)\n-a\n+b\n";
    let patch = parse(text).expect("the diff parses");
    assert_eq!(patch.files[0].old_path.as_deref(), Some("x.c.orig"));
    assert_eq!(patch.files[0].new_path.as_deref(), Some("x.c"));
    assert_eq!(patch.files[0].hunks[0].section, "f(void)");
    let git_like =
        parse("--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1 +1 @@\n-a\n+b\n").expect("the diff parses");
    assert_eq!(git_like.files[0].old_path.as_deref(), Some("fs/x.c"));
    let one_side =
        parse("--- a/fs/x.c\n+++ fs/x.c\n@@ -1 +1 @@\n-a\n+b\n").expect("the diff parses");
    assert_eq!(one_side.files[0].old_path.as_deref(), Some("a/fs/x.c"));
}

/// The errors of a text, as (line, the start of the message).
fn errors(text: &str) -> Vec<(usize, String)> {
    parse(text)
        .expect_err("the patch is refused")
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect()
}

const HEAD: &str = "--- a/x.c\n+++ b/x.c\n";

#[test]
fn each_malformed_patch_is_an_error_at_its_line() {
    let counts = errors(&format!("{HEAD}@@ -1,3 +1,3 @@\n a\n-b\n+c\n"));
    assert_eq!(
        counts,
        [(
            3,
            "the hunk's `@@` line counts 3 old and 3 new lines, but it holds 2 and 2".to_string()
        )]
    );
    let beyond = errors(&format!("{HEAD}@@ -1 +1 @@\n-a\n+b\n+c\n"));
    assert_eq!(
        beyond,
        [(
            6,
            "a line of a hunk beyond the line counts of its `@@` line".to_string()
        )]
    );
    let trailing = errors(&format!("{HEAD}@@ -1 +1 @@\n-a\n+b\nsome words\n"));
    assert_eq!(
        trailing,
        [(
            6,
            "text after the last hunk that is neither a file's diff nor git's signature"
                .to_string()
        )]
    );
    let no_newline = errors(&format!(
        "{HEAD}@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
    ));
    assert_eq!(no_newline[0].0, 5);
    assert!(no_newline[0]
        .1
        .starts_with("`\\ No newline at end of file`"));
    let crlf = errors(&format!("{HEAD}@@ -1 +1 @@\r\n-a\r\n+b\r\n"));
    assert_eq!(
        crlf,
        [(3, "the patch has CRLF (\\r\\n) line ends".to_string())]
    );
    let binary =
        errors("diff --git a/x.bin b/x.bin\nindex 1..2 100644\nGIT binary patch\nliteral 3\n");
    assert_eq!(
        binary,
        [(
            3,
            "a binary patch: kgpc applies only text diffs of C source".to_string()
        )]
    );
    let climbing = errors("--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n");
    assert_eq!(
        climbing,
        [(
            1,
            "the path `../../etc/passwd` leaves the kernel's source tree".to_string()
        )]
    );
    let absolute = errors("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n");
    assert_eq!(
        absolute[0].1,
        "the path `/etc/passwd` leaves the kernel's source tree"
    );
    let nothing = errors("just a message\n");
    assert_eq!(
        nothing[0].1,
        "the file holds no diff: no `--- FILE` and `+++ FILE` lines"
    );
}

#[test]
fn several_patches_in_one_mail_are_refused_with_what_to_do() {
    let second = BACKPORT.replace("3c1d2a8f", "4d2e3b90");
    let both = format!("{BACKPORT}{second}");
    let refused = parse(&both).expect_err("two patches are refused");
    let first_line_of_second = BACKPORT.lines().count() + 1;
    assert_eq!(refused[0].line, first_line_of_second);
    assert_eq!(
        refused[0].message,
        "the file holds several patches; this line starts another"
    );
    assert!(refused[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("one fix per spec") && h.contains("squash")));
}

/// Mutants of the real-looking patches: every prefix, every line deleted or
/// duplicated, and bytes replaced. None may panic; each either parses or
/// gives errors whose lines are in the file.
#[test]
fn mutated_patches_never_panic() {
    for base in [
        BACKPORT,
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@ é\n é\n-b\n+c\n",
    ] {
        let lines: Vec<&str> = base.split_inclusive('\n').collect();
        let mut mutants: Vec<String> = Vec::new();
        for (i, _) in base.char_indices() {
            mutants.push(base[..i].to_string());
        }
        for i in 0..lines.len() {
            let mut deleted = lines.clone();
            deleted.remove(i);
            mutants.push(deleted.concat());
            let mut doubled = lines.clone();
            doubled.insert(i, lines[i]);
            mutants.push(doubled.concat());
        }
        for (i, c) in base.char_indices().step_by(7) {
            for replacement in ["@", "-", "+", " ", "\n", "\\", "\r", "\"", "é"] {
                mutants.push(format!(
                    "{}{replacement}{}",
                    &base[..i],
                    &base[i + c.len_utf8()..]
                ));
            }
        }
        for mutant in &mutants {
            let total = mutant.split('\n').count().max(1);
            match parse(mutant) {
                Ok(patch) => {
                    for file in &patch.files {
                        for hunk in &file.hunks {
                            assert_eq!(hunk.old_lines().count(), hunk.old_len, "{mutant:?}");
                            assert_eq!(hunk.new_lines().count(), hunk.new_len, "{mutant:?}");
                            let _ = crate::patch_file::apply("a\nb\n", file);
                        }
                    }
                }
                Err(errors) => {
                    assert!(!errors.is_empty());
                    assert!(
                        errors.iter().all(|e| e.line >= 1 && e.line <= total),
                        "{mutant:?}: {errors:?}"
                    );
                }
            }
        }
    }
}
