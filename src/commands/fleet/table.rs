//! The fleet's summary: for people, each build's problems and then a table of
//! build by result; in JSON one record per build and a summary record.

use super::super::test_summary::round;
use super::row::{Row, Status};
use crate::cli::MessageFormat;
use serde_json::{json, Value};
use std::time::Duration;

/// What the summary is shown with.
pub struct Shown<'a> {
    pub format: MessageFormat,
    /// `check`, `build` or `test`.
    pub command: &'a str,
    pub patch: &'a str,
    pub jobs: usize,
    pub wall: Duration,
}

/// Prints the summary of `rows`, in the order of the builds.
pub fn render(shown: &Shown, rows: &[Row]) {
    let count = |status: Status| rows.iter().filter(|r| r.status == status).count();
    let busy: Duration = rows.iter().map(|r| r.elapsed).sum();
    match shown.format {
        MessageFormat::Json => {
            for row in rows {
                crate::outln!("{}", row.record());
            }
            let failing = rows.iter().any(|r| r.failure_status().is_some());
            let summary = json!({
                "command": shown.command,
                "all_releases": true,
                "patch": shown.patch,
                "status": if failing { "error" } else { "ok" },
                "builds": rows.len(),
                "passed": count(Status::Passed),
                "skipped": count(Status::Skipped),
                "failed": count(Status::Failed),
                "unavailable": count(Status::Unavailable),
                "error": count(Status::Error),
                "jobs": shown.jobs,
                "seconds": round(busy),
                "wall_seconds": round(shown.wall),
            });
            crate::outln!("{}", json!({ "summary": summary }));
        }
        MessageFormat::Human => {
            for line in problems(rows) {
                crate::errln!("{line}");
            }
            crate::errln!(
                "Summary of `kgpc {}` of {} for {} builds, {} at a time:",
                shown.command,
                shown.patch,
                rows.len(),
                shown.jobs
            );
            for line in table(rows) {
                crate::errln!("  {}", line.trim_end());
            }
            for (n, row) in rows
                .iter()
                .filter(|r| !r.substituted.is_empty())
                .enumerate()
            {
                crate::errln!(
                    "  [{}] the archive no longer has a shared package of {}'s version; its tree has {}",
                    n + 1,
                    row.release,
                    row.substituted.join(", ")
                );
            }
            crate::errln!(
                "{} builds: {} passed, {} skipped, {} failed, {} unavailable, {} error{}; {:.1} s of work in {:.1} s",
                rows.len(),
                count(Status::Passed),
                count(Status::Skipped),
                count(Status::Failed),
                count(Status::Unavailable),
                count(Status::Error),
                if count(Status::Error) == 1 { "" } else { "s" },
                busy.as_secs_f64(),
                shown.wall.as_secs_f64()
            );
            if rows.iter().any(|r| r.failure_status().is_some()) {
                crate::errln!(
                    "To see one build's diagnostics in full: kgpc {} SPEC --release RELEASE",
                    shown.command
                );
            }
        }
    }
}

/// What the builds that did not pass said, each under a heading; a build that
/// said what an earlier one said names that one instead of repeating it.
fn problems(rows: &[Row]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut shown_before: Vec<(String, &str)> = Vec::new();
    for row in rows.iter().filter(|r| r.status != Status::Passed) {
        lines.push(format!("---- {} ({}) ----", row.release, row.status.word()));
        let text: Vec<String> = row.diagnostics.iter().map(plain).collect();
        let text = text.join("\n");
        match shown_before.iter().find(|(t, _)| *t == text) {
            _ if text.is_empty() => {}
            Some((_, first)) => lines.push(format!("the same diagnostics as {first}")),
            None => lines.push(text.clone()),
        }
        shown_before.push((text, &row.release));
        if row.diagnostics.is_empty() || row.status == Status::Error {
            lines.push(row.output.trim_end().to_string());
        }
    }
    lines
}

/// The table's lines: a heading, then one line per build.
pub fn table(rows: &[Row]) -> Vec<String> {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let mut last = match row.module() {
                Some(module) if row.status == Status::Passed => module.to_string(),
                _ => row.first_problem().map(shortened).unwrap_or_default(),
            };
            if !row.substituted.is_empty() {
                last = format!("{last} [{}]", footnote(rows, row))
                    .trim_start()
                    .to_string();
            }
            [
                row.release.clone(),
                row.status.word().to_string(),
                if row.status == Status::Unavailable {
                    String::new()
                } else {
                    format!("{:.1} s", row.elapsed.as_secs_f64())
                },
                row.facts.clone(),
                last,
            ]
        })
        .collect();
    let heading = [
        "BUILD".to_string(),
        "RESULT".to_string(),
        "TIME".to_string(),
        "FACTS".to_string(),
        "MODULE OR FIRST PROBLEM".to_string(),
    ];
    let mut widths = [0usize; 4];
    for line in std::iter::once(&heading).chain(&cells) {
        for (width, cell) in widths.iter_mut().zip(line.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&heading)
        .chain(&cells)
        .map(|c| {
            format!(
                "{:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {}",
                c[0],
                c[1],
                c[2],
                c[3],
                c[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        })
        .collect()
}

/// A problem cut to the table's width at a word, its whole text being above the table.
fn shortened(problem: String) -> String {
    const WIDTH: usize = 100;
    if problem.chars().count() <= WIDTH {
        return problem;
    }
    let cut: String = problem.chars().take(WIDTH).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", &cut[..at])
}

/// The number of `row`'s footnote: its place among the rows with substituted packages.
fn footnote(rows: &[Row], row: &Row) -> usize {
    rows.iter()
        .filter(|r| !r.substituted.is_empty())
        .position(|r| r.release == row.release)
        .map_or(0, |n| n + 1)
}

/// A JSON diagnostic as a few lines of text: `error[CODE]: message`, where, and help.
fn plain(diagnostic: &Value) -> String {
    let mut text = format!(
        "{}[{}]: {}",
        diagnostic["severity"].as_str().unwrap_or("error"),
        diagnostic["code"].as_str().unwrap_or_default(),
        diagnostic["message"].as_str().unwrap_or_default()
    );
    if let Some(span) = diagnostic["spans"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["primary"] == true))
    {
        text.push_str(&format!(
            "\n  --> {}:{}:{}",
            span["file"].as_str().unwrap_or_default(),
            span["line_start"],
            span["column_start"]
        ));
    }
    for note in diagnostic["notes"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n  = note: {}",
            note.as_str().unwrap_or_default()
        ));
    }
    if let Some(help) = diagnostic["help"].as_str() {
        text.push_str(&format!("\n  = help: {help}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::process::ExitStatusExt;
    use std::process::{ExitStatus, Output};
    use std::time::Duration;

    fn row(release: &str, code: i32, stdout: &str) -> Row {
        let output = Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
        };
        Row::read(release, &output, Duration::from_millis(1500))
    }

    const ERROR: &str = "{\"code\":\"KGP0010\",\"severity\":\"error\",\"message\":\"no arch\",\"spans\":[{\"file\":\"a.kgp\",\"line_start\":2,\"column_start\":1,\"primary\":true}],\"notes\":[],\"help\":\"add arch\"}\n";

    #[test]
    fn builds_that_said_the_same_name_the_first_and_passed_ones_say_nothing() {
        let passed = "{\"summary\":{\"status\":\"ok\",\"module\":\"out/a/x.ko\",\"kernel_checks\":{\"ran\":true,\"vmlinux\":{\"build_id\":\"0123456789abcdef\"}}}}\n";
        let rows = [row("a", 0, passed), row("b", 1, ERROR), row("c", 1, ERROR)];
        assert_eq!(
            problems(&rows),
            [
                "---- b (failed) ----",
                "error[KGP0010]: no arch\n  --> a.kgp:2:1\n  = help: add arch",
                "---- c (failed) ----",
                "the same diagnostics as b",
            ]
        );
        let lines = table(&rows);
        assert!(lines[0].starts_with("BUILD  RESULT"), "{lines:?}");
        assert!(
            lines[1].contains("debug vmlinux 0123456789ab  out/a/x.ko"),
            "{lines:?}"
        );
        assert!(lines[2].ends_with("KGP0010: no arch"), "{lines:?}");
    }

    #[test]
    fn a_long_problem_is_cut_at_a_word() {
        let short = "KGP0221: gone".to_string();
        assert_eq!(shortened(short.clone()), short);
        let long = format!("KGP0221: {}", "word ".repeat(40));
        let cut = shortened(long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= 101);
    }
}
