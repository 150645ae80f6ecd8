//! Checking: lowering syntax trees to a validated [`Model`].

pub mod api;
pub mod body_symbols;
pub mod c_decl;
pub(crate) mod c_uses;
pub mod closure;
pub mod config_check;
pub mod coverage;
pub mod instead;
pub mod kernel_rules;
pub mod livepatch_config;
pub(crate) mod lower;
pub mod model;
pub(crate) mod name_list;
pub mod names;
pub mod positions;
pub mod release;
pub mod requirement;
pub mod version;

pub use lower::{lower, LowerOptions};
pub use model::Model;
