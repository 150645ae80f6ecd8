//! The syntax tree of one `.kgp` file.
//!
//! The tree keeps every item in source order with its span, and the comments
//! of the file with theirs, so that a formatter can reproduce the file. It
//! holds what was written, not what it means: names are not resolved and
//! duplicates are not rejected here. That is the job of `check`.

use crate::source::{FileId, Span};

/// A parsed file.
#[derive(Debug, Clone)]
pub struct Ast {
    pub file: FileId,
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
    /// The end of the file that was not read because it nests too deeply
    /// (KGP0040); checks that need the whole file say nothing when it is set.
    pub unread: Option<Span>,
}

macro_rules! items_of_kind {
    ($($method:ident: $variant:ident => $block:ty;)*) => {
        impl Ast {
            $(
                #[doc = concat!("The `", stringify!($variant), "` items of the file, in order.")]
                pub fn $method(&self) -> impl Iterator<Item = &$block> {
                    self.items.iter().filter_map(|item| match item {
                        Item::$variant(block) => Some(block),
                        _ => None,
                    })
                }
            )*
        }
    };
}

items_of_kind! {
    patches: Patch => PatchBlock;
    targets: Target => TargetBlock;
    states: State => StateBlock;
    tests: Test => TestBlock;
}

impl TargetBlock {
    /// The releases and patterns of every `release` line, in order.
    pub fn releases(&self) -> impl Iterator<Item = &Str> {
        self.entries.iter().flat_map(|e| match e {
            TargetEntry::Release { values, .. } => values.as_slice(),
            _ => &[],
        })
    }
}

/// A `# ...` comment, with the `#`.
#[derive(Debug, Clone)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A word of the language: a name, keyword argument or C token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// A string literal with its escapes already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// An unsigned number written in decimal or as `0x...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// `None` when the text does not fit in 64 bits (reported by the parser).
    pub value: Option<u64>,
    pub span: Span,
}

/// Raw C text: the inside of a `{ ... }` block or a parameter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CCode {
    pub text: String,
    /// The span of `text` itself, without the surrounding braces.
    pub span: Span,
}

/// An entry that did not parse, kept so that diagnostics can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Item {
    Patch(PatchBlock),
    Target(TargetBlock),
    Import(Import),
    Include(Include),
    Fix(Fix),
    Object(ObjectBlock),
    Shadow(ShadowBlock),
    Template(TemplateBlock),
    State(StateBlock),
    Helper(Helper),
    Data(Data),
    Api(ApiEntry),
    Test(TestBlock),
    Requires(Requirement),
    Bad(Bad),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Patch(x) => x.span,
            Item::Target(x) => x.span,
            Item::Import(x) => x.span,
            Item::Include(x) => x.span,
            Item::Fix(x) => x.span,
            Item::Object(x) => x.span,
            Item::Shadow(x) => x.span,
            Item::Template(x) => x.span,
            Item::State(x) => x.span,
            Item::Helper(x) => x.span,
            Item::Data(x) => x.span,
            Item::Api(x) => x.span,
            Item::Test(x) => x.span,
            Item::Requires(x) => x.span,
            Item::Bad(x) => x.span,
        }
    }

    /// The keyword that starts the item, as written in the language.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Patch(_) => "patch",
            Item::Target(_) => "target",
            Item::Import(_) => "import",
            Item::Include(_) => "include",
            Item::Fix(_) => "fix",
            Item::Object(_) => "object",
            Item::Shadow(_) => "shadow",
            Item::Template(_) => "template",
            Item::State(_) => "state",
            Item::Helper(_) => "helper",
            Item::Data(_) => "data",
            Item::Api(_) => "api",
            Item::Test(_) => "test",
            Item::Requires(_) => "requires",
            Item::Bad(_) => "",
        }
    }
}

/// `patch NAME { ... }`: what the module is called and what it is for.
#[derive(Debug, Clone)]
pub struct PatchBlock {
    pub span: Span,
    pub name: Word,
    pub entries: Vec<PatchEntry>,
}

#[derive(Debug, Clone)]
pub enum PatchEntry {
    Description(Str),
    Reference { kind: Word, value: Str },
    Author(Str),
    Cumulative(Span),
    Bad(Bad),
}

/// `target { ... }`: the kernel builds the patch is for.
#[derive(Debug, Clone)]
pub struct TargetBlock {
    pub span: Span,
    pub keyword: Span,
    pub entries: Vec<TargetEntry>,
}

#[derive(Debug, Clone)]
pub enum TargetEntry {
    /// One `release` line; it may list several releases or patterns.
    Release {
        keyword: Span,
        values: Vec<Str>,
    },
    Arch(Word),
    Version(Word),
    BuildId(Str),
    Bad(Bad),
}

#[derive(Debug, Clone)]
pub struct Import {
    pub span: Span,
    pub path: ImportPath,
}

#[derive(Debug, Clone)]
pub enum ImportPath {
    /// `import std/name`: a module of the embedded standard library.
    Std(Word),
    /// `import "file.kgp"`: a file relative to the importing file.
    Relative(Str),
}

/// `include <linux/header.h>`.
#[derive(Debug, Clone)]
pub struct Include {
    pub span: Span,
    /// The header with its angle brackets.
    pub header: Word,
}

/// `fix "FILE.patch"` or `fix """ ... """`: the fix as written upstream, a
/// unified diff against the target's source.
#[derive(Debug, Clone)]
pub struct Fix {
    pub span: Span,
    pub diff: DiffText,
}

/// Where a unified diff is: in a file the spec names, or in the spec.
#[derive(Debug, Clone)]
pub enum DiffText {
    File(Str),
    Inline(TextBlock),
}

impl DiffText {
    /// The span of the path or of the whole text block.
    pub fn span(&self) -> Span {
        match self {
            DiffText::File(path) => path.span,
            DiffText::Inline(block) => block.span,
        }
    }
}

/// `"""`, a line end, lines of text, and `"""` on a line of its own: the
/// lines with the indentation of the closing `"""` taken off each.
#[derive(Debug, Clone)]
pub struct TextBlock {
    /// From the opening `"""` to the closing one.
    pub span: Span,
    /// The lines, each ending in `\n`.
    pub text: String,
    /// The offset in the file of the first line of the text.
    pub first_line: usize,
    /// The bytes of indentation taken off each line.
    pub indent: usize,
}

/// `object NAME { ... }`: vmlinux or a module and what changes in it.
#[derive(Debug, Clone)]
pub struct ObjectBlock {
    pub span: Span,
    pub name: Word,
    pub entries: Vec<ObjectEntry>,
}

#[derive(Debug, Clone)]
pub enum ObjectEntry {
    Replace(Replacement),
    Callback(Callback),
    Extern(ExternDecl),
    Requires(Requirement),
    Bad(Bad),
}

/// `requires CONFIG_NAME[=VALUE] [else ACTION]`: a kernel config option the
/// build must have, at the top level for the whole build, in an object for
/// that object.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub span: Span,
    /// The option as written, such as `CONFIG_BT`.
    pub option: Word,
    /// The value after `=`; none means "y or m".
    pub value: Option<ConfigValue>,
    /// The word after `else`, such as `skip`.
    pub otherwise: Option<Word>,
}

/// The value a requirement asks for: a word (`y`, `m`, `n`, `8192`, `0x1000`) or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Word(Word),
    Text(Str),
}

impl ConfigValue {
    pub fn span(&self) -> Span {
        match self {
            ConfigValue::Word(w) => w.span,
            ConfigValue::Text(s) => s.span,
        }
    }
}

/// `replace PROTOTYPE-OR-NAME [in "file.c"] [sympos N] [allow_inlined "caller"...] { body }`.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub span: Span,
    pub keyword: Span,
    pub head: ReplaceHead,
    pub in_file: Option<Str>,
    pub sympos: Option<Number>,
    /// `allow_inlined "caller"...`: callers whose inlined copies of the
    /// function the patch knowingly leaves alone.
    pub allow_inlined: Vec<Str>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum ReplaceHead {
    Prototype(Prototype),
    Name(Word),
}

impl ReplaceHead {
    /// The name of the kernel function being replaced.
    pub fn name(&self) -> &Word {
        match self {
            ReplaceHead::Prototype(p) => p.name(),
            ReplaceHead::Name(w) => w,
        }
    }
}

/// A C function head: return type words, the name and the parameter list.
#[derive(Debug, Clone)]
pub struct Prototype {
    pub span: Span,
    /// The words before the parameters; the last one is the name.
    pub words: Vec<Word>,
    /// The parameter list with its parentheses.
    pub params: CCode,
}

impl Prototype {
    pub fn name(&self) -> &Word {
        self.words
            .last()
            .expect("the grammar requires at least one word")
    }

    /// The words before the name, such as `static int *`.
    pub fn return_words(&self) -> &[Word] {
        &self.words[..self.words.len() - 1]
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    Inline(CCode),
    /// `body "file.c"`: the statements of the body live in a file.
    File(Str),
    /// `fix "FILE"` or `fix """ ... """`: the function's part of an upstream
    /// fix, its hunks against the target's source.
    Fix(DiffText),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallbackKind {
    PrePatch,
    PostPatch,
    PreUnpatch,
    PostUnpatch,
}

impl CallbackKind {
    pub const ALL: [CallbackKind; 4] = [
        CallbackKind::PrePatch,
        CallbackKind::PostPatch,
        CallbackKind::PreUnpatch,
        CallbackKind::PostUnpatch,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            CallbackKind::PrePatch => "pre_patch",
            CallbackKind::PostPatch => "post_patch",
            CallbackKind::PreUnpatch => "pre_unpatch",
            CallbackKind::PostUnpatch => "post_unpatch",
        }
    }

    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.keyword() == text)
    }
}

/// `pre_patch { ... }` and its three siblings.
#[derive(Debug, Clone)]
pub struct Callback {
    pub span: Span,
    pub kind: CallbackKind,
    pub keyword: Span,
    pub body: CCode,
}

/// `extern DECLARATION [sympos N];`: a symbol of the object that is not exported.
#[derive(Debug, Clone)]
pub struct ExternDecl {
    pub span: Span,
    /// Words of the declaration; the last one is the symbol's name.
    pub words: Vec<Word>,
    /// A parameter list or array bound after the name, as written.
    pub suffix: Option<CCode>,
    pub sympos: Option<Number>,
}

impl ExternDecl {
    pub fn name(&self) -> &Word {
        self.words
            .last()
            .expect("the grammar requires at least one word")
    }
}

/// `shadow NAME for TYPE [like TEMPLATE] { ... }`.
#[derive(Debug, Clone)]
pub struct ShadowBlock {
    pub span: Span,
    pub name: Word,
    /// The C type the variable is attached to, such as `struct dummy`.
    pub owner: Word,
    pub like: Option<Word>,
    pub entries: Vec<ShadowEntry>,
}

/// `template NAME { ... }`: shadow-variable entries to reuse with `like`.
#[derive(Debug, Clone)]
pub struct TemplateBlock {
    pub span: Span,
    pub name: Word,
    pub entries: Vec<ShadowEntry>,
}

#[derive(Debug, Clone)]
pub enum ShadowEntry {
    Id(Number),
    Gfp(Word),
    Payload(CCode),
    Ctor(CCode),
    Dtor(CCode),
    Keep(Span),
    Bad(Bad),
}

/// `state NAME { id N version M }`.
#[derive(Debug, Clone)]
pub struct StateBlock {
    pub span: Span,
    pub name: Word,
    pub entries: Vec<StateEntry>,
}

#[derive(Debug, Clone)]
pub enum StateEntry {
    Id(Number),
    Version(Number),
    Bad(Bad),
}

/// `helper PROTOTYPE { body }`: a new function of the patch module.
#[derive(Debug, Clone)]
pub struct Helper {
    pub span: Span,
    pub prototype: Prototype,
    pub body: CCode,
}

/// `data { ... }`: new static data of the patch module.
#[derive(Debug, Clone)]
pub struct Data {
    pub span: Span,
    pub body: CCode,
}

/// `api FEATURE since VERSION`: one row of the API table in `std/api`.
#[derive(Debug, Clone)]
pub struct ApiEntry {
    pub span: Span,
    pub feature: Word,
    pub since: Word,
}

/// `test { ... }`: what `kgpc test` checks in the booted target kernel.
#[derive(Debug, Clone)]
pub struct TestBlock {
    pub span: Span,
    pub keyword: Span,
    pub entries: Vec<TestEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// The check fails before the patch, passes with it and fails after it is removed.
    Fixed,
    /// The check passes in every phase.
    Always,
}

impl CheckKind {
    pub fn keyword(self) -> &'static str {
        match self {
            CheckKind::Fixed => "fixed",
            CheckKind::Always => "always",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// After the patch is loaded and its transition has finished.
    Loaded,
    /// After the patch is disabled and its module removed.
    Unloaded,
}

impl Phase {
    pub fn keyword(self) -> &'static str {
        match self {
            Phase::Loaded => "loaded",
            Phase::Unloaded => "unloaded",
        }
    }
}

/// A shell script of a test: one line in a string, or the lines of a text block.
#[derive(Debug, Clone)]
pub enum Script {
    Line(Str),
    Block(TextBlock),
}

impl Script {
    /// The script as the shell runs it.
    pub fn text(&self) -> &str {
        match self {
            Script::Line(s) => &s.value,
            Script::Block(b) => &b.text,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Script::Line(s) => s.span,
            Script::Block(b) => b.span,
        }
    }
}

/// What a check's run must show: `contains "TEXT"`, `lacks "TEXT"` or `exits N`.
#[derive(Debug, Clone)]
pub enum Expectation {
    Contains { keyword: Span, text: Str },
    Lacks { keyword: Span, text: Str },
    Exits { keyword: Span, status: Number },
}

impl Expectation {
    /// From its keyword to its value.
    pub fn span(&self) -> Span {
        let (keyword, end) = match self {
            Expectation::Contains { keyword, text } | Expectation::Lacks { keyword, text } => {
                (keyword, text.span.end)
            }
            Expectation::Exits { keyword, status } => (keyword, status.span.end),
        };
        Span::new(keyword.file, keyword.start, end)
    }
}

#[derive(Debug, Clone)]
pub enum TestEntry {
    /// `load "WHAT"`: a module to load before the patch.
    Load(Str),
    /// `patch_first "SPEC"`: another spec whose patch is loaded first.
    PatchFirst(Str),
    /// `file "NAME"`: a file of the spec's tree, copied into the guest's `/test`.
    File(Str),
    /// `program "NAME.c"`: a C file built for the guest into its `/test`.
    Program(Str),
    /// `reload "MODULE"`: a module the test loads, unloaded and loaded
    /// again while the patch is applied.
    Reload(Str),
    /// `setup "COMMAND"` or a text block: a script run once before the patch.
    Setup {
        keyword: Span,
        script: Script,
    },
    /// `fixed|always COMMAND contains "A" lacks "B" exits N`, one expectation or more.
    Check {
        kind: CheckKind,
        keyword: Span,
        command: Script,
        expects: Vec<Expectation>,
    },
    /// `dmesg loaded|unloaded "TEXT"...`: lines expected in this order.
    Dmesg {
        phase: Phase,
        keyword: Span,
        lines: Vec<Str>,
    },
    /// `refused "TEXT"`: the kernel must refuse the patch, saying this.
    Refused(Str),
    /// `workload "COMMAND"`: run on every CPU while the patch is enabled and disabled.
    Workload(Str),
    Bad(Bad),
}
