//! Making an unpacked kernel tree self-contained.
//!
//! Debian's packages expect to be installed at `/`: the arch headers' Makefile
//! includes the common one by its absolute `/usr/src/...` path, and the image's
//! `lib/modules/RELEASE/build` and `source` are absolute symlinks into
//! `/usr/src`. Unpacked into the cache, each of these would reach into the
//! host, which may hold another version of the same files or none at all.
//! [`make_self_contained`] points them into the tree itself, and
//! [`host_references`] then looks for anything still pointing out of it; a tree
//! with such a reference is never marked complete.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Host directories a kernel tree must never depend on.
const HOST_PREFIXES: &[&str] = &["/usr/src/", "/lib/modules/", "/usr/lib/linux-kbuild"];

/// The make directives that read another file.
const INCLUDE_DIRECTIVES: &[&str] = &["include", "-include", "sinclude"];

/// One place where a tree still refers to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostReference {
    /// The file, relative to the tree's root.
    pub file: PathBuf,
    /// The line of a make file, or `None` for a symbolic link.
    pub line: Option<usize>,
    /// The line's text or the link's target.
    pub text: String,
}

impl std::fmt::Display for HostReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.text),
            None => write!(f, "{} -> {}", self.file.display(), self.text),
        }
    }
}

/// Rewrites the tree under `tree` (unpacked now, to be renamed to `final_root`
/// later) so that nothing in it refers to the host: every make `include` of an
/// absolute host path, wherever it stands, names the same file under
/// `final_root`, and every absolute symbolic link becomes a relative one inside
/// the tree. Returns how many files it changed.
pub fn make_self_contained(tree: &Path, final_root: &Path) -> io::Result<usize> {
    let mut changed = 0;
    for entry in walk(tree)? {
        let relative = entry.strip_prefix(tree).unwrap_or(&entry).to_path_buf();
        let meta = fs::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&entry)?;
            if target.is_absolute() {
                let inside = relative_link(&relative, &target);
                replace_symlink(&entry, &inside)?;
                changed += 1;
            }
        } else if meta.is_file() && is_make_file(&relative) {
            let text = fs::read_to_string(&entry)?;
            let fixed = rewrite_includes(&text, final_root);
            if fixed != text {
                crate::atomic_write::replace_keeping_mode(&entry, fixed.as_bytes())?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// Everything in the tree that still refers to the host or leaves the tree:
/// absolute symbolic links, relative ones that climb out of it, and lines of
/// make files that name a host kernel directory as a path of their own.
pub fn host_references(tree: &Path) -> io::Result<Vec<HostReference>> {
    let mut found = Vec::new();
    for entry in walk(tree)? {
        let relative = entry.strip_prefix(tree).unwrap_or(&entry).to_path_buf();
        let meta = fs::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&entry)?;
            if target.is_absolute() || !stays_inside(&relative, &target) {
                found.push(HostReference {
                    file: relative,
                    line: None,
                    text: target.display().to_string(),
                });
            }
        } else if meta.is_file() && is_make_file(&relative) {
            let bytes = fs::read(&entry)?;
            let text = String::from_utf8_lossy(&bytes);
            for (number, line) in text.lines().enumerate() {
                if names_host_path(code_of(line)) {
                    found.push(HostReference {
                        file: relative.clone(),
                        line: Some(number + 1),
                        text: line.trim().to_string(),
                    });
                }
            }
        }
    }
    Ok(found)
}

/// Every path under `dir`, sorted, without following symbolic links.
fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut all = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path.clone());
            }
            all.push(path);
        }
    }
    all.sort();
    Ok(all)
}

/// Whether make reads the file: Makefiles, Kbuild files, `*.mk`, and the
/// configuration kbuild includes.
fn is_make_file(relative: &Path) -> bool {
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with("Makefile")
        || name.starts_with("Kbuild")
        || name.ends_with(".mk")
        || relative.ends_with("include/config/auto.conf")
}

/// `text` with each `include /host/path` pointed at the same path under `root`.
fn rewrite_includes(text: &str, root: &Path) -> String {
    let root = root.display().to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let (lead, rest) = line.split_at(indent);
        let directive = INCLUDE_DIRECTIVES.iter().find(|d| {
            rest.strip_prefix(**d)
                .is_some_and(|after| after.starts_with([' ', '\t']))
        });
        let Some(directive) = directive else {
            out.push_str(line);
            continue;
        };
        out.push_str(lead);
        out.push_str(directive);
        let arguments = &rest[directive.len()..];
        // Each argument is a file name; only absolute host paths change.
        let mut word = String::new();
        for c in arguments.chars() {
            if c.is_whitespace() {
                out.push_str(&relocate_word(&word, &root));
                word.clear();
                out.push(c);
            } else {
                word.push(c);
            }
        }
        out.push_str(&relocate_word(&word, &root));
    }
    out
}

fn relocate_word(word: &str, root: &str) -> String {
    if HOST_PREFIXES.iter().any(|p| word.starts_with(p)) {
        format!("{root}{word}")
    } else {
        word.to_string()
    }
}

/// A make line without its comment.
fn code_of(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

/// Whether `code` names a host kernel directory as a path of its own (not as
/// the tail of a longer path, such as `$(INSTALL_MOD_PATH)/lib/modules`).
fn names_host_path(code: &str) -> bool {
    HOST_PREFIXES.iter().any(|prefix| {
        code.match_indices(prefix).any(|(at, _)| {
            code[..at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || "=:,;'\"".contains(c))
        })
    })
}

/// The relative link that, placed at `link` (relative to the tree's root),
/// reaches the tree's copy of the absolute `target`.
fn relative_link(link: &Path, target: &Path) -> PathBuf {
    let depth = link.parent().map_or(0, |p| p.components().count());
    let mut relative = PathBuf::new();
    for _ in 0..depth {
        relative.push("..");
    }
    relative.join(target.strip_prefix("/").unwrap_or(target))
}

/// Whether the relative `target` of a link at `link` stays inside the tree.
fn stays_inside(link: &Path, target: &Path) -> bool {
    let mut depth = link.parent().map_or(0, |p| p.components().count()) as isize;
    for component in target.components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Replaces a symbolic link by one to `target`, by rename.
fn replace_symlink(path: &Path, target: &Path) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kgpc-link"));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree shaped like Debian's headers and image packages.
    fn debian_like_tree() -> tempfile::TempDir {
        let tree = tempfile::tempdir().unwrap();
        let t = tree.path();
        fs::create_dir_all(t.join("usr/src/linux-headers-R/scripts")).unwrap();
        fs::create_dir_all(t.join("usr/src/linux-headers-common")).unwrap();
        fs::create_dir_all(t.join("lib/modules/R")).unwrap();
        // At byte 0, as in Debian's arch headers: the case the old rewrite missed.
        fs::write(
            t.join("usr/src/linux-headers-R/Makefile"),
            "include /usr/src/linux-headers-common/Makefile\n",
        )
        .unwrap();
        fs::write(
            t.join("usr/src/linux-headers-common/Makefile"),
            "# /usr/src/packages is only a comment\n\
             MODLIB = $(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE)\n\
             \t-include /usr/src/linux-headers-common/extra.mk other.mk\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("/usr/src/linux-headers-R", t.join("lib/modules/R/build"))
            .unwrap();
        std::os::unix::fs::symlink("../../lib", t.join("usr/src/lib-link")).unwrap();
        tree
    }

    #[test]
    fn every_include_of_a_host_path_is_pointed_into_the_tree() {
        let tree = debian_like_tree();
        let t = tree.path();
        let before = host_references(t).unwrap();
        assert_eq!(
            before.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            [
                "lib/modules/R/build -> /usr/src/linux-headers-R",
                "usr/src/linux-headers-R/Makefile:1: include /usr/src/linux-headers-common/Makefile",
                "usr/src/linux-headers-common/Makefile:3: -include /usr/src/linux-headers-common/extra.mk other.mk",
            ]
        );
        let root = Path::new("/cache/kernels/R/root");
        assert_eq!(make_self_contained(t, root).unwrap(), 3);
        assert_eq!(host_references(t).unwrap(), []);
        assert_eq!(
            fs::read_to_string(t.join("usr/src/linux-headers-R/Makefile")).unwrap(),
            "include /cache/kernels/R/root/usr/src/linux-headers-common/Makefile\n"
        );
        let common = fs::read_to_string(t.join("usr/src/linux-headers-common/Makefile")).unwrap();
        assert!(common.contains(
            "\t-include /cache/kernels/R/root/usr/src/linux-headers-common/extra.mk other.mk\n"
        ));
        assert!(common.contains("$(INSTALL_MOD_PATH)/lib/modules/"));
        assert_eq!(
            fs::read_link(t.join("lib/modules/R/build")).unwrap(),
            PathBuf::from("../../../usr/src/linux-headers-R")
        );
        // The relative link resolves to the tree's own headers.
        assert!(t.join("lib/modules/R/build/Makefile").is_file());
        // A second pass changes nothing.
        assert_eq!(make_self_contained(t, root).unwrap(), 0);
    }

    #[test]
    fn references_that_cannot_be_rewritten_are_found() {
        let tree = debian_like_tree();
        let t = tree.path();
        fs::write(
            t.join("usr/src/linux-headers-R/scripts/Kbuild.include"),
            "KBUILD_EXTRA := /lib/modules/R/extra\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("../../../../etc", t.join("usr/src/linux-headers-R/out"))
            .unwrap();
        make_self_contained(t, Path::new("/c")).unwrap();
        let left: Vec<String> = host_references(t)
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            left,
            [
                "usr/src/linux-headers-R/out -> ../../../../etc",
                "usr/src/linux-headers-R/scripts/Kbuild.include:1: KBUILD_EXTRA := /lib/modules/R/extra",
            ]
        );
    }
}
