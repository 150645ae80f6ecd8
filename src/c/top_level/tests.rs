//! Exact tests of the splitting and naming of top-level items on small texts.

use super::*;

/// Each item's kind, name and lines.
fn items(text: &str) -> Vec<(TopKind, Option<String>, usize, usize)> {
    top_level_items(text)
        .into_iter()
        .map(|i| (i.kind, i.name, i.start_line, i.end_line))
        .collect()
}

fn item(
    kind: TopKind,
    name: &str,
    start: usize,
    end: usize,
) -> (TopKind, Option<String>, usize, usize) {
    let name = (!name.is_empty()).then(|| name.to_string());
    (kind, name, start, end)
}

fn macro_use(macro_name: &str) -> TopKind {
    TopKind::MacroUse {
        macro_name: macro_name.to_string(),
    }
}

#[test]
fn directives_are_includes_macros_and_conditionals() {
    let text = "#include <linux/fs.h>\n#include \"internal.h\" /* ours */\n\
                #define LIMIT(x) \\\n\t((x) + 1)\n#undef LIMIT\n#ifdef CONFIG_X\n#endif\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Include, "<linux/fs.h>", 1, 1),
            item(TopKind::Include, "\"internal.h\"", 2, 2),
            item(TopKind::Define, "LIMIT", 3, 4),
            item(TopKind::Conditional, "", 5, 5),
            item(TopKind::Conditional, "", 6, 6),
            item(TopKind::Conditional, "", 7, 7),
        ]
    );
}

#[test]
fn functions_keep_their_comments_and_attribute_lines() {
    let text = "// SPDX\n\n/*\n * Adds.\n */\n__attribute__((noinline))\nstatic int\n\
                add(int a, int b)\n{\n\treturn a + b; /* } */\n}\n\
                static inline void __skb_put(struct sk_buff *skb) __acquires(x) { }\n\
                static int __init proc_cmdline_init(void)\n{\n\treturn 0;\n}\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Function, "add", 3, 11),
            item(TopKind::Function, "__skb_put", 12, 12),
            item(TopKind::Function, "proc_cmdline_init", 13, 16),
        ]
    );
    let first = &top_level_items(text)[0];
    assert!(first.text(text).starts_with("/*\n * Adds."));
    assert!(first.text(text).ends_with("return a + b; /* } */\n}"));
}

#[test]
fn a_function_returning_a_function_pointer_is_a_function() {
    let text =
        "static void (*pick(int sig, void (*fallback)(int)))(int)\n{\n\treturn fallback;\n}\n\
                void (*pick_later(int sig))(int);\nint after;\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Function, "pick", 1, 4),
            item(TopKind::Declaration, "pick_later", 5, 5),
            item(TopKind::Data, "after", 6, 6),
        ]
    );
}

#[test]
fn functions_a_macro_defines_are_named_by_its_first_argument() {
    let text = "SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)\n\
                {\n\treturn ksys_read(fd, buf, count);\n}\nSYSCALL_DEFINE0(fork)\n{\n}\n";
    let syscall = |n: &str| TopKind::MacroFunction {
        macro_name: n.to_string(),
    };
    assert_eq!(
        items(text),
        vec![
            item(syscall("SYSCALL_DEFINE3"), "read", 1, 4),
            item(syscall("SYSCALL_DEFINE0"), "fork", 5, 7),
        ]
    );
}

#[test]
fn types_are_named_by_their_tag_or_typedef_name() {
    let text = "struct point {\n\tint x, y;\n};\nunion u { int a; } __packed;\n\
                enum { A, B };\ntypedef struct { int a; } pair_t;\n\
                typedef int (*handler_t)(int);\ntypedef unsigned long ulong_t;\nstruct later;\n\
                struct __attribute__((packed)) __randomize_layout packed { char c; };\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Type, "point", 1, 3),
            item(TopKind::Type, "u", 4, 4),
            item(TopKind::Type, "", 5, 5),
            item(TopKind::Type, "pair_t", 6, 6),
            item(TopKind::Type, "handler_t", 7, 7),
            item(TopKind::Type, "ulong_t", 8, 8),
            item(TopKind::Declaration, "later", 9, 9),
            item(TopKind::Type, "packed", 10, 10),
        ]
    );
}

#[test]
fn data_is_named_by_its_declarator() {
    let text = "static int count __read_mostly = 5;\nextern unsigned long total_forks;\n\
                static const struct file_operations fops = {\n\t.open = f,\n};\n\
                static char __log_buf[1 << 17] __aligned(8);\nstatic void (*hook)(int) = NULL;\n\
                static int (*const handlers[NR])(int);\n\
                struct point origin;\nstruct { int a; } anonymous, other;\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Data, "count", 1, 1),
            item(TopKind::Data, "total_forks", 2, 2),
            item(TopKind::Data, "fops", 3, 5),
            item(TopKind::Data, "__log_buf", 6, 6),
            item(TopKind::Data, "hook", 7, 7),
            item(TopKind::Data, "handlers", 8, 8),
            item(TopKind::Data, "origin", 9, 9),
            item(TopKind::Data, "anonymous", 10, 10),
        ]
    );
}

#[test]
fn macro_uses_are_named_by_their_last_identifier_argument() {
    let text = "static DEFINE_MUTEX(foo);\nstatic DEFINE_PER_CPU(struct vm_struct *, stacks[2]);\n\
                DEFINE_PER_CPU(struct task_struct *, current_task) ____cacheline_aligned = &init_task;\n\
                EXPORT_SYMBOL(kernel_clone);\n__cacheline_aligned DEFINE_RWLOCK(tasklist_lock);\n\
                module_param(verbose, bool, 0644);\nMODULE_LICENSE(\"GPL\");\nasm(\".text\");\nstatic LIST_HEAD(list);\n";
    assert_eq!(
        items(text),
        vec![
            item(macro_use("DEFINE_MUTEX"), "foo", 1, 1),
            item(macro_use("DEFINE_PER_CPU"), "stacks", 2, 2),
            item(macro_use("DEFINE_PER_CPU"), "current_task", 3, 3),
            item(macro_use("EXPORT_SYMBOL"), "kernel_clone", 4, 4),
            item(macro_use("DEFINE_RWLOCK"), "tasklist_lock", 5, 5),
            item(macro_use("module_param"), "verbose", 6, 6),
            item(macro_use("MODULE_LICENSE"), "", 7, 7),
            item(TopKind::Other, "", 8, 8),
            item(macro_use("LIST_HEAD"), "list", 9, 9),
        ]
    );
}

#[test]
fn prototypes_are_declarations() {
    let text = "int f(void);\nstruct task_struct *copy(unsigned long flags) __must_check;\n\
                __printf(1, 2)\nvoid note(const char *fmt, ...);\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Declaration, "f", 1, 1),
            item(TopKind::Declaration, "copy", 2, 2),
            item(TopKind::Declaration, "note", 3, 4),
        ]
    );
}

#[test]
fn every_branch_of_a_conditional_is_listed() {
    let text = "#ifdef CONFIG_X\nstatic int f(void)\n{\n\treturn 1;\n}\n#else\n\
                static inline int f(void) { return 0; }\n#endif\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Conditional, "", 1, 1),
            item(TopKind::Function, "f", 2, 5),
            item(TopKind::Conditional, "", 6, 6),
            item(TopKind::Function, "f", 7, 7),
            item(TopKind::Conditional, "", 8, 8),
        ]
    );
}

#[test]
fn an_item_whose_braces_cross_a_branch_is_one_item() {
    let text = "#ifdef A\nstatic int f(int a)\n{\n#else\nstatic int f(long a)\n{\n#endif\n\
                \treturn 0;\n}\nint after;\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Conditional, "", 1, 1),
            item(TopKind::Function, "f", 2, 9),
            item(TopKind::Data, "after", 10, 10),
        ]
    );
    let heads =
        "#ifdef B\nSYSCALL_DEFINE1(clone, int, a)\n#else\nSYSCALL_DEFINE1(clone, long, a)\n\
                 #endif\n{\n\treturn 0;\n}\n";
    let clone = TopKind::MacroFunction {
        macro_name: "SYSCALL_DEFINE1".to_string(),
    };
    assert_eq!(
        items(heads),
        vec![
            item(TopKind::Conditional, "", 1, 1),
            item(clone, "clone", 2, 8)
        ]
    );
}

#[test]
fn an_item_that_ends_in_a_branch_it_opened_runs_to_the_endif() {
    let text = "int randomize __read_mostly =\n#ifdef A\n\t1;\n#else\n\t2;\n#endif\n\
                int after;\n";
    assert_eq!(
        items(text),
        vec![
            item(TopKind::Data, "randomize", 1, 6),
            item(TopKind::Data, "after", 7, 7)
        ]
    );
}

#[test]
fn a_macro_call_without_its_semicolon_ends_at_the_next_line() {
    let text = "DECLARE_HOOK(a)\n#include <x.h>\nDECLARE_HOOK(b)\nint c;\nlate_initcall(f)\n";
    assert_eq!(
        items(text),
        vec![
            item(macro_use("DECLARE_HOOK"), "a", 1, 1),
            item(TopKind::Include, "<x.h>", 2, 2),
            item(macro_use("DECLARE_HOOK"), "b", 3, 3),
            item(TopKind::Data, "c", 4, 4),
            item(macro_use("late_initcall"), "f", 5, 5),
        ]
    );
}

#[test]
fn comments_go_with_the_item_they_touch() {
    let text = "int a; /* after a */\n/* above b */\nint b;\n\n/* alone */\n\nint c;\n";
    let found = top_level_items(text);
    let texts: Vec<&str> = found.iter().map(|i| i.text(text)).collect();
    assert_eq!(
        texts,
        vec!["int a; /* after a */", "/* above b */\nint b;", "int c;"]
    );
    assert_eq!(found[2].text_range, 56..62);
}

#[test]
fn broken_text_gives_items_and_never_panics() {
    assert_eq!(
        items("}\nint f(void) {\n"),
        vec![
            item(TopKind::Other, "", 1, 1),
            item(TopKind::Other, "", 2, 2)
        ]
    );
    assert_eq!(items(""), vec![]);
    assert_eq!(items("/* only */\n"), vec![]);
    assert_eq!(items(";\n"), vec![item(TopKind::Other, "", 1, 1)]);
    assert_eq!(items("#else\nint x;\n#endif\n").len(), 3);
    assert_eq!(items("int x = (\n").len(), 1);
}

#[test]
fn long_runs_of_braces_are_read_in_linear_time() {
    let text = format!("int x {}\n", "{} ".repeat(200_000));
    let started = std::time::Instant::now();
    assert_eq!(items(&text), vec![item(TopKind::Other, "", 1, 1)]);
    let nested = format!("int x = {}{};\n", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(items(&nested), vec![item(TopKind::Data, "x", 1, 1)]);
    let directives = "#if A\n#else\n#endif\n".repeat(50_000);
    assert_eq!(top_level_items(&directives).len(), 150_000);
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}
