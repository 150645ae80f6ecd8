//! The part of `/init` that loads the patch many times (`--cycles`) and
//! under a workload: each cycle loads, enables, disables and unloads the
//! patch, timing both transitions on the clock of `/proc/uptime` (10 ms;
//! busybox's `date` has no `%N`). A run of one cycle without a workload
//! does not use it: its script is the one [`super::script`] writes alone.

use super::load_protocol::words::*;
use super::protocol::words::PREFIX;
use super::protocol::{GuestPhase, Segment};
use super::script::{guest_path, load_line, phase, reload_lines, shell_quote};
use super::Plan;

/// Whether the plan's script needs this part: more than one cycle, or a workload.
pub fn needed(plan: &Plan) -> bool {
    plan.refused.is_none() && (plan.cycles > 1 || plan.workload.is_some())
}

/// The rest of the script after the checks before the patch: with a
/// workload, one cycle without it (cycle 0, no checks) and the workload
/// started; then every cycle; then the workload stopped, and the end.
pub fn cycles(plan: &Plan) -> String {
    let mut s = functions();
    s.push_str(&cycle_function(plan));
    if let Some(command) = &plan.workload {
        s.push_str("cycle 0\n");
        s.push_str(&format!("workload_start {}\n", shell_quote(command)));
    }
    s.push_str(&format!(
        "c=1\nwhile [ $c -le {} ]; do cycle $c; c=$((c + 1)); done\n",
        plan.cycles
    ));
    if plan.workload.is_some() {
        s.push_str("workload_stop\n");
    }
    s.push_str("finish\n");
    s
}

/// The shell functions of this part, which do not depend on the plan.
fn functions() -> String {
    format!(
        r#"# Sets T to the time since boot in hundredths of a second.
clock() {{ read -r up rest < /proc/uptime; T=$(( ${{up%.*}} * 100 + 1${{up#*.}} - 100 )); }}
# Starts timing a transition.
tick() {{ clock; T0=$T; }}
# Reports how long transition $1 (enable or disable) took since the tick.
tock() {{ clock; say {TOOK} $1 $((T - T0)); }}
# Polls every 10 ms, for up to 2 s, while livepatch $1's transition runs
# ($2 = 1) or while it exists ($2 = 0), so that short transitions are timed
# finely; the waits that follow take over after that.
settle() {{
  j=0
  while [ $j -lt 200 ]; do
    if [ "$2" = 1 ]; then
      {{ read -r t < "/sys/kernel/livepatch/$1/transition"; }} 2>/dev/null && [ "$t" = 1 ] || return 0
    else
      [ -d "/sys/kernel/livepatch/$1" ] || return 0
    fi
    sleep 0.01; j=$((j + 1))
  done
}}
# Starts disabling livepatch $1 and waits finely for its first 2 s.
off() {{ echo 0 > "/sys/kernel/livepatch/$1/enabled"; settle "$1" 0; }}
# Starts command $1 in the background once per online CPU (KGPC_WORKER
# says which copy), each copy's output in /tmp/workload.I.
workload_start() {{
  n=0
  for r in $(tr , ' ' < /sys/devices/system/cpu/online); do n=$((n + ${{r#*-}} - ${{r%-*}} + 1)); done
  WPIDS=
  i=0
  while [ $i -lt $n ]; do
    KGPC_WORKER=$i sh -c "$1" > /tmp/workload.$i 2>&1 < /dev/null &
    WPIDS="$WPIDS $!"
    i=$((i + 1))
  done
  say {WORKLOAD} {STARTED} $n
}}
# Stops the workload; reports each copy that had ended before, with its
# exit status and its first lines of output. A copy runs while its process
# is a child of this shell that is not a zombie.
workload_stop() {{
  i=0
  for p in $WPIDS; do
    st=$(awk '/^State:/ {{s = $2}} /^PPid:/ {{q = $2}} END {{print s q}}' /proc/$p/status 2>/dev/null)
    if [ "$st" = S$$ ] || [ "$st" = R$$ ] || [ "$st" = D$$ ]; then
      kill $p; wait $p
    else
      wait $p; rc=$?
      say {WORKLOAD} {EXITED} $i $rc
      head -n 20 /tmp/workload.$i | sed "s/^/{PREFIX} {WORKLOAD} {OUTPUT} $i /" >&3
    fi
    i=$((i + 1))
  done
}}
"#
    )
}

/// The function `cycle N`: cycle N of the patch, with the checks once it is
/// enabled and after it is unloaded, except in cycle 0; cycle 1 also loads
/// the modules that come after the patch.
fn cycle_function(plan: &Plan) -> String {
    let patch = &plan.patch;
    let n = shell_quote(&patch.kernel_name);
    let mut after = String::new();
    for module in &plan.modules_after {
        after.push_str(&load_line(module, Segment::Loaded));
    }
    if !after.is_empty() {
        after = format!("if [ $1 = 1 ]; then\n{after}fi\n");
    }
    let mut loaded = String::new();
    phase(&mut loaded, plan, GuestPhase::Loaded);
    // The modules the test reloads come and go once, in the first cycle.
    let reloads = reload_lines(plan);
    if !reloads.is_empty() {
        loaded.push_str(&format!("if [ $1 = 1 ]; then\n{reloads}fi\n"));
    }
    let mut unloaded = String::new();
    phase(&mut unloaded, plan, GuestPhase::Unloaded);
    let (loaded_log, unloaded_log) = (Segment::Loaded, Segment::Unloaded);
    format!(
        r#"# Cycle $1: loads the patch, waits for its transition, runs the checks,
# disables and unloads it and runs the checks again, timing both
# transitions; cycle 0 only times them.
cycle() {{
say {CYCLE} $1
load {path} {n} || {{ kmsg {loaded_log}; finish; }}
tick; settle {n} 1
wait_transition {n} || {{ kmsg {loaded_log}; finish; }}
tock {ENABLE}
{after}kmsg {loaded_log}
if [ $1 != 0 ]; then
{loaded}fi
tick; off {n}
disable {n} 2>/dev/null || {{ kmsg {unloaded_log}; finish; }}
tock {DISABLE}
unload {n}
kmsg {unloaded_log}
if [ $1 != 0 ]; then
{unloaded}fi
}}
"#,
        path = guest_path(patch),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{CheckKind, Expect, TestCheck};
    use crate::vm::load_results::LoadTimes;
    use crate::vm::report::Report;
    use crate::vm::results::{judge, Failure};
    use crate::vm::GuestModule;

    /// A plan whose check counts its runs in `tmp/n` and stops printing
    /// `fine` from its fourth run on: the checks before the patch and those
    /// of cycle 1 pass, cycle 2's fail.
    fn plan(cycles: u32, workload: Option<&str>) -> Plan {
        Plan {
            modules_first: vec![],
            setup: None,
            reloads: vec![],
            modules_after: vec![],
            patches_first: vec![],
            patch: GuestModule {
                file: "livepatch-x.ko".into(),
                kernel_name: "livepatch_x".into(),
            },
            checks: vec![TestCheck {
                kind: CheckKind::Always,
                command: "n=$(cat tmp/n 2>/dev/null || echo 0); echo $((n + 1)) > tmp/n; [ $n -lt 3 ] && echo fine".into(),
                expects: vec![Expect::Contains("fine".into())],
                span: crate::source::Span::new(crate::source::FileId(0), 0, 0),
            }],
            dmesg: vec![],
            refused: None,
            transition_timeout_secs: 1,
            cycles,
            cpus: 2,
            workload: workload.map(str::to_string),
        }
    }

    /// Runs the plan's script with a real shell in a scratch directory that
    /// stands in for `/tmp`, `/proc` and `/sys`, the kernel's commands
    /// replaced by shell functions; returns the report it wrote.
    fn run(plan: &Plan) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let scratch = dir.path().display().to_string();
        let script = crate::vm::script::init_script(plan);
        let body = script
            .split_once("exec 3>/dev/ttyS1\n")
            .expect("the script's setup ends with the report's port")
            .1
            .replace("/tmp/", &format!("{scratch}/tmp/"))
            .replace("/proc/uptime", &format!("{scratch}/uptime"))
            .replace("/sys/", &format!("{scratch}/sys/"));
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/devices/system/cpu")).unwrap();
        std::fs::write(dir.path().join("sys/devices/system/cpu/online"), "0-1\n").unwrap();
        std::fs::write(dir.path().join("uptime"), "12.05 3.00\n").unwrap();
        let stubs = "insmod() { :; }\nrmmod() { :; }\ndmesg() { :; }\nsync() { :; }\npoweroff() { exit 0; }\n";
        Report::parse(&crate::vm::run_script_for_test(dir.path(), stubs, &body))
    }

    #[test]
    fn a_check_that_fails_in_a_later_cycle_names_it() {
        let plan = plan(3, None);
        let report = run(&plan);
        assert!(report.ended && report.malformed.is_empty(), "{report:?}");
        assert_eq!(report.load.last_cycle, 3);
        let failures = judge(&plan, &report, "");
        let cycles: Vec<&str> = failures
            .iter()
            .map(|f| match f {
                Failure::Check(_, m) => m.split(':').next().unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            cycles,
            [
                "in cycle 2 of 3",
                "in cycle 2 of 3",
                "in cycle 3 of 3",
                "in cycle 3 of 3"
            ]
        );
        let times = LoadTimes::of(&report.load).unwrap();
        assert_eq!(times.cycles, 3);
        assert_eq!(times.enable.unwrap().max, 0.0);
    }

    #[test]
    fn a_workload_runs_per_cpu_after_a_cycle_without_it_and_one_that_ends_is_reported() {
        let ending = plan(1, Some("echo copy $KGPC_WORKER; exit 3"));
        let report = run(&ending);
        assert!(report.ended && report.malformed.is_empty(), "{report:?}");
        assert_eq!(report.load.workload_copies, Some(2));
        let cycles: Vec<u32> = report.load.took.iter().map(|t| t.cycle).collect();
        assert_eq!(cycles, [0, 0, 1, 1]);
        let exited = &report.load.exited;
        assert_eq!(exited.len(), 2);
        assert_eq!(
            (exited[1].status, exited[1].output.as_str()),
            (3, "copy 1\n")
        );
        let looping = super::tests::plan(1, Some("while :; do sleep 0.01; done"));
        let report = run(&looping);
        assert!(report.load.exited.is_empty(), "{report:?}");
        assert_eq!(judge(&looping, &report, ""), vec![]);
    }

    #[test]
    fn one_cycle_without_a_workload_does_not_use_this_part() {
        let script = crate::vm::script::init_script(&plan(1, None));
        assert!(!script.contains("cycle") && !script.contains(TOOK));
    }

    #[test]
    fn the_modules_a_test_reloads_come_and_go_in_the_first_cycle_only() {
        let mut plan = plan(3, None);
        plan.reloads = vec![crate::vm::GuestReload {
            module: GuestModule {
                file: "l0-m.ko".into(),
                kernel_name: "m".into(),
            },
            expected: vec![],
        }];
        let script = cycles(&plan);
        let reload = "if [ $1 = 1 ]; then\nunload 'm'\nload '/m/l0-m.ko' 'm'";
        assert_eq!(script.matches(reload).count(), 1, "{script}");
        assert!(script.find(reload) < script.find("tick; off"), "{script}");
    }
}
