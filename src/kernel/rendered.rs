//! The index's rendered facts: every answer that kgpc otherwise reads from
//! the debug information on demand (each function's prototype, each
//! variable's declaration, where each function is declared and where each
//! inline-only function came from), rendered once from the debug vmlinux and
//! kept beside its index, so that a release whose debug files were dropped
//! (`kgpc kernel drop-debug`) is checked exactly as it was with them.
//!
//! The facts are keyed as the index keys the questions: a function's and a
//! variable's DWARF entry (the `die` the index records for the symbol, so
//! each `sympos` has its own), a function's name where it has no entry (its
//! BTF prototype), and an inline-only function's name. A question the table
//! does not hold is a gap, which the caller reports (KGP0237), never a
//! silent `None`.

use super::ctype::Prototype;
use super::decl_place::DeclPlace;
use super::dwarf_types::UnitTypes;
use super::error::{DeclarationError, KernelError};
use super::index::{flag, Function, Symbol, Variable};
use super::Kernel;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The format of the rendered facts; another kgpc's are rendered again.
pub const FORMAT: u32 = 1;

/// One answer as it was rendered: a value, the words of an error, or nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer<T> {
    Found(T),
    Failed(String),
    Nothing,
}

impl<T> Answer<T> {
    fn of(result: Option<Result<T, DeclarationError>>) -> Self {
        match result {
            Some(Ok(value)) => Answer::Found(value),
            Some(Err(e)) => Answer::Failed(e.to_string()),
            None => Answer::Nothing,
        }
    }

    fn answer(self) -> Option<Result<T, DeclarationError>> {
        match self {
            Answer::Found(value) => Some(Ok(value)),
            Answer::Failed(words) => Some(Err(DeclarationError::Recorded(words))),
            Answer::Nothing => None,
        }
    }
}

/// Every on-demand fact of one object, rendered from its debug information.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub format: u32,
    /// The build id and size of the object they were rendered from.
    pub build_id: Option<String>,
    pub size: u64,
    /// The prototype of each function's DWARF entry, by the entry's offset.
    prototypes: BTreeMap<u64, Answer<Prototype>>,
    /// The prototype of each function symbol without a DWARF entry, by name.
    named_prototypes: BTreeMap<String, Answer<Prototype>>,
    /// The declaration of each file-scope variable, by its entry's offset.
    variables: BTreeMap<u64, Answer<String>>,
    /// Where each function's entry says it is declared, by the entry's offset.
    places: BTreeMap<u64, Option<DeclPlace>>,
    /// The file each inline-only function's copies were declared in, by name.
    origins: BTreeMap<String, Option<String>>,
}

impl Rendered {
    /// Renders every fact of `kernel`, which must still have its debug
    /// information. Each DWARF unit is read once for all the functions and
    /// variables it holds, by as many threads as there are cores.
    pub fn render(kernel: &Kernel) -> Rendered {
        let index = kernel.index();
        let mut by_unit: BTreeMap<u64, (Vec<Symbol>, Vec<Variable>)> = BTreeMap::new();
        let mut named_prototypes = BTreeMap::new();
        for s in index.all_symbols().filter(|s| s.has(flag::FUNC)) {
            match &s.function {
                Some(f) => by_unit.entry(f.unit).or_default().0.push(s),
                None => {
                    let answer = Answer::of(kernel.prototype(&s));
                    named_prototypes.insert(base_name(&s.name).to_string(), answer);
                }
            }
        }
        for v in index.all_variables() {
            by_unit.entry(v.unit).or_default().1.push(v);
        }
        let units: Vec<_> = by_unit.into_iter().collect();
        let rendered: Vec<UnitFacts> = units
            .par_iter()
            .map(|(unit, (functions, variables))| unit_facts(kernel, *unit, functions, variables))
            .collect();
        let mut prototypes = BTreeMap::new();
        let mut places = BTreeMap::new();
        let mut declarations = BTreeMap::new();
        for unit in rendered {
            prototypes.extend(unit.prototypes);
            places.extend(unit.places);
            declarations.extend(unit.variables);
        }
        let names = index.inlined_names();
        let chunk = names.len() / (4 * rayon::current_num_threads()) + 1;
        let origins = names
            .par_chunks(chunk)
            .flat_map_iter(|chunk| {
                let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
                kernel.inlined_origin_files(&chunk)
            })
            .collect();
        Rendered {
            format: FORMAT,
            build_id: kernel.meta().build_id.clone(),
            size: kernel.meta().size,
            prototypes,
            named_prototypes,
            variables: declarations,
            places,
            origins,
        }
    }

    /// The prototype of `symbol`; `Err(())` when the table does not hold it.
    pub(super) fn prototype(
        &self,
        function: Option<&Function>,
        base: &str,
    ) -> Result<Option<Result<Prototype, DeclarationError>>, ()> {
        let answer = match function {
            Some(f) => self.prototypes.get(&f.die),
            None => self.named_prototypes.get(base),
        };
        let mut answer = answer.cloned().ok_or(())?.answer();
        if let Some(Ok(p)) = &mut answer {
            p.name = base.to_string();
        }
        Ok(answer)
    }

    /// The declaration of `variable`; `Err(())` when the table does not hold it.
    pub(super) fn variable(
        &self,
        variable: &Variable,
    ) -> Result<Option<Result<String, DeclarationError>>, ()> {
        Ok(self
            .variables
            .get(&variable.die)
            .cloned()
            .ok_or(())?
            .answer())
    }

    /// Where `function` is declared; `Err(())` when the table does not hold it.
    pub(super) fn place(&self, function: &Function) -> Result<Option<DeclPlace>, ()> {
        self.places.get(&function.die).cloned().ok_or(())
    }

    /// Where the inlined copies of `name` were declared; `Err(())` when the
    /// table does not hold the name.
    pub(super) fn origin(&self, name: &str) -> Result<Option<String>, ()> {
        self.origins.get(name).cloned().ok_or(())
    }

    /// How many facts the table holds, for `kgpc kernel drop-debug` to report.
    pub fn len(&self) -> usize {
        self.prototypes.len()
            + self.named_prototypes.len()
            + self.variables.len()
            + self.places.len()
            + self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The facts of one DWARF unit's functions and variables.
struct UnitFacts {
    prototypes: Vec<(u64, Answer<Prototype>)>,
    places: Vec<(u64, Option<DeclPlace>)>,
    variables: Vec<(u64, Answer<String>)>,
}

/// Renders the facts of one unit, reading the unit once; what the unit
/// cannot tell is asked of the kernel one question at a time, as a check
/// would ask it.
fn unit_facts(
    kernel: &Kernel,
    unit: u64,
    functions: &[Symbol],
    variables: &[Variable],
) -> UnitFacts {
    let read = kernel.with_dwarf(|dwarf| {
        let types = UnitTypes::new(dwarf, unit);
        let header = gimli::DebugInfoOffset(usize::try_from(unit).unwrap_or(usize::MAX));
        let parsed = dwarf
            .unit_header(header)
            .ok()
            .and_then(|h| dwarf.unit(h).ok());
        let mut facts = UnitFacts {
            prototypes: Vec::new(),
            places: Vec::new(),
            variables: Vec::new(),
        };
        for s in functions {
            let Some(f) = &s.function else { continue };
            let prototype = match &types {
                Ok(types) => types.prototype(f.die, base_name(&s.name)),
                Err(e) => Err(e.clone()),
            };
            facts.prototypes.push((f.die, Answer::of(Some(prototype))));
            let place = parsed
                .as_ref()
                .and_then(|u| super::decl_place::place_in(dwarf, u, unit, f.die));
            facts.places.push((f.die, place));
        }
        for v in variables {
            let declaration = match &types {
                Ok(types) => types.variable(v.die, &v.name),
                Err(e) => Err(e.clone()),
            };
            facts.variables.push((v.die, Answer::of(Some(declaration))));
        }
        Ok(facts)
    });
    match read {
        Some(Ok(facts)) => facts,
        _ => UnitFacts {
            prototypes: functions
                .iter()
                .filter_map(|s| Some((s.function.as_ref()?.die, Answer::of(kernel.prototype(s)))))
                .collect(),
            places: functions
                .iter()
                .filter_map(|s| s.function.as_ref())
                .map(|f| (f.die, kernel.decl_place(f)))
                .collect(),
            variables: variables
                .iter()
                .map(|v| (v.die, Answer::of(kernel.variable_declaration(v))))
                .collect(),
        },
    }
}

/// A function symbol's name without a compiler's suffix: `foo` of `foo.isra.0`.
pub(super) fn base_name(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The file of the rendered facts that belongs to the index file `index`.
pub fn path_for(index: &Path) -> PathBuf {
    let mut name = index.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".facts{FORMAT}.json"));
    index.with_file_name(name)
}

/// Reads rendered facts, if the file holds a whole table of this format for
/// the object of that build id and size.
pub fn load(path: &Path, build_id: Option<&str>, size: u64) -> Option<Rendered> {
    let (file, _) = crate::read::open_regular(path).ok()?;
    let rendered: Rendered = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    (rendered.format == FORMAT && rendered.build_id.as_deref() == build_id && rendered.size == size)
        .then_some(rendered)
}

/// Writes rendered facts atomically.
pub fn store(path: &Path, rendered: &Rendered) -> Result<(), KernelError> {
    let bytes = serde_json::to_vec(rendered)
        .map_err(|e| KernelError::new(path, format!("cannot encode the rendered facts: {e}")))?;
    crate::atomic_write::write_atomically(path, &bytes)
        .map_err(|e| KernelError::new(path, format!("cannot write it: {e}")))
}
