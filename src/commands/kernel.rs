//! `kgpc kernel`: fetch, list and locate target kernels in the kgpc cache.

use super::session::Session;
use crate::cli::{KernelArgs, KernelCommand, KernelPart, MessageFormat};
use crate::error::Error;
use crate::fetch::{self, cache_dir, FetchOptions, KernelPaths};
use std::path::Path;

pub fn kernel(args: &KernelArgs) -> Result<(), Error> {
    let cache = cache_dir();
    match &args.command {
        KernelCommand::Fetch {
            releases,
            no_dbg,
            debuginfod,
            print,
            source,
            restore_debug,
        } => {
            let releases = match expand(&cache, releases) {
                Ok(releases) => releases,
                Err(error) => return Err(fail(error.into(), "fetch the kernel")),
            };
            let mut failed = None;
            for release in releases {
                if let (true, Ok(release)) = (*restore_debug, &release) {
                    if let Err(error) = fetch::trim::forget_dropped_debug(&cache, release) {
                        failed = Some(fail(error.into(), "fetch the kernel"));
                        continue;
                    }
                }
                let done = if *source || *print == KernelPart::Source {
                    fetch_source(&cache, release)
                } else {
                    let options = FetchOptions {
                        dbg: !no_dbg,
                        debuginfod: *debuginfod,
                    };
                    fetch_kernel(&cache, release, &options, *print)
                };
                // Every release is fetched; the last failure is the run's.
                failed = done.err().or(failed);
            }
            failed.map_or(Ok(()), Err)
        }
        KernelCommand::List {
            available,
            targets,
            message_format,
        } => {
            if *available {
                return super::kernel_list::list_available(&cache, targets, *message_format);
            }
            super::kernel_trim::list(&cache, *message_format);
            Ok(())
        }
        KernelCommand::DropDebug { release } => super::kernel_trim::drop_debug(&cache, release)
            .map_err(|e| fail(e, "drop the debug files")),
        KernelCommand::Gc { max_size, dry_run } => {
            super::kernel_trim::gc(&cache, max_size, *dry_run)
                .map_err(|e| fail(e, "trim the cache"))
        }
        KernelCommand::Census {
            release,
            qemu,
            busybox,
        } => census(&cache, &or_current(&cache, release), qemu, busybox),
        KernelCommand::Path { release, print } => {
            let release = or_current(&cache, release);
            let paths = KernelPaths::in_cache(&cache, &release);
            let path = part(&paths, *print);
            let missing = match print {
                KernelPart::Source => fetch::source_ready(&cache, &release).is_none(),
                _ => !path.exists(),
            };
            if !fetch::valid_release(&release) || missing {
                return Err(fail(Error::NotInCache { path, release }, "find the kernel"));
            }
            crate::outln!("{}", path.display());
            Ok(())
        }
    }
}

/// The releases `kgpc kernel fetch` was given, each pattern replaced by the
/// archive's builds it matches; none given means the current one.
fn expand(
    cache: &Path,
    given: &[String],
) -> Result<Vec<Result<String, fetch::FetchError>>, fetch::FetchError> {
    if given.is_empty() {
        return Ok(vec![fetch::current_release(cache, fetch::DEFAULT_FLAVOUR)]);
    }
    let mut releases = Vec::new();
    for release in given {
        if !crate::check::release::is_pattern(release) {
            releases.push(Ok(release.clone()));
            continue;
        }
        let builds =
            fetch::available_builds(&|r: &str| crate::check::release::matches(release, r))?;
        if builds.is_empty() {
            return Err(fetch::FetchError::NoMatch {
                pattern: release.clone(),
            });
        }
        for build in builds {
            releases.push(if build.headers {
                Ok(build.release)
            } else {
                Err(fetch::FetchError::Gone {
                    missing: vec![format!("linux-headers-{}", build.release)],
                    release: build.release,
                    version: build.version,
                })
            });
        }
    }
    Ok(releases)
}

/// `kgpc kernel fetch`: the release's packages, printing the part asked for.
fn fetch_kernel(
    cache: &Path,
    release: Result<String, fetch::FetchError>,
    options: &FetchOptions,
    print: KernelPart,
) -> Result<(), Error> {
    let fetched = release.and_then(|release| fetch::fetch(cache, &release, options));
    match fetched {
        Ok(paths) => {
            crate::errln!(
                "kgpc kernel: {} is in {}",
                paths.release,
                paths.dir.display()
            );
            crate::outln!("{}", part(&paths, print).display());
            Ok(())
        }
        Err(error) => Err(fail(error.into(), "fetch the kernel")),
    }
}

/// `kgpc kernel fetch --source`: the release's source tree, printing where it is.
fn fetch_source(cache: &Path, release: Result<String, fetch::FetchError>) -> Result<(), Error> {
    match release.and_then(|release| fetch::fetch_source(cache, &release)) {
        Ok(tree) => {
            crate::errln!(
                "kgpc kernel: the source of {} ({} {}) is in {}",
                tree.release,
                tree.package.package,
                tree.package.version,
                tree.dir.display()
            );
            crate::outln!("{}", tree.dir.display());
            Ok(())
        }
        Err(error) => Err(fail(error.into(), "fetch the kernel's source")),
    }
}

/// Reports `error`, which no spec's sources are needed for, as the failure to do `what`.
fn fail(error: Error, what: &str) -> Error {
    Session::new(MessageFormat::Human).fail(error, what)
}

/// The release given, else the one `kgpc kernel fetch` resolved last (empty if none).
fn or_current(cache: &Path, release: &Option<String>) -> String {
    release
        .clone()
        .or_else(|| {
            crate::read::read_data_text(&cache.join("kernels/current"))
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default()
}

/// `kgpc kernel census`: boots the cached image and prints each kernel thread at rest.
fn census(cache: &Path, release: &str, qemu: &Path, busybox: &Path) -> Result<(), Error> {
    // A tree another kgpc is still unpacking is waited for, never booted half-made.
    let paths = fetch::ready(cache, release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::in_cache(cache, release));
    if !fetch::valid_release(release) || !paths.vmlinuz().is_file() {
        let error = Error::NoCensusImage {
            release: release.to_string(),
            image: paths.vmlinuz(),
        };
        return Err(fail(error, "record the census"));
    }
    let request = crate::vm::census::Request {
        release: release.to_string(),
        build_id: None,
        cache_dir: cache.to_path_buf(),
        running: None,
        qemu: qemu.to_path_buf(),
        busybox: busybox.to_path_buf(),
    };
    let census = crate::vm::census::boot(&request, &paths.vmlinuz()).map_err(|why| {
        let error = Error::Census {
            release: release.to_string(),
            why: why.to_string(),
        };
        fail(error, "record the census")
    })?;
    for task in census.tasks.iter().filter(|t| t.kthread) {
        let frames: Vec<String> = task
            .frames
            .iter()
            .map(|f| match &f.module {
                Some(m) => format!("{} [{m}]", f.function),
                None => f.function.clone(),
            })
            .collect();
        crate::outln!("{} ({}): {}", task.comm, task.pid, frames.join(" "));
    }
    Ok(())
}

/// The path of one part of a cached kernel.
fn part(paths: &KernelPaths, part: KernelPart) -> std::path::PathBuf {
    match part {
        KernelPart::Kdir => paths.kdir(),
        KernelPart::Vmlinuz => paths.vmlinuz(),
        KernelPart::Vmlinux => paths.vmlinux(),
        KernelPart::Modules => paths.modules(),
        KernelPart::Root => paths.root(),
        KernelPart::Source => paths.source(),
    }
}
