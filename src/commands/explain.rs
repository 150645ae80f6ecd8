//! `kgpc explain`: the long explanation of a diagnostic code.

use crate::cli::ExplainArgs;
use crate::codes::Code;
use crate::error::Error;
use crate::suggest::did_you_mean;

pub fn explain(args: &ExplainArgs) -> Result<(), Error> {
    if args.list {
        for code in Code::ALL {
            crate::outln!("{}  {}", code.as_str(), code.title());
        }
        return Ok(());
    }
    let text = args.code.as_deref().unwrap_or_default();
    let Some(code) = Code::parse(text) else {
        let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let suggestion = did_you_mean(&text.to_uppercase(), &all)
            .and_then(|best| Code::ALL.iter().map(|c| c.as_str()).find(|c| *c == best));
        let error = Error::UnknownCode {
            text: text.to_string(),
            suggestion,
        };
        error.print_plain();
        return Err(error);
    };
    crate::out!("{}", code.explanation());
    Ok(())
}
