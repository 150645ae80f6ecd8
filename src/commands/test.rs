//! `kgpc test`: build a spec's module and prove it in the target kernel under QEMU.

use super::build::{build_spec, report_failure, BuildRequest, BuiltSpec};
use super::session::{Outcome, Session};
use super::{EXIT_BUILD, EXIT_OK, EXIT_SPEC_ERRORS, EXIT_TEST};
use crate::build::build_module;
use crate::build::kbuild::find_kdir;
use crate::check::model::{TestLoad, TestPlan};
use crate::cli::{MessageFormat, SpecArgs, TestArgs};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::fetch::KernelPaths;
use crate::source::Span;
use crate::vm::report::Report;
use crate::vm::results::{judge, Failure, Item};
use crate::vm::{self, GuestModule, Machine, Plan, VmError};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn test(args: &TestArgs) -> i32 {
    let mut session = Session::new(args.spec.message_format);
    let status = run(args, &mut session);
    // The built module lives in the test's work directory, gone unless kept.
    session.finish(&Outcome {
        command: "test",
        module: None,
    });
    status
}

/// Checks, builds and proves the spec; every problem is in the session's diagnostics.
fn run(args: &TestArgs, session: &mut Session) -> i32 {
    let start = Instant::now();
    let human = args.spec.message_format == MessageFormat::Human;

    // The work directory: kept if asked for, else removed at the end.
    let temp;
    let work = match &args.keep_work {
        Some(dir) => {
            if let Err(e) = fs::create_dir_all(dir) {
                session.diagnostics.push(Diagnostic::error(
                    Code::OutputError,
                    format!("cannot create `{}`: {e}", dir.display()),
                ));
                session.report("test the patch");
                return super::EXIT_OUTPUT;
            }
            dir.clone()
        }
        None => match tempfile::Builder::new().prefix("kgpc-test.").tempdir() {
            Ok(dir) => {
                temp = dir;
                temp.path().to_path_buf()
            }
            Err(e) => {
                session.diagnostics.push(Diagnostic::error(
                    Code::OutputError,
                    format!("cannot create a temporary directory: {e}"),
                ));
                session.report("test the patch");
                return super::EXIT_OUTPUT;
            }
        },
    };

    // Check first: a spec without a test block is refused before anything is built.
    let Some(model) = session.check(&args.spec) else {
        session.report("test the patch");
        return EXIT_SPEC_ERRORS;
    };
    let Some(plan) = model.test.clone() else {
        session.diagnostics.push(
            Diagnostic::error(
                Code::NoTestBlock,
                format!("{} has no `test` block", args.spec.spec.display()),
            )
            .with_help(
                "add `test { fixed \"COMMAND\" contains \"TEXT\" }` saying what the patch changes",
            ),
        );
        session.report("test the patch");
        return EXIT_SPEC_ERRORS;
    };
    let release = model.target.release.clone();
    // A tree another kgpc is still unpacking is waited for, never used half-made.
    let kernel = crate::fetch::ready(&crate::fetch::cache_dir(), &release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::new(&release));
    if !kernel.vmlinuz().is_file() {
        session.diagnostics.push(
            Diagnostic::error(
                Code::KernelNotFound,
                format!("the kgpc cache has no kernel image for {release}"),
            )
            .at(model.target.span, "the release this test boots")
            .with_note(format!("looked for {}", kernel.vmlinuz().display()))
            .with_help(format!("fetch it with `kgpc kernel fetch {release}`")),
        );
        session.report("test the patch");
        return EXIT_BUILD;
    }

    // The test's modules, built before the patch: the patch resolves the symbols they
    // export against their Module.symvers. Without a build tree, building the patch
    // reports it. The checking session holds the spec's sources, which the
    // diagnostics of a failing `load` point at.
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut test_modules = Vec::new();
    let mut extra_symbols = Vec::new();
    if let Ok(kdir) = find_kdir(&release, args.kdir.as_deref()) {
        for (index, load) in plan.loads.iter().enumerate() {
            match resolve_load(session, load, index, &work, &kdir, &kernel) {
                Ok((paths, symvers)) => {
                    for path in paths {
                        let file = format!("l{index}-{}", file_name(&path));
                        test_modules.push(GuestModule {
                            file: file.clone(),
                            kernel_name: vm::modules::kernel_name(&path),
                        });
                        files.push((file, path));
                    }
                    extra_symbols.extend(symvers);
                }
                Err(status) => return status,
            }
        }
    }
    let modules_time = start.elapsed();

    // The patch, checked again by the build in a new session, whose diagnostics and
    // summary are the ones the run reports.
    *session = Session::new(args.spec.message_format);
    let request = BuildRequest {
        spec: &args.spec,
        output: Some(work.join("patch")),
        force: true,
        kdir: args.kdir.as_deref(),
        extra_symbols: extra_symbols.clone(),
    };
    let patch = match build_spec(session, &request) {
        Ok(patch) => patch,
        Err(status) => return status,
    };
    let patch_built = start.elapsed();
    let build_time = patch_built - modules_time;

    // Patches to load first, each with its own diagnostics.
    let mut firsts: Vec<BuiltSpec> = Vec::new();
    for (index, first) in plan.patches_first.iter().enumerate() {
        let spec = SpecArgs {
            spec: first.path.clone(),
            release: Some(release.clone()),
            ..args.spec.clone()
        };
        let request = BuildRequest {
            spec: &spec,
            output: Some(work.join(format!("first-{index}"))),
            force: true,
            kdir: Some(&patch.kdir),
            extra_symbols: extra_symbols.clone(),
        };
        let mut first_session = Session::new(args.spec.message_format);
        match build_spec(&mut first_session, &request) {
            Ok(built) => firsts.push(built),
            Err(status) => {
                session.diagnostics.push(
                    Diagnostic::error(
                        Code::TestLoadNotFound,
                        format!(
                            "the patch to load first, {}, did not build",
                            first.path.display()
                        ),
                    )
                    .at(first.span, "named here"),
                );
                session.report("test the patch");
                return status;
            }
        }
    }

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
    let prerequisites_time = modules_time + (start.elapsed() - patch_built);
    let (modules_first, modules_after) = if args.modules_after_patch {
        (Vec::new(), test_modules)
    } else {
        (test_modules, Vec::new())
    };

    let vm_plan = Plan {
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
    let init = vm::script::init_script(&vm_plan);
    let initrd = work.join("initramfs.cpio");
    let machine = Machine {
        qemu: args.qemu.clone(),
        kernel: kernel.vmlinuz(),
        busybox: args.busybox.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        memory_mb: 512,
        work: work.clone(),
    };
    let vm_start = Instant::now();
    let run = vm::initramfs(&initrd, &args.busybox, &init, &files)
        .and_then(|()| vm::run(&machine, &initrd));
    let run = match run {
        Ok(run) => run,
        Err(error) => {
            let diagnostic = match &error {
                VmError::MissingQemu(_) => Diagnostic::error(Code::MissingTool, error.to_string())
                    .with_help("install it (on Debian 12: apt-get install qemu-system-x86), or name it with --qemu"),
                VmError::MissingBusybox(_) => Diagnostic::error(Code::MissingTool, error.to_string())
                    .with_help("install it (on Debian 12: apt-get install busybox-static), or name it with --busybox"),
                VmError::MissingKernel(_) => Diagnostic::error(Code::KernelNotFound, error.to_string())
                    .with_help(format!("fetch it with `kgpc kernel fetch {release}`")),
                VmError::Io(_) => Diagnostic::error(Code::VmFailed, error.to_string()),
            };
            session.diagnostics.push(diagnostic);
            session.report("test the patch");
            return if matches!(error, VmError::Io(_)) {
                EXIT_TEST
            } else {
                EXIT_BUILD
            };
        }
    };
    let vm_time = vm_start.elapsed();

    let report = Report::parse(&run.report_text);
    let mut failures = judge(&vm_plan, &report, &run.console);
    if run.timed_out {
        failures.push(Failure::Vm(format!(
            "the VM did not finish within {} s and was killed",
            args.timeout
        )));
    }
    let kept = args.keep_work.is_some();
    let show_console = failures.iter().any(|f| {
        matches!(
            f,
            Failure::Vm(_) | Failure::Transition(_) | Failure::Kernel(_)
        )
    });
    if show_console && human {
        crate::errln!("---- the kernel's console (last 60 lines) ----");
        let lines: Vec<&str> = run.console.lines().collect();
        for line in &lines[lines.len().saturating_sub(60)..] {
            crate::errln!("{}", line.trim_end_matches('\r'));
        }
        crate::errln!("---- end of the console ----");
    }
    for failure in &failures {
        session
            .diagnostics
            .push(diagnostic(failure, &plan, kept, &run.console_path));
    }
    let failed = session.report("prove the patch in the VM");
    if human {
        let checks = plan.checks.len() + plan.dmesg.len() + usize::from(plan.refused.is_some());
        crate::errln!(
            "{} {} on {}: {} ({} test entries); build {:.1} s, modules first {:.1} s, VM {:.1} s, total {:.1} s",
            if failed { "FAILED" } else { "Tested" },
            patch.model.patch.module_name,
            report.booted.as_deref().unwrap_or(&release),
            if failed { "failed" } else { "passed" },
            checks,
            build_time.as_secs_f64(),
            prerequisites_time.as_secs_f64(),
            vm_time.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
        if kept {
            crate::errln!(
                "Work directory: {} (console.log, report.log, initramfs.cpio)",
                work.display()
            );
        }
    }
    if failed {
        EXIT_TEST
    } else {
        EXIT_OK
    }
}

fn file_name(path: &Path) -> String {
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
) -> Result<(Vec<PathBuf>, Option<PathBuf>), i32> {
    let path = match &load.base_dir {
        Some(base) => base.join(&load.what),
        None => PathBuf::from(&load.what),
    };
    let not_found = |session: &mut Session, message: String, help: &str| {
        session.diagnostics.push(
            Diagnostic::error(Code::TestLoadNotFound, message)
                .at(load.span, "loaded here")
                .with_help(help.to_string()),
        );
        session.report("test the patch");
        EXIT_BUILD
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
                report_failure(session, &dir, kdir, failure);
                session.diagnostics.push(
                    Diagnostic::error(
                        Code::TestLoadNotFound,
                        format!("the module in `{}` did not build", path.display()),
                    )
                    .at(load.span, "loaded here"),
                );
                session.report("test the patch");
                Err(EXIT_BUILD)
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
        Err(error) => Err(not_found(
            session,
            error.to_string(),
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

fn diagnostic(failure: &Failure, plan: &TestPlan, kept: bool, console: &Path) -> Diagnostic {
    let console_note = if kept {
        format!("the whole console log is {}", console.display())
    } else {
        "pass --keep-work DIR to keep the console log and the initramfs".to_string()
    };
    match failure {
        Failure::Check(item, message) => {
            let span: Option<(Span, &str)> = match item {
                Item::Check(i) => plan.checks.get(*i).map(|c| (c.span, "this check")),
                Item::Dmesg(i) => plan.dmesg.get(*i).map(|d| (d.span, "this expectation")),
                Item::Refusal => plan.refused.as_ref().map(|r| (r.span, "expected here")),
                Item::Block => Some((plan.span, "in this test")),
            };
            let diagnostic = Diagnostic::error(Code::TestCheckFailed, message.clone());
            match span {
                Some((span, label)) => diagnostic.at(span, label),
                None => diagnostic,
            }
        }
        Failure::Refused {
            module,
            message,
            reason,
        } => {
            let mut diagnostic = Diagnostic::error(
                Code::ModuleRefused,
                format!("the kernel refused to load {module}: {message}"),
            )
            .at(plan.span, "in this test");
            if let Some(reason) = reason {
                diagnostic = diagnostic.with_note(format!("reason: {reason}"));
            }
            diagnostic
        }
        Failure::Transition(message) => Diagnostic::error(Code::TransitionTimeout, message.clone())
            .at(plan.span, "in this test")
            .with_note("a task is sleeping in a function the patch replaces, or never returns to user space")
            .with_help(format!("the console log is above; raise the bound with --transition-timeout; {console_note}")),
        Failure::Kernel(lines) => Diagnostic::error(
            Code::KernelProblem,
            format!("the kernel logged a problem:\n{lines}"),
        )
        .at(plan.span, "in this test")
        .with_note(console_note),
        Failure::Vm(message) => Diagnostic::error(Code::VmFailed, message.clone())
            .at(plan.span, "in this test")
            .with_note(console_note),
    }
}
