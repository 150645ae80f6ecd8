//! Parsing: source text to a syntax tree with spans.

pub mod ast;
mod parser;
pub mod suggest;

pub use parser::{parse, ITEM_KEYWORDS};
