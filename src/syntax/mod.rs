//! Parsing: source text to a syntax tree with spans.

pub mod ast;
pub mod c_lex;
pub mod c_lines;
pub mod c_words;
mod parser;
pub mod suggest;

pub use parser::{parse, ITEM_KEYWORDS};
