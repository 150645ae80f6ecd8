//! The identifiers a C body uses from outside itself: what it calls and the
//! globals it reads or takes the address of.
//!
//! This is a scanner, not a C parser. It skips comments, string and character
//! literals and preprocessor lines; it leaves out members (after `.` and
//! `->`), tags (after `struct`, `union`, `enum`), labels, keywords and every
//! name the body declares itself (a name that follows a type, and the names
//! after it in the same declaration). When it cannot tell, it leaves a name
//! out: a missed use is caught by the build (KGP0204), a false one would stop
//! a correct spec.

use std::collections::HashSet;

/// One use of an identifier, at a byte offset of the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub name: String,
    pub offset: usize,
    /// `name(`: a call (or a function-like macro).
    pub call: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str, usize),
    Punct(&'a str),
    /// A number or a literal.
    Other,
}

/// Words of GNU C and the kernel that are never a symbol, beside C's keywords.
const EXTENSION_WORDS: &[&str] = &[
    "typeof",
    "__typeof__",
    "asm",
    "__asm__",
    "__volatile__",
    "__attribute__",
    "__builtin_expect",
    "__builtin_constant_p",
    "__builtin_offsetof",
    "_Alignof",
    "__alignof__",
    "NULL",
];

/// Whether `name` is a word of the language, never a symbol.
fn is_keyword(name: &str) -> bool {
    super::names::C_KEYWORDS.contains(&name) || EXTENSION_WORDS.contains(&name)
}

/// Words after which a name is an expression, not a declared name.
const EXPRESSION_WORDS: &[&str] = &["return", "case", "sizeof", "else", "do", "goto"];

/// Words that may stand between a type and the declared name.
const QUALIFIERS: &[&str] = &[
    "const", "volatile", "restrict", "__rcu", "__user", "__iomem",
];

/// The uses of outside names in `text`, in order. `params` are names the
/// body has from its context (its parameters).
pub fn uses(text: &str, params: &HashSet<String>) -> Vec<Use> {
    let tokens = tokens(text);
    let mut declared: HashSet<&str> = HashSet::new();
    let mut candidates = Vec::new();
    // The paren depth a declaration is being read at, until its `;`.
    let mut declaring: Option<usize> = None;
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            Token::Punct("(") | Token::Punct("[") => depth += 1,
            Token::Punct(")") | Token::Punct("]") => depth = depth.saturating_sub(1),
            Token::Punct(";") | Token::Punct("{") | Token::Punct("}") => declaring = None,
            _ => {}
        }
        let Token::Ident(name, offset) = *token else {
            continue;
        };
        if is_keyword(name) || QUALIFIERS.contains(&name) {
            continue;
        }
        let prev = previous(&tokens, i);
        let next = tokens.get(i + 1).copied();
        match prev {
            Some(Token::Punct(".")) | Some(Token::Punct("->")) => continue,
            Some(Token::Ident("struct" | "union" | "enum" | "goto", _)) => continue,
            _ => {}
        }
        // A label: `out:` at the start of a statement.
        if next == Some(Token::Punct(":"))
            && matches!(
                prev,
                None | Some(Token::Punct(";")) | Some(Token::Punct("{")) | Some(Token::Punct("}"))
            )
        {
            continue;
        }
        if declares(&tokens, i) {
            declared.insert(name);
            declaring = Some(depth);
            continue;
        }
        if declaring == Some(depth) && after_comma(&tokens, i) {
            declared.insert(name);
            continue;
        }
        candidates.push(Use {
            name: name.to_string(),
            offset,
            call: next == Some(Token::Punct("(")),
        });
    }
    candidates
        .into_iter()
        .filter(|u| !declared.contains(u.name.as_str()) && !params.contains(&u.name))
        .collect()
}

/// Every identifier in `text`: what a `data` block may define.
pub fn identifiers(text: &str) -> HashSet<String> {
    tokens(text)
        .into_iter()
        .filter_map(|t| match t {
            Token::Ident(name, _) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

/// The parameter names of a parameter list such as `(struct seq_file *m, void *v)`.
pub fn parameter_names(params: &str) -> HashSet<String> {
    let inner = params.trim();
    let inner = inner.strip_prefix('(').unwrap_or(inner);
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    let mut names = HashSet::new();
    let mut depth = 0usize;
    let mut last: Option<String> = None;
    let mut in_pointer_name = false;
    for token in tokens(inner) {
        match token {
            Token::Punct("(") => {
                depth += 1;
                in_pointer_name = depth == 1;
            }
            Token::Punct(")") => depth = depth.saturating_sub(1),
            Token::Punct(",") if depth == 0 => {
                names.extend(last.take());
            }
            Token::Ident(name, _) if depth == 0 || (depth == 1 && in_pointer_name) => {
                if depth == 1 {
                    // `int (*fn)(void)`: the name is inside the first parentheses.
                    names.insert(name.to_string());
                    in_pointer_name = false;
                } else {
                    last = Some(name.to_string());
                }
            }
            _ => {}
        }
    }
    names.extend(last);
    names.retain(|n| !is_keyword(n));
    names
}

fn previous<'a>(tokens: &[Token<'a>], i: usize) -> Option<Token<'a>> {
    i.checked_sub(1).and_then(|p| tokens.get(p).copied())
}

/// Whether the name at `i` follows a type: `int x`, `struct foo *p`, `u64 const *q`.
fn declares(tokens: &[Token<'_>], i: usize) -> bool {
    let mut j = i;
    while let Some(p) = j.checked_sub(1) {
        match tokens[p] {
            Token::Punct("*") => j = p,
            Token::Ident(word, _) if QUALIFIERS.contains(&word) => j = p,
            Token::Ident(word, _) => return !EXPRESSION_WORDS.contains(&word),
            _ => return false,
        }
    }
    false
}

/// Whether the name at `i` follows a comma (and pointer stars): `int a, *b`.
fn after_comma(tokens: &[Token<'_>], i: usize) -> bool {
    let mut j = i;
    while let Some(p) = j.checked_sub(1) {
        match tokens[p] {
            Token::Punct("*") => j = p,
            Token::Punct(",") => return true,
            _ => return false,
        }
    }
    false
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The tokens of C text without comments, literals' contents and preprocessor lines.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b'#' && line_start {
            // A directive runs to the end of the line, continued by backslashes.
            while i < bytes.len() && !(bytes[i] == b'\n' && bytes[i - 1] != b'\\') {
                i += 1;
            }
            continue;
        }
        line_start = false;
        if bytes[i..].starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if bytes[i..].starts_with(b"/*") {
            i = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            continue;
        }
        if b == b'"' || b == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Token::Other);
            continue;
        }
        if is_ident_start(b) {
            let start = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            out.push(Token::Ident(&text[start..i], start));
            continue;
        }
        if b.is_ascii_digit() {
            while i < bytes.len() && (is_ident(bytes[i]) || bytes[i] == b'.') {
                i += 1;
            }
            out.push(Token::Other);
            continue;
        }
        if bytes[i..].starts_with(b"->") {
            out.push(Token::Punct("->"));
            i += 2;
            continue;
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push(Token::Punct(&text[i..i + len]));
        i += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, params: &[&str]) -> Vec<(String, bool)> {
        let params: HashSet<String> = params.iter().map(|p| p.to_string()).collect();
        uses(text, &params)
            .into_iter()
            .map(|u| (u.name, u.call))
            .collect()
    }

    #[test]
    fn calls_and_globals_without_locals_members_and_literals() {
        let body = r#"
        struct sysinfo swap, *p = &swap;
        unsigned long loads[3], background;
        int ret = 0;
        // nr_fake(); in a comment
        /* another_fake(); */
        #ifdef CONFIG_FOO
        configured_call();
        #endif
        si_swapinfo(&swap);
        seq_printf(m, "%s nr_in_string()\n", saved_command_line);
        ret = p->totalswap + swap.freeswap + loads[0] + 'x';
        if (!ret)
            goto out;
        list_add(&node->list, &head);
    out:
        return ret + nr_processes();
        "#;
        assert_eq!(
            names(body, &["m"]),
            vec![
                ("configured_call".to_string(), true),
                ("si_swapinfo".to_string(), true),
                ("seq_printf".to_string(), true),
                ("saved_command_line".to_string(), false),
                ("list_add".to_string(), true),
                ("node".to_string(), false),
                ("head".to_string(), false),
                ("nr_processes".to_string(), true),
            ]
        );
    }

    #[test]
    fn casts_and_expressions_are_uses() {
        assert_eq!(
            names("return (long)jiffies_64 + sizeof(init_task);", &[]),
            vec![
                ("jiffies_64".to_string(), false),
                ("init_task".to_string(), false)
            ]
        );
        // `a * b` reads like a declaration of `b`; the scanner leaves it out.
        assert_eq!(
            names("x = a * b;", &[]),
            vec![("x".to_string(), false), ("a".to_string(), false)]
        );
    }

    #[test]
    fn parameter_names_of_lists() {
        let mut names: Vec<String> =
            parameter_names("(struct seq_file *m, void *v, int (*fn)(void *), char buf[16])")
                .into_iter()
                .collect();
        names.sort();
        assert_eq!(names, vec!["buf", "fn", "m", "v"]);
        assert!(parameter_names("(void)").is_empty());
    }
}
