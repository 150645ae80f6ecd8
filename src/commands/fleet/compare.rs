//! Whether each function the spec replaces with a body of its own is the same
//! in every build it targets. One body cannot be right for two different
//! functions, so a function whose source differs between builds is an error
//! naming them; where a build's source is not cached, its code is compared
//! instead (its size in the debug vmlinux), and a difference is a warning.
//! Functions derived from a `fix` are left alone: each build's module takes
//! them from that build's own source.

use crate::check::Model;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::fetch;
use crate::kernel::{locate, Kernel, OpenOptions};
use crate::source::Span;
use std::collections::HashMap;
use std::path::Path;

/// What one build has of one function.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// The SHA-256 of its definition in the build's source.
    Source(String),
    /// Its code's size in bytes, where no source is cached.
    Code(u64),
}

/// One replaced function to compare.
struct Compared<'m> {
    name: &'m str,
    file: Option<&'m str>,
    module: Option<&'m str>,
    span: Span,
}

/// The diagnostics of the functions of `model` that differ between `releases`,
/// and notes on what could not be compared.
pub fn differences(model: &Model, releases: &[String], cache: &Path) -> Vec<Diagnostic> {
    let functions: Vec<Compared> = model
        .objects
        .iter()
        .flat_map(|object| {
            object
                .funcs
                .iter()
                .filter(|f| f.function.from_source.is_none())
                .map(move |f| Compared {
                    name: &f.old_name,
                    file: f.source_file.as_deref(),
                    module: object.module.as_deref(),
                    span: f.span,
                })
        })
        .collect();
    if functions.is_empty() || releases.len() < 2 {
        return Vec::new();
    }
    // seen[function]: what each release has, in the order of `releases`.
    let mut seen: Vec<Vec<(&str, Seen)>> = vec![Vec::new(); functions.len()];
    let mut unknown: Vec<Vec<&str>> = vec![Vec::new(); functions.len()];
    for release in releases {
        let tree = fetch::source_ready(cache, release).map(|t| t.dir);
        // Each object of the release is opened once, for all its functions.
        let mut opened: HashMap<Option<&str>, Option<Kernel>> = HashMap::new();
        for (index, function) in functions.iter().enumerate() {
            let kernel = opened
                .entry(function.module)
                .or_insert_with(|| open(cache, release, function.module));
            let found = kernel
                .as_ref()
                .and_then(|kernel| look(kernel, tree.as_deref(), function));
            match found {
                Some(found) => seen[index].push((release, found)),
                None => unknown[index].push(release),
            }
        }
    }
    let mut diagnostics = Vec::new();
    for (index, function) in functions.iter().enumerate() {
        if let Some(d) = difference(function, &seen[index], &unknown[index]) {
            diagnostics.push(d);
        }
    }
    diagnostics
}

/// The diagnostic of one function, if its builds disagree.
fn difference(function: &Compared, seen: &[(&str, Seen)], unknown: &[&str]) -> Option<Diagnostic> {
    let sources = group(seen, |s| matches!(s, Seen::Source(_)));
    let codes = group(seen, |s| matches!(s, Seen::Code(_)));
    let describe = |groups: &Vec<(&Seen, Vec<&str>)>| -> Vec<String> {
        groups
            .iter()
            .enumerate()
            .map(|(n, (seen, releases))| {
                let what = match seen {
                    Seen::Source(hash) => format!("version {} (sha256 {})", n + 1, &hash[..12]),
                    Seen::Code(size) => format!("{size} bytes of code"),
                };
                format!("{what}: {}", releases.join(", "))
            })
            .collect()
    };
    let mut diagnostic = if sources.len() > 1 {
        Diagnostic::error(
            Code::FunctionDiffersBetweenBuilds,
            format!(
                "`{}` is not the same function in every build the spec targets: its source differs",
                function.name
            ),
        )
        .at(function.span, "one body replaces it in every build")
        .with_help(
            "give each group of builds a spec of its own (its own `release` patterns), or write \
             the fix as a patch (`fix \"FILE.patch\"`), which is applied to each build's own source",
        )
    } else if codes.len() > 1 {
        Diagnostic::warning(
            Code::FunctionDiffersBetweenBuilds,
            format!(
                "`{}` may not be the same function in every build the spec targets: its code differs",
                function.name
            ),
        )
        .at(function.span, "one body replaces it in every build")
        .with_help(
            "fetch the builds' sources (`kgpc kernel fetch --source RELEASE`) so that kgpc \
             compares the functions' source; code also differs when only what it calls or \
             inlines changed",
        )
    } else {
        return None;
    };
    for line in describe(&sources).into_iter().chain(describe(&codes)) {
        diagnostic = diagnostic.with_note(line);
    }
    if !unknown.is_empty() {
        diagnostic = diagnostic.with_note(format!(
            "not compared (no debug information or no such function): {}",
            unknown.join(", ")
        ));
    }
    Some(diagnostic)
}

/// The releases of `seen` grouped by what they have, for the kinds `keep`
/// accepts, each group where its first release is.
fn group<'a>(
    seen: &'a [(&'a str, Seen)],
    keep: impl Fn(&Seen) -> bool,
) -> Vec<(&'a Seen, Vec<&'a str>)> {
    let mut groups: Vec<(&Seen, Vec<&str>)> = Vec::new();
    for (release, what) in seen.iter().filter(|(_, s)| keep(s)) {
        match groups.iter_mut().find(|(w, _)| *w == what) {
            Some((_, releases)) => releases.push(release),
            None => groups.push((what, vec![release])),
        }
    }
    groups
}

/// The debug object of `module` (vmlinux for `None`) of `release`, opened;
/// `None` without debug information.
fn open(cache: &Path, release: &str, module: Option<&str>) -> Option<Kernel> {
    let object = match module {
        None => locate::find_vmlinux(release, cache)?,
        Some(module) => {
            locate::module_object(module, release, None, cache)
                .ok()?
                .path
        }
    };
    let options = OpenOptions {
        cache_dir: Some(cache.to_path_buf()),
        progress: false,
        object_name: module.map(str::to_string),
        btf_base: None,
    };
    Kernel::open(&object, &options).ok()
}

/// What `kernel` has of `function`: its source's hash where the release's
/// tree is cached and the definition found, else its code's size.
fn look(kernel: &Kernel, tree: Option<&Path>, function: &Compared) -> Option<Seen> {
    if let Some(tree) = tree {
        if let Ok(found) =
            crate::source_tree::definition(kernel, tree, function.name, function.file)
        {
            return Some(Seen::Source(crate::digest::sha256_hex(
                found.text.as_bytes(),
            )));
        }
    }
    let symbols = kernel.index().symbols_named(function.name);
    let functions: Vec<_> = symbols.iter().filter(|s| s.function.is_some()).collect();
    let chosen = match function.file {
        Some(file) => crate::kernel::index::from_file(functions.iter().copied(), file),
        None => functions,
    };
    match chosen.as_slice() {
        [one] => Some(Seen::Code(one.size)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::source::{FileId, Span};

    fn function() -> Compared<'static> {
        Compared {
            name: "proc_register",
            file: None,
            module: None,
            span: Span::new(FileId(0), 0, 1),
        }
    }

    #[test]
    fn sources_that_differ_are_an_error_and_code_that_differs_a_warning() {
        let source = |h: &str| Seen::Source(h.repeat(64));
        let seen = [("a", source("1")), ("b", source("1")), ("c", source("2"))];
        let d = difference(&function(), &seen, &["d"]).unwrap();
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(
            d.notes,
            [
                "version 1 (sha256 111111111111): a, b",
                "version 2 (sha256 222222222222): c",
                "not compared (no debug information or no such function): d",
            ]
        );
        let seen = [("a", Seen::Code(571)), ("b", Seen::Code(580))];
        let d = difference(&function(), &seen, &[]).unwrap();
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.notes, ["571 bytes of code: a", "580 bytes of code: b"]);
        // The same everywhere, or one source beside one code size: nothing to say.
        let seen = [("a", source("1")), ("b", source("1"))];
        assert!(difference(&function(), &seen, &[]).is_none());
        let seen = [("a", source("1")), ("b", Seen::Code(571))];
        assert!(difference(&function(), &seen, &[]).is_none());
    }
}
