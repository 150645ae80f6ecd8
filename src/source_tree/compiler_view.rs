//! The compiler's view of one file's change: the target's file and the
//! patched one compiled with the build tree's own flags, compared function
//! by function, and compiled once more with the patched text numbered as
//! the original's lines, so that changes of line numbers alone are told
//! from changes of code. This is the truth the source stage goes by; the
//! text only says where each function is.

use super::header_overlay::{ChangedHeader, PatchedHeader};
use super::{compare, compile_unit_with, mark_line_only, renumbered, CompileError, ObjectChanges};
use super::{ObjectDiffError, UnitKind};
use std::path::Path;
use std::time::{Duration, Instant};

/// The result of a compile run on another thread; a compile that panicked
/// (it does not) would be reported as a failed make.
fn joined(
    handle: std::thread::ScopedJoinHandle<'_, Result<super::CompiledUnit, CompileError>>,
) -> Result<super::CompiledUnit, CompileError> {
    handle.join().unwrap_or_else(|_| {
        Err(CompileError::Make {
            log: "the compile's thread stopped".to_string(),
        })
    })
}

/// What the compiler makes of a fix to one file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CompilerView {
    /// Whether the file is built into vmlinux or into a module.
    pub kind: UnitKind,
    /// `KBUILD_MODNAME`: the module's name for a module's file.
    pub modname: String,
    pub changes: ObjectChanges,
    /// The time the three compiles took.
    pub elapsed: Duration,
}

/// The compiler's view of `path`, from `cache` (a directory of kgpc's
/// cache) when the same texts were compiled with the same build tree
/// before, else compiled and kept there. The key is the SHA-256 of
/// everything the view depends on, so a kept view is never stale.
/// `headers` are the headers the fix changes, which the patched compile
/// includes instead of the target's.
pub fn cached_compiler_view(
    cache: &Path,
    build: &Path,
    tree: &Path,
    path: &str,
    original: &str,
    patched: &str,
    headers: &[ChangedHeader],
) -> Result<CompilerView, ViewError> {
    let mut described = format!(
        "kgpc {}\0{}\0{}\0{path}\0{original}\0{patched}",
        env!("CARGO_PKG_VERSION"),
        build.display(),
        tree.display()
    );
    for header in headers {
        described.push_str(&format!(
            "\0{}\0{}\0{}",
            header.path, header.original, header.patched
        ));
    }
    let key = crate::digest::sha256_hex(described.as_bytes());
    let file = cache.join(format!("{key}.json"));
    let kept = crate::read::read_data_text(&file)
        .ok()
        .and_then(|text| serde_json::from_str::<CompilerView>(&text).ok());
    if let Some(view) = kept {
        return Ok(view);
    }
    let view = compiler_view(build, tree, path, original, patched, headers)?;
    if let Ok(json) = serde_json::to_string(&view) {
        // A view that cannot be kept is compiled again next time.
        let _ = std::fs::create_dir_all(cache)
            .and_then(|()| crate::atomic_write::write_atomically(&file, json.as_bytes()));
    }
    Ok(view)
}

/// Why the compiler's view could not be had.
#[derive(Debug)]
pub enum ViewError {
    /// The target's own file does not compile as kgpc compiles it.
    Original(CompileError),
    /// The patched file does not compile: the fix does not fit the target.
    Patched(CompileError),
    Compare(ObjectDiffError),
    /// No temporary directory for the compiles.
    Work(std::io::Error),
}

/// Compiles `path` of the source `tree` as the target has it (`original`)
/// and with the fix (`patched`) with the flags of the build tree `build`,
/// and compares the two objects; the patched compiles include the fix's
/// `headers`.
pub fn compiler_view(
    build: &Path,
    tree: &Path,
    path: &str,
    original: &str,
    patched: &str,
    headers: &[ChangedHeader],
) -> Result<CompilerView, ViewError> {
    let start = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("kgpc-fix-")
        .tempdir()
        .map_err(ViewError::Work)?;
    let compile = |text: &str, overlay: &[PatchedHeader], name: &str| {
        let dir = work.path().join(name);
        compile_unit_with(build, tree, path, text, overlay, &dir)
    };
    let patched_headers: Vec<PatchedHeader> = headers.iter().map(ChangedHeader::patched).collect();
    let renumbered_headers: Vec<PatchedHeader> =
        headers.iter().map(ChangedHeader::renumbered).collect();
    // The three compiles are independent, each in its own directory: they
    // run at once, which on two cores takes half the time of one after another.
    let renumbered_text = renumbered(original, patched);
    let (before, after, mapped) = std::thread::scope(|scope| {
        let before = scope.spawn(|| compile(original, &[], "original"));
        let mapped = scope.spawn(|| compile(&renumbered_text, &renumbered_headers, "renumbered"));
        let after = compile(patched, &patched_headers, "patched");
        (joined(before), after, joined(mapped))
    });
    let before = before.map_err(ViewError::Original)?;
    let after = after.map_err(ViewError::Patched)?;
    let mapped = mapped.map_err(ViewError::Patched)?;
    let mut changes = compare(&before.object, &after.object).map_err(ViewError::Compare)?;
    let without_lines = compare(&before.object, &mapped.object).map_err(ViewError::Compare)?;
    mark_line_only(&mut changes, &without_lines);
    Ok(CompilerView {
        kind: after.kind,
        modname: after.modname,
        changes,
        elapsed: start.elapsed(),
    })
}
