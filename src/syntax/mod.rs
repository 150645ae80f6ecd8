//! Parsing: source text to a syntax tree with spans.

pub mod ast;
mod nesting;
mod parser;
mod recovery;
pub mod suggest;

pub use parser::{parse, parse_measured, Work, ITEM_KEYWORDS};
