//! `kgpc build --all-releases --plan FORMAT`: the fleet as a CI system's
//! matrix, one job per build, so that a fleet larger than one machine builds
//! on an existing CI engine. Nothing is built or fetched.

use super::builds::FleetBuild;
use crate::check::release::matches;
use crate::cli::{PlanFormat, SpecArgs};
use crate::fetch::{self, FetchError};
use serde_json::json;
use std::path::Path;

/// The archive's builds that `patterns` match, for a plan made with
/// `--fetch`: each job fetches its own. A build whose headers are gone is
/// kept, unavailable, so the plan can say it is left out.
pub fn archive_builds(patterns: &[String]) -> Result<Vec<FleetBuild>, FetchError> {
    let wanted = |release: &str| patterns.iter().any(|p| matches(p, release));
    let builds = fetch::available_builds(&wanted)?;
    if builds.is_empty() {
        return Err(FetchError::NoMatch {
            pattern: patterns.join(" "),
        });
    }
    Ok(builds
        .into_iter()
        .map(|b| FleetBuild {
            unavailable: (!b.headers).then(|| FetchError::Gone {
                release: b.release.clone(),
                version: b.version.clone(),
                missing: vec![format!("linux-headers-{}", b.release)],
            }),
            release: b.release,
        })
        .collect())
}

/// Prints the plan on standard output; builds left out are named on standard error.
pub fn print(
    format: PlanFormat,
    spec: &SpecArgs,
    output: &Path,
    builds: &[FleetBuild],
    fetch: bool,
) {
    let releases: Vec<&str> = builds
        .iter()
        .filter(|b| b.unavailable.is_none())
        .map(|b| b.release.as_str())
        .collect();
    for build in builds {
        if let Some(why) = &build.unavailable {
            crate::errln!("kgpc: {} is left out of the plan: {why}", build.release);
        }
    }
    let spec_path = quoted(&spec.spec.display().to_string());
    let out = output.display().to_string();
    let fetch_line = |release: &str| format!("kgpc kernel fetch {release}");
    let build_line = |release: &str, out_dir: &str| {
        format!("kgpc build {spec_path} --release {release} -o {out_dir}")
    };
    match format {
        PlanFormat::Github => {
            let include: Vec<_> = releases
                .iter()
                .map(|r| {
                    let dir = quoted(&format!("{out}/{r}"));
                    json!({
                        "release": r,
                        "fetch": fetch_line(r),
                        "build": build_line(r, &dir),
                        "module_dir": format!("{out}/{r}"),
                    })
                })
                .collect();
            crate::outln!("{}", json!({ "include": include }));
        }
        PlanFormat::Gitlab => {
            let job = output
                .file_name()
                .map_or("livepatch".into(), |n| n.to_string_lossy().into_owned());
            crate::outln!(
                "# Made by `kgpc build {} --all-releases{} --plan gitlab`: one job per build.",
                spec.spec.display(),
                if fetch { " --fetch" } else { "" }
            );
            crate::outln!("build-{job}:");
            crate::outln!("  parallel:");
            crate::outln!("    matrix:");
            crate::outln!("      - RELEASE:");
            for release in &releases {
                crate::outln!("          - \"{release}\"");
            }
            crate::outln!("  script:");
            crate::outln!("    - {}", fetch_line("\"$RELEASE\""));
            let dir = format!("\"{out}/$RELEASE\"");
            crate::outln!("    - {}", build_line("\"$RELEASE\"", &dir));
            crate::outln!("  artifacts:");
            crate::outln!("    paths:");
            crate::outln!("      - \"{out}/$RELEASE/\"");
        }
    }
}

/// `text` as one shell word: as it is when it is plain, else in single quotes.
fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+=:@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_becomes_one_shell_word() {
        assert_eq!(quoted("examples/x.kgp"), "examples/x.kgp");
        assert_eq!(quoted("my fix.kgp"), "'my fix.kgp'");
        assert_eq!(quoted("it's.kgp"), r"'it'\''s.kgp'");
        assert_eq!(quoted(""), "''");
    }
}
