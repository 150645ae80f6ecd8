//! The stable diagnostic codes and their long explanations.
//!
//! A code never changes meaning once released. The explanation of each code
//! lives in `docs/diagnostics/KGPnnnn.md`, is embedded in the binary and is
//! what `kgpc explain KGPnnnn` prints. KGP0029 and KGP0033 were dropped
//! before the first release and are not reused.

macro_rules! codes {
    ($($variant:ident = $code:literal, $title:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed, for example `KGP0001`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// A one-line summary of what the code is about.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }

            /// The long explanation printed by `kgpc explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../docs/diagnostics/", $code, ".md")),)*
                }
            }
        }
    };
}

codes! {
    SyntaxError = "KGP0001", "the spec does not follow the grammar";
    UnknownItem = "KGP0002", "unknown top-level item";
    UnknownEntry = "KGP0003", "unknown entry inside a block";
    InvalidString = "KGP0004", "invalid escape sequence in a string";
    MissingPatch = "KGP0005", "the spec has no `patch` block, or more than one";
    MissingTarget = "KGP0006", "the spec has no `target` block, or more than one";
    InvalidName = "KGP0007", "a name is not a valid identifier";
    NameTooLong = "KGP0008", "a name exceeds a kernel length limit";
    DuplicateProperty = "KGP0009", "a property is given twice in one block";
    MissingProperty = "KGP0010", "a required property is missing";
    DuplicateDefinition = "KGP0011", "something is defined twice";
    DuplicateShadowId = "KGP0012", "two shadow variables share one id";
    DuplicateStateId = "KGP0013", "two states share one id";
    UnknownTemplate = "KGP0014", "a shadow variable names an unknown template";
    ImportNotFound = "KGP0015", "an imported file does not exist";
    ImportCycle = "KGP0016", "imports form a cycle";
    NotAllowedInImport = "KGP0017", "an imported file holds an item only a spec may hold";
    UnreadableFile = "KGP0018", "a file cannot be read";
    UnsupportedKernel = "KGP0019", "the target kernel predates the supported livepatch API";
    FeatureNeedsNewerKernel = "KGP0020", "a feature needs a newer kernel than the target";
    InvalidVersion = "KGP0021", "a kernel version is malformed or disagrees with the release";
    UnknownArch = "KGP0022", "the architecture is unknown or has no livepatch support";
    ReleaseNotResolved = "KGP0023", "no concrete kernel release could be chosen";
    MissingPrototype = "KGP0024", "a replaced function has no prototype";
    InvalidNumber = "KGP0025", "a number is out of range";
    UnknownReferenceKind = "KGP0026", "unknown kind of reference";
    EmptyPatch = "KGP0027", "the patch changes nothing";
    OutputNotOurs = "KGP0028", "the output directory holds files kgpc did not write";
    ApiOutsideStd = "KGP0030", "`api` entries belong to the standard library";
    ReservedName = "KGP0031", "a name collides with one kgpc generates";
    MalformedReference = "KGP0032", "a reference does not look like its kind";
    OutputError = "KGP0034", "the output cannot be written";
    PreprocessorComment = "KGP0035", "a comment holds a C preprocessor line";
    DiffTargetsDiffer = "KGP0036", "the specs compared target different kernels";
    StateVersionLowered = "KGP0037", "a state's version goes down";
    StateDropped = "KGP0038", "a cumulative patch drops a state";
    FileNeedsKernelFacts = "KGP0039", "`in \"FILE\"` needs the kernel's facts to choose a function";
    NestingTooDeep = "KGP0040", "the spec nests blocks or parentheses too deeply";
    NotRegularFile = "KGP0041", "a file is not a regular file, or is too large";
    OutsideSpecTree = "KGP0042", "a spec reads a file outside its directory";
    NulCharacter = "KGP0043", "a description or author holds a NUL character";
    BodyBracesUnbalanced = "KGP0044", "a C block's braces do not balance as C reads them";
    MalformedPatch = "KGP0045", "a patch file is not a unified diff kgpc can read";
    KernelUnreadable = "KGP0100", "a kernel object cannot be read";
    KernelMismatch = "KGP0101", "the vmlinux is not the target's, or cannot be live patched";
    FunctionNotFound = "KGP0102", "a replaced function is not in the kernel";
    AmbiguousSymbol = "KGP0103", "a symbol's position is ambiguous or wrong";
    NotPatchable = "KGP0104", "livepatch cannot replace the function";
    CompilerClones = "KGP0105", "the compiler emitted clones of a replaced function";
    InlinedCopies = "KGP0106", "a replaced function has inlined copies elsewhere";
    PrototypeMismatch = "KGP0107", "a prototype differs from the kernel's";
    ExternProblem = "KGP0108", "an extern symbol is missing or declared differently";
    ExternExported = "KGP0109", "an extern symbol is exported and needs no declaration";
    ModuleNotFound = "KGP0110", "a target module's object was not found";
    TransitionMayStall = "KGP0111", "the patch transition may never complete";
    UnexportedSymbolUsed = "KGP0112", "a body uses a symbol the kernel does not export";
    CensusUnavailable = "KGP0115", "no census of tasks at rest: stalled transitions were not checked";
    ModuleWithoutDebugInfo = "KGP0116", "a module was checked without its debug information";
    KernelDamaged = "KGP0117", "a kernel object is damaged: some of its facts are lost";
    SourceNotFetched = "KGP0118", "the kernel's source is not in the kgpc cache";
    NoDeclLine = "KGP0119", "DWARF does not say where a function is defined";
    SourceFileMissing = "KGP0120", "the source tree lacks a function's file or definition";
    HunkDoesNotApply = "KGP0121", "a hunk of the fix does not apply to the target's source";
    PatchedFileMissing = "KGP0122", "the fix changes a file the target's source does not have";
    FixOnlyMovesLines = "KGP0123", "the fix only moves lines that a function prints";
    FixChangesLayout = "KGP0124", "the fix changes the layout of a type";
    FixChangesData = "KGP0125", "the fix changes or removes existing data";
    FixChangesInit = "KGP0126", "the fix changes `__init` or `__exit` code";
    FixChangesPrototype = "KGP0127", "the fix changes the prototype of an existing function";
    FixNotDerived = "KGP0128", "kgpc cannot derive a part of the fix";
    FixDoesNotCompile = "KGP0129", "the target's source does not compile with the fix";
    FixFollowsHeader = "KGP0130", "a header function the fix changes is followed into the files that use it";
    CopyNotReplaced = "KGP0131", "a replaced function has a copy that another file compiled";
    BadTextBlock = "KGP0132", "a text block is not laid out as its closing `\"\"\"` says";
    FixOutsideFunction = "KGP0133", "a function's fix changes lines outside that function";
    MalformedRequirement = "KGP0134", "a kernel config requirement is malformed";
    RequirementUnmet = "KGP0135", "the build's kernel config does not meet a requirement";
    BuildSkipped = "KGP0136", "the build is skipped: its kernel config does not meet the spec";
    CompilerError = "KGP0200", "the C compiler rejected the module's code";
    CompilerWarning = "KGP0201", "the C compiler warned about the module's code";
    KernelBuildFailed = "KGP0202", "the kernel build system failed";
    KernelNotFound = "KGP0203", "the target kernel is not available";
    UndefinedSymbol = "KGP0204", "the module uses a symbol the kernel does not export";
    KlpConversionFailed = "KGP0205", "the livepatch relocations cannot be written";
    MissingTool = "KGP0206", "a program kgpc needs is not installed";
    KernelFetchFailed = "KGP0207", "the kernel packages cannot be fetched";
    NoTestBlock = "KGP0208", "the spec has no test block";
    TestCheckFailed = "KGP0209", "a check of the test failed";
    ModuleRefused = "KGP0210", "the kernel refused to load a module";
    TransitionTimeout = "KGP0211", "a livepatch transition did not finish";
    KernelProblem = "KGP0212", "the kernel logged a warning, BUG, Oops or panic";
    VmFailed = "KGP0213", "the VM did not run the test to its end";
    TestLoadNotFound = "KGP0214", "a module the test loads cannot be found or built";
    GuestProgramFailed = "KGP0215", "a program the test builds for the guest does not compile";
    TestSetupFailed = "KGP0216", "the test's setup script failed in the guest";
    CpusUnsupported = "KGP0217", "the test's VM cannot have the CPUs asked for";
    WorkloadEnded = "KGP0218", "the test's workload ended before it was stopped";
    NoBuildMatches = "KGP0219", "no kernel build in the archive matches the releases asked for";
    GuestOutOfMemory = "KGP0220", "the guest ran out of memory";
    BuildPackagesGone = "KGP0221", "the archive no longer has the packages a build needs";
    FunctionDiffersBetweenBuilds = "KGP0222", "a replaced function differs between the builds the spec targets";
    SigningKeyUnreadable = "KGP0225", "the signing key or certificate cannot be read";
    SigningKeyMismatch = "KGP0226", "the signing key is not the certificate's key";
    SigningUnavailable = "KGP0227", "the build tree cannot sign modules";
    NothingToPackage = "KGP0228", "the spec has no build to package";
    PackageFailed = "KGP0229", "the Debian package cannot be made";
    RequirementsNotChecked = "KGP0230", "no kernel config was found: the requirements were not checked";
    ConfigUnreadable = "KGP0231", "the build's kernel config cannot be read";
    NoDebuginfodServer = "KGP0232", "no debuginfod server is named to ask for a debug object";
    DebuginfodUnreachable = "KGP0233", "no debuginfod server could be reached";
    DebuginfodNotFound = "KGP0234", "no debuginfod server has the debug object";
    DebuginfodWrongObject = "KGP0235", "a debuginfod server sent a file that is not the object asked for";
    DiskFull = "KGP0236", "the disk filled while kgpc fetched into its cache";
    IndexGap = "KGP0237", "the index of a kernel whose debug files were dropped cannot answer a question";
    IndexOnlyIncomplete = "KGP0238", "a kernel's debug files were dropped and its index is not in the cache";
    CacheTrim = "KGP0239", "the kernel cache cannot be trimmed as asked";
}

impl Code {
    /// Looks a code up by its printed form, ignoring case.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(
                seen.insert(code.as_str()),
                "{} is listed twice",
                code.as_str()
            );
            let text = code.explanation();
            assert!(
                text.starts_with(&format!("# {}", code.as_str())),
                "the explanation of {} must start with its heading",
                code.as_str()
            );
            assert!(
                text.contains("```"),
                "the explanation of {} needs an example",
                code.as_str()
            );
        }
    }

    #[test]
    fn parse_accepts_any_case() {
        assert_eq!(Code::parse("kgp0001"), Some(Code::SyntaxError));
        assert_eq!(Code::parse("KGP9999"), None);
    }
}
