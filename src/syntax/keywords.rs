//! The words that start the items of a spec, which the parser and the
//! recovery after a broken item both look for.

/// The keywords that start a top-level item, in the order the reference lists them.
pub const ITEM_KEYWORDS: &[&str] = &[
    "patch", "target", "requires", "import", "include", "fix", "object", "shadow", "template",
    "state", "helper", "data", "api", "test",
];
