//! The spec's `requires` checked against the build's kernel config: an
//! unmet top-level requirement fails the build or skips it, an unmet
//! requirement of an object leaves that object out of the build's module.
//! What was found is kept in a [`ConfigReport`] for the summary record and
//! the review. No I/O: the pipeline reads the config.

use super::model::{Model, Requirement, Unmet};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::config::KernelConfig;
use serde::Serialize;

/// What the build's config said of the spec.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ConfigReport {
    /// The config file the requirements were checked against.
    pub file: Option<String>,
    /// Why no config was read, when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
    /// How kgpc knows the kernel can load livepatch modules: the config's
    /// `CONFIG_LIVEPATCH` line, the vmlinux's `klp_enable_patch`, or why it
    /// was not checked.
    pub livepatch: Option<String>,
    /// Each requirement of the spec and what the config says of it.
    pub requirements: Vec<RequirementResult>,
    /// Why the build is skipped, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// One requirement and what the build's config says of it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RequirementResult {
    /// As the spec writes it: `CONFIG_BT`, `CONFIG_NR_CPUS=8192`.
    pub requirement: String,
    /// The object whose block holds it; none for the whole build.
    pub object: Option<String>,
    /// What it asks for: `y or m`, `not set`, `8192`.
    pub wants: String,
    /// Whether the config meets it; none when no config was read.
    pub met: Option<bool>,
    /// The config's line of the option, or that it does not mention it.
    pub config: Option<String>,
    /// What an unmet requirement does: `error`, `skip` or `leave out`.
    pub unmet: &'static str,
}

impl ConfigReport {
    /// A report of a run that read no config, and why.
    pub fn not_checked(why: impl Into<String>) -> ConfigReport {
        ConfigReport {
            not_checked: Some(why.into()),
            ..ConfigReport::default()
        }
    }

    /// One line for people: "3 config requirements met against FILE".
    pub fn describe(&self) -> Option<String> {
        if self.requirements.is_empty() {
            return None;
        }
        let count = self.requirements.len();
        let noun = if count == 1 {
            "requirement"
        } else {
            "requirements"
        };
        Some(match (&self.file, &self.not_checked) {
            (Some(file), _) => {
                let met = self.requirements.iter().filter(|r| r.met == Some(true));
                format!("{} of {count} config {noun} met by {file}", met.count())
            }
            (None, why) => format!(
                "{count} config {noun} not checked: {}",
                why.as_deref().unwrap_or("no kernel config was read")
            ),
        })
    }
}

/// Checks every requirement of `model` against `config` (none: `why_none`
/// says why), reporting what is unmet and leaving out the objects whose
/// requirements fail; the report says whether the build is skipped.
pub fn check(
    model: &mut Model,
    config: Option<&KernelConfig>,
    why_none: &str,
    diagnostics: &mut Diagnostics,
) -> ConfigReport {
    let mut report = ConfigReport {
        file: config.map(|c| c.path.display().to_string()),
        not_checked: config.is_none().then(|| why_none.to_string()),
        ..ConfigReport::default()
    };
    let release = model.target.release.clone();
    let Some(config) = config else {
        not_checked(model, why_none, &mut report, diagnostics);
        return report;
    };
    let mut judge = Judge {
        config,
        release: &release,
        report: &mut report,
        diagnostics,
    };
    for r in &model.requirements {
        judge.requirement(r, None);
    }
    let had_objects = !model.objects.is_empty();
    let mut first_left_out = None;
    model.objects.retain(|object| {
        let name = object.display_name();
        let mut kept = true;
        for r in &object.requirements {
            if !judge.requirement(r, Some(name)) && r.unmet == Unmet::LeaveOut {
                kept = false;
                first_left_out.get_or_insert(r.span);
            }
        }
        kept
    });
    if let (true, true, Some(span)) = (had_objects, model.objects.is_empty(), first_left_out) {
        if report.skipped.is_none() {
            let why = "its config leaves out every object of the spec".to_string();
            diagnostics.push(
                Diagnostic::warning(
                    Code::BuildSkipped,
                    format!("the build of {release} is skipped: {why}"),
                )
                .at(span, "this object is left out, as is every other")
                .with_note("a live patch with no object changes nothing"),
            );
            report.skipped = Some(why);
        }
    }
    report
}

/// The config of one build and what its requirements came to.
struct Judge<'a> {
    config: &'a KernelConfig,
    release: &'a str,
    report: &'a mut ConfigReport,
    diagnostics: &'a mut Diagnostics,
}

impl Judge<'_> {
    /// Records one requirement of the build (`object`: of that object's
    /// block) and reports it if unmet; returns whether it is met.
    fn requirement(&mut self, r: &Requirement, object: Option<&str>) -> bool {
        let met = r.met_by(self.config);
        let says = self.config.says(&r.option);
        self.report.requirements.push(RequirementResult {
            requirement: r.describe(),
            object: object.map(str::to_string),
            wants: r.wants(),
            met: Some(met),
            config: Some(says.clone()),
            unmet: unmet_word(r.unmet),
        });
        if met {
            return true;
        }
        let release = self.release;
        let wanted = format!("requires {} ({})", r.describe(), r.wants());
        let actual = format!("the config of {release} says: {says}");
        let diagnostic = match r.unmet {
            Unmet::Error => Diagnostic::error(
                Code::RequirementUnmet,
                format!(
                    "the build of {release} does not meet `requires {}`",
                    r.describe()
                ),
            )
            .at(r.span, "not met by this build's config")
            .with_note(actual)
            .with_help("add `else skip` to skip the builds that lack it, or target releases whose config has it"),
            Unmet::LeaveOut => Diagnostic::note(
                Code::RequirementUnmet,
                format!(
                    "{} is left out of the build of {release}: its config does not meet `requires {}`",
                    object.unwrap_or("the object"),
                    r.describe()
                ),
            )
            .at(r.span, "not met by this build's config")
            .with_note(actual),
            Unmet::Skip => {
                let why = format!("{wanted} is not met: {says}");
                self.report.skipped.get_or_insert(why);
                Diagnostic::warning(
                    Code::BuildSkipped,
                    format!(
                        "the build of {release} is skipped: its config does not meet `requires {}`",
                        r.describe()
                    ),
                )
                .at(r.span, "`else skip`: builds without it are skipped")
                .with_note(actual)
            }
        };
        self.diagnostics.push(diagnostic);
        false
    }
}

/// Records the requirements as not checked and says so once, at the first.
fn not_checked(model: &Model, why: &str, report: &mut ConfigReport, diagnostics: &mut Diagnostics) {
    let top = model.requirements.iter().map(|r| (r, None));
    let objects = model.objects.iter().flat_map(|o| {
        o.requirements
            .iter()
            .map(move |r| (r, Some(o.display_name().to_string())))
    });
    for (r, object) in top.chain(objects) {
        report.requirements.push(RequirementResult {
            requirement: r.describe(),
            object,
            wants: r.wants(),
            met: None,
            config: None,
            unmet: unmet_word(r.unmet),
        });
    }
    let Some(first) = model
        .requirements
        .iter()
        .chain(model.objects.iter().flat_map(|o| &o.requirements))
        .next()
    else {
        return;
    };
    let release = &model.target.release;
    diagnostics.push(
        Diagnostic::warning(
            Code::RequirementsNotChecked,
            format!("the spec's config requirements were not checked against {release}: {why}"),
        )
        .at(first.span, "not checked")
        .with_note("every object is kept and the build is not skipped, as if each requirement were met")
        .with_help(format!(
            "fetch the release with `kgpc kernel fetch {release}` (its image package holds /boot/config-{release}), or pass --kernel-config FILE"
        )),
    );
}

fn unmet_word(unmet: Unmet) -> &'static str {
    match unmet {
        Unmet::Error => "error",
        Unmet::Skip => "skip",
        Unmet::LeaveOut => "leave out",
    }
}
