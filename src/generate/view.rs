//! The data the templates see: the model with every value already escaped
//! and every C fragment re-indented, plus the header comment's lines.

use super::c_text::{c_comment, c_string, reindent};
use super::GenerateOptions;
use crate::c::words::one_line;
use crate::check::model::{CallbackKind, Fragment, Function, Model, Object};
use serde::Serialize;

/// A placeholder the templates put where `#line` must return to the generated file.
const RESTORE: &str = "#line KGPC_RESTORE";

#[derive(Serialize)]
pub struct View {
    kgpc_version: &'static str,
    module_name: String,
    spec: String,
    header: Vec<String>,
    includes: Vec<String>,
    has_externs: bool,
    /// The modules the patch patches, as C identifiers.
    patched_modules: Vec<String>,
    data: Vec<FragmentView>,
    objects: Vec<ObjectView>,
    shadows: Vec<ShadowView>,
    states: Vec<StateView>,
    helpers: Vec<FunctionView>,
    cumulative: bool,
    description: Option<String>,
    authors: Vec<String>,
}

#[derive(Serialize)]
struct FragmentView {
    line: usize,
    file: String,
    text: String,
}

#[derive(Serialize)]
struct FunctionView {
    c_name: String,
    signature: String,
    origin: FragmentView,
    body: FragmentView,
    old_name: String,
    sympos: u64,
    source_file: Option<String>,
}

#[derive(Serialize)]
struct CallbackView {
    kind: &'static str,
    fn_name: String,
    return_type: &'static str,
    body: FragmentView,
}

#[derive(Serialize)]
struct CallbackRef {
    kind: &'static str,
    fn_name: String,
}

#[derive(Serialize)]
struct ExternView {
    name: String,
    declaration: String,
    sympos: u64,
    line: usize,
    file: String,
}

#[derive(Serialize)]
struct ObjectView {
    ident: String,
    module: Option<String>,
    display: String,
    funcs: Vec<FunctionView>,
    callbacks: Vec<CallbackView>,
    callback_refs: Vec<CallbackRef>,
    externs: Vec<ExternView>,
    free_shadows: Vec<String>,
    user_post_unpatch: Option<String>,
}

#[derive(Serialize)]
struct ShadowView {
    name: String,
    id: u64,
    id_macro: String,
    owner: String,
    gfp: String,
    payload: FragmentView,
    ctor: Option<FragmentView>,
    dtor: Option<FragmentView>,
    ctor_fn: String,
    dtor_fn: String,
    free_on_unpatch: bool,
    template: Option<String>,
}

#[derive(Serialize)]
struct StateView {
    id_macro: String,
    id: String,
    version: u64,
}

pub fn build(model: &Model, options: &GenerateOptions, c_name: &str) -> View {
    let name_of = |file: &str| -> String {
        let shown = options
            .path_names
            .iter()
            .find(|(from, _)| from == file)
            .map_or(file, |(_, to)| to.as_str());
        c_string(shown)
    };
    let fragment = |f: &Fragment, depth: usize| -> FragmentView {
        let (text, dropped) = reindent(&f.text, depth);
        FragmentView {
            line: f.line + dropped,
            file: name_of(&f.file),
            text,
        }
    };
    let function =
        |f: &Function, old_name: &str, sympos: u64, source_file: Option<&String>| -> FunctionView {
            let separator = if f.return_type.ends_with('*') {
                ""
            } else {
                " "
            };
            FunctionView {
                c_name: f.c_name.clone(),
                signature: format!(
                    "{}{separator}{}{}",
                    f.return_type,
                    f.c_name,
                    one_line(&f.params, "\t")
                ),
                origin: FragmentView {
                    line: f.origin.line,
                    file: name_of(&f.origin.file),
                    text: String::new(),
                },
                body: fragment(&f.body, 1),
                old_name: old_name.to_string(),
                sympos,
                source_file: source_file.map(|s| c_comment(s)),
            }
        };

    let freed: Vec<String> = model
        .shadows
        .iter()
        .filter(|s| s.free_on_unpatch)
        .map(|s| s.name.clone())
        .collect();
    let mut objects: Vec<ObjectView> = model
        .objects
        .iter()
        .map(|o| object_view(o, &fragment, &function))
        .collect();
    if !freed.is_empty() {
        if !objects.iter().any(|o| o.module.is_none()) {
            let empty = Object {
                module: None,
                span: crate::source::Span::new(crate::source::FileId(0), 0, 0),
                ident: "vmlinux".into(),
                funcs: Vec::new(),
                callbacks: Vec::new(),
                externs: Vec::new(),
            };
            objects.insert(0, object_view(&empty, &fragment, &function));
        }
        let vmlinux = objects
            .iter_mut()
            .find(|o| o.module.is_none())
            .expect("inserted above");
        vmlinux.free_shadows = freed;
        let kind = CallbackKind::PostUnpatch.keyword();
        vmlinux.user_post_unpatch = vmlinux
            .callback_refs
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| c.fn_name.clone());
        vmlinux.callback_refs.retain(|c| c.kind != kind);
        vmlinux.callback_refs.push(CallbackRef {
            kind,
            fn_name: "livepatch_post_unpatch".into(),
        });
    }

    let shadows = model
        .shadows
        .iter()
        .map(|s| ShadowView {
            name: s.name.clone(),
            id: s.id,
            id_macro: format!("{}_SHADOW_ID", s.name.to_uppercase()),
            owner: s.owner.clone(),
            gfp: s.gfp.clone(),
            payload: fragment(&s.payload, 1),
            ctor: s.ctor.as_ref().map(|f| fragment(f, 1)),
            dtor: s.dtor.as_ref().map(|f| fragment(f, 1)),
            ctor_fn: if s.ctor.is_some() {
                format!("{}_ctor", s.name)
            } else {
                "NULL".into()
            },
            dtor_fn: if s.dtor.is_some() {
                format!("{}_dtor", s.name)
            } else {
                "NULL".into()
            },
            free_on_unpatch: s.free_on_unpatch,
            template: s.template.clone(),
        })
        .collect();
    let states = model
        .states
        .iter()
        .map(|s| StateView {
            id_macro: format!("{}_STATE_ID", s.name.to_uppercase()),
            id: format!("{:#x}", s.id),
            version: s.version,
        })
        .collect();
    let helpers = model
        .helpers
        .iter()
        .map(|h| function(h, "", 0, None))
        .collect();

    View {
        kgpc_version: env!("CARGO_PKG_VERSION"),
        module_name: model.patch.module_name.clone(),
        spec: model
            .inputs
            .first()
            .map(|i| name_of(&i.name))
            .unwrap_or_default()
            .replace('\n', " "),
        header: header(model, &name_of, c_name),
        includes: model.includes.clone(),
        has_externs: model.objects.iter().any(|o| !o.externs.is_empty()),
        patched_modules: model
            .objects
            .iter()
            .filter(|o| o.module.is_some())
            .map(|o| o.ident.clone())
            .collect(),
        data: model.data.iter().map(|d| fragment(d, 0)).collect(),
        objects,
        shadows,
        states,
        helpers,
        cumulative: model.patch.cumulative,
        description: model.patch.description.as_deref().map(c_string),
        authors: model.patch.authors.iter().map(|a| c_string(a)).collect(),
    }
}

/// Renders a replacement: the function, its old name, position and source file.
type FunctionRenderer<'a> = dyn Fn(&Function, &str, u64, Option<&String>) -> FunctionView + 'a;

fn object_view(
    o: &Object,
    fragment: &dyn Fn(&Fragment, usize) -> FragmentView,
    function: &FunctionRenderer,
) -> ObjectView {
    let callbacks: Vec<CallbackView> = o
        .callbacks
        .iter()
        .map(|c| CallbackView {
            kind: c.kind.keyword(),
            fn_name: format!("{}_{}", o.ident, c.kind.keyword()),
            return_type: if c.kind == CallbackKind::PrePatch {
                "int"
            } else {
                "void"
            },
            body: fragment(&c.body, 1),
        })
        .collect();
    ObjectView {
        ident: o.ident.clone(),
        module: o.module.clone(),
        display: o.display_name().to_string(),
        funcs: o
            .funcs
            .iter()
            .map(|r| function(&r.function, &r.old_name, r.sympos, r.source_file.as_ref()))
            .collect(),
        callback_refs: callbacks
            .iter()
            .map(|c| CallbackRef {
                kind: c.kind,
                fn_name: c.fn_name.clone(),
            })
            .collect(),
        callbacks,
        externs: o
            .externs
            .iter()
            .map(|e| ExternView {
                name: e.name.clone(),
                declaration: one_line(&e.declaration, "\t"),
                sympos: e.sympos,
                line: e.origin.line,
                file: fragment(&e.origin, 0).file,
            })
            .collect(),
        free_shadows: Vec::new(),
        user_post_unpatch: None,
    }
}

/// The lines of the header comment that explain the module.
fn header(model: &Model, name_of: &dyn Fn(&str) -> String, c_name: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let p = &model.patch;
    if let Some(d) = &p.description {
        for line in d.lines() {
            lines.push(c_comment(line));
        }
        lines.push(String::new());
    }
    let mut inputs = model.inputs.iter();
    if let Some(spec) = inputs.next() {
        lines.push(format!(
            "Spec:      {} (sha256 {})",
            c_comment(&name_of(&spec.name)),
            spec.sha256
        ));
    }
    for input in inputs {
        lines.push(format!(
            "Reads:     {} (sha256 {})",
            c_comment(&name_of(&input.name)),
            input.sha256
        ));
    }
    let t = &model.target;
    lines.push(format!(
        "Target:    {} ({}, Linux {})",
        c_comment(&t.release),
        t.arch,
        t.version
    ));
    lines.push(format!(
        "           chosen as {}",
        c_comment(&t.release_source)
    ));
    if t.releases.len() > 1 || t.releases.first() != Some(&t.release) {
        lines.push(format!(
            "           the spec targets {}",
            c_comment(&t.releases.join(", "))
        ));
    }
    if let Some(id) = &t.build_id {
        lines.push(format!("Build id:  {id}"));
    }
    for r in &p.references {
        lines.push(format!(
            "Reference: {} {}",
            c_comment(&r.kind),
            c_comment(&r.value)
        ));
    }
    for a in &p.authors {
        lines.push(format!("Author:    {}", c_comment(a)));
    }
    lines.push(String::new());
    for o in &model.objects {
        for f in &o.funcs {
            let mut place = Vec::new();
            if f.sympos > 0 {
                place.push(format!("sympos {}", f.sympos));
            }
            if let Some(file) = &f.source_file {
                place.push(format!("from {}", c_comment(file)));
            }
            let pos = if place.is_empty() {
                String::new()
            } else {
                format!(" ({})", place.join(", "))
            };
            lines.push(format!(
                "Replaces {}(){pos} in {}.",
                f.old_name,
                o.display_name()
            ));
        }
        for c in &o.callbacks {
            lines.push(format!(
                "Runs a {} callback for {}.",
                c.kind.keyword(),
                o.display_name()
            ));
        }
        for e in &o.externs {
            lines.push(format!(
                "Uses {}, not exported by {}.",
                e.name,
                o.display_name()
            ));
        }
    }
    for s in &model.shadows {
        let fate = if s.free_on_unpatch {
            "freed when the patch is disabled"
        } else {
            "kept after the patch is disabled"
        };
        lines.push(format!(
            "Adds shadow variable {} (id {}) to {}, {fate}.",
            s.name, s.id, s.owner
        ));
    }
    for s in &model.states {
        lines.push(format!(
            "Sets up state {} (id {:#x}, version {}).",
            s.name, s.id, s.version
        ));
    }
    if p.cumulative {
        lines.push("Cumulative: atomically replaces every earlier live patch.".into());
    }
    lines.push(String::new());
    lines.push(format!(
        "Build: make KDIR=<kernel build tree>; the module is {}.ko.",
        p.module_name
    ));
    lines.push(format!(
        "Compiler errors in {c_name} point at the spec through #line directives."
    ));
    lines
}

/// Replaces each `#line KGPC_RESTORE` with a directive naming the generated
/// file and the line after it, so that diagnostics outside spec fragments
/// point at the generated file again.
pub fn restore_line_directives(text: &str, c_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.lines().enumerate() {
        if line == RESTORE {
            out.push_str(&format!("#line {} \"{}\"", index + 2, c_string(c_name)));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
