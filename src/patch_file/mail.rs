//! The mail around a diff, as `git format-patch` writes it: the `From <sha>`
//! line, the `From:`, `Date:` and `Subject:` headers (folded and RFC 2047
//! encoded), the message with its trailer tags, a stable backport's upstream
//! commit, and the CVE ids it names.

use super::{MailHeader, Tag};

/// The trailer tags kept from a message, as git and the kernel spell them.
const TAG_KEYS: &[&str] = &[
    "Fixes",
    "Link",
    "Closes",
    "Reported-by",
    "Signed-off-by",
    "Cc",
    "Acked-by",
    "Reviewed-by",
    "Tested-by",
    "Suggested-by",
    "Co-developed-by",
];

/// The commit of git's mbox separator, `From <40 hex> Mon Sep 17 00:00:00 2001`.
pub(super) fn mbox_commit(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("From ")?;
    let (sha, date) = rest.split_once(' ')?;
    let hex = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && date.trim() == "Mon Sep 17 00:00:00 2001").then_some(sha)
}

/// Whether the lines start with a mail rather than a diff.
pub(super) fn is_mail(lines: &[&str]) -> bool {
    let Some(first) = lines.first() else {
        return false;
    };
    if mbox_commit(first).is_some() {
        return true;
    }
    let headers = lines.iter().take_while(|l| !l.is_empty());
    header_key(first).is_some() && headers.clone().any(|l| l.starts_with("Subject:"))
}

/// The key of a `Key: value` header line.
fn header_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once(':')?;
    let valid = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some(key)
}

/// Reads the mail at the start of `lines` and returns it with the index of
/// the first line after the message (its `---`, or the diff's first line).
pub(super) fn read_mail(lines: &[&str]) -> (MailHeader, usize) {
    let mut header = MailHeader::default();
    let mut i = 0;
    if let Some(sha) = lines.first().and_then(|l| mbox_commit(l)) {
        header.commit = Some(sha.to_string());
        i = 1;
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    while let Some(line) = lines.get(i) {
        if line.is_empty() {
            i += 1;
            break;
        }
        match (line.starts_with([' ', '\t']), fields.last_mut()) {
            (true, Some((_, value))) => value.push_str(line),
            _ => {
                let (key, value) = line.split_once(':').unwrap_or((line, ""));
                fields.push((key.to_string(), value.trim_start().to_string()));
            }
        }
        i += 1;
    }
    for (key, value) in fields {
        let decoded = decode_words(value.trim());
        match key.to_ascii_lowercase().as_str() {
            "from" => header.author = Some(decoded),
            "date" => header.date = Some(decoded),
            "subject" => header.subject = Some(strip_patch_prefix(&decoded).to_string()),
            _ => {}
        }
    }
    let mut start = i;
    // A mail sent for someone else names the author again atop the body, as `git am` reads it.
    if let Some(author) = lines.get(start).and_then(|l| l.strip_prefix("From: ")) {
        header.author = Some(decode_words(author.trim()));
        start += 1;
        i += 1;
    }
    while i < lines.len() && !starts_diff(lines, i) {
        i += 1;
    }
    read_message(&mut header, &lines[start..i], start);
    (header, i)
}

/// Whether line `i` ends the message: git's `---`, or a diff with no `---` before it.
fn starts_diff(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    line == "---"
        || line.starts_with("diff --git ")
        || (line.starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ ")))
}

/// Fills in the message, its tags, the upstream commit and the CVE ids.
fn read_message(header: &mut MailHeader, body: &[&str], first: usize) {
    let end = body
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |p| p + 1);
    let start = body
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(end);
    header.message = body[start..end].join("\n");
    for (n, line) in body.iter().enumerate() {
        if header.upstream_commit.is_none() {
            header.upstream_commit = upstream_commit(line).map(str::to_string);
        }
        if let Some((key, value)) = line.split_once(':') {
            if let Some(known) = TAG_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                header.tags.push(Tag {
                    key: (*known).to_string(),
                    value: value.trim().to_string(),
                    line: first + n + 1,
                });
            }
        }
    }
    let subject = header.subject.clone().unwrap_or_default();
    for text in [subject.as_str(), header.message.as_str()] {
        for cve in cve_ids(text) {
            if !header.cves.contains(&cve) {
                header.cves.push(cve);
            }
        }
    }
}

/// The commit a stable backport's line names as the upstream one.
fn upstream_commit(line: &str) -> Option<&str> {
    let line = line.trim();
    let sha = if let Some(rest) = line.strip_prefix("commit ") {
        rest.strip_suffix(" upstream.")
            .or_else(|| rest.strip_suffix(" upstream"))?
    } else if let Some(rest) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        let rest = rest.trim();
        let (word, sha) = rest.rsplit_once(' ')?;
        if !word.eq_ignore_ascii_case("upstream commit") {
            return None;
        }
        sha
    } else {
        line.strip_prefix("(cherry picked from commit ")?
            .strip_suffix(')')?
    };
    let sha = sha.trim();
    let hex = (12..=40).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then_some(sha)
}

/// Every `CVE-YYYY-NNNN...` id in `text`, in upper case.
fn cve_ids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if !bytes[i..i + 4].eq_ignore_ascii_case(b"CVE-") {
            i += 1;
            continue;
        }
        let year = digits(&bytes[i + 4..]);
        let rest = i + 4 + year;
        let number = if year == 4 && bytes.get(rest) == Some(&b'-') {
            digits(&bytes[rest + 1..])
        } else {
            0
        };
        if number >= 4 {
            found.push(text[i..rest + 1 + number].to_ascii_uppercase());
            i = rest + 1 + number;
        } else {
            i += 4;
        }
    }
    found
}

fn digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The subject without its leading `[PATCH ...]` and `[RFC ...]` groups.
fn strip_patch_prefix(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some((group, after)) = inner.split_once(']') else {
            break;
        };
        let upper = group.to_ascii_uppercase();
        if !upper.contains("PATCH") && !upper.contains("RFC") {
            break;
        }
        rest = after.trim_start();
    }
    rest
}

/// Decodes the RFC 2047 encoded words of a header (`=?UTF-8?q?...?=`,
/// `=?utf-8?B?...?=`); white space between two encoded words is dropped.
pub(super) fn decode_words(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut after_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let (before, from) = rest.split_at(start);
        match encoded_word(from) {
            Some((decoded, len)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &from[len..];
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                after_word = false;
            }
        }
    }
    out
}

/// One encoded word at the start of `text`: its text and its length.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    let bytes = match encoding {
        "q" | "Q" => decode_q(payload)?,
        "b" | "B" => decode_base64(payload)?,
        _ => return None,
    };
    let decoded =
        if charset.eq_ignore_ascii_case("iso-8859-1") || charset.eq_ignore_ascii_case("latin1") {
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((decoded, len))
}

fn decode_q(payload: &str) -> Option<Vec<u8>> {
    let bytes = payload.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = payload.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    Some(out)
}

fn decode_base64(payload: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in payload.bytes().filter(|&c| c != b'=') {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode_and_join() {
        assert_eq!(
            decode_words("=?UTF-8?q?J=C3=B6rg_R=C3=B6del?= <joro@example.org>"),
            "Jörg Rödel <joro@example.org>"
        );
        assert_eq!(
            decode_words("=?utf-8?b?SsO2cmc=?= =?utf-8?q?_R?="),
            "Jörg R"
        );
        assert_eq!(decode_words("a =?x?z?bad?= b"), "a =?x?z?bad?= b");
    }

    #[test]
    fn a_from_line_atop_the_body_names_the_author() {
        let mail = [
            "From: Sender <s@example.org>",
            "Subject: [PATCH] x: fix",
            "",
            "From: Author <a@example.org>",
            "",
            "The fix.",
            "---",
        ];
        let (header, end) = read_mail(&mail);
        assert_eq!(header.author.as_deref(), Some("Author <a@example.org>"));
        assert_eq!((header.message.as_str(), end), ("The fix.", 6));
    }

    #[test]
    fn prefixes_and_backport_lines_are_recognised() {
        assert_eq!(strip_patch_prefix("[PATCH 6.1 12/34] net: fix"), "net: fix");
        assert_eq!(strip_patch_prefix("[PATCH v2] [media] x"), "[media] x");
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            upstream_commit(&format!("commit {sha} upstream.")),
            Some(sha)
        );
        assert_eq!(
            upstream_commit(&format!("[ Upstream commit {sha} ]")),
            Some(sha)
        );
        assert_eq!(upstream_commit("commit the fix upstream."), None);
        assert_eq!(
            cve_ids("fixes cve-2024-1086 and CVE-2023-12345."),
            ["CVE-2024-1086", "CVE-2023-12345"]
        );
        assert!(cve_ids("CVE-24-1 CVE-").is_empty());
    }
}
