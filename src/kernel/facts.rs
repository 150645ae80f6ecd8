//! The facts about one function that checks and `kgpc inspect` report:
//! where it is, whether livepatch can hook it, its clones, where it was
//! inlined and its prototype.

use super::census::{Census, Task};
use super::index::{flag, Meta, Symbol};
use super::Kernel;
use serde::Serialize;

/// One function symbol and what the kernel facts say about it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FunctionFacts {
    pub name: String,
    /// `vmlinux` or the module's name.
    pub object: String,
    /// The value `nm` shows: the address in vmlinux, the offset in its section in a module.
    pub address: String,
    pub size: u64,
    /// `old_sympos`: 0 when the name is unique in the object.
    pub sympos: u64,
    /// How many symbols of the object have this name.
    pub same_name: u64,
    /// The source file of its compilation unit, or its `STT_FILE` name.
    pub file: Option<String>,
    /// The file it is declared in, when that differs (a header).
    pub decl_file: Option<String>,
    pub local: bool,
    pub exported: bool,
    pub patchable: bool,
    pub reason: Option<String>,
    /// Compiler clones: `foo.isra.0`, `foo.constprop.0`, `foo.part.0`, `foo.cold`.
    pub clones: Vec<String>,
    /// Functions that hold inlined copies of it.
    pub inlined_into: Vec<String>,
    pub prototype: Option<String>,
    /// Why a transition may never complete while it is patched.
    pub always_on_stack: Option<String>,
}

/// Why a transition that patches this symbol may never complete, or `None`:
/// it is a scheduler function (every sleeping task is inside one, and
/// `/proc/PID/stack` hides them from the census), or the census saw kernel
/// threads resting in it.
pub fn always_on_stack(symbol: &Symbol, object: &str, census: Option<&Census>) -> Option<String> {
    if symbol.has(flag::SCHED) {
        return Some(format!(
            "`{}` is a scheduler function (.sched.text): sleeping tasks are inside it",
            symbol.name
        ));
    }
    let tasks = census?.resting_in(object, &symbol.name);
    (!tasks.is_empty()).then(|| format!("{} in `{}`", rest(&tasks), symbol.name))
}

/// "kernel thread ksmd (pid 29) always rests" or "44 kernel threads (kthreadd, ... and 38 more) always rest".
fn rest(tasks: &[&Task]) -> String {
    const SHOWN: usize = 6;
    if let [one] = tasks {
        return format!("kernel thread {} (pid {}) always rests", one.comm, one.pid);
    }
    let names: Vec<&str> = tasks.iter().take(SHOWN).map(|t| t.comm.as_str()).collect();
    let more = if tasks.len() > SHOWN {
        format!(" and {} more", tasks.len() - SHOWN)
    } else {
        String::new()
    };
    format!(
        "{} kernel threads ({}{more}) always rest",
        tasks.len(),
        names.join(", ")
    )
}

/// Why livepatch cannot hook this symbol, or `None` if it can.
pub fn unpatchable_reason(symbol: &Symbol, meta: &Meta) -> Option<String> {
    if !symbol.has(flag::FUNC) {
        return Some("it is not a function".into());
    }
    if symbol.has(flag::INIT) {
        return Some(
            "it is in .init.text, which the kernel frees once it has booted or loaded the module"
                .into(),
        );
    }
    if symbol.has(flag::EXIT) {
        return Some("it is in .exit.text, which built-in code discards".into());
    }
    if symbol.has(flag::NOINSTR) {
        return Some("it is noinstr (.noinstr.text): it has no ftrace call site".into());
    }
    if symbol.has(flag::ENTRY) {
        return Some("it is low-level entry code (.entry.text)".into());
    }
    if !symbol.has(flag::MCOUNT) {
        return Some(if meta.mcount_entries > 0 {
            "it has no ftrace call site: it is notrace, an `inline` function emitted out of line, or assembly".into()
        } else if let Some(damage) = &meta.mcount_damaged {
            format!("the object's ftrace call-site table cannot be read ({damage}), so its call sites are not known")
        } else {
            "the object has no ftrace call-site table (__mcount_loc): it was built without -mrecord-mcount or CONFIG_DYNAMIC_FTRACE".into()
        });
    }
    None
}

/// Whether `name` is a compiler clone of `base`: `base.isra.0`, `base.cold`, ...
pub fn is_clone_of(name: &str, base: &str) -> bool {
    const PARTS: &[&str] = &[
        "isra",
        "constprop",
        "part",
        "cold",
        "lto_priv",
        "localalias",
        "clone",
        "specialized",
    ];
    let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_prefix('.')) else {
        return false;
    };
    rest.split('.')
        .all(|p| PARTS.contains(&p) || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

impl Kernel {
    /// The facts of every function symbol called `name` (several for duplicated locals),
    /// with the stalls the census shows, if there is one.
    pub fn function_facts(&self, name: &str, census: Option<&Census>) -> Vec<FunctionFacts> {
        let index = self.index();
        let clones: Vec<String> = index
            .symbols_with_prefix(&format!("{name}."))
            .into_iter()
            .filter(|c| is_clone_of(c, name))
            .collect();
        let inlined_into = index.inlined_into(name);
        index
            .symbols_named(name)
            .into_iter()
            .filter(|s| s.has(flag::FUNC))
            .map(|s| {
                let reason = unpatchable_reason(&s, &index.meta);
                let prototype = self
                    .prototype(&s)
                    .and_then(Result::ok)
                    .map(|p| p.declaration());
                let file = s.file().map(str::to_string);
                FunctionFacts {
                    name: s.name.clone(),
                    object: self.object_name.clone(),
                    address: format!("{:#x}", s.value),
                    size: s.size,
                    sympos: s.sympos(),
                    same_name: s.same_name,
                    decl_file: s
                        .function
                        .as_ref()
                        .and_then(|f| f.decl_file.clone())
                        .filter(|d| Some(d) != file.as_ref()),
                    file,
                    local: s.has(flag::LOCAL),
                    exported: s.has(flag::EXPORTED),
                    patchable: reason.is_none(),
                    reason,
                    clones: clones.clone(),
                    inlined_into: inlined_into.clone(),
                    prototype,
                    always_on_stack: always_on_stack(&s, &self.object_name, census),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_names() {
        assert!(is_clone_of("foo.isra.0", "foo"));
        assert!(is_clone_of("foo.constprop.0.isra.0", "foo"));
        assert!(is_clone_of("foo.cold", "foo"));
        assert!(is_clone_of("foo.part.0", "foo"));
        assert!(!is_clone_of("foo_bar", "foo"));
        assert!(!is_clone_of("foo.", "foo"));
        assert!(!is_clone_of("foo.weird", "foo"));
    }
}
