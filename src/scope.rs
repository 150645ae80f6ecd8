//! Where a spec may read: the directory tree of the spec being compiled, the
//! embedded standard library, and the places given with `--allow-path`.
//!
//! A path an `import` or a `body` names is first normalised as written
//! (absolute paths and `..` that climbs out are refused without touching the
//! file), then resolved with every symbolic link followed; a link inside the
//! tree that leads out of it is refused too.

use crate::read::describe_io;
use std::path::{Component, Path, PathBuf};

/// The places a spec may read from, resolved.
#[derive(Clone, Debug, Default)]
pub struct ReadScope {
    /// The spec's directory as given, for messages (`.` for the current one).
    tree: Option<String>,
    /// Every allowed place, canonical: the spec's directory first.
    roots: Vec<PathBuf>,
}

/// Why a path was not resolved.
#[derive(Debug)]
pub enum Refusal {
    /// The path leaves the allowed places as written.
    Outside,
    /// The path leaves them through a symbolic link.
    OutsideThroughLink,
    /// A relative path named by a file that has no directory (standard input).
    NoBase,
    /// The path does not resolve.
    Io(std::io::Error),
}

/// A path a spec may read.
pub struct Resolved {
    /// The path as the spec's directory and the text give it, for messages.
    pub shown: PathBuf,
    /// The path with every link resolved: what is opened.
    pub real: PathBuf,
}

impl ReadScope {
    /// The scope of a spec at `spec` (none for standard input), widened by
    /// `allowed`. Fails with the place that cannot be resolved.
    pub fn new(spec: Option<&Path>, allowed: &[PathBuf]) -> Result<ReadScope, (PathBuf, String)> {
        let mut scope = ReadScope::default();
        if let Some(spec) = spec {
            let dir = match spec.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let real =
                std::fs::canonicalize(dir).map_err(|e| (dir.to_path_buf(), describe_io(&e)))?;
            scope.tree = Some(dir.display().to_string());
            scope.roots.push(real);
        }
        for place in allowed {
            let real =
                std::fs::canonicalize(place).map_err(|e| (place.clone(), describe_io(&e)))?;
            scope.roots.push(real);
        }
        Ok(scope)
    }

    /// The spec's directory as given, for messages.
    pub fn tree(&self) -> &str {
        self.tree
            .as_deref()
            .unwrap_or("none: the spec was read from standard input")
    }

    /// Resolves `written`, named by a file in `base` (as given; `None` for a
    /// file that has no directory), if it lies inside the scope.
    pub fn resolve(&self, base: Option<&Path>, written: &str) -> Result<Resolved, Refusal> {
        let written = Path::new(written);
        let (shown, lexical) = if written.is_absolute() {
            (written.to_path_buf(), normalise(written))
        } else {
            let base = base.ok_or(Refusal::NoBase)?;
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            };
            let real_base = std::fs::canonicalize(dir).map_err(Refusal::Io)?;
            (base.join(written), normalise(&real_base.join(written)))
        };
        if !self.contains(&lexical) {
            return Err(Refusal::Outside);
        }
        let real = std::fs::canonicalize(&shown).map_err(Refusal::Io)?;
        if !self.contains(&real) {
            return Err(Refusal::OutsideThroughLink);
        }
        Ok(Resolved { shown, real })
    }

    fn contains(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| path.starts_with(root))
    }
}

/// `path` with `.` dropped and each `..` taking away the component before it,
/// as written, without looking at the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn paths_resolve_inside_the_tree_only() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        fs::create_dir_all(tree.join("sub")).unwrap();
        fs::write(tree.join("a.kgp"), "").unwrap();
        fs::write(dir.path().join("secret"), "").unwrap();
        std::os::unix::fs::symlink("../secret", tree.join("link")).unwrap();
        let scope = ReadScope::new(Some(&tree.join("spec.kgp")), &[]).unwrap();
        let sub = tree.join("sub");
        assert!(scope.resolve(Some(&sub), "../a.kgp").is_ok());
        assert!(matches!(
            scope.resolve(Some(&sub), "../../secret"),
            Err(Refusal::Outside)
        ));
        assert!(matches!(
            scope.resolve(Some(&tree), "/etc/passwd"),
            Err(Refusal::Outside)
        ));
        assert!(matches!(
            scope.resolve(Some(&tree), "link"),
            Err(Refusal::OutsideThroughLink)
        ));
        assert!(matches!(scope.resolve(None, "a.kgp"), Err(Refusal::NoBase)));
        assert!(matches!(
            scope.resolve(Some(&tree), "missing"),
            Err(Refusal::Io(_))
        ));
        let wider =
            ReadScope::new(Some(&tree.join("spec.kgp")), &[dir.path().join("secret")]).unwrap();
        assert!(wider.resolve(Some(&tree), "link").is_ok());
        assert!(wider.resolve(Some(&tree), "../secret").is_ok());
    }
}
