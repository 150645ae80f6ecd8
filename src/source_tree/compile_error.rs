//! Why a source file could not be compiled, with the compiler's messages
//! located at lines of the files of the source tree.

use super::mirror::MirrorError;
use std::fmt;
use std::path::{Path, PathBuf};

/// A message of the compiler at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedMessage {
    /// The file inside the source tree (`fs/proc/cmdline.c`, `include/linux/fs.h`),
    /// or as gcc printed it when it is outside every tree.
    pub file: String,
    pub line: usize,
    pub column: Option<usize>,
    pub error: bool,
    pub text: String,
}

/// Why a source file could not be compiled.
#[derive(Debug)]
pub enum CompileError {
    /// The path is not a C file inside the source tree.
    BadPath {
        rel_path: String,
        reason: &'static str,
    },
    /// The build tree has no `Makefile`.
    NoBuildTree(PathBuf),
    /// A directory on the way to the file has no `Kbuild` or `Makefile`.
    NoMakefile {
        dir: String,
    },
    /// The directory's Makefile does not build the file under the build tree's `.config`.
    NotBuilt {
        rel_path: String,
        makefile: String,
    },
    /// kbuild never reached the file's directory: a directory above it is
    /// not built under this `.config`.
    NotReached {
        rel_path: String,
        dir: String,
        log: String,
    },
    /// The compiler refused the text.
    Compiler {
        rel_path: String,
        messages: Vec<LocatedMessage>,
        log: String,
    },
    /// make failed without a message of the compiler.
    Make {
        log: String,
    },
    /// The compile took longer than its limit and was killed.
    TimedOut {
        seconds: u64,
    },
    /// `make` is not installed.
    NoMake,
    /// kbuild left no readable `.cmd` file beside the object.
    NoCommand {
        path: PathBuf,
        error: String,
    },
    Io {
        path: PathBuf,
        error: String,
    },
}

impl CompileError {
    pub(super) fn io(path: &Path, error: std::io::Error) -> CompileError {
        CompileError::Io {
            path: path.to_path_buf(),
            error: crate::read::describe_io(&error),
        }
    }
}

impl From<MirrorError> for CompileError {
    fn from(error: MirrorError) -> Self {
        match error {
            MirrorError::NoMakefile { dir } => CompileError::NoMakefile { dir },
            MirrorError::Io { path, error } => CompileError::Io { path, error },
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::BadPath { rel_path, reason } => {
                write!(f, "cannot compile \"{rel_path}\": {reason}")
            }
            CompileError::NoBuildTree(dir) => {
                write!(f, "{} is not a kernel build tree (it has no Makefile)", dir.display())
            }
            CompileError::NoMakefile { dir } => write!(
                f,
                "the source tree's directory {dir} has no Kbuild or Makefile, so kbuild builds nothing in it"
            ),
            CompileError::NotBuilt { rel_path, makefile } => write!(
                f,
                "{makefile} does not build {rel_path} under the kernel's .config"
            ),
            CompileError::NotReached { rel_path, dir, .. } => write!(
                f,
                "the kernel's build never enters {dir} under its .config, so {rel_path} is not built"
            ),
            CompileError::Compiler {
                rel_path, messages, ..
            } => {
                let errors = messages.iter().filter(|m| m.error).count();
                match messages.iter().find(|m| m.error) {
                    Some(first) => write!(
                        f,
                        "{rel_path} does not compile ({errors} error{}); first: {}:{}: {}",
                        if errors == 1 { "" } else { "s" },
                        first.file,
                        first.line,
                        first.text
                    ),
                    None => write!(f, "{rel_path} does not compile"),
                }
            }
            CompileError::Make { log } => {
                write!(f, "make failed: {}", last_lines(log, 5))
            }
            CompileError::TimedOut { seconds } => {
                write!(f, "the compile took more than {seconds} s and was stopped")
            }
            CompileError::NoMake => write!(f, "`make` is not installed"),
            CompileError::NoCommand { path, error } => {
                write!(f, "kbuild's command file {} cannot be read: {error}", path.display())
            }
            CompileError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

/// The last `count` lines of a log, joined.
fn last_lines(log: &str, count: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join(" / ")
}

/// gcc's errors and warnings in `log`, each file named inside the first of
/// `trees` that holds it (the copy compiled, the source tree), else inside
/// the build tree `build`.
pub(super) fn located_messages(log: &str, trees: &[&Path], build: &Path) -> Vec<LocatedMessage> {
    crate::build::kbuild::compiler_messages(log)
        .into_iter()
        .map(|m| LocatedMessage {
            file: inside_tree(&m.file, trees, build),
            line: m.line,
            column: m.column,
            error: m.error,
            text: m.text,
        })
        .collect()
}

/// A path gcc printed, relative to the first tree it is in. The build tree
/// reads its headers from packages beside it (Debian's `-common` headers,
/// `linux-kbuild`), so a path under its parent loses the package's folder.
fn inside_tree(file: &str, trees: &[&Path], build: &Path) -> String {
    let path = Path::new(file);
    for tree in trees.iter().chain([&build]) {
        if let Ok(rest) = path.strip_prefix(tree) {
            return rest.display().to_string();
        }
    }
    if let Some(rest) = build
        .parent()
        .and_then(|parent| path.strip_prefix(parent).ok())
    {
        let mut parts = rest.components();
        parts.next();
        return parts.as_path().display().to_string();
    }
    file.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_located_inside_the_trees() {
        let log = "\
/w/tree/fs/proc/cmdline.c:12:9: error: 'x' undeclared (first use in this function)
/k/linux-headers-6.1.0-57-common/include/linux/fs.h:3:1: warning: something
make[2]: *** [x] Error 1
";
        let build = Path::new("/k/linux-headers-6.1.0-57-cloud-amd64");
        let messages = located_messages(log, &[Path::new("/w/tree"), Path::new("/s")], build);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].file, "fs/proc/cmdline.c");
        assert_eq!((messages[0].line, messages[0].column), (12, Some(9)));
        assert!(messages[0].error);
        assert_eq!(messages[1].file, "include/linux/fs.h");
        assert!(!messages[1].error);
    }
}
