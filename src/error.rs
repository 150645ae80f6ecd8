//! What can make a command fail, and the exit status each failure gives.
//!
//! A command returns `Result<_, Error>` and `main.rs` exits with
//! [`Error::exit_code`]. Each variant carries what its message needs, and
//! [`Error::diagnostic`] turns it into the diagnostic that says it, here and
//! nowhere else. A diagnostic can point into the spec, so the command that
//! holds the spec's sources prints it with the rest of its diagnostics and the
//! summary line, before it returns the error; variants without a diagnostic
//! stand for problems whose diagnostics were printed as they were found.

use crate::build::sign::SignError;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::fetch::FetchError;
use crate::kernel::error::KernelError;
use crate::output::OutputError;
use crate::package::PackageError;
use crate::read::ReadError;
use crate::source::Span;
use crate::vm::VmError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: the spec has errors.
pub const EXIT_SPEC_ERRORS: i32 = 1;
/// Exit status: the command line is wrong.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the output could not be written.
pub const EXIT_OUTPUT: i32 = 3;
/// Exit status: the module could not be built, or what building it needs is missing.
pub const EXIT_BUILD: i32 = 4;
/// Exit status: the module was built but its test in the VM failed.
pub const EXIT_TEST: i32 = 5;

/// Why a command failed.
#[derive(Debug)]
pub enum Error {
    /// The spec, or what the command was asked about, has errors, which the
    /// diagnostics printed name.
    Spec,
    /// `kgpc explain` was given something that is not a diagnostic code.
    UnknownCode {
        text: String,
        /// The code it is closest to, if any is close.
        suggestion: Option<&'static str>,
    },
    /// `kgpc fmt` could not read standard input.
    Stdin(ReadError),
    /// The output directory could not be written.
    Output(OutputError),
    /// A file kgpc replaces (`fmt`, `review -o`) could not be written.
    Write { path: PathBuf, error: io::Error },
    /// The test's work directory (given, or a temporary one) could not be made.
    WorkDir {
        dir: Option<PathBuf>,
        error: io::Error,
    },
    /// No kernel build tree for the release.
    NoBuildTree {
        release: String,
        tried: Vec<PathBuf>,
        span: Span,
    },
    /// The kgpc cache has no image of the release that the test boots.
    NoTestImage {
        release: String,
        image: PathBuf,
        span: Span,
    },
    /// The kgpc cache has no image of the release whose census is asked for.
    NoCensusImage { release: String, image: PathBuf },
    /// `kgpc kernel path`: the kgpc cache has no such part of the release.
    NotInCache { path: PathBuf, release: String },
    /// `kgpc kernel drop-debug` or `kgpc kernel gc` cannot do what was asked;
    /// `usage` when the command line itself is wrong.
    CacheTrim {
        message: String,
        help: String,
        usage: bool,
    },
    /// Fetching a kernel failed.
    Fetch(FetchError),
    /// The census of tasks at rest could not be recorded.
    Census { release: String, why: String },
    /// The module could not be signed.
    Sign(SignError),
    /// `kgpc package` found no build of the spec to package.
    NothingToPackage {
        spec: PathBuf,
        patterns: Vec<String>,
    },
    /// The Debian package could not be made.
    Package(PackageError),
    /// The module did not build; make's output and what it means for the spec
    /// were printed as they were read.
    Build,
    /// The VM could not be run for the test of `release`.
    Vm { error: VmError, release: String },
    /// `kgpc test` on a spec without a test block.
    NoTestBlock { spec: PathBuf },
    /// `kgpc test --smp` asked for no CPUs, or more than `most`, the bound `by` sets.
    Cpus {
        asked: u32,
        most: u32,
        by: String,
        span: Span,
    },
    /// A module the test block loads cannot be found or made.
    TestLoad {
        message: String,
        help: &'static str,
        span: Span,
    },
    /// A module the test block builds from its source did not build.
    TestLoadBuild { dir: PathBuf, span: Span },
    /// A program the test block builds for the guest did not compile; the
    /// compiler's messages at the C file's lines were printed, and `log`
    /// holds its output when none could be placed so.
    GuestProgram {
        name: String,
        log: Option<String>,
        span: Span,
    },
    /// The test's programs could not be built at all.
    GuestProgramTool { message: String, span: Span },
    /// A patch the test block loads first did not build; `cause` says why,
    /// and gives the exit status.
    PatchFirst {
        spec: PathBuf,
        span: Span,
        cause: Box<Error>,
    },
    /// The module was built, and its test in the VM failed.
    Test,
    /// `kgpc test` of several specs: `failed` did not pass, and the worst of
    /// their exit statuses is `status`; the summary said which.
    SpecsFailed { failed: usize, status: i32 },
    /// `--all-releases` cannot run with these arguments.
    FleetArguments { why: String },
    /// `kgpc test DIR` on a directory without a spec that has a test block.
    NoTestSpecs { dir: PathBuf },
    /// `kgpc source`: the kgpc cache has no source tree of the release.
    NoSourceTree { release: String, dir: PathBuf },
    /// `kgpc source` cannot show the function's definition.
    Source(crate::source_tree::SourceError),
    /// `kgpc inspect` found no debug vmlinux for any of these releases.
    NoVmlinux { tried: Vec<String> },
    /// `kgpc inspect` cannot read the vmlinux (`module` false) or a module's object.
    Unreadable { module: bool, error: KernelError },
    /// `kgpc inspect` found no object of the module in these directories.
    ModuleNotFound { name: String, dirs: Vec<PathBuf> },
}

impl Error {
    /// The process exit status this failure gives.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec | Error::Stdin(_) | Error::NoTestBlock { .. } => EXIT_SPEC_ERRORS,
            Error::NoTestSpecs { .. } => EXIT_SPEC_ERRORS,
            Error::SpecsFailed { status, .. } => *status,
            Error::Unreadable { .. } | Error::ModuleNotFound { .. } => EXIT_SPEC_ERRORS,
            Error::Source(_) => EXIT_SPEC_ERRORS,
            Error::UnknownCode { .. } | Error::NoVmlinux { .. } | Error::Cpus { .. } => EXIT_USAGE,
            Error::FleetArguments { .. } => EXIT_USAGE,
            Error::CacheTrim { usage: true, .. } => EXIT_USAGE,
            Error::CacheTrim { usage: false, .. } => EXIT_BUILD,
            Error::Output(_) | Error::Write { .. } | Error::WorkDir { .. } => EXIT_OUTPUT,
            Error::NoBuildTree { .. }
            | Error::NoTestImage { .. }
            | Error::NoCensusImage { .. }
            | Error::NotInCache { .. }
            | Error::NoSourceTree { .. }
            | Error::Fetch(_)
            | Error::Census { .. }
            | Error::Build
            | Error::Sign(_)
            | Error::NothingToPackage { .. }
            | Error::Package(_)
            | Error::TestLoad { .. }
            | Error::TestLoadBuild { .. }
            | Error::GuestProgram { .. }
            | Error::GuestProgramTool { .. } => EXIT_BUILD,
            Error::Vm {
                error: VmError::Io(_),
                ..
            }
            | Error::Test => EXIT_TEST,
            Error::Vm { .. } => EXIT_BUILD,
            Error::PatchFirst { cause, .. } => cause.exit_code(),
        }
    }

    /// Prints the error where there are no sources to point into, as one
    /// line like a diagnostic without a span (with its code if it has one),
    /// then any help.
    pub fn print_plain(&self) {
        match self.diagnostic() {
            Some(d) => crate::errln!("error[{}]: {}", d.code.as_str(), d.message),
            None => crate::errln!("error: {self}"),
        }
        if let Error::UnknownCode { suggestion, .. } = self {
            if let Some(best) = suggestion {
                crate::errln!("help: did you mean `{best}`?");
            }
            crate::errln!("help: `kgpc explain --list` lists every code");
        }
    }

    /// The diagnostic that says what went wrong, or `None` when what went
    /// wrong was printed as it was found.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        let diagnostic = match self {
            Error::Spec | Error::Build | Error::Test => return None,
            Error::SpecsFailed { .. } => return None,
            Error::UnknownCode { .. } | Error::Stdin(_) => return None,
            Error::Output(error) => output_diagnostic(error),
            Error::Write { .. } => Diagnostic::error(Code::OutputError, self.to_string()),
            Error::WorkDir { .. } => Diagnostic::error(Code::OutputError, self.to_string()),
            Error::NoBuildTree { release, tried, span } => {
                let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                Diagnostic::error(Code::KernelNotFound, self.to_string())
                    .at(*span, "the release this build is for")
                    .with_note(format!("looked in: {}", tried.join(", ")))
                    .with_help(format!(
                        "fetch it with `kgpc kernel fetch {release}`, or name a build tree with --kdir"
                    ))
            }
            Error::NoTestImage {
                release,
                image,
                span,
            } => Diagnostic::error(Code::KernelNotFound, self.to_string())
                .at(*span, "the release this test boots")
                .with_note(format!("looked for {}", image.display()))
                .with_help(format!("fetch it with `kgpc kernel fetch {release}`")),
            Error::NoCensusImage { release, image } => {
                Diagnostic::error(Code::KernelNotFound, self.to_string())
                    .with_note(format!("looked for {}", image.display()))
                    .with_help(format!(
                        "fetch it with `{}`",
                        format!("kgpc kernel fetch {release}").trim_end()
                    ))
            }
            Error::CacheTrim { help, .. } => {
                Diagnostic::error(Code::CacheTrim, self.to_string()).with_help(help.clone())
            }
            Error::NotInCache { release, .. } => {
                Diagnostic::error(Code::KernelNotFound, self.to_string()).with_help(
                    format!("fetch it with `kgpc kernel fetch {release}`")
                        .trim_end()
                        .to_string(),
                )
            }
            Error::Fetch(error) => fetch_diagnostic(error),
            Error::Sign(error) => sign_diagnostic(error),
            Error::NothingToPackage { patterns, .. } => {
                Diagnostic::error(Code::NothingToPackage, self.to_string()).with_help(format!(
                    "fetch a build with `kgpc kernel fetch RELEASE` (one that {} matches), or name one with --release",
                    patterns.join(" or ")
                ))
            }
            Error::Package(error) => package_diagnostic(error),
            Error::Census { why, .. } => Diagnostic::error(Code::CensusUnavailable, self.to_string())
                .with_note(why.clone())
                .with_help("install QEMU (apt-get install qemu-system-x86) and busybox-static, or name them with --qemu and --busybox"),
            Error::Vm { error, release } => vm_diagnostic(error, release),
            Error::FleetArguments { .. } => Diagnostic::error(Code::NoBuildMatches, self.to_string())
                .with_help("name the spec's file, and its target's releases or patterns (`release \"6.1.0-*-cloud-amd64\"`)"),
            Error::NoTestSpecs { .. } => Diagnostic::error(Code::NoTestBlock, self.to_string())
                .with_help("name the specs to prove, or a directory of specs with a `test` block"),
            Error::NoTestBlock { .. } => Diagnostic::error(Code::NoTestBlock, self.to_string())
                .with_help(
                    "add `test { fixed \"COMMAND\" contains \"TEXT\" }` saying what the patch changes",
                ),
            Error::Cpus { most, by, span, .. } => {
                Diagnostic::error(Code::CpusUnsupported, self.to_string())
                    .at(*span, "the kernel the test boots")
                    .with_note(format!("{by} allows at most {most}"))
                    .with_help(format!("pass --smp with a number from 1 to {most}"))
            }
            Error::TestLoad { help, span, .. } => {
                Diagnostic::error(Code::TestLoadNotFound, self.to_string())
                    .at(*span, "loaded here")
                    .with_help(help.to_string())
            }
            Error::TestLoadBuild { span, .. } => {
                Diagnostic::error(Code::TestLoadNotFound, self.to_string()).at(*span, "loaded here")
            }
            Error::PatchFirst { span, .. } => {
                Diagnostic::error(Code::TestLoadNotFound, self.to_string()).at(*span, "named here")
            }
            Error::GuestProgram { log, span, .. } => {
                let d = Diagnostic::error(Code::GuestProgramFailed, self.to_string())
                    .at(*span, "built for the guest here")
                    .with_help("the program is built with `gcc -static -O2 -Wall`; fix the C file, the VM was not started");
                match log {
                    Some(log) => d.with_note(format!("the C compiler said:\n{}", log.trim_end())),
                    None => d,
                }
            }
            Error::GuestProgramTool { span, .. } => {
                Diagnostic::error(Code::MissingTool, self.to_string())
                    .at(*span, "built for the guest here")
                    .with_help("install gcc and the static C library (apt-get install gcc libc6-dev)")
            }
            Error::NoSourceTree { release, dir } => {
                Diagnostic::error(Code::SourceNotFetched, self.to_string())
                    .with_note(format!("looked for {}", dir.display()))
                    .with_help(format!("fetch it with `kgpc kernel fetch --source {release}`"))
            }
            Error::Source(error) => error.diagnostic(),
            Error::NoVmlinux { .. } => Diagnostic::error(Code::KernelUnreadable, self.to_string())
                .with_help("pass --vmlinux PATH, or fetch Debian's with `kgpc kernel fetch RELEASE`"),
            Error::Unreadable { module: false, .. } => {
                Diagnostic::error(Code::KernelUnreadable, self.to_string())
                    .with_help("pass the target's debug vmlinux, as Debian's -dbg package has it")
            }
            Error::Unreadable { module: true, .. } => {
                Diagnostic::error(Code::KernelUnreadable, self.to_string())
            }
            Error::ModuleNotFound { .. } => Diagnostic::error(Code::ModuleNotFound, self.to_string())
                .with_help("pass the directory holding the module's .ko with --modules DIR"),
        };
        Some(diagnostic)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spec => write!(f, "the spec has errors"),
            Error::UnknownCode { text, .. } => write!(f, "`{text}` is not a kgpc diagnostic code"),
            Error::Stdin(error) => write!(f, "cannot read standard input: {error}"),
            Error::Output(error) => write!(f, "{}", output_message(error)),
            Error::Write { path, error } => write!(
                f,
                "cannot write `{}`: {}",
                path.display(),
                crate::load::describe_io(error)
            ),
            Error::WorkDir {
                dir: Some(dir),
                error,
            } => write!(f, "cannot create `{}`: {error}", dir.display()),
            Error::WorkDir { dir: None, error } => {
                write!(f, "cannot create a temporary directory: {error}")
            }
            Error::NoBuildTree { release, .. } => write!(f, "no kernel build tree for {release}"),
            Error::NoTestImage { release, .. } => {
                write!(f, "the kgpc cache has no kernel image for {release}")
            }
            Error::NoCensusImage { release, .. } => write!(
                f,
                "the kgpc cache has no kernel image of `{release}` to boot"
            ),
            Error::CacheTrim { message, .. } => f.write_str(message),
            Error::NotInCache { path, release } => {
                let shown = if release.is_empty() {
                    "the current kernel"
                } else {
                    release
                };
                write!(f, "the kgpc cache has no {} for {shown}", path.display())
            }
            Error::Fetch(error) => write!(f, "{error}"),
            Error::FleetArguments { why } => write!(f, "cannot run for every build: {why}"),
            Error::Census { release, .. } => {
                write!(f, "cannot record the census of {release}")
            }
            Error::Build => write!(f, "the module did not build"),
            Error::Sign(error) => write!(f, "{error}"),
            Error::NothingToPackage { spec, patterns } => write!(
                f,
                "no build of `{}` to package: the kgpc cache holds no build tree of {}",
                spec.display(),
                if patterns.is_empty() {
                    "its target".to_string()
                } else {
                    patterns.join(", ")
                }
            ),
            Error::Package(error) => write!(f, "{error}"),
            Error::Vm { error, .. } => write!(f, "{error}"),
            Error::NoTestBlock { spec } => write!(f, "{} has no `test` block", spec.display()),
            Error::Cpus { asked: 0, .. } => write!(f, "the test's VM needs at least one CPU"),
            Error::Cpus { asked, most, .. } => write!(
                f,
                "the test's VM cannot have {asked} CPUs: at most {most}"
            ),
            Error::TestLoad { message, .. } => write!(f, "{message}"),
            Error::TestLoadBuild { dir, .. } => {
                write!(f, "the module in `{}` did not build", dir.display())
            }
            Error::GuestProgram { name, .. } => {
                write!(f, "the test's program `{name}` did not compile")
            }
            Error::GuestProgramTool { message, .. } => write!(f, "{message}"),
            Error::PatchFirst { spec, .. } => write!(
                f,
                "the patch to load first, {}, did not build",
                spec.display()
            ),
            Error::Test => write!(f, "the patch failed its test in the VM"),
            Error::SpecsFailed { failed, .. } => write!(
                f,
                "{failed} spec{} did not pass",
                if *failed == 1 { "" } else { "s" }
            ),
            Error::NoTestSpecs { dir } => write!(
                f,
                "`{}` holds no spec with a `test` block",
                dir.display()
            ),
            Error::NoSourceTree { release, .. } => {
                write!(f, "the kgpc cache has no source of {release}")
            }
            Error::Source(error) => write!(f, "{error}"),
            Error::NoVmlinux { tried } => write!(
                f,
                "no debug vmlinux found for {}; pass --vmlinux PATH (`kgpc kernel fetch RELEASE` fetches Debian's)",
                if tried.is_empty() {
                    "any release".to_string()
                } else {
                    tried.join(", ")
                }
            ),
            Error::Unreadable { module, error } => {
                let what = if *module { "module" } else { "kernel" };
                write!(f, "cannot read the {what}: {error}")
            }
            Error::ModuleNotFound { name, dirs } => {
                let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                write!(f, "no object of module `{name}` in {}", dirs.join(", "))
            }
        }
    }
}

impl From<OutputError> for Error {
    fn from(error: OutputError) -> Self {
        Error::Output(error)
    }
}

impl From<FetchError> for Error {
    fn from(error: FetchError) -> Self {
        Error::Fetch(error)
    }
}

fn output_message(error: &OutputError) -> String {
    match error {
        OutputError::NotOurs { dir, files } => format!(
            "`{}` holds files kgpc did not write: {}",
            dir.display(),
            files.join(", ")
        ),
        OutputError::Io { path, message } => {
            format!("cannot write `{}`: {message}", path.display())
        }
    }
}

fn output_diagnostic(error: &OutputError) -> Diagnostic {
    let message = output_message(error);
    match error {
        OutputError::NotOurs { .. } => Diagnostic::error(Code::OutputNotOurs, message)
            .with_note("kgpc replaces only the files listed in its `.kgpc-manifest`, and only if nobody edited them")
            .with_help("choose another directory with `-o`, move those files away, or pass `--force` to write anyway (other files are kept; edited generated files are overwritten)"),
        OutputError::Io { .. } => Diagnostic::error(Code::OutputError, message)
            .with_help("check that every parent of the output is a directory you can write to, and that the disk is not full"),
    }
}

fn fetch_diagnostic(error: &FetchError) -> Diagnostic {
    match error {
        FetchError::MissingTool(tool) => Diagnostic::error(Code::MissingTool, error.to_string())
            .with_help(format!(
                "install it (on Debian: apt-get install {})",
                match tool.split_whitespace().next().unwrap_or("") {
                    "apt-get" | "apt-cache" => "apt",
                    "dpkg-deb" => "dpkg",
                    other => other,
                }
            )),
        FetchError::NoMatch { .. } => Diagnostic::error(Code::NoBuildMatches, error.to_string())
            .with_help(
                "`kgpc kernel list --available` lists the builds apt knows; check the pattern, \
                 and that apt's sources name the archive the kernel comes from",
            ),
        FetchError::Gone { .. } => Diagnostic::error(Code::BuildPackagesGone, error.to_string())
            .with_help(
            "the archive keeps only some builds' headers; `kgpc kernel list --available` shows \
                 which builds can still be fetched. A build whose headers are gone can still be \
                 served from a cache (`$KGPC_CACHE_DIR`) or a mirror that kept them",
        ),
        FetchError::Debuginfod(e) => debuginfod_diagnostic(e),
        FetchError::DiskFull { needed, left, .. } => {
            // The room left is measured once the partial file is removed.
            let free = match (needed, left) {
                (Some(n), Some(l)) if n > l => {
                    format!("free at least {} there", crate::fetch::size(n - l))
                }
                _ => "free space there".to_string(),
            };
            Diagnostic::error(Code::DiskFull, error.to_string()).with_help(format!(
                "{free}, or point KGPC_CACHE_DIR at a disk with room, and fetch again; nothing half-written was kept"
            ))
        }
        _ => Diagnostic::error(Code::KernelFetchFailed, error.to_string()).with_help(
            "kgpc downloads kernels with apt from the distribution's archive: run it as root with \
             network access, or point --kdir (and for tests the cache) at a kernel you have",
        ),
    }
}

fn debuginfod_diagnostic(error: &crate::fetch::DebuginfodError) -> Diagnostic {
    use crate::fetch::DebuginfodFailure as Failure;
    let message = error.to_string();
    if let crate::fetch::DebuginfodError::NoBuildId { .. } = error {
        return Diagnostic::error(Code::KernelUnreadable, message).with_help(
            "debuginfod serves objects by build id; without one, fetch the release's -dbg package \
             (`kgpc kernel fetch RELEASE`) or pass --vmlinux PATH",
        );
    }
    let (code, help) = match error.failure() {
        Failure::NoServers => (
            Code::NoDebuginfodServer,
            "set DEBUGINFOD_URLS to one or more servers separated by spaces (such as \
             https://debuginfod.debian.net), or fetch the release's -dbg package",
        ),
        Failure::Unreachable => (
            Code::DebuginfodUnreachable,
            "check the network and the URLs in DEBUGINFOD_URLS; for a slow server raise \
             DEBUGINFOD_TIMEOUT (seconds; 90 unless set)",
        ),
        Failure::NotFound => (
            Code::DebuginfodNotFound,
            "add a server that indexes this distribution's debug packages to DEBUGINFOD_URLS, or \
             fetch the -dbg package where the archive still has it",
        ),
        Failure::WrongObject => (
            Code::DebuginfodWrongObject,
            "the URL may name a web page or proxy rather than a debuginfod server; check \
             DEBUGINFOD_URLS (kgpc asks URL/buildid/ID/debuginfo); nothing was kept",
        ),
    };
    Diagnostic::error(code, message).with_help(help)
}

fn package_diagnostic(error: &PackageError) -> Diagnostic {
    let message = error.to_string();
    match error {
        PackageError::MissingTool(tool) => Diagnostic::error(Code::MissingTool, message)
            .with_help(format!(
                "install it (on Debian: apt-get install {})",
                if tool == "dpkg-deb" { "dpkg" } else { tool }
            )),
        PackageError::NoMaintainer => Diagnostic::error(Code::PackageFailed, message)
            .with_help("add `author \"Name <address>\"` to the patch block, or set DEBFULLNAME and DEBEMAIL"),
        PackageError::Failed { .. } | PackageError::Io { .. } => {
            Diagnostic::error(Code::PackageFailed, message).with_help(
                "check that the output directory can be written and the disk is not full; nothing was left in it",
            )
        }
    }
}

fn sign_diagnostic(error: &SignError) -> Diagnostic {
    let message = error.to_string();
    match error {
        SignError::Unreadable { .. } => Diagnostic::error(Code::SigningKeyUnreadable, message)
            .with_help("pass a PEM private key with --sign-key and its X.509 certificate (PEM or DER) with --sign-cert, as `openssl req -new -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem` makes them"),
        SignError::Mismatch { .. } => Diagnostic::error(Code::SigningKeyMismatch, message)
            .with_note("`openssl x509 -noout -pubkey -in CERT` and `openssl pkey -pubout -in KEY` print different public keys")
            .with_help("pass the certificate made from this key, or the key the certificate was made from"),
        SignError::NoSignFile { .. } => Diagnostic::error(Code::SigningUnavailable, message)
            .with_help("use a build tree with scripts/sign-file (Debian's linux-kbuild package has it; `kgpc kernel fetch RELEASE` unpacks it), or build without --sign-key"),
        SignError::NoHash { .. } => Diagnostic::error(Code::SigningUnavailable, message)
            .with_help("a kernel built without CONFIG_MODULE_SIG loads modules unsigned: build without --sign-key"),
        SignError::Failed { .. } => Diagnostic::error(Code::SigningUnavailable, message)
            .with_note("the module was left unsigned")
            .with_help("check that the disk is not full and that sign-file runs (it needs libssl3)"),
    }
}

fn vm_diagnostic(error: &VmError, release: &str) -> Diagnostic {
    match error {
        VmError::MissingQemu(_) => Diagnostic::error(Code::MissingTool, error.to_string())
            .with_help(
            "install it (on Debian 12: apt-get install qemu-system-x86), or name it with --qemu",
        ),
        VmError::MissingBusybox(_) => Diagnostic::error(Code::MissingTool, error.to_string())
            .with_help(
            "install it (on Debian 12: apt-get install busybox-static), or name it with --busybox",
        ),
        VmError::MissingKernel(_) => Diagnostic::error(Code::KernelNotFound, error.to_string())
            .with_help(format!("fetch it with `kgpc kernel fetch {release}`")),
        VmError::Io(_) => Diagnostic::error(Code::VmFailed, error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_the_documented_exit_status() {
        assert_eq!(Error::Spec.exit_code(), EXIT_SPEC_ERRORS);
        assert_eq!(Error::Build.exit_code(), EXIT_BUILD);
        assert_eq!(Error::Test.exit_code(), EXIT_TEST);
        let io = || io::Error::other("disk full");
        assert_eq!(
            Error::WorkDir {
                dir: None,
                error: io()
            }
            .exit_code(),
            EXIT_OUTPUT
        );
        let vm = |error| Error::Vm {
            error,
            release: "6.1.0-57-cloud-amd64".into(),
        };
        assert_eq!(vm(VmError::Io("boom".into())).exit_code(), EXIT_TEST);
        assert_eq!(
            vm(VmError::MissingQemu("qemu".into())).exit_code(),
            EXIT_BUILD
        );
        let first = Error::PatchFirst {
            spec: "first.kgp".into(),
            span: Span::new(crate::source::FileId(0), 0, 0),
            cause: Box::new(Error::Spec),
        };
        assert_eq!(first.exit_code(), EXIT_SPEC_ERRORS);
    }

    #[test]
    fn printed_failures_have_no_second_diagnostic() {
        assert!(Error::Spec.diagnostic().is_none());
        assert!(Error::Build.diagnostic().is_none());
        let missing = Error::NoTestBlock {
            spec: "fix.kgp".into(),
        }
        .diagnostic()
        .map(|d| (d.code, d.message));
        assert_eq!(
            missing,
            Some((Code::NoTestBlock, "fix.kgp has no `test` block".to_string()))
        );
    }

    #[test]
    fn failures_without_sources_say_what_failed() {
        let unknown = Error::UnknownCode {
            text: "KGP0O12".into(),
            suggestion: Some("KGP0012"),
        };
        assert_eq!(
            unknown.to_string(),
            "`KGP0O12` is not a kgpc diagnostic code"
        );
        assert_eq!(unknown.exit_code(), EXIT_USAGE);
        let write = Error::Write {
            path: "fix.kgp".into(),
            error: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let diagnostic = write.diagnostic().map(|d| d.code);
        assert_eq!(diagnostic, Some(Code::OutputError));
        assert!(write.to_string().starts_with("cannot write `fix.kgp`: "));
    }
}
