//! Building modules with the kernel's build system, and the post-link step that
//! turns references to non-exported symbols, and to the patched modules' symbols,
//! into livepatch relocations.
//!
//! [`kbuild`] runs `make -C KDIR M=DIR modules` and reads its messages; [`klp`]
//! rewrites the built `.ko`, with [`symvers`] saying who exports what and
//! [`depends`] removing the patched modules from its dependencies; [`undefined`]
//! reads what it leaves unresolved. [`build_module`] does it all for one directory;
//! [`sign`] signs the result with the build tree's `sign-file` when asked.

pub mod depends;
pub mod kbuild;
pub mod klp;
pub mod sign;
pub mod symvers;
pub mod undefined;

use kbuild::{MakeError, MakeRun};
use klp::{Conversion, KlpError};
use std::fs;
use std::path::{Path, PathBuf};

/// A module directory built successfully.
#[derive(Debug)]
pub struct Built {
    /// The modules make left, sorted.
    pub modules: Vec<PathBuf>,
    pub make: MakeRun,
    /// What the livepatch conversion did, for a module with `.kgpc.klp_syms`.
    pub conversion: Option<Conversion>,
}

/// Why a module directory did not build.
#[derive(Debug)]
pub enum BuildFailure {
    /// make could not be run.
    Make(MakeError),
    /// make failed; its messages are in the run's log.
    Failed(MakeRun),
    /// make succeeded and left no `.ko`.
    NoModule(MakeRun),
    /// A module's symbol table has undefined symbols that are neither exported
    /// nor declared `extern` (every one, sorted).
    Undefined {
        module: PathBuf,
        names: Vec<String>,
        make: MakeRun,
    },
    /// The livepatch conversion failed.
    Klp {
        module: PathBuf,
        error: KlpError,
        make: MakeRun,
    },
    /// A file could not be read or written.
    Io(String),
}

/// Builds the modules of `dir` against `kdir`, resolving symbols also against the
/// `Module.symvers` files of out-of-tree modules in `extra_symbols`; converts every
/// module that records non-exported symbols or patched modules. Undefined symbols
/// left in a module's symbol table that no export resolves are an error: the
/// kernel would refuse the module with "Unknown symbol".
pub fn build_module(
    kdir: &Path,
    dir: &Path,
    extra_symbols: &[PathBuf],
) -> Result<Built, BuildFailure> {
    let make = kbuild::make_modules(kdir, dir, extra_symbols).map_err(BuildFailure::Make)?;
    if !make.success {
        return Err(BuildFailure::Failed(make));
    }
    let mut modules: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| BuildFailure::Io(format!("cannot read {}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ko"))
        .collect();
    modules.sort();
    if modules.is_empty() {
        return Err(BuildFailure::NoModule(make));
    }
    let exports = symvers::Exports::read(kdir, extra_symbols);
    let mut conversion: Option<Conversion> = None;
    for module in &modules {
        let data = crate::read::read_regular(module, u64::MAX)
            .map_err(|e| BuildFailure::Io(format!("cannot read {}: {e}", module.display())))?;
        let data = match klp::convert(&data, &exports) {
            Ok(None) => data,
            Ok(Some((bytes, done))) => {
                write_atomically(module, &bytes)?;
                match &mut conversion {
                    Some(all) => {
                        all.records.extend(done.records);
                        all.objects.extend(done.objects);
                        all.converted.extend(done.converted);
                        all.sections.extend(done.sections);
                        all.dropped_depends.extend(done.dropped_depends);
                        all.dropped_versions += done.dropped_versions;
                    }
                    None => conversion = Some(done),
                }
                bytes
            }
            Err(error) => {
                return Err(BuildFailure::Klp {
                    module: module.clone(),
                    error,
                    make,
                })
            }
        };
        let names = undefined::unresolved(&data, &exports).map_err(|e| {
            BuildFailure::Io(format!(
                "cannot read the symbols of {}: {e}",
                module.display()
            ))
        })?;
        if !names.is_empty() {
            return Err(BuildFailure::Undefined {
                module: module.clone(),
                names,
                make,
            });
        }
    }
    Ok(Built {
        modules,
        make,
        conversion,
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildFailure> {
    let fail =
        |e: std::io::Error| BuildFailure::Io(format!("cannot write {}: {e}", path.display()));
    crate::atomic_write::write_atomically(path, bytes).map_err(fail)
}
