//! A function's definition as the target has it: the function's symbol is
//! found in the kernel's index (`in FILE` picking one of several of one
//! name), DWARF says where it is declared, and that file of the release's
//! source tree (`kgpc kernel fetch --source`) gives the definition's lines.

pub mod apply_fix;
pub mod changes;
pub mod compile;
mod compile_error;
pub mod compiler_view;
pub mod context;
pub mod derive;
mod error;
pub mod header_overlay;
pub mod header_users;
pub mod line_map;
mod mirror;
pub mod object_diff;

pub use compile::{compile_unit, compile_unit_with, CompiledUnit, UnitKind};
pub use compile_error::{CompileError, LocatedMessage};
pub use error::SourceError;
pub use header_overlay::PatchedHeader;
pub use line_map::renumbered;
pub use object_diff::{
    compare, mark_line_only, Change, DataChange, FunctionChange, ObjectChanges, ObjectDiffError,
};

use crate::c::definition::find_definition;
use crate::kernel::{Kernel, Symbol};
use serde::Serialize;
use std::path::{Component, Path};

/// Source files larger than this are not read.
pub(crate) const SOURCE_FILE_LIMIT: u64 = 16 << 20;

/// One function's definition in the source tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundDefinition {
    pub name: String,
    /// The file in the source tree, such as `kernel/fork.c`.
    pub file: String,
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
}

/// The definition of the function `name` of `kernel` in the source `tree`;
/// `in_file` picks one of several functions of that name.
pub fn definition(
    kernel: &Kernel,
    tree: &Path,
    name: &str,
    in_file: Option<&str>,
) -> Result<FoundDefinition, SourceError> {
    let symbol = pick_symbol(kernel, name, in_file)?;
    let place = symbol
        .function
        .as_ref()
        .and_then(|f| kernel.decl_place(f))
        .ok_or_else(|| SourceError::NoDeclLine {
            name: name.to_string(),
            object: kernel.object_name.clone(),
        })?;
    let missing = || SourceError::FileMissing {
        name: name.to_string(),
        file: place.file.clone(),
        tree: tree.to_path_buf(),
    };
    if !is_inside(&place.file) {
        return Err(missing());
    }
    let bytes = crate::read::read_regular(&tree.join(&place.file), SOURCE_FILE_LIMIT)
        .map_err(|_| missing())?;
    let text = String::from_utf8_lossy(&bytes);
    let line = usize::try_from(place.line).unwrap_or(usize::MAX);
    let found = find_definition(&text, name, line).ok_or_else(|| SourceError::NoDefinition {
        name: name.to_string(),
        file: place.file.clone(),
        line: place.line,
    })?;
    Ok(FoundDefinition {
        name: name.to_string(),
        file: place.file,
        start_line: found.start_line,
        end_line: found.end_line,
        text: found.text,
    })
}

/// Whether a path DWARF gives stays inside the tree it is joined to.
pub(crate) fn is_inside(file: &str) -> bool {
    Path::new(file)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The one function symbol of `name`, in `in_file` if given.
fn pick_symbol(kernel: &Kernel, name: &str, in_file: Option<&str>) -> Result<Symbol, SourceError> {
    let symbols = kernel.index().symbols_named(name);
    let functions: Vec<Symbol> = symbols
        .iter()
        .filter(|s| s.function.is_some())
        .cloned()
        .collect();
    if functions.is_empty() && !symbols.is_empty() {
        // A symbol DWARF does not describe, such as a function written in assembly.
        return Err(SourceError::NoDeclLine {
            name: name.to_string(),
            object: kernel.object_name.clone(),
        });
    }
    if functions.is_empty() {
        return Err(SourceError::NotFound {
            name: name.to_string(),
            object: kernel.object_name.clone(),
            suggestions: kernel.index().suggestions(name, 3),
        });
    }
    let chosen: Vec<Symbol> = match in_file {
        Some(file) => crate::kernel::index::from_file(&functions, file)
            .into_iter()
            .cloned()
            .collect(),
        None => functions.clone(),
    };
    match <[Symbol; 1]>::try_from(chosen) {
        Ok([one]) => Ok(one),
        Err(chosen) => Err(SourceError::Ambiguous {
            name: name.to_string(),
            in_file: in_file.map(str::to_string),
            matched: chosen.len(),
            files: if chosen.is_empty() {
                &functions
            } else {
                &chosen
            }
            .iter()
            .map(|s| s.file().unwrap_or("?").to_string())
            .collect(),
        }),
    }
}

/// The header line printed above a definition.
pub fn header(found: &FoundDefinition, release: &str) -> String {
    format!(
        "/* {}:{}-{} in {release} */",
        found.file, found.start_line, found.end_line
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_tree_are_read() {
        assert!(is_inside("kernel/fork.c"));
        assert!(is_inside("./include/linux/sched.h"));
        assert!(!is_inside("../etc/passwd"));
        assert!(!is_inside("/build/linux/kernel/fork.c"));
    }

    #[test]
    fn the_header_names_file_lines_and_release() {
        let found = FoundDefinition {
            name: "kernel_clone".into(),
            file: "kernel/fork.c".into(),
            start_line: 2612,
            end_line: 2698,
            text: String::new(),
        };
        assert_eq!(
            header(&found, "6.1.0-57-cloud-amd64"),
            "/* kernel/fork.c:2612-2698 in 6.1.0-57-cloud-amd64 */"
        );
    }
}
