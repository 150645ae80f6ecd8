//! Comparing the C declarations a spec writes with the ones the kernel's
//! debug information gives. A prototype copied from the kernel's source
//! must compare equal: words that are empty for gcc (sparse's annotations)
//! or that do not change a type (storage classes, attributes) are left out,
//! an array parameter is the pointer C makes of it, and an array size
//! written as a macro or left empty matches the kernel's size.

use crate::c::lexer::{tokens, Kind};
use crate::kernel::ctype::normalize;

/// Words that do not change a declaration's type for gcc: the sparse
/// annotations that include/linux/compiler_types.h and
/// include/uapi/linux/types.h define as nothing outside `__CHECKER__`
/// (`__user` and `__percpu` become BTF tags at most, which DWARF does not
/// show), storage classes, and the function and section attributes of
/// include/linux/compiler_attributes.h, compiler_types.h and init.h.
const EMPTY_WORDS: &[&str] = &[
    // Address spaces and other sparse annotations.
    "__kernel",
    "__user",
    "__iomem",
    "__percpu",
    "__rcu",
    "__force",
    "__nocast",
    "__safe",
    "__private",
    "__bitwise",
    "__bitwise__",
    // Storage classes and inlining.
    "static",
    "extern",
    "register",
    "inline",
    "__inline",
    "__inline__",
    "__always_inline",
    "noinline",
    "noinline_for_stack",
    "nokprobe_inline",
    // Function attributes.
    "__must_check",
    "__always_unused",
    "__maybe_unused",
    "__used",
    "__cold",
    "__hot",
    "__weak",
    "__visible",
    "__pure",
    "__malloc",
    "__noreturn",
    "__noclone",
    "__flatten",
    "__deprecated",
    "__nocfi",
    "__noscs",
    "__latent_entropy",
    "__randomize_layout",
    "notrace",
    "asmlinkage",
    // Section attributes.
    "__init",
    "__exit",
    "__ref",
    "__sched",
    "__cpuidle",
    "__kprobes",
    "noinstr",
    "__meminit",
    "__read_mostly",
    "__ro_after_init",
    "__initdata",
    "__initconst",
    // Qualifiers DWARF keeps but kgpc's prototypes leave out.
    "restrict",
    "__restrict",
    "__restrict__",
];

/// Words that take a parenthesised argument list and are attributes or empty.
const EMPTY_CALLS: &[&str] = &[
    "__attribute__",
    "__attribute",
    "__acquires",
    "__releases",
    "__must_hold",
    "__cond_acquires",
    "__printf",
    "__scanf",
    "__alloc_size",
    "__realloc_size",
    "__section",
    "__aligned",
    "__assume_aligned",
    "BTF_TYPE_TAG",
];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` without the words and attribute lists that do not change its type.
pub fn strip_annotations(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !is_word(c) || (i > 0 && is_word(chars[i - 1])) {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_word(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if EMPTY_WORDS.contains(&word.as_str()) {
            out.push(' ');
            continue;
        }
        if EMPTY_CALLS.contains(&word.as_str()) {
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'(') {
                let mut depth = 0;
                while j < chars.len() {
                    match chars[j] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
                out.push(' ');
                continue;
            }
        }
        out.push_str(&word);
    }
    const_first(&out)
}

/// `char const *p` as `const char *p`: a qualifier of the base type moves
/// before it, where kgpc's declarations put it.
fn const_first(text: &str) -> String {
    let base_end = text.find(['*', '(', '[']).unwrap_or(text.len());
    let (base, rest) = text.split_at(base_end);
    let words: Vec<&str> = base.split_whitespace().collect();
    let mut qualifiers: Vec<&str> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for w in &words {
        if matches!(*w, "const" | "volatile") {
            if !qualifiers.contains(w) {
                qualifiers.push(w);
            }
        } else {
            others.push(w);
        }
    }
    qualifiers.sort_unstable();
    let mut parts = qualifiers;
    parts.extend(others);
    let base = parts.join(" ");
    if rest.is_empty() {
        base
    } else {
        format!("{base} {rest}")
    }
}

/// C text with its comments replaced by a space, as C reads them.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut end = 0;
    for t in tokens(text) {
        if matches!(
            t.kind,
            Kind::LineComment | Kind::BlockComment | Kind::UnclosedComment
        ) {
            continue;
        }
        if t.start > end && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text[t.start..t.end]);
        end = t.end;
    }
    out
}

/// Splits a parameter list `(int a, char *b)` at top-level commas, with its
/// comments left out; `(void)` is empty.
pub fn split_params(params: &str) -> Vec<String> {
    let params = without_comments(params);
    let trimmed = params.trim();
    let inner = trimmed
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(trimmed);
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    if out.len() == 1 && strip_annotations(&out[0]).trim() == "void" {
        out.clear();
    }
    out
}

/// A parameter list as types: each parameter's type without its name, and
/// whether it ends with `...`.
#[derive(Debug, PartialEq, Eq)]
pub struct ParamTypes {
    pub types: Vec<String>,
    pub variadic: bool,
}

/// The types of a parameter list as a spec writes it: `(char __user *buf, ...)`.
pub fn param_types(params: &str) -> ParamTypes {
    let mut variadic = false;
    let mut types = Vec::new();
    for p in split_params(params) {
        if p == "..." {
            variadic = true;
        } else {
            types.push(param_type(&p));
        }
    }
    ParamTypes { types, variadic }
}

const TYPE_WORDS: &[&str] = &[
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool",
    "bool", "const", "volatile", "struct", "union", "enum",
];

/// A parameter's type without its name, as the kernel's debug information
/// gives it: `struct seq_file *m` → `struct seq_file*`, `u8 addr[ETH_ALEN]`
/// → `u8*` (C passes an array parameter as a pointer).
pub fn param_type(param: &str) -> String {
    let ty = declared_type(param);
    decay(&ty)
}

/// A declaration's type without its name: `char buf[16]` → `char[16]`,
/// `int (*fn)(void *p)` → `int(*)(void*)`.
pub fn declared_type(decl: &str) -> String {
    let p = normalize(&strip_annotations(decl));
    if let Some(i) = p.find("(*") {
        let rest = &p[i + 2..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let after = &rest[end..];
        // The pointed-to function's own parameters lose their names too.
        let after = match (after.find('('), after.rfind(')')) {
            (Some(open), Some(close)) if close > open && after[..open].trim() == ")" => {
                let inner: Vec<String> = split_params(&after[open..=close])
                    .iter()
                    .map(|q| if q == "..." { q.clone() } else { param_type(q) })
                    .collect();
                let inner = if inner.is_empty() {
                    "void".to_string()
                } else {
                    inner.join(",")
                };
                format!("{}({inner}){}", &after[..open], &after[close + 1..])
            }
            _ => after.to_string(),
        };
        return format!("{}(*{after}", &p[..i]);
    }
    let (head, tail) = match p.find('[') {
        Some(i) => (&p[..i], &p[i..]),
        None => (p.as_str(), ""),
    };
    let start = head.rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let last = &head[start..];
    let before = head[..start].trim_end();
    let previous_word = before.rsplit(|c: char| !is_word(c)).next().unwrap_or("");
    let strip = !last.is_empty()
        && !TYPE_WORDS.contains(&last)
        && !before.is_empty()
        && !matches!(previous_word, "struct" | "union" | "enum");
    let kept = if strip { before } else { head };
    normalize(&format!("{kept}{tail}"))
}

/// An array type's first dimension made a pointer, as for a parameter:
/// `u8[6]` → `u8*`, `int[3][4]` → `int(*)[4]`.
fn decay(ty: &str) -> String {
    if ty.contains("(*") {
        return ty.to_string();
    }
    let Some(open) = ty.find('[') else {
        return ty.to_string();
    };
    let Some(close) = ty[open..].find(']').map(|c| open + c) else {
        return ty.to_string();
    };
    let base = &ty[..open];
    let rest = &ty[close + 1..];
    if rest.is_empty() {
        format!("{base}*")
    } else {
        format!("{base}(*){rest}")
    }
}

/// Whether a type the spec writes matches the kernel's: equal once
/// normalized, where an array size the spec writes as a macro or leaves
/// empty matches any size of the kernel's.
pub fn types_match(spec: &str, kernel: &str) -> bool {
    let spec = normalize(spec);
    let kernel = normalize(kernel);
    if spec == kernel {
        return true;
    }
    let (spec_base, spec_dims) = dimensions(&spec);
    let (kernel_base, kernel_dims) = dimensions(&kernel);
    spec_base == kernel_base
        && spec_dims.len() == kernel_dims.len()
        && spec_dims
            .iter()
            .zip(&kernel_dims)
            .all(|(s, k)| match (number(s), number(k)) {
                (Some(a), Some(b)) => a == b,
                // An empty size, or one written as a macro or expression, takes the kernel's.
                _ => s.is_empty() || number(s).is_none() || k.is_empty(),
            })
}

/// A declaration split into what comes before its array dimensions and the dimensions.
fn dimensions(text: &str) -> (&str, Vec<&str>) {
    let Some(open) = text.find('[') else {
        return (text, Vec::new());
    };
    let (base, mut rest) = text.split_at(open);
    let mut dims = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return (text, Vec::new());
        };
        dims.push(inner[..close].trim());
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        return (text, Vec::new());
    }
    (base, dims)
}

fn number(text: &str) -> Option<u64> {
    let t = text.trim_end_matches(['u', 'U', 'l', 'L']);
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_left_out() {
        assert_eq!(param_type("char __user *buf"), "char*");
        assert_eq!(param_type("void __rcu **slot"), "void**");
        assert_eq!(param_type("const void __iomem *addr"), "const void*");
        assert_eq!(param_type("struct foo __percpu *p"), "struct foo*");
        assert_eq!(param_type("char const *name"), "const char*");
        assert_eq!(
            normalize(&strip_annotations(
                "static __always_inline int __must_check"
            )),
            "int"
        );
        assert_eq!(
            normalize(&strip_annotations(
                "__printf(2, 3) __attribute__((cold)) int"
            )),
            "int"
        );
        // Words that only contain an annotation's name are kept.
        assert_eq!(param_type("int __userland"), "int");
        assert_eq!(param_type("my__user_t x"), "my__user_t");
    }

    #[test]
    fn parameter_types_without_names() {
        assert_eq!(param_type("struct seq_file *m"), "struct seq_file*");
        assert_eq!(param_type("unsigned long"), "unsigned long");
        assert_eq!(param_type("unsigned long flags"), "unsigned long");
        assert_eq!(param_type("size_t n"), "size_t");
        assert_eq!(param_type("size_t"), "size_t");
        assert_eq!(param_type("struct foo"), "struct foo");
        assert_eq!(param_type("int (*fn)(void *)"), "int(*)(void*)");
        assert_eq!(
            param_type("int (*fn)(struct seq_file *m, void *v)"),
            "int(*)(struct seq_file*,void*)"
        );
        assert_eq!(split_params("(void)"), Vec::<String>::new());
        assert_eq!(split_params("(int a, int (*f)(int, int))").len(), 2);
        assert_eq!(
            split_params("(struct seq_file *m, // the file, really\n void *v /* , */)"),
            vec!["struct seq_file *m", "void *v"]
        );
        assert_eq!(
            param_types("(const char *fmt, ...)"),
            ParamTypes {
                types: vec!["const char*".into()],
                variadic: true
            }
        );
    }

    #[test]
    fn arrays() {
        // Parameters: C makes the first dimension a pointer.
        assert_eq!(param_type("u8 addr[ETH_ALEN]"), "u8*");
        assert_eq!(param_type("char buf[16]"), "char*");
        assert_eq!(param_type("int grid[3][4]"), "int(*)[4]");
        // Declarations: a macro or empty size takes the kernel's.
        assert_eq!(declared_type("char buf[16]"), "char[16]");
        assert!(types_match("u8 x[ETH_ALEN]", "u8 x[6]"));
        assert!(types_match(
            "char boot_command_line[]",
            "char boot_command_line[2048]"
        ));
        assert!(types_match("char b[0x10]", "char b[16]"));
        assert!(!types_match("char b[15]", "char b[16]"));
        assert!(!types_match("int x[ETH_ALEN]", "u8 x[6]"));
        assert!(!types_match("u8 x[N][2]", "u8 x[6][3]"));
    }
}
