//! Debug objects by build id from debuginfod servers, the protocol elfutils
//! defined and Fedora, Ubuntu, Debian, openSUSE and Arch serve.
//!
//! ```text
//! <cache>/debuginfod/HEX/debuginfo      one object, renamed into place once its build id is checked
//! <cache>/debuginfod/.tmp.*             a download under way, removed if it fails
//! ```
//!
//! The servers are read from the environment as elfutils reads them:
//! `DEBUGINFOD_URLS` (URLs separated by spaces, each asked in turn for
//! `URL/buildid/HEX/debuginfo`), `DEBUGINFOD_TIMEOUT` (seconds a server may
//! take to connect, to answer and between two reads of the body; 90 unless
//! set) and `DEBUGINFOD_MAXTIME` (seconds a whole download may take; no limit
//! unless set). An https server's certificate is checked against `SSL_CERT_FILE`
//! or the system's certificate authorities, as curl checks it.

use super::debuginfod_error::{Asked, DebuginfodError};
use super::lock::Lock;
use super::{say, FetchError};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// elfutils' default of `DEBUGINFOD_TIMEOUT`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// The servers to ask and how long to wait for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    pub urls: Vec<String>,
    pub timeout: Duration,
    pub max_time: Option<Duration>,
}

impl Servers {
    /// The servers the environment names; `None` when `DEBUGINFOD_URLS` names none.
    pub fn from_env() -> Option<Servers> {
        let var = |name: &str| std::env::var(name).ok();
        Servers::from_values(
            var("DEBUGINFOD_URLS").as_deref(),
            var("DEBUGINFOD_TIMEOUT").as_deref(),
            var("DEBUGINFOD_MAXTIME").as_deref(),
        )
    }

    fn from_values(
        urls: Option<&str>,
        timeout: Option<&str>,
        max_time: Option<&str>,
    ) -> Option<Servers> {
        let urls: Vec<String> = urls?
            .split_whitespace()
            .map(|u| u.trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty())
            .collect();
        let seconds = |s: Option<&str>| {
            s.and_then(|s| s.trim().parse::<u64>().ok())
                .filter(|&n| n > 0)
                .map(Duration::from_secs)
        };
        (!urls.is_empty()).then(|| Servers {
            urls,
            timeout: seconds(timeout).unwrap_or(DEFAULT_TIMEOUT),
            max_time: seconds(max_time),
        })
    }
}

/// Whether `DEBUGINFOD_URLS` names a server.
pub fn configured() -> bool {
    Servers::from_env().is_some()
}

/// Where the object of `build_id` is kept in the cache.
pub fn cached_path(cache: &Path, build_id: &str) -> PathBuf {
    cache.join("debuginfod").join(build_id).join("debuginfo")
}

/// The debug object of `build_id` (lower-case hex), described as `what` in messages:
/// from the cache if it holds it, else from the first server of `DEBUGINFOD_URLS`
/// that has it, checked to be an ELF file of that build id and kept in the cache.
pub fn debuginfo(cache: &Path, build_id: &str, what: &str) -> Result<PathBuf, FetchError> {
    let not_set = || {
        FetchError::Debuginfod(DebuginfodError::NoServers {
            build_id: build_id.to_string(),
            what: what.to_string(),
        })
    };
    let servers = Servers::from_env().ok_or_else(not_set)?;
    debuginfo_from(cache, build_id, what, &servers)
}

/// [`debuginfo`] from the servers given.
pub fn debuginfo_from(
    cache: &Path,
    build_id: &str,
    what: &str,
    servers: &Servers,
) -> Result<PathBuf, FetchError> {
    if build_id.is_empty() || !build_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FetchError::Debuginfod(DebuginfodError::NoBuildId {
            what: what.to_string(),
            why: format!("`{build_id}` is not a build id in hex"),
        }));
    }
    let build_id = build_id.to_ascii_lowercase();
    let dest = cached_path(cache, &build_id);
    if is_object_of(&dest, &build_id) {
        return Ok(dest);
    }
    let dir = cache.join("debuginfod");
    fs::create_dir_all(&dir).map_err(|e| write_error(e, what, &dir, None, 0))?;
    let _lock = Lock::take(&cache.join("lock"));
    if is_object_of(&dest, &build_id) {
        return Ok(dest);
    }
    let agent = agent(servers);
    let mut answers = Vec::new();
    for url in &servers.urls {
        let address = format!("{url}/buildid/{build_id}/debuginfo");
        say(&format!("asking {address} for {what}"));
        let start = Instant::now();
        match download(&agent, &address, &dir, what)? {
            Err(answer) => answers.push((url.clone(), answer)),
            Ok((temp, bytes)) => match crate::build_id::of_file(temp.path()) {
                Ok(id) if id == build_id => {
                    // Readable by all, as the packages' files are.
                    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o644);
                    temp.as_file()
                        .set_permissions(mode)
                        .map_err(|e| write_error(e, what, temp.path(), None, 0))?;
                    let parent = dest.parent().unwrap_or(&dir);
                    fs::create_dir_all(parent)
                        .map_err(|e| write_error(e, what, parent, None, 0))?;
                    temp.persist(&dest)
                        .map_err(|e| write_error(e.error, what, &dest, None, 0))?;
                    say(&format!(
                        "took {what} from {url}: {} in {:.1} s, build id {build_id} checked; kept in {}",
                        super::disk::size(bytes),
                        start.elapsed().as_secs_f64(),
                        dest.display()
                    ));
                    return Ok(dest);
                }
                Ok(id) => answers.push((
                    url.clone(),
                    Asked::WrongObject(format!("an ELF file of build id {id}")),
                )),
                Err(why) => answers.push((url.clone(), Asked::WrongObject(why))),
            },
        }
    }
    Err(FetchError::Debuginfod(DebuginfodError::Failed {
        build_id,
        what: what.to_string(),
        answers,
    }))
}

/// Whether `path` is an ELF file of `build_id`.
fn is_object_of(path: &Path, build_id: &str) -> bool {
    path.is_file() && crate::build_id::of_file(path).is_ok_and(|id| id == build_id)
}

/// The HTTP client, with elfutils' timeouts; redirects are followed.
fn agent(servers: &Servers) -> ureq::Agent {
    let timeout = Some(servers.timeout);
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(8)
        .timeout_resolve(timeout)
        .timeout_connect(timeout)
        .timeout_send_request(timeout)
        .timeout_recv_response(timeout)
        .timeout_per_read(timeout)
        .timeout_global(servers.max_time)
        .user_agent(concat!("kgpc/", env!("CARGO_PKG_VERSION")))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(super::tls_roots::root_certs())
                .build(),
        )
        .build()
        .into()
}

/// Streams the body `address` answers with into a temporary file in `dir`: the file and
/// its length, or what the server answered instead. A full disk is an error of its own.
fn download(
    agent: &ureq::Agent,
    address: &str,
    dir: &Path,
    what: &str,
) -> Result<Result<(tempfile::NamedTempFile, u64), Asked>, FetchError> {
    let response = match agent.get(address).call() {
        Ok(response) => response,
        Err(e) => return Ok(Err(Asked::Unreachable(e.to_string()))),
    };
    let status = response.status().as_u16();
    if status != 200 {
        return Ok(Err(Asked::NotFound(status)));
    }
    let needed = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp.")
        .tempfile_in(dir)
        .map_err(|e| write_error(e, what, dir, needed, 0))?;
    let mut body = response.into_body().into_reader();
    let mut buffer = vec![0u8; 1 << 20];
    let mut written = 0u64;
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let why = format!("the download broke off after {written} bytes: {e}");
                return Ok(Err(Asked::Unreachable(why)));
            }
        };
        if let Err(e) = temp.write_all(&buffer[..n]) {
            let path = temp.path().to_path_buf();
            drop(temp);
            return Err(write_error(e, what, &path, needed, written));
        }
        written += n as u64;
    }
    if let Err(e) = temp.as_file().sync_all() {
        let path = temp.path().to_path_buf();
        drop(temp);
        return Err(write_error(e, what, &path, needed, written));
    }
    Ok(Ok((temp, written)))
}

/// The error of a failed write into the cache: [`FetchError::DiskFull`] when the disk
/// is full, with the room left on it.
fn write_error(
    e: std::io::Error,
    what: &str,
    path: &Path,
    needed: Option<u64>,
    written: u64,
) -> FetchError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return FetchError::DiskFull {
            what: what.to_string(),
            path: path.to_path_buf(),
            needed,
            written: Some(written),
            left: super::disk::space_left(path),
        };
    }
    FetchError::Unpack(format!("cannot write {what} to {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_read_as_elfutils_reads_them() {
        assert_eq!(Servers::from_values(None, None, None), None);
        assert_eq!(Servers::from_values(Some("  "), None, None), None);
        let servers = Servers::from_values(
            Some("https://debuginfod.debian.net/  http://127.0.0.1:8002"),
            Some("5"),
            Some("x"),
        )
        .unwrap();
        assert_eq!(
            servers.urls,
            ["https://debuginfod.debian.net", "http://127.0.0.1:8002"]
        );
        assert_eq!(servers.timeout, Duration::from_secs(5));
        assert_eq!(servers.max_time, None);
        let default = Servers::from_values(Some("http://a"), Some("0"), Some("60")).unwrap();
        assert_eq!(default.timeout, DEFAULT_TIMEOUT);
        assert_eq!(default.max_time, Some(Duration::from_secs(60)));
    }

    #[test]
    fn a_build_id_that_is_not_hex_is_refused_before_any_server_is_asked() {
        let cache = tempfile::tempdir().unwrap();
        let servers = Servers::from_values(Some("http://127.0.0.1:1"), None, None).unwrap();
        let e = debuginfo_from(cache.path(), "../x", "a test object", &servers).unwrap_err();
        assert!(e.to_string().contains("not a build id"), "{e}");
        assert!(!cache.path().join("debuginfod").exists());
    }
}
