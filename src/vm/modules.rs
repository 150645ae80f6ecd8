//! Modules of the target kernel's image package, and what a `.ko` says about itself.

use crate::kernel::module_name::kernel_module_name;
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The `.modinfo` entries of a module: `name`, `depends`, `vermagic`, ...
pub fn modinfo(path: &Path) -> Result<HashMap<String, String>, String> {
    let data = crate::read::read_regular(path, u64::MAX)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = ElfFile64::<Endianness>::parse(&*data)
        .map_err(|e| format!("{} is not a kernel module: {e}", path.display()))?;
    let section = file
        .section_by_name(".modinfo")
        .ok_or_else(|| format!("{} has no .modinfo: not a kernel module", path.display()))?;
    let bytes = section
        .data()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut info = HashMap::new();
    for entry in bytes.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        if let Some((key, value)) = text.split_once('=') {
            info.entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    Ok(info)
}

/// The name a module has in the kernel: its `.modinfo` name, else its file name with
/// dashes turned into underscores.
pub fn kernel_name(path: &Path) -> String {
    modinfo(path)
        .ok()
        .and_then(|info| info.get("name").cloned())
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| kernel_module_name(&s.to_string_lossy()))
                .unwrap_or_default()
        })
}

/// Finds the module `name` in a `lib/modules/<release>` tree and returns it after its
/// dependencies (from `.modinfo` `depends=`), each once, in load order.
pub fn with_dependencies(modules_dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    let mut index: HashMap<String, PathBuf> = HashMap::new();
    let mut stack = vec![modules_dir.join("kernel")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ko") {
                if let Some(stem) = path.file_stem() {
                    index.insert(kernel_module_name(&stem.to_string_lossy()), path);
                }
            }
        }
    }
    if index.is_empty() {
        return Err(format!("{} holds no modules", modules_dir.display()));
    }
    let mut order = Vec::new();
    visit(
        &index,
        &kernel_module_name(name),
        &mut order,
        &mut Vec::new(),
    )?;
    Ok(order)
}

fn visit(
    index: &HashMap<String, PathBuf>,
    name: &str,
    order: &mut Vec<PathBuf>,
    path: &mut Vec<String>,
) -> Result<(), String> {
    let Some(file) = index.get(name) else {
        return Err(format!(
            "the kernel has no module `{name}`{}",
            if path.is_empty() {
                String::new()
            } else {
                format!(" (needed by {})", path.join(" <- "))
            }
        ));
    };
    if order.contains(file) || path.iter().any(|p| p == name) {
        return Ok(());
    }
    path.push(name.to_string());
    let info = modinfo(file)?;
    for dependency in info
        .get("depends")
        .map(|d| {
            d.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    {
        visit(index, &kernel_module_name(&dependency), order, path)?;
    }
    path.pop();
    order.push(file.clone());
    Ok(())
}
