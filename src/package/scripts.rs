//! The package's maintainer scripts and its boot-time unit, as shell a
//! kernel maintainer would write: `set -e`, every argument dpkg passes
//! handled, nothing done for a kernel that is not installed.

use super::Package;

/// How long prerm waits for the kernel to finish disabling the patch.
pub const TRANSITION_SECONDS: u32 = 60;

/// The releases as one shell word list.
fn releases(package: &Package) -> String {
    package
        .builds
        .iter()
        .map(|b| b.release.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The name of the systemd unit that loads the patch at boot.
pub fn unit_name(package: &Package) -> String {
    format!("{}.service", package.name)
}

/// `postinst`: depmod for each packaged kernel that is installed, the
/// boot-time unit enabled, and the patch loaded into the running kernel
/// when the package has its module.
pub fn postinst(package: &Package) -> String {
    format!(
        r#"#!/bin/sh
# postinst of {name}, written by kgpc: the module of each packaged kernel
# that is installed is made known to modprobe, and the patch is loaded into
# the running kernel if the package has a module for it.
set -e

releases="{releases}"

case "$1" in
configure|abort-upgrade|abort-remove|abort-deconfigure)
	for release in $releases; do
		if [ -e "/lib/modules/$release/modules.order" ]; then
			depmod -a "$release"
		fi
	done
	# As debhelper enables a unit: only a new install or an enabled unit.
	deb-systemd-helper unmask '{unit}' >/dev/null 2>&1 || true
	if deb-systemd-helper --quiet was-enabled '{unit}' 2>/dev/null; then
		deb-systemd-helper enable '{unit}' >/dev/null || true
	else
		deb-systemd-helper update-state '{unit}' >/dev/null 2>&1 || true
	fi
	running="$(uname -r)"
	for release in $releases; do
		if [ "$release" = "$running" ] && [ ! -d /sys/module/{kernel_name} ]; then
			modprobe {module}
		fi
	done
	;;
triggered|abort-*)
	;;
*)
	echo "postinst called with unknown argument \`$1'" >&2
	exit 1
	;;
esac

exit 0
"#,
        name = package.name,
        releases = releases(package),
        unit = unit_name(package),
        kernel_name = package.kernel_name,
        module = package.module_name,
    )
}

/// `prerm`: the patch disabled, its transition awaited for at most
/// [`TRANSITION_SECONDS`], and its module unloaded.
pub fn prerm(package: &Package) -> String {
    format!(
        r#"#!/bin/sh
# prerm of {name}, written by kgpc: the live patch is disabled, the kernel's
# transition back to the unpatched functions awaited (at most {seconds}
# seconds) and the module unloaded. A transition that does not end stops
# the removal, since the module cannot be unloaded before it ends.
set -e

patch=/sys/kernel/livepatch/{kernel_name}

case "$1" in
remove|upgrade|deconfigure|failed-upgrade)
	if [ -e "$patch/enabled" ] && [ "$(cat "$patch/enabled")" = 1 ]; then
		echo 0 > "$patch/enabled"
	fi
	waited=0
	while [ -e "$patch" ]; do
		if [ "$waited" -ge {seconds} ]; then
			echo "{name}: the patch is still in transition after {seconds} seconds" >&2
			echo "{name}: see $patch/transition and the kernel log; not removed" >&2
			exit 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	if [ -d /sys/module/{kernel_name} ]; then
		rmmod {kernel_name}
	fi
	;;
*)
	echo "prerm called with unknown argument \`$1'" >&2
	exit 1
	;;
esac

exit 0
"#,
        name = package.name,
        seconds = TRANSITION_SECONDS,
        kernel_name = package.kernel_name,
    )
}

/// `postrm`: depmod again for each packaged kernel that is still installed,
/// and the boot-time unit's state dropped as debhelper drops it.
pub fn postrm(package: &Package) -> String {
    format!(
        r#"#!/bin/sh
# postrm of {name}, written by kgpc: modprobe forgets the removed modules.
set -e

releases="{releases}"

case "$1" in
remove|purge|abort-install|abort-upgrade|disappear)
	for release in $releases; do
		if [ -e "/lib/modules/$release/modules.order" ]; then
			depmod -a "$release"
		fi
	done
	if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper mask '{unit}' >/dev/null || true
	fi
	if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper purge '{unit}' >/dev/null || true
		deb-systemd-helper unmask '{unit}' >/dev/null || true
	fi
	;;
upgrade|failed-upgrade)
	;;
*)
	echo "postrm called with unknown argument \`$1'" >&2
	exit 1
	;;
esac

exit 0
"#,
        name = package.name,
        releases = releases(package),
        unit = unit_name(package),
    )
}

/// The unit that loads the patch at boot when the booted kernel is one the
/// package has a module for (`%v` is the booted kernel's release); on any
/// other kernel it is skipped, not failed, as `/etc/modules-load.d` would.
pub fn unit(package: &Package) -> String {
    format!(
        "[Unit]
Description=Live patch {patch} for the running kernel
Documentation=man:modprobe(8)
ConditionPathExists=/lib/modules/%v/updates/{module}.ko
DefaultDependencies=no
After=systemd-modules-load.service
Before=sysinit.target shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe {module}

[Install]
WantedBy=sysinit.target
",
        patch = package.patch,
        module = package.module_name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Build;
    use std::process::Command;

    fn package() -> Package {
        Package {
            name: "livepatch-fix".into(),
            patch: "fix".into(),
            module_name: "livepatch-fix".into(),
            kernel_name: "livepatch_fix".into(),
            version: "0+0123456789ab".into(),
            architecture: "amd64".into(),
            maintainer: "A <a@example.org>".into(),
            authors: Vec::new(),
            description: None,
            spec_name: "fix.kgp".into(),
            epoch: 0,
            builds: vec![Build {
                release: "6.1.0-57-cloud-amd64".into(),
                module: "m.ko".into(),
            }],
        }
    }

    /// Runs `text` with `sh` and `args`; returns its exit status and error output.
    fn sh(text: &str, args: &[&str]) -> (i32, String) {
        let output = Command::new("sh")
            .arg("-c")
            .arg(text)
            .arg("script")
            .args(args)
            .output()
            .expect("sh runs");
        let status = output.status.code().unwrap_or(-1);
        (status, String::from_utf8_lossy(&output.stderr).into_owned())
    }

    #[test]
    fn the_scripts_are_shell_and_refuse_what_dpkg_never_passes() {
        let package = package();
        for (name, text) in [
            ("postinst", postinst(&package)),
            ("prerm", prerm(&package)),
            ("postrm", postrm(&package)),
        ] {
            assert!(text.starts_with("#!/bin/sh\n"), "{name}");
            assert!(text.contains("\nset -e\n"), "{name}");
            let (status, _) = sh(&format!("set -n\n{text}"), &[]);
            assert_eq!(status, 0, "{name} does not parse");
            let (status, said) = sh(&text, &["frobnicate"]);
            assert_eq!(status, 1, "{name}: {said}");
            assert!(
                said.contains("unknown argument `frobnicate'"),
                "{name}: {said}"
            );
        }
        // Nothing to do where the patch is not loaded, and nothing after an upgrade.
        assert_eq!(sh(&prerm(&package), &["remove"]).0, 0);
        assert_eq!(sh(&postrm(&package), &["upgrade"]).0, 0);
    }

    #[test]
    fn the_unit_runs_only_on_a_packaged_kernel() {
        let unit = unit(&package());
        assert!(unit.contains("ConditionPathExists=/lib/modules/%v/updates/livepatch-fix.ko\n"));
        assert!(unit.contains("ExecStart=/sbin/modprobe livepatch-fix\n"));
        assert!(unit.contains("WantedBy=sysinit.target\n"));
    }
}
