//! The parts of a `SYSCALL_DEFINEn(name, type, arg, ...) { body }`
//! definition: the call's name, its arguments as declarations, and its
//! body, so that a changed system call can be compiled in a patch module.

use crate::c::lexer::{tokens, Kind, Token};
use crate::c::signature::body_close;

/// A system call's definition cut into its parts; offsets are in the text
/// given to [`syscall_definition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallDefinition {
    /// The call's name, `newuname` in `SYSCALL_DEFINE1(newuname, ...)`.
    pub name: String,
    /// Each argument's type, such as `struct new_utsname __user *`.
    pub types: Vec<String>,
    /// Each argument's name.
    pub args: Vec<String>,
    /// The statements between the body's braces.
    pub body: String,
    pub body_start: usize,
}

impl SyscallDefinition {
    /// The parameter list the arguments make: `(struct new_utsname __user * name)`.
    pub fn params(&self) -> String {
        if self.args.is_empty() {
            return "(void)".to_string();
        }
        let each: Vec<String> = self
            .types
            .iter()
            .zip(&self.args)
            .map(|(t, a)| format!("{t} {a}"))
            .collect();
        format!("({})", each.join(", "))
    }
}

/// The ABIs' entry points of a system call on x86-64, and the registers
/// their arguments come in (`SC_X86_64_REGS_TO_ARGS`, `SC_IA32_REGS_TO_ARGS`;
/// the 32-bit ABI's registers hold 32 bits).
pub const SYSCALL_ENTRIES: &[(&str, &[&str], bool)] = &[
    ("__x64_sys_", &["di", "si", "dx", "r10", "r8", "r9"], false),
    ("__ia32_sys_", &["bx", "cx", "dx", "si", "di", "bp"], true),
];

/// The body of a replacement of the entry point `entry`
/// (`__x64_sys_newuname(const struct pt_regs *regs)`): it reads the
/// arguments from the registers, as the kernel's wrapper does, and calls
/// `helper`, the call's body taking them. `None` for a name that is no
/// entry point.
pub fn entry_body(call: &SyscallDefinition, entry: &str, helper: &str) -> Option<String> {
    let (_, registers, ia32) = SYSCALL_ENTRIES
        .iter()
        .find(|(prefix, ..)| entry.strip_prefix(prefix) == Some(call.name.as_str()))?;
    if call.args.len() > registers.len() {
        return None;
    }
    let arguments: Vec<String> = call
        .types
        .iter()
        .zip(registers.iter())
        .map(|(ty, reg)| {
            if *ia32 {
                format!("({ty})(unsigned int)regs->{reg}")
            } else {
                format!("({ty})regs->{reg}")
            }
        })
        .collect();
    Some(format!("\n\treturn {helper}({});\n", arguments.join(", ")))
}

/// Reads a `SYSCALL_DEFINEn` definition; `None` if `text` is not one.
pub fn syscall_definition(text: &str) -> Option<SyscallDefinition> {
    let toks: Vec<Token> = tokens(text)
        .into_iter()
        .filter(|t| t.directive.is_none() && !t.kind.is_comment())
        .collect();
    let word = |t: &Token| &text[t.start..t.end];
    let open = toks.iter().position(|t| word(t) == "(")?;
    if !toks
        .first()
        .is_some_and(|t| word(t).starts_with("SYSCALL_DEFINE"))
    {
        return None;
    }
    // The macro's arguments, split at the commas outside parentheses.
    let mut parts: Vec<String> = vec![String::new()];
    let mut depth = 0usize;
    let mut close = None;
    for (i, t) in toks.iter().enumerate().skip(open) {
        let w = word(t);
        match w {
            "(" => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ")" => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            "," if depth == 1 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        let part = parts.last_mut()?;
        if !part.is_empty() {
            part.push(' ');
        }
        part.push_str(w);
    }
    let close = close?;
    let open_brace = toks.get(close + 1).filter(|t| t.kind == Kind::Open)?;
    let end = body_close(&toks, close + 1)?;
    let mut parts = parts.into_iter().map(|p| p.trim().to_string());
    let name = parts.next().filter(|n| !n.is_empty())?;
    let rest: Vec<String> = parts.collect();
    if !rest.len().is_multiple_of(2) {
        return None;
    }
    let (types, args) = rest.chunks(2).map(|c| (c[0].clone(), c[1].clone())).unzip();
    Some(SyscallDefinition {
        name,
        types,
        args,
        body: text[open_brace.end..toks[end].start].to_string(),
        body_start: open_brace.end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_call_is_cut_into_its_name_arguments_and_body() {
        let text =
            "SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)\n{\n\treturn 0;\n}";
        let d = syscall_definition(text).unwrap();
        assert_eq!(d.name, "newuname");
        assert_eq!(d.types, ["struct new_utsname __user *"]);
        assert_eq!(d.args, ["name"]);
        assert_eq!(d.params(), "(struct new_utsname __user * name)");
        assert_eq!(d.body, "\n\treturn 0;\n");
        let text = "SYSCALL_DEFINE0(getpid)\n{\n\treturn task_tgid_vnr(current);\n}";
        let d = syscall_definition(text).unwrap();
        assert_eq!(
            (d.name.as_str(), d.params()),
            ("getpid", "(void)".to_string())
        );
        let text = "SYSCALL_DEFINE2(kill, pid_t, pid, int, sig) { return f(pid, (sig)); }";
        assert_eq!(
            syscall_definition(text).unwrap().params(),
            "(pid_t pid, int sig)"
        );
        assert_eq!(syscall_definition("int f(void) { }"), None);
        assert_eq!(syscall_definition("SYSCALL_DEFINE1(x, int) { }"), None);
        let d = syscall_definition("SYSCALL_DEFINE2(kill, pid_t, pid, int, sig) { }").unwrap();
        assert_eq!(
            entry_body(&d, "__x64_sys_kill", "h").unwrap(),
            "\n\treturn h((pid_t)regs->di, (int)regs->si);\n"
        );
        assert_eq!(
            entry_body(&d, "__ia32_sys_kill", "h").unwrap(),
            "\n\treturn h((pid_t)(unsigned int)regs->bx, (int)(unsigned int)regs->cx);\n"
        );
        assert_eq!(entry_body(&d, "__x64_sys_getpid", "h"), None);
    }
}
