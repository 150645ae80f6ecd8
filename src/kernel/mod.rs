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

pub use ctype::Prototype;
pub use error::{DeclarationError, KernelError};
pub use facts::FunctionFacts;
pub use index::{Index, Meta, Symbol};

use dwarf::DwarfSections;
use elf::{ElfFile, Layout};
use memmap2::Mmap;
use module_name::kernel_module_name;
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    elf: ElfFile,
    index: Index<IndexBytes>,
    /// Whether the index came from the on-disk cache.
    pub from_cache: bool,
    btf_base: Option<PathBuf>,
    /// The DWARF sections, found the first time a query needs them and kept
    /// for the rest of the run; `None` when the file has none.
    dwarf: OnceLock<Option<DwarfSections>>,
}

impl Kernel {
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Kernel, KernelError> {
        let elf = ElfFile::open(path)?;
        let build_id = elf::build_id(&elf.parse()?);
        let object_name = options.object_name.clone().unwrap_or_else(|| {
            let stem = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if stem.starts_with("vmlinux") {
                "vmlinux".to_string()
            } else {
                kernel_module_name(stem.trim_end_matches(".ko").trim_end_matches(".o"))
            }
        });
        let cache_path = options
            .cache_dir
            .as_ref()
            .map(|d| index_cache::path_for(d, &elf, build_id.as_deref()));
        if let Some(cp) = &cache_path {
            if let Some(index) = index_cache::load(cp) {
                if index.meta.size == elf.data().len() as u64 && index.meta.build_id == build_id {
                    let index = index.map_bytes(IndexBytes::Mapped);
                    return Ok(Kernel {
                        path: path.to_path_buf(),
                        object_name,
                        elf,
                        index,
                        from_cache: true,
                        btf_base: options.btf_base.clone(),
                        dwarf: OnceLock::new(),
                    });
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
        Ok(Kernel {
            path: path.to_path_buf(),
            object_name,
            elf,
            index,
            from_cache: false,
            btf_base: options.btf_base.clone(),
            dwarf: OnceLock::new(),
        })
    }

    pub fn index(&self) -> &Index<IndexBytes> {
        &self.index
    }

    pub fn meta(&self) -> &Meta {
        &self.index.meta
    }

    /// The prototype of a function symbol, from DWARF, else BTF; `None` when neither describes it.
    pub fn prototype(&self, symbol: &Symbol) -> Option<Result<Prototype, DeclarationError>> {
        let base = symbol.name.split('.').next().unwrap_or(&symbol.name);
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
        let file = self.elf.parse().ok()?;
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
            .into_iter()
            .filter_map(|v| {
                self.with_dwarf(|dwarf| {
                    let types = dwarf_types::UnitTypes::new(dwarf, v.unit)?;
                    types.variable(v.die, name)
                })
            })
            .collect()
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
        self.with_dwarf(|dwarf| {
            let types = dwarf_types::UnitTypes::new(dwarf, variable.unit)?;
            types.variable(variable.die, name)
        })
    }

    fn with_dwarf<T>(
        &self,
        f: impl FnOnce(&gimli::Dwarf<dwarf::R<'_>>) -> Result<T, DeclarationError>,
    ) -> Option<Result<T, DeclarationError>> {
        if !self.index.meta.has_dwarf {
            return None;
        }
        let sections = self.dwarf.get_or_init(|| self.load_dwarf()).as_ref()?;
        Some(f(&sections.dwarf(self.elf.data())))
    }

    fn load_dwarf(&self) -> Option<DwarfSections> {
        let file = self.elf.parse().ok()?;
        let sections = DwarfSections::load(&Layout::read(&file), &file);
        sections.present().then_some(sections)
    }
}
