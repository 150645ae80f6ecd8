//! Rendering diagnostics for people (rustc style, through codespan-reporting)
//! and for machines (one JSON object per line).

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;

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
