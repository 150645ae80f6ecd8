//! Kernel versions such as `6.1`, as written in specs and releases.

use std::fmt;

/// A mainline kernel version: major, minor and an optional patch level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        KernelVersion {
            major,
            minor,
            patch: 0,
        }
    }

    /// Parses `6.1` or `6.1.90`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(KernelVersion {
            major,
            minor,
            patch,
        })
    }

    /// The version at the start of a release string, such as `6.1` of `6.1.0-57-cloud-amd64`.
    pub fn from_release(release: &str) -> Option<Self> {
        let end = release
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(release.len());
        let head = release[..end].trim_end_matches('.');
        let mut parts = head.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(KernelVersion::new(major, minor))
    }

    /// Whether two versions name the same mainline series (major and minor).
    pub fn same_series(self, other: KernelVersion) -> bool {
        self.major == other.major && self.minor == other.minor
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_and_releases() {
        assert_eq!(KernelVersion::parse("6.1"), Some(KernelVersion::new(6, 1)));
        assert_eq!(KernelVersion::parse("6.1.90").map(|v| v.patch), Some(90));
        assert_eq!(KernelVersion::parse("6"), None);
        assert_eq!(
            KernelVersion::from_release("6.1.0-57-cloud-amd64"),
            Some(KernelVersion::new(6, 1))
        );
        assert_eq!(
            KernelVersion::from_release("5.14.0-427.el9.x86_64"),
            Some(KernelVersion::new(5, 14))
        );
        assert_eq!(KernelVersion::from_release("*-cloud-amd64"), None);
        assert!(KernelVersion::new(5, 10) < KernelVersion::new(5, 15));
    }
}
