//! What a top-level item is and what it names, read from its tokens outside
//! braces: the declarator (the word before a parameter list, or a pointer in
//! parentheses), the words before it (none but storage classes and
//! attributes for a macro-made item), and the tag of a structure.

use super::TopKind;
use crate::c::lexer::{Kind, Token};

/// Storage classes, qualifiers and the kernel's attribute macros that are
/// written without parentheses: none of them names an item.
const PLAIN_ATTRIBUTES: &str = "\
    static extern inline __inline __inline__ __always_inline noinline noinline_for_stack \
    register auto _Thread_local __thread const volatile restrict __restrict _Noreturn \
    asmlinkage notrace noinstr __visible __weak __cold __hot __latent_entropy __noreturn \
    __noclone __must_check __pure __maybe_unused __used __always_unused __init __exit \
    __initdata __initconst __exitdata __ref __refdata __refconst __meminit __meminitdata \
    __meminitconst __init_or_module __nosavedata __ro_after_init __read_mostly \
    __page_aligned_bss __page_aligned_data __cacheline_aligned __cacheline_aligned_in_smp \
    ____cacheline_aligned ____cacheline_aligned_in_smp __cacheline_internodealigned_in_smp \
    ____cacheline_internodealigned_in_smp __percpu __rcu __iomem __user __kernel __force \
    __bitwise __packed __randomize_layout __no_randomize_layout __designated_init __sched \
    __kprobes __flatten __no_sanitize_address __no_kcsan __nocfi __no_sanitize_or_inline \
    __irq_entry __softirq_entry __attribute_const__ __malloc __lockfunc __naked __gnu_inline \
    __deprecated __ksym";

/// Attributes written with an argument list in parentheses.
const PAREN_ATTRIBUTES: &str = "\
    __attribute__ __attribute __declspec __aligned __section __printf __scanf __acquires \
    __releases __must_hold __cond_acquires __alloc_size __realloc_size __assume_aligned \
    __counted_by __diagnose_as __cleanup _Alignas alignas asm __asm__ __asm";

/// Words of C's types and operators, which name no item and are no argument
/// that names one (`module_param(name, bool, 0644)` names `name`).
const TYPE_WORDS: &str = "\
    void char short int long float double signed unsigned _Bool bool struct union enum \
    typedef sizeof typeof __typeof__ __typeof _Alignof __alignof__ _Atomic _Complex charp \
    invbool byte ushort uint ulong hexint";

/// Whether `word` is one of the words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// Whether a word is an attribute, storage class or qualifier.
pub(super) fn is_attribute(word: &str) -> bool {
    listed(PLAIN_ATTRIBUTES, word) || listed(PAREN_ATTRIBUTES, word)
}

/// Whether a word can name an item or be an identifier argument.
fn is_identifier(word: &str) -> bool {
    !is_attribute(word)
        && !listed(TYPE_WORDS, word)
        && !word.starts_with(|c: char| c.is_ascii_digit())
}

/// A token of an item and its spelling.
#[derive(Clone, Copy)]
struct Tok<'t> {
    kind: Kind,
    s: &'t str,
}

fn spelled<'t>(text: &'t str, all: &[Token], counted: &[usize]) -> Vec<Tok<'t>> {
    counted
        .iter()
        .map(|&i| Tok {
            kind: all[i].kind,
            s: &text[all[i].start..all[i].end],
        })
        .collect()
}

/// The index of the `)` or `]` closing the group opened at `open`, or the last index.
fn group_end(toks: &[Tok], open: usize) -> usize {
    let mut level = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.s {
            "(" | "[" => level += 1,
            ")" | "]" => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    toks.len().saturating_sub(1)
}

/// The index of the first identifier in the parenthesised pointer opened at
/// `open`: the name in `(*name)`, `(*const name)` or `(*name[N])`.
fn pointer_name(toks: &[Tok], open: usize) -> Option<usize> {
    (open..=group_end(toks, open)).find(|&k| toks[k].kind == Kind::Word && is_identifier(toks[k].s))
}

/// How many tokens of the item come before its `{` or `=` outside parentheses.
fn head_len(toks: &[Tok]) -> usize {
    let mut level = 0usize;
    for (k, t) in toks.iter().enumerate() {
        match t.s {
            "(" | "[" => level += 1,
            ")" | "]" => level = level.saturating_sub(1),
            "=" if level == 0 => return k,
            _ if level == 0 && t.kind == Kind::Open => return k,
            _ => {}
        }
    }
    toks.len()
}

/// What the declarator of a head is.
enum Declarator {
    /// A parameter list: the index of the word before it and of its `(`.
    Function { name: usize, open: usize },
    /// A declarator in parentheses, `(*name)`: a pointer.
    Pointer(Option<String>),
}

/// The first parameter list or parenthesised pointer outside other
/// parentheses and brackets; attribute lists and `typeof(...)` are none.
fn declarator(head: &[Tok]) -> Option<Declarator> {
    let mut level = 0usize;
    for (k, t) in head.iter().enumerate() {
        match t.s {
            "(" if level == 0 => {
                if head.get(k + 1).is_some_and(|n| n.s == "*" || n.s == "^") {
                    let name = pointer_name(head, k);
                    // `(*handler(int sig))(int)`: a function returning a pointer.
                    if let Some(name) =
                        name.filter(|&n| head.get(n + 1).is_some_and(|t| t.s == "("))
                    {
                        return Some(Declarator::Function {
                            name,
                            open: name + 1,
                        });
                    }
                    return Some(Declarator::Pointer(name.map(|n| head[n].s.to_string())));
                }
                let before = k.checked_sub(1).map(|p| head[p]);
                if before.is_some_and(|b| b.kind == Kind::Word && is_identifier(b.s)) {
                    return Some(Declarator::Function {
                        name: k - 1,
                        open: k,
                    });
                }
                level += 1;
            }
            "(" | "[" => level += 1,
            ")" | "]" => level = level.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The index of the last `struct`, `union` or `enum` outside parentheses.
fn aggregate_keyword(head: &[Tok]) -> Option<usize> {
    let mut level = 0usize;
    let mut found = None;
    for (k, t) in head.iter().enumerate() {
        match t.s {
            "(" | "[" => level += 1,
            ")" | "]" => level = level.saturating_sub(1),
            "struct" | "union" | "enum" if level == 0 => found = Some(k),
            _ => {}
        }
    }
    found
}

/// The function declarator of a head, unless a structure's tag comes after
/// it (`struct s __attribute__((x)) {` is a structure, `struct s *f(void)` a function).
fn function_declarator(head: &[Tok]) -> Option<(usize, usize)> {
    match declarator(head)? {
        Declarator::Function { name, open } if aggregate_keyword(head).is_none_or(|a| a < name) => {
            Some((name, open))
        }
        _ => None,
    }
}

/// Whether a `{` after the item's tokens `counted` opens a function's body.
pub(super) fn opens_body(text: &str, all: &[Token], counted: &[usize]) -> bool {
    function_declarator(&spelled(text, all, counted)).is_some()
}

/// The index of the first token from `from` on that is no storage class or
/// attribute (with its argument list).
fn skip_attributes(toks: &[Tok], from: usize) -> usize {
    let mut k = from;
    while let Some(t) = toks.get(k) {
        if t.kind != Kind::Word || !is_attribute(t.s) {
            break;
        }
        k += 1;
        if listed(PAREN_ATTRIBUTES, t.s) && toks.get(k).is_some_and(|n| n.s == "(") {
            k = group_end(toks, k) + 1;
        }
    }
    k
}

/// Whether the tokens before a declarator's name are only storage classes
/// and attributes: the item is made by a macro.
fn only_attributes(prefix: &[Tok]) -> bool {
    skip_attributes(prefix, 0) >= prefix.len()
}

/// The arguments of the group opened at `open` that are one identifier
/// each, or one identifier with array brackets.
fn identifier_arguments<'t>(toks: &[Tok<'t>], open: usize) -> Vec<&'t str> {
    let inner = &toks[open + 1..group_end(toks, open)];
    let mut args = Vec::new();
    let mut level = 0usize;
    let mut from = 0;
    for k in 0..=inner.len() {
        let at_comma = inner.get(k).is_none_or(|t| level == 0 && t.s == ",");
        if at_comma {
            // One identifier, or an array of it: `cached_stacks[NR_CACHED_STACKS]`.
            if let [one, rest @ ..] = &inner[from..k] {
                let array = rest.first().is_none_or(|t| t.s == "[");
                if one.kind == Kind::Word && is_identifier(one.s) && array {
                    args.push(one.s);
                }
            }
            from = k + 1;
            continue;
        }
        match inner[k].s {
            "(" | "[" => level += 1,
            ")" | "]" => level = level.saturating_sub(1),
            _ => {}
        }
    }
    args
}

/// The name a declaration declares: the last identifier before its array
/// brackets, initializer, bit-field or next declarator, or the name in a
/// parenthesised pointer.
fn declared_name(toks: &[Tok]) -> Option<String> {
    let mut level = 0usize;
    let mut name: Option<&str> = None;
    let mut last_was_name = false;
    for (k, t) in toks.iter().enumerate() {
        if level > 0 {
            match t.s {
                "(" | "[" => level += 1,
                ")" | "]" => level -= 1,
                _ => {}
            }
            continue;
        }
        match t.s {
            "[" | "," | ":" | "=" | ";" => break,
            "(" if toks.get(k + 1).is_some_and(|n| n.s == "*" || n.s == "^") => {
                return pointer_name(toks, k).map(|n| toks[n].s.to_string());
            }
            "(" if last_was_name => break,
            "(" => level = 1,
            _ if t.kind == Kind::Open => break,
            _ if t.kind == Kind::Word && is_identifier(t.s) => name = Some(t.s),
            _ => {}
        }
        last_was_name = t.kind == Kind::Word && is_identifier(t.s);
    }
    name.map(str::to_string)
}

/// The tokens after the outermost braces, or none when there are no braces.
fn after_braces<'a, 't>(toks: &'a [Tok<'t>]) -> Option<&'a [Tok<'t>]> {
    let close = toks.iter().rposition(|t| t.kind == Kind::Close)?;
    Some(&toks[close + 1..])
}

/// The kind and name of a code item from its tokens outside braces.
pub(super) fn code(text: &str, all: &[Token], counted: &[usize]) -> (TopKind, Option<String>) {
    let toks = spelled(text, all, counted);
    let head = &toks[..head_len(&toks)];
    let has_body = toks.get(head.len()).is_some_and(|t| t.kind == Kind::Open);
    if head.iter().any(|t| t.s == "typedef") {
        let tail = after_braces(&toks).unwrap_or(&toks);
        let after = tail
            .iter()
            .position(|t| t.s == "typedef")
            .map_or(0, |p| p + 1);
        return (TopKind::Type, declared_name(&tail[after..]));
    }
    if let Some((name, open)) = function_declarator(head) {
        let word = head[name].s.to_string();
        let made_by_macro = only_attributes(&head[..name]);
        return match (has_body, made_by_macro) {
            (true, true) => {
                let first = identifier_arguments(head, open)
                    .first()
                    .map(|s| s.to_string());
                (TopKind::MacroFunction { macro_name: word }, first)
            }
            (true, false) => (TopKind::Function, Some(word)),
            (false, true) if listed(PAREN_ATTRIBUTES, &word) => (TopKind::Other, None),
            (false, true) => {
                let last = identifier_arguments(head, open)
                    .last()
                    .map(|s| s.to_string());
                (TopKind::MacroUse { macro_name: word }, last)
            }
            (false, false) => (TopKind::Declaration, Some(word)),
        };
    }
    if let Some(Declarator::Pointer(name)) = declarator(head) {
        return (TopKind::Data, name);
    }
    aggregate_or_data(&toks, head, has_body)
}

/// A structure, union or enumeration, or data of any other type.
fn aggregate_or_data(toks: &[Tok], head: &[Tok], has_body: bool) -> (TopKind, Option<String>) {
    let Some(keyword) = aggregate_keyword(head) else {
        return match declared_name(head) {
            Some(name) => (TopKind::Data, Some(name)),
            None => (TopKind::Other, None),
        };
    };
    // `struct __packed name`, `struct __attribute__((x)) name`.
    let at = skip_attributes(head, keyword + 1);
    let tag = head
        .get(at)
        .filter(|t| t.kind == Kind::Word && is_identifier(t.s))
        .map(|t| t.s.to_string());
    let after_tag = (at + usize::from(tag.is_some())).min(head.len());
    if has_body {
        return match after_braces(toks).and_then(declared_name) {
            Some(variable) => (TopKind::Data, Some(variable)),
            None => (TopKind::Type, tag),
        };
    }
    match declared_name(&head[after_tag..]) {
        Some(variable) => (TopKind::Data, Some(variable)),
        None => (TopKind::Declaration, tag),
    }
}

/// The kind and name of a directive from its tokens.
pub(super) fn directive(text: &str, toks: &[Token]) -> (TopKind, Option<String>) {
    let words: Vec<&Token> = toks.iter().filter(|t| !t.kind.is_comment()).collect();
    let spelling = |k: usize| words.get(k).map(|t| &text[t.start..t.end]);
    match spelling(1) {
        Some("include" | "include_next") => {
            let name = words
                .get(2)
                .zip(words.last())
                .map(|(first, last)| text[first.start..last.end].to_string());
            (TopKind::Include, name)
        }
        Some("define") => {
            let name = words
                .get(2)
                .filter(|t| t.kind == Kind::Word)
                .map(|t| text[t.start..t.end].to_string());
            (TopKind::Define, name)
        }
        _ => (TopKind::Conditional, None),
    }
}
