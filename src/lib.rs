//! kgpc: a compiler for declarative Linux kernel live-patch specs.
//!
//! The pipeline, one module per stage: [`syntax`] parses a `.kgp` file into a
//! syntax tree, [`load`] follows its imports, [`check`] lowers the trees to a
//! checked [`check::Model`], and [`generate`] renders the livepatch module's C
//! source, Kbuild and Makefile. [`output`] writes them atomically.
//! [`pipeline`] runs these stages as one library call. The command-line front
//! end lives in [`cli`] and [`commands`], whose failures are [`error::Error`].

pub mod atomic_write;
pub mod build;
pub mod build_id;
pub mod c;
pub mod check;
pub mod cli;
pub mod codes;
pub mod commands;
pub mod diagnostic;
pub mod digest;
pub mod error;
pub mod fetch;
pub mod format;
pub mod generate;
pub mod kernel;
pub mod load;
pub mod output;
pub mod package;
pub mod patch_file;
pub mod pipeline;
pub mod read;
pub mod render;
pub mod review;
pub mod scope;
pub mod source;
pub mod source_tree;
pub mod std_specs;
pub mod stdio;
pub mod suggest;
pub mod syntax;
pub mod vm;
