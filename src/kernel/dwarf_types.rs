//! Prototypes and variable types read from DWARF, one DIE at a time, for
//! the functions a spec or `kgpc inspect` asks about.

use super::ctype::{declare, Node, Prototype, TypeSource};
use super::dwarf::R;
use super::dwarf_sections::bytes;
use super::error::DeclarationError;
use gimli::{constants, AttributeValue, DebugInfoOffset, Dwarf, Unit, UnitOffset};

/// A child DIE: its tag, name, type and abstract origin.
pub type Child = (constants::DwTag, Option<String>, Option<u64>, Option<u64>);

/// Type lookups inside one compilation unit (GCC keeps a function's types in its unit).
pub struct UnitTypes<'d, 'a> {
    dwarf: &'d Dwarf<R<'a>>,
    unit: Unit<R<'a>>,
    base: u64,
}

impl<'d, 'a> UnitTypes<'d, 'a> {
    pub fn new(dwarf: &'d Dwarf<R<'a>>, unit_offset: u64) -> Result<Self, DeclarationError> {
        let at = usize::try_from(unit_offset).map_err(|_| DeclarationError::BadUnitOffset)?;
        let unreadable = |e| DeclarationError::UnitUnreadable(unit_offset, e);
        let header = dwarf.unit_header(DebugInfoOffset(at)).map_err(unreadable)?;
        let unit = dwarf.unit(header).map_err(unreadable)?;
        Ok(UnitTypes {
            dwarf,
            unit,
            base: unit_offset,
        })
    }

    fn local(&self, global: u64) -> Option<UnitOffset> {
        let off = usize::try_from(global.checked_sub(self.base)?).ok()?;
        Some(UnitOffset(off))
    }

    fn reference(&self, value: Option<AttributeValue<R<'a>>>) -> Option<u64> {
        match value? {
            AttributeValue::UnitRef(o) => Some(self.base + o.0 as u64),
            AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
            _ => None,
        }
    }

    fn entry(&self, global: u64) -> Option<gimli::DebuggingInformationEntry<R<'a>>> {
        self.unit.entry(self.local(global)?).ok()
    }

    fn name_of(&self, entry: &gimli::DebuggingInformationEntry<R<'a>>) -> Option<String> {
        let value = entry.attr_value(constants::DW_AT_name)?;
        let s = self.dwarf.attr_string(&self.unit, value).ok()?;
        Some(String::from_utf8_lossy(bytes(&s)).into_owned())
    }

    /// The children of a DIE with their tags, names and types.
    fn children(&self, global: u64) -> Vec<Child> {
        let mut out = Vec::new();
        let Some(local) = self.local(global) else {
            return out;
        };
        let Ok(mut tree) = self.unit.entries_tree(Some(local)) else {
            return out;
        };
        let Ok(root) = tree.root() else { return out };
        let mut children = root.children();
        while let Ok(Some(child)) = children.next() {
            let e = child.entry();
            out.push((
                e.tag(),
                self.name_of(e),
                self.reference(e.attr_value(constants::DW_AT_type)),
                self.reference(e.attr_value(constants::DW_AT_abstract_origin)),
            ));
        }
        out
    }

    /// The function prototype of the subprogram at `die`, named `name`.
    pub fn prototype(&self, die: u64, name: &str) -> Result<Prototype, DeclarationError> {
        // Follow abstract origins and specifications to the DIE that declares
        // the function; collect the return type and the parameters on the way.
        let mut at = die;
        let mut ret: Option<u64> = None;
        let mut params_at: Option<u64> = None;
        for _ in 0..6 {
            let entry = self
                .entry(at)
                .ok_or(DeclarationError::EntryUnreadable(at))?;
            ret = ret.or(self.reference(entry.attr_value(constants::DW_AT_type)));
            let has_params = self.children(at).iter().any(|(tag, name, ..)| {
                (*tag == constants::DW_TAG_formal_parameter && name.is_some())
                    || *tag == constants::DW_TAG_unspecified_parameters
            });
            if has_params && params_at.is_none() {
                params_at = Some(at);
            }
            match self.reference(
                entry
                    .attr_value(constants::DW_AT_abstract_origin)
                    .or_else(|| entry.attr_value(constants::DW_AT_specification)),
            ) {
                Some(next) if next != at => at = next,
                _ => break,
            }
        }
        let mut params = Vec::new();
        let mut param_types = Vec::new();
        let mut variadic = false;
        if let Some(p) = params_at {
            for (i, (tag, pname, ty, origin)) in self.children(p).into_iter().enumerate() {
                match tag {
                    constants::DW_TAG_formal_parameter => {
                        let (pname, ty) = match (pname, ty, origin) {
                            (n, Some(t), _) => (n, Some(t)),
                            (_, None, Some(o)) => {
                                let e = self.entry(o);
                                (
                                    e.as_ref().and_then(|e| self.name_of(e)),
                                    e.and_then(|e| {
                                        self.reference(e.attr_value(constants::DW_AT_type))
                                    }),
                                )
                            }
                            (n, None, None) => (n, None),
                        };
                        let pname = pname.unwrap_or_else(|| format!("arg{}", i + 1));
                        params.push(declare(self, ty, &pname)?);
                        param_types.push(declare(self, ty, "")?);
                    }
                    constants::DW_TAG_unspecified_parameters => variadic = true,
                    _ => {}
                }
            }
        }
        let return_type = declare(self, ret, "")?;
        if return_type.contains('(') || return_type.contains('[') {
            return Err(DeclarationError::UnsplittableReturn(return_type));
        }
        Ok(Prototype {
            return_type,
            name: name.to_string(),
            params,
            param_types,
            variadic,
        })
    }

    /// The declaration of the variable at `die`, such as `char *saved_command_line`.
    pub fn variable(&self, die: u64, name: &str) -> Result<String, DeclarationError> {
        let mut at = die;
        for _ in 0..4 {
            let entry = self
                .entry(at)
                .ok_or(DeclarationError::EntryUnreadable(at))?;
            if let Some(ty) = self.reference(entry.attr_value(constants::DW_AT_type)) {
                return declare(self, Some(ty), name);
            }
            match self.reference(entry.attr_value(constants::DW_AT_specification)) {
                Some(next) => at = next,
                None => break,
            }
        }
        Err(DeclarationError::NoType)
    }
}

impl TypeSource for UnitTypes<'_, '_> {
    type Id = u64;

    fn node(&self, id: u64) -> Node<u64> {
        let Some(entry) = self.entry(id) else {
            return Node::Unknown(DeclarationError::TypeOutsideUnit(id));
        };
        let target = self.reference(entry.attr_value(constants::DW_AT_type));
        let named = |kw: &str| match self.name_of(&entry) {
            Some(n) if kw.is_empty() => Node::Named(n),
            Some(n) => Node::Named(format!("{kw} {n}")),
            None => Node::Anonymous(match kw {
                "struct" => "struct",
                "union" => "union",
                _ => "enum",
            }),
        };
        match entry.tag() {
            constants::DW_TAG_base_type
            | constants::DW_TAG_typedef
            | constants::DW_TAG_unspecified_type => named(""),
            constants::DW_TAG_structure_type => named("struct"),
            constants::DW_TAG_union_type => named("union"),
            constants::DW_TAG_enumeration_type => named("enum"),
            constants::DW_TAG_pointer_type | constants::DW_TAG_reference_type => {
                Node::Pointer(target)
            }
            constants::DW_TAG_const_type => Node::Const(target),
            constants::DW_TAG_volatile_type => Node::Volatile(target),
            constants::DW_TAG_restrict_type | constants::DW_TAG_atomic_type => {
                Node::Transparent(target)
            }
            constants::DW_TAG_array_type => {
                let mut count = None;
                if let Some(local) = self.local(id) {
                    if let Ok(mut tree) = self.unit.entries_tree(Some(local)) {
                        if let Ok(root) = tree.root() {
                            let mut children = root.children();
                            if let Ok(Some(child)) = children.next() {
                                let e = child.entry();
                                count = e
                                    .attr_value(constants::DW_AT_count)
                                    .and_then(|v| v.udata_value())
                                    .or_else(|| {
                                        e.attr_value(constants::DW_AT_upper_bound)
                                            .and_then(|v| v.udata_value())
                                            .map(|u| u + 1)
                                    });
                            }
                        }
                    }
                }
                Node::Array(target, count)
            }
            constants::DW_TAG_subroutine_type => {
                let mut params = Vec::new();
                let mut variadic = false;
                for (tag, _, ty, _) in self.children(id) {
                    match tag {
                        constants::DW_TAG_formal_parameter => params.push(ty),
                        constants::DW_TAG_unspecified_parameters => variadic = true,
                        _ => {}
                    }
                }
                Node::Function {
                    ret: target,
                    params,
                    variadic,
                }
            }
            other => Node::Unknown(DeclarationError::UnknownTag(other)),
        }
    }
}
