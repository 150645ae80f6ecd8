//! The standard library of specs, embedded in the binary.
//!
//! `import std/NAME` reads `std-specs/NAME.kgp` from this table, so imports
//! of the standard library work with nothing installed.

/// Every module of the standard library: its import name and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("std/api", include_str!("../std-specs/api.kgp")),
    (
        "std/shadow_lock",
        include_str!("../std-specs/shadow_lock.kgp"),
    ),
    (
        "std/shadow_counter",
        include_str!("../std-specs/shadow_counter.kgp"),
    ),
    (
        "std/callback_log",
        include_str!("../std-specs/callback_log.kgp"),
    ),
];

/// The text of a standard module, such as `std/api`.
pub fn get(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The names of all standard modules, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}
