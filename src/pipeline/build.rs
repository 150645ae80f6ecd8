//! The build stage: a checked model's module written into its directory and
//! built there with the kernel's build system.

use super::{write_module, Written};
use crate::build::kbuild::find_kdir;
use crate::build::sign::{SignError, Signed, Signer, SigningKey};
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
    /// Sign the module with this key once it is built (`--sign-key`, `--sign-cert`).
    pub sign: Option<SigningKey>,
}

/// A module built from a checked model.
pub struct BuiltModule {
    pub written: Written,
    pub kdir: PathBuf,
    /// The patch's `.ko`.
    pub module: PathBuf,
    pub built: Built,
    /// How the module was signed, if it was.
    pub signed: Option<Signed>,
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
    /// The module cannot be signed: found before the build (a key, the tree's
    /// `sign-file`), or after it, when the unsigned module is left in place.
    Sign {
        written: Option<Written>,
        error: SignError,
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
    let signer = match &options.sign {
        Some(key) => {
            let check = key.check().and_then(|()| Signer::of_tree(&kdir));
            Some(check.map_err(|error| BuildError::Sign {
                written: None,
                error,
            })?)
        }
        None => None,
    };
    let written = write_module(sources, model, options.output.as_deref(), options.force)
        .map_err(BuildError::Output)?;
    match build_module(&kdir, &written.dir, &options.extra_symbols) {
        Ok(built) => {
            let module = written.dir.join(format!("{}.ko", model.patch.module_name));
            let signed = match (&signer, &options.sign) {
                (Some(signer), Some(key)) => match signer.sign(&module, key) {
                    Ok(signed) => Some(signed),
                    Err(error) => {
                        return Err(BuildError::Sign {
                            written: Some(written),
                            error,
                        })
                    }
                },
                _ => None,
            };
            Ok(BuiltModule {
                written,
                kdir,
                module,
                built,
                signed,
            })
        }
        Err(failure) => Err(BuildError::Failed {
            written,
            kdir,
            failure: Box::new(failure),
        }),
    }
}
