//! The files a spec's items name besides its imports: the body files of its
//! replacements, read into the source map while loading, and the specs its
//! test block patches first, looked for. Checking only looks them up, so it
//! does no I/O of its own.

use super::{outside_scope, refusal_or};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::read::{describe_io, read_text};
use crate::scope::{ReadScope, Refusal, Resolved};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::ast::{
    Ast, Body, DiffText, Fix, Item, ObjectEntry, Replacement, Str, TestEntry,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// What loading found for the files the spec's items name.
#[derive(Default)]
pub struct NamedFiles {
    /// Each `body "FILE"` of the spec, by the span of its path: the file,
    /// read into the source map, or the error to report where the body is
    /// lowered (so that a body lowering skips reports nothing).
    bodies: HashMap<Span, Result<FileId, Box<Diagnostic>>>,
    /// The spans of the `patch_first "SPEC"` paths that name a file.
    found_specs: HashSet<Span>,
    /// Each `fix "FILE"` of the spec, read as the bodies are.
    fixes: HashMap<Span, Result<FileId, Box<Diagnostic>>>,
    /// Each `file "NAME"` of a test block: the file, every link resolved.
    guest_files: HashMap<Span, Result<PathBuf, Box<Diagnostic>>>,
    /// Each `program "NAME.c"` of a test block: the C file read into the
    /// source map, and where it is with every link resolved.
    programs: HashMap<Span, Result<(FileId, PathBuf), Box<Diagnostic>>>,
}

impl NamedFiles {
    /// The body file that `path` names, as loading read it; `None` only for
    /// a path outside the spec's objects, which loading does not read.
    pub fn body(&self, path: &Str) -> Option<&Result<FileId, Box<Diagnostic>>> {
        self.bodies.get(&path.span)
    }

    /// The patch file that a `fix` item's `path` names, as loading read it.
    pub fn fix(&self, path: &Str) -> Option<&Result<FileId, Box<Diagnostic>>> {
        self.fixes.get(&path.span)
    }

    /// The file a test's `file` entry names, as loading found it.
    pub fn guest_file(&self, path: &Str) -> Option<&Result<PathBuf, Box<Diagnostic>>> {
        self.guest_files.get(&path.span)
    }

    /// The C file a test's `program` entry names, as loading read it.
    pub fn program(&self, path: &Str) -> Option<&Result<(FileId, PathBuf), Box<Diagnostic>>> {
        self.programs.get(&path.span)
    }

    /// Whether the `patch_first` spec that `path` names is a file.
    pub fn spec_found(&self, path: &Str) -> bool {
        self.found_specs.contains(&path.span)
    }
}

/// Where a path that a file of `sources` names points, as written: relative
/// to that file's directory, if it has one. Body files are shown so, and
/// `patch_first` specs are found so.
pub fn named_path(sources: &SourceMap, path: &Str) -> PathBuf {
    sources
        .base_dir(path.span.file)
        .map_or_else(|| PathBuf::from(&path.value), |b| b.join(&path.value))
}

/// Reads the patch files of the spec's `fix` items and the body files of
/// its objects, in the order the spec names them, and looks for the specs
/// its test blocks patch first.
pub(super) fn read_named_files(
    root: &Ast,
    scope: &ReadScope,
    sources: &mut SourceMap,
) -> NamedFiles {
    let mut named = NamedFiles::default();
    for item in &root.items {
        if let Item::Fix(Fix {
            diff: DiffText::File(path),
            ..
        }) = item
        {
            let patch = read_named(path, NamedKind::Patch, scope, sources);
            named.fixes.insert(path.span, patch);
        }
    }
    let objects = root.items.iter().filter_map(|item| match item {
        Item::Object(object) => Some(object),
        _ => None,
    });
    for entry in objects.flat_map(|object| &object.entries) {
        match entry {
            ObjectEntry::Replace(Replacement {
                body: Body::File(path),
                ..
            }) => {
                let body = read_named(path, NamedKind::Body, scope, sources);
                named.bodies.insert(path.span, body);
            }
            ObjectEntry::Replace(Replacement {
                body: Body::Fix(DiffText::File(path)),
                ..
            }) => {
                let patch = read_named(path, NamedKind::Patch, scope, sources);
                named.fixes.insert(path.span, patch);
            }
            _ => {}
        }
    }
    for test in root.tests() {
        for entry in &test.entries {
            match entry {
                TestEntry::PatchFirst(path) if named_path(sources, path).is_file() => {
                    named.found_specs.insert(path.span);
                }
                TestEntry::File(path) => {
                    let found = guest_file(path, scope, sources);
                    named.guest_files.insert(path.span, found);
                }
                TestEntry::Program(path) => {
                    let read = resolve_named(path, NamedKind::Program, scope, sources).and_then(
                        |resolved| {
                            let real = resolved.real.clone();
                            read_resolved(path, NamedKind::Program, resolved, sources)
                                .map(|file| (file, real))
                        },
                    );
                    named.programs.insert(path.span, read);
                }
                _ => {}
            }
        }
    }
    named
}

/// A file a test copies into the guest: resolved inside the scope, and a
/// regular file, which is not read until the initramfs is made.
fn guest_file(
    path: &Str,
    scope: &ReadScope,
    sources: &SourceMap,
) -> Result<PathBuf, Box<Diagnostic>> {
    let kind = NamedKind::GuestFile;
    let resolved = resolve_named(path, kind, scope, sources)?;
    if resolved.real.is_file() {
        return Ok(resolved.real);
    }
    let mut d =
        unreadable(path, kind, sources, "it is not a regular file".into()).with_help(kind.what());
    d.code = Code::NotRegularFile;
    Err(Box::new(d))
}

/// What a named file is to the spec, for the messages about it.
#[derive(Clone, Copy)]
enum NamedKind {
    Body,
    Patch,
    GuestFile,
    Program,
}

impl NamedKind {
    fn noun(self) -> &'static str {
        match self {
            NamedKind::Body => "body file",
            NamedKind::Patch => "patch file",
            NamedKind::GuestFile => "guest file",
            NamedKind::Program => "program source",
        }
    }

    fn what(self) -> &'static str {
        match self {
            NamedKind::Body => "a body file is C source: UTF-8 text of at most 4 MiB",
            NamedKind::Patch => "a patch file is a unified diff: UTF-8 text of at most 4 MiB",
            NamedKind::GuestFile => "a guest file is any regular file",
            NamedKind::Program => "a program is C source: UTF-8 text of at most 4 MiB",
        }
    }
}

/// Resolves a file a spec names inside the scope and reads it into `sources`.
fn read_named(
    path: &Str,
    kind: NamedKind,
    scope: &ReadScope,
    sources: &mut SourceMap,
) -> Result<FileId, Box<Diagnostic>> {
    let resolved = resolve_named(path, kind, scope, sources)?;
    read_resolved(path, kind, resolved, sources)
}

/// The error that a named file cannot be read, saying why.
fn unreadable(path: &Str, kind: NamedKind, sources: &SourceMap, message: String) -> Diagnostic {
    let shown = named_path(sources, path);
    Diagnostic::error(
        Code::UnreadableFile,
        format!(
            "cannot read {} `{}`: {message}",
            kind.noun(),
            shown.display()
        ),
    )
    .at(path.span, "named here")
}

/// Resolves a file a spec names inside the scope.
fn resolve_named(
    path: &Str,
    kind: NamedKind,
    scope: &ReadScope,
    sources: &SourceMap,
) -> Result<Resolved, Box<Diagnostic>> {
    let noun = kind.noun();
    let base = sources
        .base_dir(path.span.file)
        .map(std::path::Path::to_path_buf);
    let shown = named_path(sources, path);
    let unreadable = |message: String| unreadable(path, kind, sources, message);
    match scope.resolve(base.as_deref(), &path.value) {
        Ok(resolved) => Ok(resolved),
        Err(refusal) => {
            let shown_text = shown.display().to_string();
            let verb = format!("read {noun}");
            let outside = outside_scope(&refusal, scope, &verb, &shown_text, path.span);
            Err(Box::new(match (&refusal, outside) {
                (_, Some(d)) => d,
                (Refusal::Io(e), None) => unreadable(describe_io(e)).with_help(format!(
                    "{noun}s are resolved against the directory of the spec"
                )),
                _ => unreadable("it has no directory to be resolved against".into()).with_help(
                    format!("{noun}s need a spec read from a file, not from standard input"),
                ),
            }))
        }
    }
}

/// Reads a resolved file into `sources` as text.
fn read_resolved(
    path: &Str,
    kind: NamedKind,
    resolved: Resolved,
    sources: &mut SourceMap,
) -> Result<FileId, Box<Diagnostic>> {
    match read_text(&resolved.real) {
        Ok(text) => {
            let name = resolved.shown.display().to_string();
            Ok(sources.add(name, text, Origin::Disk(resolved.shown)))
        }
        Err(error) => {
            let mut d = unreadable(path, kind, sources, error.to_string()).with_help(kind.what());
            d.code = refusal_or(&error, Code::UnreadableFile);
            Err(Box::new(d))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::Code;
    use crate::diagnostic::Diagnostics;
    use crate::load::{load, Input};
    use crate::scope::ReadScope;
    use crate::source::{Origin, SourceMap};
    use crate::syntax::ast::{Body, DiffText, Item, ObjectEntry, Str, TestEntry};

    const SPEC: &str = r#"patch p { description "d" }
target { release "6.1.0-1-amd64" arch x86_64 }
object vmlinux {
    replace int f(void) body "f.c"
    replace int g(void) body "missing.c"
}
test {
    patch_first "other.kgp"
    patch_first "none.kgp"
}
"#;

    /// The paths of the spec's bodies and `patch_first` specs, in order.
    fn named_paths(items: &[Item]) -> Vec<Str> {
        let mut paths = Vec::new();
        for item in items {
            match item {
                Item::Object(o) => paths.extend(o.entries.iter().filter_map(|e| match e {
                    ObjectEntry::Replace(r) => match &r.body {
                        Body::File(path) | Body::Fix(DiffText::File(path)) => Some(path.clone()),
                        Body::Inline(_) | Body::Fix(DiffText::Inline(_)) => None,
                    },
                    _ => None,
                })),
                Item::Test(t) => paths.extend(t.entries.iter().filter_map(|e| match e {
                    TestEntry::PatchFirst(path) => Some(path.clone()),
                    _ => None,
                })),
                _ => {}
            }
        }
        paths
    }

    #[test]
    fn bodies_are_read_while_loading_and_specs_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("fix.kgp");
        std::fs::write(&spec, SPEC).unwrap();
        std::fs::write(dir.path().join("f.c"), "return 1;\n").unwrap();
        std::fs::write(dir.path().join("other.kgp"), "").unwrap();
        let scope = ReadScope::new(Some(&spec), &[]).unwrap();
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::default();
        let loaded = load(Input::Path(&spec), scope, &mut sources, &mut diagnostics).unwrap();
        // Loading reports nothing of the bodies: lowering does, where it uses them.
        assert!(
            diagnostics.is_empty(),
            "{:?}",
            diagnostics.iter().collect::<Vec<_>>()
        );
        let paths = named_paths(&loaded.trees[0].items);
        let [f, missing, other, none] = paths.as_slice() else {
            panic!("four named files, got {}", paths.len());
        };

        let f = *loaded.named.body(f).unwrap().as_ref().unwrap();
        assert_eq!(sources.text(f), "return 1;\n");
        assert_eq!(sources.origin(f), &Origin::Disk(dir.path().join("f.c")));
        // The body comes after every tree, as it did when lowering read it.
        assert!(loaded.trees.iter().all(|t| t.file < f));

        let error = loaded.named.body(missing).unwrap().as_ref().unwrap_err();
        assert_eq!(error.code, Code::UnreadableFile);
        assert!(error.message.contains("missing.c"), "{}", error.message);
        assert_eq!(error.primary.as_ref().unwrap().span, missing.span);

        assert!(loaded.named.spec_found(other));
        assert!(!loaded.named.spec_found(none));
    }
}
