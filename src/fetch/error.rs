//! Why a kernel could not be fetched, in words for the user.

use std::fmt;

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
    /// The release's debug package was dropped from the cache, leaving its index.
    DebugDropped(String),
    /// The archive has no source package of exactly the version the image was built from.
    NoMatchingSource {
        release: String,
        package: String,
        image_version: String,
        available: Vec<String>,
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
        }
    }
}
