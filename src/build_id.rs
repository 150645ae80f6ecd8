//! GNU build ids: the note `ld --build-id` writes, which names one linked
//! object for debuggers and debuginfod servers alike.

use object::Object;
use std::path::Path;

/// The GNU build id of a parsed ELF file, in hex.
pub fn of_object(file: &object::File<'_>) -> Option<String> {
    file.build_id().ok().flatten().map(crate::digest::hex)
}

/// The GNU build id of the ELF file at `path`, or why it has none: it cannot
/// be opened, is not an ELF file, or carries no build-id note.
pub fn of_file(path: &Path) -> Result<String, String> {
    let (file, meta) =
        crate::read::open_regular(path).map_err(|e| format!("cannot open it: {e}"))?;
    if meta.len() < 64 {
        return Err(format!("it is not an ELF file ({} bytes)", meta.len()));
    }
    // SAFETY: the map is read-only and only its headers and notes are read;
    // kgpc reads files that nobody rewrites while it runs.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map it: {e}"))?;
    if &map[..4] != b"\x7fELF" {
        return Err(format!(
            "it is not an ELF file (it starts with {:?})",
            String::from_utf8_lossy(&map[..map.len().min(16)])
        ));
    }
    let parsed =
        object::File::parse(&*map).map_err(|e| format!("its ELF headers cannot be read ({e})"))?;
    of_object(&parsed).ok_or_else(|| "it is an ELF file without a build-id note".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_elf_has_no_build_id() {
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("page");
        std::fs::write(&html, format!("<html>{}</html>", "x".repeat(100))).unwrap();
        let why = of_file(&html).unwrap_err();
        assert!(why.contains("not an ELF file"), "{why}");
        let short = dir.path().join("short");
        std::fs::write(&short, "\x7fELF").unwrap();
        assert!(of_file(&short).unwrap_err().contains("4 bytes"));
    }

    #[test]
    fn the_build_id_of_this_test_program_is_read() {
        // Rust's linker on Debian writes a build id into every executable.
        let exe = std::env::current_exe().unwrap();
        let id = of_file(&exe).unwrap();
        assert!(
            id.len() >= 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
