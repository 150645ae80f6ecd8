//! The directory tree kbuild compiles one source file in: the file's
//! directory and each directory above it, each with its own Makefile of the
//! source tree, so that kbuild itself decides, under the build tree's
//! `.config`, whether and how the file is built (built-in or a module's, with
//! which `KBUILD_MODNAME` and which per-directory and per-file flags).

use std::fs;
use std::path::{Component, Path, PathBuf};

/// Makefiles larger than this are not read; the largest of Linux 6.1 is under 100 KiB.
const MAKEFILE_LIMIT: u64 = 1 << 20;

/// The word the added rule prints before saying how kbuild builds the object.
pub const MEMBERSHIP_MARK: &str = "kgpc-membership:";

/// A source file's place: its directory and its name without `.c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitPath {
    /// The directories from the top of the tree, such as `["fs", "proc"]`.
    pub dirs: Vec<String>,
    /// The file's name without `.c`, such as `cmdline`.
    pub stem: String,
}

impl UnitPath {
    /// The path of a C file inside a source tree, or why it is not one.
    pub fn parse(rel_path: &str) -> Result<UnitPath, &'static str> {
        let path = Path::new(rel_path);
        let mut parts = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(part) => match part.to_str() {
                    Some(part) if is_plain_name(part) => parts.push(part.to_string()),
                    _ => return Err("a part of it is not a plain file name"),
                },
                _ => return Err("it is not a relative path inside the source tree"),
            }
        }
        let file = parts.pop().ok_or("it is empty")?;
        let stem = file.strip_suffix(".c").ok_or("it is not a C file (`.c`)")?;
        if parts.is_empty() {
            return Err("a file at the top of the source tree is not part of any object");
        }
        Ok(UnitPath {
            dirs: parts,
            stem: stem.to_string(),
        })
    }

    /// The directory, such as `fs/proc`.
    pub fn dir(&self) -> String {
        self.dirs.join("/")
    }

    /// The object file's path inside the tree, such as `fs/proc/cmdline.o`.
    pub fn object(&self) -> String {
        format!("{}/{}.o", self.dir(), self.stem)
    }

    /// The source file's path inside the tree, such as `fs/proc/cmdline.c`.
    pub fn source(&self) -> String {
        format!("{}/{}.c", self.dir(), self.stem)
    }
}

/// Whether a path part is safe to join and to write into a Makefile.
pub(super) fn is_plain_name(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.+,".contains(&b))
}

/// Why the tree could not be laid out.
#[derive(Debug)]
pub enum MirrorError {
    /// A directory of the source tree has neither `Kbuild` nor `Makefile`,
    /// so kbuild never descends into it.
    NoMakefile {
        dir: String,
    },
    Io {
        path: PathBuf,
        error: String,
    },
}

/// Where kbuild's rule for the object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The Makefile that lists the object, such as `fs/xfs/Makefile` for
    /// `fs/xfs/libxfs/xfs_ag.c` (a directory without one is built by the
    /// nearest directory above it that has one).
    pub makefile: String,
}

/// Writes into `tree` the Makefile of each directory from the top down to
/// the one that builds the unit, taken from `source`; the top holds only a
/// line that descends into the unit's top directory. `extra` is added to
/// the unit's own Makefile.
pub fn lay_out(
    source: &Path,
    tree: &Path,
    unit: &UnitPath,
    extra: &str,
) -> Result<Layout, MirrorError> {
    let mut files = Vec::new();
    for depth in 1..=unit.dirs.len() {
        let dir = unit.dirs[..depth].join("/");
        files.push((dir.clone(), kbuild_file(source, &dir)?));
    }
    // The deepest directory with a Makefile builds the file, and each above
    // it must have one, up to the first: directories at the top without one
    // (`arch/`) are entered straight from the top (`obj-y += arch/x86/`).
    let Some(last) = files.iter().rposition(|(_, file)| file.is_some()) else {
        return Err(MirrorError::NoMakefile { dir: unit.dir() });
    };
    let first = files
        .iter()
        .position(|(_, file)| file.is_some())
        .unwrap_or(last);
    if let Some((dir, _)) = files[first..last].iter().find(|(_, file)| file.is_none()) {
        return Err(MirrorError::NoMakefile { dir: dir.clone() });
    }
    let top = format!(
        "# Written by kgpc: the top of the tree kbuild compiles one file in.\nobj-y += {}/\n",
        files[first].0
    );
    write(&tree.join("Kbuild"), &top)?;
    let mut makefile = String::new();
    for (depth, (dir, file)) in files.iter().enumerate().take(last + 1) {
        let Some((name, text)) = file else { continue };
        let mut text = retarget(text, source, dir);
        if depth == last {
            let below = unit.dirs[last + 1..]
                .iter()
                .map(|d| format!("{d}/"))
                .collect::<String>();
            text.push_str(&membership_rule(
                source,
                unit,
                &format!("{below}{}.o", unit.stem),
            ));
            text.push_str(extra);
            makefile = format!("{dir}/{name}");
        }
        let target = tree.join(dir);
        fs::create_dir_all(&target).map_err(|e| io_error(&target, e))?;
        write(&target.join("Kbuild"), &text)?;
    }
    let own = tree.join(unit.dir());
    fs::create_dir_all(&own).map_err(|e| io_error(&own, e))?;
    Ok(Layout { makefile })
}

/// The name and text of the file kbuild reads in `dir`: `Kbuild` if there is
/// one, else `Makefile`; `None` if there is neither.
fn kbuild_file(source: &Path, dir: &str) -> Result<Option<(&'static str, String)>, MirrorError> {
    for name in ["Kbuild", "Makefile"] {
        let path = source.join(dir).join(name);
        match crate::read::read_regular(&path, MAKEFILE_LIMIT) {
            Ok(bytes) => return Ok(Some((name, String::from_utf8_lossy(&bytes).into_owned()))),
            Err(crate::read::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(MirrorError::Io {
                    path,
                    error: e.to_string(),
                })
            }
        }
    }
    Ok(None)
}

/// A source Makefile made to name the source tree where it names its own
/// directory or the tree: in kbuild's external-module mode `$(srctree)` is
/// the build tree, which has no private headers, and `$(src)` the copy,
/// which has only the one file. `$(obj)`, where the outputs go, stays.
fn retarget(text: &str, source: &Path, dir: &str) -> String {
    let source = source.display().to_string();
    let own = format!("{source}/{dir}");
    let mut text = text.to_string();
    for (from, to) in [
        ("$(srctree)/$(src)", own.as_str()),
        ("${srctree}/${src}", own.as_str()),
        ("$(srctree)", source.as_str()),
        ("${srctree}", source.as_str()),
        ("$(src)", own.as_str()),
        ("${src}", own.as_str()),
    ] {
        text = text.replace(from, to);
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The lines added to the unit's Makefile: quoted includes are looked for in
/// the file's directory of the source tree, as they are when the kernel is
/// built; and a rule run before the object is compiled prints whether kbuild
/// builds it into vmlinux, into a module or not at all under this `.config`,
/// and stops the build in the last case.
fn membership_rule(source: &Path, unit: &UnitPath, object: &str) -> String {
    let object = format!("$(obj)/{object}");
    let kind = format!(
        "$(if $(filter {object},$(real-obj-m)),module,\
         $(if $(and $(need-builtin),$(filter {object},$(real-obj-y) $(lib-y))),built-in,none))"
    );
    format!(
        "\n# Added by kgpc.\nccflags-y += -iquote {}/{}\n\
         {object}: kgpc-membership\n\
         PHONY += kgpc-membership\n\
         kgpc-membership:\n\
         \t@echo '{MEMBERSHIP_MARK} {kind}'\n\
         \t@test '{kind}' != none\n",
        source.display(),
        unit.dir(),
    )
}

fn write(path: &Path, text: &str) -> Result<(), MirrorError> {
    fs::write(path, text).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, error: std::io::Error) -> MirrorError {
    MirrorError::Io {
        path: path.to_path_buf(),
        error: crate::read::describe_io(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_paths_are_plain_relative_c_files_below_the_top() {
        let unit = UnitPath::parse("fs/proc/cmdline.c").expect("a plain path");
        assert_eq!(unit.dirs, ["fs", "proc"]);
        assert_eq!(unit.object(), "fs/proc/cmdline.o");
        assert_eq!(unit.source(), "fs/proc/cmdline.c");
        for bad in [
            "/fs/proc/cmdline.c",
            "../cmdline.c",
            "fs/../proc.c",
            "fs/proc/cmdline.h",
            "init.c",
            "fs/pr oc/x.c",
            "fs/$(x)/y.c",
            "",
        ] {
            assert!(UnitPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_source_directory_replaces_srctree_and_src_but_not_obj() {
        let text = "ccflags-y += -I$(srctree)/$(src) -I $(srctree)/fs/xfs/libxfs -I$(src)\n\
                    $(obj)/x.o: $(src)/x.h";
        let out = retarget(text, Path::new("/s"), "fs/xfs");
        assert_eq!(
            out,
            "ccflags-y += -I/s/fs/xfs -I /s/fs/xfs/libxfs -I/s/fs/xfs\n$(obj)/x.o: /s/fs/xfs/x.h\n"
        );
    }

    #[test]
    fn the_membership_rule_names_the_object_and_the_source_directory() {
        let unit = UnitPath::parse("net/sched/sch_netem.c").expect("a plain path");
        let rule = membership_rule(Path::new("/s"), &unit, "sch_netem.o");
        assert!(
            rule.contains("ccflags-y += -iquote /s/net/sched\n"),
            "{rule}"
        );
        assert!(
            rule.contains("$(obj)/sch_netem.o: kgpc-membership\n"),
            "{rule}"
        );
        assert!(rule.contains("\t@test '"), "{rule}");
    }
}
