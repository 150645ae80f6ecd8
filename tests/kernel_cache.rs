//! The kernel cache on a machine that has no kernel files of its own: a kernel fetched into an
//! empty cache directory builds a module without reading anything under the host's `/usr/src`
//! or `/lib/modules`. CI runs the tests with both of those empty (`.ci/run`), and this test
//! also looks at every file the build read, so a dependency on the host fails here even on a
//! machine whose `/usr/src` holds the same headers.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Host directories a build from the cache must never read.
const HOST_DIRS: &[&str] = &["/usr/src/", "/lib/modules/", "/usr/lib/linux-kbuild"];

// One scenario in the order a user meets it (fetch, build, then a build that waits for the lock); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn a_kernel_fetched_into_an_empty_cache_builds_without_the_hosts_files_and_waits_for_the_lock() {
    let shared_root = common::debian_kernel("root");
    let release = shared_root
        .parent()
        .and_then(Path::file_name)
        .expect("the cache's tree is kernels/<release>/root")
        .to_string_lossy()
        .into_owned();
    let shared_debs = shared_root.join("../../../debs");

    // A new cache, seeded with the packages the shared cache downloaded already (all but the
    // 283 MB -dbg one), so that the test unpacks and rewrites without downloading them again.
    let cache = tempfile::tempdir().expect("a temporary cache");
    let debs = cache.path().join("debs");
    fs::create_dir_all(&debs).unwrap();
    for entry in fs::read_dir(&shared_debs).expect("the shared cache keeps its packages") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".deb")
            && !name.contains("-dbg_")
            && fs::hard_link(&path, debs.join(&name)).is_err()
        {
            fs::copy(&path, debs.join(&name)).unwrap();
        }
    }

    let kgpc = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
            .args(args)
            .env("KGPC_CACHE_DIR", cache.path())
            .env_remove("KGPC_KDIR")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .expect("kgpc runs");
        let text = format!(
            "$ kgpc {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };

    let (fetched, log) = kgpc(&["kernel", "fetch", &release, "--no-dbg", "--print", "root"]);
    assert!(fetched, "{log}");
    let root = PathBuf::from(log.lines().nth(1).expect("the printed root").trim());
    assert!(root.starts_with(cache.path()), "{log}");
    let absolute_links: Vec<String> = links_under(&root)
        .into_iter()
        .filter(|(_, target)| target.is_absolute())
        .map(|(link, target)| format!("{} -> {}", link.display(), target.display()))
        .collect();
    assert_eq!(
        absolute_links,
        Vec::<String>::new(),
        "absolute links in the tree"
    );

    let out = cache.path().join("out");
    let spec = common::root().join("examples/livepatch-sample.kgp");
    let (built, log) = kgpc(&[
        "build",
        &spec.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
        "--release",
        &release,
    ]);
    assert!(built, "{log}");
    assert!(
        out.join("livepatch-sample.ko").is_file(),
        "no module in {}:\n{log}",
        out.display()
    );

    // kbuild's .cmd files list the command and every file each step read.
    let mut read_from_host = Vec::new();
    for entry in fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".cmd") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || "=:,;'\"()".contains(c)) {
            if HOST_DIRS.iter().any(|dir| word.starts_with(dir)) {
                read_from_host.push(format!("{name}: {word}"));
            }
        }
    }
    let cmd_files = fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".cmd"))
        })
        .count();
    assert!(
        cmd_files > 0,
        "kbuild left no .cmd files in {}",
        out.display()
    );
    assert_eq!(
        read_from_host,
        Vec::<String>::new(),
        "the build read host files"
    );

    // A tree that an older kgpc completed, while another kgpc holds the cache lock: a build
    // waits for the lock, then brings the tree up to date before it uses it.
    let mark = root.join(".kgpc-complete");
    let format = fs::read_to_string(&mark).unwrap();
    fs::write(&mark, "").unwrap();
    let lock = fs::File::create(cache.path().join("lock")).unwrap();
    lock.lock().unwrap();
    let waiting = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(["build", &spec.to_string_lossy(), "-o"])
        .arg(cache.path().join("out2"))
        .args(["--release", &release])
        .env("KGPC_CACHE_DIR", cache.path())
        .env_remove("KGPC_KDIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        fs::read_to_string(&mark).unwrap(),
        "",
        "the build did not wait"
    );
    assert!(!cache.path().join("out2/livepatch-sample.ko").exists());
    drop(lock);
    let output = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for another kgpc"), "{stderr}");
    assert!(stderr.contains("self-contained"), "{stderr}");
    assert_eq!(fs::read_to_string(&mark).unwrap(), format);
}

/// Every symbolic link under `dir` with its target.
fn links_under(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut links = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                links.push((entry.path(), fs::read_link(entry.path()).unwrap()));
            } else if kind.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    links
}
