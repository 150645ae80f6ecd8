//! The `/init` of the test initramfs: a busybox shell script that gathers facts.
//!
//! The script decides nothing. It loads modules, waits for transitions, runs the
//! checks in each phase and reports what happened as `KGPC ...` lines on the
//! second serial port (`/dev/ttyS1`); the kernel's console is the first. The Rust
//! side reads the lines back ([`super::results`]) and judges them.

use super::{GuestModule, Plan};

/// Quotes a string for the shell: `'...'` with `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

const PRELUDE: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp
exec 3>/dev/ttyS1
say() { echo "KGPC $*" >&3; }
MARK=0
# Reports the kernel messages logged since the last mark, for phase $1.
kmsg() {
  dmesg > /tmp/kmsg
  n=$(wc -l < /tmp/kmsg)
  [ "$n" -lt "$MARK" ] && MARK=0
  sed -n "$((MARK + 1)),${n}p" /tmp/kmsg | sed "s/^/KGPC KMSG $1 /" >&3
  MARK=$n
}
# Runs check $1 of phase $2: the command $3.
check() {
  out=$(sh -c "$3" 2>&1 < /dev/null)
  rc=$?
  echo "$out" | head -c 4096 | sed "s/^/KGPC OUT $1 $2 /" >&3
  say CHECK "$1" "$2" "$rc"
}
# Reports each line of file $2 as an error of module $1.
errors() {
  while IFS= read -r line; do printf 'KGPC ERR %s %s\n' "$1" "$line"; done < "$2" >&3
}
# Loads module file $1 as $2; reports its errors.
load() {
  insmod "$1" > /tmp/insmod 2>&1
  rc=$?
  errors "$2" /tmp/insmod
  say INSMOD "$2" "$rc"
  return $rc
}
# Unloads module $1; reports its errors.
unload() {
  rmmod "$1" > /tmp/rmmod 2>&1
  rc=$?
  errors "$1" /tmp/rmmod
  say RMMOD "$1" "$rc"
}
# Names the tasks whose patch state is not yet $1, with their kernel stacks.
blockers() {
  for d in /proc/[0-9]*; do
    s=$(cat $d/patch_state 2>/dev/null) || continue
    [ "$s" = -1 ] || [ "$s" = "$1" ] && continue
    p=${d#/proc/}
    say BLOCKER "$p" "$(cat $d/comm 2>/dev/null)"
    head -n 8 $d/stack 2>/dev/null | sed "s/^/KGPC STACK $p /" >&3
  done
}
# Waits until livepatch $1 has finished its transition.
wait_transition() {
  i=0
  while [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = 1 ] && [ $i -lt $LIMIT ]; do
    sleep 0.1; i=$((i + 1))
  done
  if [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = 1 ]; then
    blockers 1
    say TRANSITION "$1" timeout $i
    return 1
  fi
  say TRANSITION "$1" done $i "$(cat "/sys/kernel/livepatch/$1/enabled" 2>/dev/null)"
}
# Disables livepatch $1 and waits until the kernel has freed it.
disable() {
  echo 0 > "/sys/kernel/livepatch/$1/enabled"
  i=0
  while [ -d "/sys/kernel/livepatch/$1" ] && [ $i -lt $LIMIT ]; do
    sleep 0.1; i=$((i + 1))
  done
  if [ -d "/sys/kernel/livepatch/$1" ]; then
    blockers 0
    say DISABLE "$1" timeout $i
    return 1
  fi
  say DISABLE "$1" done $i
}
finish() {
  kmsg end
  say END
  sync
  poweroff -f
}
say BOOT "$(uname -r)"
"#;

/// The script for a plan.
pub fn init_script(plan: &Plan) -> String {
    let mut s = String::from(PRELUDE);
    s.push_str(&format!("LIMIT={}\n", plan.transition_timeout_secs * 10));
    s.push_str("kmsg boot\n");
    for module in &plan.modules_first {
        s.push_str(&load_line(module, "setup"));
    }
    for module in &plan.patches_first {
        s.push_str(&load_line(module, "setup"));
        s.push_str(&format!(
            "wait_transition {} || finish\n",
            shell_quote(&module.kernel_name)
        ));
    }
    s.push_str("kmsg setup\n");
    phase(&mut s, plan, "before");
    let patch = &plan.patch;
    let n = shell_quote(&patch.kernel_name);
    if plan.refused.is_some() {
        s.push_str(&format!(
            "insmod_rc=0; load {} {n} || insmod_rc=1\n",
            guest_path(patch)
        ));
        for module in &plan.modules_after {
            s.push_str(&load_line(module, "loaded"));
        }
        s.push_str("kmsg loaded\n");
        s.push_str(&format!(
            "if [ $insmod_rc = 0 ]; then wait_transition {n}; disable {n}; rmmod {n}; kmsg unloaded; finish; fi\n"
        ));
        phase(&mut s, plan, "refused");
        s.push_str("finish\n");
        return s;
    }
    s.push_str(&format!(
        "load {} {n} || {{ kmsg loaded; finish; }}\n",
        guest_path(patch)
    ));
    s.push_str(&format!(
        "wait_transition {n} || {{ kmsg loaded; finish; }}\n"
    ));
    for module in &plan.modules_after {
        s.push_str(&load_line(module, "loaded"));
    }
    s.push_str("kmsg loaded\n");
    phase(&mut s, plan, "loaded");
    s.push_str(&format!("disable {n} || {{ kmsg unloaded; finish; }}\n"));
    s.push_str(&format!("unload {n}\n"));
    s.push_str("kmsg unloaded\n");
    phase(&mut s, plan, "unloaded");
    s.push_str("finish\n");
    s
}

/// Loads a module; if the kernel refuses it, reports the kernel log as part of `phase`
/// and ends the test.
fn load_line(module: &GuestModule, phase: &str) -> String {
    format!(
        "load {} {} || {{ kmsg {phase}; finish; }}\n",
        guest_path(module),
        shell_quote(&module.kernel_name)
    )
}

/// Where a module's file is in the guest, quoted for the shell.
fn guest_path(module: &GuestModule) -> String {
    shell_quote(&format!("/m/{}", module.file))
}

fn phase(s: &mut String, plan: &Plan, name: &str) {
    s.push_str(&format!("say PHASE {name}\n"));
    for (index, check) in plan.checks.iter().enumerate() {
        s.push_str(&format!(
            "check {index} {name} {}\n",
            shell_quote(&check.command)
        ));
    }
    s.push_str(&format!("kmsg {name}-checks\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::module_name::kernel_module_name;

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
            checks: vec![],
            dmesg: vec![],
            refused: None,
            transition_timeout_secs: 5,
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
            checks: vec![],
            dmesg: vec![],
            refused: None,
            transition_timeout_secs: 5,
        };
        let script = init_script(&plan);
        let body = script
            .strip_prefix(PRELUDE)
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

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(shell_quote("it's"), r#"'it'\''s'"#);
        assert_eq!(shell_quote("a $b `c`"), "'a $b `c`'");
    }
}
