//! Where the parser starts again after an item that does not parse.
//!
//! An item that fails may have been read up to the end of the file (a block
//! that is never closed is), so trying every later item against the whole
//! rest of the file would read it once per item. After the first failure,
//! each item is parsed on its own piece of text instead: up to the next line
//! that starts with an item keyword, the same place where the grammar's
//! `bad_item` ends.

use super::keywords::ITEM_KEYWORDS;

/// The length of the piece of `rest` that holds its first item: everything
/// up to the start of the next line that begins with an item keyword.
pub fn piece_len(rest: &str) -> usize {
    let start = item_start(rest);
    let bytes = rest.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            let line = i + 1;
            if starts_with_keyword(&rest[line..]) {
                return line;
            }
        }
        i += 1;
    }
    rest.len()
}

/// Where the first item of `rest` starts: after whitespace and `#` comments.
fn item_start(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i
}

/// Whether a line starts, after spaces and tabs, with an item keyword as a whole word.
fn starts_with_keyword(line: &str) -> bool {
    let line = line.trim_start_matches([' ', '\t']);
    ITEM_KEYWORDS.iter().any(|keyword| {
        line.strip_prefix(keyword).is_some_and(|after| {
            !after
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_ends_before_the_next_item_line() {
        let text = "# note\nobject a {\n  replace f {\n  x;\n  object b {\n}\n";
        assert_eq!(
            &text[..piece_len(text)],
            "# note\nobject a {\n  replace f {\n  x;\n"
        );
        assert_eq!(piece_len("object a {\n  objects\n"), 21);
        assert_eq!(piece_len("patch p {\r\ntarget {"), 11);
    }
}
