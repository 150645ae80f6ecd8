//! The subcommands. Each parses its arguments into the pipeline's options,
//! runs the pipeline, prints what came back and returns how it ended.

mod build;
mod build_report;
mod compile;
mod explain;
mod fleet;
mod fmt;
mod inspect;
mod kernel;
mod kernel_list;
mod kernel_trim;
mod new;
mod package;
mod review;
pub(crate) mod session;
mod size;
mod source;
mod test;
mod test_many;
mod test_summary;
mod test_verdict;

use crate::cli::{Cli, Command};
use crate::error::{Error, EXIT_OK, EXIT_SPEC_ERRORS};

/// How a command that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Success {
    Done,
    /// `kgpc fmt --check` found a file that formatting would change.
    NotFormatted,
}

impl Success {
    pub fn exit_code(self) -> i32 {
        match self {
            Success::Done => EXIT_OK,
            Success::NotFormatted => EXIT_SPEC_ERRORS,
        }
    }
}

pub fn run(cli: Cli) -> Result<Success, Error> {
    let done = |result: Result<(), Error>| result.map(|()| Success::Done);
    match cli.command {
        Command::Compile(args) => done(compile::compile(&args)),
        Command::Check(args) => done(compile::check(&args)),
        Command::Explain(args) => done(explain::explain(&args)),
        Command::Fmt(args) => fmt::fmt(&args),
        Command::Build(args) => done(build::build(&args)),
        Command::Test(args) => done(test::test(&args)),
        Command::Kernel(args) => done(kernel::kernel(&args)),
        Command::Review(args) => done(review::review(&args)),
        Command::Diff(args) => done(review::diff(&args)),
        Command::Inspect(args) => done(inspect::inspect(&args)),
        Command::Source(args) => done(source::source(&args)),
        Command::New(args) => done(new::new(&args)),
        Command::Package(args) => done(package::package(&args)),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "kgpc", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script));
            Ok(Success::Done)
        }
    }
}
