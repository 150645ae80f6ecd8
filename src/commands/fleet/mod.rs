//! `--all-releases`: one spec checked, built or proven for every build its
//! releases match, each by a child `kgpc VERB SPEC --release R` of its own,
//! in parallel up to the number of cores, and one table of build by result.
//!
//! Each child is this same program run for one release, so a build checked
//! among many is checked as it would be alone: against its own debug
//! information, headers and vermagic. What one build does (an error, a
//! crash) cannot stop the others.

mod builds;
mod compare;
mod plan;
mod row;
mod table;

use super::session::Session;
use crate::cli::{FleetArgs, PlanFormat, SpecArgs};
use crate::error::Error;
use crate::fetch;
use row::Row;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The command each build's child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Check,
    Build,
    Test,
}

impl Verb {
    fn word(self) -> &'static str {
        match self {
            Verb::Check => "check",
            Verb::Build => "build",
            Verb::Test => "test",
        }
    }
}

/// One `--all-releases` run.
pub struct Fleet<'a> {
    pub verb: Verb,
    pub spec: &'a SpecArgs,
    pub fleet: &'a FleetArgs,
    pub jobs: Option<u32>,
    /// `kgpc build`'s output directory, which holds one directory per build.
    pub output: Option<&'a Path>,
    /// The child's options after `VERB SPEC --release R --message-format json`,
    /// given the release and, for `kgpc build`, its output directory.
    pub child_options: &'a (dyn Fn(&str, Option<&Path>) -> Vec<OsString> + Sync),
    pub plan: Option<PlanFormat>,
}

/// Runs the verb for every build and prints the summary.
pub fn run(fleet: &Fleet) -> Result<(), Error> {
    let started = Instant::now();
    let format = fleet.spec.message_format;
    let mut session = Session::new(format);
    let what = format!("{} every build", fleet.verb.word());
    if fleet.spec.spec.as_os_str() == "-" || fleet.spec.vmlinux.is_some() {
        let error = Error::FleetArguments {
            why: "--all-releases reads the spec from a file and finds each build's own vmlinux; \
                  it takes neither `-` nor --vmlinux"
                .into(),
        };
        return Err(session.fail(error, &what));
    }
    let (input, options) = super::session::spec_options(fleet.spec);
    let targets = session.compiled.targets(&input, &options);
    let Some(targets) = targets.filter(|t| !t.releases.is_empty()) else {
        if session.report(&what) {
            return Err(Error::Spec);
        }
        let error = Error::FleetArguments {
            why: "the spec's target names no release".into(),
        };
        return Err(session.fail(error, &what));
    };
    let patch = targets.patch.clone().unwrap_or_else(|| "patch".into());
    let cache = fetch::cache_dir();
    let builds = if fleet.plan.is_some() && fleet.fleet.fetch {
        plan::archive_builds(&targets.releases)
    } else {
        builds::fleet_builds(&cache, &targets.releases, fleet.fleet.fetch)
    };
    let builds = builds.map_err(|e| session.fail(Error::Fetch(e), &what))?;
    // Beside, not inside, the directory a single build of the spec writes,
    // which holds only the files kgpc wrote there.
    let output = fleet.output.map_or_else(
        || PathBuf::from(format!("{patch}-releases")),
        Path::to_path_buf,
    );
    if let Some(plan) = fleet.plan {
        plan::print(plan, fleet.spec, &output, &builds, fleet.fleet.fetch);
        return Ok(());
    }
    let runnable = builds.iter().filter(|b| b.unavailable.is_none()).count();
    let jobs = fleet
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(runnable.max(1))
        .max(1);
    let rows = run_all(fleet, &builds, &output, jobs, &cache);
    let compared: Vec<String> = rows
        .iter()
        .filter(|r| matches!(r.status, row::Status::Passed | row::Status::Failed))
        .map(|r| r.release.clone())
        .collect();
    let differs = compare_builds(&mut session, fleet.spec, &compared, &cache, &what);
    let shown = table::Shown {
        format,
        command: fleet.verb.word(),
        patch: &patch,
        jobs,
        wall: started.elapsed(),
    };
    table::render(&shown, &rows);
    let worst = rows.iter().filter_map(Row::failure_status).max();
    let worst = if differs {
        Some(worst.unwrap_or(0).max(crate::error::EXIT_SPEC_ERRORS))
    } else {
        worst
    };
    match worst {
        None => Ok(()),
        Some(status) => Err(Error::SpecsFailed {
            failed: rows.iter().filter(|r| r.failure_status().is_some()).count(),
            status,
        }),
    }
}

/// Compares the spec's replaced functions across `releases` and reports
/// where they differ; returns whether any difference is an error.
fn compare_builds(
    session: &mut Session,
    spec: &SpecArgs,
    releases: &[String],
    cache: &Path,
    what: &str,
) -> bool {
    let Some(first) = releases.first() else {
        return false;
    };
    let (input, mut options) = super::session::spec_options(spec);
    options.release = Some(first.clone());
    options.kernel_checks = false;
    options.progress = false;
    let compiled = crate::pipeline::compile(&input, &options);
    let Some(model) = compiled.model.as_ref() else {
        return false;
    };
    let found = compare::differences(model, releases, cache);
    if found.is_empty() {
        return false;
    }
    session.compiled = crate::pipeline::Compiled::default();
    session.compiled.sources = compiled.sources;
    for diagnostic in found {
        session.compiled.diagnostics.push(diagnostic);
    }
    session.report(what)
}

/// Runs the builds' children, `jobs` at a time; returns their rows in the order of `builds`.
fn run_all(
    fleet: &Fleet,
    builds: &[builds::FleetBuild],
    output: &Path,
    jobs: usize,
    cache: &Path,
) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; builds.len()]);
    let total = builds.len();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(build) = builds.get(index) else {
                    break;
                };
                let mut row = match &build.unavailable {
                    Some(error) => Row::unavailable(&build.release, error),
                    None => {
                        crate::errln!("kgpc: [{}/{total}] started {}", index + 1, build.release);
                        run_one(fleet, &build.release, output)
                    }
                };
                row.substituted = substituted(cache, &build.release);
                crate::errln!(
                    "kgpc: [{}/{total}] {} {} in {:.1} s",
                    index + 1,
                    row.status.word(),
                    build.release,
                    row.elapsed.as_secs_f64()
                );
                if let Ok(mut rows) = rows.lock() {
                    rows[index] = Some(row);
                }
            });
        }
    });
    rows.into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(builds)
        .map(|(row, build)| row.unwrap_or_else(|| Row::not_run(&build.release, "its run was lost")))
        .collect()
}

/// Runs one build's child and reads how it ended.
fn run_one(fleet: &Fleet, release: &str, output: &Path) -> Row {
    let started = Instant::now();
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => return Row::not_run(release, &format!("cannot find kgpc itself: {e}")),
    };
    let dir = (fleet.verb == Verb::Build).then(|| output.join(release));
    let mut line: Vec<OsString> = vec![
        fleet.verb.word().into(),
        fleet.spec.spec.clone().into(),
        "--release".into(),
        release.into(),
        "--message-format".into(),
        "json".into(),
    ];
    line.extend((fleet.child_options)(release, dir.as_deref()));
    let result = Command::new(program)
        .args(line)
        .stdin(Stdio::null())
        .output();
    match result {
        Ok(output) => Row::read(release, &output, started.elapsed()),
        Err(e) => Row::not_run(release, &format!("cannot run kgpc: {e}")),
    }
}

/// The shared packages the cached tree of `release` took at another version.
fn substituted(cache: &Path, release: &str) -> Vec<String> {
    let file = fetch::KernelPaths::in_cache(cache, release)
        .root()
        .join(fetch::SUBSTITUTES);
    crate::read::read_data_text(&file)
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The options every child takes from the spec's: the places it may read.
pub fn spec_child_options(spec: &SpecArgs) -> Vec<OsString> {
    let mut line = Vec::new();
    for allowed in &spec.allow_path {
        line.push("--allow-path".into());
        line.push(allowed.clone().into());
    }
    if spec.no_kernel_checks {
        line.push("--no-kernel-checks".into());
    }
    if let Some(modules) = &spec.modules {
        line.push("--modules".into());
        line.push(modules.clone().into());
    }
    line
}
