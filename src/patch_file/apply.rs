//! Applying one file's hunks to the original text as GNU patch does: each
//! hunk at its stated line moved by the offset of the hunks before it, then
//! at growing distances from there, then with fuzz 1 and 2 (that many of its
//! first and last context lines ignored). Every hunk that fails is reported.

use super::{FileDiff, Hunk, HunkLine};
use std::collections::HashMap;
use std::ops::Range;

/// The most fuzz tried, as GNU patch's default `--fuzz 2`.
const MAX_FUZZ: usize = 2;
/// The line comparisons one file's search may make before it gives up, so
/// that no input makes the search run for long.
const COMPARISON_BUDGET: u64 = 50_000_000;
/// A line found more often than this in the original is left out of the
/// search for the nearest place (blank lines, lone braces).
const COMMON_LINE: usize = 64;

/// The patched text and where each hunk went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    /// One entry per hunk, in the patch's order.
    pub hunks: Vec<AppliedHunk>,
}

/// Where one hunk applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedHunk {
    /// The original's lines it replaced (1-based, end exclusive; without the
    /// context lines fuzz ignored). Empty where it only adds lines.
    pub old_lines: Range<usize>,
    /// The patched text's lines it wrote there.
    pub new_lines: Range<usize>,
    /// Lines between the place it applied and the place it states.
    pub offset: isize,
    /// How many of its first and last context lines were ignored (0 to 2).
    pub fuzz: usize,
}

/// A hunk that does not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HunkFailure {
    /// Which hunk of the file, counting from 1 as GNU patch does.
    pub hunk: usize,
    /// The 1-based line of its `@@` in the patch file.
    pub line: usize,
    /// Where it was tried, in words.
    pub reason: String,
    /// The original's 1-based line where most of its context and removed
    /// lines match, if any do.
    pub nearest: Option<usize>,
}

/// A line of the original: its text and its line end (`""` on a last line without one).
type Line<'a> = (&'a str, &'a str);

/// Applies `file`'s hunks to `original`, keeping its line ends and a last
/// line without a newline.
pub fn apply(original: &str, file: &FileDiff) -> Result<Applied, Vec<HunkFailure>> {
    let lines: Vec<Line> = original
        .split_inclusive('\n')
        .map(
            |l| match l.strip_suffix("\r\n").or_else(|| l.strip_suffix('\n')) {
                Some(text) => (text, &l[text.len()..]),
                None => (l, ""),
            },
        )
        .collect();
    if file.old_path.is_none() && !lines.is_empty() {
        return Err(vec![HunkFailure {
            hunk: 1,
            line: file.line,
            reason: "the fix creates this file, but the target's source has it already".into(),
            nearest: None,
        }]);
    }
    let eol = lines
        .first()
        .map_or("\n", |(_, end)| if *end == "\r\n" { "\r\n" } else { "\n" });
    let mut search = Search {
        lines: &lines,
        budget: COMPARISON_BUDGET,
        places: None,
    };
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut applied = Vec::new();
    let mut failures = Vec::new();
    let (mut copied, mut offset) = (0usize, 0isize);
    for (n, hunk) in file.hunks.iter().enumerate() {
        let stated = stated_index(hunk);
        let old: Vec<&str> = hunk.old_lines().collect();
        let expected = stated as isize + offset;
        let Some(found) = search.locate(hunk, &old, expected, copied) else {
            failures.push(search.failure(n + 1, hunk, &old, expected));
            continue;
        };
        out.extend_from_slice(&lines[copied..found.at]);
        let new: Vec<&str> = hunk.new_lines().collect();
        let kept_new = &new[found.lead..new.len() - found.trail];
        let new_start = out.len();
        out.extend(kept_new.iter().map(|text| (*text, eol)));
        let matched = old.len() - found.lead - found.trail;
        copied = found.at + matched;
        offset = (found.at - found.lead) as isize - stated as isize;
        applied.push(AppliedHunk {
            old_lines: found.at + 1..found.at + 1 + matched,
            new_lines: new_start + 1..new_start + 1 + kept_new.len(),
            offset,
            fuzz: found.fuzz,
        });
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    out.extend_from_slice(&lines[copied..]);
    Ok(Applied {
        text: join(
            &out,
            eol,
            lines.last().is_some_and(|(_, end)| end.is_empty()),
        ),
        hunks: applied,
    })
}

/// The 0-based index of the original's line a hunk says it starts at; a hunk
/// that only adds lines (`-N,0`) adds them after line N.
fn stated_index(hunk: &Hunk) -> usize {
    if hunk.old_len == 0 {
        hunk.old_start
    } else {
        hunk.old_start.saturating_sub(1)
    }
}

/// The lines joined with their ends; the last has none if the original's had none.
fn join(out: &[(&str, &str)], eol: &str, no_final_newline: bool) -> String {
    let mut text = String::new();
    for (i, (line, end)) in out.iter().enumerate() {
        text.push_str(line);
        let last = i + 1 == out.len();
        match (last && no_final_newline, end.is_empty()) {
            (true, _) => {}
            (false, true) => text.push_str(eol),
            (false, false) => text.push_str(end),
        }
    }
    text
}

/// Where a hunk matched: the index its kept lines start at, the context
/// lines fuzz ignored at its start and end, and the fuzz.
struct Found {
    at: usize,
    lead: usize,
    trail: usize,
    fuzz: usize,
}

/// The search for hunks in one original, with what it may still spend.
struct Search<'a> {
    lines: &'a [Line<'a>],
    budget: u64,
    /// Where each line's text is in the original, made for the first failure.
    places: Option<HashMap<&'a str, Vec<usize>>>,
}

impl<'a> Search<'a> {
    /// The place the hunk applies at: every distance from `expected` with no
    /// fuzz, then with fuzz 1 and 2, never before line `from`.
    fn locate(&mut self, hunk: &Hunk, old: &[&str], expected: isize, from: usize) -> Option<Found> {
        let (lead_context, trail_context) = context_lengths(hunk);
        let mut tried = None;
        for fuzz in 0..=MAX_FUZZ {
            let (lead, trail) = (fuzz.min(lead_context), fuzz.min(trail_context));
            if tried == Some((lead, trail)) {
                continue;
            }
            tried = Some((lead, trail));
            let kept = &old[lead..old.len() - trail];
            let start = expected + lead as isize;
            let Some(last) = self.lines.len().checked_sub(kept.len()) else {
                continue;
            };
            let last = last as isize;
            let from = from as isize;
            let reach = (start - from).max(last - start).max(0);
            for distance in 0..=reach {
                for at in [start + distance, start - distance] {
                    if distance == 0 && at != start || at < from || at > last {
                        continue;
                    }
                    if self.budget == 0 {
                        return None;
                    }
                    if self.matches(at as usize, kept) {
                        return Some(Found {
                            at: at as usize,
                            lead,
                            trail,
                            fuzz,
                        });
                    }
                }
            }
        }
        None
    }

    fn matches(&mut self, at: usize, kept: &[&str]) -> bool {
        for (i, want) in kept.iter().enumerate() {
            self.budget = self.budget.saturating_sub(1);
            if self.lines[at + i].0 != *want {
                return false;
            }
        }
        true
    }

    /// Why the hunk did not apply, and where its lines come closest.
    fn failure(
        &mut self,
        number: usize,
        hunk: &Hunk,
        old: &[&str],
        expected: isize,
    ) -> HunkFailure {
        let line = expected.max(0) + 1;
        let reason = if self.budget == 0 {
            format!(
                "kgpc gave up searching the file for it after {COMPARISON_BUDGET} line comparisons"
            )
        } else {
            format!(
                "its {} context and removed lines match neither at line {line} (where the hunk says, \
                 moved by the hunks before it) nor at any other line of the file, even with fuzz {MAX_FUZZ}",
                old.len()
            )
        };
        HunkFailure {
            hunk: number,
            line: hunk.line,
            reason,
            nearest: self.nearest(old, expected),
        }
    }

    /// The 1-based line where the most of `old` match the original in a
    /// row of the same alignment, the one closest to `expected` on a tie.
    fn nearest(&mut self, old: &[&str], expected: isize) -> Option<usize> {
        let lines = self.lines;
        let places = self.places.get_or_insert_with(|| {
            let mut places: HashMap<&str, Vec<usize>> = HashMap::new();
            for (i, (text, _)) in lines.iter().enumerate() {
                places.entry(text).or_default().push(i);
            }
            places
        });
        let mut votes: HashMap<isize, usize> = HashMap::new();
        for (j, want) in old.iter().enumerate() {
            let Some(at) = places.get(want).filter(|at| at.len() <= COMMON_LINE) else {
                continue;
            };
            for &i in at {
                *votes.entry(i as isize - j as isize).or_default() += 1;
            }
        }
        votes
            .into_iter()
            .max_by_key(|&(start, count)| (count, std::cmp::Reverse((start - expected).abs())))
            .map(|(start, _)| start.max(0) as usize + 1)
    }
}

/// How many context lines open and close the hunk; a hunk of context alone
/// has none to spare.
fn context_lengths(hunk: &Hunk) -> (usize, usize) {
    let is_context = |l: &&HunkLine| matches!(l, HunkLine::Context(_));
    let lead = hunk.lines.iter().take_while(is_context).count();
    if lead == hunk.lines.len() {
        return (0, 0);
    }
    (lead, hunk.lines.iter().rev().take_while(is_context).count())
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
