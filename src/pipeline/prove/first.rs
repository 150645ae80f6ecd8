//! The patches a test block loads before the patch: each spec compiled by
//! its own [`compile`](super::super::compile) call, with its own sources and
//! diagnostics, and built against the patch's build tree.

use super::ProveError;
use crate::build::sign::SigningKey;
use crate::check::model::TestPlan;
use crate::check::Model;
use crate::pipeline::build::{build, BuildError, BuildOptions, BuiltModule};
use crate::pipeline::{compile, Compiled, Options, SpecInput};
use crate::source::Span;
use std::path::{Path, PathBuf};

/// A patch loaded first, built.
pub struct BuiltFirst {
    pub model: Model,
    pub built: BuiltModule,
}

/// A patch to load first that did not build: the spec the test block names,
/// where, and its own run.
pub struct FirstFailure {
    pub spec: PathBuf,
    pub span: Span,
    /// The spec's sources and diagnostics.
    pub compiled: Compiled,
    pub error: FirstError,
}

/// Why a patch to load first did not build.
pub enum FirstError {
    /// The spec has errors.
    Spec,
    /// Its checked model did not build.
    Build {
        model: Box<Model>,
        error: BuildError,
    },
}

/// Where and against what the patches first are built.
pub struct FirstOptions<'a> {
    /// How each spec is compiled; its release becomes the patch's.
    pub compile: &'a Options,
    pub release: &'a str,
    pub work: &'a Path,
    /// The patch's build tree.
    pub kdir: &'a Path,
    /// `Module.symvers` files of the test's modules.
    pub extra_symbols: &'a [PathBuf],
    /// The key the patch is signed with, which signs these too.
    pub sign: Option<&'a SigningKey>,
}

/// Compiles and builds every patch the plan loads first, in order; the
/// first that fails ends it.
pub fn build_all(plan: &TestPlan, options: &FirstOptions) -> Result<Vec<BuiltFirst>, ProveError> {
    let compile_options = Options {
        release: Some(options.release.to_string()),
        ..options.compile.clone()
    };
    let mut firsts = Vec::new();
    for (index, first) in plan.patches_first.iter().enumerate() {
        let failure = |compiled, error| {
            ProveError::PatchFirst(Box::new(FirstFailure {
                spec: first.path.clone(),
                span: first.span,
                compiled,
                error,
            }))
        };
        let mut compiled = compile(&SpecInput::Path(first.path.clone()), &compile_options);
        // A patch the test must load first cannot be skipped by its config.
        let model = compiled
            .model
            .take()
            .filter(|_| compiled.config.skipped.is_none());
        let Some(model) = model else {
            return Err(failure(compiled, FirstError::Spec));
        };
        let build_options = BuildOptions {
            output: Some(options.work.join(format!("first-{index}"))),
            force: true,
            kdir: Some(options.kdir),
            extra_symbols: options.extra_symbols.to_vec(),
            sign: options.sign.cloned(),
        };
        match build(&compiled.sources, &model, &build_options) {
            Ok(built) => firsts.push(BuiltFirst { model, built }),
            Err(error) => {
                return Err(failure(
                    compiled,
                    FirstError::Build {
                        model: Box::new(model),
                        error,
                    },
                ))
            }
        }
    }
    Ok(firsts)
}
