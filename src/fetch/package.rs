//! Unpacking Debian packages with dpkg-deb, whole or member by member.

use super::apt::{output, spawn};
use super::FetchError;
use std::path::Path;
use std::process::{Command, Stdio};

/// Unpacks the whole package `deb` into `dir`.
pub(super) fn unpack(deb: &Path, dir: &Path) -> Result<(), FetchError> {
    let name = deb.file_name().unwrap_or_default().to_string_lossy();
    match output(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir))? {
        (true, _) => Ok(()),
        (false, text) => Err(
            super::disk::full_in(&text, &format!("the files of {name}"), dir).unwrap_or_else(
                || FetchError::Unpack(format!("dpkg-deb -x {name}: {}", text.trim_end())),
            ),
        ),
    }
}

/// Extracts the members of a package's data matching `patterns` (tar wildcards) into `dir`:
/// tar stops once it has one of each, and dpkg-deb then dies of a broken pipe, which is
/// expected.
pub(super) fn extract_members(
    deb: &Path,
    dir: &Path,
    patterns: &[String],
) -> Result<(), FetchError> {
    let mut dpkg = spawn(
        Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(deb)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let Some(stdout) = dpkg.stdout.take() else {
        let _ = dpkg.kill();
        let _ = dpkg.wait();
        return Err(FetchError::Unpack("no pipe from dpkg-deb".into()));
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .args(["--occurrence=1", "--wildcards"])
        .args(patterns)
        .stdin(stdout)
        .stderr(Stdio::null())
        .status();
    let _ = dpkg.kill();
    let _ = dpkg.wait();
    match tar {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(FetchError::Unpack(format!(
            "tar found no {} in {} ({status})",
            patterns.join(", "),
            deb.display()
        ))),
        Err(e) => Err(FetchError::MissingTool(format!("tar ({e})"))),
    }
}
