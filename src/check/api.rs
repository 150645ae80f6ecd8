//! The livepatch API level of a kernel version.
//!
//! The table of which kernel version brought which feature is the standard
//! module `std/api`, written in the language itself. The compiler reads it on
//! every run; this file only knows the feature names the generator uses.

use super::version::KernelVersion;

/// Features of the upstream livepatch API the generator can use.
pub const FEATURES: &[(&str, &str)] = &[
    (
        "module_elf_relocs",
        "livepatch relocations in the module ELF (.klp.rela.*, .klp.sym.*)",
    ),
    (
        "shadow_variables",
        "klp_shadow_get, klp_shadow_alloc, klp_shadow_free and klp_shadow_free_all",
    ),
    (
        "callbacks",
        "pre/post patch and unpatch callbacks in struct klp_object",
    ),
    (
        "shadow_ctor_dtor",
        "shadow constructors and destructors (klp_shadow_ctor_t, klp_shadow_dtor_t)",
    ),
    (
        "enable_patch",
        "klp_enable_patch() alone from module_init, no klp_register_patch()",
    ),
    (
        "replace",
        "atomic replace of earlier patches (klp_patch.replace)",
    ),
    (
        "states",
        "system states (struct klp_state, klp_patch.states)",
    ),
    (
        "object_patched_sysfs",
        "the <object>/patched sysfs attribute",
    ),
];

/// Features the generated code always needs; a kernel without them is unsupported.
pub const REQUIRED: &[&str] = &["enable_patch", "shadow_ctor_dtor", "callbacks"];

/// The API table and the target version: which features the target has.
#[derive(Debug, Clone)]
pub struct ApiLevel {
    pub version: KernelVersion,
    pub table: Vec<(String, KernelVersion)>,
}

impl ApiLevel {
    /// The version a feature arrived in, if the table knows the feature.
    pub fn since(&self, feature: &str) -> Option<KernelVersion> {
        self.table
            .iter()
            .find(|(f, _)| f == feature)
            .map(|(_, v)| *v)
    }

    pub fn has(&self, feature: &str) -> bool {
        self.since(feature).is_some_and(|v| self.version >= v)
    }

    /// The oldest kernel with every required feature.
    pub fn minimum(&self) -> KernelVersion {
        REQUIRED
            .iter()
            .filter_map(|f| self.since(f))
            .max()
            .unwrap_or(KernelVersion::new(5, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::Item;

    /// The embedded `std/api` is the compiler's only API table: every row must
    /// name a known feature with a valid version, and every feature must have a row.
    #[test]
    fn std_api_names_every_feature_once() {
        let text = crate::std_specs::get("std/api").unwrap();
        let (ast, diagnostics) = crate::syntax::parse(crate::source::FileId(0), text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let rows: Vec<(String, String)> = ast
            .items
            .iter()
            .filter_map(|i| {
                if let Item::Api(a) = i {
                    Some((a.feature.text.clone(), a.since.text.clone()))
                } else {
                    None
                }
            })
            .collect();
        for (feature, since) in &rows {
            assert!(
                FEATURES.iter().any(|(f, _)| f == feature),
                "std/api names unknown feature {feature}"
            );
            assert!(
                KernelVersion::parse(since).is_some(),
                "{feature}: bad version {since}"
            );
        }
        for (feature, _) in FEATURES {
            assert_eq!(
                rows.iter().filter(|(f, _)| f == feature).count(),
                1,
                "{feature} needs exactly one row"
            );
        }
        let level = ApiLevel {
            version: KernelVersion::new(5, 0),
            table: rows
                .iter()
                .map(|(f, v)| (f.clone(), KernelVersion::parse(v).unwrap()))
                .collect(),
        };
        assert_eq!(level.minimum(), KernelVersion::new(5, 1));
        assert!(!level.has("enable_patch"));
        let level = ApiLevel {
            version: KernelVersion::new(5, 4),
            ..level
        };
        assert!(level.has("replace") && !level.has("states"));
    }
}
