//! Kernel headers that hide part of themselves from modules: between
//! `#ifndef MODULE` and its `#endif` they declare what only code built into
//! vmlinux may use. Code a fix takes from a file of vmlinux includes them
//! and compiles, in the patch module, only if it sees that part too (the
//! unused inline functions of other headers name what it declares). The
//! patch module includes the header and then a copy of that part alone:
//! reading the whole header without `MODULE` would also change how the
//! headers it includes build a module (`linux/module.h`, `linux/init.h`,
//! `linux/percpu-defs.h`).

use super::top_level::{top_level_items, TopKind};

/// The headers read without `MODULE`, as `#include` names them.
pub const HIDDEN_FROM_MODULES: &[&str] = &["<asm/tlbflush.h>"];

/// The headers of [`HIDDEN_FROM_MODULES`] that the C `text` includes.
pub fn hidden_includes(text: &str) -> Vec<String> {
    top_level_items(text)
        .into_iter()
        .filter(|item| matches!(item.kind, TopKind::Include))
        .filter_map(|item| item.name)
        .filter(|name| HIDDEN_FROM_MODULES.contains(&name.as_str()))
        .collect()
}

/// The part of a header's `text` that it hides from modules: the lines
/// between its first `#ifndef MODULE` and the `#endif` that closes it, with
/// the line number of the first, or `None` when it has none.
pub fn hidden_part(text: &str) -> Option<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    fn directive(line: &str) -> Option<Vec<&str>> {
        let rest = line.trim_start().strip_prefix('#')?;
        Some(rest.split_whitespace().collect())
    }
    let start = lines.iter().position(|l| {
        directive(l).is_some_and(|w| w.len() >= 2 && w[0] == "ifndef" && w[1] == "MODULE")
    })?;
    let mut depth = 0usize;
    for (at, line) in lines.iter().enumerate().skip(start) {
        match directive(line).as_deref().and_then(|w| w.first().copied()) {
            Some("if" | "ifdef" | "ifndef") => depth += 1,
            Some("endif") => {
                depth -= 1;
                if depth == 0 {
                    let body = lines[start + 1..at].join("\n");
                    return Some((start + 2, format!("{body}\n")));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_headers_that_hide_declarations_are_named() {
        let text = "#include <linux/mm.h>\n#include <asm/tlb.h>\n#include <asm/tlbflush.h>\n#include <linux/module.h>\n";
        assert_eq!(hidden_includes(text), ["<asm/tlbflush.h>"]);
    }

    #[test]
    fn the_hidden_part_ends_at_its_own_endif() {
        let text = "#include <x.h>\n#ifndef MODULE\nvoid a(void);\n#ifdef B\nvoid b(void);\n#endif\n#endif /* !MODULE */\nvoid c(void);\n";
        assert_eq!(
            hidden_part(text),
            Some((
                3,
                "void a(void);\n#ifdef B\nvoid b(void);\n#endif\n".to_string()
            ))
        );
        assert_eq!(hidden_part("void c(void);\n"), None);
    }
}
