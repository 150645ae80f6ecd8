//! Kernel facts: what a vmlinux or module object says about its functions,
//! read from ELF, the ftrace call-site table, DWARF and BTF.
//!
//! One concern per file: [`elf`] (the file, symbols, sections),
//! [`relocate`] (an object file's relocations), [`mcount`] (ftrace call
//! sites), [`dwarf_sections`] (the DWARF sections, decompressed and
//! relocated), [`dwarf`] (the scan of every unit, one unit at a time in
//! `dwarf_unit`), [`dwarf_types`] and [`btf`] (prototypes on demand, through
//! [`ctype`]), [`build`] (joining them into an [`index`], with the maps of
//! `build_hash`), [`index_cache`] (the index on disk, by build id, checked
//! with [`checksum`]), [`facts`] (per-function answers), [`origins`] (where
//! inline-only functions were declared), [`locate`] (where objects are),
//! [`census`] (tasks at rest), [`damage`] (sections that cannot be read),
//! [`error`] and [`progress`].
//!
//! [`Kernel::open`] builds the index once per object and maps it from the
//! cache on later runs; queries read the mapped index in place. The DWARF
//! sections are found the first time a prototype is asked for and kept for
//! the rest of the run, so each query renders only its own DIEs.

pub mod btf;
pub mod build;
mod build_hash;
pub mod census;
pub mod checksum;
pub mod config;
pub mod ctype;
pub mod damage;
pub mod decl_place;
pub mod dwarf;
pub mod dwarf_sections;
pub mod dwarf_types;
mod dwarf_unit;
pub mod elf;
pub mod error;
pub mod facts;
pub mod index;
pub mod index_cache;
pub mod locate;
pub mod mcount;
pub mod module_name;
pub mod origins;
pub mod progress;
pub mod relocate;
pub mod rendered;

pub use ctype::Prototype;
pub use error::{DeclarationError, KernelError};
pub use facts::FunctionFacts;
pub use index::{Index, Meta, Symbol, Variable};

use dwarf::DwarfSections;
use elf::{ElfFile, Layout};
use memmap2::Mmap;
use module_name::kernel_module_name;
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Index bytes: mapped from the cache, or built in memory when the cache
/// cannot be written.
pub enum IndexBytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for IndexBytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            IndexBytes::Mapped(m) => m,
            IndexBytes::Owned(v) => v,
        }
    }
}

/// The BTF of a vmlinux, the base of its modules' split BTF.
fn base_btf(elf: &ElfFile) -> Result<btf::Btf<'_>, DeclarationError> {
    let file = elf.parse().map_err(DeclarationError::Object)?;
    let section = file
        .section_by_name(".BTF")
        .ok_or_else(|| DeclarationError::NoBaseBtf(elf.path.clone()))?;
    let data = section
        .data()
        .map_err(DeclarationError::BaseBtfUnreadable)?;
    Ok(btf::Btf::parse(data)?)
}

/// How to open a kernel object.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The kgpc cache directory; `None` keeps the index in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Show progress on a terminal while indexing.
    pub progress: bool,
    /// The name checks and reports use: `vmlinux` or the module's name.
    pub object_name: Option<String>,
    /// The vmlinux whose BTF a module's split BTF is read against.
    pub btf_base: Option<PathBuf>,
}

/// An opened vmlinux or module with its index.
pub struct Kernel {
    pub path: PathBuf,
    pub object_name: String,
    /// The object file; `None` when its debug files were dropped and only
    /// the index and its rendered facts are left.
    elf: Option<ElfFile>,
    index: Index<IndexBytes>,
    /// Whether the index came from the on-disk cache.
    pub from_cache: bool,
    btf_base: Option<PathBuf>,
    /// The DWARF sections, found the first time a query needs them and kept
    /// for the rest of the run; `None` when the file has none.
    dwarf: OnceLock<Option<DwarfSections>>,
    /// The rendered facts that answer in place of the debug information,
    /// when the object file is gone.
    rendered: Option<rendered::Rendered>,
    /// The questions the rendered facts could not answer, in words.
    gaps: Mutex<Vec<String>>,
}

impl Kernel {
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Kernel, KernelError> {
        let elf = match ElfFile::open(path) {
            Ok(elf) => elf,
            Err(e) => {
                return match crate::fetch::dropped_debug_key(path) {
                    Some(key) if !path.exists() => Self::open_index_only(path, &key, options),
                    _ => Err(e),
                }
            }
        };
        let build_id = elf::build_id(&elf.parse()?);
        let object_name = object_name(path, options);
        let cache_path = options
            .cache_dir
            .as_ref()
            .map(|d| index_cache::path_for(d, &elf, build_id.as_deref()));
        if let Some(cp) = &cache_path {
            if let Some(index) = index_cache::load(cp) {
                if index.meta.size == elf.data().len() as u64 && index.meta.build_id == build_id {
                    let index = index.map_bytes(IndexBytes::Mapped);
                    return Ok(Kernel::new(
                        path,
                        object_name,
                        Some(elf),
                        index,
                        true,
                        options,
                    ));
                }
            }
        }
        let label = format!("kgpc: indexing {}", path.display());
        let progress = progress::Progress::new(label, options.progress);
        let built = build::build(&elf, &|done, total| progress.update(done, total));
        progress.finish();
        let bytes = built?;
        if let Some(cp) = &cache_path {
            let _ = index_cache::store(cp, &bytes);
        }
        let index = Index::new(IndexBytes::Owned(bytes))
            .ok_or_else(|| KernelError::new(path, "kgpc built an index it cannot read (a bug)"))?;
        Ok(Kernel::new(
            path,
            object_name,
            Some(elf),
            index,
            false,
            options,
        ))
    }

    fn new(
        path: &Path,
        object_name: String,
        elf: Option<ElfFile>,
        index: Index<IndexBytes>,
        from_cache: bool,
        options: &OpenOptions,
    ) -> Kernel {
        Kernel {
            path: path.to_path_buf(),
            object_name,
            elf,
            index,
            from_cache,
            btf_base: options.btf_base.clone(),
            dwarf: OnceLock::new(),
            rendered: None,
            gaps: Mutex::new(Vec::new()),
        }
    }

    /// Opens the object at `path`, whose debug files were dropped, from its
    /// index `key` and the facts rendered beside it.
    fn open_index_only(
        path: &Path,
        key: &str,
        options: &OpenOptions,
    ) -> Result<Kernel, KernelError> {
        let missing = |what: &Path| {
            KernelError::new(
                path,
                format!(
                    "its debug files were dropped (`kgpc kernel drop-debug`) and the kgpc cache \
                     has no {} of it for this kgpc ({})",
                    if what.extension().is_some_and(|e| e == "json") {
                        "rendered facts"
                    } else {
                        "index"
                    },
                    what.display()
                ),
            )
        };
        let cache = options
            .cache_dir
            .as_ref()
            .ok_or_else(|| missing(Path::new("the kgpc cache")))?;
        let index_path = index_cache::path_for_key(cache, key);
        let index = index_cache::load(&index_path).ok_or_else(|| missing(&index_path))?;
        let facts_path = rendered::path_for(&index_path);
        let facts = rendered::load(&facts_path, index.meta.build_id.as_deref(), index.meta.size)
            .ok_or_else(|| missing(&facts_path))?;
        let index = index.map_bytes(IndexBytes::Mapped);
        let mut kernel = Kernel::new(path, object_name(path, options), None, index, true, options);
        kernel.rendered = Some(facts);
        Ok(kernel)
    }

    /// Whether the object's debug files were dropped, so that its rendered
    /// facts answer for them.
    pub fn index_only(&self) -> bool {
        self.rendered.is_some()
    }

    /// What the rendered facts could not answer in this run, in words.
    pub fn gaps(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let gaps = self.gaps.lock().map(|g| g.clone()).unwrap_or_default();
        gaps.into_iter()
            .filter(|g| seen.insert(g.clone()))
            .collect()
    }

    /// Renders every on-demand fact of the object from its debug information.
    pub fn render(&self) -> rendered::Rendered {
        rendered::Rendered::render(self)
    }

    /// The answer the rendered facts give, or what the debug information
    /// gives when they are not in use; a question they do not hold is
    /// recorded as a gap and answered with `gap`.
    fn rendered_answer<T>(
        &self,
        question: impl FnOnce() -> String,
        asked: impl FnOnce(&rendered::Rendered) -> Result<T, ()>,
        gap: T,
    ) -> Option<T> {
        let facts = self.rendered.as_ref()?;
        Some(asked(facts).unwrap_or_else(|()| {
            if let Ok(mut gaps) = self.gaps.lock() {
                gaps.push(question());
            }
            gap
        }))
    }

    pub fn index(&self) -> &Index<IndexBytes> {
        &self.index
    }

    pub fn meta(&self) -> &Meta {
        &self.index.meta
    }

    /// The prototype of a function symbol, from DWARF, else BTF; `None` when neither describes it.
    pub fn prototype(&self, symbol: &Symbol) -> Option<Result<Prototype, DeclarationError>> {
        let base = rendered::base_name(&symbol.name);
        if let Some(answer) = self.rendered_answer(
            || format!("the prototype of `{}`", symbol.name),
            |facts| facts.prototype(symbol.function.as_ref(), base),
            None,
        ) {
            return answer;
        }
        if let Some(f) = &symbol.function {
            let result = self.with_dwarf(|dwarf| {
                let types = dwarf_types::UnitTypes::new(dwarf, f.unit)?;
                types.prototype(f.die, base)
            });
            if let Some(r) = result {
                return Some(r);
            }
        }
        self.btf_prototype(base)
    }

    /// The prototype BTF gives for `name`; a module's split BTF is read against vmlinux's.
    pub fn btf_prototype(&self, name: &str) -> Option<Result<Prototype, DeclarationError>> {
        if !self.index.meta.has_btf {
            return None;
        }
        let file = self.elf.as_ref()?.parse().ok()?;
        let data = file.section_by_name(".BTF")?.data().ok()?;
        let base_elf = match (&self.btf_base, self.index.meta.relocatable) {
            (Some(path), true) => Some(ElfFile::open(path).map_err(DeclarationError::Object)),
            _ => None,
        };
        let btf = match &base_elf {
            None => btf::Btf::parse(data).map_err(DeclarationError::from),
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(base_elf)) => {
                base_btf(base_elf).and_then(|base| Ok(btf::Btf::parse_split(data, base)?))
            }
        };
        match btf {
            Ok(btf) => btf.prototype(name),
            Err(e) => Some(Err(e)),
        }
    }

    /// The declaration DWARF gives for a file-scope variable, such as `char *saved_command_line`.
    pub fn variable_declarations(&self, name: &str) -> Vec<Result<String, DeclarationError>> {
        self.index
            .variables_named(name)
            .iter()
            .filter_map(|v| self.variable_declaration(v))
            .collect()
    }

    /// The declaration DWARF gives for one file-scope variable the index records.
    pub fn variable_declaration(
        &self,
        variable: &Variable,
    ) -> Option<Result<String, DeclarationError>> {
        if let Some(answer) = self.rendered_answer(
            || format!("the declaration of `{}` ({})", variable.name, variable.cu),
            |facts| facts.variable(variable),
            None,
        ) {
            return answer;
        }
        self.with_dwarf(|dwarf| {
            let types = dwarf_types::UnitTypes::new(dwarf, variable.unit)?;
            types.variable(variable.die, &variable.name)
        })
    }

    /// The C declaration of a function or variable symbol, typed from DWARF
    /// (or BTF), such as `int nr_processes(void)`; `file` picks the variable
    /// of that source file when several statics have the name.
    pub fn declaration_of(&self, symbol: &Symbol, file: Option<&str>) -> Option<String> {
        if symbol.has(index::flag::FUNC) {
            return self.prototype(symbol)?.ok().map(|p| p.declaration());
        }
        let name = &symbol.name;
        file.and_then(|f| self.variable_declaration_in(name, f))
            .and_then(Result::ok)
            .or_else(|| {
                self.variable_declarations(name)
                    .into_iter()
                    .find_map(Result::ok)
            })
    }

    /// The declaration DWARF gives for the file-scope variable `name` of the
    /// source file `file`, for one of several statics of one name.
    pub fn variable_declaration_in(
        &self,
        name: &str,
        file: &str,
    ) -> Option<Result<String, DeclarationError>> {
        let variable = self
            .index
            .variables_named(name)
            .into_iter()
            .find(|v| index::same_source_file(&v.cu, file))?;
        self.variable_declaration(&variable)
    }

    fn with_dwarf<T>(
        &self,
        f: impl FnOnce(&gimli::Dwarf<dwarf::R<'_>>) -> Result<T, DeclarationError>,
    ) -> Option<Result<T, DeclarationError>> {
        if !self.index.meta.has_dwarf {
            return None;
        }
        let elf = self.elf.as_ref()?;
        let sections = self.dwarf.get_or_init(|| self.load_dwarf(elf)).as_ref()?;
        Some(f(&sections.dwarf(elf.data())))
    }

    fn load_dwarf(&self, elf: &ElfFile) -> Option<DwarfSections> {
        let file = elf.parse().ok()?;
        let sections = DwarfSections::load(&Layout::read(&file), &file);
        sections.present().then_some(sections)
    }
}

/// The name checks and reports use for the object at `path`: `vmlinux` or the module's name.
fn object_name(path: &Path, options: &OpenOptions) -> String {
    options.object_name.clone().unwrap_or_else(|| {
        let stem = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem.starts_with("vmlinux") {
            "vmlinux".to_string()
        } else {
            kernel_module_name(stem.trim_end_matches(".ko").trim_end_matches(".o"))
        }
    })
}
