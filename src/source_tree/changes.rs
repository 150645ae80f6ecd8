//! What a fix changes in a C file, read from the text before and after it:
//! the top-level items it changes, adds, removes or only moves.
//!
//! Items are matched by kind and name (two of one name, as in the branches of
//! an `#if`, in order; items without a name by their text) and compared by
//! their C tokens, so a change of comments or white space is no change.

use crate::c::lexer::{logical, tokens, Token};
use crate::c::line_starts::LineStarts;
use crate::c::top_level::{top_level_items, TopItem, TopKind};
use std::collections::BTreeMap;

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Its tokens differ.
    Changed,
    /// It is new in the patched text.
    Added,
    /// The patched text no longer has it.
    Removed,
    /// A function whose tokens are the same but not on the same lines: its
    /// code starts `by` lines later (earlier when negative; 0 when only lines
    /// inside it moved), so what it says with `__LINE__` changes.
    Moved { by: isize },
}

/// One item the fix changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    pub kind: ChangeKind,
    pub item_kind: TopKind,
    pub name: Option<String>,
    pub original: Option<TopItem>,
    pub patched: Option<TopItem>,
    /// The item's tokens (the patched item's, unless it was removed) use
    /// `__LINE__`, `WARN*` or `BUG*`, whose code holds the line it is on.
    pub uses_line: bool,
}

/// The items that differ between `original` and `patched`, in the order of
/// the patched text; a removed item comes right after the item that
/// preceded it in the original, before what the fix added there.
pub fn changed_items(original: &str, patched: &str) -> Vec<ItemChange> {
    let before = Side::read(original);
    let after = Side::read(patched);
    let pairs = matched(&before, &after);
    // Where the items both texts have are in the patched text, in the original's order.
    let mut kept: Vec<(usize, usize)> = pairs
        .iter()
        .filter_map(|&(o, n)| o.zip(n))
        .map(|(o, n)| (o, after.items[n].start_line))
        .collect();
    kept.sort_unstable();
    let place = |o: Option<usize>, n: Option<usize>| match (o, n) {
        (_, Some(n)) => (after.items[n].start_line, 0, n),
        (Some(o), None) => {
            let before_it = kept.partition_point(|&(k, _)| k < o);
            let line = before_it.checked_sub(1).map_or(0, |k| kept[k].1);
            (line, 1, o)
        }
        (None, None) => (0, 0, 0),
    };
    let mut placed: Vec<((usize, usize, usize), ItemChange)> = pairs
        .iter()
        .filter_map(|&(o, n)| compare(&before, &after, o, n).map(|c| (place(o, n), c)))
        .collect();
    placed.sort_by_key(|(at, _)| *at);
    placed.into_iter().map(|(_, change)| change).collect()
}

/// One text, its items, each item's tokens and the lines they are on.
struct Side {
    items: Vec<TopItem>,
    spellings: Vec<Vec<String>>,
    lines: Vec<Vec<usize>>,
}

impl Side {
    fn read(text: &str) -> Side {
        let all = tokens(text);
        let line_starts = LineStarts::new(text);
        let items = top_level_items(text);
        let (spellings, lines) = items
            .iter()
            .map(|i| spelling(text, &all, &line_starts, i))
            .unzip();
        Side {
            items,
            spellings,
            lines,
        }
    }
}

/// The C tokens of an item as C reads them, without comments, with a mark
/// where each of its directives ends (a line break that means something),
/// and the line each token starts on.
fn spelling(
    text: &str,
    all: &[Token],
    line_starts: &LineStarts,
    item: &TopItem,
) -> (Vec<String>, Vec<usize>) {
    let from = all.partition_point(|t| t.start < item.text_range.start);
    let to = all.partition_point(|t| t.start < item.text_range.end);
    let mut words = Vec::new();
    let mut lines = Vec::new();
    for (k, t) in all[from..to].iter().enumerate() {
        if t.kind.is_comment() {
            continue;
        }
        let raw = &text.as_bytes()[t.start..t.end];
        words.push(String::from_utf8_lossy(&logical(raw)).into_owned());
        lines.push(line_starts.line_of(t.start));
        let next = all.get(from + k + 1);
        if t.directive.is_some() && next.is_none_or(|n| n.directive != t.directive) {
            words.push("\n".to_string());
        }
    }
    (words, lines)
}

/// Items without a name are matched by a longest common subsequence of
/// their texts up to this many of them, in order beyond.
const SEQUENCE_LIMIT: usize = 4096;

/// Each item of the original with the item of the patched text it is
/// matched with, and the items of either that have no match.
type Pairs = Vec<(Option<usize>, Option<usize>)>;

/// What items are matched by: their kind and name, or for items without a
/// name, their kind and tokens.
type Key = (TopKind, Option<String>, Vec<String>);

/// The items of a side with a name (`named`) or without, each with its key.
fn keyed(side: &Side, named: bool) -> Vec<(usize, Key)> {
    let items = side.items.iter().zip(&side.spellings).enumerate();
    items
        .filter(|(_, (item, _))| item.name.is_some() == named)
        .map(|(k, (item, words))| {
            let words = if named { Vec::new() } else { words.clone() };
            (k, (item.kind.clone(), item.name.clone(), words))
        })
        .collect()
}

/// Every item of both texts, matched or not.
fn matched(before: &Side, after: &Side) -> Pairs {
    let mut pairs = in_order(keyed(before, true), keyed(after, true));
    let (old, new) = (keyed(before, false), keyed(after, false));
    if old.len() + new.len() <= SEQUENCE_LIMIT {
        pairs.extend(in_sequence(&old, &new));
    } else {
        pairs.extend(in_order(old, new));
    }
    pairs
}

/// Items of one key matched in the order they come in.
fn in_order<K: Ord>(old: Vec<(usize, K)>, new: Vec<(usize, K)>) -> Pairs {
    let mut groups: BTreeMap<K, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (k, key) in old {
        groups.entry(key).or_default().0.push(k);
    }
    for (k, key) in new {
        groups.entry(key).or_default().1.push(k);
    }
    let mut pairs = Pairs::new();
    for (o, n) in groups.into_values() {
        for k in 0..o.len().max(n.len()) {
            pairs.push((o.get(k).copied(), n.get(k).copied()));
        }
    }
    pairs
}

/// Items matched by the longest common subsequence of their keys.
fn in_sequence<K: Ord + std::hash::Hash>(old: &[(usize, K)], new: &[(usize, K)]) -> Pairs {
    let old_keys: Vec<&K> = old.iter().map(|(_, key)| key).collect();
    let new_keys: Vec<&K> = new.iter().map(|(_, key)| key).collect();
    let mut pairs = Pairs::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_keys, &new_keys) {
        if op.tag() == similar::DiffTag::Equal {
            let both = op.old_range().zip(op.new_range());
            pairs.extend(both.map(|(o, n)| (Some(old[o].0), Some(new[n].0))));
        } else {
            pairs.extend(op.old_range().map(|o| (Some(old[o].0), None)));
            pairs.extend(op.new_range().map(|n| (None, Some(new[n].0))));
        }
    }
    pairs
}

/// The change between the original item `o` and the patched item `n`, if any.
fn compare(before: &Side, after: &Side, o: Option<usize>, n: Option<usize>) -> Option<ItemChange> {
    let kind = match (o, n) {
        (Some(o), Some(n)) if before.spellings[o] != after.spellings[n] => ChangeKind::Changed,
        (Some(o), Some(n)) => {
            let function = matches!(
                after.items[n].kind,
                TopKind::Function | TopKind::MacroFunction { .. }
            );
            let (old_lines, new_lines) = (&before.lines[o], &after.lines[n]);
            if !function || old_lines == new_lines {
                return None;
            }
            let first = |lines: &[usize]| lines.first().map_or(0, |&l| l as isize);
            ChangeKind::Moved {
                by: first(new_lines) - first(old_lines),
            }
        }
        (Some(_), None) => ChangeKind::Removed,
        (None, Some(_)) => ChangeKind::Added,
        (None, None) => return None,
    };
    change(before, after, kind, o, n)
}

/// The change of `kind` from item `o` of the original to item `n` of the
/// patched text; `None` when neither is given.
fn change(
    before: &Side,
    after: &Side,
    kind: ChangeKind,
    o: Option<usize>,
    n: Option<usize>,
) -> Option<ItemChange> {
    let original = o.and_then(|o| before.items.get(o));
    let patched = n.and_then(|n| after.items.get(n));
    let words = match n {
        Some(n) => after.spellings.get(n),
        None => o.and_then(|o| before.spellings.get(o)),
    }?;
    let item = patched.or(original)?;
    Some(ItemChange {
        kind,
        item_kind: item.kind.clone(),
        name: item.name.clone(),
        original: original.cloned(),
        patched: patched.cloned(),
        uses_line: words.iter().any(|w| holds_line(w)),
    })
}

/// Whether a word makes code that holds the line it is written on.
fn holds_line(word: &str) -> bool {
    let starts = |prefix: &str| word == prefix || word.starts_with(&format!("{prefix}_"));
    word == "__LINE__" || starts("WARN") || starts("BUG")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each change's kind, item kind, name and `uses_line`.
    fn summary(original: &str, patched: &str) -> Vec<(ChangeKind, TopKind, Option<String>, bool)> {
        changed_items(original, patched)
            .into_iter()
            .map(|c| (c.kind, c.item_kind, c.name, c.uses_line))
            .collect()
    }

    fn named(
        kind: ChangeKind,
        item: TopKind,
        name: &str,
        uses_line: bool,
    ) -> (ChangeKind, TopKind, Option<String>, bool) {
        (kind, item, Some(name.to_string()), uses_line)
    }

    const ORIGINAL: &str = "#include <linux/fs.h>\n\nstatic int limit = 4;\n\n\
                            static int check(int a)\n{\n\treturn a < limit;\n}\n\n\
                            int run(int a)\n{\n\tWARN_ON(a < 0);\n\treturn check(a);\n}\n";

    #[test]
    fn a_changed_function_is_changed_and_the_rest_is_not() {
        let patched = ORIGINAL.replace("a < limit", "a >= 0 && a < limit");
        assert_eq!(
            summary(ORIGINAL, &patched),
            vec![named(
                ChangeKind::Changed,
                TopKind::Function,
                "check",
                false
            )]
        );
        let change = &changed_items(ORIGINAL, &patched)[0];
        assert_eq!(
            change.original.as_ref().map(|i| (i.start_line, i.end_line)),
            Some((5, 8))
        );
        assert_eq!(
            change.patched.as_ref().map(|i| i.text(&patched)),
            Some("static int check(int a)\n{\n\treturn a >= 0 && a < limit;\n}")
        );
    }

    #[test]
    fn comments_and_white_space_are_no_change_but_moved_lines_are() {
        let same_lines = ORIGINAL
            .replace("\treturn a < limit;", "\treturn  a<limit; /* in range */")
            .replace("static int limit = 4;", "static int limit = 4; // the most");
        assert_eq!(summary(ORIGINAL, &same_lines), vec![]);
        let more_lines = ORIGINAL.replace(
            "\treturn a < limit;",
            "\t/* in range */\n\treturn a < limit;",
        );
        assert_eq!(
            summary(ORIGINAL, &more_lines),
            vec![
                named(
                    ChangeKind::Moved { by: 0 },
                    TopKind::Function,
                    "check",
                    false
                ),
                named(ChangeKind::Moved { by: 1 }, TopKind::Function, "run", true),
            ]
        );
    }

    #[test]
    fn lines_that_move_inside_a_function_move_it() {
        let patched = ORIGINAL.replace(
            "\tWARN_ON(a < 0);",
            "\t/* never\n\t * negative */\n\tWARN_ON(a < 0);",
        );
        assert_eq!(
            summary(ORIGINAL, &patched),
            vec![named(
                ChangeKind::Moved { by: 0 },
                TopKind::Function,
                "run",
                true
            )]
        );
        let above = ORIGINAL.replace("int run(", "/* Runs. */\nint run(");
        assert_eq!(
            summary(ORIGINAL, &above),
            vec![named(
                ChangeKind::Moved { by: 1 },
                TopKind::Function,
                "run",
                true
            )]
        );
    }

    #[test]
    fn added_and_removed_items() {
        let patched = ORIGINAL
            .replace("static int limit = 4;\n", "")
            .replace("int run(", "static DEFINE_MUTEX(run_lock);\n\nint run(")
            .replace(
                "#include <linux/fs.h>\n",
                "#include <linux/fs.h>\n#include <linux/mutex.h>\n",
            );
        let mutex = TopKind::MacroUse {
            macro_name: "DEFINE_MUTEX".to_string(),
        };
        assert_eq!(
            summary(ORIGINAL, &patched),
            vec![
                named(ChangeKind::Removed, TopKind::Data, "limit", false),
                named(
                    ChangeKind::Added,
                    TopKind::Include,
                    "<linux/mutex.h>",
                    false
                ),
                named(ChangeKind::Added, mutex, "run_lock", false),
                named(ChangeKind::Moved { by: 2 }, TopKind::Function, "run", true),
            ]
        );
    }

    #[test]
    fn a_function_that_only_moves_is_moved_and_says_whether_it_uses_its_line() {
        let patched = ORIGINAL.replace(
            "static int limit = 4;\n",
            "static int limit = 4;\nstatic int spare;\n",
        );
        assert_eq!(
            summary(ORIGINAL, &patched),
            vec![
                named(ChangeKind::Added, TopKind::Data, "spare", false),
                named(
                    ChangeKind::Moved { by: 1 },
                    TopKind::Function,
                    "check",
                    false
                ),
                named(ChangeKind::Moved { by: 1 }, TopKind::Function, "run", true),
            ]
        );
    }

    #[test]
    fn items_of_one_name_in_branches_are_matched_in_order() {
        let original = "#ifdef X\nint v = 1;\n#else\nint v = 2;\n#endif\n";
        let patched = "#ifdef X\nint v = 1;\n#else\nint v = 3;\n#endif\n";
        let changes = changed_items(original, patched);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, ChangeKind::Changed);
        assert_eq!(changes[0].patched.as_ref().map(|i| i.start_line), Some(4));
    }

    #[test]
    fn unnamed_items_are_added_or_removed_where_they_are() {
        let original = "#ifdef A\n#endif\n#ifdef B\n#endif\n";
        let patched = "#ifdef A\n#endif\n#ifdef C\n#endif\n#ifdef B\n#endif\n";
        let lines: Vec<(ChangeKind, usize)> = changed_items(original, patched)
            .iter()
            .map(|c| (c.kind, c.patched.as_ref().map_or(0, |i| i.start_line)))
            .collect();
        assert_eq!(lines, vec![(ChangeKind::Added, 3), (ChangeKind::Added, 4)]);
    }

    #[test]
    fn a_directive_line_break_is_a_change() {
        let original = "void f(void)\n{\n#ifdef X\n\tg();\n#endif\n}\n";
        let patched = "void f(void)\n{\n#ifdef X \\\n\tg();\n#endif\n}\n";
        assert_eq!(
            summary(original, patched),
            vec![named(ChangeKind::Changed, TopKind::Function, "f", false)]
        );
        // A backslash-newline in a word leaves its tokens, but not their lines.
        let spliced = "void f(void)\n{\n#ifdef X\n\tg\\\n();\n#endif\n}\n";
        assert_eq!(
            summary(original, spliced),
            vec![named(
                ChangeKind::Moved { by: 0 },
                TopKind::Function,
                "f",
                false
            )]
        );
    }

    #[test]
    fn a_change_to_a_function_of_the_real_fork_c() {
        let original = crate::c::top_level::real_source_tests::source_file("kernel/fork.c");
        let patched = original
            .replacen(
                "\tbpf_task_storage_free(tsk);\n",
                "\tbpf_task_storage_free(tsk);\n\ttsk->flags &= ~PF_KTHREAD;\n",
                1,
            )
            .replacen(
                "Ok, this is the main fork-routine.",
                "This is the main fork-routine.",
                1,
            );
        let changes = changed_items(&original, &patched);
        assert_eq!(changes[0].kind, ChangeKind::Changed);
        assert_eq!(changes[0].name.as_deref(), Some("free_task"));
        assert_eq!(
            changes[0]
                .original
                .as_ref()
                .map(|i| (i.start_line, i.end_line)),
            Some((543, 571))
        );
        assert_eq!(
            changes[0]
                .patched
                .as_ref()
                .map(|i| (i.start_line, i.end_line)),
            Some((543, 572))
        );
        assert!(changes[0].uses_line);
        // Every later function moves by the one line, and only functions are listed.
        let later_functions = top_level_items(&original)
            .iter()
            .filter(|i| i.start_line > 571)
            .filter(|i| matches!(i.kind, TopKind::Function | TopKind::MacroFunction { .. }))
            .count();
        assert_eq!(changes.len(), 1 + later_functions);
        assert!(changes[1..]
            .iter()
            .all(|c| c.kind == ChangeKind::Moved { by: 1 }));
        let uses_line = |name: &str| {
            let change = changes.iter().find(|c| c.name.as_deref() == Some(name));
            change.map(|c| c.uses_line)
        };
        assert_eq!(uses_line("__mmdrop"), Some(true));
        assert_eq!(uses_line("__put_task_struct"), Some(true));
        assert_eq!(uses_line("kernel_clone"), Some(false));
        assert_eq!(uses_line("copy_process"), Some(false));
        assert_eq!(uses_line("clone3"), Some(false));
    }

    #[test]
    fn line_words() {
        assert!(holds_line("__LINE__") && holds_line("WARN") && holds_line("WARN_ONCE"));
        assert!(holds_line("BUG_ON") && holds_line("BUG"));
        assert!(!holds_line("WARNING") && !holds_line("BUGS") && !holds_line("pr_warn"));
    }
}
