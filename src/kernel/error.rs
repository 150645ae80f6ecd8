//! The errors of the kernel-facts layer: a kernel object that cannot be used
//! ([`KernelError`]), a `.BTF` section that cannot be read, a declaration the
//! debug information cannot give, and a census that cannot be taken.

use std::fmt;
use std::path::{Path, PathBuf};

/// A kernel object that cannot be used, and why, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub path: PathBuf,
    pub problem: String,
}

impl KernelError {
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        KernelError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for KernelError {}

/// Turns a gimli error into words, for `KernelError::problem`.
pub fn dwarf_problem(e: gimli::Error) -> String {
    format!("its DWARF debug information is corrupted ({e})")
}

/// Why a `.BTF` section cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BtfError {
    /// No BTF magic where the header should be.
    NoHeader,
    /// A header or type that runs past the section's end.
    Truncated,
    /// A type of a kind kgpc does not know.
    UnknownKind(u32),
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfError::NoHeader => {
                f.write_str("its .BTF section has no BTF header (wrong magic or byte order)")
            }
            BtfError::Truncated => f.write_str("its .BTF section is corrupted or truncated"),
            BtfError::UnknownKind(kind) => {
                write!(f, "its .BTF section has a type of unknown kind {kind}")
            }
        }
    }
}

impl std::error::Error for BtfError {}

/// Why the debug information gives no C declaration of a function or a
/// variable, in the words a diagnostic's note uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclarationError {
    /// The type graph nests deeper than kgpc follows.
    TooDeep,
    /// An anonymous struct, union or enum, which C cannot name again.
    Anonymous(&'static str),
    /// A BTF type id with no type.
    NoBtfType(u32),
    /// A BTF type id whose kind is not a type (a variable, a section).
    NotABtfType { id: u32, kind: u32 },
    /// A DWARF type reference that leaves the unit, at this offset.
    TypeOutsideUnit(u64),
    /// A DWARF tag kgpc does not render as a type.
    UnknownTag(gimli::DwTag),
    /// A unit offset that does not fit the host's addresses.
    BadUnitOffset,
    /// The unit at this offset cannot be read.
    UnitUnreadable(u64, gimli::Error),
    /// The DWARF entry at this offset cannot be read.
    EntryUnreadable(u64),
    /// A variable whose DWARF entry has no type.
    NoType,
    /// A function returning this type (a function pointer or an array),
    /// which does not split into a return type and parameters.
    UnsplittableReturn(String),
    /// The object's or vmlinux's `.BTF` cannot be read.
    Btf(BtfError),
    /// The vmlinux a module's split BTF is read against has no `.BTF`.
    NoBaseBtf(PathBuf),
    /// The vmlinux's `.BTF` is there but cannot be read.
    BaseBtfUnreadable(object::Error),
    /// The vmlinux a module's split BTF is read against cannot be opened.
    Object(KernelError),
    /// The words of an error recorded in the index's rendered facts when the
    /// debug information was still there.
    Recorded(String),
}

impl fmt::Display for DeclarationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeclarationError::TooDeep => f.write_str("the type nests too deeply"),
            DeclarationError::Anonymous(kind) => {
                write!(f, "it uses an anonymous {kind}, which C cannot name")
            }
            DeclarationError::NoBtfType(id) => write!(f, "BTF type {id} does not exist"),
            DeclarationError::NotABtfType { id, kind } => {
                write!(f, "BTF type {id} is of kind {kind}, not a type")
            }
            DeclarationError::TypeOutsideUnit(id) => {
                write!(f, "it refers to a type outside its unit ({id:#x})")
            }
            DeclarationError::UnknownTag(tag) => {
                write!(f, "it uses a type kgpc does not know ({tag})")
            }
            DeclarationError::BadUnitOffset => f.write_str("bad unit offset"),
            DeclarationError::UnitUnreadable(offset, e) => {
                write!(f, "cannot read the unit at {offset:#x}: {e}")
            }
            DeclarationError::EntryUnreadable(at) => {
                write!(f, "its DWARF entry at {at:#x} cannot be read")
            }
            DeclarationError::NoType => f.write_str("its DWARF entry has no type"),
            DeclarationError::UnsplittableReturn(ty) => write!(
                f,
                "it returns `{ty}`, which kgpc cannot split into a return type and parameters"
            ),
            DeclarationError::Btf(e) => e.fmt(f),
            DeclarationError::NoBaseBtf(path) => write!(
                f,
                "{} has no .BTF to read the module's split BTF against",
                path.display()
            ),
            DeclarationError::BaseBtfUnreadable(e) => e.fmt(f),
            DeclarationError::Object(e) => e.fmt(f),
            DeclarationError::Recorded(words) => f.write_str(words),
        }
    }
}

impl std::error::Error for DeclarationError {}

impl From<BtfError> for DeclarationError {
    fn from(e: BtfError) -> Self {
        DeclarationError::Btf(e)
    }
}

/// Why the census of a running system cannot be read.
#[derive(Debug)]
pub enum CensusError {
    /// Its `/proc` cannot be listed.
    Unlisted(PathBuf, std::io::Error),
    /// Every task's stack was refused: reading them needs root.
    NeedsRoot(PathBuf),
}

impl fmt::Display for CensusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CensusError::Unlisted(proc, e) => write!(f, "{}: {e}", proc.display()),
            CensusError::NeedsRoot(proc) => write!(
                f,
                "reading {}/PID/stack needs root (CAP_SYS_ADMIN)",
                proc.display()
            ),
        }
    }
}

impl std::error::Error for CensusError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_words_diagnostics_show() {
        let cases: [(&dyn fmt::Display, &str); 5] = [
            (
                &DeclarationError::Anonymous("union"),
                "it uses an anonymous union, which C cannot name",
            ),
            (
                &DeclarationError::UnsplittableReturn("int (*)(void)".into()),
                "it returns `int (*)(void)`, which kgpc cannot split into a return type and parameters",
            ),
            (
                &DeclarationError::from(BtfError::UnknownKind(31)),
                "its .BTF section has a type of unknown kind 31",
            ),
            (
                &DeclarationError::NoBaseBtf(PathBuf::from("/v/vmlinux")),
                "/v/vmlinux has no .BTF to read the module's split BTF against",
            ),
            (
                &CensusError::NeedsRoot(PathBuf::from("/proc")),
                "reading /proc/PID/stack needs root (CAP_SYS_ADMIN)",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }
}
