//! A kernel config requirement of the model (`requires CONFIG_BT`), and
//! whether a build's configuration meets it.

use crate::kernel::config::KernelConfig;
use crate::source::Span;

/// `requires CONFIG_NAME[=VALUE] [else ACTION]`, lowered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `CONFIG_BT`.
    pub option: String,
    pub wanted: Wanted,
    /// What a build that does not meet it gets.
    pub unmet: Unmet,
    /// The whole requirement in the spec.
    pub span: Span,
}

/// What the option must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `y` or `m`: `requires CONFIG_BT`.
    Enabled,
    /// Exactly this value, as `.config` writes it: `y`, `m`, `n` (not set),
    /// a number, or a string with its quotes.
    Value(String),
}

/// What an unmet requirement does to a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet {
    /// The build fails (the default at the top level, `else error`).
    Error,
    /// The build is skipped: nothing is written or built (`else skip`).
    Skip,
    /// The object is left out of the build's module (the default in an object).
    LeaveOut,
}

impl Requirement {
    /// The requirement as the spec would write it, without its `else`.
    pub fn describe(&self) -> String {
        match &self.wanted {
            Wanted::Enabled => self.option.clone(),
            Wanted::Value(value) => format!("{}={value}", self.option),
        }
    }

    /// What the requirement asks for, for people: "y or m", "not set", "8192".
    pub fn wants(&self) -> String {
        match &self.wanted {
            Wanted::Enabled => "y or m".to_string(),
            Wanted::Value(value) if value == "n" => "not set".to_string(),
            Wanted::Value(value) => value.clone(),
        }
    }

    /// Whether `config` meets it.
    pub fn met_by(&self, config: &KernelConfig) -> bool {
        let actual = config.value(&self.option);
        match &self.wanted {
            Wanted::Enabled => config.enabled(&self.option),
            Wanted::Value(value) => same_value(value, &actual),
        }
    }
}

/// Two values of `.config`: equal as text, or as the same number written in
/// decimal and hexadecimal (`0x1000` and `4096`).
fn same_value(wanted: &str, actual: &str) -> bool {
    wanted == actual || matches!((number(wanted), number(actual)), (Some(a), Some(b)) if a == b)
}

/// A decimal or `0x` hexadecimal integer, as Kconfig's `int` and `hex` options hold.
pub fn number(text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i128::from_str_radix(hex, 16).ok();
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn requirement(option: &str, wanted: Wanted) -> Requirement {
        Requirement {
            option: option.into(),
            wanted,
            unmet: Unmet::Error,
            span: Span::new(crate::source::FileId(0), 0, 0),
        }
    }

    #[test]
    fn values_are_compared_as_kconfig_writes_them() {
        let text = "CONFIG_NFSD=m\nCONFIG_PHYS=0x1000000\nCONFIG_NR_CPUS=8192\n# CONFIG_BT is not set\nCONFIG_S=\"a b\"\n";
        let config = KernelConfig::parse(PathBuf::from("c"), text).expect("a config");
        let value = |v: &str| Wanted::Value(v.to_string());
        assert!(requirement("CONFIG_NFSD", Wanted::Enabled).met_by(&config));
        assert!(!requirement("CONFIG_NFSD", value("y")).met_by(&config));
        assert!(requirement("CONFIG_PHYS", value("16777216")).met_by(&config));
        assert!(requirement("CONFIG_NR_CPUS", value("0x2000")).met_by(&config));
        assert!(!requirement("CONFIG_NR_CPUS", value("64")).met_by(&config));
        assert!(!requirement("CONFIG_BT", Wanted::Enabled).met_by(&config));
        assert!(requirement("CONFIG_BT", value("n")).met_by(&config));
        assert!(requirement("CONFIG_ABSENT", value("n")).met_by(&config));
        assert!(requirement("CONFIG_S", value("\"a b\"")).met_by(&config));
        assert_eq!(requirement("CONFIG_BT", value("n")).wants(), "not set");
    }
}
