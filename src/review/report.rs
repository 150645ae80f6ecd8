//! The Markdown report of `kgpc review`, ready to paste as a pull-request comment.

use super::config_report::config_section;
use super::fix_report::fix_changes;
use super::markdown::{code, line, message, text};
use super::usage::{calls, lines_of_code, sites};
use crate::check::config_check::ConfigReport;
use crate::check::coverage::Coverage;
use crate::check::model::{CallbackKind, Model, Shadow};
use crate::diagnostic::{Diagnostic, Severity};
use std::fmt::Write;

/// Bodies longer than this many lines are worth a reviewer's attention.
const LARGE_BODY: usize = 80;

/// What the review knows besides the model.
pub struct ReviewContext<'a> {
    /// The diagnostics of checking the spec (warnings and notes; a spec with errors is not reviewed).
    pub diagnostics: Vec<&'a Diagnostic>,
    /// What each object was checked against, or why the kernel checks did not run.
    pub coverage: &'a Coverage,
    /// What the build's kernel config said of the spec's requirements.
    pub config: &'a ConfigReport,
}

/// Renders the review of a checked spec.
pub fn report(model: &Model, context: &ReviewContext<'_>) -> String {
    let mut out = String::new();
    let p = &model.patch;
    let t = &model.target;
    let _ = writeln!(out, "# Live patch review: {}\n", code(&p.module_name));
    if let Some(d) = &p.description {
        for l in d.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            let _ = writeln!(out, "> {}", line(l));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    if let Some(spec) = model.inputs.first() {
        let _ = writeln!(
            out,
            "| Spec | {} (sha256 `{}`) |",
            code(&spec.name),
            &spec.sha256[..16]
        );
    }
    reads(&mut out, model);
    let _ = writeln!(
        out,
        "| Target | {} ({}, Linux {}), chosen as {} |",
        text(&t.release),
        text(&t.arch.to_string()),
        t.version,
        text(&t.release_source.to_string())
    );
    if t.releases.len() > 1 || t.releases.first() != Some(&t.release) {
        let _ = writeln!(
            out,
            "| Releases | {} |",
            t.releases
                .iter()
                .map(|r| code(r))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for r in &p.references {
        let _ = writeln!(
            out,
            "| Reference | {} {} |",
            text(&r.kind.to_string()),
            text(&r.value)
        );
    }
    if !p.authors.is_empty() {
        let authors: Vec<String> = p.authors.iter().map(|a| text(a)).collect();
        let _ = writeln!(out, "| Authors | {} |", authors.join(", "));
    }
    let replace = if p.cumulative {
        "cumulative: atomically replaces every live patch loaded before it (`klp_patch.replace`)"
    } else {
        "stacks on the live patches loaded before it"
    };
    let _ = writeln!(out, "| Loading | {replace} |");
    out.push('\n');

    replacements(&mut out, model);
    fix_changes(&mut out, model);
    symbols(&mut out, model);
    shadows(&mut out, model);
    callbacks(&mut out, model);
    states(&mut out, model);
    new_code(&mut out, model);
    config_section(&mut out, context.config);
    kernel_checks(&mut out, context);
    risks(&mut out, model, context);
    out
}

/// Every file the spec reads besides itself, as the generated C's header lists them.
fn reads(out: &mut String, model: &Model) {
    for input in model.inputs.iter().skip(1) {
        let name = code(input.name.trim_start_matches('<').trim_end_matches('>'));
        let what = if input.standard {
            "the standard library, built into kgpc; "
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| Reads | {name} ({what}sha256 `{}`) |",
            &input.sha256[..16]
        );
    }
}

fn replacements(out: &mut String, model: &Model) {
    let rows: Vec<String> = model
        .objects
        .iter()
        .flat_map(|o| o.funcs.iter().map(move |f| (o, f)))
        .map(|(o, f)| {
            let pos = position(f.sympos);
            let source = f
                .source_file
                .as_deref()
                .map_or(String::new(), |s| format!(" ({})", code(s)));
            format!(
                "| {} | {}{source} | {pos} | {} | {} lines |",
                text(o.display_name()),
                code(&format!("{}()", f.old_name)),
                code(&format!(
                    "{}:{}",
                    f.function.origin.file, f.function.origin.line
                )),
                lines_of_code(&f.function.body.text)
            )
        })
        .collect();
    let _ = writeln!(out, "## Replaced functions\n");
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "None: the patch only runs callbacks or manages shadow variables.\n"
        );
        return;
    }
    table(
        out,
        &["Object", "Function", "Position", "Spec", "New code"],
        rows,
    );
}

fn symbols(out: &mut String, model: &Model) {
    let externs: Vec<String> = model
        .objects
        .iter()
        .flat_map(|o| o.externs.iter().map(move |e| (o, e)))
        .map(|(o, e)| {
            let pos = position(e.sympos);
            let declared = if e.derived {
                format!(
                    "used at {}, declared by kgpc from the kernel's debug information",
                    code(&format!("{}:{}", e.origin.file, e.origin.line))
                )
            } else {
                code(&format!("{}:{}", e.origin.file, e.origin.line))
            };
            format!(
                "| {} | {} | {pos} | {declared} |",
                text(o.display_name()),
                code(&e.declaration),
            )
        })
        .collect();
    if externs.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Non-exported symbols\n");
    let _ = writeln!(
        out,
        "Resolved by livepatch relocations when the patch (or its module) loads.\n"
    );
    table(out, &["Object", "Declaration", "Position", "Spec"], externs);
}

/// The bodies that call one of a shadow variable's accessors.
fn users(model: &Model, shadow: &Shadow, accessors: &[&str]) -> Vec<String> {
    sites(model)
        .into_iter()
        .filter(|site| {
            accessors
                .iter()
                .any(|a| calls(&site.code.text, &format!("{}{a}", shadow.name)))
        })
        .map(|site| site.name)
        .collect()
}

fn shadows(out: &mut String, model: &Model) {
    if model.shadows.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Shadow variables\n");
    let mut rows = Vec::new();
    for s in &model.shadows {
        let allocated = users(model, s, &["_alloc", "_get_or_alloc"]);
        let freed = users(model, s, &["_free", "_free_all"]);
        let fate = if s.free_on_unpatch {
            "all instances freed (`post_unpatch` of vmlinux)"
        } else {
            "kept (`keep`)"
        };
        let list = |v: &[String]| {
            if v.is_empty() {
                "nowhere".to_string()
            } else {
                v.iter().map(|u| message(u)).collect::<Vec<_>>().join("; ")
            }
        };
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {fate} |",
            code(&s.name),
            s.id,
            code(&s.owner.to_string()),
            list(&allocated),
            list(&freed)
        ));
    }
    let columns = [
        "Name",
        "Id",
        "Attached to",
        "Allocated in",
        "Freed in",
        "When the patch is disabled",
    ];
    table(out, &columns, rows);
}

/// A symbol's position among those of its name, as the tables show it.
fn position(sympos: u64) -> String {
    if sympos > 0 {
        sympos.to_string()
    } else {
        "unique".into()
    }
}

/// A Markdown table: the header row of `columns`, the rows, then a blank line.
fn table(out: &mut String, columns: &[&str], rows: impl IntoIterator<Item = String>) {
    let _ = writeln!(out, "| {} |", columns.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(columns.len()));
    for row in rows {
        let _ = writeln!(out, "{row}");
    }
    out.push('\n');
}

fn callbacks(out: &mut String, model: &Model) {
    let rows: Vec<String> = model
        .objects
        .iter()
        .flat_map(|o| o.callbacks.iter().map(move |c| (o, c)))
        .map(|(o, c)| {
            format!(
                "| {} | `{}` | {} |",
                text(o.display_name()),
                c.kind.keyword(),
                code(&format!("{}:{}", c.body.file, c.body.line))
            )
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Callbacks\n");
    let _ = writeln!(
        out,
        "The kernel runs an object's callbacks only while the object is loaded.\n"
    );
    table(out, &["Object", "Callback", "Spec"], rows);
}

fn states(out: &mut String, model: &Model) {
    if model.states.is_empty() {
        return;
    }
    let _ = writeln!(out, "## States\n");
    let _ = writeln!(out, "The kernel refuses this patch if an installed patch has a higher version of one of these states; a cumulative successor must keep every state.\n");
    let rows = model
        .states
        .iter()
        .map(|s| format!("| {} | {:#x} | {} |", code(&s.name), s.id, s.version));
    table(out, &["Name", "Id", "Version"], rows);
}

fn new_code(out: &mut String, model: &Model) {
    let replaced: usize = model
        .objects
        .iter()
        .flat_map(|o| &o.funcs)
        .map(|f| lines_of_code(&f.function.body.text))
        .sum();
    let helpers: usize = model
        .helpers
        .iter()
        .map(|h| lines_of_code(&h.body.text))
        .sum();
    let callbacks: usize = model
        .objects
        .iter()
        .flat_map(|o| &o.callbacks)
        .map(|c| lines_of_code(&c.body.text))
        .sum();
    let data: usize = model.data.iter().map(|d| lines_of_code(&d.text)).sum();
    let _ = writeln!(out, "## New code\n");
    let _ = writeln!(
        out,
        "{replaced} lines in replacements, {callbacks} in callbacks, {helpers} in {} helpers, {data} of data.\n",
        model.helpers.len()
    );
}

const CHECKED: &str = "that each function and symbol exists and where (sympos), that each function can be patched \
     (ftrace site, not `__init` or `notrace`), compiler clones, inlined copies, prototypes, exported symbols, and functions \
     that are always on some task's stack";

fn kernel_checks(out: &mut String, context: &ReviewContext<'_>) {
    let _ = writeln!(out, "## Checks against the kernel\n");
    let coverage = context.coverage;
    if !coverage.ran {
        let _ = writeln!(
            out,
            "Not run: {}. Not checked: the release and build id, {CHECKED}.\n",
            message(
                coverage
                    .skipped
                    .as_deref()
                    .unwrap_or("no debug vmlinux was given")
            )
        );
        return;
    }
    if let Some(v) = &coverage.vmlinux {
        let _ = writeln!(
            out,
            "The target's release, build id and architecture were checked against {}{}.\n",
            code(&v.file),
            v.build_id
                .as_ref()
                .map_or(String::new(), |id| format!(" (build id {})", code(id)))
        );
    }
    let _ = writeln!(
        out,
        "| Object | Checked against | Build id |\n|---|---|---|"
    );
    for o in &coverage.objects {
        match (&o.file, o.checked) {
            (Some(file), true) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    text(&o.name),
                    code(file),
                    o.build_id
                        .as_ref()
                        .map_or("none".to_string(), |id| code(id))
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "| {} | not checked: {} | |",
                    text(&o.name),
                    message(o.reason.as_deref().unwrap_or("no object found"))
                );
            }
        }
    }
    if coverage.objects.iter().any(|o| o.checked) {
        let _ = writeln!(out, "\nFor each checked object: {CHECKED}.");
    } else {
        let _ = writeln!(
            out,
            "\nNo object of the spec was checked: {CHECKED} are not known."
        );
    }
    let findings = context
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .count();
    let noun = if findings == 1 {
        "finding is"
    } else {
        "findings are"
    };
    let _ = writeln!(out, "{findings} {noun} listed under risks.\n");
}

fn risks(out: &mut String, model: &Model, context: &ReviewContext<'_>) {
    let mut risks: Vec<String> = Vec::new();
    for d in &context.diagnostics {
        if d.severity >= Severity::Warning {
            risks.push(format!("{} ({})", message(&d.message), d.code.as_str()));
        }
    }
    for s in &model.shadows {
        let freed = !users(model, s, &["_free", "_free_all"]).is_empty();
        if !s.free_on_unpatch && !freed {
            risks.push(format!(
                "Shadow variable {} is never freed: it says `keep` and no code calls {}.",
                code(&s.name),
                code(&format!("{}_free()", s.name))
            ));
        }
        if users(model, s, &["_alloc", "_get_or_alloc"]).is_empty() {
            risks.push(format!("Shadow variable {} is never allocated by this patch; it relies on another patch to create it.", code(&s.name)));
        }
    }
    for o in &model.objects {
        for c in &o.callbacks {
            if c.kind == CallbackKind::PrePatch && can_fail(&c.body.text) {
                risks.push(format!(
                    "The `pre_patch` callback of {} can fail: the kernel then refuses the patch{}.",
                    text(o.display_name()),
                    if o.module.is_some() {
                        ", or the module when it loads later"
                    } else {
                        ""
                    }
                ));
            }
        }
        for f in &o.funcs {
            let lines = lines_of_code(&f.function.body.text);
            if lines > LARGE_BODY {
                risks.push(format!("The replacement of {} is large ({lines} lines): review it against the original closely.", code(&format!("{}()", f.old_name))));
            }
        }
        for f in o.funcs.iter().filter(|f| !f.allow_inlined.is_empty()) {
            risks.push(format!(
                "The copies of {} inlined into {} keep the old code: the spec says so with `allow_inlined`.",
                code(&format!("{}()", f.old_name)),
                f.allow_inlined.iter().map(|c| code(&format!("{c}()"))).collect::<Vec<_>>().join(", ")
            ));
        }
        if o.module.is_some() && !o.funcs.is_empty() {
            risks.push(format!(
                "Module {} is patched when it loads; until then its old code is not involved.",
                code(o.display_name())
            ));
        }
    }
    if model.patch.cumulative {
        risks.push("The patch replaces every earlier live patch: what they changed and this one does not is reverted, and their unpatch callbacks do not run.".into());
    }
    if !context.coverage.ran {
        risks.push("Inlined copies, compiler clones and always-busy functions were not checked (no vmlinux).".into());
    }

    let _ = writeln!(out, "## Risks to weigh\n");
    if risks.is_empty() {
        let _ = writeln!(out, "None found.");
    }
    for r in risks {
        let _ = writeln!(out, "- {r}");
    }
}

/// Whether a `pre_patch` body can return something other than 0.
fn can_fail(text: &str) -> bool {
    text.split("return").skip(1).any(|rest| {
        let value: String = rest.chars().take_while(|c| *c != ';').collect();
        let value = value.trim();
        !(value == "0" || value == "(0)")
    })
}
