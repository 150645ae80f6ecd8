//! The comparison on small C files compiled by the host's gcc with the
//! flags that matter here (`-O2 -ffunction-sections -fdata-sections`).

use super::*;
use std::process::Command;

/// Compiles `c` into `dir/name.o`.
fn object(dir: &Path, name: &str, c: &str) -> PathBuf {
    let source = dir.join(format!("{name}.c"));
    let out = dir.join(format!("{name}.o"));
    std::fs::write(&source, c).expect("the source is written");
    let status = Command::new("gcc")
        .args(["-O2", "-fno-pic", "-fno-asynchronous-unwind-tables"])
        .args(["-ffunction-sections", "-fdata-sections", "-c", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "gcc compiles:\n{c}");
    out
}

/// The comparison of two texts.
fn diff(original: &str, patched: &str) -> ObjectChanges {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let a = object(dir.path(), "a", original);
    let b = object(dir.path(), "b", patched);
    compare(&a, &b).expect("the objects compare")
}

fn change_of(changes: &ObjectChanges, name: &str) -> Change {
    changes
        .function(name)
        .unwrap_or_else(|| panic!("no {name} in {changes:#?}"))
        .change
}

const STRINGS: &str = r#"
extern int puts(const char *);
void greet(void) { puts("hello"); }
void part(void) { puts("goodbye"); }
"#;

#[test]
fn a_string_that_only_moves_is_no_change() {
    let changes = diff(STRINGS, &STRINGS.replace("hello", "hello, world"));
    assert_eq!(change_of(&changes, "greet"), Change::Changed);
    assert_eq!(change_of(&changes, "part"), Change::Unchanged);
    let greet = changes.function("greet").expect("greet");
    assert_eq!(greet.strings, ["hello, world"]);
    assert_eq!(greet.undefined, ["puts"]);
    assert_eq!(changes.function("part").expect("part").strings, ["goodbye"]);
}

#[test]
fn the_same_bytes_pointing_elsewhere_are_a_change() {
    let original = "int a, b;\nint read_one(void) { return a; }\nint read_b(void) { return b; }\n";
    let changes = diff(original, &original.replace("return a;", "return b;"));
    assert_eq!(change_of(&changes, "read_one"), Change::Changed);
    assert_eq!(change_of(&changes, "read_b"), Change::Unchanged);
    assert!(
        changes.changed_data().next().is_none(),
        "{:?}",
        changes.data
    );
}

const CLONE: &str = r#"
static __attribute__((noinline)) int scale(int value, int factor) { return value * factor + 3; }
int scaled(int x) { return scale(x, 5) + scale(x + 1, 5); }
"#;

#[test]
fn a_clone_is_part_of_its_function() {
    let changes = diff(CLONE, &CLONE.replace("+ 3;", "+ 4;"));
    let scale = changes.function("scale").expect("scale, as a clone");
    assert_eq!(scale.change, Change::Changed);
    assert!(
        scale.symbols.iter().all(|s| s.starts_with("scale.")),
        "{scale:?}"
    );
    let scaled = changes.function("scaled").expect("scaled");
    assert_eq!(scaled.change, Change::Unchanged);
    assert_eq!(scaled.local_functions, ["scale"]);
}

const COUNTERS: &str = r#"
void first(void) { static int count; count++; }
void second(void) { static int count; count += 2; }
"#;

#[test]
fn numbered_statics_are_matched_by_the_function_that_uses_them() {
    let patched = format!("void zeroth(void) {{ static int count; count += 3; }}\n{COUNTERS}");
    let changes = diff(COUNTERS, &patched);
    assert_eq!(change_of(&changes, "zeroth"), Change::Added);
    assert_eq!(
        change_of(&changes, "first"),
        Change::Unchanged,
        "{changes:#?}"
    );
    assert_eq!(change_of(&changes, "second"), Change::Unchanged);
    let added: Vec<Change> = changes.changed_data().map(|d| d.change).collect();
    assert_eq!(added, [Change::Added], "{:?}", changes.data);
    let first = changes.function("first").expect("first");
    assert!(
        first.local_data.iter().all(|d| d.starts_with("count.")),
        "{first:?}"
    );
}

#[test]
fn changed_initial_values_and_init_code_are_reported() {
    let original = r#"
int table[3] = { 1, 2, 3 };
static const char name[] = "kgpc";
__attribute__((section(".init.text"))) int setup(int i) { return table[1] + name[i]; }
"#;
    let changes = diff(
        original,
        &original.replace("2, 3", "2, 4").replace("+ name", "- name"),
    );
    let table = changes.data_item("table").expect("table");
    assert_eq!(
        (table.change, table.writable, table.global),
        (Change::Changed, true, true)
    );
    let name = changes.data_item("name").expect("name");
    assert_eq!(
        (name.change, name.writable, name.global),
        (Change::Unchanged, false, false)
    );
    let setup = changes.function("setup").expect("setup");
    assert_eq!(setup.change, Change::Changed);
    assert!(setup.init);
    assert_eq!(setup.defined_globals, ["table"]);
    assert_eq!(setup.local_data, ["name"]);
}

/// A function with an entry of `__bug_table` as x86-64's `WARN` makes it:
/// the place, the file, the line (at byte 8) and the flags.
const WARNING: &str = r#"
int checked(int x)
{
	if (x < 0)
		asm volatile("1: ud2\n.pushsection __bug_table,\"aw\"\n2: .long 1b - .\n.long 0\n"
			     ".word %c0\n.word 0\n.org 2b+12\n.popsection" : : "i" (__LINE__));
	return x * 2;
}
int plain(int x) { return x + 1; }
"#;

#[test]
fn a_warning_that_only_moves_is_line_only() {
    let changes = diff(WARNING, &format!("\n\n{WARNING}"));
    assert_eq!(
        change_of(&changes, "checked"),
        Change::LineOnly,
        "{changes:#?}"
    );
    assert_eq!(change_of(&changes, "plain"), Change::Unchanged);
    let changes = diff(WARNING, &WARNING.replace("x * 2", "x * 3"));
    assert_eq!(change_of(&changes, "checked"), Change::Changed);
}

#[test]
fn line_only_marks_come_from_the_renumbered_compile() {
    let original = "extern void report(int);\nvoid here(void) { report(__LINE__); }\n";
    let patched = format!("/* moved */\n{original}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let a = object(dir.path(), "a", original);
    let b = object(dir.path(), "b", &patched);
    let renumbered = crate::source_tree::line_map::renumbered(original, &patched);
    let c = object(dir.path(), "c", &renumbered);
    let mut changes = compare(&a, &b).expect("compared");
    // __LINE__ is an immediate of the code: only a compile can tell.
    assert_eq!(change_of(&changes, "here"), Change::Changed);
    mark_line_only(&mut changes, &compare(&a, &c).expect("compared"));
    assert_eq!(change_of(&changes, "here"), Change::LineOnly);
    // A real change stays one.
    let real = original.replace("report(__LINE__)", "report(__LINE__ + 1)");
    let d = object(dir.path(), "d", &real);
    let e = object(
        dir.path(),
        "e",
        &crate::source_tree::line_map::renumbered(original, &real),
    );
    let mut changes = compare(&a, &d).expect("compared");
    mark_line_only(&mut changes, &compare(&a, &e).expect("compared"));
    assert_eq!(change_of(&changes, "here"), Change::Changed);
}

#[test]
fn files_that_are_not_objects_are_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = dir.path().join("x.o");
    std::fs::write(&text, "not an object").expect("written");
    let error = compare(&text, &text).expect_err("refused");
    assert!(
        matches!(error, ObjectDiffError::NotAnObject { .. }),
        "{error:?}"
    );
    let missing = dir.path().join("missing.o");
    let error = compare(&missing, &text).expect_err("refused");
    assert!(matches!(error, ObjectDiffError::Read { .. }), "{error:?}");
}

#[test]
fn a_string_is_read_from_where_the_reference_points() {
    assert_eq!(string_at(b"ab\0cdef\0", 3).as_deref(), Some("cdef"));
    assert_eq!(string_at(b"ab\0", 0).as_deref(), Some("ab"));
    assert_eq!(string_at(b"ab", 0), None);
    assert_eq!(string_at(b"ab\0", -1), None);
}
