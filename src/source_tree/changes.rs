//! What a fix changes in a C file, read from the text before and after it:
//! the top-level items it changes, adds, removes or only moves.
//!
//! Items are matched by kind and name (two of one name, as in the branches of
//! an `#if`, in order; items without a name by their text) and compared by
//! their C tokens, so a change of comments or white space is no change.

use crate::c::lexer::{logical, tokens, Token};
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
    /// A function whose tokens are the same but which starts `by` lines later
    /// (earlier when negative): what it says with `__LINE__` changes.
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
/// the patched text (a removed item where it was in the original).
pub fn changed_items(original: &str, patched: &str) -> Vec<ItemChange> {
    let before = Side::read(original);
    let after = Side::read(patched);
    let mut changes = Vec::new();
    for (old, new) in named_pairs(&before, &after).into_values() {
        for k in 0..old.len().max(new.len()) {
            let (o, n) = (old.get(k).copied(), new.get(k).copied());
            changes.extend(compare(&before, &after, o, n));
        }
    }
    changes.extend(unnamed_changes(&before, &after));
    changes.sort_by_key(|c| {
        let item = c.patched.as_ref().or(c.original.as_ref());
        item.map_or(0, |i| i.start_line)
    });
    changes
}

/// One text, its items and each item's tokens.
struct Side {
    items: Vec<TopItem>,
    spellings: Vec<Vec<String>>,
}

impl Side {
    fn read(text: &str) -> Side {
        let all = tokens(text);
        let items = top_level_items(text);
        let spellings = items.iter().map(|i| spelling(text, &all, i)).collect();
        Side { items, spellings }
    }
}

/// The C tokens of an item as C reads them, without comments, with a mark
/// where each of its directives ends (a line break that means something).
fn spelling(text: &str, all: &[Token], item: &TopItem) -> Vec<String> {
    let from = all.partition_point(|t| t.start < item.text_range.start);
    let to = all.partition_point(|t| t.start < item.text_range.end);
    let mut out = Vec::new();
    for (k, t) in all[from..to].iter().enumerate() {
        if t.kind.is_comment() {
            continue;
        }
        let raw = &text.as_bytes()[t.start..t.end];
        out.push(String::from_utf8_lossy(&logical(raw)).into_owned());
        let next = all.get(from + k + 1);
        if t.directive.is_some() && next.is_none_or(|n| n.directive != t.directive) {
            out.push("\n".to_string());
        }
    }
    out
}

/// For each kind and name, the indices of the items of that key on each side.
type Pairs = BTreeMap<(TopKind, String), (Vec<usize>, Vec<usize>)>;

fn named_pairs(before: &Side, after: &Side) -> Pairs {
    let mut pairs = Pairs::new();
    for (side, items) in [(0, &before.items), (1, &after.items)] {
        for (k, item) in items.iter().enumerate() {
            if let Some(name) = &item.name {
                let entry = pairs.entry((item.kind.clone(), name.clone())).or_default();
                if side == 0 {
                    &mut entry.0
                } else {
                    &mut entry.1
                }
                .push(k);
            }
        }
    }
    pairs
}

/// The change between the original item `o` and the patched item `n`, if any.
fn compare(before: &Side, after: &Side, o: Option<usize>, n: Option<usize>) -> Option<ItemChange> {
    let kind = match (o, n) {
        (Some(o), Some(n)) if before.spellings[o] != after.spellings[n] => ChangeKind::Changed,
        (Some(o), Some(n)) => {
            let by = after.items[n].start_line as isize - before.items[o].start_line as isize;
            let function = matches!(
                after.items[n].kind,
                TopKind::Function | TopKind::MacroFunction { .. }
            );
            if by == 0 || !function {
                return None;
            }
            ChangeKind::Moved { by }
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

/// Items without a name, matched by their kind and tokens in order: each is
/// only added or removed.
fn unnamed_changes(before: &Side, after: &Side) -> Vec<ItemChange> {
    let keys = |side: &Side| -> (Vec<usize>, Vec<(TopKind, Vec<String>)>) {
        side.items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.name.is_none())
            .map(|(k, i)| (k, (i.kind.clone(), side.spellings[k].clone())))
            .unzip()
    };
    let (old_at, old_keys) = keys(before);
    let (new_at, new_keys) = keys(after);
    let mut changes = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_keys, &new_keys) {
        for o in op
            .old_range()
            .filter(|_| op.tag() != similar::DiffTag::Equal)
        {
            changes.extend(change(
                before,
                after,
                ChangeKind::Removed,
                Some(old_at[o]),
                None,
            ));
        }
        for n in op
            .new_range()
            .filter(|_| op.tag() != similar::DiffTag::Equal)
        {
            changes.extend(change(
                before,
                after,
                ChangeKind::Added,
                None,
                Some(new_at[n]),
            ));
        }
    }
    changes
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
    fn comments_and_white_space_are_no_change_but_move_what_follows() {
        let patched = ORIGINAL
            .replace(
                "\treturn a < limit;",
                "\t/* in range */\n\treturn  a<limit;",
            )
            .replace("static int limit = 4;", "static int limit = 4; // the most");
        assert_eq!(
            summary(ORIGINAL, &patched),
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
                named(
                    ChangeKind::Added,
                    TopKind::Include,
                    "<linux/mutex.h>",
                    false
                ),
                named(ChangeKind::Removed, TopKind::Data, "limit", false),
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
        let spliced = "void f(void)\n{\n#ifdef X\n\tg\\\n();\n#endif\n}\n";
        assert_eq!(summary(original, spliced), vec![]);
    }

    #[test]
    fn line_words() {
        assert!(holds_line("__LINE__") && holds_line("WARN") && holds_line("WARN_ONCE"));
        assert!(holds_line("BUG_ON") && holds_line("BUG"));
        assert!(!holds_line("WARNING") && !holds_line("BUGS") && !holds_line("pr_warn"));
    }
}
