//! `kgpc test`: build a spec's module and prove it in the target kernel under QEMU.
//!
//! The spec is compiled once: the model checked first, before anything is
//! built, is the one the patch is built from. A spec the test block loads
//! first is another spec, compiled and built on its own.

use super::build::{build_spec, compile_and_build, BuildRequest, BuiltSpec};
use super::session::{Outcome, Session};
use super::test_modules::{self, file_name, TestModules};
use super::test_verdict;
use crate::build::kbuild::find_kdir;
use crate::check::model::TestPlan;
use crate::check::Model;
use crate::cli::{MessageFormat, SpecArgs, TestArgs};
use crate::error::Error;
use crate::fetch::KernelPaths;
use crate::pipeline::build::BuildOptions;
use crate::vm::report::Report;
use crate::vm::results::{judge, Failure};
use crate::vm::{self, GuestModule, Machine, Plan, VmError};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn test(args: &TestArgs) -> Result<(), Error> {
    let mut session = Session::new(args.spec.message_format);
    let result = run(args, &mut session);
    // The built module lives in the test's work directory, gone unless kept.
    session.finish(&Outcome {
        command: "test",
        module: None,
    });
    result
}

/// Where the test builds and boots: the directory asked for, kept, or a
/// temporary one removed at the end.
struct WorkDir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// How long the parts of a run took, for its last line.
struct Timings {
    start: Instant,
    build: Duration,
    prerequisites: Duration,
    vm: Duration,
}

/// What the guest is given: its plan and the modules copied into it.
struct Guest {
    plan: Plan,
    files: Vec<(String, PathBuf)>,
}

/// Checks, builds and proves the spec; every problem is in the session's diagnostics.
fn run(args: &TestArgs, session: &mut Session) -> Result<(), Error> {
    let start = Instant::now();
    let work =
        work_dir(args.keep_work.as_deref()).map_err(|e| session.fail(e, "test the patch"))?;
    // Check first: a spec without a test block is refused before anything is built.
    let (model, plan) = checked(args, session)?;
    let release = model.target.release.clone();
    let kernel = kernel_image(session, &model)?;
    // The test's modules, built before the patch: the patch resolves the symbols they
    // export against their Module.symvers. Without a build tree, building the patch
    // reports it.
    let kdir = find_kdir(&release, args.kdir.as_deref()).ok();
    let modules = test_modules::prepare(session, &plan, &work.path, kdir.as_deref(), &kernel)?;
    let modules_time = start.elapsed();
    let request = BuildRequest {
        spec: &args.spec,
        build: BuildOptions {
            output: Some(work.path.join("patch")),
            force: true,
            kdir: args.kdir.as_deref(),
            extra_symbols: modules.symvers.clone(),
        },
    };
    let patch = build_spec(session, model, &request)?;
    let patch_built = start.elapsed();
    let firsts = patches_first(args, session, &plan, &work.path, &patch, &modules.symvers)?;
    let guest = guest(args, &plan, modules, &firsts, &patch);
    let prerequisites = modules_time + (start.elapsed() - patch_built);
    let vm_start = Instant::now();
    let booted = boot(args, &guest, &work.path, &kernel).map_err(|error| {
        let error = Error::Vm {
            error,
            release: release.clone(),
        };
        session.fail(error, "test the patch")
    })?;
    let timings = Timings {
        start,
        build: patch_built - modules_time,
        prerequisites,
        vm: vm_start.elapsed(),
    };
    let proof = Proof {
        args,
        plan: &plan,
        patch: &patch,
        release: &release,
        work: &work.path,
    };
    verdict(session, &proof, &guest.plan, &booted, &timings)
}

/// Boots the target kernel under QEMU with an initramfs holding the guest's
/// modules and its plan as `/init`.
fn boot(
    args: &TestArgs,
    guest: &Guest,
    work: &Path,
    kernel: &KernelPaths,
) -> Result<vm::Run, VmError> {
    let machine = Machine {
        qemu: args.qemu.clone(),
        kernel: kernel.vmlinuz(),
        busybox: args.busybox.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        memory_mb: 512,
        work: work.to_path_buf(),
    };
    let init = vm::script::init_script(&guest.plan);
    let initrd = work.join("initramfs.cpio");
    vm::initramfs(&initrd, &args.busybox, &init, &guest.files)?;
    vm::run(&machine, &initrd)
}

/// The test's work directory: the one `--keep-work` names, else a new temporary one.
fn work_dir(keep: Option<&Path>) -> Result<WorkDir, Error> {
    if let Some(dir) = keep {
        fs::create_dir_all(dir).map_err(|error| Error::WorkDir {
            dir: Some(dir.to_path_buf()),
            error,
        })?;
        return Ok(WorkDir {
            path: dir.to_path_buf(),
            _temp: None,
        });
    }
    let temp = tempfile::Builder::new()
        .prefix("kgpc-test.")
        .tempdir()
        .map_err(|error| Error::WorkDir { dir: None, error })?;
    Ok(WorkDir {
        path: temp.path().to_path_buf(),
        _temp: Some(temp),
    })
}

/// The checked model and its test block.
fn checked(args: &TestArgs, session: &mut Session) -> Result<(Model, TestPlan), Error> {
    let Some(model) = session.compile(&args.spec) else {
        return Err(session.fail(Error::Spec, "test the patch"));
    };
    let Some(plan) = model.test.clone() else {
        let error = Error::NoTestBlock {
            spec: args.spec.spec.clone(),
        };
        return Err(session.fail(error, "test the patch"));
    };
    Ok((model, plan))
}

/// The cached kernel the test boots, with its image.
fn kernel_image(session: &mut Session, model: &Model) -> Result<KernelPaths, Error> {
    let release = &model.target.release;
    // A tree another kgpc is still unpacking is waited for, never used half-made.
    let kernel = crate::fetch::ready(&crate::fetch::cache_dir(), release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::new(release));
    if !kernel.vmlinuz().is_file() {
        let error = Error::NoTestImage {
            release: release.clone(),
            image: kernel.vmlinuz(),
            span: model.target.span,
        };
        return Err(session.fail(error, "test the patch"));
    }
    Ok(kernel)
}

/// Builds the patches to load first, each spec compiled with its own diagnostics.
fn patches_first(
    args: &TestArgs,
    session: &mut Session,
    plan: &TestPlan,
    work: &Path,
    patch: &BuiltSpec,
    extra_symbols: &[PathBuf],
) -> Result<Vec<BuiltSpec>, Error> {
    let mut firsts = Vec::new();
    for (index, first) in plan.patches_first.iter().enumerate() {
        let spec = SpecArgs {
            spec: first.path.clone(),
            release: Some(patch.model.target.release.clone()),
            ..args.spec.clone()
        };
        let request = BuildRequest {
            spec: &spec,
            build: BuildOptions {
                output: Some(work.join(format!("first-{index}"))),
                force: true,
                kdir: Some(&patch.kdir),
                extra_symbols: extra_symbols.to_vec(),
            },
        };
        let mut first_session = Session::new(args.spec.message_format);
        match compile_and_build(&mut first_session, &request) {
            Ok(built) => firsts.push(built),
            Err(cause) => {
                let error = Error::PatchFirst {
                    spec: first.path.clone(),
                    span: first.span,
                    cause: Box::new(cause),
                };
                return Err(session.fail(error, "test the patch"));
            }
        }
    }
    Ok(firsts)
}

/// The guest's plan and files: the test's modules, the patches first, the
/// patch, and the test block's entries.
fn guest(
    args: &TestArgs,
    plan: &TestPlan,
    modules: TestModules,
    firsts: &[BuiltSpec],
    patch: &BuiltSpec,
) -> Guest {
    let mut files = modules.files;
    let mut patches_first = Vec::new();
    for (index, first) in firsts.iter().enumerate() {
        let file = format!("p{index}-{}", file_name(&first.module));
        patches_first.push(GuestModule {
            file: file.clone(),
            kernel_name: first.model.patch.kernel_name.clone(),
        });
        files.push((file, first.module.clone()));
    }
    let patch_file = file_name(&patch.module);
    files.push((patch_file.clone(), patch.module.clone()));
    let (modules_first, modules_after) = if args.modules_after_patch {
        (Vec::new(), modules.modules)
    } else {
        (modules.modules, Vec::new())
    };
    let plan = Plan {
        modules_first,
        modules_after,
        patches_first,
        patch: GuestModule {
            file: patch_file,
            kernel_name: patch.model.patch.kernel_name.clone(),
        },
        checks: plan.checks.clone(),
        dmesg: plan.dmesg.clone(),
        refused: plan.refused.as_ref().map(|r| r.text.clone()),
        transition_timeout_secs: args.transition_timeout.max(1),
    };
    Guest { plan, files }
}

/// What the verdict is about: the test asked for, its plan and the patch built.
struct Proof<'a> {
    args: &'a TestArgs,
    plan: &'a TestPlan,
    patch: &'a BuiltSpec,
    release: &'a str,
    work: &'a Path,
}

/// Judges the VM's run, reports every failure and prints the last line.
fn verdict(
    session: &mut Session,
    proof: &Proof,
    vm_plan: &Plan,
    booted: &vm::Run,
    timings: &Timings,
) -> Result<(), Error> {
    let args = proof.args;
    let human = args.spec.message_format == MessageFormat::Human;
    let report = Report::parse(&booted.report_text);
    let mut failures = judge(vm_plan, &report, &booted.console);
    if booted.timed_out {
        failures.push(Failure::Vm(format!(
            "the VM did not finish within {} s and was killed",
            args.timeout
        )));
    }
    let kept = args.keep_work.is_some();
    if human {
        test_verdict::show_console(&failures, &booted.console);
    }
    for failure in &failures {
        let diagnostic = test_verdict::diagnostic(failure, proof.plan, kept, &booted.console_path);
        session.push(diagnostic);
    }
    let failed = session.report("prove the patch in the VM");
    if human {
        let plan = proof.plan;
        let checks = plan.checks.len() + plan.dmesg.len() + usize::from(plan.refused.is_some());
        crate::errln!(
            "{} {} on {}: {} ({} test entries); build {:.1} s, modules first {:.1} s, VM {:.1} s, total {:.1} s",
            if failed { "FAILED" } else { "Tested" },
            proof.patch.model.patch.module_name,
            report.booted.as_deref().unwrap_or(proof.release),
            if failed { "failed" } else { "passed" },
            checks,
            timings.build.as_secs_f64(),
            timings.prerequisites.as_secs_f64(),
            timings.vm.as_secs_f64(),
            timings.start.elapsed().as_secs_f64()
        );
        if kept {
            crate::errln!(
                "Work directory: {} (console.log, report.log, initramfs.cpio)",
                proof.work.display()
            );
        }
    }
    if failed {
        Err(Error::Test)
    } else {
        Ok(())
    }
}
