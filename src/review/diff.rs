//! `kgpc diff`: what changes between two versions of a spec, or between a
//! cumulative patch and its successor, in terms of the live patch itself.
//!
//! The rules the kernel applies when one patch follows another are errors
//! here: a state version may not go down, and a cumulative successor may not
//! drop a state.

use crate::c::words::one_line;
use crate::check::model::{Function, Model, Shadow, State};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use std::fmt::Write;

/// The rendered difference and the problems found.
pub struct SpecDiff {
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compares two checked specs.
pub fn diff(old: &Model, new: &Model) -> SpecDiff {
    let mut diagnostics = Vec::new();
    if let Some(differ) = targets_differ(old, new) {
        diagnostics.push(differ);
        return SpecDiff {
            text: String::new(),
            diagnostics,
        };
    }
    let sections = [
        ("Patch", patch_changes(old, new)),
        ("Functions", function_changes(old, new)),
        ("Shadow variables", shadow_variable_changes(old, new)),
        ("States", state_changes(old, new, &mut diagnostics)),
        ("Non-exported symbols", symbol_changes(old, new)),
    ];
    SpecDiff {
        text: render(old, new, &sections),
        diagnostics,
    }
}

/// The error for two specs of different kernels, which have nothing to compare.
fn targets_differ(old: &Model, new: &Model) -> Option<Diagnostic> {
    let (ot, nt) = (&old.target, &new.target);
    if ot.arch == nt.arch && ot.release == nt.release {
        return None;
    }
    Some(
        Diagnostic::error(
            Code::DiffTargetsDiffer,
            format!("the specs target different kernels: {} ({}) and {} ({})", ot.release, ot.arch, nt.release, nt.arch),
        )
        .at(nt.span, "the new spec's target")
        .also(ot.span, "the old spec's target")
        .with_help("compare versions of one fix for one kernel; pass `--release` to compare both for the same release"),
    )
}

fn patch_changes(old: &Model, new: &Model) -> Vec<String> {
    let mut patch = Vec::new();
    if old.patch.module_name != new.patch.module_name {
        patch.push(format!(
            "module: `{}` → `{}`",
            old.patch.module_name, new.patch.module_name
        ));
    }
    if old.patch.cumulative != new.patch.cumulative {
        patch.push(format!(
            "cumulative: {} → {}",
            yes_no(old.patch.cumulative),
            yes_no(new.patch.cumulative)
        ));
    }
    if old.patch.description != new.patch.description {
        patch.push("description changed".into());
    }
    patch
}

fn function_changes(old: &Model, new: &Model) -> Vec<String> {
    let (of, nf) = (functions(old), functions(new));
    let mut funcs = Vec::new();
    for (name, f) in &nf {
        match of.iter().find(|(n, _)| n == name) {
            None => funcs.push(format!("added: {name}")),
            Some((_, before)) => {
                let what = function_change(before, f);
                if !what.is_empty() {
                    funcs.push(format!("changed: {name}: {}", what.join(", ")));
                }
            }
        }
    }
    for (name, _) in &of {
        if !nf.iter().any(|(n, _)| n == name) {
            funcs.push(format!("removed: {name}"));
        }
    }
    funcs
}

/// What changed in one replaced function: its prototype, its body or both.
fn function_change(before: &Function, after: &Function) -> Vec<String> {
    let mut what = Vec::new();
    if before.return_type != after.return_type
        || one_line(&before.params, "") != one_line(&after.params, "")
    {
        what.push("prototype".to_string());
    }
    if let Some(counts) = changed_lines(&before.body.text, &after.body.text) {
        what.push(format!("body ({counts})"));
    }
    what
}

fn shadow_variable_changes(old: &Model, new: &Model) -> Vec<String> {
    let mut shadows = Vec::new();
    for s in &new.shadows {
        match old.shadows.iter().find(|o| o.name == s.name) {
            None => shadows.push(format!(
                "added: `{}` (id {}) on `{}`",
                s.name, s.id, s.owner
            )),
            Some(before) => {
                let changes = shadow_changes(before, s);
                if !changes.is_empty() {
                    shadows.push(format!("changed: `{}`: {}", s.name, changes.join(", ")));
                }
            }
        }
    }
    for s in &old.shadows {
        if !new.shadows.iter().any(|n| n.name == s.name) {
            shadows.push(format!("removed: `{}` (id {})", s.name, s.id));
        }
    }
    shadows
}

/// The states added, changed and removed, with the kernel's rules for a
/// successor as errors: no version goes down, and a cumulative patch keeps every state.
fn state_changes(old: &Model, new: &Model, diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut states = Vec::new();
    for s in &new.states {
        match old.states.iter().find(|o| o.id == s.id) {
            None => states.push(format!(
                "added: `{}` (id {:#x}, version {})",
                s.name, s.id, s.version
            )),
            Some(before) if before.version != s.version => {
                states.push(format!(
                    "`{}` (id {:#x}): version {} → {}",
                    s.name, s.id, before.version, s.version
                ));
                if s.version < before.version {
                    diagnostics.push(version_lowered(before, s));
                }
            }
            Some(_) => {}
        }
    }
    for s in &old.states {
        if !new.states.iter().any(|n| n.id == s.id) {
            states.push(format!("removed: `{}` (id {:#x})", s.name, s.id));
            if new.patch.cumulative {
                diagnostics.push(state_dropped(s));
            }
        }
    }
    states
}

fn version_lowered(before: &State, after: &State) -> Diagnostic {
    Diagnostic::error(
        Code::StateVersionLowered,
        format!(
            "state `{}` goes from version {} down to {}",
            after.name, before.version, after.version
        ),
    )
    .at(after.span, format!("version {}", after.version))
    .also(before.span, format!("version {}", before.version))
    .with_note(
        "the kernel refuses a patch whose version of a state is lower than the installed one",
    )
    .with_help(format!("keep version {} or raise it", before.version))
}

fn state_dropped(s: &State) -> Diagnostic {
    Diagnostic::error(Code::StateDropped, format!("the cumulative patch drops state `{}` (id {:#x})", s.name, s.id))
        .at(s.span, "the old spec's state")
        .with_note("the kernel refuses a replacing patch that does not carry every state of the patches it replaces")
        .with_help(format!("keep `state {} {{ id {:#x} version {} }}` in the new spec", s.name, s.id, s.version))
}

fn symbol_changes(old: &Model, new: &Model) -> Vec<String> {
    let (oe, ne) = (externs(old), externs(new));
    let mut symbols: Vec<String> = ne
        .iter()
        .filter(|e| !oe.contains(e))
        .map(|e| format!("added: {e}"))
        .collect();
    symbols.extend(
        oe.iter()
            .filter(|e| !ne.contains(e))
            .map(|e| format!("removed: {e}")),
    );
    symbols
}

/// Every declared extern symbol with the object it is in.
fn externs(m: &Model) -> Vec<String> {
    m.objects
        .iter()
        .flat_map(|o| {
            o.externs
                .iter()
                .map(move |e| format!("`{}` in {}", e.name, o.display_name()))
        })
        .collect()
}

/// The Markdown of the sections that have lines, or a sentence saying there are none.
fn render(old: &Model, new: &Model, sections: &[(&str, Vec<String>)]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# kgpc diff: `{}` → `{}`\n",
        old.patch.module_name, new.patch.module_name
    );
    let mut any = false;
    for (title, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(text, "## {title}\n");
        for line in lines {
            let _ = writeln!(text, "- {line}");
        }
        text.push('\n');
    }
    if !any {
        let _ = writeln!(text, "No difference in what the live patch does.");
    }
    text
}

/// Every replaced function with a name for it that says where it is: its object, and
/// its source file or position, which tell same-named functions apart.
fn functions(m: &Model) -> Vec<(String, &Function)> {
    m.objects
        .iter()
        .flat_map(|o| {
            o.funcs.iter().map(move |f| {
                let which = match (&f.source_file, f.sympos) {
                    (Some(file), _) => format!(" (`{file}`)"),
                    (None, 0) => String::new(),
                    (None, sympos) => format!(" (sympos {sympos})"),
                };
                (
                    format!("`{}()`{which} in {}", f.old_name, o.display_name()),
                    &f.function,
                )
            })
        })
        .collect()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `+A −R lines` when two C texts differ in more than indentation.
fn changed_lines(before: &str, after: &str) -> Option<String> {
    let normal = |t: &str| {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (b, a) = (normal(before), normal(after));
    if a == b {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&b, &a);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    Some(format!("+{added} −{removed} lines"))
}

fn shadow_changes(before: &Shadow, after: &Shadow) -> Vec<String> {
    let mut changes = Vec::new();
    if before.id != after.id {
        changes.push(format!("id {} → {}", before.id, after.id));
    }
    if before.owner != after.owner {
        changes.push(format!(
            "attached to `{}` → `{}`",
            before.owner, after.owner
        ));
    }
    if before.gfp != after.gfp {
        changes.push(format!("gfp {} → {}", before.gfp, after.gfp));
    }
    if changed_lines(&before.payload.text, &after.payload.text).is_some() {
        changes.push("payload".into());
    }
    let text = |f: &Option<crate::check::model::Fragment>| {
        f.as_ref().map(|f| f.text.clone()).unwrap_or_default()
    };
    if changed_lines(&text(&before.ctor), &text(&after.ctor)).is_some() {
        changes.push("constructor".into());
    }
    if changed_lines(&text(&before.dtor), &text(&after.dtor)).is_some() {
        changes.push("destructor".into());
    }
    if before.free_on_unpatch != after.free_on_unpatch {
        changes.push(if after.free_on_unpatch {
            "now freed on disable".into()
        } else {
            "now kept (`keep`)".into()
        });
    }
    changes
}
