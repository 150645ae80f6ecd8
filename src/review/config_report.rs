//! The review's section on the kernel config: each `requires` of the spec,
//! what the build's config says of it and what that does to the build, and
//! how kgpc knows that the kernel can load livepatch modules.

use super::markdown::{code, message, text};
use crate::check::config_check::ConfigReport;
use std::fmt::Write;

/// Writes the section, for a spec with requirements or a run that read a config.
pub fn config_section(out: &mut String, config: &ConfigReport) {
    if config.requirements.is_empty() && config.file.is_none() {
        return;
    }
    let _ = writeln!(out, "## Kernel config\n");
    match (&config.file, &config.not_checked) {
        (Some(file), _) => {
            let _ = writeln!(out, "Checked against {}.", code(file));
        }
        (None, why) => {
            let _ = writeln!(
                out,
                "Not checked: {}. Every requirement was taken as met: no object was left out and the build was not skipped.",
                message(why.as_deref().unwrap_or("no kernel config was read"))
            );
        }
    }
    if let Some(livepatch) = &config.livepatch {
        let _ = writeln!(out, "Livepatch support: {}.", message(livepatch));
    }
    out.push('\n');
    if !config.requirements.is_empty() {
        let _ = writeln!(
            out,
            "| Requirement | Of | Wants | The config says | Met | If unmet |\n|---|---|---|---|---|---|"
        );
        for r in &config.requirements {
            let of = r
                .object
                .as_deref()
                .map_or("the build".to_string(), |o| format!("object {}", text(o)));
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "not checked",
            };
            let unmet = match r.unmet {
                "skip" => "skip the build",
                "error" => "fail the build",
                _ => "leave the object out",
            };
            let _ = writeln!(
                out,
                "| {} | {of} | {} | {} | {met} | {unmet} |",
                code(&r.requirement),
                text(&r.wants),
                r.config
                    .as_deref()
                    .map_or(String::new(), |says| code(&said(says, config)))
            );
        }
        out.push('\n');
    }
    if let Some(why) = &config.skipped {
        let _ = writeln!(
            out,
            "**This build is skipped**: {}. Nothing is built for it.\n",
            message(why)
        );
    }
}

/// What the config says of an option without the file's name, which the
/// section names once: `line 1752: # CONFIG_BT is not set`.
fn said<'a>(says: &'a str, config: &ConfigReport) -> std::borrow::Cow<'a, str> {
    match config.file.as_deref().and_then(|f| says.strip_prefix(f)) {
        Some(rest) => match rest.strip_prefix(':') {
            Some(line) => format!("line {line}").into(),
            None => rest.trim_start().into(),
        },
        None => says.into(),
    }
}
