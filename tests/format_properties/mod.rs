//! The properties `kgpc fmt` keeps on every input, and a deterministic
//! mutator of specs to test them on, shared by the tests and the fuzz harness.
//!
//! For text `x` that parses: `fmt(x)` parses, `fmt(fmt(x)) == fmt(x)`, the
//! comments of `x` survive in order, every string of the spec and every C
//! token (literals byte for byte) is unchanged, and when `x` compiles,
//! `fmt(x)` compiles to the same files apart from `#line` numbers.

use kgpc::c::lexer::{tokens, Kind};
use kgpc::check::release::ReleaseRequest;
use kgpc::check::{lower, LowerOptions};
use kgpc::diagnostic::Diagnostics;
use kgpc::format::format;
use kgpc::generate::{generate, GenerateOptions};
use kgpc::load::{load, Input};
use kgpc::scope::ReadScope;
use kgpc::source::{Origin, SourceMap};
use kgpc::syntax::ast::*;
use kgpc::syntax::parse;
use std::path::{Path, PathBuf};

/// What one input showed: whether it parsed and whether it compiled.
#[derive(Default, Debug, Clone, Copy)]
pub struct Seen {
    pub parsed: bool,
    pub compiled: bool,
}

/// Parses text; `None` if it has syntax errors.
fn parsed(text: &str) -> Option<Ast> {
    let mut sources = SourceMap::new();
    let file = sources.add("x.kgp".into(), text.to_string(), Origin::Memory);
    let (ast, diagnostics) = parse(file, text);
    diagnostics.is_empty().then_some(ast)
}

/// Checks every property on `text`. `dirs` are two scratch directories that
/// hold copies of the spec's neighbours (imports, body files): `text` is
/// compiled in the first and its formatted text in the second, as `name`.
pub fn check(text: &str, name: &str, dirs: Option<(&Path, &Path)>) -> Result<Seen, String> {
    let Some(ast) = parsed(text) else {
        return Ok(Seen::default());
    };
    let once = format(&ast, text);
    let Some(formatted) = parsed(&once) else {
        return Err(format!("the formatted text does not parse:\n{once}"));
    };
    let twice = format(&formatted, &once);
    if twice != once {
        return Err(format!(
            "formatting twice changes the text:\n--- once\n{once}--- twice\n{twice}"
        ));
    }
    let comments = |a: &Ast| -> Vec<String> {
        a.comments
            .iter()
            .map(|c| c.text.trim_end().to_string())
            .collect()
    };
    if comments(&ast) != comments(&formatted) {
        return Err(format!("comments changed:\n{once}"));
    }
    let (before, after) = (meaning(&ast), meaning(&formatted));
    if before != after {
        let at = before
            .iter()
            .zip(&after)
            .position(|(a, b)| a != b)
            .unwrap_or(before.len().min(after.len()));
        return Err(format!(
            "strings or C tokens changed at {at}: {:?} became {:?}\n{once}",
            before.get(at),
            after.get(at)
        ));
    }
    let Some((a, b)) = dirs else {
        return Ok(Seen {
            parsed: true,
            compiled: false,
        });
    };
    let Some(original) = compiled(text, name, a) else {
        return Ok(Seen {
            parsed: true,
            compiled: false,
        });
    };
    let Some(reformatted) = compiled(&once, name, b) else {
        return Err(format!(
            "the spec compiles, its formatted text does not:\n{once}"
        ));
    };
    let normal = |files: Vec<(String, String)>, dir: &Path| -> Vec<(String, String)> {
        files
            .into_iter()
            .map(|(n, c)| {
                (
                    n,
                    without_line_numbers(&c.replace(&*dir.to_string_lossy(), "<dir>")),
                )
            })
            .collect()
    };
    if normal(original, a) != normal(reformatted, b) {
        return Err(format!(
            "the generated files differ after formatting:\n{once}"
        ));
    }
    Ok(Seen {
        parsed: true,
        compiled: true,
    })
}

/// Compiles `text` as `dir/name` without kernel checks; the generated files.
fn compiled(text: &str, name: &str, dir: &Path) -> Option<Vec<(String, String)>> {
    let path = dir.join(name);
    std::fs::write(&path, text).ok()?;
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    // The mutants' imports and body files may stand anywhere in the repository.
    let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scope = ReadScope::new(Some(&path), &[repository]).ok()?;
    let loaded = load(Input::Path(&path), scope, &mut sources, &mut diagnostics)?;
    let options = LowerOptions {
        release: ReleaseRequest {
            explicit: None,
            candidates: vec![("6.1.0-999-cloud-amd64".into(), "the test".into())],
        },
        prototypes_from_kernel: false,
    };
    let model = lower(&loaded, &mut sources, &options, &mut diagnostics)?;
    if diagnostics.has_errors() {
        return None;
    }
    let files = generate(&model, &GenerateOptions { path_names: vec![] });
    Some(files.into_iter().map(|f| (f.name, f.contents)).collect())
}

/// Generated text with `#line N` numbers and the spec's checksum blanked.
fn without_line_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#line ") {
            let file = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            out.push_str(&format!("#line N{file}\n"));
        } else if let Some(at) = line.find("(sha256 ") {
            out.push_str(&line[..at]);
            out.push_str("(sha256)\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Everything the formatter must keep: every string of the spec, and every C
/// token of its C text (comments by kind, since re-indenting a block moves
/// the lines of a block comment).
fn meaning(ast: &Ast) -> Vec<String> {
    let mut out = Vec::new();
    let s = |out: &mut Vec<String>, s: &Str| out.push(format!("string {:?}", s.value));
    let c = |out: &mut Vec<String>, code: &CCode| {
        for t in tokens(&code.text) {
            match t.kind {
                Kind::LineComment | Kind::BlockComment | Kind::UnclosedComment => {
                    out.push(format!("{:?}", t.kind))
                }
                // A literal never closed may run into the white space before the block's `}`.
                Kind::Unterminated => out.push(code.text[t.start..t.end].trim_end().to_string()),
                _ => out.push(code.text[t.start..t.end].to_string()),
            }
        }
        out.push("|".into());
    };
    let shadow_entries = |out: &mut Vec<String>, entries: &[ShadowEntry]| {
        for e in entries {
            match e {
                ShadowEntry::Payload(x) | ShadowEntry::Ctor(x) | ShadowEntry::Dtor(x) => c(out, x),
                ShadowEntry::Gfp(w) => out.push(w.text.clone()),
                _ => {}
            }
        }
    };
    let diff = |out: &mut Vec<String>, d: &DiffText| match d {
        DiffText::File(x) => s(out, x),
        DiffText::Inline(b) => out.push(format!("text {:?}", b.text)),
    };
    let requirement = |out: &mut Vec<String>, r: &Requirement| match &r.value {
        Some(ConfigValue::Text(x)) => s(out, x),
        Some(ConfigValue::Word(w)) => out.push(w.text.clone()),
        None => {}
    };
    for item in &ast.items {
        match item {
            Item::Fix(f) => diff(&mut out, &f.diff),
            Item::Patch(p) => {
                for e in &p.entries {
                    match e {
                        PatchEntry::Description(x) | PatchEntry::Author(x) => s(&mut out, x),
                        PatchEntry::Reference { value, .. } => s(&mut out, value),
                        _ => {}
                    }
                }
            }
            Item::Target(t) => t.releases().for_each(|x| s(&mut out, x)),
            Item::Import(i) => {
                if let ImportPath::Relative(x) = &i.path {
                    s(&mut out, x)
                }
            }
            Item::Object(o) => {
                for e in &o.entries {
                    match e {
                        ObjectEntry::Replace(r) => {
                            if let ReplaceHead::Prototype(p) = &r.head {
                                c(&mut out, &p.params);
                            }
                            r.in_file.iter().for_each(|x| s(&mut out, x));
                            r.allow_inlined.iter().for_each(|x| s(&mut out, x));
                            match &r.body {
                                Body::Inline(x) => c(&mut out, x),
                                Body::File(x) => s(&mut out, x),
                                Body::Fix(x) => diff(&mut out, x),
                            }
                        }
                        ObjectEntry::Callback(cb) => c(&mut out, &cb.body),
                        ObjectEntry::Extern(e) => e.suffix.iter().for_each(|x| c(&mut out, x)),
                        ObjectEntry::Requires(r) => requirement(&mut out, r),
                        ObjectEntry::Bad(_) => {}
                    }
                }
            }
            Item::Requires(r) => requirement(&mut out, r),
            Item::Shadow(sh) => shadow_entries(&mut out, &sh.entries),
            Item::Template(t) => shadow_entries(&mut out, &t.entries),
            Item::Helper(h) => {
                c(&mut out, &h.prototype.params);
                c(&mut out, &h.body);
            }
            Item::Data(d) => c(&mut out, &d.body),
            Item::Test(t) => {
                for e in &t.entries {
                    match e {
                        TestEntry::Load(x)
                        | TestEntry::PatchFirst(x)
                        | TestEntry::File(x)
                        | TestEntry::Program(x)
                        | TestEntry::Reload(x)
                        | TestEntry::Refused(x)
                        | TestEntry::Workload(x) => s(&mut out, x),
                        TestEntry::Setup { script, .. } => {
                            out.push(format!("setup {:?}", script.text()))
                        }
                        TestEntry::Check {
                            command, expects, ..
                        } => {
                            out.push(format!("script {:?}", command.text()));
                            for e in expects {
                                match e {
                                    Expectation::Contains { text, .. } => {
                                        out.push("contains".into());
                                        s(&mut out, text)
                                    }
                                    Expectation::Lacks { text, .. } => {
                                        out.push("lacks".into());
                                        s(&mut out, text)
                                    }
                                    Expectation::Exits { status, .. } => {
                                        out.push(format!("exits {:?}", status.value))
                                    }
                                }
                            }
                        }
                        TestEntry::Dmesg { lines, .. } => lines.iter().for_each(|x| s(&mut out, x)),
                        TestEntry::Bad(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A small deterministic random number generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces the mutator inserts: C and spec punctuation, comments of both
/// languages, strings that hold braces, parentheses and runs of spaces,
/// backslash-newlines, labels, directives and digraphs.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "\"",
    "'",
    ";",
    ",",
    "*",
    "\\",
    "\\\n",
    "\n",
    "\t",
    "  ",
    "\n\n",
    "# note\n",
    " # tail\n",
    "// c\n",
    "// c \\\n",
    "/* c */",
    "/* a\n   b */",
    "\" (  \"",
    "\"a\\\n        b\"",
    "' '",
    "'\"'",
    "out:\n",
    "\nout:\n",
    "#ifdef X\n",
    "\n#endif\n",
    "#define LB {\n",
    "<%",
    "%>",
    "??/",
    "R\"x(a  \n  b)x\"",
    "import",
    "std/shadow_lock",
    "replace",
    "int",
    "void",
    "data",
    "helper",
    "extern",
    "sympos 1",
    "in \"a.c\"",
    "body",
    "description \"d\"",
    "release \"6.1.0-*\"",
    "{ }",
    "\u{202e}",
];

/// The byte offsets where a token of `text` starts or ends, roughly: at every
/// change between white space, word characters and other characters.
fn boundaries(text: &str) -> Vec<usize> {
    let class = |c: char| {
        if c.is_whitespace() {
            0
        } else if c.is_alphanumeric() || c == '_' {
            1
        } else {
            2
        }
    };
    let mut out = vec![0];
    let mut previous = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        if previous.is_some_and(|p| p != k || k == 2) {
            out.push(i);
        }
        previous = Some(k);
    }
    out.push(text.len());
    out
}

/// One mutation of `text`: a token or line deleted, inserted or duplicated,
/// or a comment or string inserted at a random place.
pub fn mutate(text: &str, rng: &mut Rng) -> String {
    let cuts = boundaries(text);
    let pick = |rng: &mut Rng| cuts[rng.below(cuts.len())];
    let piece = PIECES[rng.below(PIECES.len())];
    match rng.below(6) {
        // Delete a token.
        0 if cuts.len() > 2 => {
            let i = rng.below(cuts.len() - 1);
            format!("{}{}", &text[..cuts[i]], &text[cuts[i + 1]..])
        }
        // Duplicate a token.
        1 if cuts.len() > 2 => {
            let i = rng.below(cuts.len() - 1);
            let token = &text[cuts[i]..cuts[i + 1]];
            format!("{}{token}{}", &text[..cuts[i + 1]], &text[cuts[i + 1]..])
        }
        // Delete or duplicate a line.
        2 | 3 => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let i = rng.below(lines.len());
            let mut out = String::with_capacity(text.len() + 80);
            let twice = rng.below(2) == 0;
            for (n, line) in lines.iter().enumerate() {
                if n != i {
                    out.push_str(line);
                } else if twice {
                    out.push_str(line);
                    out.push_str(line);
                }
            }
            out
        }
        // Insert a piece at a token boundary or anywhere.
        _ => {
            let at = if rng.below(2) == 0 {
                pick(rng)
            } else {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            format!("{}{piece}{}", &text[..at], &text[at..])
        }
    }
}
