//! `kgpc kernel list`, `kgpc kernel drop-debug` and `kgpc kernel gc`: what
//! each cached release keeps and takes, a release's debug files dropped once
//! its index answers for them, and the cache kept within a size.

use super::size;
use crate::cli::MessageFormat;
use crate::error::Error;
use crate::fetch::{self, trim, KernelPaths, ReleaseClaim};
use crate::kernel::{elf, index_cache, rendered, Kernel, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

fn refused(message: String, help: &str) -> Error {
    Error::CacheTrim {
        message,
        help: help.to_string(),
        usage: false,
    }
}

/// What the cache keeps of a release's debug information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DebugFiles {
    Vmlinux,
    IndexOnly,
    Missing,
}

impl DebugFiles {
    fn of(paths: &KernelPaths) -> DebugFiles {
        if paths.vmlinux().is_file() {
            DebugFiles::Vmlinux
        } else if paths.is_index_only() {
            DebugFiles::IndexOnly
        } else {
            DebugFiles::Missing
        }
    }

    fn words(self) -> &'static str {
        match self {
            DebugFiles::Vmlinux => "debug vmlinux",
            DebugFiles::IndexOnly => "index only",
            DebugFiles::Missing => "no debug files",
        }
    }
}

/// The build id of `release`'s vmlinux: from the mark of dropped debug
/// files (`BUILD-ID-SIZE`), else from the vmlinux itself.
fn vmlinux_build_id(paths: &KernelPaths) -> Option<String> {
    if let Some(key) = fetch::dropped_debug_key(&paths.vmlinux()) {
        return key.rsplit_once('-').map(|(id, _)| id.to_string());
    }
    let file = elf::ElfFile::open(&paths.vmlinux()).ok()?;
    elf::build_id(&file.parse().ok()?)
}

/// The files of `<cache>/index` that belong to `release`'s vmlinux: its
/// indexes of every format, their rendered facts and its census.
fn index_files(cache: &Path, paths: &KernelPaths) -> Vec<PathBuf> {
    let Some(id) = vmlinux_build_id(paths) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache.join("index"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&format!("{id}-")) || name.starts_with(&format!("{id}."))
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

fn bytes_of(files: &[PathBuf]) -> u64 {
    files.iter().map(|f| trim::disk_usage(f)).sum()
}

/// `kgpc kernel list`: each release, what it keeps of its debug files, and its size.
pub fn list(cache: &Path, format: MessageFormat) {
    let releases = fetch::cached_releases(cache);
    let width = releases.iter().map(String::len).max().unwrap_or(0);
    for release in releases {
        let paths = KernelPaths::in_cache(cache, &release);
        let state = DebugFiles::of(&paths);
        let index = bytes_of(&index_files(cache, &paths));
        let total = trim::disk_usage(&paths.dir) + index;
        if format == MessageFormat::Json {
            let record = serde_json::json!({ "build": {
                "release": release,
                "cached": true,
                "debug": state.words(),
                "dbg_cached": state == DebugFiles::Vmlinux,
                "bytes": total,
                "index_bytes": index,
            }});
            crate::outln!("{record}");
            continue;
        }
        let detail = if state == DebugFiles::IndexOnly {
            format!("  (index and facts {})", size::show(index))
        } else {
            String::new()
        };
        crate::outln!(
            "{release:<width$}  {:<14}  {}{detail}",
            state.words(),
            size::show(total)
        );
    }
}

/// `kgpc kernel drop-debug RELEASE`.
pub fn drop_debug(cache: &Path, release: &str) -> Result<(), Error> {
    let paths = complete_release(cache, release)?;
    match DebugFiles::of(&paths) {
        DebugFiles::IndexOnly => {
            crate::outln!("{release}: the debug files were already dropped; its index answers for them");
            return Ok(());
        }
        DebugFiles::Missing => {
            return Err(refused(
                format!("{release} has no debug vmlinux in the kgpc cache to drop"),
                &format!("fetch it with `kgpc kernel fetch {release}`; `kgpc kernel list` shows what each release keeps"),
            ))
        }
        DebugFiles::Vmlinux => {}
    }
    let claim = ReleaseClaim::try_take(cache, release).ok_or_else(|| in_use(release))?;
    let before = trim::disk_usage(&paths.dir) + bytes_of(&index_files(cache, &paths));
    let removed = drop_one(cache, &paths, &claim)?;
    report(&format!("the debug files of {release}"), &removed);
    let after = trim::disk_usage(&paths.dir) + bytes_of(&index_files(cache, &paths));
    crate::outln!(
        "{release}: {} ({before} bytes) before, {} ({after} bytes) after",
        size::show(before),
        size::show(after)
    );
    Ok(())
}

fn in_use(release: &str) -> Error {
    refused(
        format!("a running kgpc uses {release}"),
        "wait for it to finish, then run this again",
    )
}

/// The complete tree of `release`, or the error that the cache has none.
fn complete_release(cache: &Path, release: &str) -> Result<KernelPaths, Error> {
    if !fetch::valid_release(release) {
        return Err(Error::CacheTrim {
            message: format!("`{release}` is not a kernel release such as 6.1.0-57-cloud-amd64"),
            help: "`kgpc kernel list` shows the releases in the cache".into(),
            usage: true,
        });
    }
    fetch::ready(cache, release)
        .map_err(Error::from)?
        .ok_or_else(|| {
            refused(
                format!("the kgpc cache has no complete tree of {release}"),
                "`kgpc kernel list` shows the releases in the cache",
            )
        })
}

/// Indexes `paths`' vmlinux if it is not yet, renders its facts beside the
/// index, checks that they read back whole, and then drops the debug files.
fn drop_one(
    cache: &Path,
    paths: &KernelPaths,
    claim: &ReleaseClaim,
) -> Result<trim::Removed, Error> {
    let vmlinux = paths.vmlinux();
    let unreadable = |why: String| {
        refused(
            format!("cannot index the debug vmlinux of {}: {why}", paths.release),
            "nothing was removed; fetch the release again with `kgpc kernel fetch RELEASE --restore-debug`",
        )
    };
    let options = OpenOptions {
        cache_dir: Some(cache.to_path_buf()),
        progress: std::io::stderr().is_terminal(),
        object_name: Some("vmlinux".into()),
        btf_base: None,
    };
    let kernel = Kernel::open(&vmlinux, &options).map_err(|e| unreadable(e.to_string()))?;
    let meta = kernel.meta();
    let build_id = meta
        .build_id
        .clone()
        .ok_or_else(|| unreadable("it has no build id, which names its index".into()))?;
    let key = index_cache::key_of(&build_id, meta.size);
    let index_path = index_cache::path_for_key(cache, &key);
    if index_cache::load(&index_path).is_none() {
        return Err(unreadable(format!(
            "its index was not written to {}",
            index_path.display()
        )));
    }
    let started = std::time::Instant::now();
    let facts = kernel.render();
    let facts_path = rendered::path_for(&index_path);
    rendered::store(&facts_path, &facts).map_err(|e| unreadable(e.to_string()))?;
    if rendered::load(&facts_path, Some(&build_id), meta.size).as_ref() != Some(&facts) {
        return Err(unreadable(format!(
            "its rendered facts do not read back from {}",
            facts_path.display()
        )));
    }
    crate::errln!(
        "kgpc kernel: rendered {} facts of the vmlinux of {} in {:.1} s into {} ({})",
        facts.len(),
        paths.release,
        started.elapsed().as_secs_f64(),
        facts_path.display(),
        size::show(trim::disk_usage(&facts_path))
    );
    drop(kernel);
    trim::drop_debug_files(cache, &paths.release, &key, claim).map_err(Error::from)
}

/// Prints what a removal took away.
fn report(what: &str, removed: &trim::Removed) {
    crate::outln!("removed {what}: {}", size::show(removed.bytes));
    for path in &removed.paths {
        crate::outln!("  {}", path.display());
    }
}

/// One step `kgpc kernel gc` takes, with the bytes it frees.
enum Step {
    DropDebug(String),
    Deb(PathBuf),
    Release(String),
}

/// `kgpc kernel gc --max-size SIZE [--dry-run]`.
pub fn gc(cache: &Path, max_size: &str, dry_run: bool) -> Result<(), Error> {
    let max = size::parse(max_size).ok_or_else(|| Error::CacheTrim {
        message: format!("`{max_size}` is not a size such as 5G, 800M or 1000000"),
        help: "give bytes, or a number with K, M, G or T (powers of 1024)".into(),
        usage: true,
    })?;
    let before = trim::disk_usage(cache);
    let mut total = before;
    let mut releases = fetch::cached_releases(cache);
    releases.sort_by_key(|r| fetch::last_used(cache, r));
    let would = if dry_run { "would remove" } else { "removed" };
    // What a dry run has counted as removed already, so no byte counts twice.
    let mut counted: Vec<PathBuf> = Vec::new();
    let mut steps: Vec<Step> = releases
        .iter()
        .filter(|r| is_indexed(cache, &KernelPaths::in_cache(cache, r)))
        .map(|r| Step::DropDebug(r.clone()))
        .collect();
    steps.extend(debs_oldest_first(cache).into_iter().map(Step::Deb));
    steps.extend(releases.iter().map(|r| Step::Release(r.clone())));
    for step in steps {
        if total <= max {
            break;
        }
        let freed = match step {
            Step::DropDebug(release) => {
                let paths = KernelPaths::in_cache(cache, &release);
                let Some(claim) = ReleaseClaim::try_take(cache, &release) else {
                    crate::outln!("kept {release}: a running kgpc uses it");
                    continue;
                };
                if dry_run {
                    let mut files = vec![paths.vmlinux()];
                    files.extend(trim::dbg_debs(cache, &release));
                    let bytes = bytes_of(&files);
                    counted.extend(files);
                    crate::outln!(
                        "{would} the debug files of {release}: {}",
                        size::show(bytes)
                    );
                    bytes
                } else {
                    let removed = drop_one(cache, &paths, &claim)?;
                    report(&format!("the debug files of {release}"), &removed);
                    removed.bytes
                }
            }
            Step::Deb(deb) => {
                if counted.contains(&deb) {
                    continue;
                }
                let bytes = trim::disk_usage(&deb);
                if !dry_run
                    && trim::remove_debs(cache, std::slice::from_ref(&deb))?
                        .paths
                        .is_empty()
                {
                    continue;
                }
                crate::outln!("{would} {}: {}", deb.display(), size::show(bytes));
                bytes
            }
            Step::Release(release) => {
                let paths = KernelPaths::in_cache(cache, &release);
                if !paths.dir.is_dir() {
                    continue;
                }
                let Some(claim) = ReleaseClaim::try_take(cache, &release) else {
                    crate::outln!("kept {release}: a running kgpc uses it");
                    continue;
                };
                let index = index_files(cache, &paths);
                let gone: Vec<PathBuf> = counted
                    .iter()
                    .filter(|p| p.starts_with(&paths.dir))
                    .cloned()
                    .collect();
                let bytes = (trim::disk_usage(&paths.dir) + bytes_of(&index))
                    .saturating_sub(bytes_of(&gone));
                if !dry_run {
                    trim::remove_release(cache, &release, &index, &claim)?;
                }
                crate::outln!("{would} the release {release}: {}", size::show(bytes));
                bytes
            }
        };
        total = if dry_run {
            total.saturating_sub(freed)
        } else {
            trim::disk_usage(cache)
        };
    }
    let verb = if dry_run { "would be" } else { "is" };
    crate::outln!(
        "the kgpc cache was {} ({before} bytes) and {verb} {} ({total} bytes); the limit is {} ({max} bytes)",
        size::show(before),
        size::show(total),
        size::show(max)
    );
    if total > max {
        crate::outln!("it does not fit: what is left is in use or is the cache's own files");
    }
    Ok(())
}

/// Whether `paths`' debug vmlinux is there and already indexed in this kgpc's format.
fn is_indexed(cache: &Path, paths: &KernelPaths) -> bool {
    if DebugFiles::of(paths) != DebugFiles::Vmlinux {
        return false;
    }
    let Ok(file) = elf::ElfFile::open(&paths.vmlinux()) else {
        return false;
    };
    let build_id = file.parse().ok().and_then(|f| elf::build_id(&f));
    index_cache::load(&index_cache::path_for(cache, &file, build_id.as_deref())).is_some()
}

/// The packages of `<cache>/debs`, the least recently written first.
fn debs_oldest_first(cache: &Path) -> Vec<PathBuf> {
    let mut debs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(cache.join("debs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    debs.sort();
    debs.into_iter().map(|(_, p)| p).collect()
}
