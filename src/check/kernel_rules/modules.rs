//! Rule 9: a module's object, found and opened, or what the run says when it
//! cannot be had.

use super::objects::{self, damaged};
use super::Run;
use crate::check::body_symbols;
use crate::check::model::Object;
use crate::check::positions::file_without_facts;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::{locate, Kernel};
use std::path::PathBuf;

impl Run<'_> {
    /// Checks a module's object against its own object file and vmlinux.
    pub(super) fn module(&mut self, object: &mut Object) {
        let name = object.display_name().to_string();
        let found = locate::module_object(
            &name,
            &self.release,
            self.inputs.modules.as_deref(),
            &self.inputs.cache_dir,
        );
        let path = match found {
            Ok(found) => {
                if let Some(note) = found.note {
                    self.without_debug_info(object, &name, note);
                }
                found.path
            }
            Err(dirs) => {
                self.module_not_found(object, &name, &dirs);
                return;
            }
        };
        let options = objects::options(self.inputs, &name, Some(self.inputs.vmlinux.clone()));
        match Kernel::open(&path, &options) {
            Ok(module) => {
                for warning in damaged(&module) {
                    self.diagnostics
                        .push(warning.at(object.span, "this module"));
                }
                let vmlinux = self.vmlinux;
                self.check_against(object, &name, &[&module, vmlinux]);
            }
            Err(e) => {
                self.coverage
                    .unchecked(&name, format!("cannot read {}", path.display()));
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::KernelUnreadable,
                        format!("cannot read the object of module `{name}`"),
                    )
                    .at(object.span, "this module")
                    .with_note(e.to_string()),
                );
            }
        }
    }

    /// The note that a module is checked from its stripped object (KGP0116).
    fn without_debug_info(&mut self, object: &Object, name: &str, note: String) {
        self.diagnostics.push(
            Diagnostic::note(
                Code::ModuleWithoutDebugInfo,
                format!("module `{name}` was checked without its debug information"),
            )
            .at(object.span, "this module")
            .with_note(note)
            .with_help("prototypes come from its BTF and source files are not known; pass its debug object's directory with --modules DIR for all the checks"),
        );
    }

    /// A module with no object in `dirs`: its `in "FILE"`s are errors, it is a
    /// warning (an error when a prototype must come from it), and only its
    /// bodies' symbols are checked, against vmlinux.
    fn module_not_found(&mut self, object: &Object, name: &str, dirs: &[PathBuf]) {
        let mut d = Diagnostic::warning(
            Code::ModuleNotFound,
            format!("no object of module `{name}` found; its functions were not checked against the kernel"),
        )
        .at(object.span, "this module")
        .with_note(format!("looked for {name}.ko in {}", show_dirs(dirs)));
        if self.inputs.modules.is_none() {
            d = d.with_help("pass the directory holding the module's .ko with --modules DIR");
        }
        let why = format!("no object of module `{name}` was found");
        for func in &object.funcs {
            if let Some(d) = file_without_facts(func, name, &self.release, &why) {
                self.diagnostics.push(d);
            }
        }
        if object.funcs.iter().any(|f| !f.prototype_given) {
            d = Diagnostic::error(Code::MissingPrototype, d.message.clone())
                .at(object.span, "this module")
                .with_note(format!("looked for {name}.ko in {}", show_dirs(dirs)))
                .with_help("give the prototypes of its replacements, or pass the module's directory with --modules DIR");
        }
        self.diagnostics.push(d);
        self.coverage.unchecked(
            name,
            format!("no object of module `{name}` found in {}", show_dirs(dirs)),
        );
        body_symbols::check_object(object, &self.names, &[self.vmlinux], self.diagnostics);
    }
}

fn show_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
