//! Where the spec's C code uses the accessors kgpc generates.
//!
//! The report names, for each shadow variable, the functions that allocate
//! and free it. kgpc does not parse C; it looks for calls of the generated
//! accessors by name, outside comments and strings, which is exact for the
//! accessors because kgpc chose their names.

use crate::check::model::{Fragment, Model};

/// A piece of the spec's C code with a name a reviewer recognises.
pub struct CodeSite<'a> {
    pub name: String,
    pub code: &'a Fragment,
}

/// Every body of the spec: replacements, helpers, callbacks, constructors and destructors.
pub fn sites(model: &Model) -> Vec<CodeSite<'_>> {
    let mut sites = Vec::new();
    for o in &model.objects {
        for f in &o.funcs {
            sites.push(CodeSite {
                name: format!("replacement of `{}()` in {}", f.old_name, o.display_name()),
                code: &f.function.body,
            });
        }
        for c in &o.callbacks {
            sites.push(CodeSite {
                name: format!("`{}` of {}", c.kind.keyword(), o.display_name()),
                code: &c.body,
            });
        }
    }
    for h in &model.helpers {
        sites.push(CodeSite {
            name: format!("helper `{}()`", h.c_name),
            code: &h.body,
        });
    }
    for s in &model.shadows {
        if let Some(ctor) = &s.ctor {
            sites.push(CodeSite {
                name: format!("constructor of `{}`", s.name),
                code: ctor,
            });
        }
        if let Some(dtor) = &s.dtor {
            sites.push(CodeSite {
                name: format!("destructor of `{}`", s.name),
                code: dtor,
            });
        }
    }
    sites
}

/// Whether C text calls `function`, ignoring comments and string literals.
pub fn calls(text: &str, function: &str) -> bool {
    let code = strip_comments_and_strings(text);
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(pos) = code[from..].find(function) {
        let start = from + pos;
        let end = start + function.len();
        let before_ok = start == 0 || !is_ident(bytes[start - 1]);
        let after = code[end..].trim_start();
        if before_ok && after.starts_with('(') {
            return true;
        }
        from = end;
    }
    false
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// C text with comments and the insides of string and character literals blanked.
fn strip_comments_and_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
                out.push(' ');
            }
            '"' | '\'' => {
                let quote = c;
                out.push(quote);
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        chars.next();
                    } else if c == quote {
                        break;
                    }
                }
                out.push(quote);
            }
            c => out.push(c),
        }
    }
    out
}

/// The number of non-blank lines of C.
pub fn lines_of_code(text: &str) -> usize {
    text.lines().filter(|l| !l.trim().is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_outside_comments_and_strings() {
        assert!(calls("x = leak_get(d);", "leak_get"));
        assert!(!calls("x = leak_get_or_alloc(d);", "leak_get"));
        assert!(!calls(
            "/* leak_free(d) */ pr_info(\"leak_free(d)\");",
            "leak_free"
        ));
        assert!(!calls("my_leak_free(d);", "leak_free"));
        assert!(calls("if (a)\n\tleak_free (d);", "leak_free"));
        assert_eq!(lines_of_code("a;\n\n b;\n"), 2);
    }
}
