//! Running the kernel's build system on a module directory, and reading what it printed.

use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one `make -C KDIR M=DIR modules` did.
#[derive(Debug, Clone)]
pub struct MakeRun {
    pub success: bool,
    /// Everything make and the tools it ran printed, standard output and errors interleaved.
    pub log: String,
    pub elapsed: Duration,
}

/// Why make could not be run at all.
#[derive(Debug)]
pub enum MakeError {
    /// `make` is not installed.
    NoMake,
    Io(io::Error),
}

impl std::fmt::Display for MakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MakeError::NoMake => write!(f, "`make` is not installed"),
            MakeError::Io(e) => write!(f, "cannot run make: {e}"),
        }
    }
}

/// Runs `make -C kdir M=dir modules` with `KBUILD_MODPOST_WARN=1` (modpost only warns about
/// symbols it cannot resolve; kgpc reads them from the built module's symbol table
/// itself) and English messages. The `Module.symvers` files of `extra_symbols` become
/// `KBUILD_EXTRA_SYMBOLS`.
pub fn make_modules(
    kdir: &Path,
    dir: &Path,
    extra_symbols: &[PathBuf],
) -> Result<MakeRun, MakeError> {
    let start = Instant::now();
    let dir = std::path::absolute(dir).map_err(MakeError::Io)?;
    // Both streams go to one file, which keeps the order of messages.
    let file = tempfile::tempfile().map_err(MakeError::Io)?;
    let status = Command::new("make")
        .arg("-C")
        .arg(kdir)
        .arg(format!("M={}", dir.display()))
        .arg("modules")
        .arg("KBUILD_MODPOST_WARN=1")
        .args((!extra_symbols.is_empty()).then(|| {
            let files: Vec<String> = extra_symbols
                .iter()
                .map(|p| {
                    std::path::absolute(p)
                        .unwrap_or_else(|_| p.clone())
                        .display()
                        .to_string()
                })
                .collect();
            format!("KBUILD_EXTRA_SYMBOLS={}", files.join(" "))
        }))
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(file.try_clone().map_err(MakeError::Io)?)
        .stderr(file.try_clone().map_err(MakeError::Io)?)
        .status();
    let status = match status {
        Ok(status) => status,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(MakeError::NoMake),
        Err(e) => return Err(MakeError::Io(e)),
    };
    let mut file = file;
    let mut bytes = Vec::new();
    file.seek(io::SeekFrom::Start(0)).map_err(MakeError::Io)?;
    file.read_to_end(&mut bytes).map_err(MakeError::Io)?;
    let log = String::from_utf8_lossy(&bytes).into_owned();
    Ok(MakeRun {
        success: status.success(),
        log,
        elapsed: start.elapsed(),
    })
}

/// A message of the C compiler: `FILE:LINE[:COL]: error|warning: TEXT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompilerMessage {
    pub file: String,
    pub line: usize,
    pub column: Option<usize>,
    pub error: bool,
    pub text: String,
}

/// The errors and warnings of gcc in a build log, in order.
pub fn compiler_messages(log: &str) -> Vec<CompilerMessage> {
    let mut messages = Vec::new();
    for line in log.lines() {
        let (head, text, error) = if let Some((head, text)) = line.split_once(": error: ") {
            (head, text, true)
        } else if let Some((head, text)) = line.split_once(": fatal error: ") {
            (head, text, true)
        } else if let Some((head, text)) = line.split_once(": warning: ") {
            (head, text, false)
        } else {
            continue;
        };
        let mut parts = head.rsplitn(3, ':');
        let (a, b, c) = (parts.next(), parts.next(), parts.next());
        let (file, line_no, column) = match (a, b, c) {
            (Some(col), Some(ln), Some(file)) if ln.parse::<usize>().is_ok() => {
                (file, ln.parse().unwrap_or(0), col.parse().ok())
            }
            (Some(ln), Some(file), _) if ln.parse::<usize>().is_ok() => {
                (file, ln.parse().unwrap_or(0), None)
            }
            _ => continue,
        };
        if file.is_empty() || file.contains(' ') && !file.starts_with('/') {
            continue;
        }
        messages.push(CompilerMessage {
            file: file.to_string(),
            line: line_no,
            column,
            error,
            text: text.to_string(),
        });
    }
    messages
}

/// The build tree of `release`: an explicit directory, else `$KGPC_KDIR`, else the kgpc
/// cache's, else `/lib/modules/RELEASE/build`. `Err` lists the places looked at.
pub fn find_kdir(release: &str, explicit: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
    let mut tried = Vec::new();
    let candidates: Vec<PathBuf> = match explicit {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let mut list = Vec::new();
            if let Some(dir) = std::env::var_os("KGPC_KDIR").filter(|d| !d.is_empty()) {
                list.push(PathBuf::from(dir));
            }
            // The cache's tree only once it is complete: never one another kgpc is unpacking.
            let cache = crate::fetch::cache_dir();
            match crate::fetch::ready(&cache, release) {
                Ok(Some(paths)) => list.push(paths.kdir()),
                Ok(None) => tried.push(crate::fetch::KernelPaths::in_cache(&cache, release).kdir()),
                Err(error) => {
                    crate::errln!("kgpc kernel: {error}");
                    tried.push(crate::fetch::KernelPaths::in_cache(&cache, release).kdir());
                }
            }
            list.push(PathBuf::from(format!("/lib/modules/{release}/build")));
            list
        }
    };
    for dir in candidates {
        if dir.join("Makefile").is_file() {
            return Ok(dir);
        }
        tried.push(dir);
    }
    Err(tried)
}

/// The release a build tree is for, from its `include/generated/utsrelease.h`.
pub fn kdir_release(kdir: &Path) -> Option<String> {
    let text = crate::read::read_data_text(&kdir.join("include/generated/utsrelease.h")).ok()?;
    Some(text.split('"').nth(1)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_lines() {
        let log = "\
  MODPOST /tmp/x/Module.symvers
WARNING: modpost: \"saved_command_line\" [/tmp/x/livepatch-a.ko] undefined!
WARNING: modpost: \"other\" [/tmp/x/livepatch-a.ko] undefined!
../fix.kgp:12:9: error: 'foo' undeclared (first use in this function)
livepatch-a.c:40:1: warning: no return statement [-Wreturn-type]
../fix.kgp:3: warning: something without a column
make[2]: *** [scripts/Makefile.build:250: /tmp/x/livepatch-a.o] Error 1
";
        let messages = compiler_messages(log);
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].file, "../fix.kgp");
        assert_eq!(messages[0].line, 12);
        assert_eq!(messages[0].column, Some(9));
        assert!(messages[0].error);
        assert!(!messages[1].error);
        assert_eq!(messages[2].column, None);
    }
}
