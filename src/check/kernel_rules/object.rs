//! The rules of one object of the spec against its kernel object: rules 2 to 7
//! and 10 for each replacement, rule 8 for each extern, then replacements that
//! turned out to be one function.

use super::stalls::Stalls;
use crate::check::model::Object;
use crate::check::positions::same_function_twice;
use crate::diagnostic::Diagnostics;
use crate::kernel::Kernel;

/// What the rules of one object read and where they report.
pub(super) struct ObjectRules<'a> {
    /// The object's own kernel object: vmlinux or the module's.
    pub kernel: &'a Kernel,
    pub stalls: &'a Stalls,
    /// The names of every function the object replaces.
    pub replaced: Vec<String>,
    pub diagnostics: &'a mut Diagnostics,
}

/// Runs the object's rules in the spec's order, filling in positions and prototypes.
pub(super) fn check(
    object: &mut Object,
    kernel: &Kernel,
    stalls: &Stalls,
    diagnostics: &mut Diagnostics,
) {
    let mut rules = ObjectRules {
        kernel,
        stalls,
        replaced: object.funcs.iter().map(|f| f.old_name.clone()).collect(),
        diagnostics,
    };
    for func in &mut object.funcs {
        rules.replacement(func);
    }
    for ext in &object.externs {
        rules.external(ext);
    }
    same_function_twice(object, rules.diagnostics);
}
