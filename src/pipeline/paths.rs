//! How the generated files name the spec's source files: disk files
//! relative to the output directory, standard modules by their path in
//! std-specs.

use crate::source::{Origin, SourceMap};
use std::path::{Component, Path, PathBuf};

/// Each source file's name and how `#line` directives and headers show it
/// when the output goes to `out_dir`.
pub fn path_names(sources: &SourceMap, out_dir: &Path) -> Vec<(String, String)> {
    let out = absolute(out_dir);
    sources
        .ids()
        .map(|id| {
            let name = sources.name(id).to_string();
            let shown = match sources.origin(id) {
                Origin::Disk(path) => relative(&absolute(path), &out).display().to_string(),
                Origin::Std(module) => format!("{module}.kgp"),
                Origin::Memory => name.clone(),
            };
            (name, shown)
        })
        .collect()
}

/// An absolute, lexically normalised path.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to the directory `base`.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_output_directory() {
        assert_eq!(
            relative(Path::new("/a/b/fix.kgp"), Path::new("/a/b/out")),
            PathBuf::from("../fix.kgp")
        );
        assert_eq!(
            relative(Path::new("/a/x/c.c"), Path::new("/a/b")),
            PathBuf::from("../x/c.c")
        );
    }

    #[test]
    fn absolute_paths_drop_dot_and_dot_dot() {
        assert_eq!(absolute(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
