//! Which `linux-source` package a release was built from: the package named
//! after the release's major.minor version, of exactly the image's version,
//! read from apt-cache's text.

use super::FetchError;

/// The source package of one release, of the version its image was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePackage {
    /// Such as `linux-source-6.1`.
    pub package: String,
    /// Such as `6.1.192-3`, the version of the release's image package.
    pub version: String,
}

/// The name of the source package of `release`: `6.1.0-57-cloud-amd64` is
/// built from `linux-source-6.1`.
pub fn source_package_name(release: &str) -> Option<String> {
    let (major, rest) = release.split_once('.')?;
    let minor = rest.split(['.', '-']).next()?;
    if !is_number(major) || !is_number(minor) {
        return None;
    }
    Some(format!("linux-source-{major}.{minor}"))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Every `Version:` field of apt-cache show's text, one per stanza.
pub fn versions(show_text: &str) -> Vec<String> {
    show_text
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .map(|v| v.trim().to_string())
        .collect()
}

/// Picks the source package of `release` given what `apt-cache show` says of
/// its image (`image_text`) and of every version of the source package
/// (`source_text`): the source must have exactly the image's version.
pub fn match_source(
    release: &str,
    image_text: &str,
    source_text: &str,
) -> Result<SourcePackage, FetchError> {
    let package =
        source_package_name(release).ok_or_else(|| FetchError::BadRelease(release.to_string()))?;
    let Some(image_version) = versions(image_text).into_iter().next() else {
        return Err(FetchError::UnknownRelease {
            release: release.to_string(),
            detail: format!(
                " (apt has no version of linux-image-{release}); check that apt's sources name \
                 the distribution the kernel comes from"
            ),
        });
    };
    let available = versions(source_text);
    if available.contains(&image_version) {
        return Ok(SourcePackage {
            package,
            version: image_version,
        });
    }
    Err(FetchError::NoMatchingSource {
        release: release.to_string(),
        package,
        image_version,
        available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "Package: linux-image-6.1.0-57-cloud-amd64\n\
        Source: linux-signed-amd64 (6.1.192+3)\nVersion: 6.1.192-3\nArchitecture: amd64\n";

    #[test]
    fn the_source_package_is_named_after_major_and_minor() {
        assert_eq!(
            source_package_name("6.1.0-57-cloud-amd64").as_deref(),
            Some("linux-source-6.1")
        );
        assert_eq!(
            source_package_name("5.15.0-91-generic").as_deref(),
            Some("linux-source-5.15")
        );
        assert_eq!(source_package_name("linux"), None);
        assert_eq!(source_package_name("6-1"), None);
    }

    #[test]
    fn the_source_of_exactly_the_image_version_is_taken() {
        let source = "Package: linux-source-6.1\nVersion: 6.1.195-1\n\n\
            Package: linux-source-6.1\nVersion: 6.1.192-3\n\n";
        assert_eq!(
            match_source("6.1.0-57-cloud-amd64", IMAGE, source),
            Ok(SourcePackage {
                package: "linux-source-6.1".into(),
                version: "6.1.192-3".into(),
            })
        );
    }

    #[test]
    fn a_source_of_another_version_is_refused_naming_both() {
        let source = "Package: linux-source-6.1\nVersion: 6.1.195-1\n";
        let error = match_source("6.1.0-57-cloud-amd64", IMAGE, source).unwrap_err();
        assert_eq!(
            error,
            FetchError::NoMatchingSource {
                release: "6.1.0-57-cloud-amd64".into(),
                package: "linux-source-6.1".into(),
                image_version: "6.1.192-3".into(),
                available: vec!["6.1.195-1".into()],
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("6.1.192-3") && message.contains("6.1.195-1"),
            "{message}"
        );
    }

    #[test]
    fn an_image_apt_does_not_know_is_an_unknown_release() {
        let error = match_source("6.1.0-57-cloud-amd64", "", "").unwrap_err();
        assert!(
            matches!(error, FetchError::UnknownRelease { .. }),
            "{error:?}"
        );
    }
}
