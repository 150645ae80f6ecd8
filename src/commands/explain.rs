//! `kgpc explain`: the long explanation of a diagnostic code.

use super::{EXIT_OK, EXIT_USAGE};
use crate::cli::ExplainArgs;
use crate::codes::Code;
use crate::syntax::suggest::did_you_mean;

pub fn explain(args: &ExplainArgs) -> i32 {
    if args.list {
        for code in Code::ALL {
            println!("{}  {}", code.as_str(), code.title());
        }
        return EXIT_OK;
    }
    let text = args.code.as_deref().unwrap_or_default();
    match Code::parse(text) {
        Some(code) => {
            print!("{}", code.explanation());
            EXIT_OK
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            eprintln!("error: `{text}` is not a kgpc diagnostic code");
            if let Some(best) = did_you_mean(&text.to_uppercase(), &all) {
                eprintln!("help: did you mean `{best}`?");
            }
            eprintln!("help: `kgpc explain --list` lists every code");
            EXIT_USAGE
        }
    }
}
