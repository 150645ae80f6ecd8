//! The commands other than check and compile: `explain`, `--help`, completions and a wrong command line.

use super::*;

#[test]
fn explain_prints_the_explanation() {
    let run = kgpc(&["explain", "KGP0012"]).expect(0);
    assert!(run.stdout.starts_with("# KGP0012"), "{}", run.stdout);
    assert!(run.stdout.contains("```kgp"), "{}", run.stdout);
    // Codes are accepted in any case.
    let lower = kgpc(&["explain", "kgp0012"]).expect(0);
    assert_eq!(lower.stdout, run.stdout);
}

#[test]
fn explain_rejects_an_unknown_code_with_help() {
    let run = kgpc(&["explain", "KGP9999"]).expect(2);
    assert!(run.stderr.contains("KGP9999"), "{}", run.stderr);
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
    assert!(run.stderr.contains("--list"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn explain_lists_every_code_with_a_title() {
    let run = kgpc(&["explain", "--list"]).expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Codes are listed in increasing order; KGP0029 and KGP0033 were dropped
    // before the first release and never come back.
    let codes: Vec<String> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    assert!(codes.len() >= 33, "{}", run.stdout);
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "codes are not in order: {codes:?}"
    );
    assert!(
        !codes.iter().any(|c| c == "KGP0029" || c == "KGP0033"),
        "dropped codes are back"
    );
    for (line, code) in lines.iter().zip(&codes) {
        assert!(line.starts_with(code.as_str()), "{line}");
        assert!(line.len() > code.len() + 2, "{code} has no title");
        // Every listed code is explained, with its title as the heading.
        let title = line[code.len()..].trim();
        let explained = kgpc(&["explain", code]).expect(0);
        assert_eq!(
            explained.stdout.lines().next().unwrap(),
            format!("# {code}: {title}"),
        );
    }
}

#[test]
fn help_shows_examples() {
    let run = kgpc(&["--help"]).expect(0);
    assert!(run.stdout.contains("Examples"), "{}", run.stdout);
    assert!(run.stdout.contains("Exit status"), "{}", run.stdout);
}

#[test]
fn completions_are_printed() {
    let run = kgpc(&["completions", "bash"]).expect(0);
    assert!(run.stdout.contains("kgpc"), "{}", run.stdout);
}

#[test]
fn a_wrong_command_line_exits_with_2() {
    kgpc(&["check"]).expect(2);
    kgpc(&["frobnicate"]).expect(2);
    kgpc(&["check", "fix.kgp", "--message-format", "xml"]).expect(2);
}
