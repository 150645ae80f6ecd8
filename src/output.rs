//! Writing generated files: atomically, and never over a user's work.
//!
//! A compile writes into a fresh temporary directory next to the output and
//! renames it into place, so a failed compile leaves nothing half-written.
//! When the output directory already exists, kgpc replaces only files it
//! wrote itself, as recorded in its manifest `.kgpc-manifest` with their
//! hashes; a file kgpc did not write, or one edited since, stops the compile
//! unless `--force` is given. Kbuild's own products are left alone.

use crate::check::lower::sha256_hex;
use crate::generate::GeneratedFile;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest's name in the output directory.
pub const MANIFEST: &str = ".kgpc-manifest";

/// Why the output could not be written.
#[derive(Debug)]
pub enum OutputError {
    /// Files in the directory that kgpc did not write or that were edited since.
    NotOurs {
        dir: PathBuf,
        files: Vec<String>,
    },
    Io {
        path: PathBuf,
        message: String,
    },
}

/// Writes `files` into `dir`, creating it if needed.
pub fn write(dir: &Path, files: &[GeneratedFile], force: bool) -> Result<(), OutputError> {
    let io = |path: &Path, e: std::io::Error| OutputError::Io {
        path: path.to_path_buf(),
        message: crate::load::describe_io(&e),
    };
    if let Some(blocker) = dir
        .ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.exists() && !a.is_dir())
    {
        return Err(OutputError::Io {
            path: blocker.to_path_buf(),
            message: "it is a file, not a directory".into(),
        });
    }
    if !dir.exists() {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".kgpc-")
            .tempdir_in(&parent)
            .map_err(|e| io(&parent, e))?;
        for file in files {
            let path = staging.path().join(&file.name);
            fs::write(&path, &file.contents).map_err(|e| io(&path, e))?;
        }
        let manifest = staging.path().join(MANIFEST);
        fs::write(&manifest, manifest_text(files)).map_err(|e| io(&manifest, e))?;
        let staged = staging.keep();
        return fs::rename(&staged, dir).map_err(|e| {
            let _ = fs::remove_dir_all(&staged);
            io(dir, e)
        });
    }
    if !dir.is_dir() {
        return Err(OutputError::Io {
            path: dir.to_path_buf(),
            message: "it exists and is not a directory".into(),
        });
    }
    if !force {
        let foreign = foreign_files(dir, files).map_err(|e| io(dir, e))?;
        if !foreign.is_empty() {
            return Err(OutputError::NotOurs {
                dir: dir.to_path_buf(),
                files: foreign,
            });
        }
    }
    for file in files {
        replace_file(&dir.join(&file.name), file.contents.as_bytes())
            .map_err(|e| io(&dir.join(&file.name), e))?;
    }
    let manifest = dir.join(MANIFEST);
    replace_file(&manifest, manifest_text(files).as_bytes()).map_err(|e| io(&manifest, e))
}

/// Writes a file through a temporary file in the same directory and a rename.
pub(crate) fn replace_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".kgpc-").tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn manifest_text(files: &[GeneratedFile]) -> String {
    let mut text = String::from("# Files written by kgpc; it replaces only these. Do not edit.\n");
    for file in files {
        text.push_str(&format!(
            "{} {}\n",
            sha256_hex(file.contents.as_bytes()),
            file.name
        ));
    }
    text
}

/// Files in `dir` kgpc must not overwrite or that are not its own.
fn foreign_files(dir: &Path, files: &[GeneratedFile]) -> std::io::Result<Vec<String>> {
    let manifest = crate::read::read_data_text(&dir.join(MANIFEST)).unwrap_or_default();
    let recorded: Vec<(&str, &str)> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(hash, name)| (name, hash))
        .collect();
    let mut foreign = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || is_build_product(&name) {
            continue;
        }
        match recorded.iter().find(|(n, _)| *n == name) {
            Some((_, hash)) => {
                // A FIFO or device in its place is not kgpc's file either.
                let current = crate::read::read_regular(&entry.path(), crate::read::DATA_LIMIT)
                    .map(|b| sha256_hex(&b))
                    .unwrap_or_default();
                if current != *hash {
                    foreign.push(format!("{name} (edited since kgpc wrote it)"));
                }
            }
            None if files.iter().any(|f| f.name == name) => {
                foreign.push(format!("{name} (not written by kgpc)"))
            }
            None => foreign.push(name),
        }
    }
    Ok(foreign)
}

/// Whether a file is something Kbuild makes in a module directory.
fn is_build_product(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "modules.order",
        "Module.symvers",
        ".tmp_versions",
        ".cache.mk",
        ".modules.order.cmd",
        ".Module.symvers.cmd",
    ];
    const SUFFIXES: &[&str] = &[
        ".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers", ".order", ".d", ".tmp",
    ];
    EXACT.contains(&name) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &str) -> Vec<GeneratedFile> {
        vec![GeneratedFile {
            name: "a.c".into(),
            contents: text.into(),
        }]
    }

    #[test]
    fn writes_then_refuses_foreign_and_edited_files() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        write(&out, &files("one"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.c")).unwrap(), "one");
        write(&out, &files("two"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.c")).unwrap(), "two");
        fs::write(out.join("a.o"), "object").unwrap();
        write(&out, &files("three"), false).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            write(&out, &files("four"), false),
            Err(OutputError::NotOurs { .. })
        ));
        fs::remove_file(out.join("notes.txt")).unwrap();
        fs::write(out.join("a.c"), "edited by hand").unwrap();
        match write(&out, &files("four"), false) {
            Err(OutputError::NotOurs { files, .. }) => {
                assert_eq!(files, vec!["a.c (edited since kgpc wrote it)"])
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        write(&out, &files("four"), true).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.c")).unwrap(), "four");
        let leftovers: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from("out")],
            "no staging directory is left behind"
        );
    }
}
