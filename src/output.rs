//! Writing generated files: atomically, and never over a user's work.
//!
//! A compile stages a complete new directory beside the output and puts it
//! in place in one rename (`staging.rs`), under a lock on the output
//! directory, so a compile that fails, is killed or runs twice at once
//! leaves the old version or the new one, never a mixture. When the output
//! directory already exists, kgpc replaces only files it wrote itself, as
//! recorded in its manifest `.kgpc-manifest` with their hashes; a file kgpc
//! did not write, or one edited since, stops the compile unless `--force` is
//! given. Every other file (Kbuild's products, and with `--force` the
//! user's) is carried into the new version by a hard link; kgpc's own files
//! that the new version no longer has are dropped. A file that is replaced
//! keeps its mode; a new one gets the umask's, like the directory itself.

mod staging;

use crate::digest::sha256_hex;
use crate::generate::GeneratedFile;
use staging::Held;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The manifest's name in the output directory.
pub const MANIFEST: &str = ".kgpc-manifest";

/// The prefix of the temporary files older kgpc versions wrote inside the
/// output directory: kgpc's own, so never foreign and never carried over.
const OWN_TEMPORARY: &str = ".kgpc-";

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

fn io(path: &Path, e: std::io::Error) -> OutputError {
    OutputError::Io {
        path: path.to_path_buf(),
        message: crate::load::describe_io(&e),
    }
}

/// Writes `files` into `dir`, creating it if needed.
pub fn write(dir: &Path, files: &[GeneratedFile], force: bool) -> Result<(), OutputError> {
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
    let (parent, name) = place_of(dir)?;
    let dir = parent.join(&name);
    fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    // Another kgpc may create the directory between the look and the
    // rename; then the write starts again as a replacement.
    for _ in 0..100 {
        if let Ok(meta) = fs::metadata(&dir) {
            if !meta.is_dir() {
                return Err(OutputError::Io {
                    path: dir,
                    message: "it exists and is not a directory".into(),
                });
            }
        }
        if let Some(old) = staging::lock_existing(&dir).map_err(|e| io(&dir, e))? {
            return replace(&old, &parent, &name, files, force);
        }
        if let Some(old) = staging::clean_leftovers(&parent, &name).map_err(|e| io(&parent, e))? {
            return replace(&old, &parent, &name, files, force);
        }
        let staged = staging::stage(&parent, &name).map_err(|e| io(&parent, e))?;
        if let Err(e) = fill(&staged.path, None, files) {
            let _ = fs::remove_dir_all(&staged.path);
            return Err(e);
        }
        staging::pause();
        match staging::place(&staged, &dir) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let _ = fs::remove_dir_all(&staged.path);
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(io(&dir, e));
                }
            }
        }
    }
    Err(io(
        &dir,
        std::io::Error::other("another kgpc keeps replacing it; try again"),
    ))
}

/// The parent and name of the output directory, through a symbolic link.
fn place_of(dir: &Path) -> Result<(PathBuf, String), OutputError> {
    let mut dir = dir.to_path_buf();
    if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
        dir = fs::canonicalize(&dir).map_err(|e| io(&dir, e))?;
    }
    // An existing directory is compared by where it really is, through
    // `..` and links; one that does not exist yet holds nothing.
    let holds_cwd = match (fs::canonicalize(&dir), std::env::current_dir()) {
        (Ok(real), Ok(cwd)) => fs::canonicalize(&cwd).unwrap_or(cwd).starts_with(real),
        _ => false,
    };
    if holds_cwd || dir.file_name().is_none() {
        return Err(OutputError::Io {
            path: dir,
            message: "kgpc replaces the output directory as a whole, so it cannot be the current directory or hold it".into(),
        });
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Replaces the existing directory `old`, which the caller holds locked.
fn replace(
    old: &Held,
    parent: &Path,
    name: &str,
    files: &[GeneratedFile],
    force: bool,
) -> Result<(), OutputError> {
    let dir = &old.path;
    staging::clean_leftovers(parent, name).map_err(|e| io(parent, e))?;
    let manifest = recorded(dir);
    if !force {
        let foreign = foreign_files(dir, &manifest, files).map_err(|e| io(dir, e))?;
        if !foreign.is_empty() {
            return Err(OutputError::NotOurs {
                dir: dir.to_path_buf(),
                files: foreign,
            });
        }
    }
    let staged = staging::stage(parent, name).map_err(|e| io(parent, e))?;
    let done = (|| {
        let mode = fs::metadata(dir).map_err(|e| io(dir, e))?.permissions();
        fs::set_permissions(&staged.path, mode).map_err(|e| io(&staged.path, e))?;
        fill(&staged.path, Some(dir), files)?;
        carry(dir, &staged.path, files, &manifest).map_err(|e| io(dir, e))?;
        staging::pause();
        staging::swap(&staged, old, parent, name).map_err(|e| io(dir, e))
    })();
    match done {
        Ok(previous) => {
            staging::pause();
            // The new version is in place; what is left is the old one.
            let _ = fs::remove_dir_all(previous);
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staged.path);
            Err(e)
        }
    }
}

/// Writes the generated files and the manifest into `staged`, each replaced
/// file with the mode it had in `old`.
fn fill(staged: &Path, old: Option<&Path>, files: &[GeneratedFile]) -> Result<(), OutputError> {
    let manifest = GeneratedFile {
        name: MANIFEST.into(),
        contents: manifest_text(files),
    };
    for file in files.iter().chain([&manifest]) {
        let path = staged.join(&file.name);
        let kept = old
            .and_then(|o| fs::symlink_metadata(o.join(&file.name)).ok())
            .filter(fs::Metadata::is_file)
            .map(|m| m.permissions().mode() & 0o7777);
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(kept.unwrap_or(0o666))
            .open(&path)
            .map_err(|e| io(&path, e))?;
        out.write_all(file.contents.as_bytes())
            .map_err(|e| io(&path, e))?;
        if let Some(mode) = kept {
            out.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(|e| io(&path, e))?;
        }
        staging::pause();
    }
    Ok(())
}

/// Links every entry of `old` that the new version keeps into `staged`:
/// everything except the files written anew, the manifest, kgpc's own
/// temporaries and kgpc's own unedited files the new version drops.
fn carry(
    old: &Path,
    staged: &Path,
    files: &[GeneratedFile],
    manifest: &[(String, String)],
) -> std::io::Result<()> {
    for entry in fs::read_dir(old)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name == MANIFEST
            || name.starts_with(OWN_TEMPORARY)
            || files.iter().any(|f| f.name == name)
            || manifest
                .iter()
                .any(|(n, hash)| *n == name && hash_of(&entry.path()) == *hash);
        if !ours {
            copy_tree(&entry.path(), &staged.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Recreates `from` at `to`: directories entry by entry, everything else as
/// a hard link (or a copy where a link is refused).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        return fs::set_permissions(to, meta.permissions());
    }
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) if meta.file_type().is_symlink() => {
            std::os::unix::fs::symlink(fs::read_link(from)?, to)
        }
        Err(_) if meta.is_file() => fs::copy(from, to).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// The hash of a file's contents; a FIFO or device in its place is not
/// kgpc's file, and has no hash.
fn hash_of(path: &Path) -> String {
    crate::read::read_regular(path, crate::read::DATA_LIMIT)
        .map(|b| sha256_hex(&b))
        .unwrap_or_default()
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

/// The names and hashes the manifest in `dir` records.
fn recorded(dir: &Path) -> Vec<(String, String)> {
    let manifest = crate::read::read_data_text(&dir.join(MANIFEST)).unwrap_or_default();
    manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(hash, name)| (name.to_string(), hash.to_string()))
        .collect()
}

/// Files in `dir` kgpc must not overwrite or that are not its own.
fn foreign_files(
    dir: &Path,
    recorded: &[(String, String)],
    files: &[GeneratedFile],
) -> std::io::Result<Vec<String>> {
    let mut foreign = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || name.starts_with(OWN_TEMPORARY) || is_build_product(&name) {
            continue;
        }
        match recorded.iter().find(|(n, _)| *n == name) {
            Some((_, hash)) => {
                if hash_of(&entry.path()) != *hash {
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
