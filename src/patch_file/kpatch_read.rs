//! kpatch-build's macros read in a patched file, so that a patch written
//! for kpatch-build builds with kgpc as it is written: its include of
//! `kpatch-macros.h` gives the one type the callbacks use, its callback
//! macros become the callbacks of the object the file is built into, and
//! `KPATCH_SYSCALL_DEFINEn` is the kernel's own `SYSCALL_DEFINEn`. Every line
//! keeps its place, so that diagnostics point where the patch wrote them.

use super::kpatch::{scan_line, Conversion, KpatchKind};
use std::ops::Range;

/// A kpatch callback macro: `KPATCH_PRE_PATCH_CALLBACK(fn);`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpatchCallback {
    /// The callback's keyword in the language: `pre_patch`, ...
    pub keyword: &'static str,
    pub function: String,
    /// An old `KPATCH_LOAD_HOOK`/`KPATCH_UNLOAD_HOOK`, whose function takes
    /// no argument and returns nothing.
    pub hook: bool,
    /// Where the macro is in the patched text.
    pub range: Range<usize>,
}

/// A kpatch macro kgpc has no equivalent of, with what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpatchUnsupported {
    pub name: String,
    pub advice: &'static str,
    pub range: Range<usize>,
}

/// A patched file's text with kpatch's macros read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpatchRead {
    pub text: String,
    pub callbacks: Vec<KpatchCallback>,
    pub unsupported: Vec<KpatchUnsupported>,
}

/// What kpatch's `kpatch-macros.h` gives the callbacks, in its place.
const PATCH_OBJECT_TYPE: &str = "typedef struct klp_object patch_object;";

/// Reads the kpatch macros of `text`, or `None` when it uses none.
pub fn read_kpatch_macros(text: &str) -> Option<KpatchRead> {
    if !text.contains("KPATCH_") && !text.contains("kpatch-") {
        return None;
    }
    let mut out = KpatchRead {
        text: String::with_capacity(text.len()),
        callbacks: Vec::new(),
        unsupported: Vec::new(),
    };
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let at = offset..offset + body.len();
        offset += line.len();
        let mut found = Vec::new();
        scan_line(body, "", 0, &mut found);
        let newline = &line[body.len()..];
        if body.contains("#include") && body.contains("kpatch-syscall.h") {
            out.text.push_str(newline);
            continue;
        }
        let Some(first) = found.first() else {
            out.text.push_str(line);
            continue;
        };
        match (first.kind, first.kind.conversion()) {
            (KpatchKind::Include, _) => {
                out.text.push_str(PATCH_OBJECT_TYPE);
                out.text.push_str(newline);
            }
            (KpatchKind::SyscallDefine, _) => {
                out.text
                    .push_str(&line.replacen("KPATCH_SYSCALL_DEFINE", "SYSCALL_DEFINE", 1));
            }
            (kind, Conversion::Callback(keyword)) => {
                out.callbacks.push(KpatchCallback {
                    keyword,
                    function: first.argument.clone(),
                    hook: matches!(kind, KpatchKind::LoadHook | KpatchKind::UnloadHook),
                    range: at,
                });
                out.text.push_str(newline);
            }
            (_, Conversion::Read(_)) => out.text.push_str(line),
            (_, Conversion::Advice(advice)) => {
                out.unsupported.push(KpatchUnsupported {
                    name: first.name.clone(),
                    advice,
                    range: at,
                });
                out.text.push_str(line);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_and_system_calls_are_read_and_every_line_keeps_its_place() {
        let text = "#include \"kpatch-macros.h\"\n\
                    static int pre(patch_object *obj) { return 0; }\n\
                    KPATCH_PRE_PATCH_CALLBACK(pre);\n\
                    KPATCH_LOAD_HOOK(hook);\n\
                    #include \"kpatch-syscall.h\"\n\
                    KPATCH_SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)\n\
                    KPATCH_IGNORE_FUNCTION(f);\n";
        let read = read_kpatch_macros(text).expect("uses kpatch macros");
        assert_eq!(read.text.lines().count(), text.lines().count());
        assert_eq!(
            read.text,
            "typedef struct klp_object patch_object;\n\
             static int pre(patch_object *obj) { return 0; }\n\
             \n\
             \n\
             \n\
             SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)\n\
             KPATCH_IGNORE_FUNCTION(f);\n"
        );
        let callbacks: Vec<(&str, &str, bool)> = read
            .callbacks
            .iter()
            .map(|c| (c.keyword, c.function.as_str(), c.hook))
            .collect();
        assert_eq!(
            callbacks,
            [("pre_patch", "pre", false), ("post_patch", "hook", true)]
        );
        assert_eq!(
            &text[read.callbacks[0].range.clone()],
            "KPATCH_PRE_PATCH_CALLBACK(pre);"
        );
        assert_eq!(read.unsupported.len(), 1);
        assert_eq!(read.unsupported[0].name, "KPATCH_IGNORE_FUNCTION");
    }

    #[test]
    fn a_file_without_kpatch_macros_is_left_alone() {
        assert_eq!(read_kpatch_macros("int x;\n"), None);
    }
}
