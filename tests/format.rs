//! `kgpc fmt`: the canonical layout, its stability, and its refusals.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kgpc(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn kgp_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(root().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn examples_std_specs_and_test_specs_are_formatted() {
    let mut files = kgp_files("examples");
    files.extend(kgp_files("std-specs"));
    files.extend(kgp_files("tests/emit"));
    assert!(files.len() >= 9);
    let mut args = vec!["fmt", "--check"];
    args.extend(files.iter().map(String::as_str));
    let (code, diff, stderr) = kgpc(&args, "");
    assert_eq!(code, 0, "run `kgpc fmt` on these files:\n{diff}{stderr}");
}

#[test]
fn messy_spec_gets_the_canonical_layout_with_comments_in_place() {
    let messy = fs::read_to_string(root().join("tests/fmt/messy.kgp")).unwrap();
    let (code, formatted, stderr) = kgpc(&["fmt"], &messy);
    assert_eq!(code, 0, "{stderr}");
    let expected_path = root().join("tests/fmt/messy.formatted.kgp");
    if std::env::var_os("KGPC_BLESS").is_some() {
        fs::write(&expected_path, &formatted).unwrap();
    }
    assert_eq!(formatted, fs::read_to_string(&expected_path).unwrap());
    let comments = |text: &str| {
        text.lines()
            .filter_map(|l| l.find('#').map(|i| l[i..].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        comments(&messy),
        comments(&formatted),
        "every comment survives, in order"
    );
}

#[test]
fn formatting_is_idempotent_on_every_spec_that_parses() {
    let mut files = kgp_files("examples");
    files.extend(kgp_files("std-specs"));
    files.extend(kgp_files("tests/emit"));
    files.extend(kgp_files("tests/ui"));
    files.push("tests/fmt/messy.kgp".into());
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(root().join(file)).unwrap_or_default();
        let (code, once, _) = kgpc(&["fmt"], &text);
        if code != 0 {
            continue; // A spec with syntax errors is not formatted; see the next test.
        }
        let (_, twice, _) = kgpc(&["fmt"], &once);
        assert_eq!(once, twice, "formatting {file} twice changes it");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} specs parsed");
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.kgp");
    let text = "patch x {\n    descripton \"typo\"\n}\n";
    fs::write(&path, text).unwrap();
    let (code, _, stderr) = kgpc(&["fmt", path.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(stderr.contains("KGP0003"), "{stderr}");
    assert!(stderr.contains("left as it was"), "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn check_mode_shows_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join("loose.kgp");
    let text = "patch   x {\ndescription \"d\"\n}\n";
    fs::write(path, text).unwrap();
    let (code, diff, _) = kgpc(&["fmt", "--check", path.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(
        diff.contains("-patch   x {") && diff.contains("+patch x {"),
        "{diff}"
    );
    assert_eq!(fs::read_to_string(path).unwrap(), text);
    let (code, _, _) = kgpc(&["fmt", path.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert_eq!(
        fs::read_to_string(path).unwrap(),
        "patch x {\n    description \"d\"\n}\n"
    );
}

mod format_properties;

use format_properties::{check, mutate, Rng};

/// Every `.kgp` file of the repository, outside build products and tool caches.
fn repository_specs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if name.ends_with(".kgp") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out.sort();
    out
}

/// Two scratch directories holding copies of the files beside `spec`, so
/// that its imports and body files resolve in both.
fn scratch_dirs(spec: &Path) -> (tempfile::TempDir, tempfile::TempDir) {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for entry in fs::read_dir(spec.parent().unwrap()).unwrap().flatten() {
        if entry.path().is_file() {
            fs::copy(entry.path(), dirs.0.path().join(entry.file_name())).unwrap();
            fs::copy(entry.path(), dirs.1.path().join(entry.file_name())).unwrap();
        }
    }
    dirs
}

#[test]
fn every_spec_of_the_repository_keeps_its_meaning_when_formatted() {
    let specs = repository_specs();
    assert!(specs.len() >= 90, "only {} specs found", specs.len());
    let (mut parsed, mut compiled) = (0, 0);
    let mut failures = Vec::new();
    // One pair of scratch directories per directory of specs.
    let mut scratch: Option<(PathBuf, (tempfile::TempDir, tempfile::TempDir))> = None;
    for spec in &specs {
        let text = fs::read_to_string(spec).unwrap();
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        let parent = spec.parent().unwrap().to_path_buf();
        if scratch.as_ref().is_none_or(|(p, _)| *p != parent) {
            scratch = Some((parent, scratch_dirs(spec)));
        }
        let dirs = &scratch.as_ref().unwrap().1;
        match check(&text, &name, Some((dirs.0.path(), dirs.1.path()))) {
            Ok(seen) => {
                parsed += usize::from(seen.parsed);
                compiled += usize::from(seen.compiled);
            }
            Err(e) => failures.push(format!("{}: {e}", spec.display())),
        }
    }
    eprintln!(
        "{} specs: {parsed} parse, {compiled} compile, {} break a property",
        specs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        parsed >= 60 && compiled >= 20,
        "{parsed} parsed, {compiled} compiled"
    );
}

/// Mutations of each spec of the repository that compiles: tokens and lines
/// deleted, inserted and duplicated, comments and strings inserted, with a
/// fixed seed so that a failure repeats.
#[test]
fn mutated_specs_keep_their_meaning_when_formatted() {
    // About 20 s in a debug build; KGPC_MUTATIONS asks for more.
    let mutations: usize = std::env::var("KGPC_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let mut rng = Rng::new(0x6b67_7063_666d_7431);
    let (mut runs, mut parsed, mut compiled) = (0, 0, 0);
    let mut failures = Vec::new();
    let start = std::time::Instant::now();
    let seeds: Vec<PathBuf> = repository_specs()
        .into_iter()
        .filter(|p| {
            let dir = p.parent().unwrap();
            ["examples", "std-specs", "emit", "fmt"]
                .iter()
                .any(|d| dir.ends_with(d))
        })
        .collect();
    assert!(seeds.len() >= 15, "only {} seed specs", seeds.len());
    for spec in &seeds {
        let original = fs::read_to_string(spec).unwrap();
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        let dirs = scratch_dirs(spec);
        for _ in 0..mutations {
            let mut text = original.clone();
            for _ in 0..=rng.below(3) {
                text = mutate(&text, &mut rng);
            }
            runs += 1;
            // Compiling is the slow part: one mutant in eight is compiled.
            let compile = rng.below(8) == 0;
            let dirs = compile.then(|| (dirs.0.path(), dirs.1.path()));
            match check(&text, &name, dirs) {
                Ok(seen) => {
                    parsed += usize::from(seen.parsed);
                    compiled += usize::from(seen.compiled);
                }
                Err(e) if failures.len() < 5 => {
                    failures.push(format!("{} mutated:\n{text}\n=> {e}", spec.display()))
                }
                Err(_) => failures.push(String::new()),
            }
        }
    }
    eprintln!(
        "{runs} mutants of {} specs in {:.1} s: {parsed} parse, {compiled} compile, {} break a property",
        seeds.len(),
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures; the first:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(parsed >= runs / 5, "only {parsed} of {runs} mutants parse");
    assert!(
        compiled >= runs / 50,
        "only {compiled} of {runs} mutants compile"
    );
}

/// A spec around one object entry, for the regression cases below.
fn spec_with(entry: &str) -> String {
    format!(
        "patch x {{\n    description \"d\"\n}}\n\ntarget {{\n    release \"6.1.0-1-cloud-amd64\"\n    arch x86_64\n}}\n\ninclude <linux/seq_file.h>\n\nobject vmlinux {{\n{entry}}}\n"
    )
}

/// Formats `text` with `kgpc fmt`, asserts that the result formats to itself,
/// and returns it.
fn formatted_stably(text: &str) -> String {
    let (code, once, stderr) = kgpc(&["fmt"], text);
    assert_eq!(code, 0, "{stderr}");
    let (code, twice, stderr) = kgpc(&["fmt"], &once);
    assert_eq!(
        code, 0,
        "the formatted text does not parse:\n{once}{stderr}"
    );
    assert_eq!(once, twice, "formatting twice changes the text");
    once
}

/// Generated C with the spec's checksum and `#line` numbers blanked, which
/// formatting may change.
fn blanked(c: &str) -> String {
    c.lines()
        .map(|l| match (l.strip_prefix("#line "), l.find("(sha256 ")) {
            (Some(rest), _) => format!(
                "#line N{}",
                rest.trim_start_matches(|c: char| c.is_ascii_digit())
            ),
            (None, Some(at)) if l.contains("Spec:") => format!("{}(sha256)", &l[..at]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The generated C of `text`, compiled without kernel checks.
fn generated_c(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("x.kgp");
    fs::write(&spec, text).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = kgpc(
        &[
            "compile",
            spec.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-kernel-checks",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    fs::read_to_string(out.join("livepatch-x.c")).unwrap()
}

#[test]
fn a_line_comment_in_a_parameter_list_keeps_its_line_break() {
    let text = spec_with(
        "    replace int cmdline_proc_show(struct seq_file *m, // the file\n                                  void *v) {\n        return 0;\n    }\n",
    );
    let once = formatted_stably(&text);
    assert!(
        once.contains("replace int cmdline_proc_show(struct seq_file *m, // the file\n            void *v) {\n"),
        "{once}"
    );
    let c = generated_c(&text);
    assert!(
        c.contains(
            "static int livepatch_cmdline_proc_show(struct seq_file *m, // the file\n\tvoid *v)\n{"
        ),
        "{c}"
    );
    assert_eq!(blanked(&c), blanked(&generated_c(&once)));
}

#[test]
fn strings_and_their_continuation_lines_keep_every_byte() {
    let text = spec_with(
        "    replace int cmdline_proc_show(struct seq_file *m,\n            void *v) {\n        const char *s = \"a\\\n        b\";\n        seq_printf(m, \"%s ( %s  )\", s, \"  x  \");\n        return 0;\n    }\n",
    );
    let once = formatted_stably(&text);
    assert!(once.contains("\"a\\\n        b\";"), "{once}");
    assert!(once.contains("\"%s ( %s  )\", s, \"  x  \""), "{once}");
    let c = generated_c(&text);
    assert!(c.contains("\tconst char *s = \"a\\\n        b\";\n"), "{c}");
    assert_eq!(blanked(&c), blanked(&generated_c(&once)));
    // A parameter list's strings keep their spaces and parentheses.
    let text = spec_with(
        "    replace int f(char *s = \" (  \",\n      int  b) {\n        return 0;\n    }\n",
    );
    let once = formatted_stably(&text);
    assert!(
        once.contains("replace int f(char *s = \" (  \", int b) {"),
        "{once}"
    );
}

#[test]
fn a_comment_inside_an_entry_moves_before_it_once() {
    for text in [
        "import # note\nstd/shadow_lock\nimport std/callback_log\n".to_string(),
        "patch # name next\nx {\n    description # text next\n    \"d\"\n}\n".to_string(),
        spec_with("    extern int # why\n    a;\n    replace # which\n    int f(void) # body next\n    {\n        return a;\n    }\n"),
        "shadow s for struct # which struct\nseq_file {\n    id 1\n}\n".to_string(),
    ] {
        let once = formatted_stably(&text);
        let comments = |t: &str| -> Vec<String> {
            t.lines().filter_map(|l| l.find('#').map(|i| l[i..].to_string())).collect()
        };
        assert_eq!(comments(&text), comments(&once), "{once}");
    }
    let once = formatted_stably("import # note\nstd/shadow_lock\n");
    assert_eq!(once, "# note\nimport std/shadow_lock\n");
}

#[test]
fn pasted_kernel_code_keeps_its_shape() {
    let body = "\tint ret = 0;\n\n\tif (!m)\n\t\tgoto out;\n#ifdef CONFIG_X\n\tret = 1;\n#endif\nout:\n\treturn ret;\n";
    let text = spec_with(&format!(
        "    replace int cmdline_proc_show(struct seq_file *m, void *v) {{\n{body}    }}\n"
    ));
    let once = formatted_stably(&text);
    assert!(
        once.contains("        int ret = 0;\n\n        if (!m)\n                goto out;\n#ifdef CONFIG_X\n        ret = 1;\n#endif\nout:\n        return ret;\n    }"),
        "{once}"
    );
    let c = generated_c(&text);
    assert!(c.contains(&format!("{body}#line")), "{c}");
    assert_eq!(blanked(&c), blanked(&generated_c(&once)));
}

#[test]
fn fmt_rewrites_a_symlinks_target_and_keeps_links_and_modes() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let loose = "patch   x {\ndescription \"d\"\n}\n";
    let tidy = "patch x {\n    description \"d\"\n}\n";
    // A symbolic link: the target is formatted, the link stays a link.
    let target = dir.path().join("real.kgp");
    fs::write(&target, loose).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.kgp");
    std::os::unix::fs::symlink("real.kgp", &link).unwrap();
    let (code, _, stderr) = kgpc(&["fmt", link.to_str().unwrap()], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), tidy);
    assert_eq!(fs::metadata(&target).unwrap().mode() & 0o7777, 0o640);
    // A file with two names is rewritten in place: both names see the change.
    let first = dir.path().join("one.kgp");
    let second = dir.path().join("two.kgp");
    fs::write(&first, loose).unwrap();
    fs::set_permissions(&first, fs::Permissions::from_mode(0o604)).unwrap();
    fs::hard_link(&first, &second).unwrap();
    let inode = fs::metadata(&first).unwrap().ino();
    let (code, _, stderr) = kgpc(&["fmt", first.to_str().unwrap()], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fs::read_to_string(&second).unwrap(), tidy);
    assert_eq!(fs::metadata(&first).unwrap().ino(), inode);
    assert_eq!(fs::metadata(&second).unwrap().nlink(), 2);
    assert_eq!(fs::metadata(&first).unwrap().mode() & 0o7777, 0o604);
    // No temporary file is left beside them.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn a_quote_in_a_parameter_lists_line_comment_leaves_output_that_parses() {
    // Joined onto one line, the comment's quote would open a string that
    // swallows the list's closing parenthesis: `// " char *s = " (") {`.
    let text = spec_with(
        "    replace int f(int a, // \"\n        char *s = \" (\") {\n        return 0;\n    }\n",
    );
    let once = formatted_stably(&text);
    assert!(
        once.contains("replace int f(int a, // \"\n            char *s = \" (\") {"),
        "{once}"
    );
}

/// Mutants the long run (`KGPC_MUTATIONS=2000`) found: a block ending in a
/// backslash that no line break follows, and a block ending in a lone quote.
#[test]
fn blocks_ending_in_a_backslash_or_a_lone_quote_keep_their_meaning() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A character constant left open runs to the end of its line, as in C, so
    // the lone quote's block swallows its `}` and the spec does not parse:
    // then fmt must leave it alone, which `check` verifies too.
    for (entry, parses) in [
        ("    post_patch {\n        pr_info(\"x\");\n   \\ }\n", true),
        ("    pre_patch { return 0; '}\n", false),
        (
            "    post_patch {\n        pr_info(\"x\"); \\\n    }\n",
            true,
        ),
    ] {
        let text = spec_with(entry);
        let seen = check(&text, "x.kgp", Some((dirs.0.path(), dirs.1.path())))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen.parsed, parses, "{text}");
    }
}

/// A mutant the long run found: a comment between the words of a shadow's
/// type became part of the type, in the formatted spec and in the C.
#[test]
fn a_comment_inside_a_shadows_type_is_not_part_of_it() {
    let text = format!(
        "{}shadow s for struct#ifdef X\n seq_file {{\n    id 1\n    payload {{\n        int a;\n    }}\n}}\n",
        spec_with("    replace int f(void) {\n        return 0;\n    }\n")
    );
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let seen = check(&text, "x.kgp", Some((dirs.0.path(), dirs.1.path())))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(seen.compiled, "{text}");
    let c = generated_c(&text);
    assert!(c.contains("attached to struct seq_file."), "{c}");
    assert!(!c.contains("#ifdef X"), "{c}");
}

#[test]
fn a_diff_in_a_text_block_keeps_every_line_at_any_indentation() {
    // Written at the first column inside an object, the block is indented
    // with the entry, and every line's text is the same after.
    let hunks = "@@ -5,3 +5,3 @@\n {\n-\treturn 0;\n+\treturn 1;\n \n }\n";
    let written: String = hunks.lines().map(|l| format!("{l}\n")).collect();
    let text = spec_with(&format!(
        "    replace f in \"fs/f.c\" fix \"\"\"\n{written}\"\"\"\n"
    ));
    let once = formatted_stably(&text);
    let indented: String = hunks
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    assert!(
        once.contains(&format!(
            "    replace f in \"fs/f.c\" fix \"\"\"\n{indented}    \"\"\"\n"
        )),
        "{once}"
    );
    // A top-level fix stays at the first column, with the `#` of C lines
    // and the braces of the diff as they are.
    let text = "patch p {\n    description \"d\"\n}\n\ntarget {\n    release \"6.1.0-1-amd64\"\n    arch x86_64\n}\n\nfix \"\"\"\n--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,3 @@\n #include <x.h>\n+#define Y {\n int z;\n\"\"\"\n";
    assert_eq!(formatted_stably(text), text);
}

#[test]
fn requirements_are_laid_out_as_config_lines_and_grouped() {
    let messy = "patch x { description \"d\" }\ntarget { release \"6.1.0-1-cloud-amd64\" arch x86_64 }\nrequires   CONFIG_BT =   y    else   skip  # needs it\n\nrequires CONFIG_CMDLINE =  \"quiet \\\"x\\\"\"\n# the cloud kernel's\nrequires CONFIG_NR_CPUS=0x2000\nobject vmlinux { requires CONFIG_NFSD\n  requires CONFIG_X=n\n    else error\nreplace int f(void) { return 0; } }\n";
    let formatted = formatted_stably(messy);
    assert_eq!(
        formatted,
        "patch x {\n    description \"d\"\n}\n\ntarget {\n    release \"6.1.0-1-cloud-amd64\"\n    arch x86_64\n}\n\nrequires CONFIG_BT=y else skip  # needs it\n\nrequires CONFIG_CMDLINE=\"quiet \\\"x\\\"\"\n# the cloud kernel's\nrequires CONFIG_NR_CPUS=0x2000\n\nobject vmlinux {\n    requires CONFIG_NFSD\n    requires CONFIG_X=n else error\n\n    replace int f(void) { return 0; }\n}\n"
    );
}
