//! What a live patch takes from a fix, read from the original and the
//! patched text of one source file: the functions it changes (they replace
//! the kernel's), the functions and data it adds (new code and data of the
//! patch module), and what a live patch cannot carry, refused the way
//! kpatch refuses it.

use super::changes::{changed_items, ChangeKind, ItemChange};
use super::compiler_view::CompilerView;
use super::Change;
use crate::c::syscall_definition::SYSCALL_ENTRIES;
use crate::c::top_level::{TopItem, TopKind};
use crate::check::c_decl::{param_types, strip_annotations, ParamTypes};
use crate::codes::Code;
use std::ops::Range;

/// Something the fix changes that the patch module cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    /// The byte range in the patched file, or in the original for an item
    /// the fix removes.
    pub range: Range<usize>,
    pub in_original: bool,
    pub message: String,
    pub help: String,
}

/// What one file's change gives the patch module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// Functions the fix changes: each replaces the kernel's.
    pub replaced: Vec<String>,
    /// Functions the fix adds: new functions of the patch module.
    pub added: Vec<String>,
    /// Data definitions the fix adds, as byte ranges of the patched file.
    pub added_data: Vec<Range<usize>>,
    /// Functions whose only change is that they moved while they print or
    /// use their line numbers, with where their names are in the patched
    /// file; they are left as the kernel has them, as kpatch leaves them.
    pub moved: Vec<(String, Range<usize>)>,
    pub refusals: Vec<Refusal>,
    /// Functions the fix removes, with where their names are in the
    /// original: the running kernel keeps them, and nothing the patch
    /// module replaces calls them any more.
    pub removed: Vec<(String, Range<usize>)>,
    /// The entry points of system calls whose code changed, such as
    /// `__x64_sys_newuname`, defined by `SYSCALL_DEFINEn` in the file.
    pub syscalls: Vec<String>,
    /// `static` functions whose prototype the fix changes: allowed when the
    /// kernel has them only inlined, so that every caller is replaced.
    pub prototype_changed: Vec<String>,
    /// For a header: the `static inline` functions the fix changes or adds,
    /// which every file that uses them is compiled with.
    pub header_functions: Vec<String>,
}

impl Derived {
    /// Whether the fix gives the patch module anything to do.
    pub fn is_empty(&self) -> bool {
        self.replaced.is_empty()
            && self.added.is_empty()
            && self.added_data.is_empty()
            && self.syscalls.is_empty()
            && self.header_functions.is_empty()
    }
}

/// Words of a definition's head that put a function into code the kernel
/// runs only while it boots or while a module loads or leaves.
const INIT_WORDS: &[&str] = &["__init", "__exit", "__meminit", "__devinit"];

const INIT_HELP: &str = "the kernel has run and freed `__init` code before a live patch can load, and a patch cannot reach code it already ran; fix the state that code left behind instead, in a `pre_patch` callback";

/// Reads what the fix does to the source file `path` (`fs/proc/cmdline.c`).
pub fn derive(path: &str, original: &str, patched: &str) -> Derived {
    let mut derived = Derived::default();
    let changes = changed_items(original, patched);
    if !path.ends_with(".c") {
        derive_header(path, &changes, patched, &mut derived);
        return derived;
    }
    for change in &changes {
        derive_one(change, original, patched, &mut derived);
    }
    let macros: Vec<&str> = changes
        .iter()
        .filter(|c| matches!(c.item_kind, TopKind::Define))
        .filter_map(|c| c.name.as_deref())
        .collect();
    if !macros.is_empty() {
        functions_using(&macros, patched, &mut derived);
    }
    derived
}

/// Adds what one changed item gives, or its refusal.
fn derive_one(change: &ItemChange, original: &str, patched: &str, derived: &mut Derived) {
    let name = change.name.clone().unwrap_or_default();
    let patched_item = change.patched.as_ref();
    let original_item = change.original.as_ref();
    let refuse =
        |code: Code, item: &TopItem, in_original: bool, message: String, help: &str| Refusal {
            code,
            range: item.text_range.clone(),
            in_original,
            message,
            help: help.to_string(),
        };
    match (&change.kind, &change.item_kind, original_item, patched_item) {
        (ChangeKind::Moved { .. }, TopKind::Function, _, Some(new)) if change.uses_line => {
            let at = name_range(patched, new, &name);
            derived.moved.push((name, at));
        }
        (ChangeKind::Moved { .. }, _, _, _) => {}
        (ChangeKind::Changed, TopKind::Function, Some(old), Some(new)) => {
            let old_text = &original[old.text_range.clone()];
            let new_text = &patched[new.text_range.clone()];
            if has_init_word(old_text) || has_init_word(new_text) {
                derived.refusals.push(refuse(
                    Code::FixChangesInit,
                    new,
                    false,
                    format!("the fix changes `{name}`, which is `__init` or `__exit` code"),
                    INIT_HELP,
                ));
            } else if head_of(old_text, &name) != head_of(new_text, &name) && is_static(new_text) {
                // Sound only if the kernel has no out-of-line copy for old
                // callers to reach; rule 12 checks that against its facts.
                derived.prototype_changed.push(name.clone());
                derived.replaced.push(name);
            } else if head_of(old_text, &name) != head_of(new_text, &name) {
                derived.refusals.push(refuse(
                    Code::FixChangesPrototype,
                    new,
                    false,
                    format!("the fix changes the prototype of `{name}`"),
                    "callers compiled against the old prototype keep calling the new function with the old arguments; keep the prototype and pass the new value another way (a shadow variable), or add a new function and replace every caller",
                ));
            } else {
                derived.replaced.push(name);
            }
        }
        (ChangeKind::Added, TopKind::Function, _, Some(_)) => derived.added.push(name),
        (ChangeKind::Removed, TopKind::Function, Some(old), _) => {
            let at = name_range(original, old, &name);
            derived.removed.push((name, at));
        }
        (ChangeKind::Changed, TopKind::Type, _, Some(new)) => derived.refusals.push(refuse(
            Code::FixChangesLayout,
            new,
            false,
            format!("the fix changes the definition of `{name}`"),
            "objects of the type already exist in the running kernel with the old layout, and code that is not patched keeps using it; keep the type and attach the new fields with a `shadow` variable",
        )),
        (ChangeKind::Changed, TopKind::Data | TopKind::MacroUse { .. }, _, Some(new)) => {
            derived.refusals.push(refuse(
                Code::FixChangesData,
                new,
                false,
                format!("the fix changes the definition or initial value of `{name}`"),
                "the running kernel initialised this data when it booted, and a live patch does not run initialisers again; set the new value in a `pre_patch` callback, or keep new state in the patch module's own data",
            ))
        }
        (ChangeKind::Added, TopKind::Data, _, Some(new)) => {
            derived.added_data.push(new.text_range.clone())
        }
        // A new `static DEFINE_MUTEX(...)` is new data; a new export is
        // the kernel's business, not the patch module's.
        (ChangeKind::Added, TopKind::MacroUse { macro_name }, _, Some(new))
            if !macro_name.starts_with("EXPORT_SYMBOL") =>
        {
            derived.added_data.push(new.text_range.clone())
        }
        (ChangeKind::Removed, TopKind::Data | TopKind::Type, Some(old), _) => {
            derived.refusals.push(refuse(
                Code::FixChangesData,
                old,
                true,
                format!("the fix removes `{name}`"),
                "unpatched code of the running kernel still uses it; leave it in the source and stop using it in the changed functions",
            ))
        }
        // A changed system call: the compiler's view says which entry points changed.
        // Its entry points are only known to the compiler: the text marks it.
        (ChangeKind::Changed, TopKind::MacroFunction { macro_name }, _, Some(_))
            if is_syscall_macro(macro_name) =>
        {
            derived.syscalls.push(name)
        }
        (ChangeKind::Changed | ChangeKind::Added, TopKind::MacroFunction { macro_name }, _, Some(new)) => {
            derived.refusals.push(refuse(
                Code::FixNotDerived,
                new,
                false,
                format!("the fix changes `{name}`, a function that `{macro_name}` defines"),
                "kgpc does not yet derive functions made by macros; write the replacement in the spec (`kgpc source` prints the target's definition)",
            ))
        }
        _ => {}
    }
}

/// What a fix to a header gives: its changed `static inline` functions,
/// which the files that use them are compiled with (the source stage finds
/// them), and added `#include` lines; any other change is refused.
fn derive_header(path: &str, changes: &[ItemChange], patched: &str, derived: &mut Derived) {
    for change in changes {
        let inline_function = matches!(change.item_kind, TopKind::Function)
            && matches!(change.kind, ChangeKind::Changed | ChangeKind::Added)
            && change
                .patched
                .as_ref()
                .is_some_and(|item| is_static_inline(&patched[item.text_range.clone()]));
        let added_include = matches!(change.item_kind, TopKind::Include)
            && matches!(change.kind, ChangeKind::Added);
        match &change.name {
            Some(name) if inline_function => derived.header_functions.push(name.clone()),
            _ if inline_function || added_include => {}
            _ if matches!(change.kind, ChangeKind::Moved { .. }) && !change.uses_line => {}
            _ => {
                derived.refusals.push(header_refusal(path, change));
                return;
            }
        }
    }
}

/// Whether a definition's head says `static` and `inline` (or `__always_inline`).
fn is_static_inline(definition: &str) -> bool {
    let head = definition.split('{').next().unwrap_or("");
    let words: Vec<&str> = head
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    words.contains(&"static")
        && words
            .iter()
            .any(|w| matches!(*w, "inline" | "__inline" | "__inline__" | "__always_inline"))
}

/// The refusal of a change to a header that kgpc cannot follow into the
/// files that include it: a macro, a type, a declaration.
fn header_refusal(path: &str, change: &ItemChange) -> Refusal {
    let item = change.patched.as_ref().or(change.original.as_ref());
    Refusal {
        code: Code::FixNotDerived,
        range: item.map(|i| i.text_range.clone()).unwrap_or(0..0),
        in_original: change.patched.is_none(),
        message: format!("the fix changes the header `{path}`"),
        help: "kgpc follows a header's changed `static inline` functions into the files that use them, but not yet its macros, types or declarations; change the functions that use it in their `.c` files, or replace those functions in the spec".to_string(),
    }
}

/// Adds the functions of the file that use a changed macro, as the
/// compiler sees them changed too.
fn functions_using(macros: &[&str], patched: &str, derived: &mut Derived) {
    for item in crate::c::top_level::top_level_items(patched) {
        let (TopKind::Function, Some(name)) = (&item.kind, &item.name) else {
            continue;
        };
        if derived.replaced.contains(name) || derived.added.contains(name) {
            continue;
        }
        let text = &patched[item.text_range.clone()];
        let uses = crate::check::c_uses::identifiers(text);
        if macros.iter().any(|m| uses.contains(*m)) {
            derived.replaced.push(name.clone());
        }
    }
}

/// Where an item's name is in `text`: its first word of code that is the
/// name, else the item's first line.
fn name_range(text: &str, item: &TopItem, name: &str) -> Range<usize> {
    let range = item.text_range.clone();
    let item_text = &text[range.clone()];
    let found = crate::c::lexer::tokens(item_text)
        .into_iter()
        .find(|t| t.kind == crate::c::lexer::Kind::Word && &item_text[t.start..t.end] == name);
    match found {
        Some(t) => range.start + t.start..range.start + t.end,
        None => {
            let line_end = item_text.find('\n').unwrap_or(item_text.len());
            range.start..range.start + line_end
        }
    }
}

/// Whether a macro defines a system call.
fn is_syscall_macro(name: &str) -> bool {
    name.starts_with("SYSCALL_DEFINE")
}

/// The `SYSCALL_DEFINEn` item of the file that defines the entry point
/// `name` (`__x64_sys_newuname` → `SYSCALL_DEFINE1(newuname, ...)`).
pub fn syscall_entry<'i>(name: &str, items: &'i [TopItem]) -> Option<&'i TopItem> {
    let call = SYSCALL_ENTRIES
        .iter()
        .find_map(|(prefix, ..)| name.strip_prefix(prefix))
        .or_else(|| name.strip_prefix("__do_sys_"))?;
    items.iter().find(|i| {
        matches!(&i.kind, TopKind::MacroFunction { macro_name } if is_syscall_macro(macro_name))
            && i.name.as_deref() == Some(call)
    })
}

/// Whether a definition's head says `static`.
fn is_static(definition: &str) -> bool {
    let head = definition.split('{').next().unwrap_or_default();
    head.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == "static")
}

fn has_init_word(definition: &str) -> bool {
    let head = definition.split('{').next().unwrap_or_default();
    head.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| INIT_WORDS.contains(&w))
}

/// A definition's head (return type and parameter types), for comparing
/// prototypes: renaming a parameter does not change a prototype.
fn head_of(definition: &str, name: &str) -> Option<(String, ParamTypes)> {
    crate::c::signature::split_definition(definition, name).map(|p| {
        (
            strip_annotations(&p.return_type)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            param_types(&p.params),
        )
    })
}

/// What the fix gives the patch module once the compiler has had its say:
/// the functions whose code changed (callers that hold an inlined copy of a
/// changed function among them), those it adds, and those whose only change
/// is their line numbers, replace what the text suggested. A change the
/// text sees but the compiler does not (under `#ifdef` of an option the
/// target lacks) replaces nothing; `__init` code the compiler placed in
/// `.init.text` is refused even when no `__init` word is in sight.
///
/// `header_functions` are the `static inline` functions the fix changes in
/// headers: where the object has one out of line (a copy of its own, or a
/// gcc clone), the functions of the file that call that copy are replaced,
/// since they are compiled again with the patched header.
pub fn with_compiler_view(
    text: Derived,
    view: &CompilerView,
    patched: &str,
    header_functions: &[String],
) -> Derived {
    let items = crate::c::top_level::top_level_items(patched);
    let function_item = |name: &str| {
        items
            .iter()
            .find(|i| matches!(i.kind, TopKind::Function) && i.name.as_deref() == Some(name))
    };
    let mut derived = Derived {
        added_data: text.added_data,
        refusals: text.refusals,
        prototype_changed: text.prototype_changed,
        removed: text.removed,
        // A new function the compiler inlined into all its callers has no
        // code of its own in the object; the text knows it.
        added: text
            .added
            .into_iter()
            .filter(|name| view.changes.function(name).is_none())
            .collect(),
        ..Derived::default()
    };
    for function in &view.changes.functions {
        let name = &function.name;
        let item = function_item(name);
        let at = |item: &TopItem| name_range(patched, item, name);
        match (function.change, item) {
            (Change::Unchanged | Change::Removed, _) => {}
            (Change::Changed | Change::Added, Some(item)) if function.init => {
                derived.refusals.push(Refusal {
                    code: Code::FixChangesInit,
                    range: at(item),
                    in_original: false,
                    message: format!("the fix changes `{name}`, which is `__init` or `__exit` code"),
                    help: INIT_HELP.to_string(),
                })
            }
            (Change::LineOnly, Some(item)) => derived.moved.push((name.clone(), at(item))),
            (Change::Changed, Some(_)) => derived.replaced.push(name.clone()),
            (Change::Added, Some(_)) => derived.added.push(name.clone()),
            (Change::LineOnly, None) => {}
            (Change::Changed | Change::Added, None) if header_functions.contains(name) => {}
            (Change::Changed, None) if syscall_entry(name, &items).is_some() => {
                derived.syscalls.push(name.clone())
            }
            // `__se_sys_X` is inlined into the entry points, which are replaced.
            (Change::Changed, None) if name.starts_with("__se_sys_") => {}
            (Change::Changed | Change::Added, None) => derived.refusals.push(Refusal {
                code: Code::FixNotDerived,
                range: 0..0,
                in_original: false,
                message: format!(
                    "the compiled fix changes `{name}`, whose definition kgpc cannot find in the file"
                ),
                help: "a macro probably defines it; write its replacement in the spec (`kgpc source` prints the target's definition)".to_string(),
            }),
        }
    }
    for caller in callers_of_header_copies(view, header_functions) {
        if function_item(&caller).is_some() && !derived.replaced.contains(&caller) {
            derived.replaced.push(caller);
        }
    }
    derived
}

/// The functions of the object that call, directly or through other
/// header functions, an out-of-line copy of a changed header function.
fn callers_of_header_copies(view: &CompilerView, header_functions: &[String]) -> Vec<String> {
    let changed = |name: &str| {
        view.changes
            .function(name)
            .is_some_and(|f| matches!(f.change, Change::Changed | Change::Added))
    };
    let mut wanted: Vec<String> = header_functions
        .iter()
        .filter(|name| changed(name))
        .cloned()
        .collect();
    let mut callers: Vec<String> = Vec::new();
    while let Some(callee) = wanted.pop() {
        for function in &view.changes.functions {
            let name = &function.name;
            if !function.local_functions.contains(&callee) || callers.contains(name) {
                continue;
            }
            callers.push(name.clone());
            if header_functions.contains(name) {
                wanted.push(name.clone());
            }
        }
    }
    callers.retain(|name| !header_functions.contains(name));
    callers.sort();
    callers
}
