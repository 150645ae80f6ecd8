//! `kgpc source`: a function's definition as the target's source has it.

use super::inspect::vmlinux_path;
use super::session::Session;
use crate::cli::{FactsFormat, MessageFormat, SourceArgs};
use crate::error::Error;
use crate::fetch::{cache_dir, source_dir, source_ready};
use crate::kernel::{Kernel, OpenOptions};
use crate::source_tree::{definition, header};

/// Prints the definition of the function asked for; every problem is a
/// diagnostic with its code.
pub fn source(args: &SourceArgs) -> Result<(), Error> {
    let mut session = Session::new(MessageFormat::Human);
    run(args).map_err(|error| session.fail(error, "show the function's source"))
}

fn run(args: &SourceArgs) -> Result<(), Error> {
    let cache = cache_dir();
    let path = vmlinux_path(&args.vmlinux, &args.release)?;
    let options = OpenOptions {
        cache_dir: Some(cache.clone()),
        progress: true,
        object_name: None,
        btf_base: None,
    };
    let kernel = Kernel::open(&path, &options).map_err(|error| Error::Unreadable {
        module: false,
        error,
    })?;
    let release = args
        .release
        .clone()
        .or_else(|| kernel.meta().release.clone())
        .unwrap_or_default();
    let tree = source_ready(&cache, &release).ok_or_else(|| Error::NoSourceTree {
        release: release.clone(),
        dir: source_dir(&cache, &release),
    })?;
    let found = definition(&kernel, &tree.dir, &args.function, args.in_file.as_deref())
        .map_err(Error::Source)?;
    match args.format {
        FactsFormat::Human => {
            crate::outln!("{}", header(&found, &release));
            crate::out!("{}", found.text);
        }
        FactsFormat::Json => {
            let json = serde_json::to_string_pretty(&found).unwrap_or_default();
            crate::outln!("{json}");
        }
    }
    Ok(())
}
