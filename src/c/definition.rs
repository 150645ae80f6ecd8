//! Where a function's definition lies in a C file: from the first line of its
//! declaration (storage class, return type and attribute lines above the
//! name) to its closing brace, found with the lexer, so that braces in
//! strings, comments and preprocessor lines do not count.

use crate::c::conditional::{directive_keyword, step, Groups};
use crate::c::lexer::{tokens, Kind, Token};
use crate::c::line_starts::LineStarts;

/// The lines of one definition, 1-based and inclusive, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
}

/// The definition of `name` whose name is on line `line` (1-based, as DWARF's
/// `DW_AT_decl_line` gives it). When no word on that line is `name` (a
/// function made by a macro such as `SYSCALL_DEFINE3`), the line's first word
/// stands for it. `None` if that line starts no definition: a declaration
/// ends in `;` before any body opens, or the body is never closed.
pub fn find_definition(text: &str, name: &str, line: usize) -> Option<Definition> {
    let lines = LineStarts::new(text);
    let all = tokens(text);
    let toks = code_tokens(text, &all);
    let on_line: Vec<usize> = (0..toks.len())
        .filter(|&i| toks[i].kind == Kind::Word && lines.line_of(toks[i].start) == line)
        .collect();
    let at = on_line
        .iter()
        .copied()
        .find(|&i| &text[toks[i].start..toks[i].end] == name)
        .or_else(|| on_line.first().copied())?;
    let close = body_end(text, &toks, at)?;
    let start = declaration_start(text, &all, toks[at].start);
    let start_line = lines.line_of(start);
    let end_line = lines.line_of(toks[close].start);
    let from = lines.start_of(start_line);
    let to = lines.end_of(end_line);
    Some(Definition {
        start_line,
        end_line,
        text: text[from..to].to_string(),
    })
}

/// The tokens of code: no comments, no preprocessor lines, and of each
/// `#if` group only its first branch, so that branches which each open a
/// brace (`#if A` `if (a) {` `#else` `if (b) {` `#endif`) count once.
fn code_tokens(text: &str, all: &[Token]) -> Vec<Token> {
    let mut groups = Groups::default();
    let mut code = Vec::new();
    for (i, t) in all.iter().enumerate() {
        if t.directive.is_some() {
            if t.kind == Kind::Hash {
                if let Some(step) = directive_keyword(text, all, i).and_then(step) {
                    groups.apply(step);
                }
            }
            continue;
        }
        if !t.kind.is_comment() && !groups.in_later_branch() {
            code.push(*t);
        }
    }
    code
}

/// The index of the `}` closing the body that follows the name at `at`:
/// the first `{` outside parentheses opens it; a `;` outside them first
/// means a declaration, not a definition.
fn body_end(text: &str, toks: &[Token], at: usize) -> Option<usize> {
    let mut parens = 0usize;
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(at + 1) {
        let punct = &text[t.start..t.end];
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close if depth == 0 => return None,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            Kind::Punct if depth == 0 && punct == "(" => parens += 1,
            Kind::Punct if depth == 0 && punct == ")" => parens = parens.checked_sub(1)?,
            Kind::Punct if depth == 0 && parens == 0 && punct == ";" => return None,
            _ => {}
        }
    }
    None
}

/// Where the declaration holding the name at byte `name_at` starts: just
/// after what ends the thing before it (a `;`, a `}`, a comment or a
/// preprocessor line), so the lines of storage class, return type and
/// attributes above the name are part of it.
fn declaration_start(text: &str, all: &[Token], name_at: usize) -> usize {
    let mut start = name_at;
    for t in all.iter().rev().filter(|t| t.start < name_at) {
        let ends_previous = t.directive.is_some()
            || t.kind.is_comment()
            || t.kind == Kind::Close
            || (t.kind == Kind::Punct && &text[t.start..t.end] == ";");
        if ends_previous {
            break;
        }
        start = t.start;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(d: &Option<Definition>) -> Option<(usize, usize)> {
        d.as_ref().map(|d| (d.start_line, d.end_line))
    }

    #[test]
    fn the_lines_above_the_name_belong_to_the_definition() {
        let text = "int x;\n\n/* doc */\n__attribute__((noinline))\nstatic int\n\
                    add(int a,\n    int b)\n{\n\treturn a + b;\n}\nint y;\n";
        let found = find_definition(text, "add", 6);
        assert_eq!(lines(&found), Some((4, 10)));
        assert_eq!(
            found.map(|d| d.text),
            Some(
                "__attribute__((noinline))\nstatic int\nadd(int a,\n    int b)\n{\n\
                 \treturn a + b;\n}\n"
                    .to_string()
            )
        );
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        let text = "static void f(void)\n{\n\tputs(\"}\");\n\t/* } */ // }\n\tg('}');\n}\n";
        assert_eq!(lines(&find_definition(text, "f", 1)), Some((1, 6)));
    }

    #[test]
    fn a_macro_line_with_braces_does_not_count() {
        let text = "void f(void)\n{\n#define OPEN {\n#if X\n\tif (a) {\n#else\n\tif (b) {\n\
                    #endif\n\t}\n}\n";
        assert_eq!(lines(&find_definition(text, "f", 1)), Some((1, 10)));
        let after_macro = "#define BODY { }\nint g(void) { return 0; }\n";
        assert_eq!(lines(&find_definition(after_macro, "g", 2)), Some((2, 2)));
    }

    #[test]
    fn a_declaration_is_not_a_definition() {
        let text = "int f(void);\nint f(void)\n{\n\treturn 1;\n}\n";
        assert_eq!(find_definition(text, "f", 1), None);
        assert_eq!(lines(&find_definition(text, "f", 2)), Some((2, 5)));
    }

    #[test]
    fn a_function_a_macro_defines_is_found_by_its_line() {
        let text = "}\nSYSCALL_DEFINE1(close, unsigned int, fd)\n{\n\treturn 0;\n}\n";
        assert_eq!(
            lines(&find_definition(text, "__do_sys_close", 2)),
            Some((2, 5))
        );
    }

    #[test]
    fn an_unclosed_body_is_no_definition() {
        assert_eq!(find_definition("int f(void)\n{\n", "f", 1), None);
        assert_eq!(find_definition("int f(void)\n", "f", 9), None);
    }
}
