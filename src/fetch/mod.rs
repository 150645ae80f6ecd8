//! The kernel cache: Debian kernel packages fetched with apt and unpacked into
//! `<cache>/kernels/<release>/root/`.
//!
//! ```text
//! <cache>/debs/*.deb                          downloaded packages, kept for reuse
//! <cache>/kernels/<release>/release           written last, when the tree is complete
//! <cache>/kernels/<release>/root/.kgpc-complete       image, headers, kbuild unpacked
//! <cache>/kernels/<release>/root/.kgpc-dbg-complete   debug vmlinux and System.map too
//! <cache>/kernels/<release>/root/usr/lib/debug/lib/modules/<release>/...ko
//!                                             modules' debug objects, each taken when first needed
//! <cache>/kernels/current                    the release `kernel fetch` resolved last
//! <cache>/lock                                runs take turns (flock)
//! <cache>/census.lock                         census boots take turns (see crate::vm::census)
//! ```
//!
//! Trees are unpacked under a temporary name, made self-contained (nothing in
//! them may point into the host's `/usr/src` or `/lib/modules`; see
//! [`host_paths`]), marked complete with the cache's format and renamed into
//! place. Readers use a tree only through [`ready`], which waits for a fetch
//! under way and brings a tree of an older format up to date. Nothing is
//! installed on the system: packages are downloaded with `apt-get download`
//! and unpacked with `dpkg-deb`.

pub mod host_paths;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where one release lives in the cache.
#[derive(Debug, Clone)]
pub struct KernelPaths {
    pub release: String,
    pub dir: PathBuf,
}

impl KernelPaths {
    pub fn new(release: &str) -> Self {
        Self::in_cache(&cache_dir(), release)
    }

    pub fn in_cache(cache: &Path, release: &str) -> Self {
        KernelPaths {
            release: release.to_string(),
            dir: cache.join("kernels").join(release),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }
    /// The module build tree (the headers package).
    pub fn kdir(&self) -> PathBuf {
        self.root()
            .join(format!("usr/src/linux-headers-{}", self.release))
    }
    /// The bootable, compressed image.
    pub fn vmlinuz(&self) -> PathBuf {
        self.root().join(format!("boot/vmlinuz-{}", self.release))
    }
    /// The debug vmlinux with DWARF and symbols.
    pub fn vmlinux(&self) -> PathBuf {
        self.root()
            .join(format!("usr/lib/debug/boot/vmlinux-{}", self.release))
    }
    /// The modules of the image package.
    pub fn modules(&self) -> PathBuf {
        self.root().join(format!("lib/modules/{}", self.release))
    }
    /// Where debug objects of modules taken from the `-dbg` package go.
    pub fn module_debug_dir(&self) -> PathBuf {
        self.root()
            .join(format!("usr/lib/debug/lib/modules/{}", self.release))
    }
    /// The mark written when the tree is complete and self-contained.
    fn complete_mark(&self) -> PathBuf {
        self.root().join(".kgpc-complete")
    }
    /// Whether the tree is complete, in the cache's current format.
    pub fn is_complete(&self) -> bool {
        crate::read::read_data_text(&self.complete_mark()).is_ok_and(|mark| mark == TREE_FORMAT)
    }
    /// Whether the tree was completed by an older kgpc, whose trees may still
    /// refer to the host.
    fn is_outdated(&self) -> bool {
        self.complete_mark().is_file() && !self.is_complete()
    }
    pub fn has_dbg(&self) -> bool {
        self.root().join(".kgpc-dbg-complete").is_file()
    }
}

/// The kgpc cache directory: `$KGPC_CACHE_DIR`, else `$XDG_CACHE_HOME/kgpc`, else `~/.cache/kgpc`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KGPC_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("kgpc")
}

/// Why a kernel could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The release is not of a form kgpc can look up.
    BadRelease(String),
    /// A tool (apt-get, apt-cache, dpkg-deb, tar) is missing.
    MissingTool(String),
    /// apt knows no packages for the release, even after refreshing its lists.
    UnknownRelease { release: String, detail: String },
    /// The download failed: no network, or the archive no longer has the files.
    Download { packages: String, detail: String },
    /// Unpacking or writing the cache failed.
    Unpack(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::BadRelease(r) => write!(
                f,
                "`{r}` is not a kernel release such as 6.1.0-57-cloud-amd64"
            ),
            FetchError::MissingTool(t) => write!(f, "`{t}` is not installed; kgpc fetches kernels with apt-get and dpkg-deb"),
            FetchError::UnknownRelease { release, detail } => write!(
                f,
                "apt knows no packages for kernel {release} (looked for linux-headers-{release}){detail}"
            ),
            FetchError::Download { packages, detail } => {
                write!(f, "could not download {packages}: {detail}")
            }
            FetchError::Unpack(detail) => write!(f, "could not unpack the kernel: {detail}"),
        }
    }
}

/// Checks that `release` looks like `uname -r`, so it can go into package names and paths.
pub fn valid_release(release: &str) -> bool {
    !release.is_empty()
        && release.len() <= 64
        && release.starts_with(|c: char| c.is_ascii_digit())
        && release
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-_".contains(c))
}

/// The contents of a tree's completion mark. Trees whose mark differs were made
/// by another version of kgpc and are brought up to date before use.
const TREE_FORMAT: &str = "kgpc kernel tree 2: self-contained\n";

/// Options of one fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Also take the debug vmlinux and System.map from the `-dbg` package.
    pub dbg: bool,
}

/// The flavour whose current release `kgpc kernel fetch` takes when no release is given.
pub const DEFAULT_FLAVOUR: &str = "cloud-amd64";

/// The release the archive's `linux-image-FLAVOUR` meta-package depends on now,
/// such as `6.1.0-57-cloud-amd64`, so that nothing pins one ABI.
///
/// Each `apt-cache` run parses all of apt's lists (most of a second where
/// apt's binary cache is off), so the answer is kept in `kernels/current`
/// and reused while apt's lists and sources are older than that file. When
/// apt knows no such package, its lists are refreshed once; offline, the
/// previous answer is used if its kernel is complete in the cache.
pub fn current_release(cache: &Path, flavour: &str) -> Result<String, FetchError> {
    let current = cache.join("kernels").join("current");
    let previous = crate::read::read_data_text(&current)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| valid_release(s));
    if let Some(previous) = previous.as_ref().filter(|_| newer_than_apt_state(&current)) {
        return Ok(previous.clone());
    }
    let meta = format!("linux-image-{flavour}");
    let mut apt = Apt { updated: false };
    for attempt in 0..2 {
        let (ok, text) = output(
            Command::new("apt-cache")
                .args(["show", "--no-all-versions"])
                .arg(&meta)
                .env("LC_ALL", "C"),
        )?;
        let depends = text
            .lines()
            .find_map(|l| l.strip_prefix("Depends: "))
            .unwrap_or_default();
        let release = depends
            .split(',')
            .filter_map(|d| d.split_whitespace().next())
            .filter_map(|d| d.strip_prefix("linux-image-"))
            .find(|r| r.ends_with(&format!("-{flavour}")) && valid_release(r));
        if let (true, Some(release)) = (ok, release) {
            let _ = fs::create_dir_all(cache.join("kernels"));
            let _ = fs::write(&current, format!("{release}\n"));
            return Ok(release.to_string());
        }
        if let Some(previous) = previous
            .as_ref()
            .filter(|p| KernelPaths::in_cache(cache, p).is_complete())
        {
            say(&format!(
                "apt's lists name no {meta}; using the cached {previous}"
            ));
            return Ok(previous.clone());
        }
        if attempt == 0 {
            apt.update()?;
        }
    }
    Err(FetchError::UnknownRelease {
        release: meta,
        detail: "; check that apt's sources name Debian's archive".into(),
    })
}

/// Whether `file` is newer than apt's package lists and sources.
fn newer_than_apt_state(file: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(stamp) = modified(file) else {
        return false;
    };
    [
        "/var/lib/apt/lists",
        "/etc/apt/sources.list",
        "/etc/apt/sources.list.d",
    ]
    .iter()
    .filter_map(|p| modified(Path::new(p)))
    .all(|t| t <= stamp)
}

/// Progress goes to standard error through this.
fn say(message: &str) {
    crate::errln!("kgpc kernel: {message}");
}

/// Makes sure the cache holds `release`, fetching what is missing.
pub fn fetch(
    cache: &Path,
    release: &str,
    options: &FetchOptions,
) -> Result<KernelPaths, FetchError> {
    if !valid_release(release) {
        return Err(FetchError::BadRelease(release.to_string()));
    }
    let paths = KernelPaths::in_cache(cache, release);
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }
    let io = |what: &str, e: std::io::Error| FetchError::Unpack(format!("{what}: {e}"));
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| io(&debs.display().to_string(), e))?;
    fs::create_dir_all(&paths.dir).map_err(|e| io(&paths.dir.display().to_string(), e))?;
    let _lock = Lock::take(&cache.join("lock"));
    // Another run may have finished while this one waited.
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }

    if paths.is_outdated() {
        bring_up_to_date(&paths)?;
    }
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }

    let mut apt = Apt { updated: false };
    let (version, depends) = apt.headers(release)?;
    if !paths.is_complete() {
        let mut packages = vec![
            format!("linux-image-{release}"),
            format!("linux-headers-{release}={version}"),
        ];
        packages.extend(depends.iter().map(|d| format!("{d}={version}")));
        let files = apt.download(&debs, &packages)?;
        say(&format!(
            "unpacking {release} into {}",
            paths.root().display()
        ));
        let tmp = tempfile::Builder::new()
            .prefix(".tmp.")
            .tempdir_in(&paths.dir)
            .map_err(|e| io("a temporary directory", e))?;
        for file in &files {
            run(Command::new("dpkg-deb")
                .arg("-x")
                .arg(debs.join(file))
                .arg(tmp.path()))
            .map_err(|e| FetchError::Unpack(format!("dpkg-deb -x {file}: {e}")))?;
        }
        self_contained(tmp.path(), &paths.root())?;
        fs::write(tmp.path().join(".kgpc-complete"), TREE_FORMAT)
            .map_err(|e| io("the completion mark", e))?;
        let _ = fs::remove_dir_all(paths.root());
        let kept = tmp.keep();
        fs::rename(&kept, paths.root()).map_err(|e| io("renaming the tree into place", e))?;
    }
    if options.dbg && !paths.has_dbg() {
        let files = apt.download(&debs, &[format!("linux-image-{release}-dbg={version}")])?;
        say(&format!("unpacking the debug vmlinux of {release}"));
        extract_dbg(&debs.join(&files[0]), &paths)?;
    }
    let release_file = paths.dir.join("release");
    if !release_file.is_file() {
        fs::write(&release_file, format!("{release}\n"))
            .map_err(|e| io(&release_file.display().to_string(), e))?;
    }
    Ok(paths)
}

/// Points everything in the unpacked `tree` that refers to the host into the
/// tree (whose final place is `root`), then refuses the tree if anything still
/// refers to the host.
fn self_contained(tree: &Path, root: &Path) -> Result<(), FetchError> {
    let unpack = |e: std::io::Error| FetchError::Unpack(format!("{}: {e}", tree.display()));
    host_paths::make_self_contained(tree, root).map_err(unpack)?;
    let left = host_paths::host_references(tree).map_err(unpack)?;
    if left.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = left.iter().take(10).map(|r| format!("  {r}")).collect();
    Err(FetchError::Unpack(format!(
        "the unpacked kernel still refers to files outside the cache, which a build would read \
         from the host; kgpc cannot rewrite {} reference(s):\n{}",
        left.len(),
        shown.join("\n")
    )))
}

/// Rewrites, in place, a tree an older kgpc completed: its headers' Makefile may
/// still include the host's `/usr/src`. The caller holds the cache lock.
fn bring_up_to_date(paths: &KernelPaths) -> Result<(), FetchError> {
    say(&format!(
        "making the cached {} self-contained (it was unpacked by an older kgpc)",
        paths.release
    ));
    let root = paths.root();
    self_contained(&root, &root)?;
    crate::atomic_write::write_atomically(&paths.complete_mark(), TREE_FORMAT.as_bytes())
        .map_err(|e| FetchError::Unpack(format!("the completion mark: {e}")))
}

/// The complete tree of `release` in the cache, if there is one. A fetch under
/// way in another kgpc is waited for, and a tree of an older format is brought
/// up to date, so the tree returned is never one still being unpacked.
pub fn ready(cache: &Path, release: &str) -> Result<Option<KernelPaths>, FetchError> {
    if !valid_release(release) {
        return Ok(None);
    }
    let paths = KernelPaths::in_cache(cache, release);
    if paths.is_complete() {
        return Ok(Some(paths));
    }
    if !paths.dir.is_dir() {
        return Ok(None);
    }
    // Something of this release is in the cache but not complete: a fetch may
    // be under way, which holds the lock until the tree is in place.
    let _lock = Lock::take(&cache.join("lock"));
    if paths.is_outdated() {
        bring_up_to_date(&paths)?;
    }
    Ok(paths.is_complete().then_some(paths))
}

/// Takes the vmlinux and System.map from the start of the `-dbg` package's data.
fn extract_dbg(deb: &Path, paths: &KernelPaths) -> Result<(), FetchError> {
    let tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .tempdir_in(&paths.dir)
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    extract_members(
        deb,
        tmp.path(),
        &["*/boot/vmlinux-*".into(), "*/boot/System.map-*".into()],
    )?;
    let dest = paths.root().join("usr/lib/debug/boot");
    fs::create_dir_all(&dest).map_err(|e| FetchError::Unpack(e.to_string()))?;
    for name in [
        format!("vmlinux-{}", paths.release),
        format!("System.map-{}", paths.release),
    ] {
        fs::rename(
            tmp.path().join("usr/lib/debug/boot").join(&name),
            dest.join(&name),
        )
        .map_err(|e| FetchError::Unpack(format!("{name} is not in {}: {e}", deb.display())))?;
    }
    fs::write(paths.root().join(".kgpc-dbg-complete"), "")
        .map_err(|e| FetchError::Unpack(e.to_string()))
}

/// Extracts the members of a package's data matching `patterns` (tar wildcards) into `dir`:
/// tar stops once it has one of each, and dpkg-deb then dies of a broken pipe, which is
/// expected.
fn extract_members(deb: &Path, dir: &Path, patterns: &[String]) -> Result<(), FetchError> {
    let mut dpkg = spawn(
        Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(deb)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let Some(stdout) = dpkg.stdout.take() else {
        let _ = dpkg.kill();
        let _ = dpkg.wait();
        return Err(FetchError::Unpack("no pipe from dpkg-deb".into()));
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .args(["--occurrence=1", "--wildcards"])
        .args(patterns)
        .stdin(stdout)
        .stderr(Stdio::null())
        .status();
    let _ = dpkg.kill();
    let _ = dpkg.wait();
    match tar {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(FetchError::Unpack(format!(
            "tar found no {} in {} ({status})",
            patterns.join(", "),
            deb.display()
        ))),
        Err(e) => Err(FetchError::MissingTool(format!("tar ({e})"))),
    }
}

/// The debug object of one module of the image, such as `kernel/fs/nfsd/nfsd.ko`, taken
/// from the release's `-dbg` package the first time it is asked for (downloaded if the
/// cache does not have it) and kept in the cache under `usr/lib/debug/lib/modules/`.
pub fn module_debug_object(
    cache: &Path,
    release: &str,
    module: &Path,
) -> Result<PathBuf, FetchError> {
    if !valid_release(release) {
        return Err(FetchError::BadRelease(release.to_string()));
    }
    let paths = KernelPaths::in_cache(cache, release);
    let dest = paths.module_debug_dir().join(module);
    if dest.is_file() {
        return Ok(dest);
    }
    let _lock = Lock::take(&cache.join("lock"));
    if dest.is_file() {
        return Ok(dest);
    }
    let deb = dbg_package(cache, release)?;
    let start = std::time::Instant::now();
    say(&format!(
        "taking the debug object of {} from {}",
        module.display(),
        deb.file_name().unwrap_or_default().to_string_lossy()
    ));
    let tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .tempdir_in(&paths.dir)
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    let member = format!("lib/modules/{release}/{}", module.display());
    extract_members(&deb, tmp.path(), &[format!("*/{member}")])?;
    let found = tmp.path().join("usr/lib/debug").join(&member);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| FetchError::Unpack(e.to_string()))?;
    }
    fs::rename(&found, &dest)
        .map_err(|e| FetchError::Unpack(format!("{member} is not in {}: {e}", deb.display())))?;
    say(&format!(
        "{} is in {} ({:.1} s)",
        module.display(),
        dest.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(dest)
}

/// The release's `-dbg` package in the cache's downloads, downloaded if it is not there.
fn dbg_package(cache: &Path, release: &str) -> Result<PathBuf, FetchError> {
    let debs = cache.join("debs");
    let prefix = format!("linux-image-{release}-dbg_");
    let kept = fs::read_dir(&debs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&prefix) && f.ends_with(".deb"))
        });
    if let Some(deb) = kept {
        return Ok(deb);
    }
    fs::create_dir_all(&debs).map_err(|e| FetchError::Unpack(e.to_string()))?;
    let mut apt = Apt { updated: false };
    let (version, _) = apt.headers(release)?;
    let files = apt.download(&debs, &[format!("linux-image-{release}-dbg={version}")])?;
    Ok(debs.join(&files[0]))
}

struct Apt {
    updated: bool,
}

impl Apt {
    fn command(program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .args(["-q", "-o", "APT::Sandbox::User=root"])
            .env("LC_ALL", "C");
        command
    }

    fn update(&mut self) -> Result<(), FetchError> {
        if self.updated {
            return Ok(());
        }
        self.updated = true;
        say("refreshing apt's package lists (apt-get update)");
        let output = output(Self::command("apt-get").args(["--error-on=any", "update"]))?;
        if !output.0 {
            return Err(FetchError::Download {
                packages: "apt's package lists".into(),
                detail: format!(
                    "apt-get update failed (it needs root and network access to the archive):\n{}",
                    output.1.trim_end()
                ),
            });
        }
        Ok(())
    }

    /// The version of `linux-headers-RELEASE` and the packages it depends on.
    fn headers(&mut self, release: &str) -> Result<(String, Vec<String>), FetchError> {
        let package = format!("linux-headers-{release}");
        for attempt in 0..2 {
            let (ok, text) = output(
                Command::new("apt-cache")
                    .args(["show", "--no-all-versions"])
                    .arg(&package)
                    .env("LC_ALL", "C"),
            )?;
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .map(str::to_string)
            };
            if let (true, Some(version)) = (ok, field("Version")) {
                let depends = field("Depends")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|d| d.split_whitespace().next())
                    .map(|d| d.split('|').next().unwrap_or(d).to_string())
                    .filter(|d| d.starts_with("linux-"))
                    .collect();
                return Ok((version, depends));
            }
            if attempt == 0 {
                self.update()?;
            }
        }
        Err(FetchError::UnknownRelease {
            release: release.to_string(),
            detail: "; check that apt's sources name the distribution the kernel comes from, \
                     and that the archive still has this ABI (apt-cache search linux-headers)"
                .into(),
        })
    }

    /// Downloads the packages into `debs` unless they are there, and returns their file names.
    fn download(&mut self, debs: &Path, packages: &[String]) -> Result<Vec<String>, FetchError> {
        for attempt in 0..2 {
            let (ok, text) = output(
                Self::command("apt-get")
                    .args(["download", "--print-uris"])
                    .args(packages),
            )?;
            if !ok {
                return Err(FetchError::Download {
                    packages: packages.join(" "),
                    detail: format!("apt cannot locate them:\n{}", text.trim_end()),
                });
            }
            let files: Vec<String> = text
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
                .collect();
            if files.len() < packages.len() {
                return Err(FetchError::Download {
                    packages: packages.join(" "),
                    detail: format!("apt names no file for some of them:\n{text}"),
                });
            }
            let missing: Vec<&String> = files.iter().filter(|f| !debs.join(f).is_file()).collect();
            if missing.is_empty() {
                return Ok(files);
            }
            say(&format!(
                "downloading {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            let partial = tempfile::Builder::new()
                .prefix(".partial.")
                .tempdir_in(debs)
                .map_err(|e| FetchError::Unpack(e.to_string()))?;
            let (ok, log) = output(
                Self::command("apt-get")
                    .arg("download")
                    .args(packages)
                    .current_dir(partial.path()),
            )?;
            if ok {
                for entry in fs::read_dir(partial.path())
                    .map_err(|e| FetchError::Unpack(e.to_string()))?
                    .flatten()
                {
                    let _ = fs::rename(entry.path(), debs.join(entry.file_name()));
                }
                continue;
            }
            // The archive keeps only the newest kernels: old lists name files now gone.
            if attempt == 0 && log.contains(" 404 ") && !self.updated {
                self.update()?;
                continue;
            }
            let hint = if log.contains(" 404 ") {
                "Debian's archive no longer has them; pick a release it has"
            } else {
                "check the network access to the archive (apt's messages follow)"
            };
            return Err(FetchError::Download {
                packages: packages.join(" "),
                detail: format!("{hint}:\n{}", log.trim_end()),
            });
        }
        Err(FetchError::Download {
            packages: packages.join(" "),
            detail: "they are still missing after a download".into(),
        })
    }
}

fn spawn(command: &mut Command) -> Result<Child, FetchError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FetchError::MissingTool(program),
        _ => FetchError::Unpack(format!("cannot run {program}: {e}")),
    })
}

/// Runs a command; returns whether it succeeded and what it printed (both streams).
fn output(command: &mut Command) -> Result<(bool, String), FetchError> {
    let child = spawn(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let output = child
        .wait_with_output()
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

fn run(command: &mut Command) -> Result<(), String> {
    match output(command) {
        Ok((true, _)) => Ok(()),
        Ok((false, text)) => Err(text.trim_end().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The cache lock, an exclusive `flock` on `<cache>/lock`, held until this
/// value is dropped; the kernel releases it if kgpc dies. When the lock file
/// cannot be opened, runs go on unlocked: every tree is still renamed into
/// place whole.
pub(crate) struct Lock {
    _held: Option<fs::File>,
}

impl Lock {
    pub(crate) fn take(path: &Path) -> Lock {
        let Ok(file) = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
        else {
            return Lock { _held: None };
        };
        match file.try_lock() {
            Ok(()) => return Lock { _held: Some(file) },
            Err(fs::TryLockError::WouldBlock) => {
                say("waiting for another kgpc to finish with the kernel cache");
            }
            Err(fs::TryLockError::Error(_)) => return Lock { _held: None },
        }
        match file.lock() {
            Ok(()) => Lock { _held: Some(file) },
            Err(_) => Lock { _held: None },
        }
    }
}

/// The releases in the cache that are complete, oldest first (`6.1.0-9` before `6.1.0-10`).
pub fn cached_releases(cache: &Path) -> Vec<String> {
    let mut releases: Vec<String> = fs::read_dir(cache.join("kernels"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("root/.kgpc-complete").is_file())
        .filter(|e| valid_release(&e.file_name().to_string_lossy()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    releases.sort_by_key(|r| natural_key(r));
    releases
}

/// The key that sorts releases as people read them: `6.1.0-10` after `6.1.0-9`.
pub fn natural_key(text: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut digits = String::new();
    let mut other = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !other.is_empty() {
                key.push((0, std::mem::take(&mut other)));
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            other.push(c);
        }
    }
    if !digits.is_empty() {
        key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !other.is_empty() {
        key.push((0, other));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_checked_before_they_reach_a_command() {
        assert!(valid_release("6.1.0-57-cloud-amd64"));
        assert!(valid_release("5.15.0-91-generic"));
        for bad in ["", "-rf", "6.1 0", "6.1/../x", "linux", "6.1;rm"] {
            assert!(!valid_release(bad), "{bad}");
        }
        let cache = tempfile::tempdir().unwrap();
        assert_eq!(
            fetch(cache.path(), "../x", &FetchOptions::default()).unwrap_err(),
            FetchError::BadRelease("../x".into())
        );
    }

    #[test]
    fn releases_sort_as_people_read_them() {
        assert!(natural_key("6.1.0-10-cloud-amd64") > natural_key("6.1.0-9-cloud-amd64"));
        let cache = tempfile::tempdir().unwrap();
        for release in [
            "6.1.0-10-cloud-amd64",
            "6.1.0-9-cloud-amd64",
            "6.1.0-57-cloud-amd64",
        ] {
            let root = cache.path().join("kernels").join(release).join("root");
            fs::create_dir_all(&root).unwrap();
            fs::write(root.join(".kgpc-complete"), TREE_FORMAT).unwrap();
        }
        assert_eq!(
            cached_releases(cache.path()),
            [
                "6.1.0-9-cloud-amd64",
                "6.1.0-10-cloud-amd64",
                "6.1.0-57-cloud-amd64"
            ]
        );
    }

    #[test]
    fn layout_of_the_cache() {
        let paths = KernelPaths::in_cache(Path::new("/c"), "6.1.0-57-cloud-amd64");
        assert_eq!(
            paths.kdir(),
            PathBuf::from(
                "/c/kernels/6.1.0-57-cloud-amd64/root/usr/src/linux-headers-6.1.0-57-cloud-amd64"
            )
        );
        assert_eq!(
            paths.vmlinuz(),
            PathBuf::from("/c/kernels/6.1.0-57-cloud-amd64/root/boot/vmlinuz-6.1.0-57-cloud-amd64")
        );
    }
}
