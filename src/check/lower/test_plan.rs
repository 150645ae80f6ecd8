//! The test block: what `kgpc test` loads, patches first, runs and looks for.

use super::Lowerer;
use crate::check::model::{
    DmesgExpectation, Expect, Refusal, TestCheck, TestLoad, TestPlan, TestReload, TestSetup,
    TestSpecRef, Workload,
};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::load::named_path;
use crate::source::Span;
use crate::syntax::ast::{Ast, Expectation, Script, Str, TestBlock, TestEntry};

impl Lowerer<'_> {
    /// The plan of the spec's one `test` block, if it has one.
    pub(super) fn test_block(&mut self, root: &Ast) -> Option<TestPlan> {
        let tests: Vec<&TestBlock> = root.tests().collect();
        for extra in tests.iter().skip(1) {
            self.duplicate(
                "the spec has more than one `test` block".to_string(),
                extra.keyword,
                tests[0].keyword,
                "merge the `test` blocks into one",
            );
        }
        tests.first().map(|t| self.test_plan(t))
    }

    /// The plan of one `test` block.
    fn test_plan(&mut self, block: &TestBlock) -> TestPlan {
        let base_dir = self
            .sources
            .base_dir(block.span.file)
            .map(std::path::Path::to_path_buf);
        let mut plan = TestPlan {
            span: block.keyword,
            loads: Vec::new(),
            patches_first: Vec::new(),
            files: Vec::new(),
            programs: Vec::new(),
            reloads: Vec::new(),
            setup: None,
            checks: Vec::new(),
            dmesg: Vec::new(),
            refused: None,
            workload: None,
        };
        for entry in &block.entries {
            match entry {
                TestEntry::Load(s) => {
                    self.nonempty(s, "module to load");
                    plan.loads.push(TestLoad {
                        what: s.value.clone(),
                        base_dir: base_dir.clone(),
                        span: s.span,
                    });
                }
                TestEntry::PatchFirst(s) => {
                    let path = named_path(self.sources, s);
                    if !self.named.spec_found(s) {
                        self.error(
                            Diagnostic::error(Code::UnreadableFile, format!("cannot find the spec `{}`", path.display()))
                                .at(s.span, "named here")
                                .with_help("`patch_first` names another spec, relative to this spec's directory"),
                        );
                    }
                    plan.patches_first.push(TestSpecRef { path, span: s.span });
                }
                TestEntry::File(path) => self.guest_file(path, &mut plan),
                TestEntry::Reload(s) => self.reload(s, &block.entries, &mut plan),
                TestEntry::Program(path) => self.guest_program(path, &mut plan),
                TestEntry::Setup { keyword, script } => {
                    self.nonempty_script(script, "setup script");
                    let span = Span::new(keyword.file, keyword.start, script.span().end);
                    match &plan.setup {
                        Some(first) => self.duplicate_property("setup", span, first.span),
                        None => {
                            plan.setup = Some(TestSetup {
                                script: script.text().to_string(),
                                span,
                            })
                        }
                    }
                }
                TestEntry::Check {
                    kind,
                    keyword,
                    command,
                    expects,
                } => {
                    self.nonempty_script(command, "command");
                    let end = expects.last().map_or(command.span().end, |e| e.span().end);
                    plan.checks.push(TestCheck {
                        kind: (*kind).into(),
                        command: command.text().to_string(),
                        expects: expects.iter().filter_map(|e| self.expect(e)).collect(),
                        span: Span::new(keyword.file, keyword.start, end),
                    });
                }
                TestEntry::Dmesg {
                    phase,
                    keyword,
                    lines,
                } => {
                    for line in lines {
                        self.nonempty(line, "kernel log text");
                    }
                    let end = lines.last().map_or(keyword.end, |l| l.span.end);
                    plan.dmesg.push(DmesgExpectation {
                        phase: (*phase).into(),
                        lines: lines.iter().map(|l| l.value.clone()).collect(),
                        span: Span::new(keyword.file, keyword.start, end),
                    });
                }
                TestEntry::Refused(s) => {
                    self.nonempty(s, "refusal text");
                    match &plan.refused {
                        Some(first) => self.duplicate_property("refused", s.span, first.span),
                        None => {
                            plan.refused = Some(Refusal {
                                text: s.value.clone(),
                                span: s.span,
                            })
                        }
                    }
                }
                TestEntry::Workload(s) => {
                    self.nonempty(s, "workload command");
                    match &plan.workload {
                        Some(first) => self.duplicate_property("workload", s.span, first.span),
                        None => {
                            plan.workload = Some(Workload {
                                command: s.value.clone(),
                                span: s.span,
                            })
                        }
                    }
                }
                TestEntry::Bad(_) => {}
            }
        }
        plan
    }

    /// `reload "MODULE"`: the `load` of the block that names the same module.
    fn reload(&mut self, s: &Str, entries: &[TestEntry], plan: &mut TestPlan) {
        let loads: Vec<&Str> = entries
            .iter()
            .filter_map(|e| match e {
                TestEntry::Load(load) => Some(load),
                _ => None,
            })
            .collect();
        match loads.iter().position(|load| load.value == s.value) {
            Some(load) => plan.reloads.push(TestReload { load, span: s.span }),
            None => self.error(
                Diagnostic::error(
                    Code::TestLoadNotFound,
                    format!("`reload` names `{}`, which the test does not load", s.value),
                )
                .at(s.span, "not loaded by this test")
                .with_help("name a module as its `load` entry writes it; the module is reloaded while the patch is applied"),
            ),
        }
    }

    /// One expectation of a check; `None` for an exit status out of range.
    fn expect(&mut self, expectation: &Expectation) -> Option<Expect> {
        Some(match expectation {
            Expectation::Contains { text, .. } => {
                self.nonempty(text, "text to look for");
                Expect::Contains(text.value.clone())
            }
            Expectation::Lacks { text, .. } => {
                self.nonempty(text, "text that must be absent");
                Expect::Lacks(text.value.clone())
            }
            Expectation::Exits { status, .. } => match status.value {
                Some(value @ 0..=255) => Expect::Exits(value as i32),
                // A number too large for 64 bits is reported by the parser.
                None => return None,
                Some(value) => {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidNumber,
                            format!("exit status {value} is out of range"),
                        )
                        .at(status.span, "not from 0 to 255")
                        .with_help("a shell's exit status is a number from 0 to 255"),
                    );
                    return None;
                }
            },
        })
    }

    /// Reports an empty script, which proves nothing.
    fn nonempty_script(&mut self, script: &Script, what: &str) {
        if script.text().trim().is_empty() {
            self.error(
                Diagnostic::error(Code::MissingProperty, format!("the {what} is empty"))
                    .at(script.span(), "nothing to run")
                    .with_help("write the shell commands to run"),
            );
        }
    }

    /// Reports an empty text, which every output contains.
    fn nonempty(&mut self, s: &Str, what: &str) {
        if s.value.trim().is_empty() {
            self.error(
                Diagnostic::error(Code::MissingProperty, format!("the {what} is empty"))
                    .at(s.span, "nothing to run or look for")
                    .with_help("an empty text is in every output, so the check could never fail"),
            );
        }
    }
}
