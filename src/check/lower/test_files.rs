//! The files a test block puts in the guest's `/test`: files of the spec's
//! tree, and C programs built for the guest.

use super::Lowerer;
use crate::check::model::{GuestFile, GuestProgram, TestPlan};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::Str;
use std::path::Path;

impl Lowerer<'_> {
    /// `file "NAME"`: the file loading found, at `/test/<file name>`.
    pub(super) fn guest_file(&mut self, path: &Str, plan: &mut TestPlan) {
        let source = match self.named.guest_file(path) {
            Some(Ok(real)) => real.clone(),
            Some(Err(unreadable)) => return self.error(unreadable.as_ref().clone()),
            None => return self.not_read(path, "guest file"),
        };
        let Some(name) = self.guest_name(path, plan, None) else {
            return;
        };
        plan.files.push(GuestFile {
            name,
            source,
            span: path.span,
        });
    }

    /// `program "NAME.c"`: the C file loading read, built as `/test/NAME`.
    pub(super) fn guest_program(&mut self, path: &Str, plan: &mut TestPlan) {
        if !path.value.ends_with(".c") {
            return self.error(
                Diagnostic::error(
                    Code::InvalidName,
                    format!("the program `{}` is not a C file", path.value),
                )
                .at(path.span, "named here")
                .with_help(
                    "a program is C source whose name ends in `.c`; copy other files with `file`",
                ),
            );
        }
        let (file, source) = match self.named.program(path) {
            Some(Ok((file, real))) => (*file, real.clone()),
            Some(Err(unreadable)) => return self.error(unreadable.as_ref().clone()),
            None => return self.not_read(path, "program source"),
        };
        let Some(name) = self.guest_name(path, plan, Some(".c")) else {
            return;
        };
        plan.programs.push(GuestProgram {
            name,
            source,
            file,
            span: path.span,
        });
    }

    /// The name in `/test` of the file `path` names, less `suffix`; a name
    /// another file of the test has already is reported.
    fn guest_name(&mut self, path: &Str, plan: &TestPlan, suffix: Option<&str>) -> Option<String> {
        let file_name = Path::new(&path.value)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = suffix
            .and_then(|s| file_name.strip_suffix(s))
            .unwrap_or(&file_name)
            .to_string();
        if name.is_empty() {
            self.error(
                Diagnostic::error(Code::InvalidName, format!("`{}` names no file", path.value))
                    .at(path.span, "named here")
                    .with_help("name a file of the spec's directory tree"),
            );
            return None;
        }
        let taken: Option<Span> = plan
            .files
            .iter()
            .map(|f| (&f.name, f.span))
            .chain(plan.programs.iter().map(|p| (&p.name, p.span)))
            .find(|(other, _)| **other == name)
            .map(|(_, span)| span);
        if let Some(first) = taken {
            self.duplicate(
                format!("two files of the test are `/test/{name}` in the guest"),
                path.span,
                first,
                "rename one of the files",
            );
            return None;
        }
        Some(name)
    }

    /// Reports a file that loading did not look at, which it always does.
    fn not_read(&mut self, path: &Str, noun: &str) {
        self.error(
            Diagnostic::error(
                Code::UnreadableFile,
                format!("{noun} `{}` was not read with the spec", path.value),
            )
            .at(path.span, "named here"),
        );
    }
}
