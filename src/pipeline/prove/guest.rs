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

/// What the guest is given: its plan and the modules copied into it.
pub struct Guest {
    pub plan: Plan,
    pub files: Vec<(String, PathBuf)>,
}

/// The patch the guest loads: its model and its `.ko`.
pub struct Patch<'a> {
    pub model: &'a Model,
    pub module: &'a Path,
}

/// The guest's plan and files: the test's modules, the patches first, the
/// patch, and the test block's entries.
pub fn guest(
    plan: &TestPlan,
    machine: &MachineOptions,
    modules: TestModules,
    firsts: &[BuiltFirst],
    patch: &Patch,
) -> Guest {
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
        transition_timeout_secs: machine.transition_timeout_secs.max(1),
        cpus: machine.cpus,
    };
    Guest { plan, files }
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
        memory_mb: 512,
        cpus: machine.cpus,
        work: work.to_path_buf(),
    };
    let init = vm::script::init_script(&guest.plan);
    let initrd = work.join("initramfs.cpio");
    vm::initramfs(&initrd, &machine.busybox, &init, &guest.files)?;
    vm::run(&machine_run, &initrd)
}
