//! Rule 11: the symbols a body uses that the kernel does not export.
//!
//! A body may call a function or read a variable that the target object
//! defines without exporting it, because a header declares it. The module
//! then builds, and the kernel refuses it with "Unknown symbol". Each such
//! use that the spec does not declare (`extern`, `helper`, `data`, the
//! accessors kgpc generates) is reported at the use, with the `extern`
//! declaration to add, typed from DWARF. A `static` function of a `.c` file
//! that exists only as inlined copies has no symbol at all: it is reported
//! with the advice to copy it as a `helper`. A `static inline` of a header
//! needs nothing: the body gets its own copy.
//!
//! [`find`] is also what `kgpc build` uses to explain the undefined symbols
//! of a built module (KGP0204).

use super::c_uses::{identifiers, parameter_names, uses, Use};
use super::model::{Fragment, Function, Model, Object};
use super::name_list::name_list;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::index::flag;
use crate::kernel::{Kernel, Symbol};
use crate::source::Span;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The names a spec declares or kgpc generates, which bodies may use freely.
pub struct SpecNames(HashSet<String>);

impl SpecNames {
    pub fn of(model: &Model) -> SpecNames {
        let mut names = HashSet::new();
        for object in &model.objects {
            names.extend(object.externs.iter().map(|e| e.name.clone()));
            names.extend(object.funcs.iter().map(|f| f.function.c_name.clone()));
        }
        names.extend(model.helpers.iter().map(|h| h.c_name.clone()));
        // The context kgpc copied from a source file declares nothing of the
        // patch module's own: what its headers name is still the kernel's.
        let copied: Vec<_> = model
            .fix
            .iter()
            .flat_map(|f| f.files.iter().map(|s| s.patched))
            .collect();
        for fragment in &model.data {
            if copied.contains(&fragment.span.file) {
                // What the context's kept macros define is the module's own.
                names.extend(crate::c::kept_macros::functions_of_kept_macros(
                    &fragment.text,
                ));
            } else {
                names.extend(identifiers(&fragment.text));
            }
        }
        for shadow in &model.shadows {
            for suffix in [
                "get",
                "alloc",
                "get_or_alloc",
                "free",
                "free_all",
                "ctor",
                "dtor",
            ] {
                names.insert(format!("{}_{suffix}", shadow.name));
            }
            names.extend(identifiers(&shadow.payload.text));
        }
        SpecNames(names)
    }

    /// Adds a name the patch module declares or defines.
    pub fn insert(&mut self, name: String) {
        self.0.insert(name);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

/// Where a symbol that a module cannot link against is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The object defines it without exporting it: an `extern` makes it a
    /// livepatch relocation.
    NotExported {
        object: String,
        /// Its source file.
        file: Option<String>,
        /// Its C declaration from DWARF (or BTF), such as `int nr_processes(void)`.
        declaration: Option<String>,
        /// How many symbols of the object have the name, and the one meant
        /// when it is a single global.
        same_name: u64,
        sympos: u64,
    },
    /// A `static` function of a `.c` file that exists only inlined into its callers.
    InlineOnly {
        object: String,
        file: String,
        callers: Vec<String>,
    },
}

impl Origin {
    pub fn object(&self) -> &str {
        match self {
            Origin::NotExported { object, .. } | Origin::InlineOnly { object, .. } => object,
        }
    }

    /// Where it is, for a note.
    pub fn note(&self, name: &str) -> String {
        match self {
            Origin::NotExported {
                object,
                file,
                same_name,
                ..
            } => {
                let place = file.as_deref().map_or(String::new(), |f| format!(" in {f}"));
                let more = if *same_name > 1 {
                    format!(" ({same_name} symbols have that name)")
                } else {
                    String::new()
                };
                format!("{object} defines `{name}`{place} and does not export it{more}")
            }
            Origin::InlineOnly {
                object,
                file,
                callers,
            } => format!(
                "`{name}` is a static function of {file} that exists only inlined into its callers in {object} ({}); it has no symbol to link against",
                name_list(callers, 5)
            ),
        }
    }

    /// What to write in the spec, for a help.
    pub fn help(&self, name: &str) -> String {
        match self {
            Origin::NotExported {
                object,
                declaration,
                same_name,
                sympos,
                ..
            } => {
                let declaration = declaration
                    .clone()
                    .unwrap_or_else(|| format!("TYPE {name}"));
                let position = match (*same_name, *sympos) {
                    (0 | 1, _) => String::new(),
                    (_, 0) => " sympos N".to_string(),
                    (_, n) => format!(" sympos {n}"),
                };
                let which = if *same_name > 1 && *sympos == 0 {
                    ", N being the position of the one meant (`kgpc inspect` lists them)"
                } else {
                    ""
                };
                format!("declare it in `object {object}`: `extern {declaration}{position};`{which}")
            }
            Origin::InlineOnly { file, .. } => format!(
                "copy `{name}` from {file} into the spec as a `helper` (under another name if a header declares it)"
            ),
        }
    }
}

fn is_header(file: &str) -> bool {
    file.ends_with(".h")
}

/// Where `name` comes from in `kernels` (searched in order), when a module
/// cannot link against it; `None` when it is exported, a header's
/// `static inline`, or unknown to them. `call` says the use calls it: only a
/// call reaches a `static` function (other names could be the body's own).
/// `inline_files` gives, per kernel, where inline-only functions were declared.
pub fn find(
    kernels: &[&Kernel],
    name: &str,
    call: bool,
    inline_files: &[HashMap<String, Option<String>>],
) -> Option<Origin> {
    for (k, kernel) in kernels.iter().enumerate() {
        let index = kernel.index();
        let symbols: Vec<Symbol> = index
            .symbols_named(name)
            .into_iter()
            .filter(|s| s.has(flag::FUNC) || s.has(flag::OBJECT))
            .collect();
        if !symbols.is_empty() {
            if symbols.iter().any(|s| s.has(flag::EXPORTED)) || index.is_exported(name) {
                return None;
            }
            let globals: Vec<&Symbol> = symbols.iter().filter(|s| !s.has(flag::LOCAL)).collect();
            let meant: Vec<&Symbol> = if !globals.is_empty() {
                globals
            } else if call {
                symbols.iter().collect()
            } else {
                continue;
            };
            if meant.iter().any(|s| {
                s.function
                    .as_ref()
                    .and_then(|f| f.decl_file.as_deref())
                    .is_some_and(is_header)
            }) {
                return None;
            }
            let first = meant[0];
            let declaration = kernel.declaration_of(first, None);
            let file = first.file().map(str::to_string).or_else(|| {
                index
                    .variables_named(name)
                    .first()
                    .map(|v| v.cu.clone())
                    .filter(|cu| !cu.is_empty())
            });
            return Some(Origin::NotExported {
                object: kernel.object_name.clone(),
                file,
                declaration,
                same_name: first.same_name,
                sympos: if meant.len() == 1 { first.sympos() } else { 0 },
            });
        }
        if !call {
            continue;
        }
        let callers = index.inlined_into(name);
        if callers.is_empty() {
            continue;
        }
        // A header's inline, or one DWARF does not place: nothing to report.
        let file = inline_files
            .get(k)
            .and_then(|files| files.get(name).cloned())
            .flatten()?;
        if is_header(&file) {
            return None;
        }
        return Some(Origin::InlineOnly {
            object: kernel.object_name.clone(),
            file,
            callers,
        });
    }
    None
}

/// Reads, per kernel, where the inline-only functions among `names` were declared.
pub fn inline_files(kernels: &[&Kernel], names: &[&str]) -> Vec<HashMap<String, Option<String>>> {
    kernels
        .iter()
        .map(|kernel| {
            let index = kernel.index();
            let wanted: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| index.symbols_named(n).is_empty() && !index.inlined_into(n).is_empty())
                .collect();
            kernel.inlined_origin_files(&wanted)
        })
        .collect()
}

/// A body and the names it has from its context.
struct Body<'a> {
    fragment: &'a Fragment,
    params: HashSet<String>,
}

fn body(fragment: &Fragment, params: HashSet<String>) -> Body<'_> {
    Body { fragment, params }
}

/// The names the generated code gives a shadow's constructor and destructor.
fn shadow_params() -> HashSet<String> {
    ["obj", "shadow", "obj_data", "shadow_data", "ctor_data"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The bodies of one object: its replacements and callbacks.
fn object_bodies(object: &Object) -> Vec<Body<'_>> {
    let mut bodies = Vec::new();
    for func in &object.funcs {
        bodies.push(body(
            &func.function.body,
            parameter_names(&func.function.params),
        ));
    }
    for callback in &object.callbacks {
        bodies.push(body(&callback.body, ["obj".to_string()].into()));
    }
    bodies
}

/// The bodies that belong to no object: helpers, shadow constructors and destructors.
fn shared_bodies(model: &Model) -> Vec<Body<'_>> {
    let mut bodies = Vec::new();
    for helper in &model.helpers {
        bodies.push(body(&helper.body, parameter_names(&helper.params)));
    }
    for shadow in &model.shadows {
        for code in shadow.ctor.iter().chain(&shadow.dtor) {
            bodies.push(body(code, shadow_params()));
        }
    }
    bodies
}

/// Checks the bodies of one object's replacements and callbacks against
/// `kernels`: the object itself first, then vmlinux for a module.
pub fn check_object(
    object: &Object,
    names: &SpecNames,
    kernels: &[&Kernel],
    diagnostics: &mut Diagnostics,
) {
    check_bodies(&object_bodies(object), names, kernels, diagnostics);
}

/// Checks the helpers kgpc took from the source of one object's files,
/// once rule 12 has derived what they use, against `kernels`: the object
/// itself first, then vmlinux for a module.
pub fn check_copied(
    helpers: &[&Function],
    names: &SpecNames,
    kernels: &[&Kernel],
    diagnostics: &mut Diagnostics,
) {
    let bodies: Vec<Body<'_>> = helpers
        .iter()
        .map(|h| body(&h.body, parameter_names(&h.params)))
        .collect();
    check_bodies(&bodies, names, kernels, diagnostics);
}

/// Checks the bodies that belong to no object against vmlinux.
pub fn check_shared(
    model: &Model,
    names: &SpecNames,
    vmlinux: &Kernel,
    diagnostics: &mut Diagnostics,
) {
    check_bodies(&shared_bodies(model), names, &[vmlinux], diagnostics);
}

/// The first place a body of the spec uses `name`.
pub fn first_use(model: &Model, name: &str) -> Option<Span> {
    let mut bodies = shared_bodies(model);
    for object in &model.objects {
        bodies.extend(object_bodies(object));
    }
    bodies.iter().find_map(|b| {
        uses(&b.fragment.text, &b.params)
            .into_iter()
            .find(|u| u.name == name)
            .map(|u| use_span(b.fragment, &u))
    })
}

/// Where a use is in the sources.
fn use_span(fragment: &Fragment, u: &Use) -> Span {
    let span = fragment.span;
    if span.end - span.start == fragment.text.len() {
        Span::new(
            span.file,
            span.start + u.offset,
            span.start + u.offset + u.name.len(),
        )
    } else {
        span
    }
}

fn check_bodies(
    bodies: &[Body<'_>],
    names: &SpecNames,
    kernels: &[&Kernel],
    diagnostics: &mut Diagnostics,
) {
    // Every use of each outside name, in order, and whether any use calls it.
    let mut found: BTreeMap<String, (bool, Vec<Span>)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for b in bodies {
        for u in uses(&b.fragment.text, &b.params) {
            if names.contains(&u.name) {
                continue;
            }
            let entry = found.entry(u.name.clone()).or_insert_with(|| {
                order.push(u.name.clone());
                (false, Vec::new())
            });
            entry.0 |= u.call;
            entry.1.push(use_span(b.fragment, &u));
        }
    }
    if found.is_empty() {
        return;
    }
    let calls: Vec<&str> = found
        .iter()
        .filter(|(_, (call, _))| *call)
        .map(|(n, _)| n.as_str())
        .collect();
    let files = inline_files(kernels, &calls);
    for name in order {
        let (call, spans) = &found[&name];
        let Some(origin) = find(kernels, &name, *call, &files) else {
            continue;
        };
        let message = match &origin {
            Origin::NotExported { object, .. } => {
                format!("`{name}` is not exported by {object}; the module cannot link against it")
            }
            Origin::InlineOnly { object, .. } => {
                format!(
                    "`{name}` exists only inlined in {object}; the module cannot link against it"
                )
            }
        };
        let mut d =
            Diagnostic::error(Code::UnexportedSymbolUsed, message).at(spans[0], "used here");
        for span in &spans[1..] {
            d = d.also(*span, "and here");
        }
        d = d.with_note(origin.note(&name));
        if matches!(origin, Origin::NotExported { .. }) {
            d = d.with_note("the module loader would refuse the module with \"Unknown symbol\"");
        }
        diagnostics.push(d.with_help(origin.help(&name)));
    }
}
