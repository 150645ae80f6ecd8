//! The modules a test reloads while the patch is applied, and what the
//! kernel logs when they go and come back, as the kernel's own
//! test-callbacks.sh expects it: going, the object's `pre_unpatch` callback,
//! the kernel reverting the patch on the module, its `post_unpatch`; coming,
//! the kernel applying the patch to it, its `pre_patch` and `post_patch`.

use super::modules::TestModules;
use crate::check::model::{CallbackKind, TestPlan};
use crate::check::Model;
use crate::vm::{ExpectedLine, GuestModule, GuestReload};

/// The reloads of the plan, each with the lines it must log.
pub fn reloads(plan: &TestPlan, modules: &TestModules, model: &Model) -> Vec<GuestReload> {
    plan.reloads
        .iter()
        .filter_map(|reload| {
            let index = *modules.named.get(reload.load)?;
            let module = modules.modules.get(index)?.clone();
            let expected = expected_lines(model, &module);
            Some(GuestReload { module, expected })
        })
        .collect()
}

/// What the kernel logs when `module` goes and comes back with the patch
/// applied; nothing when the patch has no object for it.
fn expected_lines(model: &Model, module: &GuestModule) -> Vec<ExpectedLine> {
    let name = &module.kernel_name;
    let Some(object) = model
        .objects
        .iter()
        .find(|o| o.module.as_deref() == Some(name.as_str()))
    else {
        return Vec::new();
    };
    let patch = &model.patch.kernel_name;
    let has = |kind: CallbackKind| object.callbacks.iter().any(|c| c.kind == kind);
    let callback = |kind: CallbackKind| {
        has(kind).then(|| ExpectedLine {
            what: format!(
                "its {} callback, as a line that names it and the module \
                 (std/callback_log's `callback_log(__func__, obj)` logs one)",
                kind.keyword()
            ),
            texts: vec![kind.keyword().to_string(), name.clone()],
        })
    };
    let kernel = |what: &str, text: String| {
        Some(ExpectedLine {
            what: format!("the kernel {what}"),
            texts: vec![text],
        })
    };
    [
        callback(CallbackKind::PreUnpatch),
        kernel(
            "reverting the patch",
            format!("reverting patch '{patch}' on unloading module '{name}'"),
        ),
        callback(CallbackKind::PostUnpatch),
        kernel(
            "applying the patch",
            format!("applying patch '{patch}' to loading module '{name}'"),
        ),
        callback(CallbackKind::PrePatch),
        callback(CallbackKind::PostPatch),
    ]
    .into_iter()
    .flatten()
    .collect()
}
