//! Data-driven tests of the parser: each case parses a spec and compares a
//! compact dump of its tree and diagnostics with the expectation written
//! below it. `UPDATE_EXPECT=1 cargo test` rewrites the expectations.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, Span};
use crate::syntax::ast::*;
use expect_test::{expect, Expect};
use std::fmt::Write;

/// Parses `text` and compares the dump of what came out with `expect`.
fn check(text: &str, expect: Expect) {
    let (ast, diagnostics) = super::parse(FileId(0), text);
    expect.assert_eq(&dump(&ast, &diagnostics));
}

/// The tree, one item or entry a line with its values and spans, then the
/// comments, the unread end and the diagnostics with their other labels.
fn dump(ast: &Ast, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for item in &ast.items {
        let _ = writeln!(out, "{} @{}", item_head(item), range(item.span()));
        for entry in item_entries(item) {
            let _ = writeln!(out, "  {entry}");
        }
    }
    for comment in &ast.comments {
        let _ = writeln!(out, "comment {:?} @{}", comment.text, range(comment.span));
    }
    if let Some(unread) = ast.unread {
        let _ = writeln!(out, "unread @{}", range(unread));
    }
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let at = d
            .primary
            .as_ref()
            .map_or(String::new(), |l| format!(" @{}", range(l.span)));
        let _ = writeln!(out, "{severity} {}{at}: {}", d.code.as_str(), d.message);
        for label in &d.secondary {
            let _ = writeln!(out, "  also @{}: {}", range(label.span), label.message);
        }
    }
    out
}

/// The item's kind and the values in its head.
fn item_head(item: &Item) -> String {
    match item {
        Item::Patch(p) => format!("patch {}", word(&p.name)),
        Item::Target(_) => "target".to_string(),
        Item::Import(i) => match &i.path {
            ImportPath::Std(w) => format!("import std {}", word(w)),
            ImportPath::Relative(s) => format!("import file {}", string(s)),
        },
        Item::Include(i) => format!("include {}", word(&i.header)),
        Item::Fix(f) => format!("fix {}", diff(&f.diff)),
        Item::Object(o) => format!("object {}", word(&o.name)),
        Item::Shadow(s) => {
            let like = s
                .like
                .as_ref()
                .map_or(String::new(), |l| format!(" like {}", word(l)));
            format!("shadow {} for {}{like}", word(&s.name), word(&s.owner))
        }
        Item::Template(t) => format!("template {}", word(&t.name)),
        Item::State(s) => format!("state {}", word(&s.name)),
        Item::Helper(h) => format!("helper {} {}", prototype(&h.prototype), code(&h.body)),
        Item::Data(d) => format!("data {}", code(&d.body)),
        Item::Api(a) => format!("api {} since {}", word(&a.feature), word(&a.since)),
        Item::Test(_) => "test".to_string(),
        Item::Requires(r) => requirement(r),
        Item::Bad(b) => format!("bad {}", excerpt(&b.text)),
    }
}

/// The lines of the item's entries.
fn item_entries(item: &Item) -> Vec<String> {
    match item {
        Item::Patch(p) => p.entries.iter().map(patch_entry).collect(),
        Item::Target(t) => t.entries.iter().map(target_entry).collect(),
        Item::Object(o) => o.entries.iter().map(object_entry).collect(),
        Item::Shadow(s) => s.entries.iter().map(shadow_entry).collect(),
        Item::Template(t) => t.entries.iter().map(shadow_entry).collect(),
        Item::State(s) => s.entries.iter().map(state_entry).collect(),
        Item::Test(t) => t.entries.iter().map(test_entry).collect(),
        _ => Vec::new(),
    }
}

fn patch_entry(entry: &PatchEntry) -> String {
    match entry {
        PatchEntry::Description(s) => format!("description {}", string(s)),
        PatchEntry::Reference { kind, value } => {
            format!("reference {} {}", word(kind), string(value))
        }
        PatchEntry::Author(s) => format!("author {}", string(s)),
        PatchEntry::Cumulative(span) => format!("cumulative @{}", range(*span)),
        PatchEntry::Bad(b) => bad(b),
    }
}

fn target_entry(entry: &TargetEntry) -> String {
    match entry {
        TargetEntry::Release { values, .. } => format!("release {}", strings(values)),
        TargetEntry::Arch(w) => format!("arch {}", word(w)),
        TargetEntry::Version(w) => format!("version {}", word(w)),
        TargetEntry::BuildId(s) => format!("build_id {}", string(s)),
        TargetEntry::Bad(b) => bad(b),
    }
}

fn object_entry(entry: &ObjectEntry) -> String {
    match entry {
        ObjectEntry::Replace(r) => {
            let mut line = match &r.head {
                ReplaceHead::Prototype(p) => format!("replace {}", prototype(p)),
                ReplaceHead::Name(w) => format!("replace {}", word(w)),
            };
            if let Some(file) = &r.in_file {
                let _ = write!(line, " in {}", string(file));
            }
            if let Some(n) = &r.sympos {
                let _ = write!(line, " sympos {}", number(n));
            }
            if !r.allow_inlined.is_empty() {
                let _ = write!(line, " allow_inlined {}", strings(&r.allow_inlined));
            }
            match &r.body {
                Body::Inline(c) => format!("{line} {}", code(c)),
                Body::File(s) => format!("{line} body {}", string(s)),
                Body::Fix(d) => format!("{line} fix {}", diff(d)),
            }
        }
        ObjectEntry::Callback(c) => format!("{} {}", c.kind.keyword(), code(&c.body)),
        ObjectEntry::Extern(e) => {
            let words: Vec<String> = e.words.iter().map(word).collect();
            let suffix = e
                .suffix
                .as_ref()
                .map_or(String::new(), |s| format!(" {}", code(s)));
            let sympos = e
                .sympos
                .as_ref()
                .map_or(String::new(), |n| format!(" sympos {}", number(n)));
            format!("extern {}{suffix}{sympos}", words.join(" "))
        }
        ObjectEntry::Requires(r) => requirement(r),
        ObjectEntry::Bad(b) => bad(b),
    }
}

fn requirement(r: &Requirement) -> String {
    let value = match &r.value {
        Some(ConfigValue::Word(w)) => format!(" = {}", word(w)),
        Some(ConfigValue::Text(s)) => format!(" = {}", string(s)),
        None => String::new(),
    };
    let otherwise = r
        .otherwise
        .as_ref()
        .map_or(String::new(), |w| format!(" else {}", word(w)));
    format!(
        "requires {}{value}{otherwise} @{}",
        word(&r.option),
        range(r.span)
    )
}

fn shadow_entry(entry: &ShadowEntry) -> String {
    match entry {
        ShadowEntry::Id(n) => format!("id {}", number(n)),
        ShadowEntry::Gfp(w) => format!("gfp {}", word(w)),
        ShadowEntry::Payload(c) => format!("payload {}", code(c)),
        ShadowEntry::Ctor(c) => format!("ctor {}", code(c)),
        ShadowEntry::Dtor(c) => format!("dtor {}", code(c)),
        ShadowEntry::Keep(span) => format!("keep @{}", range(*span)),
        ShadowEntry::Bad(b) => bad(b),
    }
}

fn state_entry(entry: &StateEntry) -> String {
    match entry {
        StateEntry::Id(n) => format!("id {}", number(n)),
        StateEntry::Version(n) => format!("version {}", number(n)),
        StateEntry::Bad(b) => bad(b),
    }
}

fn test_entry(entry: &TestEntry) -> String {
    match entry {
        TestEntry::Load(s) => format!("load {}", string(s)),
        TestEntry::PatchFirst(s) => format!("patch_first {}", string(s)),
        TestEntry::File(s) => format!("file {}", string(s)),
        TestEntry::Program(s) => format!("program {}", string(s)),
        TestEntry::Reload(s) => format!("reload {}", string(s)),
        TestEntry::Setup { script, .. } => format!("setup {}", script_text(script)),
        TestEntry::Check {
            kind,
            command,
            expects,
            ..
        } => {
            let mut text = format!("{} {}", kind.keyword(), script_text(command));
            for e in expects {
                text.push_str(&match e {
                    Expectation::Contains { text, .. } => format!(" contains {}", string(text)),
                    Expectation::Lacks { text, .. } => format!(" lacks {}", string(text)),
                    Expectation::Exits { status, .. } => format!(" exits {}", number(status)),
                });
            }
            text
        }
        TestEntry::Dmesg { phase, lines, .. } => {
            format!("dmesg {} {}", phase.keyword(), strings(lines))
        }
        TestEntry::Refused(s) => format!("refused {}", string(s)),
        TestEntry::Workload(s) => format!("workload {}", string(s)),
        TestEntry::Bad(b) => bad(b),
    }
}

fn script_text(script: &Script) -> String {
    match script {
        Script::Line(s) => string(s),
        Script::Block(b) => format!("block {:?}", b.text),
    }
}

fn diff(d: &DiffText) -> String {
    match d {
        DiffText::File(s) => string(s),
        DiffText::Inline(b) => format!(
            "text {:?} from {} indent {} @{}",
            b.text,
            b.first_line,
            b.indent,
            range(b.span)
        ),
    }
}

fn range(span: Span) -> String {
    format!("{}..{}", span.start, span.end)
}

fn word(w: &Word) -> String {
    format!("{}@{}", w.text, range(w.span))
}

fn string(s: &Str) -> String {
    format!("{:?}@{}", s.value, range(s.span))
}

fn strings(values: &[Str]) -> String {
    values.iter().map(string).collect::<Vec<_>>().join(" ")
}

fn number(n: &Number) -> String {
    let value = n.value.map_or("too-large".to_string(), |v| v.to_string());
    format!("{value}@{}", range(n.span))
}

fn code(c: &CCode) -> String {
    format!("c{:?}@{}", c.text, range(c.span))
}

fn prototype(p: &Prototype) -> String {
    let words: Vec<String> = p.words.iter().map(word).collect();
    format!("{} {}", words.join(" "), code(&p.params))
}

fn bad(b: &Bad) -> String {
    format!("bad {} @{}", excerpt(&b.text), range(b.span))
}

/// Text that did not parse, quoted, its middle left out when it is long.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 24;
    if text.chars().count() <= 3 * SHOWN {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(SHOWN).collect();
    let tail: Vec<char> = text.chars().rev().take(SHOWN).collect();
    let tail: String = tail.into_iter().rev().collect();
    format!("{head:?}..{tail:?}")
}

#[test]
fn an_empty_file_is_an_empty_tree() {
    check("", expect![[""]]);
}

#[test]
fn patch_entries() {
    check(
        r#"patch fix-it {
    description "Fix \"it\"\n"
    reference cve "CVE-2024-1"
    author "A <a@b>"
    cumulative
}
"#,
        expect![[r#"
            patch fix-it@6..12 @0..114
              description "Fix \"it\"\n"@31..45
              reference cve@60..63 "CVE-2024-1"@64..76
              author "A <a@b>"@88..97
              cumulative @102..112
        "#]],
    );
}

#[test]
fn target_entries() {
    check(
        r#"target {
    release "6.1.0-9-cloud-amd64" "6.1.0-*"
    arch x86_64
    version 6.1
    build_id "abc"
}
"#,
        expect![[r#"
            target @0..105
              release "6.1.0-9-cloud-amd64"@21..42 "6.1.0-*"@43..52
              arch x86_64@62..68
              version 6.1@81..84
              build_id "abc"@98..103
        "#]],
    );
}

#[test]
fn imports_and_includes() {
    check(
        "import std/shadow_lock\nimport \"common.kgp\"\ninclude <linux/slab.h>\n",
        expect![[r#"
            import std std/shadow_lock@7..22 @0..22
            import file "common.kgp"@30..42 @23..42
            include <linux/slab.h>@51..65 @43..65
        "#]],
    );
}

#[test]
fn a_fix_names_its_patch_file() {
    check(
        "fix \"0001-fix.patch\"\n",
        expect![[r#"
            fix "0001-fix.patch"@4..20 @0..20
        "#]],
    );
}

#[test]
fn a_text_block_loses_the_indentation_of_its_closing_quotes() {
    check(
        "fix \"\"\"\n--- a/f.c\n+++ b/f.c\n\"\"\"\nobject vmlinux {\n    replace f in \"f.c\" fix \"\"\"\n    @@ -1 +1 @@\n\n    -\tg();\n     \n    \"\"\"\n}\n",
        expect![[r#"
            fix text "--- a/f.c\n+++ b/f.c\n" from 8 indent 0 @4..31 @0..31
            object vmlinux@39..46 @32..123
              replace f@61..62 in "f.c"@66..71 fix text "@@ -1 +1 @@\n\n-\tg();\n \n" from 80 indent 4 @76..121
        "#]],
    );
}

#[test]
fn a_text_block_laid_out_wrongly_is_reported_where_it_goes_wrong() {
    check(
        "fix \"\"\" x\n  @@ -1 +1 @@\n -a\n  \"\"\"\n",
        expect![[r#"
            fix text "@@ -1 +1 @@\n-a\n" from 10 indent 2 @4..33 @0..33
            error KGP0132 @7..9: text follows the opening `"""` on its line
            error KGP0132 @24..27: this line is indented less than the closing `"""`
        "#]],
    );
    check(
        "fix \"\"\"\n@@ -1 +1 @@\n-a \"\"\"\n",
        expect![[r#"
            fix text "@@ -1 +1 @@\n" from 8 indent 0 @4..26 @0..26
            error KGP0132 @20..23: text precedes the closing `"""` on its line
        "#]],
    );
}

#[test]
fn a_replacement_with_every_clause() {
    check(
        r#"object vmlinux {
    replace static int *cmdline_show(struct seq_file *m, void *v) in "fs/proc/cmdline.c" sympos 2 allow_inlined "a" "b" {
        return 0;
    }
}
"#,
        expect![[r#"
            object vmlinux@7..14 @0..164
              replace static@29..35 int@36..39 *@40..41 cmdline_show@41..53 c"(struct seq_file *m, void *v)"@53..82 in "fs/proc/cmdline.c"@86..105 sympos 2@113..114 allow_inlined "a"@129..132 "b"@133..136 c"\n        return 0;\n    "@138..161
        "#]],
    );
}

#[test]
fn requirements_at_the_top_level_and_in_an_object() {
    check(
        r#"requires CONFIG_BT
requires CONFIG_NR_CPUS = 8192 else skip
requires CONFIG_CMDLINE="quiet"
object bluetooth {
    requires CONFIG_BT_BREDR=y else error
    replace int f(void) { return 0; }
}
"#,
        expect![[r#"
            requires CONFIG_BT@9..18 @0..18 @0..18
            requires CONFIG_NR_CPUS@28..42 = 8192@45..49 else skip@55..59 @19..59 @19..59
            requires CONFIG_CMDLINE@69..83 = "quiet"@84..91 @60..91 @60..91
            object bluetooth@99..108 @92..192
              requires CONFIG_BT_BREDR@124..139 = y@140..141 else error@147..152 @115..152
              replace int@165..168 f@169..170 c"(void)"@170..176 c" return 0; "@178..189
        "#]],
    );
}

#[test]
fn a_requirement_without_its_value_or_action() {
    check(
        "requires CONFIG_BT=\nrequires CONFIG_BT else\n",
        expect![[r#"
        requires CONFIG_BT@9..18 @0..18 @0..18
        bad "=\n" @18..20
        requires CONFIG_BT@29..38 @20..38 @20..38
        bad "else\n" @39..44
        error KGP0002 @18..19: expected an item, found `=`
        error KGP0002 @39..43: expected an item, found `else`
    "#]],
    );
}

#[test]
fn a_replacement_by_name_from_a_body_file_callbacks_and_externs() {
    check(
        r#"object nfsd {
    replace nfsd_open body "open.c"
    pre_patch { return 0; }
    post_unpatch {}
    extern int counters[4] sympos 0x1;
    extern void helper(int x);
}
"#,
        expect![[r#"
            object nfsd@7..11 @0..169
              replace nfsd_open@26..35 body "open.c"@41..49
              pre_patch c" return 0; "@65..76
              post_unpatch c""@96..96
              extern int@109..112 counters@113..121 c"[4]"@121..124 sympos 1@132..135
              extern void@148..152 helper@153..159 c"(int x)"@159..166
        "#]],
    );
}

#[test]
fn shadow_entries_and_the_gfp_flags_spaced() {
    check(
        r#"shadow lock for struct dummy like base {
    id 0x10
    gfp GFP_KERNEL|__GFP_ZERO
    payload { spinlock_t lock; }
    ctor { return 0; }
    dtor { }
    keep
}
"#,
        expect![[r#"
            shadow lock@7..11 for struct dummy@16..28 like base@34..38 @0..162
              id 16@48..52
              gfp GFP_KERNEL | __GFP_ZERO@61..82
              payload c" spinlock_t lock; "@96..114
              ctor c" return 0; "@126..137
              dtor c" "@149..150
              keep @156..160
        "#]],
    );
}

#[test]
fn a_template() {
    check(
        "template base {\n    gfp GFP_ATOMIC\n    keep\n}\n",
        expect![[r#"
            template base@9..13 @0..45
              gfp GFP_ATOMIC@24..34
              keep @39..43
        "#]],
    );
}

#[test]
fn a_state() {
    check(
        "state fixed { id 7 version 2 }\n",
        expect![[r#"
        state fixed@6..11 @0..30
          id 7@17..18
          version 2@27..28
    "#]],
    );
}

#[test]
fn helpers_data_and_api_rows() {
    check(
        r#"helper static void note(int x) { pr_info("%d", x); }
data { static int hits; }
api klp_shadow since 4.15
"#,
        expect![[r#"
            helper static@7..13 void@14..18 note@19..23 c"(int x)"@23..30 c" pr_info(\"%d\", x); "@32..51 @0..52
            data c" static int hits; "@59..77 @53..78
            api klp_shadow@83..93 since 4.15@100..104 @79..104
        "#]],
    );
}

#[test]
fn test_entries() {
    check(
        r#"test {
    load "binfmt_misc"
    patch_first "../base/base.kgp"
    fixed "cat /proc/cmdline" contains "patched"
    always "true" contains ""
    dmesg loaded "one" "two"
    refused "busy"
    workload "while :; do :; done"
}
"#,
        expect![[r#"
            test @0..228
              load "binfmt_misc"@16..29
              patch_first "../base/base.kgp"@46..64
              fixed "cat /proc/cmdline"@75..94 contains "patched"@104..113
              always "true"@125..131 contains ""@141..143
              dmesg loaded "one"@161..166 "two"@167..172
              refused "busy"@185..191
              workload "while :; do :; done"@205..226
        "#]],
    );
}

#[test]
fn guest_files_setup_scripts_and_several_expectations() {
    check(
        r#"test {
    file "tools/run.sh"
    program "probe.c"
    setup """
        mkdir -p /tmp/x
        echo ready   # a shell comment
        """
    fixed "probe" exits 0 lacks "old" contains "new"
    always """
        cat /proc/version
        """ contains "Linux"
}
"#,
        expect![[r#"
            test @0..266
              file "tools/run.sh"@16..30
              program "probe.c"@43..52
              setup block "mkdir -p /tmp/x\necho ready   # a shell comment\n"
              fixed "probe"@152..159 exits 0@166..167 lacks "old"@174..179 contains "new"@189..194
              always block "cat /proc/version\n" contains "Linux"@257..264
        "#]],
    );
}

#[test]
fn comments_are_kept_with_their_spans_and_left_out_of_a_type() {
    check(
        "# head\npatch p { # on the line\n    author \"a\" # after\n}\nshadow s for struct # note\n    dummy { id 1 }\n",
        expect![[r##"
            patch p@13..14 @7..55
              author "a"@42..45
            shadow s@63..64 for struct dummy@69..92 @56..101
              id 1@98..99
            comment "# head" @0..6
            comment "# on the line" @17..30
            comment "# after" @46..53
            comment "# note" @76..82
        "##]],
    );
}

#[test]
fn a_misspelt_item_is_reported_and_the_next_item_is_read() {
    check(
        "pach p {\n}\ntarget {\n    arch x86_64\n}\n",
        expect![[r#"
            bad "pach p {\n}\n" @0..11
            target @11..37
              arch x86_64@29..35
            error KGP0002 @0..4: expected an item, found `pach`
        "#]],
    );
}

#[test]
fn stray_text_before_an_item() {
    check(
        "{ oops }\nstate s { id 1 }\n",
        expect![[r#"
        bad "{ oops }\n" @0..9
        state s@15..16 @9..25
          id 1@22..23
        error KGP0002 @0..1: expected an item, found `{`
    "#]],
    );
}

#[test]
fn a_misspelt_entry_suggests_the_right_one() {
    check(
        "patch p {\n    descripton \"x\"\n    author \"a\"\n}\n",
        expect![[r#"
            patch p@6..7 @0..45
              bad "descripton \"x\"" @14..28
              author "a"@40..43
            error KGP0003 @14..24: unknown entry `descripton` in a `patch` block
        "#]],
    );
}

#[test]
fn a_known_entry_that_does_not_parse_says_what_was_expected() {
    check(
        "target {\n    arch \"x86_64\"\n    version 6.1\n}\n",
        expect![[r#"
        target @0..44
          bad "arch \"x86_64\"" @13..26
          version 6.1@39..42
        error KGP0001 @18..18: expected a name
    "#]],
    );
}

#[test]
fn an_unclosed_block_points_at_its_brace() {
    check(
        "patch p {\n    author \"a\"\n",
        expect![[r#"
        bad "patch p {\n    author \"a\"\n" @0..25
        error KGP0001 @25..25: expected an entry or `}`
          also @8..9: this `{` is never closed
    "#]],
    );
}

#[test]
fn a_broken_item_does_not_stop_the_items_after_it() {
    check(
        "object vmlinux {\n    replace f( {\n}\nstate s { id 1 version 1 }\n",
        expect![[r#"
            bad "object vmlinux {\n    replace f( {\n}\n" @0..36
            state s@42..43 @36..62
              id 1@49..50
              version 1@59..60
            error KGP0001 @36..36: expected an entry or `}`
              also @15..16: this `{` is never closed
        "#]],
    );
}

#[test]
fn an_unknown_escape_in_a_string() {
    check(
        "patch p { author \"a\\qb\" }\n",
        expect![[r#"
        patch p@6..7 @0..25
          author "ab"@17..23
        error KGP0004 @19..21: unknown escape `\q` in a string
    "#]],
    );
}

#[test]
fn a_number_over_64_bits() {
    check(
        "state s { id 18446744073709551616 }\n",
        expect![[r#"
        state s@6..7 @0..35
          id too-large@13..33
        error KGP0025 @13..33: number `18446744073709551616` does not fit in 64 bits
    "#]],
    );
}

#[test]
fn nesting_beyond_the_limit_is_reported_once_and_the_rest_left_unread() {
    let deep = "(".repeat(super::nesting::MAX_NESTING + 1);
    check(
        &format!("state s {{ id 1 }}\ndata {{ {deep} }}\nstate t {{ id 2 }}\n"),
        expect![[r#"
            state s@6..7 @0..16
              id 1@13..14
            bad "data { (((((((((((((((((".."(((( }\nstate t { id 2 }\n" @17..20045
            unread @17..20045
            error KGP0040 @20023..20024: the spec nests deeper than 20000 levels
        "#]],
    );
}
