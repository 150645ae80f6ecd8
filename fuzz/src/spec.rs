//! The spec targets: parsing with both renderings of its diagnostics, load
//! and lowering, the formatter's properties, and generation. They read
//! nothing from disk but the embedded standard library: the spec is text,
//! and a mutant that names a body file is parsed but not lowered.

use codespan_reporting::term::termcolor::NoColor;
use kgpc::check::release::ReleaseRequest;
use kgpc::check::{lower, LowerOptions, Model};
use kgpc::diagnostic::{Diagnostic, Diagnostics};
use kgpc::format::format;
use kgpc::generate::{generate, GenerateOptions};
use kgpc::load::{load, Input, Loaded};
use kgpc::render;
use kgpc::scope::ReadScope;
use kgpc::source::{Origin, SourceMap};
use kgpc::syntax::ast::{Ast, Body, Item, ObjectEntry};
use kgpc::syntax::parse;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// What an exec saw, for the corpus to keep inputs that reach new places:
/// the set of codes of the diagnostics, and how far the exec got.
fn signature<'a>(diagnostics: impl Iterator<Item = &'a Diagnostic>, extra: u64) -> u64 {
    let mut codes: Vec<&str> = diagnostics.map(|d| d.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut h = DefaultHasher::new();
    codes.hash(&mut h);
    extra.hash(&mut h);
    h.finish()
}

/// Renders every diagnostic as text and as JSON; each JSON record must be one valid line.
fn render_all(sources: &SourceMap, diagnostics: &[&Diagnostic]) -> Result<(), String> {
    let mut text = NoColor::new(Vec::new());
    render::human(sources, diagnostics, &mut text)
        .map_err(|e| format!("rendering the diagnostics as text failed: {e}"))?;
    for d in diagnostics {
        let line = render::json(sources, d);
        if line.contains('\n') {
            return Err(format!("a JSON diagnostic spans lines: {line}"));
        }
        serde_json::from_str::<serde_json::Value>(&line)
            .map_err(|e| format!("a JSON diagnostic is not JSON ({e}): {line}"))?;
    }
    Ok(())
}

/// Parses the spec and renders its diagnostics.
pub fn parse_and_render(input: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(input).into_owned();
    let mut sources = SourceMap::new();
    let file = sources.add("fuzz.kgp".into(), text, Origin::Memory);
    let (_, diagnostics) = parse(file, sources.text(file));
    render_all(&sources, &diagnostics.iter().collect::<Vec<_>>())?;
    Ok(signature(diagnostics.iter(), 0))
}

/// Whether a tree names a body file, which lowering would read from disk.
fn reads_files(ast: &Ast) -> bool {
    ast.items.iter().any(|item| match item {
        Item::Object(block) => block
            .entries
            .iter()
            .any(|e| matches!(e, ObjectEntry::Replace(r) if matches!(r.body, Body::File(_)))),
        _ => false,
    })
}

/// Loads and lowers the spec as `kgpc check --no-kernel-checks` does; `None` when it names a body file.
fn lowered(text: String) -> Option<(SourceMap, Diagnostics, Option<Model>)> {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    let input = Input::Text {
        name: "fuzz.kgp",
        text,
    };
    // Text has no directory, so the scope holds only the embedded standard library.
    let scope = ReadScope::new(None, &[]).ok()?;
    let Some(loaded): Option<Loaded> = load(input, scope, &mut sources, &mut diagnostics) else {
        return Some((sources, diagnostics, None));
    };
    if loaded.trees.iter().any(reads_files) {
        return None;
    }
    let options = LowerOptions {
        release: ReleaseRequest {
            explicit: None,
            candidates: vec![(
                "6.1.0-57-cloud-amd64".to_string(),
                "the fuzz harness".to_string(),
            )],
        },
        prototypes_from_kernel: false,
    };
    let model = lower(&loaded, &mut sources, &options, &mut diagnostics);
    Some((sources, diagnostics, model))
}

/// Loads and lowers the spec and renders what it found.
pub fn load_and_lower(input: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(input).into_owned();
    let Some((sources, mut diagnostics, model)) = lowered(text) else {
        return Ok(1);
    };
    diagnostics.sort();
    render_all(&sources, &diagnostics.iter().collect::<Vec<_>>())?;
    Ok(signature(diagnostics.iter(), u64::from(model.is_some())))
}

/// Generates the module of every spec that lowers to a model.
pub fn generate_module(input: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(input).into_owned();
    let Some((_, diagnostics, model)) = lowered(text) else {
        return Ok(1);
    };
    let Some(model) = model.filter(|_| !diagnostics.has_errors()) else {
        return Ok(signature(diagnostics.iter(), 0));
    };
    let files = generate(
        &model,
        &GenerateOptions {
            path_names: Vec::new(),
        },
    );
    if files.iter().any(|f| f.contents.is_empty()) {
        return Err("a generated file is empty".to_string());
    }
    Ok(signature(diagnostics.iter(), 2 + files.len() as u64))
}

/// The comments of a tree, in order, without trailing blanks.
fn comments(ast: &Ast) -> Vec<String> {
    ast.comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect()
}

/// The formatter's properties: on a spec that parses, fmt(x) parses,
/// fmt(fmt(x)) = fmt(x), and the comments survive in order.
pub fn format_properties(input: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(input).into_owned();
    let mut sources = SourceMap::new();
    let file = sources.add("fuzz.kgp".into(), text, Origin::Memory);
    let (ast, diagnostics) = parse(file, sources.text(file));
    if !diagnostics.is_empty() {
        return Ok(signature(diagnostics.iter(), 0));
    }
    let once = format(&ast, sources.text(file));
    let again = sources.add("formatted.kgp".into(), once.clone(), Origin::Memory);
    let (ast_once, found) = parse(again, sources.text(again));
    if let Some(d) = found.first() {
        return Err(format!(
            "fmt(x) does not parse: {} {} (at {:?})",
            d.code.as_str(),
            d.message,
            d.primary.as_ref().map(|l| l.span.range())
        ));
    }
    if comments(&ast) != comments(&ast_once) {
        return Err(format!(
            "fmt(x) changes the comments: {:?} became {:?}",
            comments(&ast),
            comments(&ast_once)
        ));
    }
    let twice = format(&ast_once, &once);
    if twice != once {
        let at = once
            .bytes()
            .zip(twice.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(once.len().min(twice.len()));
        return Err(format!(
            "fmt(fmt(x)) != fmt(x) from byte {at}: {:?} became {:?}",
            once.get(at..(at + 40).min(once.len())).unwrap_or(""),
            twice.get(at..(at + 40).min(twice.len())).unwrap_or("")
        ));
    }
    Ok(signature(
        std::iter::empty(),
        3 + u64::from(once == *sources.text(file)),
    ))
}
