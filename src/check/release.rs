//! Choosing the one kernel release a compile is for.
//!
//! A spec may list several releases and patterns (`6.1.0-*-cloud-amd64`), as
//! one fix ships for many builds of a distribution kernel. Each compile
//! resolves exactly one: the one asked for, the spec's only literal release,
//! or the first candidate (the banner of `--vmlinux`, the running kernel, then
//! the kernel cache) that a pattern matches.

/// What the caller offers for resolution.
#[derive(Debug, Clone, Default)]
pub struct ReleaseRequest {
    /// `--release`: must match one of the spec's releases.
    pub explicit: Option<String>,
    /// Releases found on this machine, with where each was found.
    pub candidates: Vec<(String, String)>,
}

/// Whether `release` matches `pattern`, where `*` matches any run of
/// characters and `?` any one character; every other character, `[`, `]`
/// and `\` too, matches only itself.
// Not `glob::Pattern`: it reads `[...]` as a class, refuses `[` alone and `**` inside a component.
pub fn matches(pattern: &str, release: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let r: Vec<char> = release.chars().collect();
    let (mut pi, mut ri) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ri < r.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == r[ri]) {
            pi += 1;
            ri += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ri));
            pi += 1;
        } else if let Some((sp, sr)) = star {
            pi = sp + 1;
            ri = sr + 1;
            star = Some((sp, sr + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub fn is_pattern(release: &str) -> bool {
    release.contains(['*', '?'])
}

/// Resolves the release, or returns why none could be chosen.
pub fn resolve(spec: &[String], request: &ReleaseRequest) -> Result<(String, String), String> {
    let fits = |release: &str| spec.iter().any(|p| matches(p, release));
    if let Some(explicit) = &request.explicit {
        return if fits(explicit) {
            Ok((explicit.clone(), "given with --release".to_string()))
        } else {
            Err(format!(
                "release `{explicit}` is not among the spec's targets"
            ))
        };
    }
    if let [only] = spec {
        if !is_pattern(only) {
            return Ok((only.clone(), "the only release the spec names".to_string()));
        }
    }
    for (candidate, source) in &request.candidates {
        if fits(candidate) {
            return Ok((candidate.clone(), source.clone()));
        }
    }
    Err("the spec names several releases or a pattern, and none was chosen".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(matches("6.1.0-*-cloud-amd64", "6.1.0-57-cloud-amd64"));
        assert!(matches("6.1.0-5?-cloud-amd64", "6.1.0-57-cloud-amd64"));
        assert!(!matches("6.1.0-*-cloud-amd64", "6.1.0-57-amd64"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
    }

    /// Only `*` and `?` are special (docs/language.md): brackets and backslashes are
    /// plain characters, and `**` is one more star, where a shell glob differs.
    #[test]
    fn only_stars_and_question_marks_are_special() {
        assert!(matches("6.1.0-[57]-cloud", "6.1.0-[57]-cloud"));
        assert!(!matches("6.1.0-[57]-cloud", "6.1.0-5-cloud"));
        assert!(matches("6.1.0-[", "6.1.0-["));
        assert!(matches("a\\*", "a\\x"));
        assert!(!matches("a\\*", "a*"));
        assert!(matches("6.1.0-**-amd64", "6.1.0-57-cloud-amd64"));
        assert!(matches("*", "a/b"));
        assert!(matches("?", "é"));
        assert!(!matches("?", ""));
        assert!(matches("", ""));
        assert!(!matches("", "6.1"));
    }

    #[test]
    fn resolution_order() {
        let spec = vec!["6.1.0-*-cloud-amd64".to_string()];
        let mut request = ReleaseRequest::default();
        assert!(resolve(&spec, &request).is_err());
        request
            .candidates
            .push(("5.10.0-1-amd64".into(), "the running kernel".into()));
        request
            .candidates
            .push(("6.1.0-60-cloud-amd64".into(), "the kernel cache".into()));
        assert_eq!(resolve(&spec, &request).unwrap().0, "6.1.0-60-cloud-amd64");
        request.explicit = Some("6.1.0-61-cloud-amd64".into());
        assert_eq!(resolve(&spec, &request).unwrap().1, "given with --release");
        request.explicit = Some("6.2.0-1-cloud-amd64".into());
        assert!(resolve(&spec, &request).is_err());
        let literal = vec!["6.1.0-57-cloud-amd64".to_string()];
        assert_eq!(
            resolve(&literal, &ReleaseRequest::default()).unwrap().0,
            "6.1.0-57-cloud-amd64"
        );
    }
}
