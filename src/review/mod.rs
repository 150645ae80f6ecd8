//! Reviewing specs: the Markdown report of `kgpc review` and the semantic
//! diff of `kgpc diff`. Both read only the checked model, so what they say
//! is what the generated module does.

mod config_report;
mod diff;
mod fix_report;
mod markdown;
pub mod report;
pub mod source_diff;
mod usage;

pub use diff::{diff, SpecDiff};
pub use report::report;
