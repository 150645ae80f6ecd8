//! The target block: the releases, architecture, version and build id, and
//! the one release this run is for.

use super::{LowerOptions, Lowerer};
use crate::check::model::Target;
use crate::check::release::{self, ReleaseRequest};
use crate::check::version::KernelVersion;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast::{Str, TargetBlock, TargetEntry, Word};

/// Architectures with livepatch support in mainline, and the first version of each.
pub(super) const ARCHES: &[(&str, KernelVersion)] = &[
    ("x86_64", KernelVersion::new(4, 0)),
    ("ppc64le", KernelVersion::new(4, 7)),
    ("s390x", KernelVersion::new(5, 5)),
    ("loongarch64", KernelVersion::new(6, 6)),
    ("arm64", KernelVersion::new(6, 17)),
];

/// The entries of a target block, each property at its first value.
struct TargetEntries<'b> {
    /// The releases and patterns that are not empty, with their spans.
    releases: Vec<&'b Str>,
    arch: Option<&'b Word>,
    version: Option<&'b Word>,
    build_id: Option<&'b Str>,
}

impl Lowerer<'_> {
    /// The target, or `None` when it cannot be resolved (reported).
    pub(super) fn target(&mut self, block: &TargetBlock, options: &LowerOptions) -> Option<Target> {
        let entries = self.target_entries(block);
        if entries.releases.is_empty() {
            self.missing(
                block.keyword,
                block.span,
                "target",
                "release",
                "release \"6.1.0-*-cloud-amd64\"",
            );
        }
        let arch = match entries.arch {
            None => {
                self.missing(block.keyword, block.span, "target", "arch", "arch x86_64");
                None
            }
            Some(w) => self.known_arch(w),
        };
        let first_release = entries.releases.first()?.span;
        let releases: Vec<String> = entries.releases.iter().map(|v| v.value.clone()).collect();
        let (release, release_source) =
            self.resolve_release(&releases, &entries.releases, &options.release)?;
        let version = self.target_version(entries.version, &release, first_release);
        Some(Target {
            releases,
            release,
            release_source,
            span: first_release,
            arch: arch?,
            version: version?,
            build_id: entries.build_id.map(|s| s.value.to_lowercase()),
        })
    }

    /// Reads the entries, reporting empty releases, malformed build ids and
    /// properties given twice.
    fn target_entries<'b>(&mut self, block: &'b TargetBlock) -> TargetEntries<'b> {
        let mut entries = TargetEntries {
            releases: Vec::new(),
            arch: None,
            version: None,
            build_id: None,
        };
        for entry in &block.entries {
            match entry {
                TargetEntry::Release { values, .. } => {
                    for v in values.iter().filter(|v| v.value.trim().is_empty()) {
                        self.error(
                            Diagnostic::error(Code::InvalidVersion, "a release cannot be empty")
                                .at(v.span, "empty release")
                                .with_help("write a release as `uname -r` prints it, or a pattern such as \"6.1.0-*-cloud-amd64\""),
                        );
                    }
                    let given = values.iter().filter(|v| !v.value.trim().is_empty());
                    entries.releases.extend(given);
                }
                TargetEntry::Arch(w) => self.keep_first(&mut entries.arch, w, "arch", |w| w.span),
                TargetEntry::Version(w) => {
                    self.keep_first(&mut entries.version, w, "version", |w| w.span);
                }
                TargetEntry::BuildId(s) => {
                    self.keep_first(&mut entries.build_id, s, "build_id", |s| s.span);
                    if !(s.value.len() >= 8 && s.value.chars().all(|c| c.is_ascii_hexdigit())) {
                        self.error(
                            Diagnostic::error(Code::InvalidVersion, format!("`{}` is not a build id", s.value))
                                .at(s.span, "expected hexadecimal digits")
                                .with_help("a build id is the hex string `readelf -n vmlinux` prints as `Build ID`"),
                        );
                    }
                }
                TargetEntry::Bad(_) => {}
            }
        }
        entries
    }

    /// The architecture's name, if livepatch supports it; else reports it.
    fn known_arch(&mut self, w: &Word) -> Option<String> {
        if ARCHES.iter().any(|(a, _)| *a == w.text) {
            return Some(w.text.clone());
        }
        let names: Vec<&str> = ARCHES.iter().map(|(a, _)| *a).collect();
        let mut d = Diagnostic::error(
            Code::UnknownArch,
            format!("architecture `{}` has no livepatch support", w.text),
        )
        .at(w.span, "unknown or unsupported")
        .with_note(format!("livepatch exists for: {}", names.join(", ")));
        // Debian and uname name some architectures differently from the kernel.
        let alias = match w.text.as_str() {
            "amd64" | "x86-64" => Some("x86_64"),
            "aarch64" => Some("arm64"),
            "ppc64el" => Some("ppc64le"),
            "s390" => Some("s390x"),
            _ => None,
        };
        if let Some(best) = alias.or_else(|| did_you_mean(&w.text, &names)) {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        self.error(d);
        None
    }

    /// The one release this run is for, and how it was chosen; else reports
    /// why none was. `spans` are the spec's releases, never empty.
    fn resolve_release(
        &mut self,
        releases: &[String],
        spans: &[&Str],
        request: &ReleaseRequest,
    ) -> Option<(String, String)> {
        let why = match release::resolve(releases, request) {
            Ok(found) => return Some(found),
            Err(why) => why,
        };
        let (first, rest) = spans.split_first()?;
        let mut d = Diagnostic::error(
            Code::ReleaseNotResolved,
            format!("no kernel release chosen: {why}"),
        )
        .at(first.span, "the spec's releases");
        for s in rest {
            d = d.also(s.span, "also targeted");
        }
        if request.explicit.is_none() && !request.candidates.is_empty() {
            let seen: Vec<String> = request
                .candidates
                .iter()
                .map(|(r, s)| format!("{r} ({s})"))
                .collect();
            d = d.with_note(format!("releases on this machine: {}", seen.join(", ")));
        }
        self.error(
            d.with_help("pass `--release RELEASE` with a release the spec names or matches"),
        );
        None
    }

    /// The kernel version: the one given, which must agree with the release,
    /// else the one the release starts with.
    fn target_version(
        &mut self,
        given: Option<&Word>,
        release: &str,
        release_span: Span,
    ) -> Option<KernelVersion> {
        let from_release = KernelVersion::from_release(release);
        let Some(w) = given else {
            if from_release.is_none() {
                self.error(
                    Diagnostic::error(
                        Code::InvalidVersion,
                        format!("cannot tell the kernel version of release `{release}`"),
                    )
                    .at(release_span, "no version at its start")
                    .with_help("add `version MAJOR.MINOR` to the target block"),
                );
            }
            return from_release;
        };
        let Some(v) = KernelVersion::parse(&w.text) else {
            self.error(
                Diagnostic::error(
                    Code::InvalidVersion,
                    format!("`{}` is not a kernel version", w.text),
                )
                .at(w.span, "expected MAJOR.MINOR such as 6.1"),
            );
            return None;
        };
        if let Some(r) = from_release.filter(|r| !r.same_series(v)) {
            self.error(
                Diagnostic::error(
                    Code::InvalidVersion,
                    format!("version {v} disagrees with release `{release}`, which is {r}"),
                )
                .at(w.span, "does not match the release")
                .with_help("fix the version, or drop it: kgpc reads it from the release"),
            );
        }
        Some(v)
    }
}
