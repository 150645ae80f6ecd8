//! The kernels the unit tests of the kernel rules run on, built by
//! `tests/kernel_fixtures/build.sh`: the fixture vmlinux, and a bare one
//! without a banner or livepatch whose `add_one` has both a symbol and
//! inlined copies. Specs are lowered for them and one
//! object's rules run against them.

use super::object;
use super::stalls::Stalls;
use crate::check::{lower, LowerOptions, Model};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::census::Outcome;
use crate::kernel::{Kernel, OpenOptions};
use crate::load::{load, Input};
use crate::scope::ReadScope;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The head of every spec the tests lower: the fixture's release.
const HEAD: &str = "patch fixture { description \"kernel rules unit test\" }\ntarget { release \"6.1.0-999-fixture\" arch x86_64 }\n";

struct Built {
    _dir: tempfile::TempDir,
    vmlinux: PathBuf,
    bare: PathBuf,
}

/// Builds both kernels once per test process.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel_fixtures/build.sh");
        run(Command::new("sh").arg(script).arg(dir));
        Built {
            vmlinux: dir.join("vmlinux"),
            bare: dir.join("bare"),
            _dir: tmp,
        }
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn open(path: &Path) -> Kernel {
    let options = OpenOptions {
        cache_dir: None,
        progress: false,
        object_name: Some("vmlinux".into()),
        btf_base: None,
    };
    Kernel::open(path, &options).expect("the fixture opens")
}

/// Where the fixture vmlinux is.
pub fn vmlinux_path() -> &'static Path {
    &built().vmlinux
}

/// The fixture vmlinux of `tests/kernel_fixtures`.
pub fn vmlinux() -> Kernel {
    open(&built().vmlinux)
}

/// The bare kernel: no banner, no `klp_enable_patch`, and `add_one`.
pub fn bare() -> Kernel {
    open(&built().bare)
}

/// The model of a spec of the fixture's release whose items are `items`.
pub fn model(items: &str) -> Model {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    let input = Input::Text {
        name: "fix.kgp",
        text: format!("{HEAD}{items}"),
    };
    let scope = ReadScope::new(None, &[]).expect("a scope");
    let loaded = load(input, scope, &mut sources, &mut diagnostics).expect("the spec loads");
    let options = LowerOptions {
        release: Default::default(),
        prototypes_from_kernel: true,
    };
    let model = lower(&loaded, &mut sources, &options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    model.expect("the spec lowers")
}

/// No census: every run of the tests is told so already.
pub fn no_census() -> Stalls {
    Stalls {
        outcome: Outcome::Unavailable {
            why: "the unit tests take no census".into(),
            help: String::new(),
        },
        told: std::cell::Cell::new(true),
    }
}

/// Runs the rules of the spec's first object against `kernel`, without a
/// census; returns the model with what the rules filled in, and what they said.
pub fn object_rules(kernel: &Kernel, items: &str) -> (Model, Vec<Diagnostic>) {
    object_rules_after(kernel, items, |_| {})
}

/// `object_rules`, with the model changed by `change` before the rules run,
/// for what a spec cannot say itself (a function taken from the source).
pub fn object_rules_after(
    kernel: &Kernel,
    items: &str,
    change: impl FnOnce(&mut Model),
) -> (Model, Vec<Diagnostic>) {
    let mut model = model(items);
    change(&mut model);
    let mut diagnostics = Diagnostics::default();
    let stalls = no_census();
    object::check(&mut model.objects[0], kernel, &stalls, &mut diagnostics);
    (model, diagnostics.iter().cloned().collect())
}

/// Each diagnostic as `KGPnnnn: message`, to compare in one assertion.
pub fn messages(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect()
}
