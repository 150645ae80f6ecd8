//! The nesting limit: how deep `{`, `(` and `[` may nest in a spec.
//!
//! pest descends once per nested group, so a spec nested without end would
//! run the parser out of stack. The file is measured first, in one pass, and
//! parsing stops at the group that goes past the limit.

/// The deepest nesting a spec may have. Far more than any C body needs, and
/// few enough for the parser's own stack in every build.
pub const MAX_NESTING: usize = 20_000;

/// The offset of the first `{`, `(` or `[` that opens level `MAX_NESTING + 1`,
/// skipping the brackets in strings, character constants and comments.
pub fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, bracket) in brackets(text) {
        match bracket {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(at);
                }
            }
            _ => depth = depth.saturating_sub(1),
        }
    }
    None
}

/// Every bracket of `text` with its offset, outside strings, character
/// constants (each ends with its line at the latest) and comments (`/* */`,
/// and `//` or the spec's `#` to the end of the line), as the parser's
/// recovery reads them.
pub(crate) fn brackets(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            match bytes[i] {
                b'"' | b'\'' => {
                    let quote = bytes[i];
                    i += 1;
                    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 1;
                }
                b'/' | b'#' if bytes[i] == b'#' || bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b @ (b'{' | b'(' | b'[' | b'}' | b')' | b']') => {
                    i += 1;
                    return Some((at, b));
                }
                _ => {}
            }
            i += 1;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_past_the_limit_is_found() {
        let deep = format!("data {}", "{".repeat(MAX_NESTING + 5));
        assert_eq!(too_deep(&deep), Some("data ".len() + MAX_NESTING));
        let wide = "{}".repeat(MAX_NESTING * 2);
        assert_eq!(too_deep(&wide), None);
        let quoted = format!("\"{}\"", "(".repeat(MAX_NESTING + 1));
        assert_eq!(too_deep(&quoted), None);
        let mixed = format!("{}{}", "(".repeat(MAX_NESTING), "[");
        assert_eq!(too_deep(&mixed), Some(MAX_NESTING));
    }
}
