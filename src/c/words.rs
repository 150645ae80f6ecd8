//! Spelling C words and fragments the one way kgpc prints them.

use crate::c::lexer::{self, Kind, Token};
use crate::syntax::ast::Word;

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

/// Joins a parameter list or declaration written over several lines onto
/// one line, without changing what it means to C.
///
/// Only the white space between tokens changes: a run of it becomes one
/// space, or nothing after `(` and before `)`. Literals, comments and
/// preprocessor lines are kept as written, and a line break stays where C
/// needs it: after a `//` comment or an unterminated literal, and around a
/// preprocessor line. Such a kept break is followed by `indent`.
pub fn one_line(text: &str, indent: &str) -> String {
    let tokens = lexer::tokens(text);
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<&Token> = None;
    let mut i = 0;
    while i < tokens.len() {
        // A directive is one piece, from its `#` to its last token.
        let mut piece = tokens[i];
        if let Some(d) = piece.directive {
            while tokens.get(i + 1).is_some_and(|t| t.directive == Some(d)) {
                i += 1;
                piece.end = tokens[i].end;
            }
        }
        if let Some(p) = previous {
            let line_break = matches!(
                p.kind,
                Kind::LineComment | Kind::Unterminated | Kind::UnclosedComment
            ) || p.directive.is_some()
                || piece.directive.is_some();
            let tight = text[p.start..p.end] == *"(" || text[piece.start..piece.end] == *")";
            if line_break {
                out.push('\n');
                out.push_str(indent);
            } else if !tight && has_logical_space(&text[p.end..piece.start]) {
                out.push(' ');
            }
        }
        out.push_str(&text[piece.start..piece.end]);
        previous = Some(&tokens[i]);
        i += 1;
    }
    out
}

/// Whether text between tokens holds white space once backslash-newlines are
/// removed; `+\\` newline `+` is `++`, and must not become `+ +`.
fn has_logical_space(gap: &str) -> bool {
    let bytes = gap.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let n = lexer::splice_len(bytes, i);
        if n == 0 {
            return true;
        }
        i += n;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn white_space_between_tokens_collapses() {
        assert_eq!(
            one_line("( struct a *x,\n\t int  y )", ""),
            "(struct a *x, int y)"
        );
        assert_eq!(one_line("(int)", ""), "(int)");
        assert_eq!(one_line("(int a = 1 +\\\n+ b)", ""), "(int a = 1 ++ b)");
    }

    #[test]
    fn literals_and_comments_keep_their_text() {
        assert_eq!(one_line("(char *s = \" (  \")", ""), "(char *s = \" (  \")");
        assert_eq!(
            one_line("(int a /* x\n  y */, int b)", ""),
            "(int a /* x\n  y */, int b)"
        );
        assert_eq!(
            one_line("(char *s = \"a\\\n  b\")", ""),
            "(char *s = \"a\\\n  b\")"
        );
    }

    #[test]
    fn a_line_comment_keeps_its_line_break() {
        assert_eq!(
            one_line("(struct seq_file *m, // the file\n      void *v)", "\t"),
            "(struct seq_file *m, // the file\n\tvoid *v)"
        );
    }

    #[test]
    fn preprocessor_lines_keep_their_own_lines() {
        assert_eq!(
            one_line("(int a\n#ifdef X\n, int b\n#endif\n)", "  "),
            "(int a\n  #ifdef X\n  , int b\n  #endif\n  )"
        );
    }
}
