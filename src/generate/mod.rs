//! Generation: from a checked [`Model`] to the files of a livepatch module.
//!
//! The files are rendered by handlebars templates kept in `templates/` and
//! embedded in the binary. Rendering is strict (a missing field is an error,
//! never an empty string) and never HTML-escapes: every value is escaped for
//! C here, in [`view`], before it reaches a template.

mod c_text;
mod view;

pub use c_text::{c_comment, c_string, reindent};

use crate::check::Model;
use handlebars::Handlebars;

/// One generated file: its name in the output directory and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub name: String,
    pub contents: String,
}

/// What the generator needs besides the model.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// How `#line` directives and headers name each source file, by the name
    /// the source map gives it. Files not listed keep their name.
    pub path_names: Vec<(String, String)>,
}

/// Renders the module's C source, Kbuild and Makefile.
pub fn generate(model: &Model, options: &GenerateOptions) -> Vec<GeneratedFile> {
    let registry = registry();
    let c_name = format!("{}.c", model.patch.module_name);
    let context = view::build(model, options, &c_name);
    let render = |name: &str| {
        let mut text = registry
            .render(name, &context)
            .unwrap_or_else(|e| panic!("template {name} failed: {e}"));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    };
    let c_source = view::restore_line_directives(&render("livepatch.c"), &c_name);
    let headers = patched_headers(model)
        .into_iter()
        .map(|(name, contents)| GeneratedFile { name, contents });
    let mut files = vec![
        GeneratedFile {
            name: c_name,
            contents: c_source,
        },
        GeneratedFile {
            name: "Kbuild".into(),
            contents: render("Kbuild"),
        },
        GeneratedFile {
            name: "Makefile".into(),
            contents: render("Makefile"),
        },
    ];
    files.extend(headers);
    files
}

/// The headers of the kernel's include directories that the model's fix
/// changes, each with the flat name it has in the module's directory
/// (`include/linux/virtio_net.h` is `patched-include-linux-virtio_net.h`).
/// The C file includes each before anything else, so that its include
/// guard keeps the target's own copy out.
pub fn patched_headers(model: &Model) -> Vec<(String, String)> {
    let Some(fix) = &model.fix else {
        return Vec::new();
    };
    fix.files
        .iter()
        .filter(|f| crate::source_tree::header_overlay::include_root(&f.path).is_some())
        .filter(|f| f.original != f.patched_text)
        .map(|f| {
            (
                format!("patched-{}", f.path.replace('/', "-")),
                f.patched_text.clone(),
            )
        })
        .collect()
}

fn registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    for (name, text) in [
        ("livepatch.c", include_str!("templates/livepatch.c.hbs")),
        ("Kbuild", include_str!("templates/Kbuild.hbs")),
        ("Makefile", include_str!("templates/Makefile.hbs")),
    ] {
        registry
            .register_template_string(name, text)
            .unwrap_or_else(|e| panic!("template {name} is invalid: {e}"));
    }
    registry
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_compile() {
        super::registry();
    }
}
