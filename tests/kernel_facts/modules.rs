//! Rules and facts of module objects: found by name, compressed DWARF.

use super::*;
use crate::damaged_files::corrupt_section;

#[test]
fn rule_modules() {
    let f = fixture();
    let modules = f.modules.to_str().unwrap();
    let (code, stderr) = check_fixture(
        "object fixture_mod {\n    replace int mod_fn(int a, long b) { return a; }\n    replace int init_module(void) { return 0; }\n    replace mod_local { return 0; }\n}\n",
        &["--modules", modules],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "error[KGP0104]: livepatch cannot replace `init_module`: it is in .init.text"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("mod_fn"), "{stderr}");
    let (code, stderr) = check_fixture(
        "object fixture_mod {\n    replace int mod_fn(int a, long b) { return a; }\n}\n",
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning[KGP0110]: no object of module `fixture_mod` found"),
        "{stderr}"
    );
    // Without the module's object, its `in "FILE"` cannot be resolved: an error, not a drop.
    let (code, stderr) = check_fixture(
        "object fixture_mod {\n    replace int mod_fn(int a, long b) in \"mod.c\" { return a; }\n}\n",
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "error[KGP0039]: kgpc cannot tell which `mod_fn` of fixture_mod comes from \"mod.c\""
        ) && stderr.contains("no object of module `fixture_mod` was found"),
        "{stderr}"
    );
    let facts = {
        let cache = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = kgpc(
            &f.dir,
            cache.path(),
            &[
                "inspect",
                "--vmlinux",
                f.vmlinux.to_str().unwrap(),
                "--module",
                "fixture-mod",
                "--modules",
                modules,
                "--format",
                "json",
                "mod_local",
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap()
    };
    assert_eq!(facts[0]["object"], "fixture_mod");
    assert_eq!(facts[0]["prototype"], "int mod_local(int x)");
    assert_eq!(facts[0]["patchable"], true);
    // A module's address is what nm shows for it: the offset in its section.
    let nm = Command::new("nm")
        .arg(f.dir.join("module.o"))
        .output()
        .unwrap();
    let nm = String::from_utf8_lossy(&nm.stdout);
    let value = nm
        .lines()
        .find(|l| l.ends_with(" mod_local"))
        .and_then(|l| l.split(' ').next())
        .map(|v| u64::from_str_radix(v, 16).unwrap())
        .expect("nm lists mod_local");
    assert_eq!(facts[0]["address"], format!("{value:#x}"));
}

/// What `kgpc inspect` says of the functions of the fixture module, read from
/// the module objects in `modules`, and its warnings.
fn inspect_module(modules: &Path, names: &[&str]) -> (Value, String) {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let vmlinux = f.vmlinux.to_str().unwrap();
    let modules = modules.to_str().unwrap();
    let mut args = vec!["inspect", "--vmlinux", vmlinux, "--module", "fixture-mod"];
    args.extend(["--modules", modules, "--format", "json"]);
    args.extend_from_slice(names);
    let (code, stdout, stderr) = kgpc(&f.dir, cache.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    (serde_json::from_str(&stdout).unwrap(), stderr)
}

#[test]
fn a_module_with_compressed_dwarf_gives_the_facts_of_an_uncompressed_one() {
    let f = fixture();
    let names = ["mod_local", "mod_fn", "mod_user"];
    let (plain, _) = inspect_module(&f.modules, &names);
    assert_eq!(plain[0]["prototype"], "int mod_local(int x)");
    // `-gz=zlib` compresses sections in place (SHF_COMPRESSED); `-gz=zlib-gnu`
    // renames them `.zdebug_*`. Both keep the relocations of `.debug_info`.
    for (flag, section) in [
        ("-gz=zlib", ".debug_info"),
        ("-gz=zlib-gnu", ".zdebug_info"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("extra")).unwrap();
        let object = dir.path().join("extra/fixture-mod.ko");
        run(Command::new("gcc")
            .args([
                "-O2",
                "-g",
                flag,
                "-pg",
                "-mfentry",
                "-mrecord-mcount",
                "-fno-pic",
            ])
            .args([
                "-fno-asynchronous-unwind-tables",
                "-fno-stack-protector",
                "-c",
            ])
            .arg("module.c")
            .arg("-o")
            .arg(&object)
            .current_dir(&f.dir));
        let headers = Command::new("readelf")
            .args(["-S", "-W"])
            .arg(&object)
            .output()
            .unwrap();
        let headers = String::from_utf8_lossy(&headers.stdout).into_owned();
        let info = headers
            .lines()
            .find(|l| l.contains(&format!("] {section} ")))
            .unwrap_or_else(|| panic!("{flag} gives no {section}: {headers}"));
        if flag == "-gz=zlib" {
            let flags = info.split_whitespace().nth(8).unwrap_or("");
            assert!(
                flags.contains('C'),
                "{flag} leaves {section} uncompressed: {info}"
            );
        }
        let (compressed, stderr) = inspect_module(dir.path(), &names);
        assert_eq!(compressed, plain, "{flag}");
        assert!(!stderr.contains("KGP0117"), "{stderr}");
        // Compressed DWARF that does not decompress is damage, not a missing section.
        let mut bytes = fs::read(&object).unwrap();
        corrupt_section(&mut bytes, &object, section);
        fs::write(&object, bytes).unwrap();
        let (_, stderr) = inspect_module(dir.path(), &names);
        let lost = "its DWARF cannot be read (section `.debug_info`: ";
        assert!(
            stderr.contains("warning[KGP0117]") && stderr.contains(lost),
            "{flag}: {stderr}"
        );
    }
}
