//! A kernel build's configuration, as `make` writes it to `.config` and
//! Debian ships it as `/boot/config-RELEASE`: `CONFIG_NAME=VALUE` lines,
//! `# CONFIG_NAME is not set` lines, other comments and blank lines.

use std::path::PathBuf;

/// One option's line in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigLine {
    /// The value as written after `=` (`y`, `m`, `8192`, `"text"` with its
    /// quotes), or `n` for a `# CONFIG_NAME is not set` line.
    pub value: String,
    /// The line number, from 1.
    pub line: usize,
    /// The line as written.
    pub text: String,
}

/// The options of one build's configuration. The text is kept as read and
/// searched for the few options a spec asks about, which costs less than
/// indexing the thousands of lines a distribution's config has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelConfig {
    /// The file it was read from.
    pub path: PathBuf,
    text: String,
}

/// A line that is neither an option, a "not set" comment, another comment nor blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedLine {
    pub line: usize,
    pub text: String,
}

impl KernelConfig {
    /// Reads the text of a config file; every line must be one that `make` writes.
    pub fn parse(path: PathBuf, text: &str) -> Result<KernelConfig, MalformedLine> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if !(line.is_empty() || line.starts_with('#') || option_of(line).is_some()) {
                return Err(MalformedLine {
                    line: index + 1,
                    text: line.to_string(),
                });
            }
        }
        Ok(KernelConfig {
            path,
            text: text.to_string(),
        })
    }

    /// The option's line, if the file sets it or says it is not set; as in
    /// Kconfig, a later line wins. Only the lines that hold the name are read.
    pub fn get(&self, option: &str) -> Option<ConfigLine> {
        let mut found: Option<(usize, &str, &str)> = None;
        for (at, _) in self.text.match_indices(option) {
            let start = self.text[..at].rfind('\n').map_or(0, |n| n + 1);
            let end = self.text[at..]
                .find('\n')
                .map_or(self.text.len(), |n| at + n);
            let line = self.text[start..end].trim_end();
            let value = match line.strip_prefix('#') {
                Some(comment) => (not_set(comment) == Some(option)).then_some("n"),
                None => option_of(line)
                    .filter(|(name, _)| *name == option)
                    .map(|(_, value)| value),
            };
            if let Some(value) = value {
                found = Some((start, line, value));
            }
        }
        let (start, line, value) = found?;
        Some(ConfigLine {
            value: value.to_string(),
            line: self.text[..start].matches('\n').count() + 1,
            text: line.to_string(),
        })
    }

    /// The option's value: `n` when it is not set or not in the file at all,
    /// which is what Kconfig means by an option that is absent.
    pub fn value(&self, option: &str) -> String {
        self.get(option).map_or("n".to_string(), |l| l.value)
    }

    /// Whether the option is `y` or `m`.
    pub fn enabled(&self, option: &str) -> bool {
        matches!(self.value(option).as_str(), "y" | "m")
    }

    /// What the file says of an option, for messages: its line with the
    /// line number, or that the file does not mention it.
    pub fn says(&self, option: &str) -> String {
        match self.get(option) {
            Some(line) => format!("{}:{}: {}", self.path.display(), line.line, line.text),
            None => format!("{} does not mention {option}", self.path.display()),
        }
    }
}

/// The option and value of a `CONFIG_NAME=VALUE` line.
fn option_of(line: &str) -> Option<(&str, &str)> {
    line.split_once('=')
        .filter(|(name, _)| is_option_name(name))
}

/// The option a `# CONFIG_NAME is not set` comment names.
fn not_set(comment: &str) -> Option<&str> {
    let name = comment.trim_start().strip_suffix(" is not set")?;
    is_option_name(name).then_some(name)
}

/// `CONFIG_` followed by letters, digits and underscores.
pub fn is_option_name(name: &str) -> bool {
    name.strip_prefix("CONFIG_").is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.192 Kernel Configuration\n#\nCONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0\"\nCONFIG_X86_64=y\n\nCONFIG_NR_CPUS=8192\nCONFIG_NFSD=m\n# CONFIG_BT is not set\n";

    fn config() -> KernelConfig {
        KernelConfig::parse(PathBuf::from("/boot/config-x"), TEXT).expect("a config")
    }

    #[test]
    fn options_not_set_and_absent_are_n() {
        let config = config();
        assert_eq!(config.value("CONFIG_X86_64"), "y");
        assert_eq!(config.value("CONFIG_NFSD"), "m");
        assert_eq!(config.value("CONFIG_NR_CPUS"), "8192");
        assert_eq!(config.value("CONFIG_BT"), "n");
        assert_eq!(config.value("CONFIG_NOWHERE"), "n");
        assert_eq!(
            config.value("CONFIG_CC_VERSION_TEXT"),
            "\"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0\""
        );
        assert!(config.enabled("CONFIG_NFSD") && !config.enabled("CONFIG_BT"));
        assert_eq!(
            config.says("CONFIG_BT"),
            "/boot/config-x:10: # CONFIG_BT is not set"
        );
        assert_eq!(
            config.says("CONFIG_NOWHERE"),
            "/boot/config-x does not mention CONFIG_NOWHERE"
        );
    }

    #[test]
    fn a_line_make_never_writes_is_refused_with_its_number() {
        let error = KernelConfig::parse(PathBuf::from("c"), "CONFIG_A=y\nthis is not a config\n")
            .expect_err("not a config");
        assert_eq!(
            error,
            MalformedLine {
                line: 2,
                text: "this is not a config".into()
            }
        );
        assert!(KernelConfig::parse(PathBuf::from("c"), "A=y\n").is_err());
    }
}
