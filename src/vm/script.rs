//! The `/init` of the test initramfs: a busybox shell script that gathers facts.
//!
//! The script decides nothing. It loads modules, waits for transitions, runs the
//! checks in each phase and reports what happened as `KGPC ...` lines on the
//! second serial port (`/dev/ttyS1`); the kernel's console is the first. The
//! lines' words come from [`super::protocol`], whose parser reads them back;
//! [`super::report`] gathers them and [`super::results`] judges them.

use super::protocol::words::*;
use super::protocol::{GuestPhase, Segment};
use super::{GuestModule, Plan};

/// Quotes a string for the shell: `'...'` with `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The start of `/init`: busybox's commands, the file systems, the test's
/// files as the working directory and on the path, and the report's serial
/// port as file descriptor 3.
const SETUP: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/test
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /test
cd /test
exec 3>/dev/ttyS1
"#;

/// The shell functions of `/init`, which write the report's lines on file
/// descriptor 3 in the protocol's words.
fn functions() -> String {
    let end = Segment::End;
    format!(
        r#"say() {{ echo "{PREFIX} $*" >&3; }}
MARK=0
# Reports the kernel messages logged since the last mark, for phase $1.
kmsg() {{
  dmesg > /tmp/kmsg
  n=$(wc -l < /tmp/kmsg)
  [ "$n" -lt "$MARK" ] && MARK=0
  sed -n "$((MARK + 1)),${{n}}p" /tmp/kmsg | sed "s/^/{PREFIX} {KMSG} $1 /" >&3
  MARK=$n
}}
# Runs check $1 of phase $2: the command $3.
check() {{
  out=$(sh -c "$3" 2>&1 < /dev/null)
  rc=$?
  echo "$out" | head -c 4096 | sed "s/^/{PREFIX} {OUT} $1 $2 /" >&3
  say {CHECK} "$1" "$2" "$rc"
}}
# Runs the setup script $1; reports its output and exit status.
setup() {{
  out=$(sh -c "$1" 2>&1 < /dev/null)
  rc=$?
  echo "$out" | head -c 4096 | sed "s/^/{PREFIX} {SETUP_OUT} /" >&3
  say {SETUP_STATUS} "$rc"
  return $rc
}}
# Reports each line of file $2 as an error of module $1.
errors() {{
  while IFS= read -r line; do printf '{PREFIX} {ERR} %s %s\n' "$1" "$line"; done < "$2" >&3
}}
# Loads module file $1 as $2; reports its errors.
load() {{
  insmod "$1" > /tmp/insmod 2>&1
  rc=$?
  errors "$2" /tmp/insmod
  say {INSMOD} "$2" "$rc"
  return $rc
}}
# Unloads module $1; reports its errors.
unload() {{
  rmmod "$1" > /tmp/rmmod 2>&1
  rc=$?
  errors "$1" /tmp/rmmod
  say {RMMOD} "$1" "$rc"
}}
# Names the tasks whose patch state is not yet $1, with their kernel stacks.
blockers() {{
  for d in /proc/[0-9]*; do
    s=$(cat $d/patch_state 2>/dev/null) || continue
    [ "$s" = -1 ] || [ "$s" = "$1" ] && continue
    p=${{d#/proc/}}
    say {BLOCKER} "$p" "$(cat $d/comm 2>/dev/null)"
    head -n 8 $d/stack 2>/dev/null | sed "s/^/{PREFIX} {STACK} $p /" >&3
  done
}}
# Waits until livepatch $1 has finished its transition.
wait_transition() {{
  i=0
  while [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = 1 ] && [ $i -lt $LIMIT ]; do
    sleep 0.1; i=$((i + 1))
  done
  if [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = 1 ]; then
    blockers 1
    say {TRANSITION} "$1" {TIMEOUT} $i
    return 1
  fi
  say {TRANSITION} "$1" {DONE} $i "$(cat "/sys/kernel/livepatch/$1/enabled" 2>/dev/null)"
}}
# Disables livepatch $1 and waits until the kernel has freed it.
disable() {{
  echo 0 > "/sys/kernel/livepatch/$1/enabled"
  i=0
  while [ -d "/sys/kernel/livepatch/$1" ] && [ $i -lt $LIMIT ]; do
    sleep 0.1; i=$((i + 1))
  done
  if [ -d "/sys/kernel/livepatch/$1" ]; then
    blockers 0
    say {DISABLE} "$1" {TIMEOUT} $i
    return 1
  fi
  say {DISABLE} "$1" {DONE} $i
}}
finish() {{
  kmsg {end}
  say {END}
  sync
  poweroff -f
}}
"#
    )
}

/// Everything the script for any plan starts with, up to the report of the boot.
fn prelude() -> String {
    format!(
        "{SETUP}{}say {BOOT} \"$(uname -r)\"\nsay {CPUS} \"$(cat /sys/devices/system/cpu/online)\"\n",
        functions()
    )
}

/// The script for a plan.
pub fn init_script(plan: &Plan) -> String {
    let (setup, loaded, unloaded) = (Segment::Setup, Segment::Loaded, Segment::Unloaded);
    let mut s = prelude();
    s.push_str(&format!("LIMIT={}\n", plan.transition_timeout_secs * 10));
    s.push_str(&format!("kmsg {}\n", Segment::Boot));
    for module in &plan.modules_first {
        s.push_str(&load_line(module, setup));
    }
    for module in &plan.patches_first {
        s.push_str(&load_line(module, setup));
        s.push_str(&format!(
            "wait_transition {} || finish\n",
            shell_quote(&module.kernel_name)
        ));
    }
    if let Some(script) = &plan.setup {
        s.push_str(&format!(
            "setup {} || {{ kmsg {setup}; finish; }}\n",
            shell_quote(script)
        ));
    }
    s.push_str(&format!("kmsg {setup}\n"));
    phase(&mut s, plan, GuestPhase::Before);
    if super::load_script::needed(plan) {
        s.push_str(&super::load_script::cycles(plan));
        return s;
    }
    let patch = &plan.patch;
    let n = shell_quote(&patch.kernel_name);
    if plan.refused.is_some() {
        s.push_str(&format!(
            "insmod_rc=0; load {} {n} || insmod_rc=1\n",
            guest_path(patch)
        ));
        for module in &plan.modules_after {
            s.push_str(&load_line(module, loaded));
        }
        s.push_str(&format!("kmsg {loaded}\n"));
        s.push_str(&format!(
            "if [ $insmod_rc = 0 ]; then wait_transition {n}; disable {n}; rmmod {n}; kmsg {unloaded}; finish; fi\n"
        ));
        phase(&mut s, plan, GuestPhase::Refused);
        s.push_str("finish\n");
        return s;
    }
    s.push_str(&format!(
        "load {} {n} || {{ kmsg {loaded}; finish; }}\n",
        guest_path(patch)
    ));
    s.push_str(&format!(
        "wait_transition {n} || {{ kmsg {loaded}; finish; }}\n"
    ));
    for module in &plan.modules_after {
        s.push_str(&load_line(module, loaded));
    }
    s.push_str(&format!("kmsg {loaded}\n"));
    phase(&mut s, plan, GuestPhase::Loaded);
    s.push_str(&reload_lines(plan));
    s.push_str(&format!("disable {n} || {{ kmsg {unloaded}; finish; }}\n"));
    s.push_str(&format!("unload {n}\n"));
    s.push_str(&format!("kmsg {unloaded}\n"));
    phase(&mut s, plan, GuestPhase::Unloaded);
    s.push_str("finish\n");
    s
}

/// Unloads and loads again each module the test reloads while the patch is
/// applied, and reports the kernel log they caused; nothing without reloads.
pub(super) fn reload_lines(plan: &Plan) -> String {
    if plan.reloads.is_empty() {
        return String::new();
    }
    let reload = Segment::Reload;
    let mut s = String::new();
    for r in &plan.reloads {
        s.push_str(&format!("unload {}\n", shell_quote(&r.module.kernel_name)));
        s.push_str(&load_line(&r.module, reload));
    }
    s.push_str(&format!("kmsg {reload}\n"));
    s
}

/// Loads a module; if the kernel refuses it, reports the kernel log as part of
/// `segment` and ends the test.
pub(super) fn load_line(module: &GuestModule, segment: Segment) -> String {
    format!(
        "load {} {} || {{ kmsg {segment}; finish; }}\n",
        guest_path(module),
        shell_quote(&module.kernel_name)
    )
}

/// Where a module's file is in the guest, quoted for the shell.
pub(super) fn guest_path(module: &GuestModule) -> String {
    shell_quote(&format!("/m/{}", module.file))
}

/// Starts `phase`, runs every check in it and reports the kernel log the checks caused.
pub(super) fn phase(s: &mut String, plan: &Plan, phase: GuestPhase) {
    s.push_str(&format!("say {PHASE} {phase}\n"));
    for (index, check) in plan.checks.iter().enumerate() {
        s.push_str(&format!(
            "check {index} {phase} {}\n",
            shell_quote(&check.command)
        ));
    }
    s.push_str(&format!("kmsg {}\n", Segment::Checks(phase)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{CheckKind, DmesgExpectation, Expect, Phase, TestCheck};
    use crate::kernel::module_name::kernel_module_name;
    use crate::vm::protocol::GuestReport;
    use crate::vm::report::Report;
    use crate::vm::results::{judge, Failure};

    #[test]
    fn modules_after_the_patch_load_once_its_transition_is_done() {
        let module = |name: &str| GuestModule {
            file: format!("{name}.ko"),
            kernel_name: kernel_module_name(name),
        };
        let plan = Plan {
            modules_first: vec![module("first-mod")],
            modules_after: vec![module("after-mod")],
            patches_first: vec![],
            patch: module("livepatch-x"),
            setup: None,
            reloads: vec![],
            checks: vec![],
            dmesg: vec![],
            refused: None,
            cycles: 1,
            workload: None,
            transition_timeout_secs: 5,
            cpus: 1,
        };
        let script = init_script(&plan);
        let at = |text: &str| {
            script
                .find(text)
                .unwrap_or_else(|| panic!("no `{text}` in:\n{script}"))
        };
        assert!(at("load '/m/first-mod.ko'") < at("load '/m/livepatch-x.ko'"));
        assert!(at("wait_transition 'livepatch_x'") < at("load '/m/after-mod.ko' 'after_mod'"));
        assert!(
            at("load '/m/after-mod.ko' 'after_mod' || { kmsg loaded;") < at("say PHASE loaded")
        );
    }

    /// The plan's part of the script, run by a real shell with every guest
    /// function replaced by one that prints its arguments: hostile module
    /// names reach the functions as one word each, and run nothing.
    #[test]
    fn hostile_module_names_are_single_words_to_the_shell() {
        let hostile = [
            "x'; touch pwned; '",
            "$(touch pwned)",
            "a b\n; touch pwned",
            "`touch pwned`",
            "\"; touch pwned; \"",
        ];
        let module = |name: &str| GuestModule {
            file: format!("{name}.ko"),
            kernel_name: name.to_string(),
        };
        let plan = Plan {
            modules_first: vec![module(hostile[0]), module(hostile[1])],
            modules_after: vec![module(hostile[2])],
            patches_first: vec![module(hostile[3])],
            patch: module(hostile[4]),
            setup: None,
            reloads: vec![],
            checks: vec![],
            dmesg: vec![],
            refused: None,
            cycles: 1,
            workload: None,
            transition_timeout_secs: 5,
            cpus: 1,
        };
        let script = init_script(&plan);
        let body = script
            .strip_prefix(&prelude())
            .expect("the script starts with the prelude");
        let stubs = "for f in load unload wait_transition disable rmmod; do \
                     eval \"$f() { printf '%s\\\\0' $f \\\"\\$@\\\"; }\"; done; \
                     kmsg() { :; }; finish() { :; }; say() { :; }; check() { :; }\n";
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{stubs}{body}"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !dir.path().join("pwned").exists(),
            "a module name ran a command"
        );
        let words: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_string)
            .collect();
        let call = |f: &str, args: &[String]| {
            let mut v = vec![f.to_string()];
            v.extend(args.iter().cloned());
            v
        };
        let load = |name: &str| call("load", &[format!("/m/{name}.ko"), name.to_string()]);
        let mut expected = Vec::new();
        expected.extend(load(hostile[0]));
        expected.extend(load(hostile[1]));
        expected.extend(load(hostile[3]));
        expected.extend(call("wait_transition", &[hostile[3].to_string()]));
        expected.extend(load(hostile[4]));
        expected.extend(call("wait_transition", &[hostile[4].to_string()]));
        expected.extend(load(hostile[2]));
        expected.extend(call("disable", &[hostile[4].to_string()]));
        expected.extend(call("unload", &[hostile[4].to_string()]));
        assert_eq!(words, expected);
    }

    /// Runs a script without its setup in `dir`, whose files stand in for the
    /// guest's `/tmp`, `/proc`, livepatch directory and online CPUs (one),
    /// with shell functions in place of the commands that need a kernel
    /// (powering off ends the script); returns what the guest wrote on its
    /// report's serial port.
    fn run_in(dir: &std::path::Path, script: &str) -> String {
        let scratch = dir.display();
        let body = script
            .strip_prefix(SETUP)
            .expect("the script starts with its setup")
            .replace("/tmp/", &format!("{scratch}/tmp/"))
            .replace("/proc/", &format!("{scratch}/proc/"))
            .replace("/sys/kernel/livepatch/", &format!("{scratch}/livepatch/"))
            .replace("/sys/devices/system/cpu/", &format!("{scratch}/cpu/"));
        let stubs = "insmod() { echo \"[    1.0] livepatch: enabling patch '$1'\" >> log; }\n\
                     rmmod() { :; }\ndmesg() { cat log; }\nsync() { :; }\npoweroff() { exit 0; }\n";
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::create_dir_all(dir.join("cpu")).unwrap();
        std::fs::write(dir.join("cpu/online"), "0\n").unwrap();
        std::fs::write(dir.join("log"), "[    0.0] Linux version 6.1\n").unwrap();
        crate::vm::run_script_for_test(dir, stubs, &body)
    }

    fn proving_plan() -> Plan {
        let module = |name: &str| GuestModule {
            file: format!("{name}.ko"),
            kernel_name: kernel_module_name(name),
        };
        let span = crate::source::Span::new(crate::source::FileId(0), 0, 0);
        Plan {
            modules_first: vec![module("dep-mod")],
            modules_after: vec![],
            patches_first: vec![],
            patch: module("livepatch-x"),
            checks: vec![TestCheck {
                kind: CheckKind::Always,
                command: "echo patched; echo; echo 'a  b'".into(),
                expects: vec![Expect::Contains("patched".into())],
                span,
            }],
            dmesg: vec![DmesgExpectation {
                phase: Phase::Loaded,
                lines: vec!["enabling patch".into()],
                span,
            }],
            setup: Some("echo ready".into()),
            reloads: vec![],
            refused: None,
            cycles: 1,
            workload: None,
            transition_timeout_secs: 0,
            cpus: 1,
        }
    }

    /// The script's own shell functions write every line in words the
    /// protocol's parser reads, and a run that went well is judged so.
    #[test]
    fn the_guests_lines_read_back_and_a_good_run_passes() {
        let dir = tempfile::tempdir().unwrap();
        let plan = proving_plan();
        let text = run_in(dir.path(), &init_script(&plan));
        for line in text.lines() {
            assert!(
                matches!(GuestReport::from_line(line), Some(Ok(_))),
                "{line}\nin:\n{text}"
            );
        }
        let report = Report::parse(&text);
        let phases = [GuestPhase::Before, GuestPhase::Loaded, GuestPhase::Unloaded];
        assert_eq!(report.phases, phases);
        assert_eq!(
            report.checks.get(&(0, GuestPhase::Loaded)),
            Some(&(0, "patched\n\na  b\n".to_string()))
        );
        assert_eq!(report.insmods.len(), 2);
        assert!(report.transitions[0].wait.done && report.disables[0].wait.done);
        assert_eq!(report.rmmods[0].module, "livepatch_x");
        assert!(report.ended);
        assert_eq!(judge(&plan, &report, ""), vec![]);
    }

    /// A transition that does not finish reports the tasks in its way, with their stacks.
    #[test]
    fn a_stalled_transition_names_its_blockers() {
        let dir = tempfile::tempdir().unwrap();
        let patch = dir.path().join("livepatch/livepatch_x");
        std::fs::create_dir_all(&patch).unwrap();
        std::fs::write(patch.join("transition"), "1\n").unwrap();
        let task = dir.path().join("proc/77");
        std::fs::create_dir_all(&task).unwrap();
        std::fs::write(task.join("patch_state"), "0\n").unwrap();
        std::fs::write(task.join("comm"), "kworker/0:1\n").unwrap();
        std::fs::write(task.join("stack"), "[<0>] msleep+0x28/0x40\n").unwrap();
        let plan = proving_plan();
        let report = Report::parse(&run_in(dir.path(), &init_script(&plan)));
        assert!(report.malformed.is_empty(), "{:?}", report.malformed);
        let stalled = "the transition of livepatch_x did not finish within 0 s (waited 0.0 s); \
                       tasks not yet switched:\n  kworker/0:1 (pid 77)\n      [<0>] msleep+0x28/0x40";
        assert_eq!(
            judge(&plan, &report, ""),
            vec![Failure::Transition(stalled.into())]
        );
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(shell_quote("it's"), r#"'it'\''s'"#);
        assert_eq!(shell_quote("a $b `c`"), "'a $b `c`'");
    }
}
