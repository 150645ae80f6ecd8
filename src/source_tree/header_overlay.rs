//! Headers a fix changes, laid over the build tree's: each patched header is
//! written into the compile's tree at its own path, and the include
//! directory it belongs to is searched before the build tree's, so that
//! `#include <linux/virtio_net.h>` finds the patched text. The same overlay
//! serves the compare (`compile.rs`) and the patch module's build.

use super::mirror::is_plain_name;
use std::path::Path;

/// One header as the fix leaves it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatchedHeader {
    /// Its path in the source tree, such as `include/linux/virtio_net.h`.
    pub path: String,
    pub text: String,
}

/// A header the fix changes, as the target has it and as patched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedHeader {
    pub path: String,
    pub original: String,
    pub patched: String,
}

impl ChangedHeader {
    pub fn patched(&self) -> PatchedHeader {
        PatchedHeader {
            path: self.path.clone(),
            text: self.patched.clone(),
        }
    }

    /// The patched text numbered as the original's lines, for the compile
    /// that tells changes of line numbers alone from changes of code.
    pub fn renumbered(&self) -> PatchedHeader {
        PatchedHeader {
            path: self.path.clone(),
            text: super::renumbered(&self.original, &self.patched),
        }
    }
}

/// The include directories of the kernel's `LINUXINCLUDE`, deepest first:
/// a header below one of them is included by its path below it.
const INCLUDE_ROOTS: &[&str] = &[
    "arch/x86/include/uapi",
    "arch/x86/include",
    "include/uapi",
    "include",
];

/// The include directory `path` is found through, or `None` for a header
/// of a source directory, which its own directory's files include with
/// quotes.
pub fn include_root(path: &str) -> Option<&'static str> {
    INCLUDE_ROOTS
        .iter()
        .find(|root| {
            path.strip_prefix(**root)
                .is_some_and(|r| r.starts_with('/'))
        })
        .copied()
}

/// Whether `path` is a plain relative path of a header inside the tree.
pub fn is_header_path(path: &str) -> bool {
    path.ends_with(".h") && path.split('/').all(is_plain_name)
}

/// The Kbuild line that puts the overlay's include directories below
/// `top` before the build tree's, or `None` when no header needs one.
/// kbuild's compile rule reads `LINUXINCLUDE` when it runs, after the
/// directory's Kbuild set it.
pub fn linuxinclude_line(headers: &[PatchedHeader], top: &str) -> Option<String> {
    let mut roots: Vec<&str> = headers
        .iter()
        .filter_map(|h| include_root(&h.path))
        .collect();
    roots.sort_by_key(|root| INCLUDE_ROOTS.iter().position(|r| r == root));
    roots.dedup();
    if roots.is_empty() {
        return None;
    }
    let flags: Vec<String> = roots.iter().map(|r| format!("-I{top}/{r}")).collect();
    Some(format!(
        "LINUXINCLUDE := {} $(LINUXINCLUDE)\n",
        flags.join(" ")
    ))
}

/// Writes each header into `tree` at its path.
pub fn write_headers(tree: &Path, headers: &[PatchedHeader]) -> std::io::Result<()> {
    for header in headers {
        if !is_header_path(&header.path) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a header's path inside the tree", header.path),
            ));
        }
        let path = tree.join(&header.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &header.text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(path: &str) -> PatchedHeader {
        PatchedHeader {
            path: path.to_string(),
            text: String::new(),
        }
    }

    #[test]
    fn each_header_is_found_through_its_include_directory() {
        assert_eq!(include_root("include/linux/virtio_net.h"), Some("include"));
        assert_eq!(
            include_root("include/uapi/linux/if.h"),
            Some("include/uapi")
        );
        assert_eq!(
            include_root("arch/x86/include/asm/pgtable.h"),
            Some("arch/x86/include")
        );
        assert_eq!(include_root("fs/proc/internal.h"), None);
        assert_eq!(include_root("includes/x.h"), None);
    }

    #[test]
    fn the_overlay_comes_before_the_build_trees_include_directories() {
        let headers = [
            header("include/linux/a.h"),
            header("arch/x86/include/asm/b.h"),
            header("include/linux/c.h"),
            header("fs/proc/internal.h"),
        ];
        assert_eq!(
            linuxinclude_line(&headers, "/w").as_deref(),
            Some("LINUXINCLUDE := -I/w/arch/x86/include -I/w/include $(LINUXINCLUDE)\n")
        );
        assert_eq!(
            linuxinclude_line(&[header("fs/proc/internal.h")], "/w"),
            None
        );
    }

    #[test]
    fn only_plain_header_paths_are_written() {
        let work = tempfile::tempdir().unwrap();
        let mut bad = header("../x.h");
        bad.text = "x".to_string();
        assert!(write_headers(work.path(), &[bad]).is_err());
        let mut good = header("include/linux/x.h");
        good.text = "int x;\n".to_string();
        write_headers(work.path(), &[good]).unwrap();
        let written = std::fs::read_to_string(work.path().join("include/linux/x.h")).unwrap();
        assert_eq!(written, "int x;\n");
    }
}
