//! The preprocessor's conditional groups (`#if` ... `#elif` ... `#else` ...
//! `#endif`): which directive opens, continues or closes a group, and which
//! groups are open at a point of the text.

use crate::c::lexer::{Kind, Token};

/// What a directive does to the conditional groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `#if`, `#ifdef`, `#ifndef`: a new group, its first branch.
    Open,
    /// `#elif`, `#else`, `#elifdef`, `#elifndef`: the next branch of the innermost group.
    Branch,
    /// `#endif`: the innermost group ends.
    Close,
}

/// The step of a directive named `keyword`, or `None` for a directive that
/// is no part of a conditional (`#define`, `#include`, ...).
pub fn step(keyword: &str) -> Option<Step> {
    match keyword {
        "if" | "ifdef" | "ifndef" => Some(Step::Open),
        "elif" | "else" | "elifdef" | "elifndef" => Some(Step::Branch),
        "endif" => Some(Step::Close),
        _ => None,
    }
}

/// The word naming the directive whose `#` is token `hash` of `toks`
/// (`define`, `if`, ...), if the directive has one.
pub fn directive_keyword<'t>(text: &'t str, toks: &[Token], hash: usize) -> Option<&'t str> {
    let directive = toks.get(hash)?.directive?;
    toks[hash + 1..]
        .iter()
        .take_while(|t| t.directive == Some(directive))
        .find(|t| !t.kind.is_comment())
        .filter(|t| t.kind == Kind::Word)
        .map(|t| &text[t.start..t.end])
}

/// The open conditional groups, innermost last.
#[derive(Debug, Default)]
pub struct Groups {
    /// For each open group, whether a later branch than its first is being read.
    later: Vec<bool>,
}

impl Groups {
    pub fn apply(&mut self, step: Step) {
        match step {
            Step::Open => self.later.push(false),
            Step::Branch => {
                if let Some(later) = self.later.last_mut() {
                    *later = true;
                }
            }
            Step::Close => {
                self.later.pop();
            }
        }
    }

    /// Whether any open group is in a later branch than its first.
    pub fn in_later_branch(&self) -> bool {
        self.later.iter().any(|&later| later)
    }

    /// How many groups are open.
    pub fn depth(&self) -> usize {
        self.later.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c::lexer::tokens;

    #[test]
    fn the_keyword_follows_the_hash() {
        let text = "# /* c */ ifdef X\nint a;\n%:endif\n";
        let toks = tokens(text);
        assert_eq!(directive_keyword(text, &toks, 0), Some("ifdef"));
        let endif = toks.iter().rposition(|t| t.kind == Kind::Hash).unwrap();
        assert_eq!(directive_keyword(text, &toks, endif), Some("endif"));
        assert_eq!(directive_keyword(text, &toks, 4), None);
        assert_eq!(directive_keyword("#\n", &tokens("#\n"), 0), None);
    }

    #[test]
    fn groups_know_their_branches() {
        let mut groups = Groups::default();
        groups.apply(Step::Open);
        groups.apply(Step::Open);
        assert!(!groups.in_later_branch());
        groups.apply(Step::Branch);
        assert!(groups.in_later_branch());
        groups.apply(Step::Close);
        assert_eq!((groups.depth(), groups.in_later_branch()), (1, false));
        groups.apply(Step::Close);
        groups.apply(Step::Close);
        assert_eq!(groups.depth(), 0);
        assert_eq!(step("elifdef"), Some(Step::Branch));
        assert_eq!(step("define"), None);
    }
}
