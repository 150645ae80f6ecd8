//! A lexer of C text as gcc reads it, for the places that must not change
//! what C means: joining a parameter list, re-indenting a block, counting braces.
//!
//! It splits text into tokens with their byte ranges in the text as written.
//! Backslash-newline is removed before tokens are formed (a token may span it),
//! except inside raw strings; `<%`, `%>` and `%:` are the digraphs of `{`, `}`
//! and `#`; a preprocessor directive runs to the end of its logical line. What
//! lies between tokens is white space, and only white space.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An identifier, keyword or number.
    Word,
    /// `{` or `<%`.
    Open,
    /// `}` or `%>`.
    Close,
    /// `#` or `%:`.
    Hash,
    /// Any other punctuator or stray character.
    Punct,
    /// A string or character literal, raw strings included.
    Literal,
    /// A string or character literal that is never closed.
    Unterminated,
    /// A block comment that is never closed: it runs to the end of the text.
    UnclosedComment,
    LineComment,
    BlockComment,
}

impl Kind {
    /// Whether the token is a comment, closed or not.
    pub fn is_comment(self) -> bool {
        matches!(
            self,
            Kind::LineComment | Kind::BlockComment | Kind::UnclosedComment
        )
    }
}

/// One token: its kind, its bytes `start..end` in the text, and the index of
/// the preprocessor directive it belongs to, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub directive: Option<usize>,
}

/// The length of a backslash-newline at `i`: a backslash, optional blanks
/// (gcc accepts them, with a warning) and a line break. Zero if there is none.
pub fn splice_len(s: &[u8], i: usize) -> usize {
    if s.get(i) != Some(&b'\\') {
        return 0;
    }
    let mut j = i + 1;
    while matches!(s.get(j), Some(b' ' | b'\t' | b'\x0c' | b'\x0b')) {
        j += 1;
    }
    match s.get(j) {
        Some(b'\n') => j + 1 - i,
        Some(b'\r') if s.get(j + 1) == Some(&b'\n') => j + 2 - i,
        _ => 0,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    /// Skips backslash-newlines at the current position.
    fn skip_splices(&mut self) {
        loop {
            let n = splice_len(self.s, self.i);
            if n == 0 {
                return;
            }
            self.i += n;
        }
    }

    /// The byte at the current position after backslash-newlines, and the
    /// position after it.
    fn peek_from(&self, mut i: usize) -> Option<(u8, usize)> {
        loop {
            let n = splice_len(self.s, i);
            if n == 0 {
                break;
            }
            i += n;
        }
        self.s.get(i).map(|b| (*b, i + 1))
    }

    fn peek(&self) -> Option<u8> {
        self.peek_from(self.i).map(|(b, _)| b)
    }

    fn peek2(&self) -> Option<u8> {
        let (_, next) = self.peek_from(self.i)?;
        self.peek_from(next).map(|(b, _)| b)
    }

    fn bump(&mut self) -> Option<u8> {
        let (b, next) = self.peek_from(self.i)?;
        self.i = next;
        Some(b)
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<Token> {
    let s = text.as_bytes();
    let mut c = Cursor { s, i: 0 };
    let mut out: Vec<Token> = Vec::new();
    let mut line_start = true;
    let mut directive: Option<usize> = None;
    let mut directives = 0;
    loop {
        c.skip_splices();
        let start = c.i;
        let Some(b) = c.bump() else { break };
        let kind = match b {
            b'\n' => {
                line_start = true;
                directive = None;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b' => continue,
            b'/' if c.peek() == Some(b'/') => line_comment(&mut c),
            b'/' if c.peek() == Some(b'*') => block_comment(&mut c),
            b'"' | b'\'' => quoted(&mut c, b),
            b'{' => Kind::Open,
            b'}' => Kind::Close,
            b'#' => Kind::Hash,
            b'<' if c.peek() == Some(b'%') => {
                c.bump();
                Kind::Open
            }
            b'%' if c.peek() == Some(b'>') => {
                c.bump();
                Kind::Close
            }
            b'%' if c.peek() == Some(b':') => {
                c.bump();
                Kind::Hash
            }
            b if is_word_byte(b) => word_or_literal(&mut c, start, b),
            b'.' if c.peek().is_some_and(|b| b.is_ascii_digit()) => {
                number_tail(&mut c);
                Kind::Word
            }
            _ => Kind::Punct,
        };
        if kind == Kind::Hash && line_start && directive.is_none() {
            directive = Some(directives);
            directives += 1;
        }
        if !matches!(kind, Kind::BlockComment) {
            line_start = false;
        }
        out.push(Token {
            kind,
            start,
            end: c.i,
            directive,
        });
        // A block comment or literal that spans lines does not end a directive;
        // a newline inside it is not a line break of the logical line.
    }
    out
}

/// The rest of a `//` comment, up to the end of its line.
fn line_comment(c: &mut Cursor<'_>) -> Kind {
    while c.peek().is_some_and(|b| b != b'\n') {
        c.bump();
    }
    Kind::LineComment
}

/// The rest of a `/* */` comment, after its `/`.
fn block_comment(c: &mut Cursor<'_>) -> Kind {
    c.bump();
    while let Some(b) = c.bump() {
        if b == b'*' && c.peek() == Some(b'/') {
            c.bump();
            return Kind::BlockComment;
        }
    }
    Kind::UnclosedComment
}

/// A word or number whose first byte `first` is at `start`, or the literal it prefixes.
fn word_or_literal(c: &mut Cursor<'_>, start: usize, first: u8) -> Kind {
    // A raw string's prefix ends in `R` right before its quote.
    while c.peek().is_some_and(is_word_byte) {
        c.bump();
    }
    let word: Vec<u8> = logical(&c.s[start..c.i]);
    if c.peek() == Some(b'"') && matches!(&word[..], b"R" | b"LR" | b"uR" | b"UR" | b"u8R") {
        raw_string(c)
    } else if c.peek() == Some(b'"') || c.peek() == Some(b'\'') {
        // `L"..."`, `u8"..."`: a prefixed literal is one token.
        let q = c.bump().unwrap_or(b'"');
        quoted(c, q)
    } else {
        if first.is_ascii_digit() || first == b'.' {
            number_tail(c);
        }
        Kind::Word
    }
}

/// Bytes without backslash-newlines: a token's spelling as C reads it.
pub fn logical(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let n = splice_len(raw, i);
        if n > 0 {
            i += n;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// The rest of a pp-number: digits, letters, `.`, and signs after exponents.
fn number_tail(c: &mut Cursor<'_>) {
    while let Some(b) = c.peek() {
        if matches!(b, b'e' | b'E' | b'p' | b'P') && matches!(c.peek2(), Some(b'+' | b'-')) {
            c.bump();
            c.bump();
        } else if is_word_byte(b) || b == b'.' {
            c.bump();
        } else {
            break;
        }
    }
}

/// The rest of a string or character literal after its opening quote.
fn quoted(c: &mut Cursor<'_>, quote: u8) -> Kind {
    while let Some(b) = c.peek() {
        if b == b'\n' {
            return Kind::Unterminated;
        }
        c.bump();
        if b == quote {
            return Kind::Literal;
        }
        if b == b'\\' && c.peek().is_some_and(|b| b != b'\n') {
            c.bump();
        }
    }
    Kind::Unterminated
}

/// The rest of a raw string `R"delim( ... )delim"` from its quote, read
/// without removing backslash-newlines, as gcc does.
fn raw_string(c: &mut Cursor<'_>) -> Kind {
    let s = c.s;
    let Some((_, open)) = c.peek_from(c.i) else {
        return Kind::Unterminated;
    };
    let mut i = open;
    while i < s.len()
        && i - open <= 16
        && !matches!(s[i], b'(' | b')' | b'\\' | b' ' | b'"' | b'\n')
    {
        i += 1;
    }
    if s.get(i) != Some(&b'(') {
        // Not a valid raw string: gcc reads an ordinary one (and complains).
        c.i = open;
        return quoted(c, b'"');
    }
    let mut closing = Vec::with_capacity(i - open + 2);
    closing.push(b')');
    closing.extend_from_slice(&s[open..i]);
    closing.push(b'"');
    match s[i..]
        .windows(closing.len())
        .position(|w| w == closing.as_slice())
    {
        Some(at) => {
            c.i = i + at + closing.len();
            Kind::Literal
        }
        None => {
            c.i = s.len();
            Kind::Unterminated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text)
            .into_iter()
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn literals_comments_and_digraphs() {
        assert_eq!(
            kinds("a \"b }\" '}' // c }\n<% %> /* } */"),
            vec![
                (Kind::Word, "a"),
                (Kind::Literal, "\"b }\""),
                (Kind::Literal, "'}'"),
                (Kind::LineComment, "// c }"),
                (Kind::Open, "<%"),
                (Kind::Close, "%>"),
                (Kind::BlockComment, "/* } */"),
            ]
        );
    }

    #[test]
    fn backslash_newline_joins_before_tokens_form() {
        assert_eq!(
            kinds("// a \\\n }"),
            vec![(Kind::LineComment, "// a \\\n }")]
        );
        assert_eq!(kinds("\"a\\\n  b\""), vec![(Kind::Literal, "\"a\\\n  b\"")]);
        assert_eq!(kinds("<\\\n%"), vec![(Kind::Open, "<\\\n%")]);
        assert_eq!(
            kinds("R\"x(a\\\n})x\""),
            vec![(Kind::Literal, "R\"x(a\\\n})x\"")]
        );
    }

    #[test]
    fn directives_run_to_the_end_of_the_logical_line() {
        let text = "#define A { \\\n }\n  %:if B\nx";
        let t = tokens(text);
        let dirs: Vec<Option<usize>> = t.iter().map(|t| t.directive).collect();
        assert_eq!(
            dirs,
            vec![
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                None
            ]
        );
        assert_eq!(tokens("a # b")[1].directive, None);
    }

    #[test]
    fn unterminated_literals_end_at_the_line() {
        assert_eq!(
            kinds("\"a\nb"),
            vec![(Kind::Unterminated, "\"a"), (Kind::Word, "b")]
        );
    }
}
