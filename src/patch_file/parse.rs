//! Reading a patch file: the mail (see `mail.rs`), then the unified diff,
//! with git's extended headers, into [`PatchFile`]; every problem is a
//! [`PatchError`] at its line, and reading goes on to find the others.

use super::mail::{is_mail, mbox_commit, read_mail};
use super::{FileDiff, Hunk, HunkLine, PatchError, PatchFile};

/// Git's extended header lines, which say what a `diff --git` does besides its hunks.
const GIT_HEADERS: &[&str] = &[
    "index ",
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
];

/// Reads a `git format-patch` mail or a bare unified diff.
pub fn parse(text: &str) -> Result<PatchFile, Vec<PatchError>> {
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let lines = &lines[..lines.len() - usize::from(text.ends_with('\n') || text.is_empty())];
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if let Some(n) = text.split('\n').position(|l| l.ends_with('\r')) {
        errors.push(
            PatchError::new(n + 1, "the patch has CRLF (\\r\\n) line ends").help(
                "convert the file to LF line ends (`dos2unix FILE`, or `git format-patch` again)",
            ),
        );
    }
    for (n, line) in lines.iter().enumerate().skip(1) {
        if mbox_commit(line).is_some() {
            errors.push(
                PatchError::new(n + 1, "the file holds several patches; this line starts another")
                    .help("give one fix per spec, or squash the commits into one (`git rebase -i`, then `git format-patch -1`)"),
            );
        }
    }
    let (header, start) = if is_mail(&lines) {
        read_mail(&lines)
    } else {
        (Default::default(), 0)
    };
    let mut reader = Reader {
        lines: &lines,
        i: start,
        errors,
        files: Vec::new(),
    };
    reader.read_files();
    let mut errors = reader.errors;
    errors.extend(reader.files.iter().filter_map(path_leaving_tree));
    if reader.files.is_empty() && errors.is_empty() {
        errors.push(
            PatchError::new(lines.len().max(1), "the file holds no diff: no `--- FILE` and `+++ FILE` lines")
                .help("give the patch as `git format-patch` writes it, or a unified diff (`diff -u`, `git diff`)"),
        );
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    let kpatch = super::kpatch::find(&reader.files);
    Ok(PatchFile {
        header,
        files: reader.files,
        kpatch,
    })
}

/// The diff's lines with the place reading is at.
struct Reader<'a> {
    lines: &'a [&'a str],
    /// The index of the next line to read (its line number less one).
    i: usize,
    errors: Vec<PatchError>,
    files: Vec<FileDiff>,
}

/// What a `diff --git` line and the extended headers after it say.
#[derive(Default)]
struct GitHeader {
    line: usize,
    old: Option<String>,
    new: Option<String>,
    new_file: bool,
    deleted: bool,
}

impl<'a> Reader<'a> {
    fn line(&self) -> Option<&'a str> {
        self.lines.get(self.i).copied()
    }

    fn error(&mut self, line: usize, message: impl Into<String>, help: &str) {
        self.errors.push(PatchError::new(line, message).help(help));
    }

    /// Reads every file's diff; text before the first one (a diffstat, a
    /// message) is skipped, as GNU patch skips it.
    fn read_files(&mut self) {
        let mut seen_hunk = false;
        while let Some(line) = self.line() {
            if line.starts_with("diff --git ") {
                self.read_git_file();
            } else if line.starts_with("--- ") && self.at_file_header() {
                self.read_file(None);
            } else if line.starts_with("GIT binary patch") || line.starts_with("Binary files ") {
                self.binary();
            } else if is_signature(self.lines, self.i) && seen_hunk {
                return;
            } else if seen_hunk && !line.trim().is_empty() && !line.starts_with("diff ") {
                self.after_last_hunk(line);
            } else {
                self.i += 1;
            }
            seen_hunk = seen_hunk || self.files.last().is_some_and(|f| !f.hunks.is_empty());
        }
    }

    fn at_file_header(&self) -> bool {
        self.lines
            .get(self.i + 1)
            .is_some_and(|l| l.starts_with("+++ "))
    }

    fn after_last_hunk(&mut self, line: &str) {
        let n = self.i + 1;
        let message = if line.starts_with(['+', '-', ' ', '\\']) {
            "a line of a hunk beyond the line counts of its `@@` line"
        } else {
            "text after the last hunk that is neither a file's diff nor git's signature"
        };
        self.error(
            n,
            message,
            "the patch was edited by hand or cut short: take it again from git (`git format-patch -1 COMMIT`)",
        );
        self.i += 1;
        while self
            .line()
            .is_some_and(|l| !starts_file(l) && !l.starts_with("@@"))
        {
            self.i += 1;
        }
        if self.line().is_some_and(|l| l.starts_with("@@")) {
            let mut file = self.files.pop().unwrap_or_else(|| empty_file(n));
            self.read_hunks(&mut file);
            self.files.push(file);
        }
    }

    fn binary(&mut self) {
        self.error(
            self.i + 1,
            "a binary patch: kgpc applies only text diffs of C source",
            "leave the binary file out of the fix (`git format-patch -- PATHS` names the files to keep)",
        );
        self.i += 1;
        while self.line().is_some_and(|l| !starts_file(l)) {
            self.i += 1;
        }
    }

    fn read_git_file(&mut self) {
        let line = self.line().unwrap_or_default();
        let mut git = GitHeader {
            line: self.i + 1,
            ..Default::default()
        };
        if let Some((old, new)) = git_paths(&line["diff --git ".len()..]) {
            git.old = Some(old);
            git.new = Some(new);
        }
        self.i += 1;
        while let Some(line) = self.line() {
            let Some(key) = GIT_HEADERS.iter().find(|h| line.starts_with(**h)) else {
                break;
            };
            let value = unquote(&line[key.len()..]);
            match *key {
                "new file mode " => git.new_file = true,
                "deleted file mode " => git.deleted = true,
                "rename from " | "copy from " => git.old = Some(value),
                "rename to " | "copy to " => git.new = Some(value),
                _ => {}
            }
            self.i += 1;
        }
        match self.line() {
            Some(l) if l.starts_with("--- ") && self.at_file_header() => self.read_file(Some(git)),
            Some(l) if l.starts_with("GIT binary patch") || l.starts_with("Binary files ") => {
                self.binary()
            }
            _ => self.files.push(FileDiff {
                old_path: git.old.filter(|_| !git.new_file),
                new_path: git.new.filter(|_| !git.deleted),
                line: git.line,
                hunks: Vec::new(),
            }),
        }
    }

    /// Reads a `---` and `+++` pair and the hunks after it.
    fn read_file(&mut self, git: Option<GitHeader>) {
        let text_after =
            |line: Option<&str>| line.and_then(|l| l.get(4..)).unwrap_or("").to_string();
        let (old, new) = (
            text_after(self.line()),
            text_after(self.lines.get(self.i + 1).copied()),
        );
        let strip = git.is_some() || git_prefixes(&old, &new);
        let mut file = FileDiff {
            old_path: header_path(&old, "a/", strip),
            new_path: header_path(&new, "b/", strip),
            line: self.i + 1,
            hunks: Vec::new(),
        };
        self.i += 2;
        if !self.line().is_some_and(|l| l.starts_with("@@")) {
            self.error(
                file.line,
                format!("the diff of `{}` has no hunk", file.path()),
                "the patch was cut short: take it again from git (`git format-patch -1 COMMIT`)",
            );
        }
        self.read_hunks(&mut file);
        self.files.push(file);
    }

    fn read_hunks(&mut self, file: &mut FileDiff) {
        while let Some(line) = self.line() {
            if !line.starts_with("@@") {
                break;
            }
            let n = self.i + 1;
            self.i += 1;
            let Some((old_start, old_len, new_start, new_len, section)) = hunk_header(line) else {
                self.error(
                    n,
                    "a hunk header kgpc cannot read",
                    "a hunk starts `@@ -OLD,LEN +NEW,LEN @@`",
                );
                continue;
            };
            let mut hunk = Hunk {
                old_start,
                old_len,
                new_start,
                new_len,
                section,
                lines: Vec::new(),
                line: n,
            };
            self.read_hunk_lines(&mut hunk);
            file.hunks.push(hunk);
        }
    }

    /// Reads the lines the hunk's counts promise.
    fn read_hunk_lines(&mut self, hunk: &mut Hunk) {
        let (mut old, mut new) = (hunk.old_len, hunk.new_len);
        while old > 0 || new > 0 {
            let Some(line) = self.line() else { break };
            let (kind, text) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
            let (takes_old, takes_new, entry) = match kind {
                " " | "" => (true, true, HunkLine::Context(text.to_string())),
                "-" => (true, false, HunkLine::Remove(text.to_string())),
                "+" => (false, true, HunkLine::Add(text.to_string())),
                "\\" => {
                    self.error(
                        self.i + 1,
                        "`\\ No newline at end of file`: kgpc patches only files that end with a line end",
                        "add the missing newline to the file in the commit, or drop the change to the file's last line",
                    );
                    self.i += 1;
                    continue;
                }
                _ => break,
            };
            if (takes_old && old == 0) || (takes_new && new == 0) {
                break;
            }
            old -= usize::from(takes_old);
            new -= usize::from(takes_new);
            hunk.lines.push(entry);
            self.i += 1;
        }
        if old > 0 || new > 0 {
            let (had_old, had_new) = (hunk.old_len - old, hunk.new_len - new);
            self.error(
                hunk.line,
                format!(
                    "the hunk's `@@` line counts {} old and {} new lines, but it holds {had_old} and {had_new}",
                    hunk.old_len, hunk.new_len
                ),
                "the patch was edited by hand or cut short: fix the counts (`rediff`, or `git diff` again)",
            );
        }
        if self.line() == Some("\\ No newline at end of file") {
            self.error(
                self.i + 1,
                "`\\ No newline at end of file`: kgpc patches only files that end with a line end",
                "add the missing newline to the file in the commit, or drop the change to the file's last line",
            );
            self.i += 1;
        }
    }
}

/// An error for a file whose path is absolute or climbs with `..`: a fix
/// changes files inside the kernel's source tree only.
fn path_leaving_tree(file: &FileDiff) -> Option<PatchError> {
    let leaves = |path: &str| path.starts_with('/') || path.split('/').any(|part| part == "..");
    let path = [&file.old_path, &file.new_path]
        .into_iter()
        .flatten()
        .find(|p| leaves(p) || p.is_empty())?;
    Some(
        PatchError::new(file.line, format!("the path `{path}` leaves the kernel's source tree"))
            .help("a fix names files relative to the top of the source tree, as git does (`a/fs/proc/cmdline.c`)"),
    )
}

fn empty_file(line: usize) -> FileDiff {
    FileDiff {
        old_path: None,
        new_path: None,
        line,
        hunks: Vec::new(),
    }
}

/// Whether a line starts a file's diff.
fn starts_file(line: &str) -> bool {
    line.starts_with("diff ") || line.starts_with("--- ")
}

/// Whether line `i` is git's signature: `-- ` and a version.
fn is_signature(lines: &[&str], i: usize) -> bool {
    matches!(lines.get(i), Some(&"-- ") | Some(&"--"))
        && lines.get(i + 1).is_none_or(|v| {
            v.trim().starts_with(|c: char| c.is_ascii_digit()) || v.trim().is_empty()
        })
}

/// `@@ -a,b +c,d @@ section`: the numbers (a missing length is 1) and the section.
fn hunk_header(line: &str) -> Option<(usize, usize, usize, usize, String)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, section) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |text: &str| -> Option<(usize, usize)> {
        match text.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old_start, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some((
        old_start,
        old_len,
        new_start,
        new_len,
        section.trim().to_string(),
    ))
}

/// Whether a plain diff names its files as git does, `a/PATH` and `b/PATH`
/// (or `/dev/null`), so that they are read with `-p1` as git's are.
fn git_prefixes(old: &str, new: &str) -> bool {
    let (old, new) = (header_path(old, "", false), header_path(new, "", false));
    let prefixed =
        |path: &Option<String>, prefix: &str| path.as_ref().is_none_or(|p| p.starts_with(prefix));
    (old.is_some() || new.is_some()) && prefixed(&old, "a/") && prefixed(&new, "b/")
}

/// The path of a `---` or `+++` line: `None` for `/dev/null`, without a
/// timestamp after a tab, and without git's `a/` or `b/` when `strip`.
fn header_path(text: &str, prefix: &str, strip: bool) -> Option<String> {
    let path = text.split('\t').next().unwrap_or_default();
    let path = unquote(path.trim_end());
    if path == "/dev/null" {
        return None;
    }
    match path.strip_prefix(prefix) {
        Some(rest) if strip => Some(rest.to_string()),
        _ => Some(path),
    }
}

/// The two paths of a `diff --git a/X b/Y` line, without their prefixes.
fn git_paths(text: &str) -> Option<(String, String)> {
    if text.starts_with('"') {
        let (old, new) = text.split_once("\" ")?;
        let old = unquote(&format!("{old}\""));
        let new = unquote(new);
        return Some((
            old.strip_prefix("a/")?.to_string(),
            new.strip_prefix("b/")?.to_string(),
        ));
    }
    // Without quotes the names are equal unless renamed, which the headers say.
    let half = text.len().checked_sub(1)? / 2;
    let (old, new) = (text.get(..half)?, text.get(half + 1..)?);
    let old = old.strip_prefix("a/")?;
    let new = new.strip_prefix("b/")?;
    Some((old.to_string(), new.to_string()))
}

/// A path as git quotes it (`"a/na\"me"`, with C escapes), unquoted.
fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&o @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(o - b'0');
                            chars.next();
                        }
                        _ => break,
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
#[path = "parse_tests.rs"]
pub(super) mod tests;
