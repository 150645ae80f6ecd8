//! How each spec of a `kgpc test` of several ended, read from its child's
//! output, and the summary of them all: one line per spec, the totals and the
//! wall time for people, one record per spec and a summary record in JSON.

use super::test_verdict;
use crate::cli::MessageFormat;
use crate::error::{EXIT_BUILD, EXIT_SPEC_ERRORS, EXIT_TEST};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// How one spec's proof ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The patch built and passed its test in the VM.
    Passed,
    /// The spec did not compile or build, or its test failed: its
    /// diagnostics say why.
    Failed,
    /// kgpc could not prove it at all: the child did not run, was killed,
    /// or ended with a status no proof gives (a usage error, a crash).
    Error,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

/// One spec's row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub spec: PathBuf,
    pub status: Status,
    /// The child's exit status, if it ran and exited.
    pub exit: Option<i32>,
    pub elapsed: Duration,
    /// The CPUs the guest had online, as the child reported.
    pub cpus: Option<usize>,
    /// What the child printed on standard error (for people: its diagnostics
    /// and last line), or why it did not run.
    pub output: String,
    /// The child's JSON records before its summary: its diagnostics.
    pub records: Vec<Value>,
    /// The child's JSON summary record.
    pub summary: Option<Value>,
}

impl Row {
    /// The row of a spec whose child could not run.
    pub fn not_run(spec: &Path, why: &str) -> Row {
        Row {
            spec: spec.to_path_buf(),
            status: Status::Error,
            exit: None,
            elapsed: Duration::ZERO,
            cpus: None,
            output: why.to_string(),
            records: Vec::new(),
            summary: None,
        }
    }

    /// The row of a child that ran, from what it printed in `format`.
    pub fn read(spec: &Path, format: MessageFormat, output: &Output, elapsed: Duration) -> Row {
        let exit = output.status.code();
        let status = match exit {
            Some(0) => Status::Passed,
            Some(EXIT_SPEC_ERRORS | EXIT_BUILD | EXIT_TEST) => Status::Failed,
            _ => Status::Error,
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let mut row = Row {
            spec: spec.to_path_buf(),
            status,
            exit,
            elapsed,
            cpus: None,
            output: stderr,
            records: Vec::new(),
            summary: None,
        };
        match format {
            MessageFormat::Human => row.cpus = test_verdict::cpus_in_last_line(&row.output),
            MessageFormat::Json => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                for value in stdout
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                {
                    match value.get("summary") {
                        Some(summary) => row.summary = Some(summary.clone()),
                        None => row.records.push(value),
                    }
                }
                row.cpus = row
                    .summary
                    .as_ref()
                    .and_then(|s| s["vm"]["cpus"].as_u64())
                    .map(|n| n as usize);
            }
        }
        if exit.is_none() {
            row.output.push_str("kgpc was killed by a signal\n");
        }
        row
    }

    /// The exit status the run takes from this spec: none when it passed.
    pub fn failure_status(&self) -> Option<i32> {
        match self.status {
            Status::Passed => None,
            _ => Some(self.exit.filter(|&e| e != 0).unwrap_or(EXIT_TEST)),
        }
    }

    /// `passed examples/x.kgp in 12.3 s (2 CPUs)`: how the spec ended.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} {} in {:.1} s",
            self.status.word(),
            self.spec.display(),
            self.elapsed.as_secs_f64()
        );
        if let Some(cpus) = self.cpus {
            line.push_str(&format!(" ({})", test_verdict::cpus_shown(Some(cpus))));
        }
        if let (Status::Error, Some(exit)) = (self.status, self.exit) {
            line.push_str(&format!(", exit status {exit}"));
        }
        line
    }

    /// The row in the summary's columns, its spec padded to `width`:
    /// `passed  examples/x.kgp  12.3 s  2 CPUs`.
    fn column(&self, width: usize) -> String {
        let spec = self.spec.display().to_string();
        let mut line = format!(
            "{:<6}  {spec:<width$}  {:>6.1} s",
            self.status.word(),
            self.elapsed.as_secs_f64()
        );
        if let Some(cpus) = self.cpus {
            line.push_str(&format!("  {}", test_verdict::cpus_shown(Some(cpus))));
        }
        if let (Status::Error, Some(exit)) = (self.status, self.exit) {
            line.push_str(&format!("  exit status {exit}"));
        }
        line
    }

    fn record(&self) -> Value {
        let mut record = json!({
            "spec": self.spec.display().to_string(),
            "status": self.status.word(),
            "exit": self.exit,
            "seconds": round(self.elapsed),
            "cpus": self.cpus,
            "diagnostics": self.records,
            "summary": self.summary,
        });
        if self.summary.is_none() {
            record["output"] = Value::String(self.output.clone());
        }
        json!({ "spec": record })
    }
}

/// What the summary is shown with.
pub struct Shown {
    pub format: MessageFormat,
    pub jobs: usize,
    /// The time from the command's start to the last spec's end.
    pub wall: Duration,
}

/// Prints the summary: for people, the output of each spec that did not
/// pass, then one line per spec and the totals; in JSON one record per spec
/// and the summary record.
pub fn render(shown: &Shown, rows: &[Row]) {
    let count = |status: Status| rows.iter().filter(|r| r.status == status).count();
    let (passed, failed, errors) = (
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Error),
    );
    let busy: Duration = rows.iter().map(|r| r.elapsed).sum();
    match shown.format {
        MessageFormat::Json => {
            for row in rows {
                crate::outln!("{}", row.record());
            }
            let summary = json!({
                "command": "test",
                "status": if passed == rows.len() { "ok" } else { "error" },
                "specs": rows.len(),
                "passed": passed,
                "failed": failed,
                "error": errors,
                "jobs": shown.jobs,
                "seconds": round(busy),
                "wall_seconds": round(shown.wall),
            });
            crate::outln!("{}", json!({ "summary": summary }));
        }
        MessageFormat::Human => {
            for row in rows.iter().filter(|r| r.status != Status::Passed) {
                crate::errln!("---- {} ({}) ----", row.spec.display(), row.status.word());
                crate::errln!("{}", row.output.trim_end());
            }
            crate::errln!("Summary of {} specs, {} at a time:", rows.len(), shown.jobs);
            let width = rows
                .iter()
                .map(|r| r.spec.display().to_string().chars().count())
                .max()
                .unwrap_or(0);
            for row in rows {
                crate::errln!("  {}", row.column(width));
            }
            crate::errln!(
                "{} specs: {passed} passed, {failed} failed, {errors} error{}; {:.1} s of proofs in {:.1} s",
                rows.len(),
                if errors == 1 { "" } else { "s" },
                busy.as_secs_f64(),
                shown.wall.as_secs_f64()
            );
        }
    }
}

/// Seconds to a tenth, for the JSON records of runs of many children.
pub(super) fn round(time: Duration) -> f64 {
    (time.as_secs_f64() * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    fn output(code: i32, stdout: &str, stderr: &str) -> Output {
        Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_childs_exit_status_says_how_its_spec_ended() {
        let passed = "Tested livepatch-x on 6.1.0-57-cloud-amd64: passed (2 test entries, 2 CPUs); build 1.0 s, modules first 0.0 s, VM 5.0 s, total 6.0 s\n";
        let second = Duration::from_secs(6);
        let row = Row::read(
            Path::new("x.kgp"),
            MessageFormat::Human,
            &output(0, "", passed),
            second,
        );
        assert_eq!(row.status, Status::Passed);
        assert_eq!(row.cpus, Some(2));
        assert_eq!(row.line(), "passed x.kgp in 6.0 s (2 CPUs)");
        assert_eq!(row.column(7), "passed  x.kgp       6.0 s  2 CPUs");
        assert_eq!(row.failure_status(), None);
        for (code, status) in [
            (1, Status::Failed),
            (4, Status::Failed),
            (5, Status::Failed),
            (2, Status::Error),
            (101, Status::Error),
        ] {
            let row = Row::read(
                Path::new("x.kgp"),
                MessageFormat::Human,
                &output(code, "", "error[KGP0001]: x\n"),
                second,
            );
            assert_eq!(row.status, status, "exit {code}");
            assert_eq!(row.cpus, None);
            assert_eq!(row.failure_status(), Some(code));
        }
        let killed = Output {
            status: ExitStatus::from_raw(9),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let row = Row::read(Path::new("x.kgp"), MessageFormat::Human, &killed, second);
        assert_eq!(row.status, Status::Error);
        assert_eq!(row.failure_status(), Some(EXIT_TEST));
        assert!(row.output.contains("killed by a signal"));
    }

    #[test]
    fn a_json_child_gives_its_diagnostics_and_summary_to_its_record() {
        let stdout = "{\"code\":\"KGP0209\",\"severity\":\"error\"}\n\
                      {\"summary\":{\"command\":\"test\",\"status\":\"error\",\"vm\":{\"cpus\":2}}}\n";
        let row = Row::read(
            Path::new("x.kgp"),
            MessageFormat::Json,
            &output(5, stdout, ""),
            Duration::from_millis(1250),
        );
        assert_eq!(row.status, Status::Failed);
        assert_eq!(row.cpus, Some(2));
        let record = row.record();
        assert_eq!(record["spec"]["status"], "failed");
        assert_eq!(record["spec"]["seconds"], 1.3);
        assert_eq!(record["spec"]["diagnostics"][0]["code"], "KGP0209");
        assert_eq!(record["spec"]["summary"]["status"], "error");
        assert!(record["spec"].get("output").is_none());
        let lost = Row::not_run(Path::new("y.kgp"), "cannot run kgpc").record();
        assert_eq!(lost["spec"]["status"], "error");
        assert_eq!(lost["spec"]["output"], "cannot run kgpc");
    }
}
