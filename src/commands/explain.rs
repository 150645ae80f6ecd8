//! `kgpc explain`: the long explanation of a diagnostic code.

use super::{EXIT_OK, EXIT_USAGE};
use crate::cli::ExplainArgs;
use crate::codes::Code;
use crate::syntax::suggest::did_you_mean;

pub fn explain(args: &ExplainArgs) -> i32 {
    if args.list {
        for code in Code::ALL {
            crate::outln!("{}  {}", code.as_str(), code.title());
        }
        return EXIT_OK;
    }
    let text = args.code.as_deref().unwrap_or_default();
    match Code::parse(text) {
        Some(code) => {
            crate::out!("{}", code.explanation());
            EXIT_OK
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            crate::errln!("error: `{text}` is not a kgpc diagnostic code");
            if let Some(best) = did_you_mean(&text.to_uppercase(), &all) {
                crate::errln!("help: did you mean `{best}`?");
            }
            crate::errln!("help: `kgpc explain --list` lists every code");
            EXIT_USAGE
        }
    }
}
