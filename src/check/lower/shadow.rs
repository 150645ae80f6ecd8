//! Shadow variables and the templates they are written `like`.

use super::Lowerer;
use crate::check::model::Shadow;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast::{CCode, Number, ShadowBlock, ShadowEntry, TemplateBlock, Word};
use std::collections::HashMap;

/// The properties of a shadow variable, its template's first and its own
/// after them.
#[derive(Default)]
struct ShadowProperties<'e> {
    id: Option<&'e Number>,
    gfp: Option<String>,
    payload: Option<&'e CCode>,
    ctor: Option<&'e CCode>,
    dtor: Option<&'e CCode>,
    keep: bool,
}

/// The C names the generated code defines for each shadow variable, after its name.
const SHADOW_SUFFIXES: &[&str] = &[
    "_get",
    "_alloc",
    "_get_or_alloc",
    "_free",
    "_free_all",
    "_ctor",
    "_dtor",
    "_shadow",
];

impl Lowerer<'_> {
    /// Records a template; a second one of the same name is an error.
    pub(super) fn template<'t>(
        &mut self,
        t: &'t TemplateBlock,
        templates: &mut HashMap<String, &'t TemplateBlock>,
    ) {
        if let Some(first) = templates.get(&t.name.text) {
            let first = first.name.span;
            self.duplicate(
                format!("template `{}` is defined twice", t.name.text),
                t.name.span,
                first,
                "rename one of the templates",
            );
        } else {
            templates.insert(t.name.text.clone(), t);
        }
    }

    /// A shadow variable with its template's properties, unless it lacks one
    /// it needs; `ids` holds the ids of the shadows before it.
    pub(super) fn shadow(
        &mut self,
        s: &ShadowBlock,
        templates: &HashMap<String, &TemplateBlock>,
        ids: &mut HashMap<u64, (Span, String)>,
    ) -> Option<Shadow> {
        if !self.identifier(&s.name, "a shadow variable name") {
            return None;
        }
        for suffix in SHADOW_SUFFIXES {
            self.claim(&format!("{}{suffix}", s.name.text), s.name.span);
        }
        self.claim(
            &format!("{}_SHADOW_ID", s.name.text.to_uppercase()),
            s.name.span,
        );
        let mut entries: Vec<&ShadowEntry> = Vec::new();
        let mut template_name = None;
        if let Some(like) = &s.like {
            match templates.get(&like.text) {
                Some(t) => {
                    entries.extend(t.entries.iter());
                    template_name = Some(like.text.clone());
                }
                None => self.unknown_template(like, templates),
            }
        }
        // Entries of the shadow itself come after the template's and override them.
        let own_start = entries.len();
        entries.extend(s.entries.iter());
        let properties = self.shadow_properties(&entries, own_start);
        let Some(id) = properties.id else {
            self.missing(s.name.span, s.span, "shadow", "id", "id 1");
            return None;
        };
        let Some(payload) = properties.payload else {
            self.missing(
                s.name.span,
                s.span,
                "shadow",
                "payload",
                "payload { spinlock_t lock; }",
            );
            return None;
        };
        let id_value = self.shadow_id(&s.name, id, ids)?;
        Some(Shadow {
            name: s.name.text.clone(),
            id: id_value,
            owner: s
                .owner
                .text
                .replace(" *", "*")
                .replace('*', " *")
                .trim()
                .to_string(),
            gfp: properties.gfp.unwrap_or_else(|| "GFP_KERNEL".to_string()),
            payload: self.fragment(payload),
            ctor: properties.ctor.map(|c| self.fragment(c)),
            dtor: properties.dtor.map(|c| self.fragment(c)),
            free_on_unpatch: !properties.keep,
            template: template_name,
        })
    }

    /// Reports a `like` that names no template, with where it may be found.
    fn unknown_template(&mut self, like: &Word, templates: &HashMap<String, &TemplateBlock>) {
        let names: Vec<&str> = templates.keys().map(String::as_str).collect();
        let mut d = Diagnostic::error(
            Code::UnknownTemplate,
            format!("no template named `{}`", like.text),
        )
        .at(like.span, "unknown template");
        // A template of the standard library that is not imported yet.
        let in_std = crate::std_specs::MODULES
            .iter()
            .find(|(_, text)| {
                text.lines()
                    .any(|l| l.trim() == format!("template {} {{", like.text))
            })
            .map(|(module, _)| *module);
        if let Some(module) = in_std {
            d = d.with_help(format!(
                "`{}` is in `{module}`: add `import {module}`",
                like.text
            ));
        } else if let Some(best) = did_you_mean(&like.text, &names) {
            d = d.with_help(format!("did you mean `{best}`?"));
        } else {
            d = d.with_help("templates come from `template` items, for example `import std/shadow_lock` brings `lock`");
        }
        self.error(d);
    }

    /// Reads the entries in order, a later one overriding an earlier one;
    /// the shadow's own entries, from `own_start` on, may give each property once.
    fn shadow_properties<'e>(
        &mut self,
        entries: &[&'e ShadowEntry],
        own_start: usize,
    ) -> ShadowProperties<'e> {
        let mut properties = ShadowProperties::default();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let own = i >= own_start;
            let (key, span) = match entry {
                ShadowEntry::Id(n) => ("id", n.span),
                ShadowEntry::Gfp(w) => ("gfp", w.span),
                ShadowEntry::Payload(c) => ("payload", c.span),
                ShadowEntry::Ctor(c) => ("ctor", c.span),
                ShadowEntry::Dtor(c) => ("dtor", c.span),
                ShadowEntry::Keep(span) => ("keep", *span),
                ShadowEntry::Bad(_) => continue,
            };
            if own {
                if let Some(first) = seen.get(key) {
                    self.duplicate_property(key, span, *first);
                    continue;
                }
                seen.insert(key, span);
            }
            match entry {
                ShadowEntry::Id(n) => properties.id = Some(n),
                ShadowEntry::Gfp(w) => properties.gfp = Some(w.text.clone()),
                ShadowEntry::Payload(c) => properties.payload = Some(c),
                ShadowEntry::Ctor(c) => properties.ctor = Some(c),
                ShadowEntry::Dtor(c) => properties.dtor = Some(c),
                ShadowEntry::Keep(_) => properties.keep = true,
                ShadowEntry::Bad(_) => {}
            }
        }
        properties
    }

    /// The shadow's id, reported when another shadow variable has it too.
    /// Any id is valid, 0 too: klp_shadow_* only compare ids, and kpatch's
    /// shadow-newpid uses 0 (states may not; see `state.rs`).
    fn shadow_id(
        &mut self,
        name: &Word,
        id: &Number,
        ids: &mut HashMap<u64, (Span, String)>,
    ) -> Option<u64> {
        let id_value = id.value?;
        if let Some((first, other)) = ids.get(&id_value) {
            self.error(
                Diagnostic::error(Code::DuplicateShadowId, format!("shadow variables `{}` and `{other}` share id {id_value}", name.text))
                    .at(id.span, format!("id of `{}`", name.text))
                    .also(*first, format!("id of `{other}`"))
                    .with_note("klp_shadow_get() finds a variable by object and id, so the two would read each other's data")
                    .with_help("give each shadow variable its own id"),
            );
        } else {
            ids.insert(id_value, (id.span, name.text.clone()));
        }
        Some(id_value)
    }
}
