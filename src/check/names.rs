//! Rules for the names a spec gives: C identifiers and kernel limits.

/// The kernel's MODULE_NAME_LEN is 56 with the terminating NUL.
pub const MODULE_NAME_MAX: usize = 55;

/// The prefix of every patch module's name.
pub const MODULE_PREFIX: &str = "livepatch-";

/// Words of C that cannot name anything.
pub(crate) const C_KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Static_assert",
    "bool",
    "true",
    "false",
];

/// Why `name` is not a usable C identifier, if it is not.
pub fn c_identifier_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("it is empty".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return Some(format!(
                "it starts with `{c}`; a C identifier starts with a letter or `_`"
            ));
        }
        _ => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        return Some(format!("`{c}` cannot appear in a C identifier"));
    }
    if C_KEYWORDS.contains(&name) {
        return Some("it is a C keyword".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(c_identifier_problem("cmdline_proc_show"), None);
        assert!(c_identifier_problem("1abc").is_some());
        assert!(c_identifier_problem("a-b").is_some());
        assert!(c_identifier_problem("int").is_some());
    }
}
