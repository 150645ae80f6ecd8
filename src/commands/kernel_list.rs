//! `kgpc kernel list --available`: the builds of the distribution's archive,
//! with what each still has there (the cached kernels are `kernel_trim::list`'s).

use super::session::{spec_options, Session};
use crate::cli::{MessageFormat, SpecArgs};
use crate::error::Error;
use crate::fetch::{self, KernelPaths};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Prints the archive's builds that the targets (specs or patterns) match.
pub fn list_available(
    cache: &Path,
    targets: &[String],
    format: MessageFormat,
) -> Result<(), Error> {
    let mut session = Session::new(format);
    let what = "list the archive's builds";
    let mut patterns = Vec::new();
    for target in targets {
        if !target.ends_with(".kgp") && !Path::new(target).is_file() {
            patterns.push(target.clone());
            continue;
        }
        let spec = SpecArgs {
            spec: PathBuf::from(target),
            release: None,
            message_format: format,
            vmlinux: None,
            modules: None,
            no_kernel_checks: true,
            allow_path: Vec::new(),
            kernel_config: None,
        };
        let (input, options) = spec_options(&spec);
        match session.compiled.targets(&input, &options) {
            Some(found) => patterns.extend(found.releases),
            None => {
                session.report(what);
                return Err(Error::Spec);
            }
        }
    }
    let everything = patterns.is_empty();
    let wanted = |r: &str| {
        everything
            || patterns
                .iter()
                .any(|p| crate::check::release::matches(p, r))
    };
    let builds = fetch::available_builds(&wanted).map_err(|e| session.fail(e.into(), what))?;
    if builds.is_empty() {
        let error = fetch::FetchError::NoMatch {
            pattern: patterns.join(" "),
        };
        return Err(session.fail(error.into(), what));
    }
    let cached = |release: &str| {
        let paths = KernelPaths::in_cache(cache, release);
        (paths.is_complete(), paths.has_dbg())
    };
    match format {
        MessageFormat::Json => {
            for build in &builds {
                let (tree, dbg) = cached(&build.release);
                crate::outln!(
                    "{}",
                    json!({ "build": {
                        "release": build.release,
                        "version": build.version,
                        "headers": build.headers,
                        "dbg": build.dbg,
                        "cached": tree,
                        "dbg_cached": dbg,
                    }})
                );
            }
            let fetchable = builds.iter().filter(|b| b.headers).count();
            crate::outln!(
                "{}",
                json!({ "summary": { "command": "kernel list", "builds": builds.len(), "fetchable": fetchable } })
            );
        }
        MessageFormat::Human => {
            let width = builds
                .iter()
                .map(|b| b.release.len())
                .max()
                .unwrap_or(0)
                .max(5);
            let vwidth = builds
                .iter()
                .map(|b| b.version.len())
                .max()
                .unwrap_or(0)
                .max(7);
            crate::outln!(
                "{:<width$}  {:<vwidth$}  HEADERS  DBG  CACHED",
                "BUILD",
                "VERSION"
            );
            let yes = |b: bool| if b { "yes" } else { "no" };
            for build in &builds {
                let cached = match cached(&build.release) {
                    (true, true) => "yes, with debug vmlinux",
                    (true, false) => "yes",
                    _ => "no",
                };
                crate::outln!(
                    "{:<width$}  {:<vwidth$}  {:<7}  {:<3}  {cached}",
                    build.release,
                    build.version,
                    yes(build.headers),
                    yes(build.dbg)
                );
            }
            let gone = builds.iter().filter(|b| !b.headers).count();
            crate::errln!(
                "{} builds in apt's lists; {gone} of them without headers, which no module can be built for",
                builds.len()
            );
        }
    }
    Ok(())
}
