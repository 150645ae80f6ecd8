//! The build stage: a checked model's module written into its directory and
//! built there with the kernel's build system.

use super::{write_module, Written};
use crate::build::kbuild::find_kdir;
use crate::build::{build_module, BuildFailure, Built};
use crate::check::Model;
use crate::output::OutputError;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

/// Where and against what a module is built.
pub struct BuildOptions<'a> {
    /// The output directory [default: ./<patch name>/].
    pub output: Option<PathBuf>,
    /// Write even into a directory holding files kgpc did not write.
    pub force: bool,
    /// The kernel build tree asked for (`--kdir`).
    pub kdir: Option<&'a Path>,
    /// `Module.symvers` files of out-of-tree modules, for modpost and the conversion.
    pub extra_symbols: Vec<PathBuf>,
}

/// A module built from a checked model.
pub struct BuiltModule {
    pub written: Written,
    pub kdir: PathBuf,
    /// The patch's `.ko`.
    pub module: PathBuf,
    pub built: Built,
}

/// Why a checked model did not become a module.
pub enum BuildError {
    /// No kernel build tree for the target's release; these were tried.
    NoBuildTree { tried: Vec<PathBuf> },
    /// The module's files could not be written.
    Output(OutputError),
    /// The files were written, and building them failed.
    Failed {
        written: Written,
        kdir: PathBuf,
        failure: Box<BuildFailure>,
    },
}

/// Writes the module of `model` (naming `sources` in its `#line`
/// directives) and builds it against the target's build tree.
pub fn build(
    sources: &SourceMap,
    model: &Model,
    options: &BuildOptions,
) -> Result<BuiltModule, BuildError> {
    let kdir = find_kdir(&model.target.release, options.kdir)
        .map_err(|tried| BuildError::NoBuildTree { tried })?;
    let written = write_module(sources, model, options.output.as_deref(), options.force)
        .map_err(BuildError::Output)?;
    match build_module(&kdir, &written.dir, &options.extra_symbols) {
        Ok(built) => {
            let module = written.dir.join(format!("{}.ko", model.patch.module_name));
            Ok(BuiltModule {
                written,
                kdir,
                module,
                built,
            })
        }
        Err(failure) => Err(BuildError::Failed {
            written,
            kdir,
            failure: Box::new(failure),
        }),
    }
}
