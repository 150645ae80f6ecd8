//! `kgpc package`: the module of every build of a spec in one Debian package.
//!
//! Each release is compiled and built as `kgpc build --release R` would,
//! in-process and one after another, each into its own directory
//! `DIR/build/R/` beside the package (a module's debug information names
//! the directory it was built in, so the same directory gives the same
//! bytes); the package stage then puts the modules into one `.deb`.

use super::build::{compile_and_build, BuildRequest, BuiltSpec};
use super::session::{spec_options, Session};
use crate::cli::{MessageFormat, PackageArgs, SpecArgs};
use crate::error::Error;
use crate::package::{control, Build, Package};
use crate::pipeline::build::BuildOptions;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn package(args: &PackageArgs) -> Result<(), Error> {
    let started = Instant::now();
    let releases = choose_releases(args)?;
    let mut built: Vec<(String, BuiltSpec, PathBuf)> = Vec::new();
    for release in &releases {
        let spec = spec_of(args, release);
        let mut session = Session::new(args.message_format);
        let request = BuildRequest {
            spec: &spec,
            build: BuildOptions {
                output: Some(args.output.join("build").join(release)),
                force: false,
                kdir: None,
                extra_symbols: args.symvers.clone(),
                sign: args.sign.key(),
            },
        };
        // A build the spec's `requires ... else skip` leaves out has no module to package.
        let Some(done) = compile_and_build(&mut session, &request)? else {
            continue;
        };
        session.report(&format!("build the module for {release}"));
        if args.message_format == MessageFormat::Human {
            crate::errln!("{}", done.summary());
        }
        let kdir = crate::build::kbuild::find_kdir(release, None).unwrap_or_default();
        built.push((release.clone(), done, kdir));
    }
    let package = describe(args, &built).map_err(|e| report(args, e))?;
    let deb = crate::package::write(&package, &args.output)
        .map_err(|e| report(args, Error::Package(e)))?;
    match args.message_format {
        MessageFormat::Human => {
            crate::errln!(
                "Packaged {} {} for {} build{} in {:.1} s: {}",
                package.name,
                package.version,
                package.builds.len(),
                if package.builds.len() == 1 { "" } else { "s" },
                started.elapsed().as_secs_f64(),
                deb.display()
            );
            crate::outln!("{}", deb.display());
        }
        MessageFormat::Json => {
            let record = serde_json::json!({ "summary": {
                "command": "package",
                "status": "ok",
                "package": package.name,
                "version": package.version,
                "releases": releases,
                "file": deb.display().to_string(),
            }});
            crate::outln!("{record}");
        }
    }
    Ok(())
}

/// Prints a failure after the builds, which have no spec to point into.
fn report(args: &PackageArgs, error: Error) -> Error {
    Session::new(args.message_format).fail(error, "package the spec")
}

/// The releases to package: those given, else [`crate::pipeline::release::cached_builds`].
fn choose_releases(args: &PackageArgs) -> Result<Vec<String>, Error> {
    if !args.releases.is_empty() {
        let mut releases = args.releases.clone();
        releases.sort_by_key(|r| crate::fetch::natural_key(r));
        releases.dedup();
        return Ok(releases);
    }
    let mut session = Session::new(args.message_format);
    let (input, options) = spec_options(&spec_of(args, ""));
    let targets = session.compiled.targets(&input, &options);
    let Some(patterns) = targets
        .filter(|t| !t.releases.is_empty())
        .map(|t| t.releases)
        .filter(|_| !session.compiled.diagnostics.has_errors())
    else {
        return Err(session.fail(Error::Spec, "package the spec"));
    };
    let releases = crate::pipeline::release::cached_builds(&patterns);
    if releases.is_empty() {
        let error = Error::NothingToPackage {
            spec: args.spec.clone(),
            patterns,
        };
        return Err(session.fail(error, "package the spec"));
    }
    Ok(releases)
}

/// The options of `kgpc build --release RELEASE` (none: the spec's choice).
fn spec_of(args: &PackageArgs, release: &str) -> SpecArgs {
    SpecArgs {
        spec: args.spec.clone(),
        release: Some(release.to_string()).filter(|r| !r.is_empty()),
        message_format: args.message_format,
        vmlinux: None,
        modules: None,
        no_kernel_checks: args.no_kernel_checks,
        allow_path: args.allow_path.clone(),
        kernel_config: None,
    }
}

/// The package's metadata, from the first build's model and every build.
fn describe(args: &PackageArgs, built: &[(String, BuiltSpec, PathBuf)]) -> Result<Package, Error> {
    let (_, first, _) = built.first().ok_or(Error::NothingToPackage {
        spec: args.spec.clone(),
        patterns: Vec::new(),
    })?;
    let patch = &first.model.patch;
    let architecture = control::debian_arch(&first.model.target.arch).ok_or_else(|| {
        Error::Package(crate::package::PackageError::Failed {
            what: "choosing the architecture".into(),
            message: format!("kgpc knows no Debian name of `{}`", first.model.target.arch),
        })
    })?;
    let maintainer = maintainer(&patch.authors)
        .ok_or(Error::Package(crate::package::PackageError::NoMaintainer))?;
    let mut digest = String::new();
    for input in &first.model.inputs {
        digest.push_str(&format!("{}\n", input.sha256));
    }
    for (release, _, _) in built {
        digest.push_str(&format!("{release}\n"));
    }
    if let Some(key) = args.sign.key() {
        let cert = crate::read::read_regular(&key.cert, 1 << 20).unwrap_or_default();
        digest.push_str(&crate::digest::sha256_hex(&cert));
    }
    let version = control::version(&crate::digest::sha256_hex(digest.as_bytes()));
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|e| e.trim().parse().ok())
        .or_else(|| {
            built
                .iter()
                .filter_map(|(_, _, kdir)| build_date(kdir))
                .max()
        })
        .unwrap_or(0);
    Ok(Package {
        name: control::package_name(&patch.module_name),
        patch: patch.name.clone(),
        module_name: patch.module_name.clone(),
        kernel_name: patch.kernel_name.clone(),
        version,
        architecture: architecture.to_string(),
        maintainer,
        authors: patch.authors.clone(),
        description: patch.description.clone(),
        spec_name: args
            .spec
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        epoch,
        builds: built
            .iter()
            .map(|(release, spec, _)| Build {
                release: release.clone(),
                module: spec.module.clone(),
            })
            .collect(),
    })
}

/// The maintainer: the spec's first author written `Name <address>`, else
/// DEBFULLNAME and DEBEMAIL, as Debian's tools take them.
fn maintainer(authors: &[String]) -> Option<String> {
    let well_formed = |a: &&String| {
        let a = a.trim();
        a.ends_with('>') && a.contains(" <") && a.contains('@')
    };
    if let Some(author) = authors.iter().find(well_formed) {
        return Some(author.trim().to_string());
    }
    let email = std::env::var("DEBEMAIL").ok().filter(|e| e.contains('@'))?;
    let name = std::env::var("DEBFULLNAME").unwrap_or_else(|_| "kgpc".into());
    Some(format!("{} <{}>", name.trim(), email.trim()))
}

/// The day a build tree's kernel was built, from its `utsversion.h`
/// (`... Debian 6.1.192-3 (2026-11-26)`), as the package's timestamp.
fn build_date(kdir: &Path) -> Option<u64> {
    let text = crate::read::read_data_text(&kdir.join("include/generated/utsversion.h")).ok()?;
    let date = text.rsplit('(').next()?.split(')').next()?;
    control::epoch_of_date(date.trim())
}
