//! The files a fix to a header reaches: those that use one of the header's
//! changed `static inline` functions. For vmlinux the kernel's debug
//! information says which files hold copies of them (inlined, out of line
//! or as gcc's clones); for modules, whose debug files kgpc does not unpack
//! all of, the `.c` files of each module's directory that name one of them
//! are taken. Each is then compiled with and without the patched header,
//! and only what the compiler changed is replaced.

use crate::kernel::Kernel;
use std::collections::BTreeSet;
use std::path::Path;

/// The most files a header's change is followed into; a function used
/// more widely than that is a change for a new kernel, not a live patch.
pub const MOST_USERS: usize = 24;

/// The largest `.c` file read when looking for users.
const SOURCE_LIMIT: u64 = 4 << 20;

/// The largest `modules.order` read.
const ORDER_LIMIT: u64 = 4 << 20;

/// Where the users were looked for, for the note that says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// The source files found, sorted.
    pub files: Vec<String>,
    /// How many `.c` files of the modules' directories were read.
    pub module_files_read: usize,
    /// Whether vmlinux's debug information was read.
    pub vmlinux_read: bool,
}

/// The source files of the target that use one of `names`: from the
/// debug vmlinux `kernel`, and from the `.c` files of the directories of the
/// modules `modules_order` (the build's `modules.order`) lists, in the
/// source `tree`. The modules' part reads some 5000 files, so what it found
/// is kept in `cache` (the release's `fix-views`), by the SHA-256 of the
/// names, the tree and `modules.order`, and read from there next time.
pub fn header_users(
    names: &[String],
    kernel: Option<&Kernel>,
    modules_order: Option<&Path>,
    tree: &Path,
    cache: Option<&Path>,
) -> UserSearch {
    let mut files: BTreeSet<String> = BTreeSet::new();
    if let Some(kernel) = kernel {
        files.extend(vmlinux_users(kernel, names));
    }
    let (module_files, read) = match modules_order {
        Some(order) => cached_module_users(names, order, tree, cache),
        None => (Vec::new(), 0),
    };
    files.extend(module_files);
    UserSearch {
        files: files.into_iter().collect(),
        module_files_read: read,
        vmlinux_read: kernel.is_some(),
    }
}

/// [`module_users`], from `cache` when it holds the answer, else found and
/// kept there (a cache that cannot be written is only slower).
fn cached_module_users(
    names: &[String],
    modules_order: &Path,
    tree: &Path,
    cache: Option<&Path>,
) -> (Vec<String>, usize) {
    let order = crate::read::read_regular(modules_order, ORDER_LIMIT).unwrap_or_default();
    let key = format!("{}\0{}\0", names.join("\n"), tree.display());
    let key = crate::digest::sha256_hex(&[key.as_bytes(), &order].concat());
    let kept = cache.map(|dir| dir.join(format!("header-users-{key}.txt")));
    if let Some(text) = kept
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        let mut lines = text.lines();
        if let Some(read) = lines
            .next()
            .and_then(|l| l.strip_prefix("read ")?.parse().ok())
        {
            return (lines.map(str::to_string).collect(), read);
        }
    }
    let (files, read) = module_users(names, modules_order, tree);
    if let Some(path) = &kept {
        let text: String = std::iter::once(format!("read {read}"))
            .chain(files.iter().cloned())
            .map(|line| line + "\n")
            .collect();
        let _ = path
            .parent()
            .map(std::fs::create_dir_all)
            .map(|_| crate::atomic_write::write_atomically(path, text.as_bytes()));
    }
    (files, read)
}

/// The `.c` files of the modules' directories that name one of `names`,
/// and how many files were read.
fn module_users(names: &[String], modules_order: &Path, tree: &Path) -> (Vec<String>, usize) {
    let mut files = Vec::new();
    let mut read = 0;
    for dir in module_dirs(modules_order) {
        let Ok(entries) = std::fs::read_dir(tree.join(&dir)) else {
            continue;
        };
        let mut sources: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.ends_with(".c"))
            .collect();
        sources.sort();
        for source in sources {
            let path = format!("{dir}/{source}");
            read += 1;
            let Ok(bytes) = crate::read::read_regular(&tree.join(&path), SOURCE_LIMIT) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if names.iter().any(|name| names_identifier(&text, name)) {
                files.push(path);
            }
        }
    }
    (files, read)
}

/// The files of vmlinux that hold a copy of one of `names`.
fn vmlinux_users(kernel: &Kernel, names: &[String]) -> Vec<String> {
    let index = kernel.index();
    let mut holders: Vec<String> = Vec::new();
    for name in names {
        holders.push(name.clone());
        holders.extend(index.symbols_with_prefix(&format!("{name}.")));
        holders.extend(index.inlined_into(name));
    }
    holders
        .iter()
        .flat_map(|holder| index.symbols_named(holder))
        .filter_map(|symbol| symbol.function.map(|f| f.cu))
        .map(|cu| cu.trim_start_matches("./").to_string())
        .filter(|cu| cu.ends_with(".c"))
        .collect()
}

/// The directories of the source tree that `modules.order` puts modules
/// in: `kernel/drivers/net/tun.ko` is in `drivers/net`.
fn module_dirs(modules_order: &Path) -> Vec<String> {
    let Ok(bytes) = crate::read::read_regular(modules_order, ORDER_LIMIT) else {
        return Vec::new();
    };
    let dirs: BTreeSet<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| {
            let path = line.trim().strip_prefix("kernel/")?;
            let (dir, _) = path.rsplit_once('/')?;
            let plain = dir
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
            plain.then(|| dir.to_string())
        })
        .collect();
    dirs.into_iter().collect()
}

/// Whether `text` has `name` as a whole identifier.
fn names_identifier(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_counts_only_as_a_whole_identifier() {
        assert!(names_identifier("x = f(a);", "f"));
        assert!(!names_identifier("x = ff(a); f_x();", "f"));
        assert!(names_identifier("f", "f"));
    }

    #[test]
    fn module_directories_come_from_modules_order() {
        let dir = tempfile::tempdir().unwrap();
        let order = dir.path().join("modules.order");
        std::fs::write(
            &order,
            "kernel/drivers/net/tun.ko\nkernel/drivers/net/tap.ko\nkernel/fs/fat/msdos.ko\nkernel/../x.ko\nbogus\n",
        )
        .unwrap();
        assert_eq!(module_dirs(&order), ["drivers/net", "fs/fat"]);
    }

    #[test]
    fn users_in_module_directories_are_found_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("drivers/net")).unwrap();
        std::fs::write(tree.join("drivers/net/tun.c"), "r = hdr_to_skb(skb);\n").unwrap();
        std::fs::write(tree.join("drivers/net/veth.c"), "r = hdr_to_skb_x(skb);\n").unwrap();
        let order = dir.path().join("modules.order");
        std::fs::write(&order, "kernel/drivers/net/tun.ko\n").unwrap();
        let names = ["hdr_to_skb".to_string()];
        let found = header_users(&names, None, Some(&order), &tree, None);
        assert_eq!(found.files, ["drivers/net/tun.c"]);
        assert_eq!(found.module_files_read, 2);
        assert!(!found.vmlinux_read);
        // Kept in the cache, the answer is read from there: the sources are
        // not read again.
        let cache = dir.path().join("views");
        let first = header_users(&names, None, Some(&order), &tree, Some(&cache));
        assert_eq!(first, found);
        std::fs::remove_dir_all(tree.join("drivers")).unwrap();
        let again = header_users(&names, None, Some(&order), &tree, Some(&cache));
        assert_eq!(again, found);
        // Other names are another search.
        let other = header_users(&["x".to_string()], None, Some(&order), &tree, Some(&cache));
        assert!(other.files.is_empty());
    }
}
