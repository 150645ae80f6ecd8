//! The braces of C blocks as gcc reads them.
//!
//! The grammar finds the end of a block by counting `{` and `}`, but C also
//! reads `<%` and `%>` as braces, a backslash-newline can carry a brace into
//! a `//` comment, and a macro can stand for a brace. A body whose braces do
//! not balance as C reads them could close the function it sits in and add
//! code the spec does not show, so it is refused (KGP0044).

use crate::c::lexer::{tokens, Kind};

/// What is wrong with the braces of a block, and where (a byte range of the text).
#[derive(Debug, PartialEq, Eq)]
pub enum BraceProblem {
    /// A closing brace with nothing open before it in the block.
    Closes(usize, usize),
    /// An opening brace that the block never closes.
    Unclosed(usize, usize),
    /// A preprocessor line whose own braces do not balance, such as `#define LB {`.
    InMacro(usize, usize),
}

/// The first problem with the braces of `text`, if any. A preprocessor
/// line's braces must balance within the line; they do not count outside it.
pub fn brace_problem(text: &str) -> Option<BraceProblem> {
    let toks = tokens(text);
    let mut open: Vec<(usize, usize)> = Vec::new();
    // The directive being read: its index, where it starts, its depth.
    let mut directive: Option<(usize, usize, isize)> = None;
    for t in &toks {
        if let Some((d, start, depth)) = directive {
            if t.directive != Some(d) {
                if depth != 0 {
                    return Some(BraceProblem::InMacro(start, directive_end(&toks, d)));
                }
                directive = None;
            }
        }
        if let (Some(d), None) = (t.directive, directive) {
            directive = Some((d, t.start, 0));
        }
        let step = match t.kind {
            Kind::Open => 1,
            Kind::Close => -1,
            _ => continue,
        };
        match directive.as_mut() {
            Some((d, start, depth)) => {
                *depth += step;
                if *depth < 0 {
                    return Some(BraceProblem::InMacro(*start, directive_end(&toks, *d)));
                }
            }
            None if step > 0 => open.push((t.start, t.end)),
            None => {
                if open.pop().is_none() {
                    return Some(BraceProblem::Closes(t.start, t.end));
                }
            }
        }
    }
    if let Some((d, start, depth)) = directive {
        if depth != 0 {
            return Some(BraceProblem::InMacro(start, directive_end(&toks, d)));
        }
    }
    open.first()
        .map(|&(start, end)| BraceProblem::Unclosed(start, end))
}

fn directive_end(toks: &[crate::c::lexer::Token], d: usize) -> usize {
    toks.iter()
        .filter(|t| t.directive == Some(d))
        .map(|t| t.end)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_blocks_pass() {
        assert_eq!(brace_problem("if (x) { y(\"}\"); } /* { */ // }\n"), None);
        assert_eq!(brace_problem("#define INIT { 0 }\nint a[] = INIT;"), None);
        assert_eq!(brace_problem("if (x) <% y(); %>"), None);
    }

    #[test]
    fn digraphs_count_as_braces() {
        assert_eq!(
            brace_problem("return 0; %> int evil(void) <% return 1;"),
            Some(BraceProblem::Closes(10, 12))
        );
        assert_eq!(
            brace_problem("struct a <% int x;"),
            Some(BraceProblem::Unclosed(9, 11))
        );
    }

    #[test]
    fn a_backslash_newline_hides_a_brace_in_a_comment() {
        assert_eq!(
            brace_problem("// \\\n{\nreturn 0;\n}"),
            Some(BraceProblem::Closes(17, 18))
        );
    }

    #[test]
    fn a_macro_may_not_stand_for_a_brace() {
        assert_eq!(
            brace_problem("#define LB {\n#define RB }\nRB int evil(void) LB"),
            Some(BraceProblem::InMacro(0, 12))
        );
        assert_eq!(
            brace_problem("x;\n%:define RB \\\n }\n"),
            Some(BraceProblem::InMacro(3, 19))
        );
    }
}
