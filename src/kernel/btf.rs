//! BTF, the fallback for prototypes when a file has no DWARF (a vmlinux
//! extracted from a vmlinuz, or a module built without debug info).
//!
//! A module's `.BTF` is split BTF: its type ids go on after the last id of
//! vmlinux's BTF, its string offsets after the end of vmlinux's strings, and
//! its types refer to vmlinux's freely. [`Btf::parse_split`] reads it against
//! that base.

use super::ctype::{declare, Node, Prototype, TypeSource};
use super::error::{BtfError, DeclarationError};

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

#[derive(Clone, Copy)]
struct Type {
    name: u32,
    kind: u32,
    vlen: u32,
    kind_flag: bool,
    size_or_type: u32,
    /// Where the kind-specific data starts, in `types`.
    extra: usize,
}

/// A parsed `.BTF` section.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Type id `i` is `list[i - 1]`, or `list[i - 1 - base's count]` in split BTF.
    list: Vec<Type>,
    /// The BTF this one is split from: vmlinux's, for a module.
    base: Option<Box<Btf<'a>>>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        let bad = || BtfError::Truncated;
        if data.len() < 24 || data[0..2] != [0x9f, 0xeb] {
            return Err(BtfError::NoHeader);
        }
        let hdr_len = u32_at(data, 4).ok_or_else(bad)? as usize;
        let type_off = u32_at(data, 8).ok_or_else(bad)? as usize;
        let type_len = u32_at(data, 12).ok_or_else(bad)? as usize;
        let str_off = u32_at(data, 16).ok_or_else(bad)? as usize;
        let str_len = u32_at(data, 20).ok_or_else(bad)? as usize;
        let types = data
            .get(hdr_len + type_off..hdr_len + type_off + type_len)
            .ok_or_else(bad)?;
        let strings = data
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or_else(bad)?;
        let mut list = Vec::new();
        let mut at = 0;
        while at < types.len() {
            let name = u32_at(types, at).ok_or_else(bad)?;
            let info = u32_at(types, at + 4).ok_or_else(bad)?;
            let size_or_type = u32_at(types, at + 8).ok_or_else(bad)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = info & 0xffff;
            let extra = at + 12;
            let extra_len = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen as usize,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen as usize,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                other => return Err(BtfError::UnknownKind(other)),
            };
            list.push(Type {
                name,
                kind,
                vlen,
                kind_flag: info >> 31 == 1,
                size_or_type,
                extra,
            });
            at = extra + extra_len;
        }
        Ok(Btf {
            types,
            strings,
            list,
            base: None,
        })
    }

    /// Parses a module's split BTF against `base`, vmlinux's BTF.
    pub fn parse_split(data: &'a [u8], base: Btf<'a>) -> Result<Btf<'a>, BtfError> {
        let mut btf = Btf::parse(data)?;
        btf.base = Some(Box::new(base));
        Ok(btf)
    }

    fn string(&self, at: u32) -> &'a str {
        let (strings, at) = match &self.base {
            Some(base) if (at as usize) < base.strings.len() => return base.string(at),
            Some(base) => (self.strings, at as usize - base.strings.len()),
            None => (self.strings, at as usize),
        };
        let rest = strings.get(at..).unwrap_or(&[]);
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// How many type ids this BTF and its base hold.
    fn count(&self) -> u32 {
        self.base.as_ref().map_or(0, |b| b.count()) + self.list.len() as u32
    }

    /// The type with this id and the bytes its kind-specific data is in.
    fn get(&self, id: u32) -> Option<(Type, &'a [u8])> {
        let first = self.base.as_ref().map_or(0, |b| b.count());
        if id <= first {
            return self.base.as_ref()?.get(id);
        }
        let t = self.list.get((id - first - 1) as usize)?;
        Some((*t, self.types))
    }

    /// The prototype of the function `name`, if BTF describes it.
    pub fn prototype(&self, name: &str) -> Option<Result<Prototype, DeclarationError>> {
        let func = self
            .list
            .iter()
            .find(|t| t.kind == KIND_FUNC && self.string(t.name) == name)?;
        let (proto, data) = self
            .get(func.size_or_type)
            .filter(|(t, _)| t.kind == KIND_FUNC_PROTO)?;
        Some(self.render(proto, data, name))
    }

    fn render(&self, proto: Type, data: &[u8], name: &str) -> Result<Prototype, DeclarationError> {
        let mut params = Vec::new();
        let mut param_types = Vec::new();
        let mut variadic = false;
        for i in 0..proto.vlen as usize {
            let at = proto.extra + i * 8;
            let pname = u32_at(data, at).unwrap_or(0);
            let ty = u32_at(data, at + 4).unwrap_or(0);
            if ty == 0 && pname == 0 {
                variadic = true;
                continue;
            }
            let pname = match self.string(pname) {
                "" => format!("arg{}", i + 1),
                n => n.to_string(),
            };
            let ty = (ty != 0).then_some(ty);
            params.push(declare(self, ty, &pname)?);
            param_types.push(declare(self, ty, "")?);
        }
        let ret = (proto.size_or_type != 0).then_some(proto.size_or_type);
        Ok(Prototype {
            return_type: declare(self, ret, "")?,
            name: name.to_string(),
            params,
            param_types,
            variadic,
        })
    }
}

impl TypeSource for Btf<'_> {
    type Id = u32;

    fn node(&self, id: u32) -> Node<u32> {
        let Some((t, data)) = self.get(id) else {
            return Node::Unknown(DeclarationError::NoBtfType(id));
        };
        let target = (t.size_or_type != 0).then_some(t.size_or_type);
        let name = self.string(t.name);
        let named = |kw: &'static str| {
            if name.is_empty() {
                Node::Anonymous(kw)
            } else {
                Node::Named(format!("{kw} {name}"))
            }
        };
        match t.kind {
            KIND_INT | KIND_FLOAT | KIND_TYPEDEF => Node::Named(name.to_string()),
            KIND_STRUCT => named("struct"),
            KIND_UNION => named("union"),
            KIND_ENUM | KIND_ENUM64 => named("enum"),
            KIND_FWD => named(if t.kind_flag { "union" } else { "struct" }),
            KIND_PTR => Node::Pointer(target),
            KIND_CONST => Node::Const(target),
            KIND_VOLATILE => Node::Volatile(target),
            KIND_RESTRICT | KIND_TYPE_TAG => Node::Transparent(target),
            KIND_ARRAY => {
                let elem = u32_at(data, t.extra).unwrap_or(0);
                let n = u32_at(data, t.extra + 8).unwrap_or(0);
                Node::Array((elem != 0).then_some(elem), Some(u64::from(n)))
            }
            KIND_FUNC_PROTO => {
                let mut params = Vec::new();
                let mut variadic = false;
                for i in 0..t.vlen as usize {
                    let ty = u32_at(data, t.extra + i * 8 + 4).unwrap_or(0);
                    if ty == 0 {
                        variadic = true;
                    } else {
                        params.push(Some(ty));
                    }
                }
                Node::Function {
                    ret: target,
                    params,
                    variadic,
                }
            }
            other => Node::Unknown(DeclarationError::NotABtfType { id, kind: other }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_headers() {
        assert!(Btf::parse(b"short").is_err());
        assert!(Btf::parse(&[0u8; 32]).is_err());
        let mut header = vec![0x9f, 0xeb, 1, 0];
        header.extend_from_slice(&24u32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&1000u32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        assert!(Btf::parse(&header).is_err(), "types past the end");
    }

    /// A BTF blob of `types` (u32 words) and `strings`.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = (types.len() * 4) as u32;
        let mut b = vec![0x9f, 0xeb, 1, 0];
        for v in [24, 0, type_len, type_len, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for t in types {
            b.extend_from_slice(&t.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    #[test]
    fn split_btf_continues_the_base_ids_and_strings() {
        // Base: type 1 is `int`; its strings are "\0int\0".
        let base = blob(&[1, KIND_INT << 24, 4, 32], b"\0int\0");
        // Split: type 2 is `int (int x)`, type 3 the function `f`; its strings
        // "\0f\0x\0" start at offset 5, after the base's.
        let split = blob(
            &[
                0,
                (KIND_FUNC_PROTO << 24) | 1,
                1,
                8,
                1,
                6,
                KIND_FUNC << 24,
                2,
            ],
            b"\0f\0x\0",
        );
        let base_btf = Btf::parse(&base).unwrap();
        let btf = Btf::parse_split(&split, base_btf).unwrap();
        let proto = btf.prototype("f").unwrap().unwrap();
        assert_eq!(proto.declaration(), "int f(int x)");
        // Read alone, the split BTF's references to the base do not resolve.
        let alone = Btf::parse(&split).unwrap();
        assert!(!matches!(alone.prototype("f"), Some(Ok(_))));
    }
}
