//! A spec whose object the build's config leaves out (`requires` in an
//! object block), proven in Debian's kernel: the module of the other
//! objects loads and works.

use super::*;

#[test]
fn a_module_built_without_the_object_its_config_lacks_is_proven_in_the_kernel() {
    let release = release();
    let outcome = kgpc(
        &[
            "test",
            "tests/config/gated-objects.kgp",
            "--release",
            &release,
        ],
        &[],
    );
    eprintln!("{}", outcome.output);
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    assert!(
        outcome.output.contains(&format!(
            "note[KGP0135]: bcachefs is left out of the build of {release}"
        )),
        "{}",
        outcome.output
    );
}
