//! How one build of the fleet ended, read from its child's JSON output.

use super::super::test_summary::round;
use crate::error::{EXIT_BUILD, EXIT_SPEC_ERRORS, EXIT_TEST};
use crate::fetch::FetchError;
use serde_json::{json, Value};
use std::process::Output;
use std::time::Duration;

/// How one build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Checked, built or proven without errors.
    Passed,
    /// The spec's own requirements leave this build out.
    Skipped,
    /// The spec has errors for this build, or its build or proof failed.
    Failed,
    /// The build is not in the cache and cannot be fetched.
    Unavailable,
    /// kgpc could not run for it (a crash, a signal, a usage error).
    Error,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Unavailable => "unavailable",
            Status::Error => "error",
        }
    }
}

/// One build's row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub release: String,
    pub status: Status,
    pub exit: Option<i32>,
    pub elapsed: Duration,
    /// What the facts came from: the debug vmlinux checked, or why none was.
    pub facts: String,
    /// Shared packages the cached tree took at another version than the build's.
    pub substituted: Vec<String>,
    /// The child's diagnostics.
    pub diagnostics: Vec<Value>,
    /// The child's summary record.
    pub summary: Option<Value>,
    /// What the child printed on standard error, or why it did not run.
    pub output: String,
}

impl Row {
    /// The row of a build that could not be fetched.
    pub fn unavailable(release: &str, error: &FetchError) -> Row {
        let diagnostic = crate::error::Error::Fetch(error.clone()).diagnostic();
        let code = diagnostic.as_ref().map_or("", |d| d.code.as_str());
        Row {
            release: release.to_string(),
            status: Status::Unavailable,
            exit: None,
            elapsed: Duration::ZERO,
            facts: String::new(),
            substituted: Vec::new(),
            diagnostics: vec![json!({
                "code": code,
                "severity": "error",
                "message": error.to_string(),
                "spans": [],
                "notes": [],
                "help": diagnostic.and_then(|d| d.help),
            })],
            summary: None,
            output: String::new(),
        }
    }

    /// The row of a build whose child could not run.
    pub fn not_run(release: &str, why: &str) -> Row {
        Row {
            release: release.to_string(),
            status: Status::Error,
            exit: None,
            elapsed: Duration::ZERO,
            facts: String::new(),
            substituted: Vec::new(),
            diagnostics: Vec::new(),
            summary: None,
            output: why.to_string(),
        }
    }

    /// The row of a child that ran with `--message-format json`.
    pub fn read(release: &str, output: &Output, elapsed: Duration) -> Row {
        let exit = output.status.code();
        let mut row = Row::not_run(release, &String::from_utf8_lossy(&output.stderr));
        row.exit = exit;
        row.elapsed = elapsed;
        for value in String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            match value.get("summary") {
                Some(summary) => row.summary = Some(summary.clone()),
                None => row.diagnostics.push(value),
            }
        }
        // The spec's `requires ... else skip` leaves this build out on purpose.
        let skip = crate::codes::Code::BuildSkipped.as_str();
        let skipped = row
            .summary
            .as_ref()
            .is_some_and(|s| s["status"] == "skipped")
            || row.diagnostics.iter().any(|d| d["code"] == skip);
        row.status = match exit {
            Some(0) if skipped => Status::Skipped,
            Some(0) => Status::Passed,
            Some(EXIT_SPEC_ERRORS | EXIT_BUILD | EXIT_TEST) => Status::Failed,
            _ => Status::Error,
        };
        if exit.is_none() {
            row.output.push_str("kgpc was killed by a signal\n");
        }
        row.facts = row.summary.as_ref().map(facts).unwrap_or_default();
        row
    }

    /// The exit status the run takes from this build: none when it passed or was skipped.
    pub fn failure_status(&self) -> Option<i32> {
        match self.status {
            Status::Passed | Status::Skipped => None,
            Status::Unavailable => Some(EXIT_BUILD),
            _ => Some(self.exit.filter(|&e| e != 0).unwrap_or(EXIT_TEST)),
        }
    }

    /// The module the child built, for `kgpc build`.
    pub fn module(&self) -> Option<&str> {
        self.summary.as_ref()?.get("module")?.as_str()
    }

    /// The first error's code and message, or the first warning's for a skipped build.
    pub fn first_problem(&self) -> Option<String> {
        let wanted = if self.status == Status::Skipped {
            "warning"
        } else {
            "error"
        };
        self.diagnostics
            .iter()
            .find(|d| d["severity"] == wanted)
            .map(|d| {
                format!(
                    "{}: {}",
                    d["code"].as_str().unwrap_or_default(),
                    d["message"].as_str().unwrap_or_default()
                )
            })
    }

    /// The row as one JSON record.
    pub fn record(&self) -> Value {
        let mut record = json!({
            "release": self.release,
            "status": self.status.word(),
            "exit": self.exit,
            "seconds": round(self.elapsed),
            "facts": self.facts,
            "substituted_packages": self.substituted,
            "module": self.module(),
            "diagnostics": self.diagnostics,
            "summary": self.summary,
        });
        if self.summary.is_none() && !self.output.is_empty() {
            record["output"] = Value::String(self.output.clone());
        }
        json!({ "build": record })
    }
}

/// What a child's summary says its facts came from.
fn facts(summary: &Value) -> String {
    let checks = &summary["kernel_checks"];
    if checks["ran"].as_bool() == Some(true) {
        return match checks["vmlinux"]["build_id"].as_str() {
            Some(id) => format!("debug vmlinux {}", &id[..id.len().min(12)]),
            None => "kernel objects".to_string(),
        };
    }
    match checks["skipped"].as_str() {
        Some(why) => format!("not checked: {why}"),
        None => "not checked".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    fn output(code: i32, stdout: &str) -> Output {
        Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: b"kgpc said this\n".to_vec(),
        }
    }

    #[test]
    fn a_childs_exit_status_and_summary_say_how_its_build_ended() {
        let second = Duration::from_secs(1);
        let skipped = "{\"code\":\"KGP0136\",\"severity\":\"warning\",\"message\":\"skipped: CONFIG_BT is not set\"}\n\
                       {\"summary\":{\"status\":\"skipped\",\"kernel_checks\":{\"ran\":false,\"skipped\":\"the build is skipped\"}}}\n";
        let row = Row::read("r", &output(0, skipped), second);
        assert_eq!(row.status, Status::Skipped);
        assert_eq!(row.failure_status(), None);
        assert_eq!(row.facts, "not checked: the build is skipped");
        assert_eq!(
            row.first_problem().unwrap(),
            "KGP0136: skipped: CONFIG_BT is not set"
        );
        for (code, status) in [
            (0, Status::Passed),
            (1, Status::Failed),
            (4, Status::Failed),
            (5, Status::Failed),
            (2, Status::Error),
            (101, Status::Error),
        ] {
            let row = Row::read("r", &output(code, "{\"summary\":{}}\n"), second);
            assert_eq!(row.status, status, "exit {code}");
            assert_eq!(row.failure_status().is_none(), code == 0, "exit {code}");
        }
        let gone = FetchError::Gone {
            release: "r".into(),
            version: "1".into(),
            missing: vec!["linux-headers-r".into()],
        };
        let row = Row::unavailable("r", &gone);
        assert_eq!(row.failure_status(), Some(EXIT_BUILD));
        assert_eq!(row.record()["build"]["diagnostics"][0]["code"], "KGP0221");
    }
}
