//! The test stage as a library: a checked model's test block proved in its
//! target kernel under QEMU. [`prove`] builds the modules the block loads,
//! the patch and the specs it loads first, boots the guest and judges its
//! report. It prints nothing; `commands/test.rs` renders what it returns.

mod cpus;
mod first;
mod guest;
mod modules;
mod programs;
mod reloads;
mod verdict;
mod work_dir;

pub use first::{FirstError, FirstFailure};
pub use verdict::{Timings, Verdict};
pub use work_dir::{WorkDir, WorkDirError};

use super::build::{build, BuildError, BuildOptions, BuiltModule};
use super::Options;
use crate::build::kbuild::find_kdir;
use crate::build::sign::SigningKey;
use crate::build::BuildFailure;
use crate::check::Model;
use crate::fetch::KernelPaths;
use crate::source::{FileId, SourceMap, Span};
use crate::vm::VmError;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How the guest is run.
pub struct MachineOptions {
    /// The QEMU program (`--qemu`).
    pub qemu: PathBuf,
    /// The statically linked busybox of the initramfs (`--busybox`).
    pub busybox: PathBuf,
    /// How long the VM may run (`--timeout`).
    pub timeout_secs: u64,
    /// How long the patch's transition may take (`--transition-timeout`).
    pub transition_timeout_secs: u64,
    /// Load the test's modules after the patch (`--modules-after-patch`).
    pub modules_after_patch: bool,
    /// How many times the patch is loaded and unloaded in the boot (`--cycles`).
    pub cycles: u32,
    /// The guest's CPUs (`--smp`).
    pub cpus: u32,
    /// Each CPU on a host thread of its own (`--mttcg`).
    pub multi_threaded: bool,
}

/// How a checked model is proved.
pub struct ProveOptions<'a> {
    /// Where the modules are built and the guest's files written.
    pub work: &'a WorkDir,
    /// The kernel build tree asked for (`--kdir`).
    pub kdir: Option<&'a Path>,
    /// Sign the patch (and the patches loaded first) with this key.
    pub sign: Option<&'a SigningKey>,
    /// How the specs the test block loads first are compiled.
    pub compile: &'a Options,
    pub machine: MachineOptions,
    /// When the command began: the time before the test's modules are
    /// built counts as theirs on the last line.
    pub started: Instant,
}

/// Why a spec could not be proved.
pub enum ProveError {
    /// The spec has no test block.
    NoTestBlock,
    /// The kgpc cache has no image of the target's release to boot.
    NoTestImage {
        release: String,
        image: PathBuf,
        span: Span,
    },
    /// The guest cannot have the CPUs asked for: none, or more than `most`,
    /// the bound `by` sets.
    Cpus {
        asked: u32,
        most: u32,
        by: String,
        span: Span,
    },
    /// A module the test block loads cannot be found or made.
    TestLoad {
        message: String,
        help: &'static str,
        span: Span,
    },
    /// A module the test block builds from its `source` did not build in `dir`.
    TestLoadBuild {
        source: PathBuf,
        dir: PathBuf,
        kdir: PathBuf,
        failure: Box<BuildFailure>,
        span: Span,
    },
    /// A program the test block builds for the guest did not compile:
    /// gcc's messages, which name the C file as `compiled_as`.
    Program {
        file: FileId,
        compiled_as: String,
        log: String,
        span: Span,
    },
    /// The test's programs could not be built at all (no gcc).
    ProgramTool { message: String, span: Span },
    /// The patch did not build.
    Build(BuildError),
    /// A patch the test block loads first did not build.
    PatchFirst(Box<FirstFailure>),
    /// The VM could not be run.
    Vm(VmError),
}

/// What proving gave: the patch, once it was built, and the verdict or why
/// there is none.
pub struct Proof {
    pub patch: Option<BuiltModule>,
    pub outcome: Result<Verdict, ProveError>,
}

/// Proves the checked `model`, whose files are in `sources`: builds what its
/// test block loads and the patch, boots the target kernel and judges the run.
pub fn prove(sources: &SourceMap, model: &Model, options: &ProveOptions) -> Proof {
    let mut patch = None;
    let outcome = run(sources, model, options, &mut patch);
    Proof { patch, outcome }
}

/// The stages of [`prove`]; the patch is left in `patch` once built.
fn run(
    sources: &SourceMap,
    model: &Model,
    options: &ProveOptions,
    patch: &mut Option<BuiltModule>,
) -> Result<Verdict, ProveError> {
    let started = options.started;
    let plan = model.test.as_ref().ok_or(ProveError::NoTestBlock)?;
    let release = &model.target.release;
    let kernel = kernel_image(model)?;
    let bound = cpus::limit(&kernel);
    let asked = options.machine.cpus;
    if asked == 0 || asked > bound.most {
        return Err(ProveError::Cpus {
            asked,
            most: bound.most,
            by: bound.by,
            span: model.target.span,
        });
    }
    let work = options.work.path();
    // The guest's programs first: they build in a moment, and one that does
    // not compile is the spec's mistake, found before the kernel's build.
    let programs = programs::build_all(plan, work)?;
    // The test's modules, built before the patch: the patch resolves the symbols they
    // export against their Module.symvers. Without a build tree, building the patch
    // reports it.
    let kdir = find_kdir(release, options.kdir).ok();
    let mut modules = modules::prepare(plan, work, kdir.as_deref(), &kernel)?;
    let modules_time = started.elapsed();
    let build_options = BuildOptions {
        output: Some(work.join("patch")),
        force: true,
        kdir: options.kdir,
        extra_symbols: modules.symvers.clone(),
        sign: options.sign.cloned(),
    };
    let built = &*patch.insert(build(sources, model, &build_options).map_err(ProveError::Build)?);
    let patch_built = started.elapsed();
    let firsts = first::build_all(
        plan,
        &first::FirstOptions {
            compile: options.compile,
            release,
            work,
            kdir: &built.kdir,
            extra_symbols: &modules.symvers,
            sign: options.sign,
        },
    )?;
    let patch_needs =
        modules::add_patch_dependencies(&built.module, &mut modules, &kernel, model.target.span)?;
    let patch_module = guest::Patch {
        model,
        module: &built.module,
    };
    let guest = guest::guest(
        plan,
        &options.machine,
        modules,
        &patch_needs,
        &firsts,
        &patch_module,
        programs,
    );
    let prerequisites = modules_time + (started.elapsed() - patch_built);
    let vm_start = Instant::now();
    let booted = guest::boot(&options.machine, &guest, work, &kernel).map_err(ProveError::Vm)?;
    let timings = Timings {
        build: patch_built - modules_time,
        prerequisites,
        vm: vm_start.elapsed(),
    };
    let judged = verdict::Judged {
        plan,
        vm_plan: &guest.plan,
        timeout_secs: options.machine.timeout_secs,
        kept: options.work.kept(),
    };
    Ok(verdict::judge_run(&judged, booted, timings))
}

/// The cached kernel the test boots, with its image.
fn kernel_image(model: &Model) -> Result<KernelPaths, ProveError> {
    let release = &model.target.release;
    // A tree another kgpc is still unpacking is waited for, never used half-made.
    let kernel = crate::fetch::ready(&crate::fetch::cache_dir(), release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::new(release));
    if !kernel.vmlinuz().is_file() {
        return Err(ProveError::NoTestImage {
            release: release.clone(),
            image: kernel.vmlinuz(),
            span: model.target.span,
        });
    }
    Ok(kernel)
}
