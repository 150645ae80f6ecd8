//! What to replace instead of a function livepatch cannot hook: the entry
//! wrappers of a system call's body, or the functions that hold the copies
//! of a function the compiler inlined everywhere.

use super::name_list::{name_list, plural};
use crate::kernel::index::flag;
use crate::kernel::Kernel;

/// The prefixes of the entry wrappers `SYSCALL_DEFINEn` emits for a system
/// call on each architecture (x86_64 with and without compat, arm64, s390,
/// riscv, and the generic `sys_`); the kernel's symbols tell which exist.
const SYSCALL_WRAPPERS: &[&str] = &[
    "__x64_sys_",
    "__ia32_sys_",
    "__arm64_sys_",
    "__s390x_sys_",
    "__s390_sys_",
    "__riscv_sys_",
    "sys_",
];

/// The parts of a system call that `SYSCALL_DEFINEn` puts behind its entry
/// wrappers: `__se_sys_X` sign-extends the arguments, `__do_sys_X` is the body.
const SYSCALL_BODIES: &[&str] = &["__do_sys_", "__se_sys_"];

/// Advice on what to replace instead.
pub struct Instead {
    pub help: String,
    pub notes: Vec<String>,
    /// The advice names the functions holding inlined copies, not wrappers.
    pub holders: bool,
}

/// What to replace instead of `name`, which has no ftrace call site or no
/// symbol, or `None` when the kernel facts know nothing better than its callers.
pub fn replace_instead(kernel: &Kernel, name: &str) -> Option<Instead> {
    syscall_wrappers(kernel, name).or_else(|| inlined_holders(kernel, name))
}

fn is_function(kernel: &Kernel, name: &str) -> bool {
    kernel
        .index()
        .symbols_named(name)
        .iter()
        .any(|s| s.has(flag::FUNC))
}

/// A system call's body: its entry wrappers, which the system call table calls.
fn syscall_wrappers(kernel: &Kernel, name: &str) -> Option<Instead> {
    let call = SYSCALL_BODIES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .filter(|c| !c.is_empty())?;
    let wrappers: Vec<String> = SYSCALL_WRAPPERS
        .iter()
        .map(|prefix| format!("{prefix}{call}"))
        .filter(|w| is_function(kernel, w))
        .collect();
    let first = wrappers.first()?;
    let shown: Vec<String> = wrappers.iter().map(|w| format!("`{w}`")).collect();
    let mut notes = vec![format!(
        "`{name}` is part of the system call `{call}`, which the system call table enters through {}",
        shown.join(" and ")
    )];
    let prototype = kernel
        .index()
        .symbols_named(first)
        .into_iter()
        .find(|s| s.has(flag::FUNC))
        .and_then(|s| kernel.prototype(&s))
        .and_then(Result::ok);
    if let Some(p) = prototype {
        notes.push(format!(
            "{} declares: {}; the wrapper reads the system call's arguments from the registers",
            kernel.object_name,
            p.declaration()
        ));
    }
    let what = if wrappers.len() == 1 {
        "its entry wrapper"
    } else {
        "its entry wrappers"
    };
    Some(Instead {
        help: format!(
            "replace {what} instead: {} (a replacement of a wrapper does the whole system call)",
            shown.join(", ")
        ),
        notes,
        holders: false,
    })
}

/// A function inlined into others: the functions that hold its copies.
fn inlined_holders(kernel: &Kernel, name: &str) -> Option<Instead> {
    let holders: Vec<String> = kernel
        .index()
        .inlined_into(name)
        .into_iter()
        .filter(|h| h != name)
        .collect();
    if holders.is_empty() {
        return None;
    }
    let shown: Vec<String> = holders.iter().map(|h| format!("`{h}`")).collect();
    Some(Instead {
        help: format!(
            "replace the functions that hold its inlined copies instead: {}",
            name_list(&shown, 12)
        ),
        notes: vec![format!(
            "the compiler inlined `{name}` into {} function{}",
            holders.len(),
            plural(holders.len())
        )],
        holders: true,
    })
}
