//! The guest a test boots: its plan, the modules copied into its
//! initramfs, and the run under QEMU.

use super::first::BuiltFirst;
use super::modules::{file_name, TestModules};
use super::MachineOptions;
use crate::check::model::TestPlan;
use crate::check::Model;
use crate::fetch::KernelPaths;
use crate::vm::{self, GuestModule, Machine, Plan, VmError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the guest is given: its plan, the modules copied into its `/m`
/// and the test's files and programs copied into its `/test`.
pub struct Guest {
    pub plan: Plan,
    pub files: Vec<(String, PathBuf)>,
    pub test_files: Vec<(String, PathBuf)>,
}

/// The patch the guest loads: its model and its `.ko`.
pub struct Patch<'a> {
    pub model: &'a Model,
    pub module: &'a Path,
}

/// The guest's plan and files: the test's modules, the patches first, the
/// patch, the test's files and built programs, and the test block's entries.
/// `patch_needs` names the modules the patch cannot be loaded without, which
/// are loaded first in any case.
pub fn guest(
    plan: &TestPlan,
    machine: &MachineOptions,
    modules: TestModules,
    patch_needs: &[String],
    firsts: &[BuiltFirst],
    patch: &Patch,
    programs: Vec<(String, PathBuf)>,
) -> Guest {
    let reloads = super::reloads::reloads(plan, &modules, patch.model);
    let mut files = modules.files;
    let mut patches_first = Vec::new();
    for (index, first) in firsts.iter().enumerate() {
        let file = format!("p{index}-{}", file_name(&first.built.module));
        patches_first.push(GuestModule {
            file: file.clone(),
            kernel_name: first.model.patch.kernel_name.clone(),
        });
        files.push((file, first.built.module.clone()));
    }
    let patch_file = file_name(patch.module);
    files.push((patch_file.clone(), patch.module.to_path_buf()));
    let (modules_first, modules_after) = if machine.modules_after_patch {
        modules
            .modules
            .into_iter()
            .partition(|m| patch_needs.contains(&m.kernel_name))
    } else {
        (modules.modules, Vec::new())
    };
    let vm_plan = Plan {
        modules_first,
        modules_after,
        patches_first,
        patch: GuestModule {
            file: patch_file,
            kernel_name: patch.model.patch.kernel_name.clone(),
        },
        setup: plan.setup.as_ref().map(|s| s.script.clone()),
        reloads,
        checks: plan.checks.clone(),
        dmesg: plan.dmesg.clone(),
        refused: plan.refused.as_ref().map(|r| r.text.clone()),
        transition_timeout_secs: machine.transition_timeout_secs.max(1),
        cycles: machine.cycles.max(1),
        workload: plan.workload.as_ref().map(|w| w.command.clone()),
        cpus: machine.cpus,
    };
    let mut test_files: Vec<(String, PathBuf)> = plan
        .files
        .iter()
        .map(|f| (f.name.clone(), f.source.clone()))
        .collect();
    test_files.extend(programs);
    Guest {
        plan: vm_plan,
        files,
        test_files,
    }
}

/// Boots the target kernel under QEMU with an initramfs holding the guest's
/// modules and its plan as `/init`.
pub fn boot(
    machine: &MachineOptions,
    guest: &Guest,
    work: &Path,
    kernel: &KernelPaths,
) -> Result<vm::Run, VmError> {
    let machine_run = Machine {
        qemu: machine.qemu.clone(),
        kernel: kernel.vmlinuz(),
        busybox: machine.busybox.clone(),
        timeout: Duration::from_secs(machine.timeout_secs.max(1)),
        memory_mb: vm::GUEST_MEMORY_MB,
        cpus: machine.cpus,
        multi_threaded: machine.multi_threaded,
        work: work.to_path_buf(),
    };
    let init = vm::script::init_script(&guest.plan);
    let initrd = work.join("initramfs.cpio");
    vm::initramfs(
        &initrd,
        &machine.busybox,
        &init,
        &guest.files,
        &guest.test_files,
    )?;
    vm::run(&machine_run, &initrd)
}
