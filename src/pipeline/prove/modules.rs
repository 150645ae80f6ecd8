//! The modules a test block loads before (or after) the patch: `.ko` files,
//! module sources built in the work directory, and modules of the target
//! kernel with their dependencies.

use super::ProveError;
use crate::build::build_module;
use crate::check::model::{TestLoad, TestPlan};
use crate::fetch::KernelPaths;
use crate::kernel::module_name::kernel_module_name;
use crate::vm::{self, GuestModule};
use std::fs;
use std::path::{Path, PathBuf};

/// The test block's modules, ready to copy into the guest.
#[derive(Default)]
pub struct TestModules {
    /// Each module as the guest loads it, in order.
    pub modules: Vec<GuestModule>,
    /// The file each module is copied into the initramfs as, and where it is now.
    pub files: Vec<(String, PathBuf)>,
    /// The `Module.symvers` of the modules built from source.
    pub symvers: Vec<PathBuf>,
    /// For each `load` of the plan, the index in `modules` of the module it
    /// names (its dependencies come before it).
    pub named: Vec<usize>,
}

/// Finds or builds every module the plan loads. Without a build tree nothing
/// is built here; building the patch reports the missing tree.
pub fn prepare(
    plan: &TestPlan,
    work: &Path,
    kdir: Option<&Path>,
    kernel: &KernelPaths,
) -> Result<TestModules, ProveError> {
    let mut prepared = TestModules::default();
    let Some(kdir) = kdir else {
        return Ok(prepared);
    };
    for (index, load) in plan.loads.iter().enumerate() {
        let (paths, symvers) = resolve_load(load, index, work, kdir, kernel)?;
        for path in paths {
            let file = format!("l{index}-{}", file_name(&path));
            prepared.modules.push(GuestModule {
                file: file.clone(),
                kernel_name: vm::modules::kernel_name(&path),
            });
            prepared.files.push((file, path));
        }
        prepared
            .named
            .push(prepared.modules.len().saturating_sub(1));
        prepared.symvers.extend(symvers);
    }
    Ok(prepared)
}

/// The modules the built patch needs loaded before it: those its `.modinfo`
/// `depends` names (the modules whose exports its code calls), with their own
/// dependencies, by kernel name. One among the test's own modules stays where
/// the test loads it; the others are found in the target kernel's module tree
/// and appended to `modules`, after the test's, so that what they need of the
/// test's modules is loaded before them.
pub fn add_patch_dependencies(
    patch: &Path,
    modules: &mut TestModules,
    kernel: &KernelPaths,
    span: crate::source::Span,
) -> Result<Vec<String>, ProveError> {
    let depends = vm::modules::modinfo(patch)
        .map_err(|e| ProveError::TestLoad {
            message: format!("cannot read the built patch's .modinfo: {e}"),
            help: "rebuild the patch; the module kgpc built is not readable",
            span,
        })?
        .remove("depends")
        .unwrap_or_default();
    let mut needed = Vec::new();
    for name in depends.split(',').filter(|n| !n.is_empty()) {
        let name = kernel_module_name(name);
        let in_test = modules.modules.iter().any(|m| m.kernel_name == name);
        let paths = match vm::modules::with_dependencies(&kernel.modules(), &name) {
            Ok(paths) => paths,
            // A module the test built from its source is not in the kernel's tree.
            Err(_) if in_test => Vec::new(),
            Err(e) => {
                return Err(ProveError::TestLoad {
                    message: format!("the patch needs module `{name}`, which cannot be loaded: {e}"),
                    help: "load the module the patch's code calls into with `load \"NAME\"` in the test block",
                    span,
                })
            }
        };
        for path in paths {
            let kernel_name = vm::modules::kernel_name(&path);
            if !modules.modules.iter().any(|m| m.kernel_name == kernel_name) {
                let file = format!("d{}-{}", modules.modules.len(), file_name(&path));
                modules.modules.push(GuestModule {
                    file: file.clone(),
                    kernel_name: kernel_name.clone(),
                });
                modules.files.push((file, path));
            }
            needed.push(kernel_name);
        }
        needed.push(name);
    }
    Ok(needed)
}

/// A module file's name, as it is copied into the guest.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module.ko".to_string())
}

/// The `.ko` files a `load` names, dependencies first, and the `Module.symvers` of
/// a module built from its source.
fn resolve_load(
    load: &TestLoad,
    index: usize,
    work: &Path,
    kdir: &Path,
    kernel: &KernelPaths,
) -> Result<(Vec<PathBuf>, Option<PathBuf>), ProveError> {
    let path = match &load.base_dir {
        Some(base) => base.join(&load.what),
        None => PathBuf::from(&load.what),
    };
    let not_found = |message: String, help: &'static str| ProveError::TestLoad {
        message,
        help,
        span: load.span,
    };
    if load.what.ends_with(".ko") {
        if path.is_file() {
            return Ok((vec![path], None));
        }
        return Err(not_found(
            format!("there is no module file `{}`", path.display()),
            "name a .ko file relative to the spec, a directory with a module's source, or a module of the target kernel",
        ));
    }
    if path.is_dir() {
        return build_source(load, &path, &work.join(format!("load-{index}")), kdir);
    }
    if load.what.contains('/') {
        return Err(not_found(
            format!("there is no directory `{}`", path.display()),
            "a path names a directory with a module's C source and Kbuild, relative to the spec",
        ));
    }
    match vm::modules::with_dependencies(&kernel.modules(), &load.what) {
        Ok(paths) => Ok((paths, None)),
        Err(message) => Err(not_found(
            message.to_string(),
            "name a module of the target kernel's image package (as in lsmod), a .ko file, or a directory",
        )),
    }
}

/// Builds the module source at `source` in `dir`, so the source tree stays
/// clean: its `.ko` files and its `Module.symvers`, if it wrote one.
fn build_source(
    load: &TestLoad,
    source: &Path,
    dir: &Path,
    kdir: &Path,
) -> Result<(Vec<PathBuf>, Option<PathBuf>), ProveError> {
    let _ = fs::remove_dir_all(dir);
    if let Err(e) = copy_sources(source, dir) {
        return Err(ProveError::TestLoad {
            message: format!("cannot copy `{}`: {e}", source.display()),
            help: "check the directory's permissions",
            span: load.span,
        });
    }
    match build_module(kdir, dir, &[]) {
        Ok(built) => {
            let symvers = dir.join("Module.symvers");
            Ok((built.modules, symvers.is_file().then_some(symvers)))
        }
        Err(failure) => Err(ProveError::TestLoadBuild {
            source: source.to_path_buf(),
            dir: dir.to_path_buf(),
            kdir: kdir.to_path_buf(),
            failure: Box::new(failure),
            span: load.span,
        }),
    }
}

/// Copies the files (not the build products) of a module source directory.
fn copy_sources(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        let product = [".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers", ".order"]
            .iter()
            .any(|ext| name_text.ends_with(ext));
        if entry.file_type()?.is_file() && !product {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn load(what: &str, base: &Path) -> TestLoad {
        TestLoad {
            what: what.into(),
            base_dir: Some(base.to_path_buf()),
            span: Span::new(FileId(0), 1, 4),
        }
    }

    #[test]
    fn a_missing_module_file_is_reported_at_its_load() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kernel = KernelPaths::new("6.1.0-57-cloud-amd64");
        let missing = load("gone.ko", dir.path());
        match resolve_load(&missing, 0, dir.path(), dir.path(), &kernel) {
            Err(ProveError::TestLoad { message, span, .. }) => {
                assert!(
                    message.starts_with("there is no module file `"),
                    "{message}"
                );
                assert_eq!(span, missing.span);
            }
            _ => panic!("a missing .ko is a TestLoad error"),
        }
        let path = load("no/such/dir", dir.path());
        assert!(matches!(
            resolve_load(&path, 0, dir.path(), dir.path(), &kernel),
            Err(ProveError::TestLoad { message, .. }) if message.starts_with("there is no directory")
        ));
    }

    #[test]
    fn an_existing_module_file_is_loaded_as_it_is() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("m.ko"), b"").expect("a module file");
        let kernel = KernelPaths::new("6.1.0-57-cloud-amd64");
        let found = resolve_load(
            &load("m.ko", dir.path()),
            0,
            dir.path(),
            dir.path(),
            &kernel,
        );
        assert!(matches!(found, Ok((paths, None)) if paths == [dir.path().join("m.ko")]));
    }

    #[test]
    fn only_the_sources_of_a_module_directory_are_copied() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let from = dir.path().join("src");
        std::fs::create_dir(&from).expect("a source directory");
        for name in ["m.c", "Kbuild", "m.o", "m.ko", "Module.symvers"] {
            std::fs::write(from.join(name), name).expect("a file");
        }
        let to = dir.path().join("copy");
        copy_sources(&from, &to).expect("the sources are copied");
        let mut copied: Vec<String> = fs::read_dir(&to)
            .expect("the copy")
            .map(|e| file_name(&e.expect("an entry").path()))
            .collect();
        copied.sort();
        assert_eq!(copied, ["Kbuild", "m.c"]);
    }
}
