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
            release,
            no_dbg,
            print,
            source,
            restore_debug,
        } => {
            let release = release.clone().map_or_else(
                || fetch::current_release(&cache, fetch::DEFAULT_FLAVOUR),
                Ok,
            );
            if let (true, Ok(release)) = (*restore_debug, &release) {
                if let Err(error) = fetch::trim::forget_dropped_debug(&cache, release) {
                    return Err(fail(error.into(), "fetch the kernel"));
                }
            }
            if *source || *print == KernelPart::Source {
                fetch_source(&cache, release)
            } else {
                fetch_kernel(&cache, release, *no_dbg, *print)
            }
        }
        KernelCommand::List => {
            super::kernel_trim::list(&cache);
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

/// `kgpc kernel fetch`: the release's packages, printing the part asked for.
fn fetch_kernel(
    cache: &Path,
    release: Result<String, fetch::FetchError>,
    no_dbg: bool,
    print: KernelPart,
) -> Result<(), Error> {
    let fetched =
        release.and_then(|release| fetch::fetch(cache, &release, &FetchOptions { dbg: !no_dbg }));
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
