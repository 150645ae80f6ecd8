//! C text as gcc reads it: the lexer, and the few changes kgpc makes to C
//! (joining a parameter list, re-indenting a block, counting braces). The
//! formatter, the checker and the generator change C only through here.

pub mod braces;
pub mod conditional;
pub mod definition;
pub mod kept_macros;
pub mod lexer;
pub mod line_starts;
pub mod lines;
pub mod module_hidden;
pub mod signature;
pub mod syscall_definition;
pub mod top_level;
pub mod words;
