//! A C file split into its top-level items: includes, macros, other
//! directives, functions, types, data, declarations and macro uses, each with
//! its name, its lines and its bytes, read with the lexer so that braces in
//! strings, comments and preprocessor lines do not count.
//!
//! Every branch of an `#if` group is read, so a function defined once per
//! branch is listed once per branch; an item whose braces cross a branch
//! (`#ifdef A` `int f(int a) {` `#else` `int f(long a) {` `#endif` ... `}`)
//! is one item, its braces counted in its first branch only.

mod classify;
#[cfg(test)]
pub(crate) mod real_source_tests;
#[cfg(test)]
mod tests;

use crate::c::conditional::{directive_keyword, step, Groups, Step};
use crate::c::lexer::{tokens, Kind, Token};
use crate::c::line_starts::LineStarts;
use std::ops::Range;

/// One top-level item of a C file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopItem {
    pub kind: TopKind,
    /// The function, variable, type, macro or header it is about, if it names one.
    pub name: Option<String>,
    /// The first line (1-based), that of the comment block directly above the
    /// item when there is one; the storage class, return type and attribute
    /// lines above the name are part of the item.
    pub start_line: usize,
    /// The last line (1-based, inclusive): the closing `}` or `;`, or a
    /// comment after it on that line.
    pub end_line: usize,
    /// The item's bytes in the file, from its first token (or comment) to its last.
    pub text_range: Range<usize>,
}

impl TopItem {
    /// The item's text in `file`, the text it was read from.
    pub fn text<'t>(&self, file: &'t str) -> &'t str {
        file.get(self.text_range.clone()).unwrap_or("")
    }
}

/// What a top-level item is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopKind {
    /// `#include`; the name is the header as written, `<linux/fs.h>` or `"internal.h"`.
    Include,
    /// `#define`, its continued lines included; the name is the macro.
    Define,
    /// Any other directive: `#if`, `#else`, `#endif`, `#undef`, `#pragma`, ...
    Conditional,
    /// A function definition with its body.
    Function,
    /// A definition made by a macro, such as `SYSCALL_DEFINE3(read, ...) { ... }`;
    /// the name is the macro's first argument.
    MacroFunction { macro_name: String },
    /// A structure, union or enumeration definition, or a typedef; the name
    /// is the tag or the typedef name.
    Type,
    /// A variable defined or declared at file scope, with or without initializer.
    Data,
    /// A macro used at file scope, such as `static DEFINE_MUTEX(lock);` or
    /// `EXPORT_SYMBOL(f);`; the name is its last argument that is an identifier.
    MacroUse { macro_name: String },
    /// A function prototype, or a structure declared without its members.
    Declaration,
    /// Anything else: a stray `;` or `}`, `asm(...)`, an item never closed.
    Other,
}

/// The names of the functions `text` defines.
pub fn function_names(text: &str) -> std::collections::HashSet<String> {
    top_level_items(text)
        .into_iter()
        .filter(|item| matches!(item.kind, TopKind::Function))
        .filter_map(|item| item.name)
        .collect()
}

/// The top-level items of `text`, in order. No byte belongs to two items;
/// comments not directly above an item or after it on its last line belong
/// to none.
pub fn top_level_items(text: &str) -> Vec<TopItem> {
    let all = tokens(text);
    let lines = LineStarts::new(text);
    let mut items = Vec::new();
    // The first token not yet given to an item.
    let mut free = 0;
    for piece in split(text, &all) {
        let (kind, name) = if piece.directive {
            classify::directive(text, &all[piece.first..=piece.last])
        } else if piece.complete {
            classify::code(text, &all, &piece.counted)
        } else {
            (TopKind::Other, None)
        };
        let first = leading_comments(&all, &lines, free, piece.first);
        let last = trailing_comments(&all, &lines, piece.last);
        free = last + 1;
        let text_range = all[first].start..all[last].end;
        items.push(TopItem {
            kind,
            name,
            start_line: lines.line_of(text_range.start),
            end_line: lines.line_of(text_range.end.saturating_sub(1)),
            text_range,
        });
    }
    items
}

/// The first token of the comment block directly above token `first` (no
/// blank line between), not reaching back before `free`.
fn leading_comments(all: &[Token], lines: &LineStarts, free: usize, first: usize) -> usize {
    let mut at = first;
    while at > free {
        let above = all[at - 1];
        let touches = lines.line_of(above.end - 1) + 1 >= lines.line_of(all[at].start);
        if above.directive.is_some() || !above.kind.is_comment() || !touches {
            break;
        }
        at -= 1;
    }
    at
}

/// The last comment that starts on the line where token `last` ends, or `last`.
fn trailing_comments(all: &[Token], lines: &LineStarts, last: usize) -> usize {
    let line = lines.line_of(all[last].end - 1);
    let mut at = last;
    while let Some(next) = all.get(at + 1) {
        if next.directive.is_some() || !next.kind.is_comment() || lines.line_of(next.start) != line
        {
            break;
        }
        at += 1;
    }
    at
}

/// An item as token indices: its first and last token, and for code the
/// tokens its kind is read from (those outside its braces, and its outermost
/// braces).
struct Piece {
    first: usize,
    last: usize,
    directive: bool,
    /// Closed by its `;` or `}`; an item the text ends in is not.
    complete: bool,
    counted: Vec<usize>,
}

/// Splits the tokens into pieces: a directive outside items is a piece of
/// its own; code runs to the `;` or function body's `}` that ends it.
fn split(text: &str, all: &[Token]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut groups = Groups::default();
    let mut open: Option<Open> = None;
    let mut i = 0;
    while i < all.len() {
        let t = all[i];
        if let Some(d) = t.directive {
            let end = directive_end(all, i, d);
            let step = directive_keyword(text, all, i).and_then(step);
            // A macro call without its `;` ends at a directive, unless the
            // directive only switches branches: then the call may be one
            // branch's head of a function (`SYSCALL_DEFINE5(clone, ...)` `#else`).
            let switches = matches!(step, Some(Step::Branch | Step::Close));
            if !switches {
                if let Some(done) = open.take_if(|o| o.is_bare_call(text, all)) {
                    pieces.push(done.finish(true));
                }
            }
            match open.as_mut() {
                Some(o) => {
                    o.directive(step, groups.depth());
                    if o.ended && o.skip.is_none() {
                        o.last = end;
                        pieces.extend(open.take().map(|o| o.finish(true)));
                    }
                }
                None => pieces.push(directive_piece(i, end)),
            }
            if let Some(step) = step {
                groups.apply(step);
            }
            i = end + 1;
            continue;
        }
        let skipped = open.as_ref().is_some_and(|o| o.skip.is_some());
        if t.kind.is_comment() || skipped {
            i += 1;
            continue;
        }
        if t.kind == Kind::Word && starts_its_line(text, t) {
            if let Some(done) = open.take_if(|o| o.is_bare_call(text, all)) {
                let after = done.last + 1;
                pieces.push(done.finish(true));
                pieces.extend(directives_between(all, after, i));
            }
        }
        let o = open.get_or_insert_with(|| Open::new(i, groups.depth()));
        if o.take(text, all, i) {
            if groups.depth() > o.groups_at_start {
                // It ends inside a group it opened (`int x =` `#ifdef A`
                // `1;` `#else` `2;` `#endif`): the group's other branches
                // are part of it, up to its `#endif`.
                o.ended = true;
                o.skip = Some(o.groups_at_start + 1);
            } else {
                pieces.extend(open.take().map(|o| o.finish(true)));
            }
        }
        i += 1;
    }
    // The text may end an item with a macro call that holds its own `;`.
    pieces.extend(open.map(|o| {
        let complete = o.ended || o.is_bare_call(text, all);
        o.finish(complete)
    }));
    pieces
}

/// The last token of the directive `d` that starts at token `first`.
fn directive_end(all: &[Token], first: usize, d: usize) -> usize {
    first
        + all[first..]
            .iter()
            .take_while(|t| t.directive == Some(d))
            .count()
        - 1
}

fn directive_piece(first: usize, last: usize) -> Piece {
    Piece {
        first,
        last,
        directive: true,
        complete: true,
        counted: Vec::new(),
    }
}

/// The directives among tokens `from..to`, each a piece.
fn directives_between(all: &[Token], from: usize, to: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut i = from;
    while i < to {
        match all[i].directive {
            Some(d) => {
                let end = directive_end(all, i, d);
                pieces.push(directive_piece(i, end));
                i = end + 1;
            }
            None => i += 1,
        }
    }
    pieces
}

/// Whether token `t` is the first thing on its line, at column 0.
fn starts_its_line(text: &str, t: Token) -> bool {
    t.start == 0 || text.as_bytes().get(t.start - 1) == Some(&b'\n')
}

/// The item being read.
struct Open {
    first: usize,
    last: usize,
    counted: Vec<usize>,
    /// Braces open.
    depth: usize,
    /// Parentheses open outside braces.
    parens: usize,
    /// Braces were opened outside parentheses.
    braced: bool,
    /// The first braces opened outside parentheses are a function's body.
    body: bool,
    /// An `=` outside parentheses and braces was read.
    assigned: bool,
    /// Reading a later branch of a group: its tokens do not count, up to the
    /// `#endif` read when this many groups are open.
    skip: Option<usize>,
    /// How many conditional groups were open where the item starts.
    groups_at_start: usize,
    /// Its `;` or `}` was read inside a group it opened; it ends at the group's `#endif`.
    ended: bool,
    /// In the parentheses right after the item's first word.
    in_call: bool,
    /// The `)` closing the parentheses right after the item's first word.
    call_end: Option<usize>,
}

impl Open {
    fn new(first: usize, groups_at_start: usize) -> Self {
        Open {
            first,
            groups_at_start,
            ended: false,
            last: first,
            counted: Vec::new(),
            depth: 0,
            parens: 0,
            braced: false,
            body: false,
            assigned: false,
            skip: None,
            in_call: false,
            call_end: None,
        }
    }

    fn finish(self, complete: bool) -> Piece {
        Piece {
            first: self.first,
            last: self.last,
            directive: false,
            complete,
            counted: self.counted,
        }
    }

    /// Whether the item so far is one macro call, `WORD(...)`, that could
    /// end without a `;` (the macro holding it) before a directive or a line
    /// starting at column 0.
    fn is_bare_call(&self, text: &str, all: &[Token]) -> bool {
        let first = all[self.first];
        self.skip.is_none()
            && self.call_end == Some(self.last)
            && !classify::is_attribute(&text[first.start..first.end])
    }

    /// A directive inside the item: a later branch of a group is skipped.
    fn directive(&mut self, step: Option<Step>, depth: usize) {
        match step {
            Some(Step::Branch) if self.skip.is_none() => self.skip = Some(depth),
            Some(Step::Close) if self.skip == Some(depth) => self.skip = None,
            _ => {}
        }
    }

    /// Reads token `i`; whether it ends the item.
    fn take(&mut self, text: &str, all: &[Token], i: usize) -> bool {
        self.last = i;
        let t = all[i];
        match t.kind {
            Kind::Open => {
                if self.depth == 0 {
                    // Only the first braces can be a body, so each item's
                    // head is read once however many braces follow it.
                    if self.parens == 0 && !self.braced {
                        self.braced = true;
                        self.body =
                            !self.assigned && classify::opens_body(text, all, &self.counted);
                    }
                    self.counted.push(i);
                }
                self.depth += 1;
                false
            }
            Kind::Close if self.depth == 0 => {
                self.counted.push(i);
                true
            }
            Kind::Close => {
                self.depth -= 1;
                if self.depth > 0 {
                    return false;
                }
                self.counted.push(i);
                self.body && self.parens == 0
            }
            _ if self.depth > 0 => false,
            _ => {
                self.counted.push(i);
                let opens_call = self.counted.len() == 2 && all[self.counted[0]].kind == Kind::Word;
                self.punctuation(&text[t.start..t.end], i, opens_call)
            }
        }
    }

    /// Reads a token outside braces; whether it ends the item. `opens_call`:
    /// the token follows the item's first word.
    fn punctuation(&mut self, spelling: &str, i: usize, opens_call: bool) -> bool {
        match spelling {
            "(" => {
                self.parens += 1;
                self.in_call |= opens_call;
            }
            ")" => {
                self.parens = self.parens.saturating_sub(1);
                if self.parens == 0 && self.in_call {
                    self.in_call = false;
                    self.call_end = Some(i);
                }
            }
            ";" if self.parens == 0 => return true,
            "=" if self.parens == 0 => self.assigned = true,
            _ => {}
        }
        false
    }
}
