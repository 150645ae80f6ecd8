//! Debug objects by build id from debuginfod servers. Debian's real `debuginfod` (elfutils),
//! run on loopback over the real `-dbg` package of Debian 12's cloud kernel, serves a module's
//! debug object when apt knows no `-dbg` package, and the debug vmlinux by the build id read from
//! the image's vmlinuz. Small servers written here answer 404, send the wrong file, follow a
//! redirect, stall, or fill a small disk; each failure has its code and leaves nothing
//! half-written in the cache.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODULE: &str = "kernel/fs/nfsd/nfsd.ko";

/// The fetched kernel: its release, its unpacked root, and its `-dbg` package.
fn kernel() -> (String, PathBuf, PathBuf) {
    let (release, root, debs) = common::debian_kernel_and_debs();
    let prefix = format!("linux-image-{release}-dbg_");
    let deb = fs::read_dir(&debs)
        .expect("the cache keeps its packages")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .expect("fetching the vmlinux downloaded the -dbg package");
    (release, root, deb)
}

/// The build id `readelf -n` shows for `path`.
fn readelf_build_id(path: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-n")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "readelf -n {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: ").map(str::to_string))
        .unwrap_or_else(|| panic!("{} has a build id", path.display()))
}

/// Links `from` to `to` (a hard link, else a copy), making `to`'s directory.
fn place(from: &Path, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to).unwrap();
    }
}

/// A cache of its own holding the image's `files` (relative to the root) and, if `complete`,
/// the tree's completion mark, so that `kernel fetch` asks apt for nothing.
fn cache_with(release: &str, root: &Path, files: &[String], complete: bool) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    let new_root = cache.path().join("kernels").join(release).join("root");
    for file in files {
        place(&root.join(file), &new_root.join(file));
    }
    if complete {
        fs::copy(root.join(".kgpc-complete"), new_root.join(".kgpc-complete")).unwrap();
    }
    cache
}

/// An apt configuration that knows no package at all: no sources, no lists, nothing installed.
fn apt_knowing_nothing(dir: &Path) -> PathBuf {
    for d in ["parts", "lists/partial", "cache/archives/partial"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    fs::write(dir.join("sources.list"), "").unwrap();
    fs::write(dir.join("status"), "").unwrap();
    let d = dir.display();
    let conf = dir.join("apt.conf");
    fs::write(
        &conf,
        format!(
            "Dir::Etc::sourcelist \"{d}/sources.list\";\nDir::Etc::sourceparts \"{d}/parts\";\n\
             Dir::State::lists \"{d}/lists\";\nDir::State::status \"{d}/status\";\nDir::Cache \"{d}/cache\";\n"
        ),
    )
    .unwrap();
    conf
}

/// Runs kgpc with the cache `cache` and `env`, failing the test past `limit`; returns its
/// exit status and its standard output and error.
fn kgpc(cache: &Path, env: &[(&str, &str)], args: &[&str], limit: u64) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .env("KGPC_CACHE_DIR", cache)
        .env("KGPC_RUNNING_RELEASE", "")
        .env("NO_COLOR", "1")
        .env_remove("DEBUGINFOD_URLS")
        .env_remove("DEBUGINFOD_TIMEOUT")
        .env_remove("SSL_CERT_FILE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(limit) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kgpc {args:?} did not finish within {limit} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the cache's debuginfod directory holds, besides complete objects: any `.tmp.*` file
/// is a half-written download.
fn leftovers(cache: &Path) -> Vec<String> {
    let dir = cache.join("debuginfod");
    fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// A port on loopback nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A child process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian's debuginfod serving the directory `dir` on a free loopback port, once it has
/// scanned the package there; its database and temporary files stay in `dir`.
fn real_debuginfod(dir: &Path) -> (Killed, u16) {
    let version = Command::new("debuginfod").arg("--version").output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "debuginfod is not installed: scripts/setup.sh installs Debian's debuginfod package"
    );
    let port = closed_port();
    let log = fs::File::create(dir.join("debuginfod.log")).unwrap();
    // -Z names dpkg-deb for .deb archives (Debian's -U needs bsdtar); -t 0 scans once, -L
    // follows the link to a package on another disk.
    let child = Command::new("debuginfod")
        .args([
            "-p",
            &port.to_string(),
            "-Z",
            ".deb=dpkg-deb --fsys-tarfile",
        ])
        .arg("-d")
        .arg(dir.join("db.sqlite"))
        .args(["-t", "0", "-g", "0", "-c", "1", "-L", "-v"])
        .arg(dir.join("packages"))
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("debuginfod starts");
    let server = Killed(child);
    let metrics = format!("http://127.0.0.1:{port}/metrics");
    let start = Instant::now();
    loop {
        let scanned = ureq::get(&metrics)
            .call()
            .ok()
            .and_then(|r| r.into_body().read_to_string().ok())
            .is_some_and(|m| m.contains("scanned_files_total{source=\".deb archive\"} 1"));
        if scanned {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "debuginfod did not scan the package within 600 s:\n{}",
            fs::read_to_string(dir.join("debuginfod.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "debuginfod scanned the -dbg package in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    (server, port)
}

// One server for all of it: it takes its time to scan the 283 MB package.
#[test]
fn a_real_debuginfod_serves_a_modules_debug_object_and_the_vmlinux_by_build_id() {
    let (release, root, deb) = kernel();
    let server_dir = tempfile::tempdir().unwrap();
    let packages = server_dir.path().join("packages");
    fs::create_dir_all(&packages).unwrap();
    let served = packages.join(deb.file_name().unwrap());
    if fs::hard_link(&deb, &served).is_err() {
        std::os::unix::fs::symlink(&deb, &served).unwrap();
    }
    let (_server, port) = real_debuginfod(server_dir.path());
    let url = format!("http://127.0.0.1:{port}");
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let urls = format!("{refused} {url}");
    let apt = apt_knowing_nothing(&server_dir.path().join("apt"));
    let apt = apt.to_str().unwrap();

    // A module: apt knows no -dbg package, so its debug object is asked for by the build id
    // of the image's .ko; the first server refuses, the second has it.
    let image_module = format!("lib/modules/{release}/{MODULE}");
    let cache = cache_with(&release, &root, std::slice::from_ref(&image_module), false);
    let boot = cache
        .path()
        .join(format!("kernels/{release}/root/usr/lib/debug/boot"));
    fs::create_dir_all(&boot).unwrap();
    let vmlinux = format!("vmlinux-{release}");
    std::os::unix::fs::symlink(
        root.join("usr/lib/debug/boot").join(&vmlinux),
        boot.join(&vmlinux),
    )
    .unwrap();
    let inspect = [
        "inspect",
        "--release",
        &release,
        "--module",
        "nfsd",
        "--format",
        "json",
        "nfsd_open",
    ];
    let env = [("APT_CONFIG", apt), ("DEBUGINFOD_URLS", urls.as_str())];
    let (code, stdout, stderr) = kgpc(cache.path(), &env, &inspect, 600);
    assert_eq!(code, 0, "{stderr}");
    let id = readelf_build_id(&root.join(&image_module));
    for said in [
        format!("the debug object of {MODULE} could not be taken from the -dbg package (apt knows no packages for kernel {release}"),
        format!("asking {refused}/buildid/{id}/debuginfo"),
        format!("took the debug object of nfsd.ko of {release} from {url}: "),
        format!("build id {id} checked"),
    ] {
        assert!(stderr.contains(&said), "{said}\n{stderr}");
    }
    assert!(!stderr.contains("KGP0116"), "{stderr}");
    // The facts came from its DWARF: the files of both nfsd_open.
    let facts: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let files: Vec<&str> = facts.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["fs/nfsd/stats.c", "fs/nfsd/vfs.c"]);
    let kept = cache.path().join("debuginfod").join(&id).join("debuginfo");
    assert_eq!(readelf_build_id(&kept), id);
    let linked = cache
        .path()
        .join(format!(
            "kernels/{release}/root/usr/lib/debug/lib/modules/{release}"
        ))
        .join(MODULE);
    assert_eq!(fs::read(&linked).unwrap(), fs::read(&kept).unwrap());
    assert_eq!(leftovers(cache.path()), std::slice::from_ref(&id));
    // A later run finds it where the -dbg package would have put it and asks no server.
    let (code, _, stderr) = kgpc(cache.path(), &env, &inspect, 120);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("asking"), "{stderr}");

    // A module of a build the server never indexed (its build id changed by one bit): the
    // server answers 404, and the check says it read the image's module without DWARF.
    let other = cache_with(&release, &root, &[], false);
    let copy = other
        .path()
        .join(format!("kernels/{release}/root"))
        .join(&image_module);
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let mut bytes = fs::read(root.join(&image_module)).unwrap();
    let raw: Vec<u8> = (0..id.len() / 2)
        .map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let at = bytes.windows(raw.len()).position(|w| w == raw).unwrap();
    bytes[at] ^= 1;
    fs::write(&copy, bytes).unwrap();
    let other_boot = other
        .path()
        .join(format!("kernels/{release}/root/usr/lib/debug/boot"));
    fs::create_dir_all(&other_boot).unwrap();
    std::os::unix::fs::symlink(
        root.join("usr/lib/debug/boot").join(&vmlinux),
        other_boot.join(&vmlinux),
    )
    .unwrap();
    let env_one = [("APT_CONFIG", apt), ("DEBUGINFOD_URLS", url.as_str())];
    let (code, _, stderr) = kgpc(other.path(), &env_one, &inspect, 300);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("{url}: has no such object (404)")),
        "{stderr}"
    );
    assert!(stderr.contains("note[KGP0116]"), "{stderr}");
    assert_eq!(leftovers(other.path()), Vec::<String>::new());

    // The vmlinux, by the build id read from the image's compressed kernel.
    let cache = cache_with(&release, &root, &[format!("boot/vmlinuz-{release}")], true);
    let start = Instant::now();
    let (code, stdout, stderr) = kgpc(
        cache.path(),
        &[("DEBUGINFOD_URLS", url.as_str())],
        &[
            "kernel",
            "fetch",
            &release,
            "--debuginfod",
            "--print",
            "vmlinux",
        ],
        900,
    );
    let took = start.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{stderr}");
    let debug_vmlinux = root.join("usr/lib/debug/boot").join(&vmlinux);
    let vmlinux_id = readelf_build_id(&debug_vmlinux);
    assert!(
        stderr.contains(&format!(
            "has build id {vmlinux_id} (read from its compressed payload)"
        )),
        "{stderr}"
    );
    let fetched = PathBuf::from(stdout.trim());
    assert_eq!(
        fetched,
        cache.path().join(format!(
            "kernels/{release}/root/usr/lib/debug/boot/{vmlinux}"
        ))
    );
    assert_eq!(readelf_build_id(&fetched), vmlinux_id);
    let size = fs::metadata(&fetched).unwrap().len();
    assert_eq!(size, fs::metadata(&debug_vmlinux).unwrap().len());
    assert_eq!(leftovers(cache.path()), [vmlinux_id]);
    eprintln!(
        "kgpc took the {:.1} MB debug vmlinux from debuginfod in {took:.1} s",
        size as f64 / 1e6
    );
}

/// What a small server answers.
#[derive(Clone)]
enum Reply {
    Status(u16),
    Body(Vec<u8>),
    /// A redirect to this path on the same server.
    Redirect(String),
    /// Headers that promise a body, then nothing.
    Stall,
    /// This many zero bytes, announced by Content-Length.
    Zeros(u64),
}

/// A small HTTP server on loopback answering every request with what `reply` says of its
/// path; it runs until the test ends.
fn small_server(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reply = std::sync::Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let reply = reply.clone();
            std::thread::spawn(move || answer(stream, &*reply));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn answer(mut stream: TcpStream, reply: &dyn Fn(&str) -> Reply) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let head = |status: &str, length: u64, extra: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match reply(&path) {
        Reply::Status(code) => stream.write_all(head(&format!("{code} No"), 0, "").as_bytes()),
        Reply::Body(body) => stream
            .write_all(head("200 OK", body.len() as u64, "").as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::Redirect(to) => {
            stream.write_all(head("302 Found", 0, &format!("Location: {to}\r\n")).as_bytes())
        }
        Reply::Stall => {
            let _ = stream.write_all(head("200 OK", 1 << 20, "").as_bytes());
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        Reply::Zeros(n) => stream
            .write_all(head("200 OK", n, "").as_bytes())
            .and_then(|_| {
                let chunk = vec![0u8; 1 << 16];
                (0..n.div_ceil(chunk.len() as u64)).try_for_each(|_| stream.write_all(&chunk))
            }),
    };
}

/// The debug vmlinux of `release` fetched with `--debuginfod` into `cache` from `urls`.
fn fetch_vmlinux(cache: &Path, release: &str, env: &[(&str, &str)]) -> (i32, String) {
    let (code, _, stderr) = kgpc(
        cache,
        env,
        &["kernel", "fetch", release, "--debuginfod"],
        60,
    );
    (code, stderr)
}

#[test]
fn each_way_a_debuginfod_fetch_fails_has_its_code_and_leaves_nothing_half_written() {
    let (release, root, _) = kernel();
    let vmlinux_id = readelf_build_id(&root.join(format!("usr/lib/debug/boot/vmlinux-{release}")));
    let image_module = root.join(format!("lib/modules/{release}/{MODULE}"));
    let module_id = readelf_build_id(&image_module);
    let module = fs::read(&image_module).unwrap();
    let html = b"<!doctype html>\n<html><body>Welcome to our web site</body></html>\n".to_vec();
    let wanted = format!("/buildid/{vmlinux_id}/debuginfo");
    let server = {
        let (wanted, html, module) = (wanted.clone(), html.clone(), module.clone());
        small_server(move |path| match path.strip_suffix(&wanted) {
            Some("/missing") => Reply::Status(404),
            Some("/broken") => Reply::Status(500),
            Some("/page") => Reply::Body(html.clone()),
            Some("/other") => Reply::Redirect("/module".into()),
            Some("/stall") => Reply::Stall,
            _ if path == "/module" => Reply::Body(module.clone()),
            _ => Reply::Status(404),
        })
    };
    let cache = cache_with(&release, &root, &[format!("boot/vmlinuz-{release}")], true);
    let clean = |what: &str| {
        assert_eq!(
            leftovers(cache.path()),
            Vec::<String>::new(),
            "after {what}"
        );
        let tree = cache.path().join(format!("kernels/{release}/root"));
        assert!(!tree.join(".kgpc-dbg-complete").exists(), "after {what}");
        assert!(!tree.join("usr/lib/debug").exists(), "after {what}");
    };

    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains(&format!("error[KGP0232]: no debuginfod server to ask for the debug vmlinux of {release} (build id {vmlinux_id}): DEBUGINFOD_URLS is not set")), "{stderr}");
    clean("no server");

    // No network: nothing listens, and a name that resolves nowhere.
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let urls = format!("{refused} http://debuginfod.invalid");
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &[("DEBUGINFOD_URLS", &urls)]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("error[KGP0233]"), "{stderr}");
    assert!(
        stderr.contains(&format!("{refused}: no answer: io: Connection refused")),
        "{stderr}"
    );
    assert!(
        stderr.contains("http://debuginfod.invalid: no answer: "),
        "{stderr}"
    );
    clean("unreachable servers");

    let urls = format!("{refused} {server}/missing {server}/broken");
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &[("DEBUGINFOD_URLS", &urls)]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("error[KGP0234]: no debuginfod server gave the debug vmlinux"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{server}/missing: has no such object (404)")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{server}/broken: answered with HTTP status 500")),
        "{stderr}"
    );
    clean("404");

    // A web page, and (through a redirect) the ELF object of another build.
    let urls = format!("{server}/page {server}/other");
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &[("DEBUGINFOD_URLS", &urls)]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("error[KGP0235]"), "{stderr}");
    assert!(stderr.contains(&format!("{server}/page: sent the wrong file: it is not an ELF file (it starts with \"<!doctype html>")), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{server}/other: sent the wrong file: an ELF file of build id {module_id}"
        )),
        "{stderr}"
    );
    clean("the wrong files");

    // A server that promises a body and sends nothing is given up on after DEBUGINFOD_TIMEOUT.
    let urls = format!("{server}/stall");
    let start = Instant::now();
    let env = [
        ("DEBUGINFOD_URLS", urls.as_str()),
        ("DEBUGINFOD_TIMEOUT", "2"),
    ];
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &env);
    assert_eq!(code, 4, "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(30), "{stderr}");
    assert!(stderr.contains("error[KGP0233]"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{server}/stall: no answer: the download broke off after 0 bytes"
        )),
        "{stderr}"
    );
    clean("a stalled server");
}

#[test]
fn a_full_disk_while_fetching_is_reported_and_the_partial_file_removed() {
    let (release, root, _) = kernel();
    let server = small_server(|_| Reply::Zeros(64_000_000));
    let cache = cache_with(&release, &root, &[format!("boot/vmlinuz-{release}")], true);
    let objects = cache.path().join("debuginfod");
    fs::create_dir_all(&objects).unwrap();
    // A 2 MB disk for the downloads, in a mount namespace of its own (made as root, or by a
    // user namespace where the test's user is root), which ends with the command.
    let script = format!(
        "mount -t tmpfs -o size=2m kgpc-test '{objects}' || exit 99\n\
         '{kgpc}' kernel fetch {release} --debuginfod; echo \"status=$?\"\n\
         echo \"left=[$(ls -A '{objects}')]\"; df -k '{objects}' | tail -1",
        objects = objects.display(),
        kgpc = env!("CARGO_BIN_EXE_kgpc"),
    );
    let out = Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c", &script])
        .env("KGPC_CACHE_DIR", cache.path())
        .env("DEBUGINFOD_URLS", &server)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("status=4"), "{text}");
    assert!(text.contains(&format!("error[KGP0236]: the disk filled while kgpc wrote the debug vmlinux of {release} to {}/.tmp.", objects.display())), "{text}");
    assert!(text.contains(" of 64.0 MB had been written; "), "{text}");
    assert!(
        text.contains("had been written; what was written is removed, which leaves "),
        "{text}"
    );
    assert!(text.contains("help: free at least "), "{text}");
    // Nothing of the download is left on the small disk, nor is the tree marked.
    assert!(
        text.contains("left=[lock]") || text.contains("left=[]"),
        "{text}"
    );
    assert_eq!(leftovers(cache.path()), Vec::<String>::new());
    assert!(!cache
        .path()
        .join(format!("kernels/{release}/root/.kgpc-dbg-complete"))
        .exists());
}

/// Waits until something listens on `port` of loopback.
fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_https_server_is_checked_against_the_certificate_authorities_curl_would_use() {
    let (release, root, _) = kernel();
    let vmlinux_id = readelf_build_id(&root.join(format!("usr/lib/debug/boot/vmlinux-{release}")));
    let image_module = root.join(format!("lib/modules/{release}/{MODULE}"));
    let module_id = readelf_build_id(&image_module);
    // openssl serves the files of its directory over https: here another build's object
    // where the vmlinux is asked for, so a finished transfer ends in KGP0235.
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join(format!("buildid/{vmlinux_id}/debuginfo"));
    place(&image_module, &served);
    // A certificate authority of the test's own, and the server's certificate it signs.
    fs::write(
        dir.path().join("leaf.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    for args in [
        "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kgpc-test-ca -keyout ca.key -out ca.pem",
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out leaf.csr",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.cnf -out cert.pem",
    ] {
        let made = Command::new("openssl")
            .args(args.split(' '))
            .current_dir(dir.path())
            .output()
            .expect("openssl runs");
        assert!(made.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&made.stderr));
    }
    let port = closed_port();
    let server = Command::new("openssl")
        .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string()])
        .args(["-cert", "cert.pem", "-key", "key.pem"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let _server = Killed(server);
    wait_for_port(port);
    let cache = cache_with(&release, &root, &[format!("boot/vmlinuz-{release}")], true);
    let url = format!("https://127.0.0.1:{port}");
    let cert = dir.path().join("ca.pem");

    let trusted = [
        ("DEBUGINFOD_URLS", url.as_str()),
        ("SSL_CERT_FILE", cert.to_str().unwrap()),
    ];
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &trusted);
    assert_eq!(code, 4, "{stderr}");
    let wrong = format!("{url}: sent the wrong file: an ELF file of build id {module_id}");
    assert!(
        stderr.contains("error[KGP0235]") && stderr.contains(&wrong),
        "{stderr}"
    );
    assert_eq!(leftovers(cache.path()), Vec::<String>::new());

    // The system's authorities do not know the test's certificate: no transfer at all.
    let (code, stderr) = fetch_vmlinux(cache.path(), &release, &[("DEBUGINFOD_URLS", &url)]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("error[KGP0233]"), "{stderr}");
    assert!(stderr.contains(&format!("{url}: no answer: ")), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert_eq!(leftovers(cache.path()), Vec::<String>::new());
}
