//! Parsing: source text to a syntax tree with spans.

pub mod ast;
mod keywords;
mod nesting;
mod parser;
mod recovery;

pub use keywords::ITEM_KEYWORDS;
pub use parser::{parse, parse_measured, Work};
