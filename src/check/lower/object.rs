//! Objects (vmlinux or a module) with their replacements, callbacks and
//! externs, and the helpers the replacements call.

use super::fragments::{file_ident, prototype_text, return_type};
use super::Lowerer;
use crate::c::words::join_words;
use crate::check::model::{self, CallbackCode, Extern, Fragment, Function, Object, Target, Unmet};
use crate::check::names::MODULE_NAME_MAX;
use crate::check::positions::file_without_facts;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::module_name::kernel_module_name;
use crate::source::Span;
use crate::syntax::ast::{
    Body, Callback, CallbackKind, ExternDecl, Helper, ObjectBlock, ObjectEntry, ReplaceHead,
    Replacement, Requirement, Str,
};
use std::collections::HashMap;

/// What an object's entries have defined so far, to find what is defined twice.
#[derive(Default)]
struct Defined<'b> {
    /// How many replacements name each function.
    replaced: HashMap<&'b str, usize>,
    /// Each replaced function by name, position and file.
    funcs: HashMap<(String, u64, Option<String>), Span>,
    callbacks: HashMap<CallbackKind, Span>,
    externs: HashMap<String, Span>,
}

impl Lowerer<'_> {
    /// The object a block patches, unless another block patches it already.
    pub(super) fn object(
        &mut self,
        block: &ObjectBlock,
        seen: &mut HashMap<String, Span>,
    ) -> Option<Object> {
        let name = kernel_module_name(&block.name.text);
        if let Some(first) = seen.get(&name) {
            let first = *first;
            self.duplicate(
                format!("object `{name}` is defined twice"),
                block.name.span,
                first,
                "merge the two blocks; module names with `-` and `_` are the same module",
            );
            return None;
        }
        seen.insert(name.clone(), block.name.span);
        let module = (name != "vmlinux").then(|| name.clone());
        if name.len() > MODULE_NAME_MAX {
            self.error(
                Diagnostic::error(
                    Code::NameTooLong,
                    format!("module name `{name}` is longer than {MODULE_NAME_MAX} characters"),
                )
                .at(block.name.span, "no module can have this name"),
            );
        }
        self.claim(&format!("{name}_funcs"), block.name.span);
        let mut object = Object {
            module,
            span: block.name.span,
            ident: name,
            funcs: Vec::new(),
            callbacks: Vec::new(),
            externs: Vec::new(),
            requirements: Vec::new(),
        };
        let mut defined = Defined::default();
        // A function named by several replacements (from different files, or at
        // different positions) gets C names that say which one each is.
        for entry in &block.entries {
            if let ObjectEntry::Replace(r) = entry {
                *defined
                    .replaced
                    .entry(r.head.name().text.as_str())
                    .or_default() += 1;
            }
        }
        for entry in &block.entries {
            match entry {
                ObjectEntry::Replace(r) => self.object_replacement(r, &mut object, &mut defined),
                ObjectEntry::Callback(c) => self.callback(c, &mut object, &mut defined),
                ObjectEntry::Extern(e) => self.extern_declaration(e, &mut object, &mut defined),
                ObjectEntry::Requires(_) | ObjectEntry::Bad(_) => {}
            }
        }
        let requirements: Vec<&Requirement> = block
            .entries
            .iter()
            .filter_map(|entry| match entry {
                ObjectEntry::Requires(r) => Some(r),
                _ => None,
            })
            .collect();
        object.requirements = self.requirements(&requirements, Unmet::LeaveOut);
        object.callbacks.sort_by_key(|c| c.kind);
        Some(object)
    }

    /// Adds a replacement to the object, unless it replaces a function again.
    fn object_replacement(&mut self, r: &Replacement, object: &mut Object, defined: &mut Defined) {
        let old = r.head.name();
        let sympos = r.sympos.as_ref().and_then(|n| n.value).unwrap_or(0);
        let file = r.in_file.as_ref().map(|f| f.value.clone());
        let key = (old.text.clone(), sympos, file);
        if let Some(first) = defined.funcs.get(&key) {
            let first = *first;
            self.duplicate(
                format!(
                    "`{}` of {} is replaced twice",
                    old.text,
                    object.display_name()
                ),
                old.span,
                first, "keep one replacement; if the object has two functions of this name, give each its `in \"FILE\"` or `sympos`");
            return;
        }
        defined.funcs.insert(key, old.span);
        // A function's fix is part of the spec's upstream fix, which says
        // what the patch module replaces once it is applied.
        if matches!(r.body, Body::Fix(_)) {
            return;
        }
        let shared = defined
            .replaced
            .get(old.text.as_str())
            .is_some_and(|n| *n > 1);
        if let Some(f) = self.replacement(r, object, sympos, shared) {
            object.funcs.push(f);
        }
    }

    /// Adds a callback to the object, unless it has one of that kind already.
    fn callback(&mut self, c: &Callback, object: &mut Object, defined: &mut Defined) {
        if let Some(first) = defined.callbacks.get(&c.kind) {
            let first = *first;
            let message = format!(
                "the `{}` callback of {} is defined twice",
                c.kind.keyword(),
                object.display_name()
            );
            self.duplicate(
                message,
                c.keyword,
                first,
                "merge the two bodies into one callback",
            );
            return;
        }
        defined.callbacks.insert(c.kind, c.keyword);
        self.claim(&format!("{}_{}", object.ident, c.kind.keyword()), c.keyword);
        let body = self.fragment(&c.body);
        object.callbacks.push(CallbackCode {
            kind: c.kind.into(),
            body,
        });
    }

    /// Adds an `extern` declaration to the object, unless it declares a symbol again.
    fn extern_declaration(&mut self, e: &ExternDecl, object: &mut Object, defined: &mut Defined) {
        let name = e.name();
        if !self.identifier(name, "a symbol name") {
            return;
        }
        if let Some(first) = defined.externs.get(&name.text) {
            let first = *first;
            self.duplicate(
                format!("`{}` is declared twice", name.text),
                name.span,
                first,
                "keep one declaration",
            );
            return;
        }
        defined.externs.insert(name.text.clone(), name.span);
        let mut declaration = join_words(&e.words);
        if let Some(suffix) = &e.suffix {
            declaration.push_str(&suffix.text);
        }
        let origin = self.fragment_at(e.span, &declaration);
        object.externs.push(Extern {
            name: name.text.clone(),
            span: name.span,
            sympos_span: e.sympos.as_ref().map(|n| n.span),
            declaration,
            sympos: e.sympos.as_ref().and_then(|n| n.value).unwrap_or(0),
            origin,
            derived: false,
        });
    }

    /// A replacement's new function and how it replaces the old one. `shared`
    /// says that another replacement of the object names the same function.
    fn replacement(
        &mut self,
        r: &Replacement,
        object: &Object,
        sympos: u64,
        shared: bool,
    ) -> Option<model::Replacement> {
        let old = r.head.name();
        if !self.identifier(old, "a function name") {
            return None;
        }
        // The new function is `livepatch_<name>`, followed by its file or position
        // when the object replaces several functions of that name, with the
        // object's name added when another object already replaces one.
        let mut c_name = format!("livepatch_{}", old.text);
        if shared {
            if let Some(file) = &r.in_file {
                c_name = format!("{c_name}_{}", file_ident(&file.value));
            } else if sympos > 0 {
                c_name = format!("{c_name}_sympos_{sympos}");
            }
        }
        let generated = ["livepatch_init", "livepatch_exit", "livepatch_post_unpatch"];
        if self.names.contains_key(&c_name) || generated.contains(&c_name.as_str()) {
            c_name = c_name.replacen("livepatch_", &format!("livepatch_{}_", object.ident), 1);
        }
        let prototype = match &r.head {
            ReplaceHead::Prototype(p) => Some(p),
            ReplaceHead::Name(_) if self.prototypes_from_kernel => None,
            ReplaceHead::Name(w) => {
                self.error(
                    Diagnostic::error(Code::MissingPrototype, format!("the replacement of `{}` has no prototype", w.text))
                        .at(w.span, "give the function's C prototype here")
                        .with_note("without the target's debug vmlinux, kgpc cannot read the signature from the kernel")
                        .with_help(format!(
                            "write the prototype as in the kernel source: `replace RETURN-TYPE {}(PARAMETERS) {{`",
                            w.text
                        )),
                );
                return None;
            }
        };
        self.claim(&c_name, old.span);
        let body = match &r.body {
            Body::Inline(code) => self.fragment(code),
            Body::File(path) => self.body_file(path)?,
            Body::Fix(_) => return None,
        };
        let origin = match prototype {
            Some(p) => self.fragment_at(p.span, &prototype_text(p)),
            None => self.fragment_at(old.span, &old.text),
        };
        Some(model::Replacement {
            old_name: old.text.clone(),
            span: old.span,
            sympos,
            sympos_span: r.sympos.as_ref().map(|n| n.span),
            allow_inlined: r.allow_inlined.iter().map(|s| s.value.clone()).collect(),
            prototype_given: prototype.is_some(),
            source_file: r.in_file.as_ref().map(|s| s.value.clone()),
            file_span: r.in_file.as_ref().map(|s| s.span),
            position_checked: false,
            function: Function {
                c_name,
                return_type: prototype
                    .map(|p| return_type(p.return_words()))
                    .unwrap_or_default(),
                params: prototype.map(|p| p.params.text.clone()).unwrap_or_default(),
                origin,
                body,
                from_source: None,
            },
        })
    }

    /// The body file a replacement names, as loading read it, with its
    /// braces checked as a block's are.
    fn body_file(&mut self, path: &Str) -> Option<Fragment> {
        let file = match self.named.body(path) {
            Some(Ok(file)) => *file,
            Some(Err(unreadable)) => {
                self.error(unreadable.as_ref().clone());
                return None;
            }
            None => {
                // Loading reads the body of every replacement of the spec's objects.
                self.error(
                    Diagnostic::error(
                        Code::UnreadableFile,
                        format!("body file `{}` was not read with the spec", path.value),
                    )
                    .at(path.span, "named here"),
                );
                return None;
            }
        };
        self.bodies_read.push(file);
        let text = self.sources.text(file).to_string();
        let span = Span::new(file, 0, text.len());
        self.check_braces(&text, span);
        Some(Fragment {
            text,
            file: self.sources.name(file).to_string(),
            line: 1,
            span,
        })
    }

    /// A helper function the replacements call.
    pub(super) fn helper(&mut self, h: &Helper) -> Option<Function> {
        let name = h.prototype.name();
        if !self.identifier(name, "a function name") {
            return None;
        }
        self.claim(&name.text, name.span);
        let origin = self.fragment_at(h.prototype.span, &prototype_text(&h.prototype));
        Some(Function {
            c_name: name.text.clone(),
            return_type: return_type(h.prototype.return_words()),
            params: h.prototype.params.text.clone(),
            origin,
            body: self.fragment(&h.body),
            from_source: None,
        })
    }

    /// Reports each `in "FILE"` that only kernel facts could resolve, when
    /// this run has none.
    pub(super) fn files_without_facts(&mut self, objects: &[Object], target: &Target) {
        let why = format!(
            "no debug vmlinux of {} was found, or --no-kernel-checks was given",
            target.release
        );
        for object in objects {
            for func in &object.funcs {
                if let Some(d) =
                    file_without_facts(func, object.display_name(), &target.release, &why)
                {
                    self.error(d);
                }
            }
        }
    }
}
