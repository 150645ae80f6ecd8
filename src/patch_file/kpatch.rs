//! The `kpatch-macros.h` conventions of patches written for kpatch-build,
//! found in the lines a patch adds, so that `kgpc new` can say how each maps
//! to the language.

use super::{FileDiff, HunkLine};
use crate::c::lexer::{tokens, Kind};

/// Which kpatch macro a patch uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpatchKind {
    /// `#include "kpatch-macros.h"`.
    Include,
    PrePatchCallback,
    PostPatchCallback,
    PreUnpatchCallback,
    PostUnpatchCallback,
    /// `KPATCH_LOAD_HOOK(fn)`, the older name of a post-patch callback.
    LoadHook,
    /// `KPATCH_UNLOAD_HOOK(fn)`, the older name of a pre-unpatch callback.
    UnloadHook,
    /// `KPATCH_IGNORE_FUNCTION(fn)`: leave a changed function out of the patch.
    IgnoreFunction,
    /// `KPATCH_IGNORE_SECTION("name")`.
    IgnoreSection,
    /// `KPATCH_IGNORE_STATIC("name")`.
    IgnoreStatic,
    /// `KPATCH_FORCE_UNSAFE(fn)`: replace a function kpatch would refuse.
    ForceUnsafe,
    /// `KPATCH_PRINTK(...)`.
    Printk,
    /// `KPATCH_SYSCALL_DEFINEn(name, ...)`, a changed system call.
    SyscallDefine,
    /// Another `KPATCH_*` macro.
    Other,
}

/// One use of a kpatch macro in the lines a patch adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpatchMacro {
    pub kind: KpatchKind,
    /// The macro's name as written, such as `KPATCH_PRE_PATCH_CALLBACK`.
    pub name: String,
    /// Its first argument: the function, section or system call it names
    /// (empty for the include).
    pub argument: String,
    /// The file of the diff that adds it.
    pub file: String,
    /// The 1-based line of the patch file it is on.
    pub line: usize,
}

impl KpatchKind {
    fn of(name: &str) -> KpatchKind {
        match name {
            "KPATCH_PRE_PATCH_CALLBACK" => KpatchKind::PrePatchCallback,
            "KPATCH_POST_PATCH_CALLBACK" => KpatchKind::PostPatchCallback,
            "KPATCH_PRE_UNPATCH_CALLBACK" => KpatchKind::PreUnpatchCallback,
            "KPATCH_POST_UNPATCH_CALLBACK" => KpatchKind::PostUnpatchCallback,
            "KPATCH_LOAD_HOOK" => KpatchKind::LoadHook,
            "KPATCH_UNLOAD_HOOK" => KpatchKind::UnloadHook,
            "KPATCH_IGNORE_FUNCTION" => KpatchKind::IgnoreFunction,
            "KPATCH_IGNORE_SECTION" => KpatchKind::IgnoreSection,
            "KPATCH_IGNORE_STATIC" => KpatchKind::IgnoreStatic,
            "KPATCH_FORCE_UNSAFE" => KpatchKind::ForceUnsafe,
            "KPATCH_PRINTK" => KpatchKind::Printk,
            _ if name.starts_with("KPATCH_SYSCALL_DEFINE") => KpatchKind::SyscallDefine,
            _ => KpatchKind::Other,
        }
    }
}

/// How a kpatch macro maps to the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// A callback of the object the file belongs to: `pre_patch`, `post_patch`,
    /// `pre_unpatch` or `post_unpatch`.
    Callback(&'static str),
    /// kgpc reads it as kpatch-build does; the text says as what.
    Read(&'static str),
    /// Nothing in the language does it; the advice says what to do instead.
    Advice(&'static str),
}

impl KpatchKind {
    /// What the macro becomes in a spec.
    pub fn conversion(self) -> Conversion {
        match self {
            KpatchKind::PrePatchCallback => Conversion::Callback("pre_patch"),
            KpatchKind::PostPatchCallback | KpatchKind::LoadHook => Conversion::Callback("post_patch"),
            KpatchKind::PreUnpatchCallback | KpatchKind::UnloadHook => Conversion::Callback("pre_unpatch"),
            KpatchKind::PostUnpatchCallback => Conversion::Callback("post_unpatch"),
            KpatchKind::Include => Conversion::Read("gives the callbacks' `patch_object` type"),
            KpatchKind::IgnoreFunction => Conversion::Advice(
                "kgpc cannot leave a changed function out: drop the macro, and the change to the function from the patch",
            ),
            KpatchKind::IgnoreSection | KpatchKind::IgnoreStatic => Conversion::Advice(
                "kgpc compares functions, not sections or static data: drop the macro",
            ),
            KpatchKind::ForceUnsafe => Conversion::Advice(
                "kgpc refuses what a live patch cannot change, with the reason: drop the macro and rework the change",
            ),
            KpatchKind::Printk => Conversion::Advice("use pr_info() or printk() instead"),
            KpatchKind::SyscallDefine => {
                Conversion::Read("is the kernel's own SYSCALL_DEFINEn: kgpc replaces the call's entry points")
            }
            KpatchKind::Other => Conversion::Advice("kgpc knows no equivalent: drop the macro"),
        }
    }
}

/// Every kpatch macro the files' added lines use, in patch order.
pub(super) fn find(files: &[FileDiff]) -> Vec<KpatchMacro> {
    let mut found = Vec::new();
    for file in files {
        let path = file.new_path.as_deref().unwrap_or(file.path());
        for hunk in &file.hunks {
            for (n, line) in hunk.lines.iter().enumerate() {
                if let HunkLine::Add(text) = line {
                    scan_line(text, path, hunk.line + n + 1, &mut found);
                }
            }
        }
    }
    found
}

/// The kpatch macros of one added line.
pub(super) fn scan_line(text: &str, file: &str, line: usize, found: &mut Vec<KpatchMacro>) {
    let mut push = |kind, name: &str, argument: &str| {
        found.push(KpatchMacro {
            kind,
            name: name.to_string(),
            argument: argument.to_string(),
            file: file.to_string(),
            line,
        })
    };
    let list = tokens(text);
    let word = |i: usize| list.get(i).map(|t| &text[t.start..t.end]);
    if list.first().is_some_and(|t| t.kind == Kind::Hash)
        && word(1) == Some("include")
        && word(2).is_some_and(|w| w.contains("kpatch-macros.h"))
    {
        push(KpatchKind::Include, "#include \"kpatch-macros.h\"", "");
        return;
    }
    for (i, token) in list.iter().enumerate() {
        let name = &text[token.start..token.end];
        if token.kind != Kind::Word || !name.starts_with("KPATCH_") {
            continue;
        }
        let argument = match (word(i + 1), word(i + 2)) {
            (Some("("), Some(arg)) if arg != ")" => arg.trim_matches('"'),
            _ => "",
        };
        push(KpatchKind::of(name), name, argument);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_ignores_and_the_include_are_found_with_their_lines() {
        let mut found = Vec::new();
        scan_line("#include \"kpatch-macros.h\"", "fs/x.c", 7, &mut found);
        scan_line(
            "KPATCH_PRE_PATCH_CALLBACK(pre_patch_callback);",
            "fs/x.c",
            8,
            &mut found,
        );
        scan_line(
            "KPATCH_IGNORE_SECTION(\".init.text\"); // KPATCH_NOT_THIS",
            "fs/x.c",
            9,
            &mut found,
        );
        let summary: Vec<(KpatchKind, &str, usize)> = found
            .iter()
            .map(|m| (m.kind, m.argument.as_str(), m.line))
            .collect();
        assert_eq!(
            summary,
            [
                (KpatchKind::Include, "", 7),
                (KpatchKind::PrePatchCallback, "pre_patch_callback", 8),
                (KpatchKind::IgnoreSection, ".init.text", 9),
            ]
        );
    }
}
