//! How the kernel names a module.

/// A module name as the kernel sees it: dashes become underscores, so
/// `nfs-common` and `nfs_common` are one module.
pub fn kernel_module_name(name: &str) -> String {
    name.replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_become_underscores() {
        assert_eq!(
            kernel_module_name("livepatch-shadow-fix1"),
            "livepatch_shadow_fix1"
        );
        assert_eq!(kernel_module_name("nfsd"), "nfsd");
    }
}
