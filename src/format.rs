//! The formatter: one canonical layout for `.kgp` files.
//!
//! It prints the syntax tree again: four spaces per level, one entry per
//! line, one blank line between items (imports, includes and API rows stay grouped),
//! strings re-escaped, and every comment where it was, either on its own
//! line before the code that follows it or at the end of a line of code. C
//! blocks keep their text; only their indentation follows the block's depth.
//! Formatting formatted output changes nothing.

use crate::c::lines::{layout, Line};
use crate::c::words::{join_words, one_line};
use crate::source::Span;
use crate::syntax::ast::*;

const INDENT: &str = "    ";

/// Formats a file that parsed without errors.
pub fn format(ast: &Ast, text: &str) -> String {
    let mut f = Formatter {
        text,
        comments: &ast.comments,
        next_comment: 0,
        out: String::new(),
    };
    let mut previous: Option<&Item> = None;
    for item in &ast.items {
        if let Some(prev) = previous {
            let grouped = matches!(
                (prev, item),
                (Item::Import(_), Item::Import(_))
                    | (Item::Include(_), Item::Include(_))
                    | (Item::Api(_), Item::Api(_))
                    | (Item::Requires(_), Item::Requires(_))
            );
            if !grouped || f.blank_line_between(prev.span(), item.span()) {
                f.out.push('\n');
            }
        }
        f.leading_comments(item.span().start, 0);
        f.item(item);
        previous = Some(item);
    }
    f.leading_comments(text.len(), 0);
    f.out
}

struct Formatter<'a> {
    text: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    out: String,
}

impl Formatter<'_> {
    /// Whether the source has an empty line between two spans.
    fn blank_line_between(&self, a: Span, b: Span) -> bool {
        has_blank_line(&self.text[a.end.min(b.start)..b.start])
    }

    /// Prints the comments that come before `offset` on lines of their own.
    fn leading_comments(&mut self, offset: usize, depth: usize) {
        let mut last_end: Option<usize> = None;
        while let Some(c) = self
            .comments
            .get(self.next_comment)
            .filter(|c| c.span.start < offset)
        {
            if let Some(end) = last_end {
                if has_blank_line(&self.text[end..c.span.start]) {
                    self.out.push('\n');
                }
            }
            self.line(depth, c.text.trim_end());
            last_end = Some(c.span.end);
            self.next_comment += 1;
        }
        if let Some(end) = last_end {
            if offset < self.text.len() && has_blank_line(&self.text[end..offset]) {
                self.out.push('\n');
            }
        }
    }

    /// Appends a comment that sits on the same source line as `end`, if any.
    fn trailing_comment(&mut self, end: usize) {
        if let Some(c) = self.comments.get(self.next_comment) {
            if c.span.start >= end && !self.text[end..c.span.start].contains('\n') {
                if self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push_str("  ");
                self.out.push_str(c.text.trim_end());
                self.out.push('\n');
                self.next_comment += 1;
            }
        }
    }

    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn raw(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    /// Prints the comments that sit inside an entry's head, before `offset`
    /// (`import # note` newline `std/x`), on lines of their own before it.
    fn hoisted_comments(&mut self, offset: usize, depth: usize) {
        while let Some(c) = self
            .comments
            .get(self.next_comment)
            .filter(|c| c.span.start < offset)
        {
            self.line(depth, c.text.trim_end());
            self.next_comment += 1;
        }
    }

    /// Opens a block: prints its first line and any comment on that line.
    fn open(&mut self, depth: usize, head: &str, block: Span) {
        // The block's `{` is the first one outside a comment.
        let mut brace = block.start;
        for (i, c) in self.text[block.range()].char_indices() {
            let at = block.start + i;
            let in_comment = self.comments[self.next_comment..]
                .iter()
                .any(|k| k.span.start <= at && at < k.span.end);
            if c == '{' && !in_comment {
                brace = at + 1;
                break;
            }
        }
        self.hoisted_comments(brace, depth);
        self.line(depth, &format!("{head} {{"));
        self.trailing_comment(brace);
    }

    fn close(&mut self, depth: usize, block: Span) {
        self.leading_comments(block.end - 1, depth + 1);
        self.line(depth, "}");
        self.trailing_comment(block.end);
    }

    /// Prints one item, with the comments before and inside it.
    fn item(&mut self, item: &Item) {
        match item {
            Item::Patch(p) => self.line_block(
                &format!("patch {}", p.name.text),
                p.span,
                &p.entries,
                |_, e| patch_line(e),
            ),
            Item::Target(t) => self.line_block("target", t.span, &t.entries, |_, e| target_line(e)),
            Item::Import(i) => self.entry(0, i.span, &import_line(i)),
            Item::Include(i) => self.entry(0, i.span, &format!("include {}", i.header.text)),
            Item::Fix(f) => self.diff(0, "fix", &f.diff, f.span),
            Item::Object(o) => self.object(o),
            Item::Shadow(s) => {
                let mut head = format!("shadow {} for {}", s.name.text, s.owner.text);
                if let Some(like) = &s.like {
                    head.push_str(&format!(" like {}", like.text));
                }
                self.shadow_block(&head, s.span, &s.entries);
            }
            Item::Template(t) => {
                self.shadow_block(&format!("template {}", t.name.text), t.span, &t.entries)
            }
            Item::State(s) => self.line_block(
                &format!("state {}", s.name.text),
                s.span,
                &s.entries,
                Self::state_line,
            ),
            Item::Helper(h) => self.c_block(
                0,
                &format!("helper {}", prototype(&h.prototype, 0)),
                &h.body,
                h.span,
            ),
            Item::Data(d) => self.c_block(0, "data", &d.body, d.span),
            Item::Api(a) => self.entry(
                0,
                a.span,
                &format!("api {} since {}", a.feature.text, a.since.text),
            ),
            Item::Test(t) => self.test_block(t),
            Item::Requires(r) => self.entry(0, r.span, &requirement_line(r)),
            Item::Bad(b) => self.entry(0, b.span, b.text.trim_end()),
        }
    }

    /// A top-level block whose entries are one line each, as `line` writes them.
    fn line_block<E>(
        &mut self,
        head: &str,
        block: Span,
        entries: &[E],
        line: impl Fn(&Self, &E) -> (Span, String),
    ) {
        self.open(0, head, block);
        for entry in entries {
            let (span, text) = line(self, entry);
            self.entry(1, span, &text);
        }
        self.close(0, block);
    }

    fn state_line(&self, entry: &StateEntry) -> (Span, String) {
        match entry {
            StateEntry::Id(n) => (n.span, format!("id {}", self.raw(n.span))),
            StateEntry::Version(n) => (n.span, format!("version {}", self.raw(n.span))),
            StateEntry::Bad(b) => bad_line(b),
        }
    }

    /// An object block: its entries one after another, externs and requirements grouped.
    fn object(&mut self, o: &ObjectBlock) {
        self.open(0, &format!("object {}", o.name.text), o.span);
        let mut previous: Option<&ObjectEntry> = None;
        for entry in &o.entries {
            let start = object_entry_span(entry).start;
            if let Some(prev) = previous {
                let grouped = matches!(
                    (prev, entry),
                    (ObjectEntry::Extern(_), ObjectEntry::Extern(_))
                        | (ObjectEntry::Requires(_), ObjectEntry::Requires(_))
                );
                if !grouped || has_blank_line(&self.text[object_entry_span(prev).end..start]) {
                    self.out.push('\n');
                }
            }
            self.leading_comments(start, 1);
            match entry {
                ObjectEntry::Replace(r) => self.replacement(r),
                ObjectEntry::Callback(c) => self.c_block(1, c.kind.keyword(), &c.body, c.span),
                ObjectEntry::Extern(e) => {
                    let text = self.extern_line(e);
                    self.entry(1, e.span, &text);
                }
                ObjectEntry::Requires(r) => self.entry(1, r.span, &requirement_line(r)),
                ObjectEntry::Bad(b) => self.entry(1, b.span, b.text.trim()),
            }
            previous = Some(entry);
        }
        self.close(0, o.span);
    }

    /// `replace HEAD [in ..] [sympos ..] [allow_inlined ..]` and its body.
    fn replacement(&mut self, r: &Replacement) {
        let mut head = format!(
            "replace {}",
            match &r.head {
                ReplaceHead::Prototype(p) => prototype(p, 1),
                ReplaceHead::Name(w) => w.text.clone(),
            }
        );
        if let Some(file) = &r.in_file {
            head.push_str(&format!(" in {}", quote(&file.value)));
        }
        if let Some(n) = &r.sympos {
            head.push_str(&format!(" sympos {}", self.raw(n.span)));
        }
        if !r.allow_inlined.is_empty() {
            head.push_str(&format!(" allow_inlined {}", quote_all(&r.allow_inlined)));
        }
        match &r.body {
            Body::Inline(code) => self.c_block(1, &head, code, r.span),
            Body::File(path) => {
                self.entry(1, r.span, &format!("{head} body {}", quote(&path.value)))
            }
            Body::Fix(diff) => self.diff(1, &format!("{head} fix"), diff, r.span),
        }
    }

    /// `HEAD "FILE"`, or `HEAD """` with the diff's lines one level deeper
    /// than the head and the closing `"""` at the head's depth, which keeps
    /// every line's text as it was.
    fn diff(&mut self, depth: usize, head: &str, diff: &DiffText, whole: Span) {
        match diff {
            DiffText::File(path) => {
                self.entry(depth, whole, &format!("{head} {}", quote(&path.value)))
            }
            DiffText::Inline(block) => self.text_block(depth, depth, head, &block.text, "", whole),
        }
    }

    /// `HEAD """`, the text's lines at `inner` levels, and the closing
    /// `"""` at the same depth followed by `tail`: the indentation the
    /// closing quotes take off is the one added, so every line keeps its text.
    fn text_block(
        &mut self,
        depth: usize,
        inner: usize,
        head: &str,
        text: &str,
        tail: &str,
        whole: Span,
    ) {
        self.leading_comments(whole.start, depth);
        self.line(depth, &format!("{head} \"\"\""));
        for line in text.lines() {
            if line.is_empty() {
                self.out.push('\n');
            } else {
                self.line(inner, line);
            }
        }
        self.line(inner, &format!("\"\"\"{tail}"));
        self.trailing_comment(whole.end);
    }

    /// A test block: one line an entry, and a script written as a text
    /// block laid out as one.
    fn test_block(&mut self, t: &TestBlock) {
        self.open(0, "test", t.span);
        for entry in &t.entries {
            let (span, line) = test_line(entry, self.text);
            let (head, script, tail) = match entry {
                TestEntry::Setup {
                    script: Script::Block(block),
                    ..
                } => ("setup".to_string(), block, String::new()),
                TestEntry::Check {
                    kind,
                    command: Script::Block(block),
                    expects,
                    ..
                } => (
                    kind.keyword().to_string(),
                    block,
                    expectations(expects, self.text),
                ),
                _ => {
                    self.entry(1, span, &line);
                    continue;
                }
            };
            self.text_block(1, 2, &head, &script.text, &tail, span);
        }
        self.close(0, t.span);
    }

    fn extern_line(&self, e: &ExternDecl) -> String {
        let mut text = format!("extern {}", join_words(&e.words));
        if let Some(suffix) = &e.suffix {
            text.push_str(&one_line(&suffix.text, &INDENT.repeat(3)));
        }
        if let Some(n) = &e.sympos {
            text.push_str(&format!(" sympos {}", self.raw(n.span)));
        }
        text.push(';');
        text
    }

    /// A shadow or template block.
    fn shadow_block(&mut self, head: &str, block: Span, entries: &[ShadowEntry]) {
        self.open(0, head, block);
        self.shadow_entries(entries);
        self.close(0, block);
    }

    fn shadow_entries(&mut self, entries: &[ShadowEntry]) {
        for entry in entries {
            match entry {
                ShadowEntry::Id(n) => self.entry(1, n.span, &format!("id {}", self.raw(n.span))),
                ShadowEntry::Gfp(w) => self.entry(1, w.span, &format!("gfp {}", w.text)),
                ShadowEntry::Keep(span) => self.entry(1, *span, "keep"),
                ShadowEntry::Payload(c) => self.c_block(1, "payload", c, c.span),
                ShadowEntry::Ctor(c) => self.c_block(1, "ctor", c, c.span),
                ShadowEntry::Dtor(c) => self.c_block(1, "dtor", c, c.span),
                ShadowEntry::Bad(b) => self.entry(1, b.span, b.text.trim()),
            }
        }
    }

    /// One line of code, with the comments before it and on it.
    fn entry(&mut self, depth: usize, span: Span, text: &str) {
        self.leading_comments(span.start, depth);
        self.hoisted_comments(span.end, depth);
        self.line(depth, text);
        self.trailing_comment(span.end);
    }

    /// `HEAD { C }`: a C block on one line when it was written on one line,
    /// else with its text re-indented one level deeper than the head.
    fn c_block(&mut self, depth: usize, head: &str, code: &CCode, whole: Span) {
        self.leading_comments(whole.start, depth);
        self.hoisted_comments(code.span.start, depth);
        let body = code.text.trim_matches([' ', '\t', '\r', '\x0c', '\x0b']);
        if !code.text.contains('\n') {
            let inner = if body.is_empty() {
                " ".to_string()
            } else {
                format!(" {body} ")
            };
            self.line(depth, &format!("{head} {{{inner}}}"));
        } else {
            self.line(depth, &format!("{head} {{"));
            self.out.push_str(&indent_block(&code.text, depth + 1));
            if ends_in_lone_backslash(&code.text) {
                // A line break after it would make it a backslash-newline.
                self.out.pop();
                self.out.push_str("}\n");
            } else {
                self.line(depth, "}");
            }
        }
        self.trailing_comment(code.span.end + 1);
    }
}

/// The line of a patch entry and the span it stands for.
fn patch_line(entry: &PatchEntry) -> (Span, String) {
    match entry {
        PatchEntry::Description(s) => (s.span, format!("description {}", quote(&s.value))),
        PatchEntry::Reference { kind, value } => (
            Span::new(kind.span.file, kind.span.start, value.span.end),
            format!("reference {} {}", kind.text, quote(&value.value)),
        ),
        PatchEntry::Author(s) => (s.span, format!("author {}", quote(&s.value))),
        PatchEntry::Cumulative(span) => (*span, "cumulative".to_string()),
        PatchEntry::Bad(b) => bad_line(b),
    }
}

/// The line of a target entry and the span it stands for.
fn target_line(entry: &TargetEntry) -> (Span, String) {
    match entry {
        TargetEntry::Release { keyword, values } => {
            let end = values.last().map_or(keyword.end, |v| v.span.end);
            (
                Span::new(keyword.file, keyword.start, end),
                format!("release {}", quote_all(values)),
            )
        }
        TargetEntry::Arch(w) => (w.span, format!("arch {}", w.text)),
        TargetEntry::Version(w) => (w.span, format!("version {}", w.text)),
        TargetEntry::BuildId(s) => (s.span, format!("build_id {}", quote(&s.value))),
        TargetEntry::Bad(b) => bad_line(b),
    }
}

/// The line of a test entry and the span it stands for; `text` is the spec's.
fn test_line(entry: &TestEntry, text: &str) -> (Span, String) {
    match entry {
        TestEntry::Load(s) => (s.span, format!("load {}", quote(&s.value))),
        TestEntry::PatchFirst(s) => (s.span, format!("patch_first {}", quote(&s.value))),
        TestEntry::File(s) => (s.span, format!("file {}", quote(&s.value))),
        TestEntry::Program(s) => (s.span, format!("program {}", quote(&s.value))),
        TestEntry::Reload(s) => (s.span, format!("reload {}", quote(&s.value))),
        TestEntry::Setup { keyword, script } => (
            Span::new(keyword.file, keyword.start, script.span().end),
            format!("setup {}", quote(script.text())),
        ),
        TestEntry::Check {
            kind,
            keyword,
            command,
            expects,
        } => {
            let end = expects.last().map_or(command.span().end, |e| e.span().end);
            (
                Span::new(keyword.file, keyword.start, end),
                format!(
                    "{} {}{}",
                    kind.keyword(),
                    quote(command.text()),
                    expectations(expects, text)
                ),
            )
        }
        TestEntry::Dmesg {
            phase,
            keyword,
            lines,
        } => {
            let end = lines.last().map_or(keyword.end, |l| l.span.end);
            (
                Span::new(keyword.file, keyword.start, end),
                format!("dmesg {} {}", phase.keyword(), quote_all(lines)),
            )
        }
        TestEntry::Refused(s) => (s.span, format!("refused {}", quote(&s.value))),
        TestEntry::Workload(s) => (s.span, format!("workload {}", quote(&s.value))),
        TestEntry::Bad(b) => bad_line(b),
    }
}

/// A check's expectations as the spec writes them, each after a space;
/// `text` is the spec's, whose numbers are kept as written.
fn expectations(expects: &[Expectation], text: &str) -> String {
    expects
        .iter()
        .map(|e| match e {
            Expectation::Contains { text, .. } => format!(" contains {}", quote(&text.value)),
            Expectation::Lacks { text, .. } => format!(" lacks {}", quote(&text.value)),
            Expectation::Exits { status, .. } => format!(" exits {}", &text[status.span.range()]),
        })
        .collect()
}

fn import_line(import: &Import) -> String {
    match &import.path {
        ImportPath::Std(w) => format!("import {}", w.text),
        ImportPath::Relative(s) => format!("import {}", quote(&s.value)),
    }
}

/// An entry that did not parse, as it was written.
fn bad_line(bad: &Bad) -> (Span, String) {
    (bad.span, bad.text.trim().to_string())
}

/// Strings quoted and separated by spaces.
fn quote_all(values: &[Str]) -> String {
    values
        .iter()
        .map(|v| quote(&v.value))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether text holds an empty line: two line breaks with only white space between.
fn has_blank_line(text: &str) -> bool {
    text.split('\n')
        .skip(1)
        .collect::<Vec<_>>()
        .split_last()
        .is_some_and(|(_, middle)| middle.iter().any(|l| l.trim().is_empty()))
}

/// Whether C text ends in a backslash that no line break follows, which C
/// reads as a backslash and not as a backslash-newline.
fn ends_in_lone_backslash(text: &str) -> bool {
    let body = text.trim_end_matches([' ', '\t', '\x0c', '\x0b']);
    body.ends_with('\\') && !text[body.len()..].contains(['\n', '\r'])
}

fn object_entry_span(entry: &ObjectEntry) -> Span {
    match entry {
        ObjectEntry::Replace(r) => r.span,
        ObjectEntry::Callback(c) => c.span,
        ObjectEntry::Extern(e) => e.span,
        ObjectEntry::Requires(r) => r.span,
        ObjectEntry::Bad(b) => b.span,
    }
}

/// `requires CONFIG_NAME[=VALUE] [else ACTION]`, with no space around `=`
/// as the kernel's `.config` writes it.
fn requirement_line(r: &Requirement) -> String {
    let mut line = format!("requires {}", r.option.text);
    match &r.value {
        Some(ConfigValue::Word(w)) => line.push_str(&format!("={}", w.text)),
        Some(ConfigValue::Text(s)) => line.push_str(&format!("={}", quote(&s.value))),
        None => {}
    }
    if let Some(action) = &r.otherwise {
        line.push_str(&format!(" else {}", action.text));
    }
    line
}

/// Re-indents C text to `depth` levels, keeping its relative indentation as
/// written, its continuation lines byte for byte, and a label or directive
/// written left of the block left of it ([`crate::c::lines`]).
fn indent_block(text: &str, depth: usize) -> String {
    let mut out = String::new();
    for line in layout(text).lines {
        match line {
            Line::Blank => {}
            Line::Verbatim(text) => out.push_str(text),
            Line::Code { indent, text } => {
                let base = (INDENT.len() * depth) as isize;
                out.push_str(&" ".repeat((base + indent).max(0) as usize));
                out.push_str(text);
            }
        }
        out.push('\n');
    }
    out
}

/// A string of the language, in quotes, with its escapes.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A prototype on one line, except where C needs a line break; such a line
/// continues two levels deeper than the entry.
fn prototype(p: &Prototype, depth: usize) -> String {
    let continued = INDENT.repeat(depth + 2);
    format!(
        "{}{}",
        join_words(&p.words),
        one_line(&p.params.text, &continued)
    )
}
