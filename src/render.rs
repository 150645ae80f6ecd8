//! Rendering diagnostics for people (rustc style, through codespan-reporting,
//! with the summary line after them) and for machines (one JSON object per
//! line).

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;
use std::io::IsTerminal;

/// Writes diagnostics as rustc-style text to standard error, in colour on a
/// terminal unless `NO_COLOR` is set, then the summary line.
pub fn human_to_stderr(sources: &SourceMap, diagnostics: &[&Diagnostic], what: &str) {
    let color = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let mut stderr = StandardStream::stderr(color);
    let _ = human(sources, diagnostics, &mut stderr);
    if let Some(line) = summary_line(diagnostics, what) {
        crate::errln!("{line}");
    }
}

/// The line after the diagnostics, such as "error: could not check the spec
/// due to 2 errors; 1 warning emitted", where `what` is "check the spec"; none
/// without errors or warnings.
pub fn summary_line(diagnostics: &[&Diagnostic], what: &str) -> Option<String> {
    let count = |severity| {
        diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if errors > 0 {
        let also = if warnings > 0 {
            format!("; {} emitted", plural(warnings, "warning"))
        } else {
            String::new()
        };
        Some(format!(
            "error: could not {what} due to {}{also}",
            plural(errors, "error")
        ))
    } else if warnings > 0 {
        Some(format!("warning: {} emitted", plural(warnings, "warning")))
    } else {
        None
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Writes diagnostics as rustc-style text.
pub fn human(
    sources: &SourceMap,
    diagnostics: &[&Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
            Severity::Note => cs::Severity::Note,
        };
        let mut labels = Vec::new();
        if let Some(p) = &d.primary {
            labels.push(cs::Label::primary(p.span.file.0, p.span.range()).with_message(&p.message));
        }
        for s in &d.secondary {
            labels
                .push(cs::Label::secondary(s.span.file.0, s.span.range()).with_message(&s.message));
        }
        let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
        if let Some(h) = &d.help {
            notes.push(format!("help: {h}"));
        }
        let diagnostic = cs::Diagnostic::new(severity)
            .with_code(d.code.as_str())
            .with_message(&d.message)
            .with_labels(labels)
            .with_notes(notes);
        term::emit(out, &config, sources.files(), &diagnostic)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonSpan<'a> {
    file: &'a str,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    column_start: usize,
    line_end: usize,
    column_end: usize,
    label: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    spans: Vec<JsonSpan<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
}

/// One diagnostic as a single line of JSON.
pub fn json(sources: &SourceMap, d: &Diagnostic) -> String {
    let mut spans = Vec::new();
    if let Some(p) = &d.primary {
        spans.push(json_span(sources, p, true));
    }
    for s in &d.secondary {
        spans.push(json_span(sources, s, false));
    }
    let value = JsonDiagnostic {
        code: d.code.as_str(),
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        },
        message: &d.message,
        spans,
        notes: &d.notes,
        help: d.help.as_deref(),
    };
    serde_json::to_string(&value).unwrap_or_default()
}

fn json_span<'a>(
    sources: &'a SourceMap,
    label: &'a crate::diagnostic::Label,
    primary: bool,
) -> JsonSpan<'a> {
    let (line_start, column_start) = sources.line_col(label.span.file, label.span.start);
    let (line_end, column_end) = sources.line_col(label.span.file, label.span.end);
    JsonSpan {
        file: sources.name(label.span.file),
        byte_start: label.span.start,
        byte_end: label.span.end,
        line_start,
        column_start,
        line_end,
        column_end,
        label: &label.message,
        primary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;

    #[test]
    fn the_summary_line_counts_errors_and_warnings() {
        let error = Diagnostic::error(Code::UnreadableFile, "x");
        let warning = Diagnostic::warning(Code::CensusUnavailable, "y");
        assert_eq!(summary_line(&[], "check the spec"), None);
        assert_eq!(
            summary_line(&[&warning], "check the spec").as_deref(),
            Some("warning: 1 warning emitted")
        );
        assert_eq!(
            summary_line(&[&error, &error, &warning], "check the spec").as_deref(),
            Some("error: could not check the spec due to 2 errors; 1 warning emitted")
        );
    }
}
