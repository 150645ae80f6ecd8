//! Kernel files that are not what they say: bad objects, damaged sections and indexes, FIFOs in their place.

use super::*;

#[test]
fn bad_kernel_files_get_clear_errors() {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let full = fs::read(&f.vmlinux).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-elf",
            b"hello, this is not an ELF file at all; really not at all.....".repeat(4),
            "not an ELF file",
        ),
        ("short", b"\x7fELF".to_vec(), "too short"),
        ("truncated", full[..200].to_vec(), "corrupted or truncated"),
        (
            "elf32",
            {
                let mut b = full.clone();
                b[4] = 1;
                b
            },
            "32-bit",
        ),
        (
            "badsections",
            {
                let mut b = full.clone();
                let n = b.len();
                b[40..48].copy_from_slice(&(n as u64 * 2).to_le_bytes());
                b
            },
            "corrupted or truncated",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = work.path().join(name);
        fs::write(&path, bytes).unwrap();
        let (code, _, stderr) = kgpc(
            work.path(),
            cache.path(),
            &["inspect", "--vmlinux", path.to_str().unwrap(), "show"],
        );
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(
            stderr.contains(path.to_str().unwrap()) && stderr.contains(expected),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("error[KGP0100]: cannot read the kernel"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Stripped: no symbol table.
    let stripped = work.path().join("stripped");
    run(Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(&f.vmlinux));
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["inspect", "--vmlinux", stripped.to_str().unwrap(), "show"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("no symbol table"), "{stderr}");
    // Missing, in a check: KGP0100 pointing at the target.
    fs::write(
        work.path().join("fix.kgp"),
        format!("{FIXTURE_HEAD}object vmlinux {{\n    replace int show(struct seq_file *m, void *v) {{ return 0; }}\n}}\n"),
    )
    .unwrap();
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["check", "fix.kgp", "--vmlinux", "/nonexistent/vmlinux"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[KGP0100]")
            && stderr.contains("/nonexistent/vmlinux: cannot open it: no such file"),
        "{stderr}"
    );
    // Corrupted DWARF: the file is named, nothing panics.
    let mut bad = full.clone();
    corrupt_section(&mut bad, &f.vmlinux, ".debug_abbrev");
    let path = work.path().join("bad-dwarf");
    fs::write(&path, bad).unwrap();
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["inspect", "--vmlinux", path.to_str().unwrap(), "show"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("DWARF") && stderr.contains("bad-dwarf"),
        "{stderr}"
    );
}

/// The fixture's cached index with one bit flipped, for every byte of it:
/// each load refuses the file and rebuilds an index equal to the clean one,
/// so a damaged cache never gives a different fact.
#[test]
fn a_damaged_index_is_rebuilt_never_believed() {
    use kgpc::kernel::{index_cache, Kernel, OpenOptions};
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..OpenOptions::default()
    };
    let clean = Kernel::open(&f.vmlinux, &options).unwrap();
    assert!(!clean.from_cache);
    let clean = clean.index().bytes().to_vec();
    let files: Vec<PathBuf> = fs::read_dir(dir.path().join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [file] = files.as_slice() else {
        panic!("one index file: {files:?}")
    };
    assert_eq!(fs::read(file).unwrap(), clean);
    assert!(Kernel::open(&f.vmlinux, &options).unwrap().from_cache);
    for at in 0..clean.len() {
        let mut damaged = clean.clone();
        damaged[at] ^= 1 << (at % 8);
        fs::write(file, &damaged).unwrap();
        assert!(
            index_cache::load(file).is_none(),
            "byte {at} flipped was accepted"
        );
        let kernel = Kernel::open(&f.vmlinux, &options).unwrap();
        assert!(!kernel.from_cache, "byte {at}: the damaged index was used");
        assert!(
            kernel.index().bytes() == clean,
            "byte {at}: the rebuilt index differs"
        );
        assert_eq!(
            fs::read(file).unwrap(),
            clean,
            "byte {at}: the cache was not repaired"
        );
    }
    eprintln!("{} flipped bytes refused and rebuilt", clean.len());
}

/// Points a section's header outside the file, using readelf to find it.
fn break_section_header(bytes: &mut [u8], file: &Path, name: &str) {
    let out = Command::new("readelf")
        .arg("-SW")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let index: usize = text
        .lines()
        .find(|l| l.contains(&format!(" {name} ")))
        .and_then(|l| l.split('[').nth(1)?.split(']').next()?.trim().parse().ok())
        .expect("section listed");
    let shoff = u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()) as usize;
    let at = shoff + index * 64 + 0x18;
    bytes[at..at + 8].copy_from_slice(&0x7fff_ffffu64.to_le_bytes());
}

/// Copies of the fixture vmlinux with one damaged section each: every one
/// is a warning naming the object and what is lost (KGP0117), the facts
/// that remain are still given, and a damaged ftrace table is not called
/// a missing one.
// One scenario in the order a user meets it (each damaged section in turn, on one object); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn damaged_sections_are_reported_with_what_is_lost() {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let full = fs::read(&f.vmlinux).unwrap();
    let mcount_section = {
        // The section holding __start_mcount_loc in the fixture's layout.
        let out = Command::new("readelf")
            .arg("-SW")
            .arg(&f.vmlinux)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let nm = Command::new("nm").arg(&f.vmlinux).output().unwrap();
        let nm = String::from_utf8_lossy(&nm.stdout).into_owned();
        let start = nm
            .lines()
            .find(|l| l.ends_with(" __start_mcount_loc"))
            .and_then(|l| u64::from_str_radix(l.split(' ').next()?, 16).ok())
            .unwrap();
        text.lines()
            .filter_map(|l| {
                let fields: Vec<&str> = l.split(']').nth(1)?.split_whitespace().collect();
                let addr = u64::from_str_radix(fields.get(2)?, 16).ok()?;
                let size = u64::from_str_radix(fields.get(4)?, 16).ok()?;
                (addr != 0 && start >= addr && start < addr + size).then(|| fields[0].to_string())
            })
            .next()
            .expect("a section holds the ftrace table")
    };
    let mut cases: Vec<(&str, Vec<u8>, &str, Option<&str>)> = Vec::new();
    let broken = |section: &str| {
        let mut bytes = full.clone();
        break_section_header(&mut bytes, &f.vmlinux, section);
        bytes
    };
    cases.push((
        "dwarf",
        broken(".debug_info"),
        "its DWARF cannot be read (section `.debug_info`: ",
        None,
    ));
    cases.push((
        "notes",
        broken(".notes"),
        "its notes (`.notes`) are damaged",
        None,
    ));
    cases.push((
        "mcount",
        broken(&mcount_section),
        "its ftrace call-site table cannot be read",
        Some("patchable    no: the object's ftrace call-site table cannot be read"),
    ));
    let garbage = work.path().join("garbage");
    fs::write(&garbage, [0x5a; 64]).unwrap();
    let with_btf = work.path().join("with-btf");
    run(Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".BTF={}", garbage.display()))
        .arg(&f.vmlinux)
        .arg(&with_btf));
    cases.push((
        "btf",
        fs::read(&with_btf).unwrap(),
        "its `.BTF` section is damaged (its header has no BTF magic)",
        None,
    ));
    for (name, bytes, loss, shown) in cases {
        let path = work.path().join(format!("vmlinux-{name}"));
        fs::write(&path, bytes).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = kgpc(
            work.path(),
            cache.path(),
            &["inspect", "--vmlinux", path.to_str().unwrap(), "show"],
        );
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains("show ("), "{name}: {stdout}");
        let warning = format!("warning[KGP0117]: `{}` is damaged: {loss}", path.display());
        assert!(stderr.contains(&warning), "{name}: {stderr}");
        assert!(
            !stdout.contains("has no ftrace call-site table"),
            "{name}: {stdout}"
        );
        if let Some(shown) = shown {
            assert!(stdout.contains(shown), "{name}: {stdout}");
        }
        // The loss is kept in the index: a second run says it again.
        let (_, _, again) = kgpc(
            work.path(),
            cache.path(),
            &["inspect", "--vmlinux", path.to_str().unwrap(), "show"],
        );
        assert!(again.contains(&warning), "{name}, from the cache: {again}");
    }
    // Without DWARF the facts fall back to the symbol table, and say so: no file.
    let (_, stdout, _) = kgpc(
        work.path(),
        tempfile::tempdir().unwrap().path(),
        &[
            "inspect",
            "--vmlinux",
            work.path().join("vmlinux-dwarf").to_str().unwrap(),
            "show",
        ],
    );
    assert!(!stdout.contains("file         core.c"), "{stdout}");
    // A check shows the warning at the target.
    fs::write(
        work.path().join("fix.kgp"),
        format!("{FIXTURE_HEAD}object vmlinux {{\n    replace int show(struct seq_file *m, void *v) {{ return 0; }}\n}}\n"),
    )
    .unwrap();
    let (_, _, stderr) = kgpc(
        work.path(),
        tempfile::tempdir().unwrap().path(),
        &["check", "fix.kgp", "--vmlinux", "vmlinux-btf"],
    );
    assert!(
        stderr.contains("warning[KGP0117]: `vmlinux-btf` is damaged"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the target whose vmlinux this is"),
        "{stderr}"
    );
}

/// Overwrites a section's bytes with 0xff, using readelf to find it.
pub(super) fn corrupt_section(bytes: &mut [u8], file: &Path, name: &str) {
    let out = Command::new("readelf")
        .args(["-SW"])
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains(&format!(" {name} ")))
        .expect("section listed");
    let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    let off = usize::from_str_radix(fields[3], 16).unwrap();
    let size = usize::from_str_radix(fields[4], 16).unwrap();
    for b in &mut bytes[off..off + size] {
        *b = 0xff;
    }
}

/// A FIFO in place of a kernel object or of the cached index is refused or
/// replaced, never read: reading one would wait for ever.
#[test]
fn fifos_in_place_of_kernel_files_are_never_read() {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mkfifo = |path: &Path| {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        run(Command::new("mkfifo").arg(path));
    };
    let fifo = work.path().join("vmlinux");
    mkfifo(&fifo);
    let bounded = |args: &[&str]| common::kgpc_bounded(work.path(), cache.path(), &[], args);
    let (code, _, stderr) = bounded(&["inspect", "--vmlinux", "vmlinux", "kthread"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("vmlinux: cannot open it: it is a FIFO, not a regular file"),
        "{stderr}"
    );
    // The index: built once, then a FIFO in its place is rebuilt over.
    let v = f.vmlinux.to_str().unwrap();
    let (code, _, stderr) = bounded(&["inspect", "--vmlinux", v, "kthread"]);
    assert_eq!(code, 0, "{stderr}");
    let index = fs::read_dir(cache.path().join("index"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::remove_file(&index).unwrap();
    mkfifo(&index);
    let (code, stdout, stderr) = bounded(&["inspect", "--vmlinux", v, "kthread"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kthread (vmlinux)"), "{stdout}");
    assert!(
        fs::metadata(&index).unwrap().is_file(),
        "the index was not rebuilt"
    );
    // A module object that is a FIFO.
    mkfifo(&work.path().join("modules/extra/fixture-mod.ko"));
    fs::write(
        work.path().join("fix.kgp"),
        format!("{FIXTURE_HEAD}object fixture_mod {{\n    replace int mod_fn(int a, long b) {{ return a; }}\n}}\n"),
    )
    .unwrap();
    let (code, _, stderr) = bounded(&["check", "fix.kgp", "--vmlinux", v, "--modules", "modules"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("it is a FIFO, not a regular file"),
        "{stderr}"
    );
}
