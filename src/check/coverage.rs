//! What a spec was checked against: for each object, the kernel file and
//! build id its functions were checked against, or why they were not. The
//! summary line, the JSON summary record and `kgpc review` all say it from
//! here, so none claims a check that did not run.

use serde::Serialize;

/// The kernel checks of one run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Coverage {
    /// Whether the checks against the kernel ran at all.
    pub ran: bool,
    /// Why they did not run.
    pub skipped: Option<String>,
    /// The vmlinux whose identity (release, build id, architecture) was checked.
    pub vmlinux: Option<KernelFile>,
    /// Each object of the spec, in the spec's order.
    pub objects: Vec<ObjectCoverage>,
    /// What stalled transitions were checked against (the census of tasks at rest), or
    /// why they were not; absent when the kernel checks did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalls: Option<String>,
}

/// A kernel object file and its build id.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KernelFile {
    pub file: String,
    pub build_id: Option<String>,
}

/// One object of the spec and what it was checked against.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ObjectCoverage {
    /// `vmlinux` or the module's name.
    pub name: String,
    pub checked: bool,
    /// The file its functions and symbols were checked against.
    pub file: Option<String>,
    pub build_id: Option<String>,
    /// Why it was not checked.
    pub reason: Option<String>,
}

impl Coverage {
    /// Checks that did not run, and why.
    pub fn skipped(reason: impl Into<String>) -> Coverage {
        Coverage {
            ran: false,
            skipped: Some(reason.into()),
            vmlinux: None,
            objects: Vec::new(),
            stalls: None,
        }
    }

    pub fn checked(&mut self, name: &str, file: &KernelFile) {
        self.objects.push(ObjectCoverage {
            name: name.to_string(),
            checked: true,
            file: Some(file.file.clone()),
            build_id: file.build_id.clone(),
            reason: None,
        });
    }

    pub fn unchecked(&mut self, name: &str, reason: impl Into<String>) {
        self.objects.push(ObjectCoverage {
            name: name.to_string(),
            checked: false,
            file: None,
            build_id: None,
            reason: Some(reason.into()),
        });
    }

    /// Whether every object of the spec was checked against a kernel file.
    pub fn complete(&self) -> bool {
        self.ran && self.objects.iter().all(|o| o.checked)
    }

    /// One line for people: `vmlinux against FILE (build id ID); foo unchecked: WHY`.
    pub fn describe(&self) -> String {
        if !self.ran {
            return format!(
                "kernel checks skipped: {}",
                self.skipped.as_deref().unwrap_or("no reason recorded")
            );
        }
        let mut parts: Vec<String> = self
            .objects
            .iter()
            .map(|o| match (&o.file, &o.reason) {
                (Some(file), _) if o.checked => {
                    format!(
                        "{} checked against {}{}",
                        o.name,
                        file,
                        build_id(&o.build_id)
                    )
                }
                (_, Some(why)) => format!("{} unchecked: {why}", o.name),
                _ => format!("{} unchecked", o.name),
            })
            .collect();
        if !self.objects.iter().any(|o| o.name == "vmlinux") {
            if let Some(v) = &self.vmlinux {
                parts.insert(
                    0,
                    format!(
                        "target identity checked against {}{}",
                        v.file,
                        build_id(&v.build_id)
                    ),
                );
            }
        }
        parts.join("; ")
    }
}

fn build_id(id: &Option<String>) -> String {
    id.as_ref()
        .map_or(String::new(), |id| format!(" (build id {id})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_claim_what_did_not_run() {
        assert_eq!(
            Coverage::skipped("--no-kernel-checks was given").describe(),
            "kernel checks skipped: --no-kernel-checks was given"
        );
        let vmlinux = KernelFile {
            file: "/k/vmlinux".into(),
            build_id: Some("ab12".into()),
        };
        let mut c = Coverage {
            ran: true,
            vmlinux: Some(vmlinux.clone()),
            ..Coverage::default()
        };
        c.checked("vmlinux", &vmlinux);
        c.unchecked("foo", "no object of module `foo` found");
        assert_eq!(
            c.describe(),
            "vmlinux checked against /k/vmlinux (build id ab12); foo unchecked: no object of module `foo` found"
        );
        assert!(!c.complete());
    }
}
