//! Modules of the target kernel's image package, and what a `.ko` says about itself.

use crate::kernel::locate::walk_files;
use crate::kernel::module_name::kernel_module_name;
use crate::read::ReadError;
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};
use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Why a module of the target kernel could not be found or read.
#[derive(Debug)]
pub enum ModuleError {
    /// The module's file could not be read.
    Unreadable { path: PathBuf, error: ReadError },
    /// The file is not an ELF object.
    NotElf { path: PathBuf, error: object::Error },
    /// The object has no `.modinfo` section.
    NoModinfo(PathBuf),
    /// The object's `.modinfo` section could not be read.
    BadModinfo { path: PathBuf, error: object::Error },
    /// The release's module tree holds no `.ko` file.
    NoModules(PathBuf),
    /// No module has this name; `needed_by` is the chain of modules that
    /// depend on it, the one named first.
    Unknown {
        name: String,
        needed_by: Vec<String>,
    },
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleError::Unreadable { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            ModuleError::NotElf { path, error } => {
                write!(f, "{} is not a kernel module: {error}", path.display())
            }
            ModuleError::NoModinfo(path) => {
                write!(f, "{} has no .modinfo: not a kernel module", path.display())
            }
            ModuleError::BadModinfo { path, error } => write!(f, "{}: {error}", path.display()),
            ModuleError::NoModules(dir) => write!(f, "{} holds no modules", dir.display()),
            ModuleError::Unknown { name, needed_by } => {
                write!(f, "the kernel has no module `{name}`")?;
                if !needed_by.is_empty() {
                    write!(f, " (needed by {})", needed_by.join(" <- "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ModuleError {}

/// The `.modinfo` entries of a module: `name`, `depends`, `vermagic`, ...
pub fn modinfo(path: &Path) -> Result<HashMap<String, String>, ModuleError> {
    let data =
        crate::read::read_regular(path, u64::MAX).map_err(|error| ModuleError::Unreadable {
            path: path.to_path_buf(),
            error,
        })?;
    let file = ElfFile64::<Endianness>::parse(&*data).map_err(|error| ModuleError::NotElf {
        path: path.to_path_buf(),
        error,
    })?;
    let section = file
        .section_by_name(".modinfo")
        .ok_or_else(|| ModuleError::NoModinfo(path.to_path_buf()))?;
    let bytes = section.data().map_err(|error| ModuleError::BadModinfo {
        path: path.to_path_buf(),
        error,
    })?;
    let mut info = HashMap::new();
    for entry in bytes.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        if let Some((key, value)) = text.split_once('=') {
            info.entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    Ok(info)
}

/// The name a module has in the kernel: its `.modinfo` name, else its file name with
/// dashes turned into underscores.
pub fn kernel_name(path: &Path) -> String {
    modinfo(path)
        .ok()
        .and_then(|info| info.get("name").cloned())
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| kernel_module_name(&s.to_string_lossy()))
                .unwrap_or_default()
        })
}

/// Finds the module `name` in a `lib/modules/<release>` tree and returns it after its
/// dependencies (from `.modinfo` `depends=`), each once, in load order.
///
/// The tree is indexed once, through the kernel layer's walk
/// ([`walk_files`], which its `find_module` uses too), because a module's
/// dependencies are looked up by name one after another.
pub fn with_dependencies(modules_dir: &Path, name: &str) -> Result<Vec<PathBuf>, ModuleError> {
    let mut index: HashMap<String, PathBuf> = HashMap::new();
    walk_files(&modules_dir.join("kernel"), |path, _| {
        if path.extension().is_some_and(|e| e == "ko") {
            if let Some(stem) = path.file_stem() {
                index.insert(
                    kernel_module_name(&stem.to_string_lossy()),
                    path.to_path_buf(),
                );
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if index.is_empty() {
        return Err(ModuleError::NoModules(modules_dir.to_path_buf()));
    }
    let mut order = Vec::new();
    visit(
        &index,
        &kernel_module_name(name),
        &mut order,
        &mut Vec::new(),
    )?;
    Ok(order)
}

fn visit(
    index: &HashMap<String, PathBuf>,
    name: &str,
    order: &mut Vec<PathBuf>,
    path: &mut Vec<String>,
) -> Result<(), ModuleError> {
    let Some(file) = index.get(name) else {
        return Err(ModuleError::Unknown {
            name: name.to_string(),
            needed_by: path.clone(),
        });
    };
    if order.contains(file) || path.iter().any(|p| p == name) {
        return Ok(());
    }
    path.push(name.to_string());
    let info = modinfo(file)?;
    for dependency in info
        .get("depends")
        .map(|d| {
            d.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    {
        visit(index, &kernel_module_name(&dependency), order, path)?;
    }
    path.pop();
    order.push(file.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A relocatable ELF object whose `.modinfo` holds `entries`.
    fn module_object(entries: &[&str]) -> Vec<u8> {
        use object::build::elf::{Builder, SectionData};
        let mut builder = Builder::new(Endianness::Little, true);
        builder.header.e_type = object::elf::ET_REL;
        builder.header.e_machine = object::elf::EM_X86_64;
        let info: Vec<u8> = entries
            .iter()
            .flat_map(|e| [e.as_bytes(), b"\0"].concat())
            .collect();
        let modinfo = builder.sections.add();
        modinfo.name = b".modinfo"[..].into();
        modinfo.sh_type = object::elf::SHT_PROGBITS;
        modinfo.data = SectionData::Data(info.into());
        let names = builder.sections.add();
        names.name = b".shstrtab"[..].into();
        names.sh_type = object::elf::SHT_STRTAB;
        names.data = SectionData::SectionString;
        let mut out = Vec::new();
        builder.write(&mut out).unwrap();
        out
    }

    fn tree(modules: &[(&str, &[&str])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, entries) in modules {
            let path = dir.path().join("kernel").join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, module_object(entries)).unwrap();
        }
        dir
    }

    #[test]
    fn dependencies_come_first_each_once() {
        let dir = tree(&[
            ("fs/a-mod.ko", &["name=a_mod", "depends=b_mod,c"]),
            ("lib/deep/b-mod.ko", &["name=b_mod", "depends=c"]),
            ("c.ko", &["name=c", "depends="]),
        ]);
        let order = with_dependencies(dir.path(), "a-mod").unwrap();
        let names: Vec<String> = order.iter().map(|p| kernel_name(p)).collect();
        assert_eq!(names, ["c", "b_mod", "a_mod"]);
    }

    #[test]
    fn a_missing_module_names_what_needs_it() {
        let dir = tree(&[("a.ko", &["depends=b"]), ("b.ko", &["depends=gone"])]);
        let error = with_dependencies(dir.path(), "a").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the kernel has no module `gone` (needed by a <- b)"
        );
        let error = with_dependencies(dir.path(), "nothing").unwrap_err();
        assert_eq!(error.to_string(), "the kernel has no module `nothing`");
    }

    #[test]
    fn an_empty_tree_holds_no_modules() {
        let dir = tempfile::tempdir().unwrap();
        let error = with_dependencies(dir.path(), "a").unwrap_err();
        assert!(matches!(error, ModuleError::NoModules(_)));
        assert_eq!(
            error.to_string(),
            format!("{} holds no modules", dir.path().display())
        );
    }

    #[test]
    fn a_file_that_is_no_module_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-elf.ko");
        fs::write(&path, "text").unwrap();
        let error = modinfo(&path).unwrap_err();
        assert!(error
            .to_string()
            .starts_with(&format!("{} is not a kernel module: ", path.display())));
        assert_eq!(kernel_name(&path), "not_elf");
        let bare = dir.path().join("bare.ko");
        fs::write(&bare, module_object(&[])).unwrap();
        assert_eq!(modinfo(&bare).unwrap(), HashMap::new());
    }
}
