//! Macros used at file scope that the context of code taken from a source
//! file keeps, and the functions they define.

/// Macros used at file scope that define only types and `static inline`
/// functions, no data: the file's functions need what they define, and a
/// copy of them changes nothing in the kernel (`DECLARE_EWMA(pkt_len, 0,
/// 64)` defines `struct ewma_pkt_len` and its functions). Macros that
/// define data (`DEFINE_MUTEX`, `DEFINE_PER_CPU`) stay out: the patch must
/// use the kernel's.
pub const MACROS_KEPT: &[&str] = &["DECLARE_EWMA"];

/// The functions the kept macros define in a context `text`:
/// `DECLARE_EWMA(pkt_len, ...)` defines `ewma_pkt_len_init`, `_read` and `_add`.
pub fn functions_of_kept_macros(text: &str) -> Vec<String> {
    text.match_indices("DECLARE_EWMA(")
        .filter_map(|(at, m)| {
            let rest = &text[at + m.len()..];
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .flat_map(|name| ["init", "read", "add"].map(|op| format!("ewma_{name}_{op}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_ewma_declaration_names_its_functions() {
        assert_eq!(
            functions_of_kept_macros("DECLARE_EWMA(pkt_len, 0, 64);\n"),
            ["ewma_pkt_len_init", "ewma_pkt_len_read", "ewma_pkt_len_add"]
        );
        assert!(functions_of_kept_macros("int x;").is_empty());
    }
}
