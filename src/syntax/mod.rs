//! Parsing: source text to a syntax tree with spans.

pub mod ast;
pub mod c_lex;
pub mod c_lines;
pub mod c_words;
mod nesting;
mod parser;
mod recovery;
pub mod suggest;

pub use parser::{parse, parse_measured, Work, ITEM_KEYWORDS};
