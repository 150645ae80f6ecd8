//! Each editor's own test tool on its grammar, and the tree-sitter grammar on every spec.

use super::*;

/// The path of a program found in PATH; fails the test, naming the install script, if none.
fn tool(name: &str) -> PathBuf {
    env::var_os("PATH")
        .iter()
        .flat_map(env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed (not found in PATH): {INSTALL_HINT}"))
}

/// Runs a command with no input and returns its output, failing the test with everything it
/// printed when it cannot start or does not succeed.
fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}; {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn vscode_grammar_passes_vscode_tmgrammar_test() {
    let dir = editors().join("vscode");
    assert!(
        dir.join("node_modules/.bin/vscode-tmgrammar-test")
            .is_file(),
        "editors/vscode/node_modules lacks vscode-tmgrammar-test: {INSTALL_HINT}"
    );
    run(Command::new(tool("npm"))
        .args(["test", "--silent"])
        .current_dir(&dir));
}

#[test]
fn vim_runtime_files_pass_their_check() {
    let output = run(Command::new(tool("vim"))
        .args(["-Nu", "NONE", "-i", "NONE", "-es", "-S"])
        .arg(editors().join("vim/test/check.vim"))
        .current_dir(root()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(" 0 failures"),
        "the Vim check printed no summary:\n{stdout}"
    );
}

#[test]
fn emacs_mode_passes_its_ert_tests() {
    run(Command::new(tool("emacs"))
        .args(["-Q", "--batch", "-L"])
        .arg(editors().join("emacs"))
        .args([
            "-l",
            "kgp-mode-tests.el",
            "-f",
            "ert-run-tests-batch-and-exit",
        ])
        .current_dir(root()));
}

/// A command running the tree-sitter CLI with its own configuration and library directories
/// under `scratch`, so that tests do not share (or race on) a compiled parser.
fn tree_sitter(scratch: &Path) -> Command {
    let config = scratch.join("config");
    fs::create_dir_all(&config).unwrap();
    // No parser directories: grammars are given by path (or the current directory).
    fs::write(
        config.join("config.json"),
        r#"{ "parser-directories": [] }"#,
    )
    .unwrap();
    let mut command = Command::new(tool("tree-sitter"));
    command
        .env("TREE_SITTER_DIR", &config)
        .env("TREE_SITTER_LIBDIR", scratch.join("lib"));
    command
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The files of a directory tree, relative to it.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found
}

#[test]
fn tree_sitter_parser_is_generated_and_passes_its_tests() {
    let grammar = editors().join("tree-sitter-kgp");
    let scratch = tempfile::tempdir().unwrap();
    // Generate and test a copy, so that the source tree is never written to.
    let copy = scratch.path().join("tree-sitter-kgp");
    copy_tree(&grammar, &copy);
    run(tree_sitter(scratch.path())
        .arg("generate")
        .current_dir(&copy));

    // The committed parser (which editors build) must be what grammar.js generates.
    let committed = files(&grammar.join("src"));
    let generated = files(&copy.join("src"));
    assert_eq!(
        committed, generated,
        "editors/tree-sitter-kgp/src has other files than `tree-sitter generate` writes"
    );
    let stale: Vec<String> = generated
        .iter()
        .filter(|f| {
            fs::read(grammar.join("src").join(f)).unwrap()
                != fs::read(copy.join("src").join(f)).unwrap()
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "editors/tree-sitter-kgp/src is out of date with grammar.js ({}): run `tree-sitter generate` in editors/tree-sitter-kgp",
        stale.join(", ")
    );

    let output = run(tree_sitter(scratch.path()).arg("test").current_dir(&copy));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("syntax highlighting:"),
        "tree-sitter test ran no highlight test:\n{stdout}"
    );
}

#[test]
fn tree_sitter_grammar_parses_every_spec_of_the_repository() {
    let mut specs = Vec::new();
    for dir in ["examples", "std-specs", "tests/emit"] {
        for entry in fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension() == Some(OsStr::new("kgp")) {
                specs.push(path);
            }
        }
    }
    specs.sort();
    assert!(
        specs.len() >= 8,
        "expected the examples, std-specs and tests/emit specs, found {specs:?}"
    );

    let scratch = tempfile::tempdir().unwrap();
    // One run for all files, so that the parser is compiled once. The trees are printed in
    // order; each starts with `(source_file` at the start of a line.
    let output = tree_sitter(scratch.path())
        .arg("parse")
        .arg("--grammar-path")
        .arg(editors().join("tree-sitter-kgp"))
        .args(&specs)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run tree-sitter: {e}; {INSTALL_HINT}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let trees: Vec<&str> = stdout.split("\n(source_file").collect();
    assert_eq!(
        trees.len(),
        specs.len(),
        "tree-sitter parse printed {} trees for {} files ({}):\n{stdout}\n{}",
        trees.len(),
        specs.len(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let broken: Vec<String> = specs
        .iter()
        .zip(&trees)
        .filter(|(_, tree)| tree.contains("(ERROR") || tree.contains("(MISSING"))
        .map(|(spec, tree)| {
            format!(
                "==== {}\n(source_file{}",
                spec.display(),
                tree.trim_start_matches("(source_file")
            )
        })
        .collect();
    assert!(
        broken.is_empty(),
        "the tree-sitter grammar fails to parse:\n{}",
        broken.join("\n")
    );
    assert!(
        output.status.success(),
        "tree-sitter parse failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
