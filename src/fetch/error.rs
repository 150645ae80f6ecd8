//! Why a kernel could not be fetched, in words for the user.

pub use super::debuginfod_error::{Asked, DebuginfodError};
use std::fmt;
use std::path::PathBuf;

/// Why a kernel could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The release is not of a form kgpc can look up.
    BadRelease(String),
    /// A tool (apt-get, apt-cache, dpkg-deb, tar) is missing.
    MissingTool(String),
    /// apt knows no packages for the release, even after refreshing its lists.
    UnknownRelease { release: String, detail: String },
    /// The archive lists the build's image but no longer has `missing`, which a module needs.
    Gone {
        release: String,
        version: String,
        missing: Vec<String>,
    },
    /// No build in the archive matches the pattern.
    NoMatch { pattern: String },
    /// The download failed: no network, or the archive no longer has the files.
    Download { packages: String, detail: String },
    /// Unpacking or writing the cache failed.
    Unpack(String),
    /// The release's debug package was dropped from the cache, leaving its index.
    DebugDropped(String),
    /// The archive has no source package of exactly the version the image was built from.
    NoMatchingSource {
        release: String,
        package: String,
        image_version: String,
        available: Vec<String>,
    },
    /// A debug object could not be had from debuginfod servers.
    Debuginfod(DebuginfodError),
    /// The disk filled while a download or an unpacked file was being written.
    DiskFull {
        /// What was being written, such as "the debug object of build id ...".
        what: String,
        /// The file being written, already removed.
        path: PathBuf,
        /// The bytes the whole file needs, when known.
        needed: Option<u64>,
        /// The bytes written before the disk filled, when kgpc wrote them itself.
        written: Option<u64>,
        /// The bytes left on the disk afterwards, when known.
        left: Option<u64>,
    },
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
            FetchError::Gone {
                release,
                version,
                missing,
            } => write!(
                f,
                "the archive still lists linux-image-{release} ({version}) but no longer has {}, \
                 which a module for it is built against; this build cannot be fetched from it",
                missing.join(" or ")
            ),
            FetchError::NoMatch { pattern } => write!(
                f,
                "no kernel build in apt's lists matches `{pattern}`"
            ),
            FetchError::Download { packages, detail } => {
                write!(f, "could not download {packages}: {detail}")
            }
            FetchError::Unpack(detail) => write!(f, "could not unpack the kernel: {detail}"),
            FetchError::DebugDropped(release) => write!(
                f,
                "the debug package of {release} was dropped from the kgpc cache (its index was kept); \
                 fetch it again with `kgpc kernel fetch {release} --restore-debug`"
            ),
            FetchError::NoMatchingSource {
                release,
                package,
                image_version,
                available,
            } => {
                let has = if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                };
                write!(
                    f,
                    "the archive has no {package} of version {image_version}, the version \
                     linux-image-{release} was built from (it has: {has}); a source of another \
                     version is not the target's source. Pick a release whose source the archive \
                     still has (apt-cache show {package}), or unpack the source of \
                     {image_version} from snapshot.debian.org yourself"
                )
            }
            FetchError::Debuginfod(e) => e.fmt(f),
            FetchError::DiskFull {
                what,
                path,
                needed,
                written,
                left,
            } => {
                use super::disk::size;
                write!(f, "the disk filled while kgpc wrote {what} to {}", path.display())?;
                match (written, needed) {
                    (Some(w), Some(n)) => write!(f, ": {} of {} had been written", size(*w), size(*n))?,
                    (Some(w), None) => write!(f, ": {} had been written (the whole size was not known)", size(*w))?,
                    (None, Some(n)) => write!(f, ", which needs {}", size(*n))?,
                    (None, None) => {}
                }
                write!(f, "; what was written is removed")?;
                match left {
                    Some(left) => write!(f, ", which leaves {} free there", size(*left)),
                    None => Ok(()),
                }
            }
        }
    }
}
