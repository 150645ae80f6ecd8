//! States: the ids and versions a patch declares for the kernel's state API.

use super::Lowerer;
use crate::check::model::State;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{Number, StateBlock, StateEntry};
use std::collections::HashMap;

impl Lowerer<'_> {
    /// A state, unless it lacks its id or version; `ids` holds the ids of the
    /// states before it.
    pub(super) fn state(
        &mut self,
        s: &StateBlock,
        ids: &mut HashMap<u64, (Span, String)>,
    ) -> Option<State> {
        if !self.identifier(&s.name, "a state name") {
            return None;
        }
        self.claim(
            &format!("{}_STATE_ID", s.name.text.to_uppercase()),
            s.name.span,
        );
        let mut id: Option<&Number> = None;
        let mut version: Option<&Number> = None;
        for entry in &s.entries {
            match entry {
                StateEntry::Id(n) => self.keep_first(&mut id, n, "id", |n| n.span),
                StateEntry::Version(n) => {
                    self.keep_first(&mut version, n, "version", |n| n.span);
                }
                StateEntry::Bad(_) => {}
            }
        }
        let Some(id) = id else {
            self.missing(s.name.span, s.span, "state", "id", "id 1");
            return None;
        };
        let Some(version) = version else {
            self.missing(s.name.span, s.span, "state", "version", "version 1");
            return None;
        };
        let (id_value, version_value) = (id.value?, version.value?);
        if id_value == 0 {
            self.error(
                Diagnostic::error(
                    Code::InvalidNumber,
                    "state id 0 ends the kernel's state array",
                )
                .at(id.span, "use an id of 1 or more")
                .with_note("kernel/livepatch/state.c walks klp_patch.states until an entry whose id is 0; shadow variables may use id 0"),
            );
        }
        if version_value > u64::from(u32::MAX) {
            self.error(
                Diagnostic::error(Code::InvalidNumber, "a state version must fit in 32 bits")
                    .at(version.span, "klp_state.version is an unsigned int"),
            );
        }
        if let Some((first, other)) = ids.get(&id_value) {
            self.error(
                Diagnostic::error(
                    Code::DuplicateStateId,
                    format!("states `{}` and `{other}` share id {id_value}", s.name.text),
                )
                .at(id.span, format!("id of `{}`", s.name.text))
                .also(*first, format!("id of `{other}`"))
                .with_help("give each state its own id"),
            );
        } else {
            ids.insert(id_value, (id.span, s.name.text.clone()));
        }
        Some(State {
            name: s.name.text.clone(),
            span: s.name.span,
            id: id_value,
            version: version_value,
        })
    }
}
