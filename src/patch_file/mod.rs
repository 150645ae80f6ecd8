//! An upstream fix as a patch file: a `git format-patch` mail or a bare
//! unified diff, read into its mail header and file diffs ([`parse`]),
//! applied to a file of the target's source as GNU patch applies it
//! ([`apply`]), and turned into diagnostics ([`diagnostics`]) and a spec
//! ([`spec_writer`]). Nothing here reads a file: callers hand in the texts.

mod apply;
pub mod diagnostics;
mod diff_lines;
mod kpatch;
pub mod kpatch_read;
mod mail;
mod merge;
mod parse;
pub mod spec_writer;

pub use apply::{apply, Applied, AppliedHunk, HunkFailure};
pub use diff_lines::DiffLines;
pub use kpatch::{Conversion, KpatchKind, KpatchMacro};
pub use merge::merge_same_files;
pub use parse::parse;

/// A parsed patch file: the mail it came in (empty for a bare diff) and the
/// changes it makes, one entry per file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchFile {
    pub header: MailHeader,
    pub files: Vec<FileDiff>,
    /// The `kpatch-macros.h` conventions the added lines use, in patch order.
    pub kpatch: Vec<KpatchMacro>,
}

/// What the mail around a diff says about the fix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailHeader {
    /// The commit of the `From <sha> Mon Sep 17 00:00:00 2001` line.
    pub commit: Option<String>,
    /// The upstream commit a stable backport names (`commit <sha> upstream.`,
    /// `[ Upstream commit <sha> ]`, `(cherry picked from commit <sha>)`).
    pub upstream_commit: Option<String>,
    /// The author as `Name <mail>`, decoded from RFC 2047.
    pub author: Option<String>,
    pub date: Option<String>,
    /// The subject, unfolded, decoded and without its `[PATCH ...]` prefix.
    pub subject: Option<String>,
    /// The message body up to the `---` line, without trailing blank lines.
    pub message: String,
    /// The trailer tags of the message (`Fixes:`, `Link:`, `Signed-off-by:`, ...).
    pub tags: Vec<Tag>,
    /// Every CVE id in the subject and message, once each, in order.
    pub cves: Vec<String>,
}

impl MailHeader {
    /// The values of the tags named `key` (ignoring case), in order.
    pub fn tag_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.tags
            .iter()
            .filter(move |t| t.key.eq_ignore_ascii_case(key))
            .map(|t| t.value.as_str())
    }
}

/// One trailer tag of the message, such as `Fixes: 1234abcd ("...")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The key as written, such as `Reported-by`.
    pub key: String,
    pub value: String,
    /// The 1-based line of the patch file it is on.
    pub line: usize,
}

/// The changes a patch makes to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// The file before the change, `None` for a new file (`/dev/null`). Git's
    /// `a/` prefix is stripped (`-p1`), and so is that of a plain diff whose
    /// paths are all `a/...` and `b/...`; other plain `diff -u` paths are as given.
    pub old_path: Option<String>,
    /// The file after the change, `None` for a deleted file.
    pub new_path: Option<String>,
    /// The 1-based line of its `---` line (of `diff --git` when git wrote no `---`).
    pub line: usize,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    /// The path the change is about: the old file's, else the new file's.
    pub fn path(&self) -> &str {
        self.old_path
            .as_deref()
            .or(self.new_path.as_deref())
            .unwrap_or("")
    }
}

/// One `@@ -a,b +c,d @@` hunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    /// The text after the second `@@`, often the enclosing function.
    pub section: String,
    pub lines: Vec<HunkLine>,
    /// The 1-based line of its `@@` in the patch file.
    pub line: usize,
}

impl Hunk {
    /// The lines the original must have here: context and removed lines.
    pub fn old_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            HunkLine::Context(t) | HunkLine::Remove(t) => Some(t.as_str()),
            HunkLine::Add(_) => None,
        })
    }

    /// The lines the patched file has here: context and added lines.
    pub fn new_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            HunkLine::Context(t) | HunkLine::Add(t) => Some(t.as_str()),
            HunkLine::Remove(_) => None,
        })
    }

    /// The function the hunk is in: as git names it after the second `@@`
    /// (`static int cmdline_proc_show(struct seq_file *m, void *v)`), else
    /// the last definition's first line among its leading context lines.
    pub fn function(&self) -> Option<&str> {
        function_name(&self.section).or_else(|| {
            self.lines
                .iter()
                .map_while(|l| match l {
                    HunkLine::Context(text) => Some(text.as_str()),
                    _ => None,
                })
                .filter(|t| t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
                .filter(|t| !t.trim_end().ends_with(';'))
                .filter_map(function_name)
                .last()
        })
    }
}

/// The name before the first `(` of a line that declares a function.
fn function_name(line: &str) -> Option<&str> {
    let (before, _) = line.split_once('(')?;
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let name = before.trim_end().rsplit(|c: char| !is_word(c)).next()?;
    let valid = !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then_some(name)
}

/// One line of a hunk, without its leading ` `, `-` or `+` and its line end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Remove(String),
    Add(String),
}

/// Why a patch file cannot be read, at a line of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError {
    /// The 1-based line of the patch file the problem is on.
    pub line: usize,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl PatchError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        PatchError {
            line,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hunk_names_the_function_of_its_section() {
        let mut hunk = Hunk {
            old_start: 1,
            old_len: 0,
            new_start: 1,
            new_len: 0,
            section: "static int cmdline_proc_show(struct seq_file *m, void *v)".into(),
            lines: Vec::new(),
            line: 1,
        };
        assert_eq!(hunk.function(), Some("cmdline_proc_show"));
        for section in ["struct file_operations fops = {", "(void)", ""] {
            hunk.section = section.into();
            assert_eq!(hunk.function(), None, "{section}");
        }
        hunk.lines = ["", "static int show(struct seq_file *m)", "{", "\tf(m);"]
            .map(|t| HunkLine::Context(t.into()))
            .into();
        hunk.lines.push(HunkLine::Remove("\tg(m);".into()));
        assert_eq!(hunk.function(), Some("show"));
    }
}
