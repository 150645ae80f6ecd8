//! How a test's verdict reads: the kernel's console when it explains a
//! failure, the failures' diagnostics and, for people, the last line.

use super::session::{Session, VmFacts};
use crate::check::Model;
use crate::cli::MessageFormat;
use crate::error::Error;
use crate::pipeline::prove::{Verdict, WorkDir};
use std::time::Instant;

/// What the verdict is shown with: the format asked for, the patch's model,
/// the work directory and when the command began.
pub struct Shown<'a> {
    pub format: MessageFormat,
    pub model: &'a Model,
    pub work: &'a WorkDir,
    pub started: Instant,
}

/// Prints the verdict and returns how the test ended.
pub fn render(session: &mut Session, shown: &Shown, verdict: Verdict) -> Result<(), Error> {
    let human = shown.format == MessageFormat::Human;
    if human && verdict.console_explains {
        show_console(&verdict.console);
    }
    for diagnostic in verdict.diagnostics {
        session.push(diagnostic);
    }
    session.vm = Some(VmFacts {
        booted: verdict.booted.clone(),
        cpus: verdict.cpus,
    });
    let failed = session.report("prove the patch in the VM");
    if human {
        let timings = &verdict.timings;
        crate::errln!(
            "{} {} on {}: {} ({} test entries, {}); build {:.1} s, modules first {:.1} s, VM {:.1} s, total {:.1} s",
            if failed { "FAILED" } else { "Tested" },
            shown.model.patch.module_name,
            verdict.booted.as_deref().unwrap_or(&shown.model.target.release),
            if failed { "failed" } else { "passed" },
            verdict.entries,
            cpus_shown(verdict.cpus),
            timings.build.as_secs_f64(),
            timings.prerequisites.as_secs_f64(),
            timings.vm.as_secs_f64(),
            shown.started.elapsed().as_secs_f64()
        );
        if let Some(load) = &verdict.load {
            crate::errln!("Cycles: {load}");
        }
        if shown.work.kept() {
            crate::errln!(
                "Work directory: {} (console.log, report.log, initramfs.cpio)",
                shown.work.path().display()
            );
        }
    }
    if failed {
        Err(Error::Test)
    } else {
        Ok(())
    }
}

/// How the last line says the CPUs the guest had online: `2 CPUs`.
pub fn cpus_shown(cpus: Option<usize>) -> String {
    match cpus {
        Some(1) => "1 CPU".to_string(),
        Some(n) => format!("{n} CPUs"),
        None => "CPUs unknown".to_string(),
    }
}

/// The CPUs the last line [`render`] wrote in `output` says the guest had.
pub fn cpus_in_last_line(output: &str) -> Option<usize> {
    let line = output
        .lines()
        .rfind(|l| l.starts_with("Tested ") || l.starts_with("FAILED "))?;
    let (_, after) = line.split_once(" test entries, ")?;
    let (count, _) = after.split_once(' ')?;
    count.parse().ok()
}

/// Prints the last 60 lines of the kernel's console.
fn show_console(console: &str) {
    crate::errln!("---- the kernel's console (last 60 lines) ----");
    let lines: Vec<&str> = console.lines().collect();
    for line in &lines[lines.len().saturating_sub(60)..] {
        crate::errln!("{}", line.trim_end_matches('\r'));
    }
    crate::errln!("---- end of the console ----");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_says_the_cpus_and_reads_back() {
        for cpus in [Some(1), Some(2), None] {
            let line = format!(
                "FAILED livepatch-x on 6.1: failed (3 test entries, {}); build 1.0 s",
                cpus_shown(cpus)
            );
            assert_eq!(cpus_in_last_line(&format!("error: x\n{line}\n")), cpus);
        }
        assert_eq!(cpus_shown(Some(1)), "1 CPU");
        assert_eq!(cpus_in_last_line("Tested nothing"), None);
    }
}
