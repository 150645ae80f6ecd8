//! The context a function taken from a source file is compiled in: the
//! file's own includes, macros, conditionals and types, in the file's
//! order, without its functions and data. A private header the file
//! includes with quotes (`#include "internal.h"`) is copied in, once, as
//! the preprocessor would read it, since the patch module is built away
//! from the file's directory.

use super::apply_fix::read_source_file;
use crate::c::top_level::{top_level_items, TopItem, TopKind};
use std::collections::HashSet;
use std::path::Path;

/// How deep private headers may include each other.
const HEADER_DEPTH: usize = 8;

/// Macros whose definition in a file changes what a header it includes
/// defines, and which the patch module must not define: with
/// `CREATE_TRACE_POINTS` a trace header defines the tracepoints themselves,
/// which the kernel already has.
const MACROS_LEFT_OUT: &[&str] = &["CREATE_TRACE_POINTS"];

/// The context of the functions of `path`, whose text is `text`, with the
/// private headers it includes read from the source `tree`.
pub fn file_context(path: &str, text: &str, tree: &Path) -> String {
    let mut seen = HashSet::new();
    let mut out = String::new();
    write_context(path, text, tree, 0, &mut seen, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn write_context(
    path: &str,
    text: &str,
    tree: &Path,
    depth: usize,
    seen: &mut HashSet<String>,
    out: &mut String,
) {
    // A header is copied whole, its inline functions included: they are
    // what the file's functions call, and unused ones cost nothing.
    let is_header = path.ends_with(".h");
    let mut copier = Copier {
        path,
        text,
        out,
        // The fragment of the file itself starts at its line 1.
        after: (depth == 0).then_some(0),
    };
    for item in top_level_items(text) {
        let item_text = &text[item.text_range.clone()];
        match &item.kind {
            TopKind::Include => {
                if let Some(header) = quoted_include(item_text) {
                    let resolved = resolve(path, &header);
                    if seen.contains(&resolved) {
                        continue;
                    }
                    if depth < HEADER_DEPTH {
                        if let Ok(header_text) = read_source_file(tree, &resolved) {
                            seen.insert(resolved.clone());
                            copier.line_break();
                            // The guard keeps a header out that another
                            // file's context already copied into the module.
                            let guard = copy_guard(&resolved);
                            copier.out.push_str(&format!(
                                "/* {header}, as {path} includes it. */\n#ifndef {guard}\n#define {guard}\n"
                            ));
                            write_context(
                                &resolved,
                                &header_text,
                                tree,
                                depth + 1,
                                seen,
                                copier.out,
                            );
                            if !copier.out.ends_with('\n') {
                                copier.out.push('\n');
                            }
                            copier.out.push_str(&format!("#endif /* {guard} */\n"));
                            copier.after = None;
                            continue;
                        }
                    }
                }
                copier.copy(&item);
            }
            TopKind::Define => {
                let name = item.name.as_deref().unwrap_or_default();
                if MACROS_LEFT_OUT.contains(&name) {
                    continue;
                }
                // The file's definition wins over a header's, as it does in the file.
                copier.line_break();
                copier.out.push_str(&format!("#undef {name}\n"));
                copier.after = None;
                copier.copy(&item);
            }
            TopKind::Conditional | TopKind::Type => copier.copy(&item),
            TopKind::MacroUse { macro_name }
                if crate::c::kept_macros::MACROS_KEPT.contains(&macro_name.as_str()) =>
            {
                copier.copy(&item)
            }
            _ if is_header => copier.copy(&item),
            // A function or datum left out may hold the `#elif` and `#endif`
            // of a conditional opened before it; those lines stay.
            _ => copier.conditional_lines(&item),
        }
    }
}

/// The macro that guards a copied private header, from its path in the tree:
/// `fs/proc/internal.h` is `KGPC_COPIED_FS_PROC_INTERNAL_H`.
fn copy_guard(path: &str) -> String {
    let name: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("KGPC_COPIED_{name}")
}

/// Copies items of one file, keeping the compiler's idea of their lines:
/// an item that follows the last one copied after nothing but blank lines
/// gets the blank lines, any other a `#line` directive.
struct Copier<'a> {
    path: &'a str,
    text: &'a str,
    out: &'a mut String,
    /// Where the last item copied ends, while nothing else was written since.
    after: Option<usize>,
}

impl Copier<'_> {
    fn copy(&mut self, item: &TopItem) {
        let start = item.text_range.start;
        match self.after {
            Some(end) if self.text[end..start].trim().is_empty() => {
                self.out.push_str(&self.text[end..start]);
            }
            _ => {
                self.line_break();
                self.out
                    .push_str(&format!("#line {} \"{}\"\n", item.start_line, self.path));
            }
        }
        self.out.push_str(&self.text[item.text_range.clone()]);
        self.after = Some(item.text_range.end);
    }

    /// Copies the conditional directives inside an item that is left out,
    /// each at its own line, with the lines a directive continues onto
    /// (`#if defined(A) && \` goes on on the next line).
    fn conditional_lines(&mut self, item: &TopItem) {
        let text = &self.text[item.text_range.clone()];
        let lines: Vec<&str> = text.split('\n').collect();
        let mut continued_until = 0;
        for (index, (line, l)) in (item.start_line..).zip(lines.iter().copied()).enumerate() {
            if index < continued_until {
                continue;
            }
            let directive = l.trim_start().strip_prefix('#').map(str::trim_start);
            let conditional = directive.is_some_and(|d| {
                ["if", "ifdef", "ifndef", "elif", "else", "endif"]
                    .iter()
                    .any(|w| {
                        d.strip_prefix(w).is_some_and(|rest| {
                            !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                        })
                    })
            });
            if conditional {
                let mut end = index + 1;
                while end < lines.len() && lines[end - 1].trim_end().ends_with('\\') {
                    end += 1;
                }
                continued_until = end;
                let directive: Vec<&str> = lines[index..end].iter().map(|l| l.trim_end()).collect();
                self.line_break();
                self.out.push_str(&format!(
                    "#line {line} \"{}\"\n{}\n",
                    self.path,
                    directive.join("\n")
                ));
                self.after = None;
            }
        }
    }

    /// Ends the line written last, if it is not ended.
    fn line_break(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }
}

/// The file an `#include "FILE"` names, if it uses quotes.
fn quoted_include(directive: &str) -> Option<String> {
    let rest = directive.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("include")?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_string())
}

/// A quoted include's path in the tree: relative to the including file's directory.
fn resolve(including: &str, header: &str) -> String {
    let dir = Path::new(including).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for component in dir.join(header).components() {
        match component {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_of_a_left_out_function_keeps_its_continued_lines() {
        // mm/memory.c's create_huge_pud() opens a conditional whose
        // condition goes on on a second line.
        let text = "#include <linux/mm.h>\n\nstatic int create_huge_pud(int x)\n{\n#if defined(CONFIG_A) &&\t\t\\\n\tdefined(CONFIG_B)\n\tx++;\n#endif /* CONFIG_A && CONFIG_B */\n\treturn x;\n}\n";
        let context = file_context("mm/memory.c", text, Path::new("/nonexistent"));
        assert!(
            context.contains(
                "#line 5 \"mm/memory.c\"\n#if defined(CONFIG_A) &&\t\t\\\n\tdefined(CONFIG_B)\n"
            ),
            "{context}"
        );
        assert!(
            context.contains("#line 8 \"mm/memory.c\"\n#endif /* CONFIG_A && CONFIG_B */\n"),
            "{context}"
        );
        assert!(!context.contains("x++"), "{context}");
    }

    #[test]
    fn quoted_includes_resolve_beside_the_file() {
        assert_eq!(
            quoted_include("#include \"internal.h\"\n").as_deref(),
            Some("internal.h")
        );
        assert_eq!(quoted_include("# include <linux/fs.h>"), None);
        assert_eq!(
            resolve("fs/proc/cmdline.c", "internal.h"),
            "fs/proc/internal.h"
        );
        assert_eq!(
            resolve("net/sched/sch_netem.c", "../core/x.h"),
            "net/core/x.h"
        );
    }
}
