//! The subcommands. Each returns the process exit status.

mod build;
mod compile;
mod explain;
mod fmt;
mod inspect;
mod kernel;
mod review;
pub(crate) mod session;
mod test;

use crate::cli::{Cli, Command};

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: the spec has errors.
pub const EXIT_SPEC_ERRORS: i32 = 1;
/// Exit status: the command line is wrong.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the output could not be written.
pub const EXIT_OUTPUT: i32 = 3;
/// Exit status: the module could not be built, or what building it needs is missing.
pub const EXIT_BUILD: i32 = 4;
/// Exit status: the module was built but its test in the VM failed.
pub const EXIT_TEST: i32 = 5;

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Compile(args) => compile::compile(&args),
        Command::Check(args) => compile::check(&args),
        Command::Explain(args) => explain::explain(&args),
        Command::Fmt(args) => fmt::fmt(&args),
        Command::Build(args) => build::build(&args),
        Command::Test(args) => test::test(&args),
        Command::Kernel(args) => kernel::kernel(&args),
        Command::Review(args) => review::review(&args),
        Command::Diff(args) => review::diff(&args),
        Command::Inspect(args) => inspect::inspect(&args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "kgpc", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script));
            EXIT_OK
        }
    }
}
