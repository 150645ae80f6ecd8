//! The ftrace call-site table: where livepatch can hook a function.
//!
//! An object file has a `__mcount_loc` section (x86 with `-mrecord-mcount`)
//! or `__patchable_function_entries` (arm64 and others with
//! `-fpatchable-function-entry`). A linked vmlinux keeps the table between the
//! symbols `__start_mcount_loc` and `__stop_mcount_loc`, with no section of
//! its own.

use super::elf::{le_u64s, ElfFacts};

/// The sorted addresses of every ftrace call site, and where they came from.
pub struct CallSites {
    pub addrs: Vec<u64>,
    /// Where the table was found, for notes: `__mcount_loc`, a symbol range, or none.
    pub source: Option<String>,
}

impl CallSites {
    pub fn read<'a>(facts: &ElfFacts<'a>, file: &object::File<'a>) -> CallSites {
        let mut addrs = Vec::new();
        let mut sources = Vec::new();
        if let (Some(start), Some(stop)) = (
            facts.symbol("__start_mcount_loc"),
            facts.symbol("__stop_mcount_loc"),
        ) {
            if stop.addr > start.addr {
                if let Some(bytes) = facts
                    .layout
                    .bytes_at(file, start.addr, stop.addr - start.addr)
                {
                    addrs.extend(le_u64s(bytes));
                    sources.push("__start_mcount_loc..__stop_mcount_loc".to_string());
                }
            }
        }
        for name in ["__mcount_loc", "__patchable_function_entries"] {
            if let Some(table) = facts.layout.address_table(file, name) {
                addrs.extend(table);
                sources.push(name.to_string());
            }
        }
        addrs.retain(|a| *a != 0);
        addrs.sort_unstable();
        addrs.dedup();
        CallSites {
            addrs,
            source: (!sources.is_empty()).then(|| sources.join(", ")),
        }
    }

    /// Whether a call site lies in `addr..addr + size` (the first bytes at least).
    pub fn covers(&self, addr: u64, size: u64) -> bool {
        let end = addr.saturating_add(size.max(1));
        let i = self.addrs.partition_point(|a| *a < addr);
        self.addrs.get(i).is_some_and(|a| *a < end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_ranges() {
        let sites = CallSites {
            addrs: vec![0x100, 0x204],
            source: None,
        };
        assert!(sites.covers(0x100, 0x10));
        assert!(sites.covers(0x200, 0x10));
        assert!(!sites.covers(0x110, 0x10));
        assert!(!sites.covers(0x300, 0));
    }
}
