//! How many CPUs a test's guest may have: at least one, at most what QEMU's
//! machine gives and what the target kernel was built for (`CONFIG_NR_CPUS`
//! of the image's config in the kgpc cache).

use crate::fetch::KernelPaths;
use crate::vm::MAX_CPUS;

/// The most CPUs the guest may have, and what sets that bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuLimit {
    pub most: u32,
    pub by: String,
}

/// The bound for the guest of `kernel`.
pub fn limit(kernel: &KernelPaths) -> CpuLimit {
    let config = kernel
        .root()
        .join(format!("boot/config-{}", kernel.release));
    let qemu = CpuLimit {
        most: MAX_CPUS,
        by: "QEMU's default machine (pc)".to_string(),
    };
    let built = crate::read::read_data_text(&config)
        .ok()
        .and_then(|text| nr_cpus(&text));
    match built {
        Some(most) if most < qemu.most => CpuLimit {
            most,
            by: format!("the kernel's CONFIG_NR_CPUS ({})", config.display()),
        },
        _ => qemu,
    }
}

/// `CONFIG_NR_CPUS` of a kernel config.
fn nr_cpus(config: &str) -> Option<u32> {
    config
        .lines()
        .find_map(|line| line.strip_prefix("CONFIG_NR_CPUS="))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_config_bounds_the_cpus_below_qemus_machine() {
        let cache = tempfile::tempdir().unwrap();
        let kernel = KernelPaths::in_cache(cache.path(), "6.1.0-1-cloud-amd64");
        assert_eq!(limit(&kernel).most, MAX_CPUS);
        let boot = kernel.root().join("boot");
        std::fs::create_dir_all(&boot).unwrap();
        let config = boot.join("config-6.1.0-1-cloud-amd64");
        std::fs::write(&config, "CONFIG_SMP=y\nCONFIG_NR_CPUS=8\n").unwrap();
        let bound = limit(&kernel);
        assert_eq!(bound.most, 8);
        assert!(bound.by.contains("CONFIG_NR_CPUS"), "{}", bound.by);
        std::fs::write(&config, "CONFIG_NR_CPUS=8192\n").unwrap();
        assert_eq!(limit(&kernel).most, MAX_CPUS);
    }
}
