//! The package stage, after build: the modules of several builds of one
//! spec in one Debian binary package that installs each under its
//! release's `/lib/modules/R/updates/`, loads the running kernel's on
//! install and at boot, and disables and unloads it on removal.
//!
//! [`control`] writes the metadata, [`scripts`] the maintainer scripts and
//! the boot-time unit, [`deb`] the package through `dpkg-deb`. Nothing here
//! builds a module or reads a spec; `kgpc package` gives the built modules.

pub mod control;
pub mod deb;
pub mod scripts;

use std::fmt;
use std::path::PathBuf;

/// What goes into one package.
#[derive(Clone, Debug)]
pub struct Package {
    /// The Debian package name, `livepatch-NAME`.
    pub name: String,
    /// The patch's name in the spec.
    pub patch: String,
    /// The module's file name without `.ko`, `livepatch-NAME`.
    pub module_name: String,
    /// The module's name in the kernel, `livepatch_NAME`.
    pub kernel_name: String,
    pub version: String,
    /// The Debian architecture, such as `amd64`.
    pub architecture: String,
    /// `Name <address>`, from the spec's first author.
    pub maintainer: String,
    pub authors: Vec<String>,
    pub description: Option<String>,
    /// The spec's file name, for the copyright file.
    pub spec_name: String,
    /// The time the package's files and changelog carry (SOURCE_DATE_EPOCH).
    pub epoch: u64,
    /// One module per kernel release, oldest release first.
    pub builds: Vec<Build>,
}

/// The module built for one release.
#[derive(Clone, Debug)]
pub struct Build {
    pub release: String,
    pub module: PathBuf,
}

/// Why the package could not be made.
#[derive(Debug)]
pub enum PackageError {
    /// A program it needs is not installed.
    MissingTool(String),
    /// A program failed.
    Failed { what: String, message: String },
    /// A file could not be read or written.
    Io { path: PathBuf, message: String },
    /// Nobody to name as the package's maintainer.
    NoMaintainer,
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageError::MissingTool(tool) => write!(f, "`{tool}` is not installed"),
            PackageError::Failed { what, message } => write!(f, "{what} failed: {message}"),
            PackageError::Io { path, message } => {
                write!(
                    f,
                    "cannot write the package at `{}`: {message}",
                    path.display()
                )
            }
            PackageError::NoMaintainer => write!(
                f,
                "the spec names no author `Name <address>` to be the package's maintainer"
            ),
        }
    }
}

/// Writes the package into `out_dir` and returns the `.deb`'s path.
pub fn write(package: &Package, out_dir: &std::path::Path) -> Result<PathBuf, PackageError> {
    deb::write(package, out_dir)
}
