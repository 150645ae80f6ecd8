//! The command line, described with clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  kgpc check fix.kgp                      check a spec; write nothing
  kgpc compile fix.kgp                    write ./<name>/livepatch-<name>.c, Kbuild and Makefile
  kgpc compile fix.kgp -o out --release 6.1.0-57-cloud-amd64
  make -C out KDIR=/usr/src/linux-headers-6.1.0-57-cloud-amd64
  kgpc build fix.kgp                      compile and build livepatch-<name>.ko with kbuild
  kgpc test fix.kgp                       prove the patch in the target kernel under QEMU
  kgpc package fix.kgp -o dist/           one .deb with the module of every cached build
  kgpc review fix.kgp > review.md         a Markdown review for the pull request
  kgpc inspect cmdline_proc_show          what the kernel's debug information says
  kgpc new --from-patch fix.patch -o fix.kgp   a spec for an upstream fix
  kgpc explain KGP0012                    explain a diagnostic code
  kgpc completions bash > /etc/bash_completion.d/kgpc

Exit status:
  0  success (warnings may have been printed)
  1  the spec has errors; nothing was written
  2  the command line is wrong
  3  the output could not be written (nothing was changed)
  4  build, test, package: the module could not be built, signed or packaged,
     or the kernel or a tool is missing
  5  test: the module was built but its test in the VM failed

Documentation: docs/language.md describes the .kgp language.";

/// Compile declarative live-patch specs (.kgp) into Linux livepatch modules.
#[derive(Parser, Debug)]
#[command(name = "kgpc", version, about, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a spec and generate the module's C source, Kbuild and Makefile.
    #[command(after_help = "\
Examples:
  kgpc compile fix.kgp                  writes ./<name>/ (the patch's name)
  kgpc compile fix.kgp -o build/fix     writes build/fix/
  kgpc compile fix.kgp --release 6.1.0-57-cloud-amd64

kgpc replaces only files it wrote itself (listed in <dir>/.kgpc-manifest).
A directory holding other files, or generated files edited by hand, is
refused unless --force is given. Kbuild's products (*.o, *.ko, ...) are kept.")]
    Compile(CompileArgs),
    /// Run every check on a spec and write nothing.
    #[command(after_help = "\
Examples:
  kgpc check fix.kgp
  kgpc check fix.kgp --message-format json    one JSON object per diagnostic
  kgpc check fix.kgp --release 6.1.0-50-cloud-amd64 --kernel-config FILE
  kgpc check fix.kgp --all-releases           every cached build the spec's releases match
  kgpc check fix.kgp --all-releases --fetch   and the archive's builds the cache lacks

The spec's `requires CONFIG_...` lines are checked against the build's own
kernel config: /boot/config-RELEASE of the kgpc cache's image, else the
build tree's .config (or --kernel-config). A build that does not meet a
`requires ... else skip` is skipped: nothing is checked, written or built,
and the exit status is 0 (with --message-format json the summary's status
is \"skipped\").

With --all-releases each build is checked by its own `kgpc check --release R`
(as many at once as there are cores, or --jobs), and a table of build by
result follows (a skipped build is listed as skipped); a function the spec
replaces that differs between the builds is KGP0222.")]
    Check(CheckArgs),
    /// Print the long explanation of a diagnostic code.
    #[command(after_help = "\
Examples:
  kgpc explain KGP0012
  kgpc explain --list")]
    Explain(ExplainArgs),
    /// Lay out specs in the one canonical way.
    #[command(after_help = "\
Examples:
  kgpc fmt fix.kgp                 rewrite fix.kgp in place
  kgpc fmt --check examples/*.kgp  exit 1 and show a diff if any file is not formatted
  kgpc fmt < fix.kgp               format standard input to standard output

Comments stay where they were; C blocks keep their text, only their
indentation follows the block's depth. A file that does not parse is left
untouched and its errors are printed.")]
    Fmt(FmtArgs),
    /// Write a Markdown review of a spec, ready to paste into a pull request.
    #[command(after_help = "\
Examples:
  kgpc review fix.kgp                      print the review
  kgpc review fix.kgp -o review.md         write it to a file
  kgpc review fix.kgp --message-format json   diagnostics and the report as JSON lines

The review lists what the patch replaces, the symbols it uses, its shadow
variables and their lifetime, callbacks, states, the checks run against the
kernel and the risks a reviewer should weigh.")]
    Review(ReviewArgs),
    /// Compare two versions of a spec in terms of what the live patch does.
    #[command(after_help = "\
Examples:
  kgpc diff v1/fix.kgp v2/fix.kgp
  kgpc diff old.kgp new.kgp --release 6.1.0-57-cloud-amd64

Lists functions added, removed or changed, shadow variables, states and
replace semantics. A state version that goes down, or a state a cumulative
successor drops, is an error: the kernel would refuse the new patch.")]
    Diff(DiffArgs),
    /// Compile a spec and build the module with the kernel's build system.
    #[command(after_help = "\
Examples:
  kgpc build fix.kgp                      writes ./<name>/ and builds livepatch-<name>.ko there
  kgpc build fix.kgp --kdir /usr/src/linux-headers-6.1.0-57-cloud-amd64
  kgpc build fix.kgp -o out --release 6.1.0-57-cloud-amd64
  kgpc build fix.kgp --all-releases -o out   out/<release>/ for every cached build the spec matches
  kgpc build fix.kgp --all-releases --fetch --plan github   a CI matrix, one job per build
  kgpc build fix.kgp --sign-key signing_key.pem --sign-cert signing_cert.pem
  modinfo -F signer fix/livepatch-fix.ko         the certificate's subject

The build tree is --kdir, else $KGPC_KDIR, else the kgpc cache's tree of the
release (see `kgpc kernel fetch`), else /lib/modules/<release>/build.
References to symbols the spec declares `extern` become livepatch
relocations (.klp.rela.*, .klp.sym.*). Compiler errors in C bodies point at
the spec. With --sign-key and --sign-cert the module is then signed with the
build tree's scripts/sign-file, as `make modules_sign` would, through a
signed copy renamed into place (see docs/packaging.md).")]
    Build(BuildArgs),
    /// Build a spec's module and prove it in the target kernel under QEMU.
    #[command(after_help = "\
Examples:
  kgpc test examples/livepatch-sample.kgp
  kgpc test fix.kgp --release 6.1.0-57-cloud-amd64 --keep-work work/
  kgpc test fix.kgp --cycles 100 --timeout 600   load and unload the patch 100 times in one boot
  kgpc test fix.kgp --smp 4                   the guest has four CPUs
  kgpc test fix.kgp --sign-key key.pem --sign-cert cert.pem   prove the signed module
  kgpc test examples/                         every spec with a test block, in parallel VMs
  kgpc test a.kgp b.kgp --jobs 1              one VM at a time, then one summary
  kgpc test fix.kgp --all-releases            in the kernel of every cached build the spec matches

A test block that reaches the code with its own program and a setup step:
  test {
      program \"probe.c\"          # gcc -static -O2 -Wall, run in the guest as /test/probe
      file \"data/input.bin\"      # copied into the guest as /test/input.bin
      setup \"\"\"
          mkdir -p /tmp/work
          cp input.bin /tmp/work/
          \"\"\"
      fixed \"probe /tmp/work/input.bin\" exits 0 contains \"fixed\" lacks \"EINVAL\"
      always \"cat /proc/version\" contains \"Linux\"
  }
A module of the test unloaded and loaded again while the patch is applied,
its callbacks checked in the kernel's order (as test-callbacks.sh does):
  test {
      load \"../target-modules/livepatch-callbacks-mod\"
      reload \"../target-modules/livepatch-callbacks-mod\"
  }

Boots the target kernel (from the kgpc cache) with a busybox initramfs made
on the fly, under software emulation, loads the modules of the spec's test
block, runs its setup script, loads the patch, waits for the transition,
runs the checks, reloads the modules `reload` names, disables and unloads
the patch, checks again and scans the kernel log for warnings, BUGs, Oopses
and call traces. The test's programs are built before anything else; one
that does not compile starts no VM. The VM is always shut down. With
--cycles N the patch is loaded, enabled, disabled and unloaded N times, with
the checks in each cycle; a `workload` of the test block runs on every CPU
meanwhile. The `Cycles:` line then gives the transition times. The guest has
--smp CPUs (two unless told), which TCG runs in turn (--mttcg: at once), and
reports how many it brought online. Several specs (or a directory) are each built once and proved
in their own VM, --jobs at a time; a line says when each starts and ends, and
a summary gives each spec's result and time, the totals and the wall time.
The exit status is 0 only if every spec passed.")]
    Test(TestArgs),
    /// Build a spec for several kernel releases and put the modules in one Debian package.
    #[command(after_help = "\
Examples:
  kgpc package fix.kgp                       every cached build the spec's target matches
  kgpc package fix.kgp -o dist/              writes dist/livepatch-<name>_<version>_amd64.deb
  kgpc package fix.kgp --release 6.1.0-57-cloud-amd64 --release 6.1.0-50-cloud-amd64
  kgpc package fix.kgp --sign-key key.pem --sign-cert cert.pem   every module signed
  lintian dist/livepatch-fix_*.deb; dpkg-deb -c dist/livepatch-fix_*.deb

Without --release the builds are every release in the kgpc cache that the
spec's target matches and whose build tree is complete (`kgpc kernel list`).
Each is checked and built as `kgpc build --release R` would, one after
another. The package installs each module as
/lib/modules/R/updates/livepatch-<name>.ko; its postinst runs depmod for each
installed kernel and loads the patch into the running kernel if the package
has its module, livepatch-<name>.service loads it at boot, and its prerm
disables the patch, waits for the transition and unloads it. The version is
0+ and 12 hex digits of the SHA-256 of the spec's files and the releases.
See docs/packaging.md.")]
    Package(PackageArgs),
    /// Fetch and list target kernels in the kgpc cache.
    #[command(after_help = "\
Examples:
  kgpc kernel fetch                               the current Debian 12 cloud kernel
  kgpc kernel fetch 6.1.0-57-cloud-amd64          image, headers, kbuild and debug vmlinux
  kgpc kernel fetch 6.1.0-57-cloud-amd64 --no-dbg without the 283 MB debug package
  kgpc kernel fetch --source 6.1.0-57-cloud-amd64 its source, linux-source-6.1 of the image's version
  kgpc kernel list                                which keep debug files, which only indexes
  kgpc kernel drop-debug 6.1.0-57-cloud-amd64     keep the index, drop the 833 MiB of debug files
  kgpc kernel gc --max-size 5G --dry-run          what would go to keep the cache within 5 GiB
  kgpc kernel path 6.1.0-57-cloud-amd64 --print vmlinuz
  kgpc kernel path 6.1.0-57-cloud-amd64 --print source

The cache is $KGPC_CACHE_DIR, else $XDG_CACHE_HOME/kgpc, else ~/.cache/kgpc.
Packages are downloaded with apt-get and unpacked with dpkg-deb; nothing is
installed on the system.")]
    Kernel(KernelArgs),
    /// Print what the kernel's debug information says about functions.
    #[command(after_help = "\
Examples:
  kgpc inspect cmdline_proc_show
  kgpc inspect --vmlinux /usr/lib/debug/boot/vmlinux-6.1.0-57-cloud-amd64 cmdline_proc_show
  kgpc inspect --format json show_stat meminfo_proc_show
  kgpc inspect --module nfsd nfsd_setattr
  kgpc inspect --module nf_tables --modules /usr/lib/debug/lib/modules/6.1.0-57-cloud-amd64 nft_do_chain

Without --vmlinux, kgpc looks for the debug vmlinux of --release (or the running
kernel, or the newest kernel in the kgpc cache) in /usr/lib/debug/boot,
/usr/lib/debug/lib/modules/RELEASE, /boot and the kgpc cache. The first run on a
vmlinux indexes it (progress is shown on a terminal); later runs reuse the index.
A module's debug object is taken from the release's -dbg package into the kgpc
cache the first time it is asked for; addresses are what nm shows (for a module,
the offset in its section).")]
    Inspect(InspectArgs),
    /// Print a function's definition from the source the target was built from.
    #[command(after_help = "\
Examples:
  kgpc kernel fetch --source 6.1.0-57-cloud-amd64    once: the source of that build
  kgpc source cmdline_proc_show
  kgpc source kernel_clone --release 6.1.0-57-cloud-amd64
  kgpc source --in drivers/base/core.c dev_show      one of several functions of a name
  kgpc source --format json cmdline_proc_show

DWARF of the debug vmlinux says where the function is declared (its file and
line); kgpc reads that file of the release's source tree in the kgpc cache
(`kgpc kernel fetch --source`, Debian's linux-source of exactly the image's
version) and prints the whole definition, from the lines of its return type
and attributes to its closing brace, after a comment naming file and lines.")]
    Source(SourceArgs),
    /// Write a spec for an upstream fix, from its patch.
    #[command(after_help = "\
Examples:
  kgpc new --from-patch fix.patch                      print the spec
  kgpc new --from-patch fix.patch -o fix.kgp           write it next to the patch
  kgpc new --from-patch fixes/0001-x.patch -o fix.kgp --release 6.1.0-57-cloud-amd64
  git format-patch -1 COMMIT && kgpc new --from-patch 0001-*.patch -o fix.kgp
  kgpc new --from-patch ~/fixes/0001-x.patch --inline -o fix.kgp   the diff in the spec

The patch is a `git format-patch` mail (a stable backport's too) or a unified
diff. The spec's name and description come from the subject, its references
from the commit (the upstream one a backport names), CVE ids and Link: and
Closes: addresses, its author from From:. The target is --release, else the
newest kernel in the kgpc cache, as a pattern of its builds (6.1.0-*-cloud-amd64).
The patch must be inside the spec's directory, which the spec names it from;
with --inline the spec holds the diff itself (`fix \"\"\" ... \"\"\"`) and the commit
message as comments, and the patch may be anywhere. kpatch-build's
kpatch-macros.h conventions are listed with what kgpc makes of each. An
existing spec is replaced only with --force. `kgpc check` then applies the fix
to the release's source (`kgpc kernel fetch --source`) and reports every hunk
that does not apply.")]
    New(NewArgs),
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  kgpc completions bash > ~/.local/share/bash-completion/completions/kgpc
  kgpc completions zsh > ~/.zfunc/_kgpc")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The spec to read, or `-` for standard input.
    pub spec: PathBuf,
    /// The kernel release to compile for, such as 6.1.0-57-cloud-amd64.
    ///
    /// It must be one of the spec's releases or match one of its patterns.
    /// Without it kgpc takes the spec's only literal release, else the running
    /// kernel or a kernel in the kgpc cache that the spec matches.
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FORMAT")]
    pub message_format: MessageFormat,
    /// The target's vmlinux with debug information, to check the spec against.
    ///
    /// Without it kgpc looks for the chosen release's debug vmlinux in the usual
    /// places and the kgpc cache, and skips the kernel checks if there is none.
    #[arg(long, value_name = "PATH")]
    pub vmlinux: Option<PathBuf>,
    /// A directory holding the target's module objects (searched recursively)
    /// [default: /usr/lib/debug/lib/modules/RELEASE, else the kgpc cache, which takes the
    /// named modules' debug objects from the -dbg package when first needed].
    #[arg(long, value_name = "DIR")]
    pub modules: Option<PathBuf>,
    /// Skip the checks against the target's vmlinux even when one is found.
    #[arg(long, conflicts_with = "vmlinux")]
    pub no_kernel_checks: bool,
    /// The kernel config to check the spec's `requires` against
    /// [default: /boot/config-RELEASE of the kgpc cache's image, else the build tree's .config].
    #[arg(long, value_name = "FILE")]
    pub kernel_config: Option<PathBuf>,
    /// Let imports and body files read from DIR (a directory, or one file) too.
    ///
    /// Without it a spec reads only files under its own directory and the
    /// standard library. May be given more than once.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The fix: a `git format-patch` mail or a unified diff.
    #[arg(long = "from-patch", value_name = "FIX.patch")]
    pub from_patch: PathBuf,
    /// Write the spec to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The kernel release the fix is for [default: the newest kernel in the kgpc cache].
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Write the diff into the spec (`fix """ ... """`), with the commit
    /// message as comments, instead of naming the patch file.
    #[arg(long)]
    pub inline: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The functions to describe.
    #[arg(required = true, value_name = "FUNCTION")]
    pub functions: Vec<String>,
    /// The vmlinux with debug information.
    #[arg(long, value_name = "PATH")]
    pub vmlinux: Option<PathBuf>,
    /// The release whose debug vmlinux to look for.
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,
    /// Look in this module's object instead of vmlinux.
    #[arg(long, value_name = "NAME")]
    pub module: Option<String>,
    /// A directory holding module objects (searched recursively).
    #[arg(long, value_name = "DIR")]
    pub modules: Option<PathBuf>,
    /// How to print the facts (json: an array with one object per function symbol).
    #[arg(long, value_enum, default_value_t = FactsFormat::Human, value_name = "FORMAT")]
    pub format: FactsFormat,
}

#[derive(Args, Debug)]
pub struct SourceArgs {
    /// The function whose definition to print.
    #[arg(value_name = "FUNCTION")]
    pub function: String,
    /// The vmlinux with debug information.
    #[arg(long, value_name = "PATH")]
    pub vmlinux: Option<PathBuf>,
    /// The release whose debug vmlinux and source tree to read.
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,
    /// The source file of the function, to pick one of several of its name.
    #[arg(long = "in", value_name = "FILE")]
    pub in_file: Option<String>,
    /// How to print the definition (json: {name, file, start_line, end_line, text}).
    #[arg(long, value_enum, default_value_t = FactsFormat::Human, value_name = "FORMAT")]
    pub format: FactsFormat,
}

/// How `inspect` and `source` print what they found.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactsFormat {
    /// Readable text.
    Human,
    /// JSON, for programs; the option's help gives its shape.
    Json,
}

#[derive(Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The output directory [default: ./<patch name>/]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Write even into a directory holding files kgpc did not write.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Write the review to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier spec.
    pub old: PathBuf,
    /// The later spec, and the options both are checked with.
    #[command(flatten)]
    pub new: SpecArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The output directory [default: ./<patch name>/; with --all-releases
    /// ./<patch name>-releases/, which holds a directory per build]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Write even into a directory holding files kgpc did not write.
    #[arg(long)]
    pub force: bool,
    /// The kernel build tree [default: $KGPC_KDIR, the kgpc cache, /lib/modules/<release>/build]
    #[arg(long, value_name = "DIR")]
    pub kdir: Option<PathBuf>,
    /// The Module.symvers of an out-of-tree module the patch patches or uses (repeatable)
    #[arg(long, value_name = "FILE")]
    pub symvers: Vec<PathBuf>,
    /// With --all-releases: how many builds run at once [default: the number of cores]
    #[arg(long, value_name = "J", requires = "all_releases", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// With --all-releases: build nothing, print the matrix of builds as the CI
    /// system takes it, one job per build running `kgpc build --release R`.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "all_releases")]
    pub plan: Option<PlanFormat>,
    #[command(flatten)]
    pub sign: SignArgs,
}

impl SignArgs {
    /// The key to sign with, if one was given (clap makes sure both parts are).
    pub fn key(&self) -> Option<crate::build::sign::SigningKey> {
        Some(crate::build::sign::SigningKey {
            key: self.sign_key.clone()?,
            cert: self.sign_cert.clone()?,
        })
    }
}

/// The key and certificate a module is signed with.
#[derive(Args, Debug, Clone, Default)]
pub struct SignArgs {
    /// Sign the module with this private key (PEM), with the build tree's
    /// scripts/sign-file and the hash its config names (CONFIG_MODULE_SIG_HASH).
    #[arg(long, value_name = "KEY", requires = "sign_cert")]
    pub sign_key: Option<PathBuf>,
    /// The X.509 certificate of --sign-key (PEM or DER); its subject is the
    /// signer `modinfo -F signer` shows.
    #[arg(long, value_name = "CERT", requires = "sign_key")]
    pub sign_cert: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// The spec to build and package.
    pub spec: PathBuf,
    /// A kernel release to build for (repeatable)
    /// [default: every cached build the spec's target matches].
    #[arg(long = "release", value_name = "RELEASE")]
    pub releases: Vec<String>,
    /// The directory to write the .deb into.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    #[command(flatten)]
    pub sign: SignArgs,
    /// The Module.symvers of an out-of-tree module the patch patches or uses (repeatable)
    #[arg(long, value_name = "FILE")]
    pub symvers: Vec<PathBuf>,
    /// Skip the checks against each release's vmlinux.
    #[arg(long)]
    pub no_kernel_checks: bool,
    /// Let imports and body files read from DIR too (repeatable).
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FORMAT")]
    pub message_format: MessageFormat,
}

#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs. Any SPEC may be a directory, which stands for its `*.kgp`
    /// specs with a test block (sorted); with more than one spec each runs in
    /// its own VM, `--jobs` at a time, and one summary follows.
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The guest's CPUs, which QEMU's TCG runs in turn on one host thread.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub smp: u32,
    /// Run each of the guest's CPUs on a host thread of its own (QEMU's
    /// multi-threaded TCG), so that they truly run at once. Not the default:
    /// with QEMU 7.2 about one boot in 65 hung here, a CPU stuck while the
    /// kernel patched its own code.
    #[arg(long)]
    pub mttcg: bool,
    /// How many specs (or, with --all-releases, builds) are proved at once,
    /// each in its own VM [default: the number of cores]
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// The kernel build tree [default: $KGPC_KDIR, the kgpc cache, /lib/modules/<release>/build]
    #[arg(long, value_name = "DIR")]
    pub kdir: Option<PathBuf>,
    #[command(flatten)]
    pub sign: SignArgs,
    /// Build in this directory and keep it, with the initramfs and the console log.
    #[arg(long, value_name = "DIR")]
    pub keep_work: Option<PathBuf>,
    /// Seconds the whole VM run may take before it is killed.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub timeout: u64,
    /// Seconds a livepatch transition may take inside the VM.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub transition_timeout: u64,
    /// Load, enable, disable and unload the patch this many times in one boot,
    /// running the checks in each cycle; the kernel log is checked across all.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub cycles: u32,
    /// Load the test block's modules after the patch, to prove that a patch for a
    /// module loads while the module is absent and applies when it arrives.
    #[arg(long)]
    pub modules_after_patch: bool,
    /// The QEMU binary.
    #[arg(long, default_value = "qemu-system-x86_64", value_name = "PROGRAM")]
    pub qemu: PathBuf,
    /// The statically linked busybox to put into the initramfs.
    #[arg(long, default_value = "/bin/busybox", value_name = "FILE")]
    pub busybox: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct KernelArgs {
    #[command(subcommand)]
    pub command: KernelCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum KernelCommand {
    /// Download a kernel's packages into the cache and unpack what kgpc needs.
    #[command(after_help = "\
Examples:
  kgpc kernel fetch                                the current Debian 12 cloud kernel
  kgpc kernel fetch 6.1.0-57-cloud-amd64 --no-dbg  without the 283 MB debug package
  kgpc kernel fetch --source 6.1.0-57-cloud-amd64  its source, for `kgpc source`
  kgpc kernel fetch '6.1.0-*-cloud-amd64'          every build of the archive that matches
  kgpc kernel fetch 6.1.0-50-cloud-amd64 6.1.0-57-cloud-amd64
  DEBUGINFOD_URLS=https://debuginfod.debian.net kgpc kernel fetch 6.1.0-57-cloud-amd64 --debuginfod
                                                   the debug vmlinux by build id instead

--debuginfod reads the build id of the kernel in the image's vmlinuz (its
payload decompressed with gzip, xz, zstd, lz4, bzip2 or lzop, as far as the
note) and asks each server of DEBUGINFOD_URLS (separated by spaces) for
URL/buildid/ID/debuginfo, with elfutils' DEBUGINFOD_TIMEOUT (90 s) and
DEBUGINFOD_MAXTIME; the object is kept in <cache>/debuginfod/ID/ once its
build id is checked. Without --debuginfod, servers are asked only when the
archive has no -dbg package; a module's debug object is likewise asked for
by the build id of the image's .ko when no -dbg package has it.

--source takes linux-source-X.Y of exactly the version of linux-image-RELEASE
(both read from apt's metadata) and unpacks it into
<cache>/kernels/RELEASE/source/; an archive without that version is refused.")]
    Fetch {
        /// The releases, as `uname -r` prints them (6.1.0-57-cloud-amd64), or
        /// patterns of them ('6.1.0-*-cloud-amd64') matched against the
        /// archive's builds [default: the one Debian's linux-image-cloud-amd64
        /// depends on now]
        #[arg(value_name = "RELEASE")]
        releases: Vec<String>,
        /// Skip the debug package (the vmlinux with DWARF that kernel checks read).
        #[arg(long)]
        no_dbg: bool,
        /// Take the debug vmlinux from the debuginfod servers of DEBUGINFOD_URLS, by
        /// the build id of the image's kernel, instead of from the -dbg package.
        #[arg(long, conflicts_with = "no_dbg")]
        debuginfod: bool,
        /// Fetch the kernel's source instead: linux-source-X.Y of exactly the
        /// image's version, unpacked into the cache (what `kgpc source` reads).
        #[arg(long, conflicts_with_all = ["no_dbg", "debuginfod", "print"])]
        source: bool,
        /// What to print once the kernel is in the cache.
        #[arg(long, value_enum, default_value_t = KernelPart::Root)]
        print: KernelPart,
        /// Download the debug package again for a release whose debug files
        /// were dropped (`kgpc kernel drop-debug`).
        #[arg(long, conflicts_with_all = ["no_dbg", "source"])]
        restore_debug: bool,
    },
    /// List the kernels in the cache, or with --available the archive's builds.
    #[command(after_help = "\
Examples:
  kgpc kernel list                                  the cached kernels, their debug files and sizes
    6.1.0-50-cloud-amd64  no debug files      512.3 MiB
    6.1.0-57-cloud-amd64  index only          1.42 GiB  (index and facts 27.1 MiB)
  kgpc kernel list --available fix.kgp              the archive's builds the spec's releases match
  kgpc kernel list --available '6.12.*-cloud-amd64' --message-format json

--available reads apt's metadata (apt-cache): each build's version, whether the
archive still has its headers (without them no module can be built) and its
debug package, and whether the kgpc cache holds it. Without it, each cached
release's size is its tree (image, headers, kbuild, source, fix views) with its
vmlinux's index, each file counted once as `du -sb` counts it.")]
    List {
        /// List the builds in the distribution's archive, not only the cache.
        #[arg(long)]
        available: bool,
        /// Specs (.kgp files, whose target's releases are matched) or release
        /// patterns to list builds of [default: every build].
        #[arg(value_name = "SPEC|PATTERN", requires = "available")]
        targets: Vec<String>,
        /// How to print the list (json: one object per build, then a summary).
        #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FORMAT")]
        message_format: MessageFormat,
    },
    /// Remove a release's debug vmlinux and -dbg package, keeping an index that answers for them.
    #[command(after_help = "\
Examples:
  kgpc kernel drop-debug 6.1.0-57-cloud-amd64
  KGPC_CACHE_DIR=/tmp/cache kgpc kernel drop-debug 6.1.0-57-cloud-amd64

The vmlinux is indexed first if it is not yet, and every fact kgpc would read
from its DWARF on demand (prototypes, variables' declarations, where functions
are declared, where inline-only functions came from) is rendered beside the
index. Then, under the cache lock, the vmlinux and the release's
linux-image-RELEASE-dbg package are removed and a mark is left in their place;
checks of the release read the index alone and give the same diagnostics and
the same C. Debug objects of modules already taken from the package are kept.
`kgpc kernel fetch RELEASE --restore-debug` brings the debug files back.")]
    DropDebug {
        /// The release, as `uname -r` prints it.
        release: String,
    },
    /// Keep the kernel cache within a size: drop debug files, packages, then whole releases.
    #[command(after_help = "\
Examples:
  kgpc kernel gc --max-size 5G --dry-run   print what would be removed
  kgpc kernel gc --max-size 5G
  kgpc kernel gc --max-size 800M

Until the cache fits, gc removes, in this order: the debug files of releases
whose vmlinux is already indexed (as `kgpc kernel drop-debug` does), least
recently used first; downloaded packages in <cache>/debs, oldest first; then
whole releases, least recently used first. A release's last use is the time a
kgpc run last took its <cache>/kernels/RELEASE/.kgpc-in-use (every compile,
check, build and test does), else the time its fetch completed. A release a
running kgpc holds is never touched. Sizes are bytes, or a number with K, M, G
or T (powers of 1024).")]
    Gc {
        /// The size the cache must fit in, such as 5G, 800M or 1000000.
        #[arg(long, value_name = "SIZE")]
        max_size: String,
        /// Print what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a path of a cached kernel.
    Path {
        /// The release [default: the one `kgpc kernel fetch` resolved last].
        release: Option<String>,
        /// What to print.
        #[arg(long, value_enum, default_value_t = KernelPart::Kdir)]
        print: KernelPart,
    },
    /// Boot a cached kernel under QEMU and record which functions its kernel threads rest in.
    #[command(
        long_about = "Boot a cached kernel under QEMU and record which functions its kernel threads rest in.

The guest waits for the boot to settle and reads every task's /proc/PID/stack
three times, a second apart; what a sleeping kernel thread was in every time is
kept as the census, beside the kernel-facts index in the kgpc cache, by build id.
`kgpc check` warns (KGP0111) when a spec replaces a function some kernel thread
rests in, and records the census itself the first time it needs one. Prints
each kernel thread with the functions it rests in."
    )]
    Census {
        /// The release [default: the one `kgpc kernel fetch` resolved last].
        release: Option<String>,
        /// The QEMU system emulator to run.
        #[arg(long, default_value = crate::vm::DEFAULT_QEMU, value_name = "PROGRAM")]
        qemu: PathBuf,
        /// The statically linked busybox to put into the initramfs.
        #[arg(long, default_value = crate::vm::DEFAULT_BUSYBOX, value_name = "FILE")]
        busybox: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPart {
    /// The module build tree.
    Kdir,
    /// The bootable image.
    Vmlinuz,
    /// The debug vmlinux.
    Vmlinux,
    /// The modules of the image package.
    Modules,
    /// The unpacked root.
    Root,
    /// The kernel's source tree (see `kgpc kernel fetch --source`).
    Source,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// With --all-releases: how many builds run at once [default: the number of cores]
    #[arg(long, value_name = "J", requires = "all_releases", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
}

/// Every build at once: `--all-releases` and what goes with it.
#[derive(Args, Debug, Clone, Default)]
pub struct FleetArgs {
    /// Do it for every build the spec's releases match: each cached one, or
    /// with --fetch each the archive has. One child run per build, a summary
    /// table of build by result at the end.
    #[arg(long, conflicts_with = "release")]
    pub all_releases: bool,
    /// With --all-releases: fetch the matching builds the cache lacks from the
    /// distribution's archive first (apt), and list those it no longer has.
    #[arg(long, requires = "all_releases")]
    pub fetch: bool,
}

/// The CI systems `kgpc build --all-releases --plan` writes a matrix for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    /// GitHub Actions: the JSON of a `strategy.matrix` (`fromJSON`).
    Github,
    /// GitLab CI: a job with `parallel:matrix`.
    Gitlab,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// The files to format; none means standard input to standard output.
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 and show a diff if a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The code, such as KGP0012.
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its summary.
    #[arg(long)]
    pub list: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageFormat {
    /// rustc-style text with source excerpts.
    Human,
    /// One JSON object per line (see docs/diagnostics.md).
    Json,
}
