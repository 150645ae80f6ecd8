//! C declarations from type graphs, shared by the DWARF and BTF readers:
//! `struct seq_file *m`, `int (*fn)(void *)`, `const char *const names[4]`.

use super::error::DeclarationError;

/// One node of a type graph, as a reader describes it.
pub enum Node<Id> {
    Void,
    /// A named type as written in C: `int`, `struct seq_file`, `size_t`.
    Named(String),
    /// A struct, union or enum without a name, which C cannot spell again.
    Anonymous(&'static str),
    Pointer(Option<Id>),
    Const(Option<Id>),
    Volatile(Option<Id>),
    /// Qualifiers kgpc leaves out, such as `restrict`.
    Transparent(Option<Id>),
    Array(Option<Id>, Option<u64>),
    Function {
        ret: Option<Id>,
        params: Vec<Option<Id>>,
        variadic: bool,
    },
    /// Something the reader could not read.
    Unknown(DeclarationError),
}

pub trait TypeSource {
    type Id: Copy;
    fn node(&self, id: Self::Id) -> Node<Self::Id>;
}

/// A function's prototype, ready for a C declaration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prototype {
    pub return_type: String,
    pub name: String,
    /// Each parameter as declared, with its name.
    pub params: Vec<String>,
    /// Each parameter's type alone, for comparisons.
    pub param_types: Vec<String>,
    pub variadic: bool,
}

impl Prototype {
    /// The parameter list with parentheses: `(struct seq_file *m, void *v)`.
    pub fn params_text(&self) -> String {
        let mut parts = self.params.clone();
        if self.variadic {
            parts.push("...".into());
        }
        if parts.is_empty() {
            "(void)".into()
        } else {
            format!("({})", parts.join(", "))
        }
    }

    /// `int cmdline_proc_show(struct seq_file *m, void *v)`.
    pub fn declaration(&self) -> String {
        let sep = if self.return_type.ends_with('*') {
            ""
        } else {
            " "
        };
        format!(
            "{}{sep}{}{}",
            self.return_type,
            self.name,
            self.params_text()
        )
    }
}

/// Declares `inner` (a name, or empty for an abstract declarator) with type `ty`.
pub fn declare<S: TypeSource>(
    src: &S,
    ty: Option<S::Id>,
    inner: &str,
) -> Result<String, DeclarationError> {
    declare_at(src, ty, inner, 0)
}

fn join(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else {
        format!("{base} {inner}")
    }
}

fn declare_at<S: TypeSource>(
    src: &S,
    ty: Option<S::Id>,
    inner: &str,
    depth: usize,
) -> Result<String, DeclarationError> {
    if depth > 64 {
        return Err(DeclarationError::TooDeep);
    }
    let Some(id) = ty else {
        return Ok(join("void", inner));
    };
    match src.node(id) {
        Node::Void => Ok(join("void", inner)),
        Node::Named(name) => Ok(join(&name, inner)),
        Node::Anonymous(kind) => Err(DeclarationError::Anonymous(kind)),
        Node::Unknown(why) => Err(why),
        Node::Transparent(t) => declare_at(src, t, inner, depth + 1),
        Node::Pointer(t) => {
            let wraps =
                t.is_some_and(|t| matches!(src.node(t), Node::Array(..) | Node::Function { .. }));
            let inner = if wraps {
                format!("(*{inner})")
            } else {
                format!("*{inner}")
            };
            declare_at(src, t, &inner, depth + 1)
        }
        Node::Const(t) | Node::Volatile(t) => {
            let word = if matches!(src.node(id), Node::Const(_)) {
                "const"
            } else {
                "volatile"
            };
            let target_is_pointer = t.is_some_and(|t| matches!(src.node(t), Node::Pointer(_)));
            if target_is_pointer {
                declare_at(src, t, &join(word, inner), depth + 1)
            } else {
                // gcc qualifies a `const char x[]` twice, the array and its elements.
                let rest = declare_at(src, t, inner, depth + 1)?;
                if rest.starts_with(&format!("{word} ")) {
                    Ok(rest)
                } else {
                    Ok(format!("{word} {rest}"))
                }
            }
        }
        Node::Array(t, n) => {
            let dim = n.map_or(String::new(), |n| n.to_string());
            declare_at(src, t, &format!("{inner}[{dim}]"), depth + 1)
        }
        Node::Function {
            ret,
            params,
            variadic,
        } => {
            let mut parts = params
                .iter()
                .map(|p| declare_at(src, *p, "", depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if variadic {
                parts.push("...".into());
            }
            let list = if parts.is_empty() {
                "void".to_string()
            } else {
                parts.join(", ")
            };
            declare_at(src, ret, &format!("{inner}({list})"), depth + 1)
        }
    }
}

const INTEGER_WORDS: &[&str] = &["signed", "unsigned", "int", "long", "short", "char"];

/// The usual spelling of a C integer type: GCC's `long unsigned int` is `unsigned long`.
pub fn canonical_integer(words: &[&str]) -> String {
    let longs = words.iter().filter(|w| **w == "long").count();
    let unsigned = words.contains(&"unsigned");
    let signed = words.contains(&"signed");
    let base = if words.contains(&"char") {
        "char"
    } else if words.contains(&"short") {
        "short"
    } else if longs >= 2 {
        "long long"
    } else if longs == 1 {
        "long"
    } else {
        "int"
    };
    match (unsigned, signed && base == "char") {
        (true, _) => format!("unsigned {base}"),
        (false, true) => "signed char".to_string(),
        _ => base.to_string(),
    }
}

/// Rewrites every run of integer keywords in `text` in its usual spelling.
pub fn canonical_integers(text: &str) -> String {
    let mut out = String::new();
    let mut run: Vec<&str> = Vec::new();
    let mut rest = text;
    let flush = |run: &mut Vec<&str>, out: &mut String| {
        if !run.is_empty() {
            if !out.is_empty() && !out.ends_with([' ', '(', '*']) {
                out.push(' ');
            }
            out.push_str(&canonical_integer(run));
            run.clear();
        }
    };
    while !rest.is_empty() {
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let start = rest.find(is_word).unwrap_or(rest.len());
        let (gap, tail) = rest.split_at(start);
        let end = tail.find(|c: char| !is_word(c)).unwrap_or(tail.len());
        let (word, after) = tail.split_at(end);
        if !word.is_empty() && INTEGER_WORDS.contains(&word) {
            if run.is_empty() {
                out.push_str(gap.trim_end_matches(' '));
            }
            run.push(word);
        } else {
            flush(&mut run, &mut out);
            out.push_str(gap);
            out.push_str(word);
        }
        rest = after;
    }
    flush(&mut run, &mut out);
    out
}

/// Tidies a declaration: `char * p` and `char *p` compare equal, and so do
/// `long unsigned int` and `unsigned long`.
pub fn normalize(text: &str) -> String {
    let text = canonical_integers(text);
    let mut out = String::new();
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let word = c.is_alphanumeric() || c == '_';
        if pending_space && !out.is_empty() {
            let prev_word = out
                .chars()
                .last()
                .is_some_and(|p| p.is_alphanumeric() || p == '_');
            if prev_word && word {
                out.push(' ');
            }
        }
        pending_space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Graph(Vec<Node<usize>>);
    impl TypeSource for Graph {
        type Id = usize;
        fn node(&self, id: usize) -> Node<usize> {
            match &self.0[id] {
                Node::Named(n) => Node::Named(n.clone()),
                Node::Pointer(t) => Node::Pointer(*t),
                Node::Const(t) => Node::Const(*t),
                Node::Array(t, n) => Node::Array(*t, *n),
                Node::Function {
                    ret,
                    params,
                    variadic,
                } => Node::Function {
                    ret: *ret,
                    params: params.clone(),
                    variadic: *variadic,
                },
                _ => Node::Void,
            }
        }
    }

    #[test]
    fn declarators() {
        let g = Graph(vec![
            Node::Named("char".into()),    // 0
            Node::Const(Some(0)),          // 1 const char
            Node::Pointer(Some(1)),        // 2 const char *
            Node::Const(Some(2)),          // 3 const char *const
            Node::Array(Some(3), Some(4)), // 4 [4]
            Node::Function {
                ret: Some(5),
                params: vec![None],
                variadic: false,
            }, // 5 (placeholder ret)
            Node::Named("int".into()),     // 6
            Node::Function {
                ret: Some(6),
                params: vec![Some(2)],
                variadic: true,
            }, // 7
            Node::Pointer(Some(7)),        // 8
            Node::Array(Some(1), Some(59)), // 9 const char [59]
            Node::Const(Some(9)),          // 10 const (const char [59])
        ]);
        assert_eq!(
            declare(&g, Some(10), "linux_banner").unwrap(),
            "const char linux_banner[59]"
        );
        assert_eq!(declare(&g, Some(2), "s").unwrap(), "const char *s");
        assert_eq!(
            declare(&g, Some(4), "names").unwrap(),
            "const char *const names[4]"
        );
        assert_eq!(
            declare(&g, Some(8), "fn").unwrap(),
            "int (*fn)(const char *, ...)"
        );
        assert_eq!(declare(&g, None, "").unwrap(), "void");
        assert_eq!(normalize("char  * p"), "char*p");
        assert_eq!(normalize("unsigned long x"), "unsigned long x");
        assert_eq!(normalize("long unsigned int *p"), "unsigned long*p");
        assert_eq!(normalize("long int b"), "long b");
        assert_eq!(
            canonical_integers("const short unsigned int"),
            "const unsigned short"
        );
        assert_eq!(canonical_integers("size_t"), "size_t");
    }
}
