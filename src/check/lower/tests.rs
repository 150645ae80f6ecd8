//! Data-driven tests of the lowering: each case is a spec held in memory and
//! the expected text of what lowering made of it, either its diagnostics
//! (code, message and the text each label points at) or, when there was no
//! error, a short dump of the model. `UPDATE_EXPECT=1 cargo test` rewrites
//! the expectations; read what it wrote before keeping it.

use super::{lower, LowerOptions};
use crate::check::model::{Model, Object, Shadow, TestPlan};
use crate::check::release::ReleaseRequest;
use crate::diagnostic::{Diagnostic, Diagnostics, Label, Severity};
use crate::load::{load, Input};
use crate::scope::ReadScope;
use crate::source::SourceMap;
use expect_test::{expect, Expect};
use std::fmt::Write;

/// Loads and lowers `spec` as `kgpc check --no-kernel-checks` does, and
/// compares the rendered result with `expected`.
fn check(spec: &str, expected: Expect) {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    let scope = ReadScope::new(None, &[]).expect("the scope of standard input");
    let input = Input::Text {
        name: "spec.kgp",
        text: spec.to_string(),
    };
    let loaded = load(input, scope, &mut sources, &mut diagnostics).expect("text always loads");
    let options = LowerOptions {
        release: ReleaseRequest::default(),
        prototypes_from_kernel: false,
    };
    let model = lower(&loaded, &mut sources, &options, &mut diagnostics);
    diagnostics.sort();
    let mut out = String::new();
    for d in diagnostics.iter() {
        render_diagnostic(&mut out, &sources, d);
    }
    if let (Some(model), false) = (model, diagnostics.has_errors()) {
        dump_model(&mut out, &model);
    }
    expected.assert_eq(&out);
}

fn render_diagnostic(out: &mut String, sources: &SourceMap, d: &Diagnostic) {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let _ = writeln!(out, "{severity}[{}]: {}", d.code.as_str(), d.message);
    let label = |out: &mut String, how: &str, l: &Label| {
        let text = &sources.text(l.span.file)[l.span.range()];
        let first = text.lines().next().unwrap_or("");
        let more = if first.len() < text.trim_end().len() {
            "…"
        } else {
            ""
        };
        let _ = writeln!(out, "  {how} `{first}{more}`: {}", l.message);
    };
    if let Some(primary) = &d.primary {
        label(out, "at", primary);
    }
    for secondary in &d.secondary {
        label(out, "also", secondary);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  help: {help}");
    }
}

/// The parts of the model the generator and the review rely on most.
fn dump_model(out: &mut String, model: &Model) {
    let patch = &model.patch;
    let cumulative = if patch.cumulative { " cumulative" } else { "" };
    let _ = writeln!(
        out,
        "patch {} module {} ({}){cumulative}",
        patch.name, patch.module_name, patch.kernel_name
    );
    if let Some(description) = &patch.description {
        let _ = writeln!(out, "  description {description:?}");
    }
    for r in &patch.references {
        let _ = writeln!(out, "  reference {} {}", r.kind, r.value);
    }
    for author in &patch.authors {
        let _ = writeln!(out, "  author {author}");
    }
    let target = &model.target;
    let _ = writeln!(
        out,
        "target {} ({}) {} Linux {}",
        target.release, target.release_source, target.arch, target.version
    );
    if let Some(build_id) = &target.build_id {
        let _ = writeln!(out, "  build id {build_id}");
    }
    for include in &model.includes {
        let _ = writeln!(out, "include {include}");
    }
    for data in &model.data {
        let _ = writeln!(out, "data at line {}: {:?}", data.line, data.text.trim());
    }
    for h in &model.helpers {
        let _ = writeln!(out, "helper {} {}{}", h.return_type, h.c_name, h.params);
    }
    model.objects.iter().for_each(|o| dump_object(out, o));
    model.shadows.iter().for_each(|s| dump_shadow(out, s));
    for s in &model.states {
        let _ = writeln!(out, "state {} id {} version {}", s.name, s.id, s.version);
    }
    if let Some(test) = &model.test {
        dump_test(out, test);
    }
    let inputs: Vec<&str> = model.inputs.iter().map(|i| i.name.as_str()).collect();
    let _ = writeln!(out, "inputs {}", inputs.join(", "));
}

fn dump_object(out: &mut String, object: &Object) {
    let _ = writeln!(out, "object {}", object.display_name());
    for r in &object.funcs {
        let f = &r.function;
        let mut place = String::new();
        if let Some(file) = &r.source_file {
            let _ = write!(place, " in {file:?}");
        }
        if r.sympos > 0 {
            let _ = write!(place, " sympos {}", r.sympos);
        }
        let _ = writeln!(
            out,
            "  replace {}{place} as {} {}{}: {:?}",
            r.old_name,
            f.return_type,
            f.c_name,
            f.params,
            f.body.text.trim()
        );
    }
    for c in &object.callbacks {
        let _ = writeln!(out, "  callback {:?}: {:?}", c.kind, c.body.text.trim());
    }
    for e in &object.externs {
        let _ = writeln!(
            out,
            "  extern {} sympos {}: {}",
            e.name, e.sympos, e.declaration
        );
    }
}

fn dump_shadow(out: &mut String, s: &Shadow) {
    let template = s.template.as_deref().unwrap_or("-");
    let keep = if s.free_on_unpatch { "freed" } else { "kept" };
    let _ = writeln!(
        out,
        "shadow {} id {} for {:?} like {template}, {}, {keep}: {:?}",
        s.name,
        s.id,
        s.owner,
        s.gfp,
        s.payload.text.trim()
    );
    for (what, code) in [("ctor", &s.ctor), ("dtor", &s.dtor)] {
        if let Some(code) = code {
            let _ = writeln!(out, "  {what}: {:?}", code.text.trim());
        }
    }
}

fn dump_test(out: &mut String, test: &TestPlan) {
    let _ = writeln!(out, "test");
    for l in &test.loads {
        let _ = writeln!(out, "  load {}", l.what);
    }
    for c in &test.checks {
        let _ = writeln!(
            out,
            "  {:?} {:?} contains {:?}",
            c.kind, c.command, c.expect
        );
    }
    for d in &test.dmesg {
        let _ = writeln!(out, "  dmesg {:?} {:?}", d.phase, d.lines);
    }
    if let Some(refused) = &test.refused {
        let _ = writeln!(out, "  refused {:?}", refused.text);
    }
}

/// The start of most cases: a patch and a target that resolve.
const HEAD: &str = r#"
patch fix { description "Fix it" }
target { release "6.1.0-57-cloud-amd64" arch x86_64 }
"#;

/// `HEAD` followed by `rest`.
fn spec(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

#[test]
fn a_replacement_lowers_to_its_livepatch_function() {
    check(
        &spec(
            r#"
object vmlinux {
    replace static int cmdline_proc_show(struct seq_file *m, void *v) {
        return 0;
    }
}
"#,
        ),
        expect![[r#"
            patch fix module livepatch-fix (livepatch_fix)
              description "Fix it"
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
            object vmlinux
              replace cmdline_proc_show as int livepatch_cmdline_proc_show(struct seq_file *m, void *v): "return 0;"
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn every_part_of_the_patch_block_reaches_the_model() {
    check(
        r#"
patch my-fix {
    description "Fix it"
    reference cve "CVE-2024-26581"
    reference commit "60c0c23"
    author "Jane <jane@example.org>"
    author "John"
    cumulative
}
target { release "6.1.0-57-cloud-amd64" arch x86_64 version 6.1 build_id "ABCDEF0123" }
include <linux/seq_file.h>
include <linux/seq_file.h>
data {
    static int calls;
}
helper static int count(void) { return ++calls; }
object vmlinux {
    extern char *saved_command_line;
    extern int local_helper(int arg) sympos 2;
    post_patch { count(); }
    pre_patch { return 0; }
}
"#,
        expect![[r#"
            patch my-fix module livepatch-my-fix (livepatch_my_fix) cumulative
              description "Fix it"
              reference cve CVE-2024-26581
              reference commit 60c0c23
              author Jane <jane@example.org>
              author John
            target 6.1.0-57-cloud-amd64 (the only release the spec names) x86_64 Linux 6.1
              build id abcdef0123
            include <linux/seq_file.h>
            data at line 13: "static int calls;"
            helper int count(void)
            object vmlinux
              callback PrePatch: "return 0;"
              callback PostPatch: "count();"
              extern saved_command_line sympos 0: char *saved_command_line
              extern local_helper sympos 2: int local_helper(int arg)
            inputs spec.kgp, <std/api>
        "#]],
    );
}

#[test]
fn the_patch_and_target_blocks_are_required_once() {
    check(
        r#"
patch a { description "one" }
patch b { description "two" }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0006]: `spec.kgp` has no `target` block
              help: add `target { release "6.1.0-*-cloud-amd64" arch x86_64 }`
            error[KGP0005]: the spec has more than one `patch` block
              at `b`: second block
              also `a`: first block here
              help: merge the `patch` blocks into one
        "#]],
    );
}

#[test]
fn patch_names_references_and_strings_are_checked() {
    check(
        r#"
patch a-patch-name-so-long-that-the-module-name-exceeds-the-limit {
    description "one"
    description "two"
    reference cev "CVE-2024-1"
    reference cve "CVE-24-1"
    reference commit "xyz"
}
target { release "6.1.0-57-cloud-amd64" arch x86_64 }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0008]: module name `livepatch-a-patch-name-so-long-that-the-module-name-exceeds-the-limit` is 69 characters long
              at `a-patch-name-so-long-that-the-module-name-exceeds-the-limit`: at most 45 characters
              help: choose a shorter patch name
            error[KGP0009]: `description` is given twice
              at `"two"`: given again here
              also `"one"`: first given here
              help: keep one of them
            error[KGP0026]: unknown reference kind `cev`
              at `cev`: not a kind of reference
              help: did you mean `cve`?
            warning[KGP0032]: `CVE-24-1` does not look like a cve reference
              at `"CVE-24-1"`: a CVE id looks like `CVE-2024-26581`
            warning[KGP0032]: `xyz` does not look like a commit reference
              at `"xyz"`: a commit id is 7 to 40 hexadecimal digits
        "#]],
    );
}

#[test]
fn a_patch_that_changes_nothing_is_an_error() {
    check(
        &spec("object vmlinux { extern int x; }\n"),
        expect![[r#"
            error[KGP0027]: patch `fix` changes nothing
              at `fix`: no replacement, callback or shadow variable
              help: add an `object` block with a `replace` or a callback
        "#]],
    );
}

#[test]
fn a_target_needs_a_release_and_a_known_architecture() {
    check(
        r#"
patch fix { description "d" }
target { arch amd64 }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0010]: this `target` block has no `release`
              at `target`: `release` is required
              help: add `release "6.1.0-*-cloud-amd64"`
            error[KGP0022]: architecture `amd64` has no livepatch support
              at `amd64`: unknown or unsupported
              help: did you mean `x86_64`?
        "#]],
    );
}

#[test]
fn a_release_pattern_needs_a_chosen_release() {
    check(
        r#"
patch fix { description "d" }
target { release "6.1.0-*-cloud-amd64" "" "6.1.0-*-amd64" arch x86_64 }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0023]: no kernel release chosen: the spec names several releases or a pattern, and none was chosen
              at `"6.1.0-*-cloud-amd64"`: the spec's releases
              also `"6.1.0-*-amd64"`: also targeted
              help: pass `--release RELEASE` with a release the spec names or matches
            error[KGP0021]: a release cannot be empty
              at `""`: empty release
              help: write a release as `uname -r` prints it, or a pattern such as "6.1.0-*-cloud-amd64"
        "#]],
    );
}

#[test]
fn the_version_and_build_id_must_fit_the_release() {
    check(
        r#"
patch fix { description "d" }
target { release "6.1.0-57-cloud-amd64" arch x86_64 version 5.10 build_id "not-hex" }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0021]: version 5.10 disagrees with release `6.1.0-57-cloud-amd64`, which is 6.1
              at `5.10`: does not match the release
              help: fix the version, or drop it: kgpc reads it from the release
            error[KGP0021]: `not-hex` is not a build id
              at `"not-hex"`: expected hexadecimal digits
              help: a build id is the hex string `readelf -n vmlinux` prints as `Build ID`
        "#]],
    );
}

#[test]
fn kernels_older_than_the_api_kgpc_needs_are_refused() {
    check(
        r#"
patch fix { description "d" }
target { release "4.19.0-20-amd64" arch x86_64 }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0019]: Linux 4.19 is older than 5.1, the oldest kernel kgpc generates code for
              at `"4.19.0-20-amd64"`: Linux 4.19
              help: target Linux 5.1 or later
        "#]],
    );
}

#[test]
fn features_and_architectures_are_gated_by_the_target_version() {
    check(
        r#"
patch fix { description "d" }
target { release "5.4.0-1-arm64" arch arm64 }
state fix_state { id 1 version 1 }
object vmlinux { pre_patch { return 0; } }
"#,
        expect![[r#"
            error[KGP0020]: livepatch on arm64 needs Linux 6.17, but the target is Linux 5.4
              at `"5.4.0-1-arm64"`: Linux 5.4
              help: check the architecture and the release
            error[KGP0020]: states need Linux 5.5, but the target is Linux 5.4
              at `fix_state`: needs Linux 5.5
              help: target Linux 5.5 or later, or remove the states
        "#]],
    );
}

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
    refused "a"
    refused "b"
}
test { load "ext4" }
"#,
        ),
        expect![[r#"
            error[KGP0018]: cannot find the spec `no-such-spec.kgp`
              at `"no-such-spec.kgp"`: named here
              help: `patch_first` names another spec, relative to this spec's directory
            error[KGP0010]: the command is empty
              at `""`: nothing to run or look for
              help: an empty text is in every output, so the check could never fail
            error[KGP0009]: `refused` is given twice
              at `"b"`: given again here
              also `"a"`: first given here
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
