//! The test block: what `kgpc test` loads, patches first, runs and looks for.

use super::Lowerer;
use crate::check::model::{
    DmesgExpectation, Refusal, TestCheck, TestLoad, TestPlan, TestSpecRef, Workload,
};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::load::named_path;
use crate::source::Span;
use crate::syntax::ast::{Ast, Str, TestBlock, TestEntry};

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
                TestEntry::Check {
                    kind,
                    keyword,
                    command,
                    expect,
                } => {
                    self.nonempty(command, "command");
                    self.nonempty(expect, "text to look for");
                    plan.checks.push(TestCheck {
                        kind: (*kind).into(),
                        command: command.value.clone(),
                        expect: expect.value.clone(),
                        span: Span::new(keyword.file, keyword.start, expect.span.end),
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
