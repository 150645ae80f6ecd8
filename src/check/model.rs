//! The checked model of a live patch: what the generator renders.
//!
//! Everything here has been validated: names are C identifiers within the
//! kernel's limits, ids are unique, the target kernel is supported, and every
//! C fragment knows the file and line it came from.

use super::api::ApiLevel;
use super::version::KernelVersion;
use crate::source::{FileId, Span};
use crate::syntax::ast;
use std::path::PathBuf;

pub use super::requirement::{Requirement, Unmet, Wanted};

#[derive(Debug, Clone)]
pub struct Model {
    pub patch: PatchInfo,
    pub target: Target,
    pub api: ApiLevel,
    /// Headers to include, such as `<linux/seq_file.h>`, in first-use order.
    pub includes: Vec<String>,
    pub data: Vec<Fragment>,
    pub helpers: Vec<Function>,
    pub objects: Vec<Object>,
    pub shadows: Vec<Shadow>,
    pub states: Vec<State>,
    /// The spec and the files it read, with their SHA-256, spec first.
    pub inputs: Vec<InputFile>,
    /// What `kgpc test` checks, if the spec has a `test` block.
    pub test: Option<TestPlan>,
    /// The fix as written upstream, if the spec gives it as a patch.
    pub fix: Option<UpstreamFix>,
    /// The top-level `requires` of the spec: kernel config options the build must have.
    pub requirements: Vec<Requirement>,
}

/// A `fix "FILE.patch"` item: the patch file, read into the source map,
/// and once the source stage has applied it, what it changes.
#[derive(Debug, Clone)]
pub struct UpstreamFix {
    /// What messages call the fix: the patch file as the spec names it, or
    /// the spec's own name when the spec writes the diff.
    pub path: String,
    /// The span of the `fix` item's path or text block, else that of the
    /// first function's fix.
    pub span: Span,
    /// The unified diff: the `fix` item's, then each function's, in the
    /// spec's order.
    pub diff: String,
    /// Where each line of `diff` was written.
    pub lines: crate::patch_file::DiffLines,
    /// The diffs that `replace NAME ... fix` gives for one function each.
    pub functions: Vec<FunctionFix>,
    /// The patch files the diff was read from, for the module's inputs.
    pub patch_files: Vec<crate::source::FileId>,
    /// Each source file the fix changes, as the target has it and patched.
    pub files: Vec<PatchedSource>,
    /// Headers that hide part of themselves from modules and that code
    /// taken from vmlinux's files includes (`c::module_hidden`), such as
    /// `<asm/tlbflush.h>`, each with the part it hides, which the patch
    /// module copies.
    pub hidden_headers: Vec<HiddenHeader>,
}

/// `replace NAME in "FILE" fix ...`: the part of the fix that changes one
/// function, whose hunks must lie inside that function.
#[derive(Debug, Clone)]
pub struct FunctionFix {
    /// The function as the spec names it.
    pub name: String,
    /// The name's span in the spec.
    pub span: Span,
    /// The object block it is written in (`vmlinux` or a module's name).
    pub object: String,
    /// The lines of the fix's diff it wrote (1-based, end exclusive).
    pub lines: std::ops::Range<usize>,
}

/// A header's part hidden from modules, as the target's source has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenHeader {
    /// As `#include` names it: `<asm/tlbflush.h>`.
    pub include: String,
    /// Its path in the source tree.
    pub path: String,
    /// The line of the part's first line in the header.
    pub line: usize,
    pub text: String,
}

/// One source file of the target and the same file with the fix applied.
#[derive(Debug, Clone)]
pub struct PatchedSource {
    /// The path in the source tree (`fs/proc/cmdline.c`).
    pub path: String,
    pub original: String,
    /// The patched text, also in the source map (`patched`) so that
    /// diagnostics can point into it.
    pub patched_text: String,
    pub patched: crate::source::FileId,
}

#[derive(Debug, Clone)]
pub struct PatchInfo {
    /// The name from the spec, such as `shadow-fix1`.
    pub name: String,
    /// The module's file name: `livepatch-<name>`.
    pub module_name: String,
    /// The module's name in the kernel (KBUILD_MODNAME): dashes become underscores.
    pub kernel_name: String,
    pub description: Option<String>,
    pub references: Vec<Reference>,
    pub authors: Vec<String>,
    /// `klp_patch.replace`: the patch atomically replaces all earlier ones.
    pub cumulative: bool,
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// What the spec lists, literal releases and patterns.
    pub releases: Vec<String>,
    /// The release this compile is for.
    pub release: String,
    /// How `release` was chosen, for the header and the user.
    pub release_source: String,
    /// The spec's first release, where diagnostics about the target point.
    pub span: Span,
    pub arch: String,
    pub version: KernelVersion,
    pub build_id: Option<String>,
}

/// A piece of C from the spec or a file it names, with its origin for `#line`.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub text: String,
    /// The file name `#line` directives use.
    pub file: String,
    /// The 1-based line of the first line of `text`.
    pub line: usize,
    /// Where `text` is in the sources; for a fragment copied from the spec
    /// (a body, a data block), `text` is exactly the text of this span.
    pub span: Span,
}

/// A C function of the patch module: a replacement or a helper.
#[derive(Debug, Clone)]
pub struct Function {
    /// The C name in the patch module.
    pub c_name: String,
    /// Everything before the name, without storage-class words, such as `int` or `struct dummy *`.
    pub return_type: String,
    /// The parameter list with parentheses.
    pub params: String,
    /// Where the prototype was written.
    pub origin: Fragment,
    pub body: Fragment,
    /// Where the function was taken from the target's source, if kgpc
    /// derived it from the spec's `fix` rather than the spec spelling it out.
    pub from_source: Option<FromSource>,
}

/// A function of the patch module that kgpc took from the target's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromSource {
    /// The source file, as the source tree names it (`fs/proc/cmdline.c`).
    pub file: String,
    /// Why the function is in the patch module.
    pub reason: SourceReason,
    /// The definition as the target has it; `None` for one the fix adds.
    pub original: Option<SourceText>,
    /// The definition as the fix makes it.
    pub patched: SourceText,
    /// What the compiled function refers to, as the compiler's view of the
    /// fix lists it (macros expanded): each name, and whether it is a
    /// `static` function of the file.
    pub references: Vec<(String, bool)>,
    /// Whether the fix changes the function's prototype.
    pub prototype_changed: bool,
}

/// Why a function was taken from the target's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceReason {
    /// The fix changes it: it replaces the kernel's function.
    Changed,
    /// The fix adds it: a new function of the patch module.
    Added,
    /// A changed function calls it and it exists only inlined in the
    /// kernel, so the patch module has its own copy.
    InlinedCallee,
    /// The entry point of a changed system call, made by kgpc: it reads
    /// the call's arguments from the registers and calls its body, named
    /// here.
    SyscallEntry { body: String },
}

/// A definition's text and the line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Object {
    /// `None` for vmlinux, else the module's name with underscores.
    pub module: Option<String>,
    /// Where the spec names the object.
    pub span: Span,
    /// A C identifier naming the object in generated names.
    pub ident: String,
    pub funcs: Vec<Replacement>,
    pub callbacks: Vec<CallbackCode>,
    pub externs: Vec<Extern>,
    /// The object's `requires`: a build whose config does not meet them leaves it out.
    pub requirements: Vec<Requirement>,
}

impl Object {
    pub fn display_name(&self) -> &str {
        self.module.as_deref().unwrap_or("vmlinux")
    }
}

#[derive(Debug, Clone)]
pub struct Replacement {
    /// The kernel function that is replaced.
    pub old_name: String,
    /// Where the spec names the function.
    pub span: Span,
    pub sympos: u64,
    /// Where the spec gives `sympos`, if it does.
    pub sympos_span: Option<Span>,
    /// Callers whose inlined copies the spec knowingly leaves alone.
    pub allow_inlined: Vec<String>,
    /// Whether the spec gives the prototype. Without it, `return_type` and
    /// `params` stay empty until the kernel facts supply them.
    pub prototype_given: bool,
    /// The source file the spec named to tell duplicated local symbols apart.
    pub source_file: Option<String>,
    /// Where the spec names the source file.
    pub file_span: Option<Span>,
    /// Whether the kernel's facts chose `sympos` (from `source_file` if given).
    pub position_checked: bool,
    pub function: Function,
}

#[derive(Debug, Clone)]
pub struct CallbackCode {
    pub kind: CallbackKind,
    pub body: Fragment,
}

#[derive(Debug, Clone)]
pub struct Extern {
    pub name: String,
    /// Where the spec names the symbol.
    pub span: Span,
    pub sympos_span: Option<Span>,
    /// The full C declaration without `extern` and `;`, such as `char *saved_command_line`.
    pub declaration: String,
    pub sympos: u64,
    pub origin: Fragment,
    /// Whether kgpc declared it for code it took from the target's source,
    /// typed from the kernel's debug information, rather than the spec.
    pub derived: bool,
}

#[derive(Debug, Clone)]
pub struct Shadow {
    pub name: String,
    pub id: u64,
    /// The type of the object the variable is attached to, such as `struct dummy`.
    pub owner: String,
    pub gfp: String,
    pub payload: Fragment,
    pub ctor: Option<Fragment>,
    pub dtor: Option<Fragment>,
    /// Free every instance when the patch is disabled.
    pub free_on_unpatch: bool,
    /// The template it was made from, if any.
    pub template: Option<String>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    /// Where the spec names the state.
    pub span: Span,
    pub id: u64,
    pub version: u64,
}

#[derive(Debug, Clone)]
pub struct InputFile {
    pub name: String,
    pub sha256: String,
    /// A module of the standard library, built into kgpc, not a file on disk.
    pub standard: bool,
}

/// The spec's `test` block: what to prove in the booted target kernel.
#[derive(Debug, Clone)]
pub struct TestPlan {
    pub span: Span,
    /// Modules to load before the patch, in order.
    pub loads: Vec<TestLoad>,
    /// Other specs whose patches are loaded, and left enabled, before this one.
    pub patches_first: Vec<TestSpecRef>,
    /// Files of the spec's tree copied into the guest's `/test`.
    pub files: Vec<GuestFile>,
    /// C programs built for the guest into its `/test`.
    pub programs: Vec<GuestProgram>,
    /// Modules of the test unloaded and loaded again while the patch is applied, in order.
    pub reloads: Vec<TestReload>,
    /// The script run once before the patch, after the modules are loaded.
    pub setup: Option<TestSetup>,
    pub checks: Vec<TestCheck>,
    pub dmesg: Vec<DmesgExpectation>,
    /// Set when the kernel must refuse the patch.
    pub refused: Option<Refusal>,
    /// The command run on every CPU from before the patch is enabled until after it is unloaded.
    pub workload: Option<Workload>,
}

/// `load "WHAT"`: a directory with a module's source and Kbuild, a `.ko`
/// file, or the name of a module of the target kernel.
#[derive(Debug, Clone)]
pub struct TestLoad {
    pub what: String,
    /// The spec's directory, against which a relative path is resolved.
    pub base_dir: Option<PathBuf>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestSpecRef {
    /// The other spec, resolved against the spec's directory.
    pub path: PathBuf,
    pub span: Span,
}

/// `file "NAME"`: a file of the spec's tree, at `/test/<its file name>` in the guest.
#[derive(Debug, Clone)]
pub struct GuestFile {
    /// Its name in the guest's `/test`.
    pub name: String,
    /// The file on the host, every link resolved.
    pub source: PathBuf,
    pub span: Span,
}

/// `program "NAME.c"`: a C file built statically for the guest, at `/test/NAME`.
#[derive(Debug, Clone)]
pub struct GuestProgram {
    /// Its name in the guest's `/test`: the C file's name without `.c`.
    pub name: String,
    /// The C file on the host, every link resolved.
    pub source: PathBuf,
    /// The C file in the source map, where the compiler's messages point.
    pub file: FileId,
    pub span: Span,
}

/// `reload "MODULE"`: the module of a `load` of the test, unloaded and
/// loaded again while the patch is applied.
#[derive(Debug, Clone)]
pub struct TestReload {
    /// The index in [`TestPlan::loads`] of the `load` that names it.
    pub load: usize,
    pub span: Span,
}

/// `setup SCRIPT`: run once in the guest before the patch is loaded.
#[derive(Debug, Clone)]
pub struct TestSetup {
    pub script: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestCheck {
    pub kind: CheckKind,
    /// A shell script run by the test's /init with busybox's `sh -c`.
    pub command: String,
    /// What the run must show, all at once: in every phase for an `always`
    /// check; for a `fixed` one, with the patch loaded and, before and after
    /// it, not all of them.
    pub expects: Vec<Expect>,
    pub span: Span,
}

/// One thing a check's run must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The output contains the text.
    Contains(String),
    /// The output does not contain the text.
    Lacks(String),
    /// The script exits with this status.
    Exits(i32),
}

impl Expect {
    /// Whether a run that printed `output` and exited with `status` shows it.
    pub fn holds(&self, output: &str, status: i32) -> bool {
        match self {
            Expect::Contains(text) => output.contains(text.as_str()),
            Expect::Lacks(text) => !output.contains(text.as_str()),
            Expect::Exits(want) => status == *want,
        }
    }
}

impl std::fmt::Display for Expect {
    /// As the spec writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Contains(text) => write!(f, "contains \"{text}\""),
            Expect::Lacks(text) => write!(f, "lacks \"{text}\""),
            Expect::Exits(status) => write!(f, "exits {status}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DmesgExpectation {
    pub phase: Phase,
    /// Substrings that must appear in the kernel log, in this order.
    pub lines: Vec<String>,
    pub span: Span,
}

/// `workload "COMMAND"`.
#[derive(Debug, Clone)]
pub struct Workload {
    pub command: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Refusal {
    /// Text the kernel log must contain when the patch is refused.
    pub text: String,
    pub span: Span,
}

// The kinds the generator, the review and the VM share. They mirror the
// syntax tree's, which lowering converts with `into()`, so that no stage
// after the check reads the syntax tree's types.

/// One of the four callbacks of `struct klp_callbacks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallbackKind {
    PrePatch,
    PostPatch,
    PreUnpatch,
    PostUnpatch,
}

impl CallbackKind {
    /// The field of `struct klp_callbacks`, which is also the spec's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CallbackKind::PrePatch => "pre_patch",
            CallbackKind::PostPatch => "post_patch",
            CallbackKind::PreUnpatch => "pre_unpatch",
            CallbackKind::PostUnpatch => "post_unpatch",
        }
    }
}

impl From<ast::CallbackKind> for CallbackKind {
    fn from(kind: ast::CallbackKind) -> Self {
        match kind {
            ast::CallbackKind::PrePatch => CallbackKind::PrePatch,
            ast::CallbackKind::PostPatch => CallbackKind::PostPatch,
            ast::CallbackKind::PreUnpatch => CallbackKind::PreUnpatch,
            ast::CallbackKind::PostUnpatch => CallbackKind::PostUnpatch,
        }
    }
}

/// What a check of the test block expects across the phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// Must not show the text before the patch nor after it is gone; must show it while loaded.
    Fixed,
    /// Must show the text in every phase.
    Always,
}

impl From<ast::CheckKind> for CheckKind {
    fn from(kind: ast::CheckKind) -> Self {
        match kind {
            ast::CheckKind::Fixed => CheckKind::Fixed,
            ast::CheckKind::Always => CheckKind::Always,
        }
    }
}

/// When the kernel log is read for a `dmesg` expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// After the patch is loaded and its transition has finished.
    Loaded,
    /// After the patch is disabled and its module removed.
    Unloaded,
}

impl From<ast::Phase> for Phase {
    fn from(phase: ast::Phase) -> Self {
        match phase {
            ast::Phase::Loaded => Phase::Loaded,
            ast::Phase::Unloaded => Phase::Unloaded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_keep_the_spec_keywords() {
        for kind in ast::CallbackKind::ALL {
            assert_eq!(CallbackKind::from(kind).keyword(), kind.keyword());
        }
    }

    #[test]
    fn kinds_and_phases_convert_to_their_namesakes() {
        assert_eq!(CheckKind::from(ast::CheckKind::Fixed), CheckKind::Fixed);
        assert_eq!(CheckKind::from(ast::CheckKind::Always), CheckKind::Always);
        assert_eq!(Phase::from(ast::Phase::Loaded), Phase::Loaded);
        assert_eq!(Phase::from(ast::Phase::Unloaded), Phase::Unloaded);
    }
}
