//! The spec `kgpc new --from-patch` writes for a fix: the `patch` block from
//! the mail (name and description from the subject, the commit and CVE
//! references, `Link:` and `Closes:` addresses, the author), the target, the
//! `fix` item, kpatch-build's macros as commented guidance, and a `test`
//! block to fill in. The text is laid out as `kgpc fmt` lays it out.

use super::{Conversion, KpatchMacro, PatchFile};
use crate::format::quote;

/// The longest patch name: the kernel limits module names to 55 characters,
/// and the module is `livepatch-NAME`.
const NAME_LIMIT: usize = 45;

/// What the written spec says besides the patch itself.
pub struct NewSpec<'a> {
    pub patch: &'a PatchFile,
    /// The patch file as the spec names it, relative to the spec's directory.
    pub fix_path: &'a str,
    /// The release or release pattern the target lists.
    pub release: &'a str,
    pub arch: &'a str,
    /// The diff to write into the spec, for `--inline`; else the spec names
    /// the patch file.
    pub inline: Option<&'a str>,
}

/// The spec's text.
pub fn write_spec(spec: &NewSpec) -> String {
    let header = &spec.patch.header;
    let mut out = format!(
        "# Written by `kgpc new --from-patch` from {}.\n",
        comment_text(spec.fix_path)
    );
    if let Some(date) = &header.date {
        out.push_str(&format!("# Date: {}\n", comment_text(date)));
    }
    for fixes in header.tag_values("Fixes") {
        out.push_str(&format!("# Fixes: {}\n", comment_text(fixes)));
    }
    let name = patch_name(header.subject.as_deref(), spec.fix_path);
    out.push_str(&format!("patch {name} {{\n"));
    let description = header
        .subject
        .clone()
        .unwrap_or_else(|| format!("The fix in {}", spec.fix_path));
    entry(&mut out, "description", &description);
    // `git format-patch` of a change never committed says `From 0000...`.
    let commit = header
        .upstream_commit
        .as_ref()
        .or(header.commit.as_ref())
        .filter(|c| c.bytes().any(|b| b != b'0'));
    if let Some(commit) = commit {
        entry(&mut out, "reference commit", commit);
    }
    for cve in &header.cves {
        entry(&mut out, "reference cve", cve);
    }
    let urls = header.tag_values("Link").chain(header.tag_values("Closes"));
    for url in urls.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
        entry(&mut out, "reference url", url);
    }
    if let Some(author) = &header.author {
        entry(&mut out, "author", author);
    }
    out.push_str("}\n\ntarget {\n");
    entry(&mut out, "release", spec.release);
    out.push_str(&format!("    arch {}\n}}\n\n", spec.arch));
    kpatch_guidance(&mut out, &spec.patch.kpatch);
    match spec.inline {
        Some(diff) => {
            for line in header.message.lines() {
                let line = message_line(line);
                out.push_str(&if line.is_empty() {
                    "#\n".to_string()
                } else {
                    format!("# {line}\n")
                });
            }
            out.push_str("fix \"\"\"\n");
            out.push_str(diff);
            out.push_str("\"\"\"\n\n");
        }
        None => out.push_str(&format!("fix {}\n\n", quote(spec.fix_path))),
    }
    out.push_str(TEST_SKELETON);
    out
}

/// The test block to fill in.
const TEST_SKELETON: &str = "\
# What `kgpc test` proves in the target kernel (docs/language.md, \"test\"):
# fill in a command whose output the fix changes, then remove the `#`.
test {
    # fixed \"COMMAND\" contains \"TEXT\"
    # always \"cat /proc/version\" contains \"Linux\"
}
";

/// One `KEY "VALUE"` line of a block.
fn entry(out: &mut String, key: &str, value: &str) {
    let value: String = value
        .chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect();
    out.push_str(&format!("    {key} {}\n", quote(value.trim())));
}

/// Text for a comment: one line, without control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A line of the commit message as a comment: its indentation kept, its
/// other control characters made spaces.
fn message_line(line: &str) -> String {
    line.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The diff of a patch file's `text` for a text block: from the first
/// file's `diff --git` (or `---`) line to the end, without the mail's
/// signature (`-- ` and git's version). An error says why it cannot be one.
pub fn inline_diff(text: &str, patch: &PatchFile) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let first = patch.files.first().map_or(1, |f| f.line);
    let start = (1..=first)
        .rev()
        .take_while(|&n| n == first || !lines[n - 1].starts_with("--- "))
        .find(|&n| lines[n - 1].starts_with("diff "))
        .unwrap_or(first);
    let mut end = lines.len();
    if let Some(signature) = lines
        .iter()
        .rposition(|l| l.trim_end_matches(['\r', '\n']) == "-- ")
    {
        if signature >= start {
            end = signature;
        }
    }
    let mut diff: String = lines[start - 1..end].concat();
    if diff.contains("\"\"\"") {
        return Err("the diff contains `\"\"\"`, which would end the text block".into());
    }
    if !diff.ends_with('\n') {
        diff.push('\n');
    }
    Ok(diff)
}

/// What kgpc makes of kpatch-build's macros, as comments before the fix.
fn kpatch_guidance(out: &mut String, macros: &[KpatchMacro]) {
    if macros.is_empty() {
        return;
    }
    out.push_str(
        "# The fix was written for kpatch-build, with its kpatch-macros.h. kgpc reads\n\
         # the macros as they are written:\n",
    );
    for m in macros {
        let what = match m.argument.as_str() {
            "" => m.name.clone(),
            argument => format!("{}({argument})", m.name),
        };
        let said = match m.kind.conversion() {
            Conversion::Callback(name) => format!(
                "is the {name} callback of the object {} is built into",
                comment_text(&m.file)
            ),
            Conversion::Read(text) => text.to_string(),
            Conversion::Advice(advice) => {
                format!("has no equivalent, and `kgpc check` refuses it: {advice}")
            }
        };
        out.push_str(&format!(
            "# - {} (line {} of the patch) {said}.\n",
            comment_text(&what),
            m.line
        ));
    }
}

/// The patch's name: the subject in kebab case (else the patch file's name
/// without git's `0001-`), at most 45 characters, starting with a letter.
pub fn patch_name(subject: Option<&str>, fix_path: &str) -> String {
    let stem = fix_path.rsplit('/').next().unwrap_or(fix_path);
    let stem = stem
        .strip_suffix(".patch")
        .or_else(|| stem.strip_suffix(".diff"))
        .unwrap_or(stem);
    let stem = stem
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches('-');
    let mut name = subject
        .map(kebab)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| kebab(stem));
    if name.is_empty() {
        name = "fix".to_string();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("fix-{name}");
    }
    if name.len() > NAME_LIMIT {
        let cut = name[..=NAME_LIMIT].rfind('-').unwrap_or(NAME_LIMIT);
        name.truncate(cut);
    }
    name.trim_end_matches('-').to_string()
}

/// Lower-case ASCII letters and digits, every other run of characters one `-`.
fn kebab(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The release pattern a spec lists for a release: Debian's ABI number made
/// a `*` (`6.1.0-57-cloud-amd64` gives `6.1.0-*-cloud-amd64`), so that the
/// spec keeps matching the builds of one kernel; other releases as they are.
pub fn release_pattern(release: &str) -> String {
    let parts: Vec<&str> = release.split('-').collect();
    let version = parts.first().is_some_and(|v| {
        v.split('.').count() >= 2
            && v.split('.')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    let abi = parts
        .get(1)
        .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()));
    if parts.len() >= 3 && version && abi {
        let mut pattern = parts.clone();
        pattern[1] = "*";
        return pattern.join("-");
    }
    release.to_string()
}

/// The architecture a Debian release names with its last word (`amd64`),
/// `x86_64` when it names none kgpc knows.
pub fn release_arch(release: &str) -> &'static str {
    match release.rsplit('-').next().unwrap_or_default() {
        "arm64" => "arm64",
        "ppc64el" => "ppc64le",
        "s390x" => "s390x",
        "loong64" => "loongarch64",
        _ => "x86_64",
    }
}

#[cfg(test)]
#[path = "spec_writer_tests.rs"]
mod tests;
