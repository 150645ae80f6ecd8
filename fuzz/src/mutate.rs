//! Structure-aware mutators: one for spec text, one for kernel objects.
//!
//! Neither needs coverage feedback. The text mutator works on the language's
//! own tokens (every literal of `grammar/kgp.pest`, C punctuation, comment
//! and string delimiters) and on whole lines, and splices pieces of other
//! inputs. The binary mutator knows where an ELF file keeps its section
//! headers and section contents, and writes boundary values there.

use crate::rng::Rng;

/// The largest text mutant by default; longer ones are cut, so one exec stays short.
pub const MAX_TEXT: usize = 32 * 1024;
pub const MAX_BINARY: usize = 4 * 1024 * 1024;

/// Tokens that are not keywords but matter to the parser, the formatter and the generator.
const PUNCTUATION: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "\"",
    "'",
    "\\",
    "\\\n",
    "\n",
    "\n\n",
    "\t",
    " ",
    "#",
    "# note\n",
    "//",
    "// c\n",
    "/*",
    "*/",
    "<%",
    "%>",
    "??=",
    "??/",
    "\0",
    "\u{202e}",
    "=",
    "*",
    "<",
    ">",
    "...",
    "0x",
    "0",
    "1",
    "18446744073709551616",
    "-1",
    "\"\\n\"",
    "\"a\\\n    b\"",
    "out:\n",
    "#define X {\n",
    "std/shadow",
    "std/api",
    "\"/dev/null\"",
    "6.1.0-*-cloud-amd64",
    "vmlinux",
    "x86_64",
    "int f(void)",
    "(struct seq_file *m, // the file\nvoid *v)",
];

/// Tokens whose long runs stress recovery and nesting.
const NESTING: &[&str] = &[
    "{",
    "{\n",
    "(",
    "[",
    "\"",
    "/*",
    "# x\n",
    "target {\n",
    "object vmlinux {\n",
    "replace int f(void) {\n",
    "patch p {\n",
];

/// Words the grammar spells out: every double-quoted literal of the grammar.
pub fn grammar_words() -> Vec<String> {
    let grammar = include_str!("../../grammar/kgp.pest");
    let mut words = Vec::new();
    // Quotes in comments are prose; `\"` in a literal is a quote character.
    for line in grammar
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
    {
        let mut literal: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (&mut literal, c) {
                (None, '"') => literal = Some(String::new()),
                (Some(_), '\\') => {
                    chars.next();
                }
                (Some(word), '"') => {
                    if !word.is_empty()
                        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        words.push(word.clone());
                    }
                    literal = None;
                }
                (Some(word), c) => word.push(c),
                (None, _) => {}
            }
        }
    }
    words.sort();
    words.dedup();
    words
}

fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A random range of `text` on character boundaries, at most `max` bytes long.
fn span(rng: &mut Rng, text: &str, max: usize) -> (usize, usize) {
    let start = boundary(text, rng.below(text.len() + 1));
    let end = boundary(text, start + rng.below(max.max(1)) + 1);
    (start, end.max(start))
}

/// The byte ranges of the lines of `text`, with their newlines.
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Mutates spec text with one to four stacked edits.
pub struct TextMutator {
    words: Vec<String>,
    max: usize,
}

impl TextMutator {
    /// A mutator whose mutants are at most `max` bytes long.
    pub fn new(max: usize) -> TextMutator {
        TextMutator {
            words: grammar_words(),
            max,
        }
    }
}

impl TextMutator {
    pub fn mutate(&self, rng: &mut Rng, input: &str, other: &str) -> String {
        let mut text = input.to_string();
        for _ in 0..1 + rng.below(4) {
            text = self.edit(rng, &text, other);
        }
        if text.len() > self.max {
            let end = boundary(&text, self.max);
            text.truncate(end);
        }
        text
    }

    fn token(&self, rng: &mut Rng) -> String {
        if rng.one_in(2) && !self.words.is_empty() {
            let word = rng.pick(&self.words).clone();
            match rng.below(3) {
                0 => format!(" {word} "),
                1 => format!("\n{word} "),
                _ => word,
            }
        } else {
            rng.pick(PUNCTUATION).to_string()
        }
    }

    fn edit(&self, rng: &mut Rng, text: &str, other: &str) -> String {
        let mut out = String::with_capacity(text.len() + 64);
        match rng.below(10) {
            // Insert a token.
            0 | 1 => {
                let at = boundary(text, rng.below(text.len() + 1));
                out.push_str(&text[..at]);
                out.push_str(&self.token(rng));
                out.push_str(&text[at..]);
            }
            // Replace a span with a token.
            2 => {
                let (a, b) = span(rng, text, 12);
                out.push_str(&text[..a]);
                out.push_str(&self.token(rng));
                out.push_str(&text[b..]);
            }
            // Delete a span.
            3 => {
                let max = if rng.one_in(4) { 200 } else { 8 };
                let (a, b) = span(rng, text, max);
                out.push_str(&text[..a]);
                out.push_str(&text[b..]);
            }
            // Duplicate, delete or move a whole line.
            4 | 5 => {
                let lines = lines(text);
                if lines.is_empty() {
                    return text.to_string();
                }
                let (a, b) = *rng.pick(&lines);
                let (c, _) = *rng.pick(&lines);
                match rng.below(3) {
                    0 => {
                        out.push_str(&text[..b]);
                        out.push_str(&text[a..b]);
                        out.push_str(&text[b..]);
                    }
                    1 => {
                        out.push_str(&text[..a]);
                        out.push_str(&text[b..]);
                    }
                    _ => {
                        let moved = &text[a..b];
                        let rest = format!("{}{}", &text[..a], &text[b..]);
                        let at = boundary(&rest, c.min(rest.len()));
                        out.push_str(&rest[..at]);
                        out.push_str(moved);
                        out.push_str(&rest[at..]);
                    }
                }
            }
            // Splice a span of another input in.
            6 | 7 => {
                let at = boundary(text, rng.below(text.len() + 1));
                let (a, b) = span(rng, other, 400);
                out.push_str(&text[..at]);
                out.push_str(&other[a..b]);
                out.push_str(&text[at..]);
            }
            // Repeat a token many times: deep nesting and long runs.
            8 => {
                let at = boundary(text, rng.below(text.len() + 1));
                let token = if rng.one_in(2) {
                    rng.pick(NESTING).to_string()
                } else {
                    self.token(rng)
                };
                let times = if rng.one_in(8) {
                    500 + rng.below(4000)
                } else {
                    2 + rng.below(30)
                };
                out.push_str(&text[..at]);
                for _ in 0..times {
                    if out.len() > self.max {
                        break;
                    }
                    out.push_str(&token);
                }
                out.push_str(&text[at..]);
            }
            // Change one character.
            _ => {
                let (a, b) = span(rng, text, 1);
                let c = char::from_u32(rng.below(0x80) as u32).unwrap_or('x');
                out.push_str(&text[..a]);
                out.push(c);
                out.push_str(&text[b..]);
            }
        }
        out
    }
}

/// Values that break length and offset arithmetic.
const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    4,
    7,
    8,
    16,
    24,
    40,
    63,
    64,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - 1,
    u64::MAX,
];

/// Where a mutation should land in an ELF file.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The file offset of each section header.
    pub headers: Vec<usize>,
    /// The file range of each section's contents, by name.
    pub sections: Vec<(String, usize, usize)>,
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?) as usize)
}
fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize)
}
fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
    .ok()
}

impl Layout {
    /// Reads the section headers of a little-endian ELF64 file; mutants
    /// join the corpus too, so every offset is checked.
    pub fn of_elf(bytes: &[u8]) -> Option<Layout> {
        let shoff = u64_at(bytes, 0x28)?;
        let shentsize = u16_at(bytes, 0x3a)?;
        let shnum = u16_at(bytes, 0x3c)?;
        let shstrndx = u16_at(bytes, 0x3e)?;
        let headers: Vec<usize> = (0..shnum)
            .map(|i| shoff.saturating_add(i.saturating_mul(shentsize)))
            .collect();
        let strtab = u64_at(bytes, headers.get(shstrndx)?.saturating_add(24))?;
        let mut sections = Vec::new();
        for &h in &headers {
            let field = |at: usize| h.saturating_add(at);
            let name = u32_at(bytes, h)?;
            let offset = u64_at(bytes, field(24))?;
            let end = offset.saturating_add(u64_at(bytes, field(32))?);
            let name_bytes = bytes.get(strtab.saturating_add(name)..)?;
            let name_end = name_bytes.iter().position(|&c| c == 0)?;
            let name = String::from_utf8_lossy(&name_bytes[..name_end]).into_owned();
            if u32_at(bytes, field(4))? != 8 && end <= bytes.len() {
                sections.push((name, offset, end));
            }
        }
        Some(Layout { headers, sections })
    }
}

/// Mutates a binary input, aiming at `focus` (section name prefixes) when the layout is known.
pub fn mutate_binary(
    rng: &mut Rng,
    input: &[u8],
    layout: Option<&Layout>,
    focus: &[&str],
) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        edit_binary(rng, &mut out, layout, focus);
    }
    out.truncate(MAX_BINARY);
    out
}

/// A range to mutate: a focused section, any section, the headers or the whole file.
fn region(rng: &mut Rng, len: usize, layout: Option<&Layout>, focus: &[&str]) -> (usize, usize) {
    if let Some(layout) = layout {
        let focused: Vec<&(String, usize, usize)> = layout
            .sections
            .iter()
            .filter(|(n, a, b)| b > a && focus.iter().any(|f| n.starts_with(f)))
            .collect();
        match rng.below(4) {
            0 | 1 if !focused.is_empty() => {
                let (_, a, b) = rng.pick(&focused);
                return (*a, (*b).min(len));
            }
            2 if !layout.sections.is_empty() => {
                let (_, a, b) = rng.pick(&layout.sections);
                return (*a, (*b).min(len));
            }
            _ => {}
        }
    }
    if rng.one_in(3) {
        (0, len.min(64))
    } else {
        (0, len)
    }
}

fn put(out: &mut [u8], at: usize, width: usize, value: u64) {
    let bytes = value.to_le_bytes();
    for (i, byte) in bytes.iter().take(width).enumerate() {
        if let Some(b) = out.get_mut(at.saturating_add(i)) {
            *b = *byte;
        }
    }
}

fn edit_binary(rng: &mut Rng, out: &mut Vec<u8>, layout: Option<&Layout>, focus: &[&str]) {
    if out.is_empty() {
        out.push(rng.next_u64() as u8);
        return;
    }
    let (a, b) = region(rng, out.len(), layout, focus);
    let at = if b > a { a + rng.below(b - a) } else { a }.min(out.len());
    match rng.below(10) {
        0 | 1 => {
            if let Some(byte) = out.get_mut(at) {
                *byte ^= 1 << rng.below(8);
            }
        }
        2 | 3 => {
            let width = *rng.pick(&[1, 2, 4, 8]);
            let value = *rng.pick(INTERESTING);
            put(out, at, width, value);
        }
        // A field of a section header: offset, size, link, info, entsize.
        4 | 5 if layout.is_some_and(|l| !l.headers.is_empty()) => {
            let headers = layout.map_or(&[][..], |l| l.headers.as_slice());
            let h = *rng.pick(headers);
            let (field, width) = *rng.pick(&[(4, 4), (24, 8), (32, 8), (40, 4), (44, 4), (56, 8)]);
            let value = if rng.one_in(2) {
                *rng.pick(INTERESTING)
            } else {
                let old = out
                    .get(h.saturating_add(field)..h.saturating_add(field + width))
                    .map_or(0, |s| {
                        s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
                    });
                old.wrapping_add(rng.below(64) as u64).wrapping_sub(32)
            };
            put(out, h.saturating_add(field), width, value);
        }
        6 => {
            let width = *rng.pick(&[1, 2, 4, 8]);
            let value = rng.next_u64();
            put(out, at, width, value);
        }
        // Copy a chunk over another place.
        7 => {
            let from = rng.below(out.len());
            let len = 1 + rng.below(64);
            let chunk: Vec<u8> = out[from..(from + len).min(out.len())].to_vec();
            for (i, c) in chunk.into_iter().enumerate() {
                if let Some(b) = out.get_mut(at.saturating_add(i)) {
                    *b = c;
                }
            }
        }
        8 => {
            if rng.one_in(4) {
                out.truncate(at);
            } else {
                let len = 1 + rng.below(16);
                let end = (at + len).min(out.len());
                out.drain(at..end);
            }
        }
        _ => {
            let len = 1 + rng.below(16);
            let insert: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            out.splice(at..at, insert);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_of_broken_headers_and_their_mutants_do_not_panic() {
        let mut rng = Rng::new(5);
        for _ in 0..2000 {
            let mut bytes: Vec<u8> = (0..256).map(|_| rng.next_u64() as u8).collect();
            put(&mut bytes, 0x28, 8, *rng.pick(INTERESTING));
            put(&mut bytes, 0x3c, 2, *rng.pick(&[0, 1, 4, 0xffff]));
            let layout = Layout::of_elf(&bytes);
            let _ = mutate_binary(&mut rng, &bytes, layout.as_ref(), &[".debug_"]);
        }
        let fake = Layout {
            headers: vec![usize::MAX, 3],
            sections: vec![(".debug_info".into(), usize::MAX - 1, usize::MAX)],
        };
        for _ in 0..2000 {
            let _ = mutate_binary(&mut rng, &[0; 64], Some(&fake), &[".debug_"]);
        }
    }

    #[test]
    fn text_mutants_stay_within_their_bound() {
        let mutator = TextMutator::new(300);
        let mut rng = Rng::new(2);
        let seed = "patch p {\n    description \"d\"\n}\n";
        for _ in 0..2000 {
            assert!(mutator.mutate(&mut rng, seed, seed).len() <= 300);
        }
        assert!(mutator.words.iter().any(|w| w == "replace"));
    }
}
