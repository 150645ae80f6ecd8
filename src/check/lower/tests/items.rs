//! The lowering's cases of objects, C names, shadows and templates, states,
//! the test block, body files, C blocks and placement.

use super::{check, spec};
use expect_test::expect;

#[test]
fn same_named_functions_get_c_names_by_file_or_position() {
    check(
        &spec(
            r#"
object vmlinux {
    replace int m_show(void *p) in "kernel/module/procfs.c" sympos 1 { return 0; }
    replace int m_show(void *p) sympos 2 { return 1; }
    replace int f(void) { return 3; }
}
object ext4 {
    replace int m_show(void *p) { return 2; }
    replace int f(void) { return 4; }
}
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            object vmlinux
              replace m_show in "kernel/module/procfs.c" sympos 1 as int livepatch_m_show_kernel_module_procfs(void *p): "return 0;"
              replace m_show sympos 2 as int livepatch_m_show_sympos_2(void *p): "return 1;"
              replace f as int livepatch_f(void): "return 3;"
            object ext4
              replace m_show as int livepatch_m_show(void *p): "return 2;"
              replace f as int livepatch_ext4_f(void): "return 4;"
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn objects_and_their_entries_are_defined_once() {
    check(
        &spec(
            r#"
object nfs-d { pre_patch { return 0; } }
object nfs_d { pre_patch { return 0; } }
object vmlinux {
    replace int f(void) { return 0; }
    replace int f(void) { return 1; }
    pre_patch { return 0; }
    pre_patch { return 1; }
    extern int x;
    extern int x;
}
"#,
        ),
        expect![[r#"
            error[KGP0011]: object `nfs_d` is defined twice
              at `nfs_d`: defined again here
              also `nfs-d`: first defined here
              help: merge the two blocks; module names with `-` and `_` are the same module
            error[KGP0011]: `f` of vmlinux is replaced twice
              at `f`: defined again here
              also `f`: first defined here
              help: keep one replacement; if the object has two functions of this name, give each its `in "FILE"` or `sympos`
            error[KGP0011]: the `pre_patch` callback of vmlinux is defined twice
              at `pre_patch`: defined again here
              also `pre_patch`: first defined here
              help: merge the two bodies into one callback
            error[KGP0011]: `x` is declared twice
              at `x`: defined again here
              also `x`: first defined here
              help: keep one declaration
        "#]],
    );
}

#[test]
fn replacements_need_a_c_name_and_a_prototype() {
    check(
        &spec(
            r#"
object vmlinux {
    replace int while(void) { return 0; }
    replace cmdline_proc_show { return 0; }
}
"#,
        ),
        expect![[r#"
            error[KGP0007]: `while` is not valid as a function name: it is a C keyword
              at `while`: a C keyword
              help: names become C identifiers: letters, digits and `_`, not starting with a digit
            error[KGP0024]: the replacement of `cmdline_proc_show` has no prototype
              at `cmdline_proc_show`: give the function's C prototype here
              help: write the prototype as in the kernel source: `replace RETURN-TYPE cmdline_proc_show(PARAMETERS) {`
        "#]],
    );
}

#[test]
fn c_names_the_module_defines_are_claimed_once() {
    check(
        &spec(
            r#"
helper int livepatch_init(void) { return 0; }
helper int counter_get(void) { return 0; }
shadow counter for struct sock { id 1 payload { int n; } }
"#,
        ),
        expect![[r#"
            error[KGP0031]: `livepatch_init` is a name the generated module uses
              at `livepatch_init`: collides with generated code
              help: rename it
            error[KGP0031]: the C name `counter_get` would be defined twice
              at `counter`: defines it again
              also `counter_get`: first defined by this
              help: rename one of them
        "#]],
    );
}

#[test]
fn a_shadow_takes_its_template_and_overrides_it() {
    check(
        &spec(
            r#"
import std/shadow_lock
shadow sock_lock for struct sock* like lock { id 0x10 gfp GFP_KERNEL }
shadow note for struct seq_file {
    id 0
    keep
    payload { char text[16]; }
}
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            include <linux/spinlock.h>
            shadow sock_lock id 16 for "struct sock *" like lock, GFP_KERNEL, freed: "spinlock_t lock;"
              ctor: "spin_lock_init(&shadow->lock);\n        return 0;"
            shadow note id 0 for "struct seq_file" like -, GFP_KERNEL, kept: "char text[16];"
            inputs spec.kgp, <std/shadow_lock>, <std/api>
        "#]],
    );
}

#[test]
fn a_template_must_exist_and_is_suggested_from_the_standard_library() {
    check(
        &spec(
            r#"
template counted { payload { int n; } }
template counted { payload { long n; } }
shadow a for struct sock like lock { id 1 }
shadow b for struct sock like countd { id 2 }
"#,
        ),
        expect![[r#"
            error[KGP0011]: template `counted` is defined twice
              at `counted`: defined again here
              also `counted`: first defined here
              help: rename one of the templates
            error[KGP0014]: no template named `lock`
              at `lock`: unknown template
              help: `lock` is in `std/shadow_lock`: add `import std/shadow_lock`
            error[KGP0014]: no template named `countd`
              at `countd`: unknown template
              help: did you mean `counted`?
        "#]],
    );
}

#[test]
fn shadows_need_an_id_and_a_payload_of_their_own() {
    check(
        &spec(
            r#"
shadow a for struct sock { id 1 payload { int n; } }
shadow b for struct sock { id 1 id 2 payload { int n; } }
shadow c for struct sock { payload { int n; } }
shadow d for struct sock { id 3 }
"#,
        ),
        expect![[r#"
            error[KGP0012]: shadow variables `b` and `a` share id 1
              at `1`: id of `b`
              also `1`: id of `a`
              help: give each shadow variable its own id
            error[KGP0009]: `id` is given twice
              at `2`: given again here
              also `1`: first given here
              help: keep one of them
            error[KGP0010]: this `shadow` block has no `id`
              at `c`: `id` is required
              help: add `id 1`
            error[KGP0010]: this `shadow` block has no `payload`
              at `d`: `payload` is required
              help: add `payload { spinlock_t lock; }`
        "#]],
    );
}

#[test]
fn states_have_an_id_from_one_and_a_32_bit_version() {
    check(
        &spec(
            r#"
object vmlinux { pre_patch { return 0; } }
state ok { id 7 version 2 }
state zero { id 0 version 1 }
state wide { id 8 version 4294967296 }
state again { id 7 version 1 }
state none { version 1 }
"#,
        ),
        expect![[r#"
            error[KGP0025]: state id 0 ends the kernel's state array
              at `0`: use an id of 1 or more
            error[KGP0025]: a state version must fit in 32 bits
              at `4294967296`: klp_state.version is an unsigned int
            error[KGP0013]: states `again` and `ok` share id 7
              at `7`: id of `again`
              also `7`: id of `ok`
              help: give each state its own id
            error[KGP0010]: this `state` block has no `id`
              at `none`: `id` is required
              help: add `id 1`
        "#]],
    );
}

#[test]
fn a_state_lowers_with_its_id_and_version() {
    check(
        &spec(
            r#"
object vmlinux { pre_patch { return 0; } }
state fix_state { id 0x5eed version 2 }
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            object vmlinux
              callback PrePatch: "return 0;"
            state fix_state id 24301 version 2
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn the_test_block_becomes_the_test_plan() {
    check(
        &spec(
            r#"
object vmlinux { pre_patch { return 0; } }
test {
    load "ext4"
    fixed "cat /proc/cmdline" contains "[1]"
    always "cat /proc/version" contains "Linux"
    dmesg loaded "pre_patch" "patching complete"
    refused "Invalid parameters"
    workload "while :; do cat /proc/cmdline; done"
}
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            object vmlinux
              callback PrePatch: "return 0;"
            test
              load ext4
              Fixed "cat /proc/cmdline" contains "[1]"
              Always "cat /proc/version" contains "Linux"
              dmesg Loaded ["pre_patch", "patching complete"]
              refused "Invalid parameters"
              workload "while :; do cat /proc/cmdline; done"
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn test_blocks_are_checked_for_what_could_never_fail() {
    check(
        &spec(
            r#"
object vmlinux { pre_patch { return 0; } }
test {
    patch_first "no-such-spec.kgp"
    fixed "" contains "x"
    always "true" exits 256 lacks ""
    setup ""
    file "run.sh"
    program "probe.txt"
    refused "a"
    refused "b"
    workload "true"
    workload "false"
}
test { load "ext4" }
"#,
        ),
        expect![[r#"
            error[KGP0018]: cannot find the spec `no-such-spec.kgp`
              at `"no-such-spec.kgp"`: named here
              help: `patch_first` names another spec, relative to this spec's directory
            error[KGP0010]: the command is empty
              at `""`: nothing to run
              help: write the shell commands to run
            error[KGP0025]: exit status 256 is out of range
              at `256`: not from 0 to 255
              help: a shell's exit status is a number from 0 to 255
            error[KGP0010]: the text that must be absent is empty
              at `""`: nothing to run or look for
              help: an empty text is in every output, so the check could never fail
            error[KGP0010]: the setup script is empty
              at `""`: nothing to run
              help: write the shell commands to run
            error[KGP0018]: cannot read guest file `run.sh`: it has no directory to be resolved against
              at `"run.sh"`: named here
              help: guest files need a spec read from a file, not from standard input
            error[KGP0007]: the program `probe.txt` is not a C file
              at `"probe.txt"`: named here
              help: a program is C source whose name ends in `.c`; copy other files with `file`
            error[KGP0009]: `refused` is given twice
              at `"b"`: given again here
              also `"a"`: first given here
              help: keep one of them
            error[KGP0009]: `workload` is given twice
              at `"false"`: given again here
              also `"true"`: first given here
              help: keep one of them
            error[KGP0011]: the spec has more than one `test` block
              at `test`: defined again here
              also `test`: first defined here
              help: merge the `test` blocks into one
        "#]],
    );
}

#[test]
fn a_body_file_needs_a_spec_read_from_a_file() {
    check(
        &spec(
            r#"
object vmlinux { replace int f(void) body "f.c" }
"#,
        ),
        expect![[r#"
            error[KGP0018]: cannot read body file `f.c`: it has no directory to be resolved against
              at `"f.c"`: named here
              help: body files need a spec read from a file, not from standard input
        "#]],
    );
}

#[test]
fn c_blocks_must_not_close_what_they_sit_in() {
    check(
        &spec(
            r#"
data { int stray; %> int more; }
object vmlinux { pre_patch { <% return 0; } }
"#,
        ),
        expect![[r#"
            error[KGP0044]: the braces of this C block do not balance as C reads them
              at `%>`: this closes a brace the block never opened
              help: write braces as `{` and `}`, balance them within the block and within each macro, and put a new function in a `helper`
            error[KGP0044]: the braces of this C block do not balance as C reads them
              at `<%`: this brace is never closed in the block
              help: write braces as `{` and `}`, balance them within the block and within each macro, and put a new function in a `helper`
        "#]],
    );
}

#[test]
fn placement_rules_cover_comments_and_api_entries() {
    check(
        &spec(
            r#"
#include <linux/slab.h>
api states since 5.5
object vmlinux { pre_patch { return 0; } }
"#,
        ),
        expect![[r#"
            warning[KGP0035]: `#include` here is a comment, not C
              at `#include`: `#` starts a comment in a spec
              help: write `include <linux/header.h>` for a header; other preprocessor lines belong in a `data { }` block
            error[KGP0030]: `api` entries belong to the standard library
              at `api states since 5.5`: not allowed in a spec
              help: the API table is `std/api`; the target's `version` selects the API
        "#]],
    );
}

#[test]
fn a_file_position_needs_kernel_facts_or_a_sympos() {
    check(
        &spec(
            r#"
object vmlinux {
    replace int m_show(void *p) in "kernel/module/procfs.c" { return 0; }
    replace int m_show(void *p) in "fs/namespace.c" sympos 2 { return 0; }
}
"#,
        ),
        expect![[r#"
            error[KGP0039]: kgpc cannot tell which `m_show` of vmlinux comes from "kernel/module/procfs.c" without the kernel's facts
              at `"kernel/module/procfs.c"`: needs the kernel's debug information
              help: fetch the kernel's facts with `kgpc kernel fetch 6.1.0-57-cloud-amd64` (or pass --vmlinux PATH, and --modules DIR for a module), or give the position with `sympos N` (`kgpc inspect m_show` lists them)
        "#]],
    );
}

#[test]
fn requirements_of_the_build_and_of_an_object_with_their_defaults() {
    check(
        &spec(
            r#"
requires CONFIG_BT
requires CONFIG_NR_CPUS=0x2000 else skip
requires CONFIG_CMDLINE="a \"b\""

object bluetooth {
    requires CONFIG_BT_BREDR=n
    requires CONFIG_BT_LE else error
    replace int f(void) { return 0; }
}
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            requires "CONFIG_BT" Enabled else Error
            requires "CONFIG_NR_CPUS" Value("0x2000") else Skip
            requires "CONFIG_CMDLINE" Value("\"a \\\"b\\\"\"") else Error
            object bluetooth
              replace f as int livepatch_f(void): "return 0;"
              requires "CONFIG_BT_BREDR" Value("n") else LeaveOut
              requires "CONFIG_BT_LE" Enabled else Error
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn an_option_is_required_once_in_each_place_the_build_and_each_object() {
    check(
        &spec(
            r#"
requires CONFIG_BT
object bluetooth {
    requires CONFIG_BT
    requires CONFIG_BT=m
    replace int f(void) { return 0; }
}
"#,
        ),
        expect![[r#"
            error[KGP0011]: `CONFIG_BT` is required twice
              at `CONFIG_BT`: defined again here
              also `CONFIG_BT`: first defined here
              help: keep one requirement of each option; a build has one value of it
        "#]],
    );
}
