//! Two compiles of one source file (the original and the patched) compared
//! function by function and data item by data item, by bytes and by what
//! each relocation points to, with the table entries (`__bug_table`,
//! `__jump_table`, `__ex_table`, ...) that point at each function. A gcc
//! clone (`.part.N`, `.isra.N`, `.constprop.N`, `.cold`) counts as part of
//! the function it was made from.

mod pieces;
mod targets;
#[cfg(test)]
mod tests;

use pieces::{parent_name, Entry, Piece, Pieces, SymbolClass, Target};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Object files larger than this are not read; a large kernel object with
/// DWARF is a few tens of MiB.
const OBJECT_LIMIT: u64 = 1 << 30;

/// How a function or data item differs between the two compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Unchanged,
    /// Only line numbers differ: those of its `WARN`/`BUG` entries, or (see
    /// [`mark_line_only`]) `__LINE__` in its code.
    LineOnly,
    Changed,
    Added,
    Removed,
}

/// One function of the file, its clones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionChange {
    pub name: String,
    pub change: Change,
    /// The symbols it consists of: itself and gcc's clones of it.
    pub symbols: Vec<String>,
    /// In `.init.text` (`__init`), in either compile.
    pub init: bool,
    /// Defined with external linkage (not `static`).
    pub global: bool,
    /// The `static` functions of the file it calls or takes the address of.
    pub local_functions: Vec<String>,
    /// The `static` data of the file it uses.
    pub local_data: Vec<String>,
    /// The symbols it uses that the object does not define.
    pub undefined: Vec<String>,
    /// The global functions and data of the object itself it uses.
    pub defined_globals: Vec<String>,
    /// The string literals it uses.
    pub strings: Vec<String>,
}

/// One data item of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataChange {
    pub name: String,
    pub change: Change,
    pub section: String,
    pub global: bool,
    /// In a section the kernel may write (`.data`, `.bss`), not `.rodata`.
    pub writable: bool,
    /// In an `.init.*` section (`__initdata`, `__initconst`).
    pub init: bool,
    pub size: usize,
}

/// What differs between the two compiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObjectChanges {
    /// Every function of either compile, by name.
    pub functions: Vec<FunctionChange>,
    /// Every data item of either compile, by name.
    pub data: Vec<DataChange>,
}

impl ObjectChanges {
    /// The function named `name` (clones are part of their function).
    pub fn function(&self, name: &str) -> Option<&FunctionChange> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The data item named `name`.
    pub fn data_item(&self, name: &str) -> Option<&DataChange> {
        self.data.iter().find(|d| d.name == name)
    }

    /// The functions that are not unchanged.
    pub fn changed_functions(&self) -> impl Iterator<Item = &FunctionChange> {
        self.functions
            .iter()
            .filter(|f| f.change != Change::Unchanged)
    }

    /// The data items that are not unchanged.
    pub fn changed_data(&self) -> impl Iterator<Item = &DataChange> {
        self.data.iter().filter(|d| d.change != Change::Unchanged)
    }
}

/// Why two objects could not be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectDiffError {
    /// The file could not be read.
    Read { path: PathBuf, error: String },
    /// The file is not a relocatable x86-64 ELF object.
    NotAnObject { path: PathBuf, error: String },
}

impl fmt::Display for ObjectDiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectDiffError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            ObjectDiffError::NotAnObject { path, error } => {
                write!(
                    f,
                    "{} is not an object file kgpc can compare: {error}",
                    path.display()
                )
            }
        }
    }
}

/// Compares the objects of the original and the patched compile.
pub fn compare(original: &Path, patched: &Path) -> Result<ObjectChanges, ObjectDiffError> {
    let before = read_pieces(original)?;
    let after = read_pieces(patched)?;
    Ok(compare_pieces(&before, &after))
}

/// Turns into [`Change::LineOnly`] each changed function and data item that
/// is unchanged in `mapped`: the comparison of the original with the patched
/// text compiled again with its lines numbered as the original's
/// ([`crate::source_tree::line_map::renumbered`]), in which `__LINE__`, `WARN` entries and
/// dynamic debug records cannot differ.
pub fn mark_line_only(changes: &mut ObjectChanges, mapped: &ObjectChanges) {
    for function in &mut changes.functions {
        let same_without_lines = mapped
            .function(&function.name)
            .is_some_and(|m| m.change == Change::Unchanged);
        if function.change == Change::Changed && same_without_lines {
            function.change = Change::LineOnly;
        }
    }
    for item in &mut changes.data {
        let same_without_lines = mapped
            .data_item(&item.name)
            .is_some_and(|m| m.change == Change::Unchanged);
        if item.change == Change::Changed && same_without_lines {
            item.change = Change::LineOnly;
        }
    }
}

fn read_pieces(path: &Path) -> Result<Pieces, ObjectDiffError> {
    let bytes =
        crate::read::read_regular(path, OBJECT_LIMIT).map_err(|e| ObjectDiffError::Read {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
    pieces::read(&bytes).map_err(|error| ObjectDiffError::NotAnObject {
        path: path.to_path_buf(),
        error,
    })
}

/// A function and its clones, with the table entries that point at them.
struct Group<'a> {
    pieces: Vec<&'a Piece>,
    entries: Vec<&'a Entry>,
}

fn function_groups(pieces: &Pieces) -> BTreeMap<String, Group<'_>> {
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    let mut owner_of: BTreeMap<&str, String> = BTreeMap::new();
    for piece in &pieces.functions {
        let parent = parent_name(&piece.name).to_string();
        owner_of.insert(&piece.key, parent.clone());
        groups
            .entry(parent)
            .or_insert_with(|| Group {
                pieces: Vec::new(),
                entries: Vec::new(),
            })
            .pieces
            .push(piece);
    }
    for entry in &pieces.entries {
        if let Some(group) = owner_of
            .get(entry.owner.as_str())
            .and_then(|p| groups.get_mut(p))
        {
            group.entries.push(entry);
        }
    }
    for group in groups.values_mut() {
        group.pieces.sort_by(|a, b| a.key.cmp(&b.key));
        group.entries.sort();
    }
    groups
}

/// Whether two groups hold the same code: `Unchanged`, `LineOnly` when only
/// the line numbers of their entries differ, else `Changed`.
fn compare_groups(before: &Group<'_>, after: &Group<'_>) -> Change {
    let same_pieces = before.pieces.len() == after.pieces.len()
        && before
            .pieces
            .iter()
            .zip(&after.pieces)
            .all(|(a, b)| same_piece(a, b));
    if !same_pieces {
        return Change::Changed;
    }
    if before.entries == after.entries {
        return Change::Unchanged;
    }
    let without_lines = |entries: &[&Entry]| -> Vec<Entry> {
        let mut list: Vec<Entry> = entries
            .iter()
            .map(|e| Entry {
                line: None,
                ..(*e).clone()
            })
            .collect();
        list.sort();
        list
    };
    if without_lines(&before.entries) == without_lines(&after.entries) {
        Change::LineOnly
    } else {
        Change::Changed
    }
}

fn same_piece(a: &Piece, b: &Piece) -> bool {
    a.key == b.key
        && section_kind(a) == section_kind(b)
        && a.global == b.global
        && a.bytes == b.bytes
        && a.relocs == b.relocs
}

/// A piece's section without the piece's own name: `.rodata.` for
/// `.rodata.__func__.3`, whose number may differ between the compiles.
fn section_kind(piece: &Piece) -> String {
    piece.section.replace(&piece.name, "")
}

fn compare_pieces(before: &Pieces, after: &Pieces) -> ObjectChanges {
    let old = function_groups(before);
    let new = function_groups(after);
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let functions = names
        .into_iter()
        .filter_map(|name| {
            let (change, shown) = match (old.get(name), new.get(name)) {
                (Some(a), Some(b)) => (compare_groups(a, b), b),
                (None, Some(b)) => (Change::Added, b),
                (Some(a), None) => (Change::Removed, a),
                (None, None) => return None,
            };
            let init = [old.get(name), new.get(name)]
                .into_iter()
                .flatten()
                .any(|g| g.pieces.iter().any(|p| p.section.starts_with(".init.text")));
            let pieces = if change == Change::Removed {
                before
            } else {
                after
            };
            Some(describe_function(name, change, init, shown, pieces))
        })
        .collect();
    ObjectChanges {
        functions,
        data: compare_data(before, after),
    }
}

/// A function's entry: what it is made of and what it uses.
fn describe_function(
    name: &str,
    change: Change,
    init: bool,
    group: &Group<'_>,
    pieces: &Pieces,
) -> FunctionChange {
    let names: BTreeMap<&str, &str> = pieces
        .data
        .iter()
        .chain(&pieces.functions)
        .map(|p| (p.key.as_str(), p.name.as_str()))
        .collect();
    let name_of = |key: &str| names.get(key).map_or(key, |n| *n).to_string();
    let mut uses = Uses::default();
    for piece in &group.pieces {
        for reloc in &piece.relocs {
            uses.add(&reloc.target, name, &name_of);
        }
    }
    FunctionChange {
        name: name.to_string(),
        change,
        symbols: group.pieces.iter().map(|p| p.name.clone()).collect(),
        init,
        global: group.pieces.iter().any(|p| p.global && p.name == name),
        local_functions: uses.local_functions.into_iter().collect(),
        local_data: uses.local_data.into_iter().collect(),
        undefined: uses.undefined.into_iter().collect(),
        defined_globals: uses.defined_globals.into_iter().collect(),
        strings: uses.strings.into_iter().collect(),
    }
}

/// What a function's relocations name, sorted.
#[derive(Default)]
struct Uses {
    local_functions: BTreeSet<String>,
    local_data: BTreeSet<String>,
    undefined: BTreeSet<String>,
    defined_globals: BTreeSet<String>,
    strings: BTreeSet<String>,
}

impl Uses {
    fn add(&mut self, target: &Target, own: &str, name_of: &dyn Fn(&str) -> String) {
        match target {
            Target::Symbol { key, class, .. } => self.add_symbol(key, *class, own, name_of),
            Target::Straddle(candidates) => {
                for (key, _) in candidates {
                    self.local_data.insert(name_of(key));
                }
            }
            Target::Content {
                strings: true,
                bytes,
                at,
                ..
            } => {
                if let Some(text) = string_at(bytes, *at) {
                    self.strings.insert(text);
                }
            }
            Target::Content { .. } | Target::Place { .. } => {}
        }
    }

    fn add_symbol(
        &mut self,
        key: &str,
        class: SymbolClass,
        own: &str,
        name_of: &dyn Fn(&str) -> String,
    ) {
        let name = name_of(key);
        match class {
            SymbolClass::LocalFunction if parent_name(&name) != own => {
                self.local_functions.insert(parent_name(&name).to_string());
            }
            SymbolClass::LocalFunction => {}
            SymbolClass::LocalData => {
                self.local_data.insert(name);
            }
            SymbolClass::Undefined => {
                self.undefined.insert(name);
            }
            SymbolClass::DefinedGlobal if parent_name(&name) != own => {
                self.defined_globals.insert(name);
            }
            SymbolClass::DefinedGlobal => {}
        }
    }
}

/// The NUL-terminated text at `at` of a string window.
fn string_at(bytes: &[u8], at: i64) -> Option<String> {
    let start = usize::try_from(at).ok()?;
    let rest = bytes.get(start..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

fn compare_data(before: &Pieces, after: &Pieces) -> Vec<DataChange> {
    let entries_of = |pieces: &Pieces, key: &str| -> Vec<Entry> {
        let mut list: Vec<Entry> = pieces
            .entries
            .iter()
            .filter(|e| e.owner == key)
            .cloned()
            .collect();
        list.sort();
        list
    };
    let old: BTreeMap<&str, &Piece> = before.data.iter().map(|p| (p.key.as_str(), p)).collect();
    let new: BTreeMap<&str, &Piece> = after.data.iter().map(|p| (p.key.as_str(), p)).collect();
    let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    let mut data: Vec<DataChange> = keys
        .into_iter()
        .filter_map(|key| {
            let (change, shown) = match (old.get(key), new.get(key)) {
                (Some(a), Some(b)) => {
                    let same =
                        same_piece(a, b) && entries_of(before, key) == entries_of(after, key);
                    (
                        if same {
                            Change::Unchanged
                        } else {
                            Change::Changed
                        },
                        *b,
                    )
                }
                (None, Some(b)) => (Change::Added, *b),
                (Some(a), None) => (Change::Removed, *a),
                (None, None) => return None,
            };
            Some(DataChange {
                name: shown.name.clone(),
                change,
                section: shown.section.clone(),
                global: shown.global,
                writable: shown.writable,
                init: shown.section.starts_with(".init."),
                size: shown.bytes.len(),
            })
        })
        .collect();
    data.sort_by(|a, b| a.name.cmp(&b.name));
    data
}
