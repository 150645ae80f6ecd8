//! The seed corpus, from the repository: every spec, and the gcc-built
//! kernel fixtures of `tests/kernel_fixtures` (built by its `build.sh`, as
//! the kernel-facts tests build them), their BTF from pahole, and the
//! indexes kgpc builds from them.

use kgpc::kernel::build;
use kgpc::kernel::elf::ElfFile;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every `.kgp` under examples/, tests/ and std-specs/, sorted by path.
pub fn specs() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    for dir in ["examples", "tests", "std-specs"] {
        collect(&root().join(dir), &mut paths);
    }
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "kgp") {
            out.push(path);
        }
    }
}

/// The kernel fixtures, built once into a temporary directory.
pub struct Objects {
    /// The linked "vmlinux", the relocatable objects and the module.
    pub elf: Vec<Vec<u8>>,
    /// vmlinux's `.BTF`, and the module's.
    pub btf: Vec<Vec<u8>>,
    /// The module's split BTF, behind its base: see `objects::btf_split`.
    pub btf_split: Vec<Vec<u8>>,
    /// Indexes kgpc built from the vmlinux and the module.
    pub index: Vec<Vec<u8>>,
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Builds the fixtures with `tests/kernel_fixtures/build.sh` and adds BTF with
/// pahole (all in scripts/setup.sh).
pub fn objects() -> Result<Objects, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path();
    run(Command::new("sh")
        .arg(root().join("tests/kernel_fixtures/build.sh"))
        .arg(dir))?;
    std::fs::copy(dir.join("vmlinux"), dir.join("vmlinux-btf")).map_err(|e| e.to_string())?;
    std::fs::copy(dir.join("module.o"), dir.join("module-btf.o")).map_err(|e| e.to_string())?;
    run(Command::new("pahole")
        .args(["-J", "vmlinux-btf"])
        .current_dir(dir))?;
    run(Command::new("pahole")
        .args(["-J", "--btf_base", "vmlinux-btf", "module-btf.o"])
        .current_dir(dir))?;
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let mut elf = Vec::new();
    for name in ["vmlinux", "core.o", "other.o", "module.o", "vmlinux-btf"] {
        elf.push(read(name)?);
    }
    let base = crate::objects::btf_section(&read("vmlinux-btf")?)
        .ok_or("pahole wrote no .BTF into the fixture vmlinux")?;
    let split = crate::objects::btf_section(&read("module-btf.o")?)
        .ok_or("pahole wrote no .BTF into the fixture module")?;
    let mut joined = (base.len() as u32).to_le_bytes().to_vec();
    joined.extend_from_slice(&base);
    joined.extend_from_slice(&split);
    let mut index = Vec::new();
    for name in ["vmlinux", "module.o"] {
        let elf = ElfFile::open(&dir.join(name)).map_err(|e| e.to_string())?;
        index.push(build::build(&elf, &|_, _| {}).map_err(|e| e.to_string())?);
    }
    Ok(Objects {
        elf,
        btf: vec![base],
        btf_split: vec![joined],
        index,
    })
}
