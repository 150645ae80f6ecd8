//! The items of real files of Debian 12's 6.1 source tree, as cached by
//! `kgpc kernel fetch --source`: named functions, data and types are found
//! with the lines they have in the files, and no byte is in two items.

use super::*;

const RELEASE: &str = "6.1.0-57-cloud-amd64";

/// A file of the cached source tree.
pub(crate) fn source_file(file: &str) -> String {
    let cache = crate::fetch::cache_dir();
    let Some(tree) = crate::fetch::source_ready(&cache, RELEASE) else {
        panic!(
            "the source of {RELEASE} is not in {}: run `kgpc kernel fetch --source {RELEASE}`",
            cache.display()
        );
    };
    let path = tree.dir.join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The lines of every item of `kind` named `name` in `items`.
fn lines_of(items: &[TopItem], kind: &TopKind, name: &str) -> Vec<(usize, usize)> {
    items
        .iter()
        .filter(|i| &i.kind == kind && i.name.as_deref() == Some(name))
        .map(|i| (i.start_line, i.end_line))
        .collect()
}

fn macro_use(macro_name: &str) -> TopKind {
    TopKind::MacroUse {
        macro_name: macro_name.to_string(),
    }
}

fn syscall(macro_name: &str) -> TopKind {
    TopKind::MacroFunction {
        macro_name: macro_name.to_string(),
    }
}

/// The items of `file`, checked to be in order, apart, and each on the
/// lines its bytes are on.
fn items_of(file: &str) -> (String, Vec<TopItem>) {
    let text = source_file(file);
    let items = top_level_items(&text);
    let lines = crate::c::line_starts::LineStarts::new(&text);
    for pair in items.windows(2) {
        assert!(
            pair[0].text_range.end <= pair[1].text_range.start,
            "{file}: {:?} and {:?} share bytes",
            pair[0],
            pair[1]
        );
    }
    for item in &items {
        assert_eq!(
            lines.line_of(item.text_range.start),
            item.start_line,
            "{file}: {item:?}"
        );
        assert_eq!(
            lines.line_of(item.text_range.end - 1),
            item.end_line,
            "{file}: {item:?}"
        );
    }
    (text, items)
}

#[test]
fn the_items_of_proc_cmdline() {
    let (text, items) = items_of("fs/proc/cmdline.c");
    let kinds: Vec<(&TopKind, Option<&str>, usize, usize)> = items
        .iter()
        .map(|i| (&i.kind, i.name.as_deref(), i.start_line, i.end_line))
        .collect();
    assert_eq!(kinds.len(), 7);
    assert_eq!(kinds[0], (&TopKind::Include, Some("<linux/fs.h>"), 1, 2));
    assert_eq!(
        kinds[4],
        (&TopKind::Function, Some("cmdline_proc_show"), 7, 12)
    );
    assert_eq!(
        kinds[5],
        (&TopKind::Function, Some("proc_cmdline_init"), 14, 18)
    );
    assert_eq!(
        kinds[6],
        (&macro_use("fs_initcall"), Some("proc_cmdline_init"), 19, 19)
    );
    assert!(items[4]
        .text(&text)
        .starts_with("static int cmdline_proc_show(struct seq_file *m"));
}

#[test]
fn the_items_of_fork() {
    let (_, fork) = items_of("kernel/fork.c");
    assert_eq!(
        lines_of(&fork, &TopKind::Function, "copy_process"),
        [(2097, 2669)]
    );
    assert_eq!(
        lines_of(&fork, &TopKind::Function, "kernel_clone"),
        [(2729, 2822)]
    );
    assert_eq!(
        lines_of(&fork, &syscall("SYSCALL_DEFINE5"), "clone"),
        [(2887, 2920)]
    );
    assert_eq!(
        lines_of(&fork, &syscall("SYSCALL_DEFINE0"), "fork"),
        [(2858, 2870)]
    );
    assert_eq!(lines_of(&fork, &TopKind::Data, "total_forks"), [(129, 132)]);
    assert_eq!(
        lines_of(&fork, &TopKind::Data, "resident_page_types"),
        [(139, 144)]
    );
    assert_eq!(
        lines_of(&fork, &macro_use("DEFINE_PER_CPU"), "process_counts"),
        [(146, 146)]
    );
    assert_eq!(
        lines_of(&fork, &macro_use("DEFINE_RWLOCK"), "tasklist_lock"),
        [(148, 148)]
    );
    assert_eq!(
        lines_of(&fork, &macro_use("DEFINE_PER_CPU"), "cached_stacks"),
        [(201, 201)]
    );
    assert_eq!(lines_of(&fork, &TopKind::Type, "vm_stack"), [(203, 206)]);
}

#[test]
fn the_items_of_sch_netem() {
    let (_, netem) = items_of("net/sched/sch_netem.c");
    assert_eq!(
        lines_of(&netem, &TopKind::Function, "netem_enqueue"),
        [(432, 639)]
    );
    assert_eq!(
        lines_of(&netem, &TopKind::Type, "netem_sched_data"),
        [(72, 150)]
    );
    assert_eq!(
        lines_of(&netem, &TopKind::Data, "netem_class_ops"),
        [(988, 988), (1343, 1349)]
    );
    assert_eq!(
        lines_of(&netem, &macro_use("module_init"), "netem_module_init"),
        [(1376, 1376)]
    );
}

#[test]
fn the_items_of_skbuff_h() {
    let (skbuff_text, skbuff) = items_of("include/linux/skbuff.h");
    assert_eq!(lines_of(&skbuff, &TopKind::Type, "sk_buff"), [(850, 1056)]);
    assert_eq!(
        lines_of(&skbuff, &TopKind::Function, "__skb_put"),
        [(2588, 2595)]
    );
    assert_eq!(
        lines_of(&skbuff, &TopKind::Declaration, "skb_put"),
        [(2587, 2587)]
    );
    assert_eq!(
        lines_of(&skbuff, &TopKind::Type, "sk_buff_data_t"),
        [(692, 692), (694, 694)]
    );
    assert_eq!(
        lines_of(
            &skbuff,
            &macro_use("DECLARE_STATIC_KEY_FALSE"),
            "netstamp_needed_key"
        ),
        [(4260, 4260)]
    );
    // Each line that is only `}` closes a function of the header (346 of
    // them); the others are written on one line or end in `};`.
    let function_ends: Vec<usize> = skbuff
        .iter()
        .filter(|i| i.kind == TopKind::Function)
        .map(|i| i.end_line)
        .collect();
    let closing_lines: Vec<usize> = (1..)
        .zip(skbuff_text.lines())
        .filter(|(_, line)| *line == "}")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(closing_lines.len(), 346);
    assert!(closing_lines.iter().all(|n| function_ends.contains(n)));
    assert_eq!(function_ends.len(), 355);
}
