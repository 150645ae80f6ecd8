//! The parts of a function definition taken from a C file: the return type
//! and parameters of its head, and its body between the braces, so that a
//! function of the target's source can become a replacement or a helper.

use crate::c::lexer::{tokens, Kind, Token};

/// A definition cut into what a replacement needs. The byte offsets are in
/// the text given to [`split_definition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionParts {
    /// The return type without storage class, inlining and section words.
    pub return_type: String,
    /// The parameter list with its parentheses, as written.
    pub params: String,
    /// The statements between the body's braces.
    pub body: String,
    /// Where `body` starts.
    pub body_start: usize,
    /// Where the definition's head starts (the first token of the return
    /// type, attributes included).
    pub head_start: usize,
}

/// Words before a function's name that say how it is stored, inlined or
/// placed, which the patch module's function does not take over: it is
/// always a `static` function of its own, in the module's text.
const HEAD_WORDS_DROPPED: &[&str] = &[
    "static",
    "extern",
    "inline",
    "__inline",
    "__inline__",
    "__always_inline",
    "noinline",
    "__noinline",
    "__init",
    "__exit",
    "__ref",
    "notrace",
    "__cold",
    "__hot",
    "__visible",
    "__sched",
    "__latent_entropy",
    "__weak",
    "__flatten",
    "__maybe_unused",
    "__used",
];

/// Words that take a parenthesised argument and are dropped with it.
const HEAD_CALLS_DROPPED: &[&str] = &["__attribute__", "__attribute", "__section", "__aligned"];

/// Cuts the definition of `name` out of `text`, a definition from its head
/// to its closing brace (as `c::definition` finds it). `None` if `name` is
/// not followed by a parameter list and a body.
pub fn split_definition(text: &str, name: &str) -> Option<DefinitionParts> {
    let toks: Vec<Token> = tokens(text)
        .into_iter()
        .filter(|t| t.directive.is_none() && !is_comment(t.kind))
        .collect();
    let word = |t: &Token| &text[t.start..t.end];
    let at = toks
        .iter()
        .position(|t| t.kind == Kind::Word && word(t) == name)?;
    if toks.get(at + 1).map(word) != Some("(") {
        return None;
    }
    let close = matching(text, &toks, at + 1)?;
    let brace = after_annotations(text, &toks, close + 1)?;
    let open = toks.get(brace).filter(|t| t.kind == Kind::Open)?;
    let end = body_close(&toks, brace)?;
    let return_type = head_type(text, &toks[..at]);
    Some(DefinitionParts {
        return_type,
        params: text[toks[at + 1].start..toks[close].end].to_string(),
        body: text[open.end..toks[end].start].to_string(),
        body_start: open.end,
        head_start: toks.first()?.start,
    })
}

/// The index of the first token from `at` that is not a sparse or
/// attribute annotation between a definition's parameter list and its body,
/// as in `static void f(journal_t *j) __releases(j->lock) {`: words, each
/// with its parenthesised argument if it has one.
fn after_annotations(text: &str, toks: &[Token], mut at: usize) -> Option<usize> {
    while let Some(t) = toks.get(at).filter(|t| t.kind == Kind::Word) {
        if !text[t.start..t.end].starts_with("__") {
            return None;
        }
        at += 1;
        if toks.get(at).map(|t| &text[t.start..t.end]) == Some("(") {
            at = matching(text, toks, at)? + 1;
        }
    }
    Some(at)
}

/// The index of the `)` that closes the `(` at `open`.
fn matching(text: &str, toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match &text[t.start..t.end] {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The index of the brace that closes the one at `open`, among code tokens.
pub(crate) fn body_close(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The return type from the tokens before the name, without the dropped
/// words and calls, joined as C is usually written (`struct page *`).
fn head_type(text: &str, head: &[Token]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < head.len() {
        let w = &text[head[i].start..head[i].end];
        if HEAD_CALLS_DROPPED.contains(&w)
            && head.get(i + 1).map(|t| &text[t.start..t.end]) == Some("(")
        {
            i = matching(text, head, i + 1).map_or(head.len(), |close| close + 1);
            continue;
        }
        if !HEAD_WORDS_DROPPED.contains(&w) {
            kept.push(w);
        }
        i += 1;
    }
    let mut out = String::new();
    for w in kept {
        let glued = out.is_empty() || (w == "*" && out.ends_with('*'));
        if !glued {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn is_comment(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::LineComment | Kind::BlockComment | Kind::UnclosedComment
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_static_function_loses_its_storage_words() {
        let text = "static int cmdline_proc_show(struct seq_file *m, void *v)\n{\n\tseq_puts(m, \"x\");\n\treturn 0;\n}\n";
        let parts = split_definition(text, "cmdline_proc_show").unwrap();
        assert_eq!(parts.return_type, "int");
        assert_eq!(parts.params, "(struct seq_file *m, void *v)");
        assert_eq!(parts.body, "\n\tseq_puts(m, \"x\");\n\treturn 0;\n");
        assert_eq!(&text[parts.body_start..parts.body_start + 1], "\n");
    }

    #[test]
    fn pointers_attributes_and_sections_are_handled() {
        let text = "static __always_inline __attribute__((nonnull(1))) struct page *\n__init get_it(struct x *p)\n{ return NULL; }";
        let parts = split_definition(text, "get_it").unwrap();
        assert_eq!(parts.return_type, "struct page *");
        assert_eq!(parts.body, " return NULL; ");
        let text = "const char **names(void) { return 0; }";
        assert_eq!(
            split_definition(text, "names").unwrap().return_type,
            "const char **"
        );
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_end_the_body() {
        let text = "void f(void)\n{\n\t/* } */ g(\"}\");\n}\n";
        let parts = split_definition(text, "f").unwrap();
        assert_eq!(parts.body, "\n\t/* } */ g(\"}\");\n");
    }

    #[test]
    fn sparse_annotations_between_the_parameters_and_the_body_are_skipped() {
        // fs/jbd2/transaction.c of 6.1 writes its locking this way.
        let text = "static void wait_transaction_switching(journal_t *journal)\n\t__releases(journal->j_state_lock)\n{\n\tschedule();\n}\n";
        let parts = split_definition(text, "wait_transaction_switching").unwrap();
        assert_eq!(parts.params, "(journal_t *journal)");
        assert_eq!(parts.body, "\n\tschedule();\n");
        let text = "static int add(journal_t *journal, int blocks)\n__must_hold(&journal->j_state_lock)\n{ return 0; }";
        assert_eq!(split_definition(text, "add").unwrap().body, " return 0; ");
        assert_eq!(split_definition("int f(void) __releases(x);", "f"), None);
        assert_eq!(split_definition("int f(void) bad { }", "f"), None);
    }

    #[test]
    fn a_declaration_or_another_name_is_no_definition() {
        assert_eq!(split_definition("int f(void);", "f"), None);
        assert_eq!(split_definition("int f(void) { }", "g"), None);
        assert_eq!(split_definition("int f(void) { ", "f"), None);
    }
}
