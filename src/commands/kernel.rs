//! `kgpc kernel`: fetch, list and locate target kernels in the kgpc cache.

use super::session::{cache_dir, Session};
use super::{EXIT_BUILD, EXIT_OK};
use crate::cli::{KernelArgs, KernelCommand, KernelPart, MessageFormat};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::fetch::{self, FetchError, FetchOptions, KernelPaths};
use std::path::Path;

pub fn kernel(args: &KernelArgs) -> i32 {
    let cache = cache_dir();
    match &args.command {
        KernelCommand::Fetch {
            release,
            no_dbg,
            print,
        } => {
            let fetched = release
                .clone()
                .map_or_else(
                    || fetch::current_release(&cache, fetch::DEFAULT_FLAVOUR),
                    Ok,
                )
                .and_then(|release| fetch::fetch(&cache, &release, &FetchOptions { dbg: !no_dbg }));
            match fetched {
                Ok(paths) => {
                    crate::errln!(
                        "kgpc kernel: {} is in {}",
                        paths.release,
                        paths.dir.display()
                    );
                    crate::outln!("{}", part(&paths, *print).display());
                    EXIT_OK
                }
                Err(error) => {
                    let mut session = Session::new(MessageFormat::Human);
                    session.diagnostics.push(fetch_diagnostic(&error));
                    session.report("fetch the kernel");
                    EXIT_BUILD
                }
            }
        }
        KernelCommand::List => {
            for release in fetch::cached_releases(&cache) {
                let paths = KernelPaths::in_cache(&cache, &release);
                let dbg = if paths.has_dbg() {
                    " (with debug vmlinux)"
                } else {
                    ""
                };
                crate::outln!("{release}{dbg}");
            }
            EXIT_OK
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
            if !fetch::valid_release(&release) || !path.exists() {
                let shown = if release.is_empty() {
                    "the current kernel".to_string()
                } else {
                    release.clone()
                };
                let mut session = Session::new(MessageFormat::Human);
                session.diagnostics.push(
                    Diagnostic::error(
                        Code::KernelNotFound,
                        format!("the kgpc cache has no {} for {shown}", path.display()),
                    )
                    .with_help(
                        format!("fetch it with `kgpc kernel fetch {release}`")
                            .trim_end()
                            .to_string(),
                    ),
                );
                session.report("find the kernel");
                return EXIT_BUILD;
            }
            crate::outln!("{}", path.display());
            EXIT_OK
        }
    }
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
fn census(cache: &Path, release: &str, qemu: &Path, busybox: &Path) -> i32 {
    // A tree another kgpc is still unpacking is waited for, never booted half-made.
    let paths = fetch::ready(cache, release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::in_cache(cache, release));
    let mut session = Session::new(MessageFormat::Human);
    if !fetch::valid_release(release) || !paths.vmlinuz().is_file() {
        session.diagnostics.push(
            Diagnostic::error(
                Code::KernelNotFound,
                format!("the kgpc cache has no kernel image of `{release}` to boot"),
            )
            .with_note(format!("looked for {}", paths.vmlinuz().display()))
            .with_help(format!(
                "fetch it with `{}`",
                format!("kgpc kernel fetch {release}").trim_end()
            )),
        );
        session.report("record the census");
        return EXIT_BUILD;
    }
    let request = crate::vm::census::Request {
        release: release.to_string(),
        build_id: None,
        cache_dir: cache.to_path_buf(),
        running: None,
        qemu: qemu.to_path_buf(),
        busybox: busybox.to_path_buf(),
    };
    match crate::vm::census::boot(&request, &paths.vmlinuz()) {
        Ok(census) => {
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
            EXIT_OK
        }
        Err(why) => {
            session.diagnostics.push(
                Diagnostic::error(
                    Code::CensusUnavailable,
                    format!("cannot record the census of {release}"),
                )
                .with_note(why)
                .with_help("install QEMU (apt-get install qemu-system-x86) and busybox-static, or name them with --qemu and --busybox"),
            );
            session.report("record the census");
            EXIT_BUILD
        }
    }
}

/// The path of one part of a cached kernel.
fn part(paths: &KernelPaths, part: KernelPart) -> std::path::PathBuf {
    match part {
        KernelPart::Kdir => paths.kdir(),
        KernelPart::Vmlinuz => paths.vmlinuz(),
        KernelPart::Vmlinux => paths.vmlinux(),
        KernelPart::Modules => paths.modules(),
        KernelPart::Root => paths.root(),
    }
}

/// The diagnostic for a failed fetch.
pub(crate) fn fetch_diagnostic(error: &FetchError) -> Diagnostic {
    match error {
        FetchError::MissingTool(tool) => Diagnostic::error(Code::MissingTool, error.to_string())
            .with_help(format!(
                "install it (on Debian: apt-get install {})",
                match tool.split_whitespace().next().unwrap_or("") {
                    "apt-get" | "apt-cache" => "apt",
                    "dpkg-deb" => "dpkg",
                    other => other,
                }
            )),
        _ => Diagnostic::error(Code::KernelFetchFailed, error.to_string()).with_help(
            "kgpc downloads kernels with apt from the distribution's archive: run it as root with \
             network access, or point --kdir (and for tests the cache) at a kernel you have",
        ),
    }
}
