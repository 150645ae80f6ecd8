//! Spelling C words and fragments the one way kgpc prints them.

use super::ast::Word;

/// Joins C words with single spaces, keeping `*` next to what follows it:
/// `struct dummy *d`.
pub fn join_words(words: &[Word]) -> String {
    let mut out = String::new();
    for w in words {
        if !out.is_empty() && !out.ends_with('*') {
            out.push(' ');
        }
        out.push_str(&w.text);
    }
    out
}

/// Joins a parameter list or declaration written over several lines into one.
pub fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
}
