//! The spec written for a stable backport and for a kpatch-build patch,
//! exactly, and laid out as `kgpc fmt` lays it out.

use super::*;
use crate::patch_file::parse;
use crate::patch_file::parse::tests::BACKPORT;

fn written(text: &str, fix_path: &str) -> String {
    let patch = parse(text).expect("the patch parses");
    write_spec(&NewSpec {
        patch: &patch,
        fix_path,
        release: &release_pattern("6.1.0-57-cloud-amd64"),
        arch: release_arch("6.1.0-57-cloud-amd64"),
        inline: None,
    })
}

/// Formatting the text changes nothing, and it parses without a diagnostic.
fn assert_canonical(spec: &str) {
    let (ast, diagnostics) = crate::syntax::parse(crate::source::FileId(0), spec);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(crate::format::format(&ast, spec), spec);
}

#[test]
fn a_backport_becomes_a_spec_with_its_references() {
    let spec = written(BACKPORT, "fixes/0012-proc-cmdline.patch");
    let expected = r#"# Written by `kgpc new --from-patch` from fixes/0012-proc-cmdline.patch.
# Date: Tue, 12 Mar 2024 10:21:07 +0100
# Fixes: e1b2c3d4e5f6 ("proc: add /proc/cmdline")
patch proc-print-the-command-line-with-a-trailing {
    description "proc: print the command line with a trailing newline only once"
    reference commit "0123456789abcdef0123456789abcdef01234567"
    reference cve "CVE-2024-99999"
    reference url "https://lore.kernel.org/r/20240312102107.1234-1-jorg@example.org"
    reference url "https://bugzilla.kernel.org/show_bug.cgi?id=123456"
    author "Jörg Hacker <jorg@example.org>"
}

target {
    release "6.1.0-*-cloud-amd64"
    arch x86_64
}

fix "fixes/0012-proc-cmdline.patch"

# What `kgpc test` proves in the target kernel (docs/language.md, "test"):
# fill in a command whose output the fix changes, then remove the `#`.
test {
    # fixed "COMMAND" contains "TEXT"
    # always "cat /proc/version" contains "Linux"
}
"#;
    assert_eq!(spec, expected);
    assert_canonical(&spec);
}

#[test]
fn kpatch_macros_are_said_to_be_read_as_written_or_refused() {
    let diff = "\
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -1,2 +1,7 @@
 // SPDX-License-Identifier: GPL-2.0
+#include \"kpatch-macros.h\"
+static int pre(patch_object *obj) { return 0; }
+KPATCH_PRE_PATCH_CALLBACK(pre);
+KPATCH_POST_UNPATCH_CALLBACK(post);
+KPATCH_IGNORE_FUNCTION(proc_cmdline_init);
 #include <linux/fs.h>
";
    let spec = written(diff, "0001-Show-\"x\".diff");
    let expected = r#"# Written by `kgpc new --from-patch` from 0001-Show-"x".diff.
patch show-x {
    description "The fix in 0001-Show-\"x\".diff"
}

target {
    release "6.1.0-*-cloud-amd64"
    arch x86_64
}

# The fix was written for kpatch-build, with its kpatch-macros.h. kgpc reads
# the macros as they are written:
# - #include "kpatch-macros.h" (line 5 of the patch) gives the callbacks' `patch_object` type.
# - KPATCH_PRE_PATCH_CALLBACK(pre) (line 7 of the patch) is the pre_patch callback of the object fs/proc/cmdline.c is built into.
# - KPATCH_POST_UNPATCH_CALLBACK(post) (line 8 of the patch) is the post_unpatch callback of the object fs/proc/cmdline.c is built into.
# - KPATCH_IGNORE_FUNCTION(proc_cmdline_init) (line 9 of the patch) has no equivalent, and `kgpc check` refuses it: kgpc cannot leave a changed function out: drop the macro, and the change to the function from the patch.
fix "0001-Show-\"x\".diff"

# What `kgpc test` proves in the target kernel (docs/language.md, "test"):
# fill in a command whose output the fix changes, then remove the `#`.
test {
    # fixed "COMMAND" contains "TEXT"
    # always "cat /proc/version" contains "Linux"
}
"#;
    assert_eq!(spec, expected);
    assert_canonical(&spec);
}

#[test]
fn names_are_kebab_case_within_the_limit_and_start_with_a_letter() {
    assert_eq!(
        patch_name(Some("[media] vb2: fix a NULL deref"), "x.patch"),
        "media-vb2-fix-a-null-deref"
    );
    assert_eq!(patch_name(Some("9p: fix"), "x.patch"), "fix-9p-fix");
    assert_eq!(
        patch_name(None, "dir/0003-net-sched-fix.patch"),
        "net-sched-fix"
    );
    assert_eq!(patch_name(Some("ÄÖÜ"), "---.patch"), "fix");
    let long = patch_name(Some(&"word ".repeat(20)), "x.patch");
    assert_eq!(long, "word-word-word-word-word-word-word-word-word");
    let unbroken = patch_name(Some(&"a".repeat(60)), "x.patch");
    assert_eq!(unbroken.len(), 45);
    assert_eq!(
        release_pattern("6.1.0-57-cloud-amd64"),
        "6.1.0-*-cloud-amd64"
    );
    assert_eq!(release_pattern("6.8.0-generic"), "6.8.0-generic");
    assert_eq!(release_arch("6.1.0-57-arm64"), "arm64");
}
