//! Loading a spec and everything it imports.
//!
//! The result is a list of syntax trees, the spec first, then each imported
//! file once, in the order of first import. `std/api` is always loaded,
//! because the compiler reads its API table. The body files the spec names
//! are read here too (`named_files.rs`), so that checking does no I/O.

mod named_files;

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::read::read_text;
use crate::scope::{ReadScope, Refusal};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::std_specs;
use crate::suggest::did_you_mean;
use crate::syntax::ast::{Ast, ImportPath, Item, Str};
use crate::syntax::parse;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use named_files::{named_path, NamedFiles};

/// The trees of one spec and its imports.
pub struct Loaded {
    /// The spec first, then imported files.
    pub trees: Vec<Ast>,
    /// The tree of `std/api`, which holds the livepatch API table.
    pub api: Option<usize>,
    /// Indices into `trees` with every file after the files it imports: the
    /// order in which their C code is emitted.
    pub order: Vec<usize>,
    /// Where the spec may read imports and body files.
    pub scope: ReadScope,
    /// The body files and `patch_first` specs the spec names, read or looked for.
    pub named: NamedFiles,
}

/// Where the spec comes from.
pub enum Input<'a> {
    Path(&'a Path),
    /// Text with a display name, for standard input and tests.
    Text {
        name: &'a str,
        text: String,
    },
}

/// Reads the spec at `input` and its imports, each inside `scope`, into `sources`.
pub fn load(
    input: Input<'_>,
    scope: ReadScope,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<Loaded> {
    let root_key = match &input {
        Input::Path(path) => {
            Key::Disk(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
        }
        Input::Text { .. } => Key::Root,
    };
    let root = match input {
        Input::Path(path) => match read_text(path) {
            Ok(text) => sources.add(
                path.display().to_string(),
                text,
                Origin::Disk(path.to_path_buf()),
            ),
            Err(error) => {
                diagnostics.push(
                    Diagnostic::error(
                        refusal_or(&error, Code::UnreadableFile),
                        format!("cannot read spec `{}`: {error}", path.display()),
                    )
                    .with_help("check the path; specs are UTF-8 text files ending in `.kgp`"),
                );
                return None;
            }
        },
        Input::Text { name, text } => sources.add(name.to_string(), text, Origin::Memory),
    };
    let mut loader = Loader {
        sources,
        diagnostics,
        trees: Vec::new(),
        seen: HashMap::new(),
        order: Vec::new(),
        scope,
    };
    loader.visit(root, root_key.clone(), &mut vec![(root_key, None)]);
    let api_key = Key::Std("std/api".into());
    if !loader.seen.contains_key(&api_key) {
        // std/api is embedded, so it is always there to load.
        if let Some(id) = loader.std_file("std/api") {
            loader.visit(id, api_key.clone(), &mut vec![(api_key.clone(), None)]);
        }
    }
    let api = loader.seen.get(&api_key).copied();
    let named = match loader.trees.first() {
        Some(root) => named_files::read_named_files(root, &loader.scope, loader.sources),
        None => NamedFiles::default(),
    };
    Some(Loaded {
        trees: loader.trees,
        api,
        order: loader.order,
        scope: loader.scope,
        named,
    })
}

/// KGP0041 for a file of a kind kgpc never reads, else `code`.
pub fn refusal_or(error: &crate::read::ReadError, code: Code) -> Code {
    if error.is_refusal() {
        Code::NotRegularFile
    } else {
        code
    }
}

/// The diagnostic for a path a spec may not read, or `None` when the path
/// only failed to resolve (the caller says that in its own words).
pub fn outside_scope(
    refusal: &Refusal,
    scope: &ReadScope,
    what: &str,
    shown: &str,
    span: Span,
) -> Option<Diagnostic> {
    let how = match refusal {
        Refusal::Outside => "it is outside the spec's directory",
        Refusal::OutsideThroughLink => {
            "it leads, through a symbolic link, outside the spec's directory"
        }
        Refusal::NoBase | Refusal::Io(_) => return None,
    };
    Some(
        Diagnostic::error(Code::OutsideSpecTree, format!("cannot {what} `{shown}`: {how}"))
            .at(span, "outside the files this spec may read")
            .with_note(format!(
                "a spec reads only files under its own directory, `{}`, and the standard library",
                scope.tree()
            ))
            .with_help(
                "move the file under the spec's directory, or allow a directory with `--allow-path DIR`",
            ),
    )
}

/// Kept for the callers that describe I/O errors in their own words.
pub use crate::read::describe_io;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Root,
    Std(String),
    Disk(PathBuf),
}

struct Loader<'a> {
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Diagnostics,
    trees: Vec<Ast>,
    /// Index into `trees` of every file loaded so far.
    seen: HashMap<Key, usize>,
    order: Vec<usize>,
    scope: ReadScope,
}

impl Loader<'_> {
    fn visit(&mut self, file: FileId, key: Key, chain: &mut Vec<(Key, Option<Span>)>) {
        let (ast, found) = parse(file, self.sources.text(file));
        self.diagnostics.extend(found);
        let imports: Vec<(ImportPath, Span)> = ast
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Import(import) => Some((import.path.clone(), import.span)),
                _ => None,
            })
            .collect();
        let index = self.trees.len();
        self.seen.insert(key.clone(), index);
        self.trees.push(ast);
        for (path, span) in imports {
            let Some((child_key, child)) = self.resolve(file, &path) else {
                continue;
            };
            if let Some(pos) = chain.iter().position(|(k, _)| *k == child_key) {
                let mut d = Diagnostic::error(Code::ImportCycle, "imports form a cycle")
                    .at(span, "this import closes the cycle");
                for s in chain[pos..].iter().filter_map(|(_, s)| *s) {
                    d = d.also(s, "imported here");
                }
                self.diagnostics.push(
                    d.with_note("code from an import is emitted before the code that uses it, which no order can do for a cycle")
                        .with_help("move what the files share into a third file that both import"),
                );
                continue;
            }
            if self.seen.contains_key(&child_key) {
                continue;
            }
            let Some(child) = child else { continue };
            chain.push((child_key.clone(), Some(span)));
            self.visit(child, child_key, chain);
            chain.pop();
        }
        self.order.push(index);
    }

    /// Finds an imported file. Returns its key, and its id when it still has to be loaded.
    fn resolve(&mut self, from: FileId, path: &ImportPath) -> Option<(Key, Option<FileId>)> {
        match path {
            ImportPath::Std(word) => {
                let key = Key::Std(word.text.clone());
                if self.seen.contains_key(&key) {
                    return Some((key, None));
                }
                match self.std_file(&word.text) {
                    Some(id) => Some((key, Some(id))),
                    None => {
                        let mut d = Diagnostic::error(
                            Code::ImportNotFound,
                            format!("the standard library has no module `{}`", word.text),
                        )
                        .at(word.span, "unknown module")
                        .with_note(format!(
                            "standard modules: {}",
                            std_specs::names().collect::<Vec<_>>().join(", ")
                        ));
                        if let Some(best) =
                            did_you_mean(&word.text, std_specs::names().collect::<Vec<_>>())
                        {
                            d = d.with_help(format!("did you mean `{best}`?"));
                        }
                        self.diagnostics.push(d);
                        None
                    }
                }
            }
            ImportPath::Relative(text) => {
                let base = self.sources.base_dir(from).map(Path::to_path_buf);
                let resolved = match self.scope.resolve(base.as_deref(), &text.value) {
                    Ok(resolved) => resolved,
                    Err(refusal) => {
                        let d = self.refused_import(&refusal, base.as_deref(), text);
                        self.diagnostics.push(d);
                        return None;
                    }
                };
                let key = Key::Disk(resolved.real.clone());
                if self.seen.contains_key(&key) {
                    return Some((key, None));
                }
                match read_text(&resolved.real) {
                    Ok(source) => {
                        let id = self.sources.add(
                            resolved.shown.display().to_string(),
                            source,
                            Origin::Disk(resolved.shown),
                        );
                        Some((key, Some(id)))
                    }
                    Err(error) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                refusal_or(&error, Code::ImportNotFound),
                                format!("cannot import `{}`: {error}", resolved.shown.display()),
                            )
                            .at(text.span, "imported here")
                            .with_help("imports are specs: UTF-8 text files of at most 4 MiB"),
                        );
                        None
                    }
                }
            }
        }
    }

    /// The diagnostic for an import the scope did not resolve.
    fn refused_import(&self, refusal: &Refusal, base: Option<&Path>, text: &Str) -> Diagnostic {
        let shown = base.map_or_else(|| PathBuf::from(&text.value), |b| b.join(&text.value));
        let shown = shown.display().to_string();
        if let Some(d) = outside_scope(refusal, &self.scope, "import", &shown, text.span) {
            return d;
        }
        match refusal {
            Refusal::Io(e) => Diagnostic::error(
                Code::ImportNotFound,
                format!("cannot import `{shown}`: {}", describe_io(e)),
            )
            .at(text.span, "imported here")
            .with_help("relative imports are resolved against the directory of the importing file"),
            _ => Diagnostic::error(
                Code::ImportNotFound,
                format!("cannot import `{}` here", text.value),
            )
            .at(text.span, "no directory to resolve it against")
            .with_help("relative imports need a spec read from a file, not from standard input"),
        }
    }

    fn std_file(&mut self, name: &str) -> Option<FileId> {
        let text = std_specs::get(name)?;
        Some(self.sources.add(
            format!("<{name}>"),
            text.to_string(),
            Origin::Std(name.to_string()),
        ))
    }
}
