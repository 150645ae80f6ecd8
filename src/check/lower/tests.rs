//! Data-driven tests of the lowering: each case is a spec held in memory and
//! the expected text of what lowering made of it, either its diagnostics
//! (code, message and the text each label points at) or, when there was no
//! error, a short dump of the model. `UPDATE_EXPECT=1 cargo test` rewrites
//! the expectations; read what it wrote before keeping it.
//!
//! This file holds the harness and the cases of the patch and target blocks
//! and the API gate; `tests/items.rs` holds those of the other items.

mod items;

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

/// A diagnostic with the text of the source each label points at.
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
    for r in &model.requirements {
        let _ = writeln!(
            out,
            "requires {:?} {:?} else {:?}",
            r.option, r.wanted, r.unmet
        );
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

/// An object with its replacements (old name, place, new C function), callbacks and externs.
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
    for r in &object.requirements {
        let _ = writeln!(
            out,
            "  requires {:?} {:?} else {:?}",
            r.option, r.wanted, r.unmet
        );
    }
}

/// A shadow variable and what it takes from its template.
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

/// The test plan, entry by entry.
fn dump_test(out: &mut String, test: &TestPlan) {
    let _ = writeln!(out, "test");
    for l in &test.loads {
        let _ = writeln!(out, "  load {}", l.what);
    }
    for c in &test.checks {
        let expects: Vec<String> = c.expects.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  {:?} {:?} {}", c.kind, c.command, expects.join(" "));
    }
    for d in &test.dmesg {
        let _ = writeln!(out, "  dmesg {:?} {:?}", d.phase, d.lines);
    }
    if let Some(refused) = &test.refused {
        let _ = writeln!(out, "  refused {:?}", refused.text);
    }
    if let Some(workload) = &test.workload {
        let _ = writeln!(out, "  workload {:?}", workload.command);
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
              help: add an `object` block with a `replace` or a callback, or the fix as a patch: `fix "FILE.patch"`
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
