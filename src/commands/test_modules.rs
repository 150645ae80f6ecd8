//! The modules a test block loads before (or after) the patch: `.ko` files,
//! module sources built in the work directory, and modules of the target
//! kernel with their dependencies.

use super::build_report::report_failure;
use super::session::Session;
use crate::build::build_module;
use crate::check::model::{TestLoad, TestPlan};
use crate::error::Error;
use crate::fetch::KernelPaths;
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
}

/// Finds or builds every module the plan loads. Without a build tree nothing
/// is built here; building the patch reports the missing tree.
pub fn prepare(
    session: &mut Session,
    plan: &TestPlan,
    work: &Path,
    kdir: Option<&Path>,
    kernel: &KernelPaths,
) -> Result<TestModules, Error> {
    let mut prepared = TestModules::default();
    let Some(kdir) = kdir else {
        return Ok(prepared);
    };
    for (index, load) in plan.loads.iter().enumerate() {
        let (paths, symvers) = resolve_load(session, load, index, work, kdir, kernel)?;
        for path in paths {
            let file = format!("l{index}-{}", file_name(&path));
            prepared.modules.push(GuestModule {
                file: file.clone(),
                kernel_name: vm::modules::kernel_name(&path),
            });
            prepared.files.push((file, path));
        }
        prepared.symvers.extend(symvers);
    }
    Ok(prepared)
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
    session: &mut Session,
    load: &TestLoad,
    index: usize,
    work: &Path,
    kdir: &Path,
    kernel: &KernelPaths,
) -> Result<(Vec<PathBuf>, Option<PathBuf>), Error> {
    let path = match &load.base_dir {
        Some(base) => base.join(&load.what),
        None => PathBuf::from(&load.what),
    };
    let not_found = |session: &mut Session, message: String, help: &'static str| {
        let error = Error::TestLoad {
            message,
            help,
            span: load.span,
        };
        session.fail(error, "test the patch")
    };
    if load.what.ends_with(".ko") {
        if path.is_file() {
            return Ok((vec![path], None));
        }
        return Err(not_found(
            session,
            format!("there is no module file `{}`", path.display()),
            "name a .ko file relative to the spec, a directory with a module's source, or a module of the target kernel",
        ));
    }
    if path.is_dir() {
        // Built in the work directory, so the source tree stays clean.
        let dir = work.join(format!("load-{index}"));
        let _ = fs::remove_dir_all(&dir);
        if let Err(e) = copy_sources(&path, &dir) {
            return Err(not_found(
                session,
                format!("cannot copy `{}`: {e}", path.display()),
                "check the directory's permissions",
            ));
        }
        return match build_module(kdir, &dir, &[]) {
            Ok(built) => {
                let symvers = dir.join("Module.symvers");
                Ok((built.modules, symvers.is_file().then_some(symvers)))
            }
            Err(failure) => {
                report_failure(session, &dir, kdir, failure, None);
                let error = Error::TestLoadBuild {
                    dir: path,
                    span: load.span,
                };
                Err(session.fail(error, "test the patch"))
            }
        };
    }
    if load.what.contains('/') {
        return Err(not_found(
            session,
            format!("there is no directory `{}`", path.display()),
            "a path names a directory with a module's C source and Kbuild, relative to the spec",
        ));
    }
    match vm::modules::with_dependencies(&kernel.modules(), &load.what) {
        Ok(paths) => Ok((paths, None)),
        Err(message) => Err(not_found(
            session,
            message.to_string(),
            "name a module of the target kernel's image package (as in lsmod), a .ko file, or a directory",
        )),
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
