//! apt, run as kgpc needs it: package versions, downloads into the cache and
//! one refresh of the lists when they name nothing; and the child-process
//! helpers the fetcher shares.

use super::{say, FetchError};
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub(super) struct Apt {
    pub(super) updated: bool,
}

impl Apt {
    fn command(program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .args(["-q", "-o", "APT::Sandbox::User=root"])
            .env("LC_ALL", "C");
        command
    }

    pub(super) fn update(&mut self) -> Result<(), FetchError> {
        if self.updated {
            return Ok(());
        }
        self.updated = true;
        say("refreshing apt's package lists (apt-get update)");
        let output = output(Self::command("apt-get").args(["--error-on=any", "update"]))?;
        if !output.0 {
            return Err(FetchError::Download {
                packages: "apt's package lists".into(),
                detail: format!(
                    "apt-get update failed (it needs root and network access to the archive):\n{}",
                    output.1.trim_end()
                ),
            });
        }
        Ok(())
    }

    /// What `apt-cache show` says of `package` (a name, or `name=version`):
    /// the newest version only unless `all_versions`. When apt names no
    /// version, its lists are refreshed once and it is asked again; the text
    /// is then empty if it still knows none.
    pub(super) fn show(&mut self, package: &str, all_versions: bool) -> Result<String, FetchError> {
        let text = show_once(package, all_versions)?;
        if !text.is_empty() {
            return Ok(text);
        }
        self.update()?;
        show_once(package, all_versions)
    }

    /// The version of `linux-headers-RELEASE` and the packages it depends on.
    pub(super) fn headers(&mut self, release: &str) -> Result<(String, Vec<String>), FetchError> {
        // When apt's lists name the image, they are recent enough to say that
        // its headers are gone; refreshing them would only take time and
        // apt's lock.
        let image = format!("linux-image-{release}");
        let image_version = super::archive::madison(std::slice::from_ref(&image))?.remove(&image);
        let headers = format!("linux-headers-{release}");
        let text = match image_version {
            Some(_) => show_once(&headers, false)?,
            None => self.show(&headers, false)?,
        };
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .map(str::to_string)
        };
        let Some(version) = field("Version") else {
            if let Some(image_version) = image_version {
                return Err(FetchError::Gone {
                    release: release.to_string(),
                    version: image_version,
                    missing: vec![format!("linux-headers-{release}")],
                });
            }
            return Err(FetchError::UnknownRelease {
                release: release.to_string(),
                detail: "; check that apt's sources name the distribution the kernel comes from, \
                         and that the archive still has this ABI (apt-cache search linux-headers)"
                    .into(),
            });
        };
        let depends = field("Depends")
            .unwrap_or_default()
            .split(',')
            .filter_map(|d| d.split_whitespace().next())
            .map(|d| d.split('|').next().unwrap_or(d).to_string())
            // The kernel's own packages; the image is fetched anyway, and
            // linux-base holds only installation scripts.
            .filter(|d| d.starts_with("linux-"))
            .filter(|d| !d.starts_with("linux-image-") && d != "linux-base")
            .collect();
        Ok((version, depends))
    }

    /// Downloads the packages into `debs` unless they are there, and returns their file names.
    pub(super) fn download(
        &mut self,
        debs: &Path,
        packages: &[String],
    ) -> Result<Vec<String>, FetchError> {
        for attempt in 0..2 {
            let (ok, text) = output(
                Self::command("apt-get")
                    .args(["download", "--print-uris"])
                    .args(packages),
            )?;
            if !ok {
                return Err(FetchError::Download {
                    packages: packages.join(" "),
                    detail: format!("apt cannot locate them:\n{}", text.trim_end()),
                });
            }
            let files: Vec<String> = text
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
                .collect();
            if files.len() < packages.len() {
                return Err(FetchError::Download {
                    packages: packages.join(" "),
                    detail: format!("apt names no file for some of them:\n{text}"),
                });
            }
            let missing: Vec<&String> = files.iter().filter(|f| !debs.join(f).is_file()).collect();
            if missing.is_empty() {
                return Ok(files);
            }
            say(&format!(
                "downloading {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            let partial = tempfile::Builder::new()
                .prefix(".partial.")
                .tempdir_in(debs)
                .map_err(|e| FetchError::Unpack(e.to_string()))?;
            let (ok, log) = output(
                Self::command("apt-get")
                    .arg("download")
                    .args(packages)
                    .current_dir(partial.path()),
            )?;
            if ok {
                for entry in fs::read_dir(partial.path())
                    .map_err(|e| FetchError::Unpack(e.to_string()))?
                    .flatten()
                {
                    let _ = fs::rename(entry.path(), debs.join(entry.file_name()));
                }
                continue;
            }
            // The archive keeps only the newest kernels: old lists name files now gone.
            if attempt == 0 && log.contains(" 404 ") && !self.updated {
                self.update()?;
                continue;
            }
            if let Some(full) = super::disk::full_in(&log, &packages.join(" "), debs) {
                return Err(full);
            }
            let hint = if log.contains(" 404 ") {
                "Debian's archive no longer has them; pick a release it has"
            } else {
                "check the network access to the archive (apt's messages follow)"
            };
            return Err(FetchError::Download {
                packages: packages.join(" "),
                detail: format!("{hint}:\n{}", log.trim_end()),
            });
        }
        Err(FetchError::Download {
            packages: packages.join(" "),
            detail: "they are still missing after a download".into(),
        })
    }
}

/// What one `apt-cache show` says of `package`, or nothing when apt names no version of it.
fn show_once(package: &str, all_versions: bool) -> Result<String, FetchError> {
    let mut command = Command::new("apt-cache");
    command.arg("show").env("LC_ALL", "C");
    if !all_versions {
        command.arg("--no-all-versions");
    }
    let (ok, text) = output(command.arg(package))?;
    let known = ok && text.lines().any(|l| l.starts_with("Version: "));
    Ok(if known { text } else { String::new() })
}

pub(super) fn spawn(command: &mut Command) -> Result<Child, FetchError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FetchError::MissingTool(program),
        _ => FetchError::Unpack(format!("cannot run {program}: {e}")),
    })
}

/// Runs a command; returns whether it succeeded and what it printed (both streams).
pub(super) fn output(command: &mut Command) -> Result<(bool, String), FetchError> {
    let child = spawn(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let output = child
        .wait_with_output()
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}
