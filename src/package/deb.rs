//! The `.deb` itself: a staging directory beside the output holding the
//! package's tree, built by `dpkg-deb` and renamed into place, so the
//! output directory holds the whole package or none.

use super::{control, scripts, Package, PackageError};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Writes `package` as `out_dir/NAME_VERSION_ARCH.deb` and returns its path.
pub fn write(package: &Package, out_dir: &Path) -> Result<PathBuf, PackageError> {
    fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let stage = tempfile::Builder::new()
        .prefix(".kgpc-package-")
        .tempdir_in(out_dir)
        .map_err(|e| io(out_dir, e))?;
    let root = stage.path().join("root");
    let mut files = Vec::new();
    for build in &package.builds {
        let place = format!(
            "lib/modules/{}/updates/{}.ko",
            build.release, package.module_name
        );
        let bytes =
            crate::read::read_regular(&build.module, u64::MAX).map_err(|e| PackageError::Io {
                path: build.module.clone(),
                message: e.to_string(),
            })?;
        files.push((place, bytes));
    }
    let doc = format!("usr/share/doc/{}", package.name);
    files.push((
        format!("lib/systemd/system/{}", scripts::unit_name(package)),
        scripts::unit(package).into_bytes(),
    ));
    files.push((
        format!("{doc}/copyright"),
        control::copyright(package).into_bytes(),
    ));
    files.push((
        format!("{doc}/changelog.gz"),
        gzip(control::changelog(package).as_bytes())?,
    ));
    files.sort();
    let mut installed_kib = 0;
    let mut md5sums = String::new();
    for (place, bytes) in &files {
        put(&root.join(place), bytes, 0o644)?;
        installed_kib += (bytes.len() as u64).div_ceil(1024);
        md5sums.push_str(&format!("{}  {place}\n", md5(&root, place)?));
    }
    let meta = root.join("DEBIAN");
    put(
        &meta.join("control"),
        control::control(package, installed_kib).as_bytes(),
        0o644,
    )?;
    put(&meta.join("md5sums"), md5sums.as_bytes(), 0o644)?;
    for (name, text) in [
        ("postinst", scripts::postinst(package)),
        ("prerm", scripts::prerm(package)),
        ("postrm", scripts::postrm(package)),
    ] {
        put(&meta.join(name), text.as_bytes(), 0o755)?;
    }
    directories_readable(&root)?;
    let built = stage.path().join("package.deb");
    let run = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--threads-max=1", "--build"])
        .arg(&root)
        .arg(&built)
        .env("SOURCE_DATE_EPOCH", package.epoch.to_string())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PackageError::MissingTool("dpkg-deb".into()),
            _ => PackageError::Failed {
                what: "dpkg-deb".into(),
                message: e.to_string(),
            },
        })?;
    if !run.status.success() {
        return Err(PackageError::Failed {
            what: "dpkg-deb --build".into(),
            message: String::from_utf8_lossy(&run.stderr).trim().to_string(),
        });
    }
    let path = out_dir.join(format!(
        "{}_{}_{}.deb",
        package.name, package.version, package.architecture
    ));
    let file = fs::File::open(&built).map_err(|e| io(&built, e))?;
    file.set_permissions(fs::Permissions::from_mode(0o644))
        .and_then(|()| file.sync_all())
        .map_err(|e| io(&built, e))?;
    fs::rename(&built, &path).map_err(|e| io(&path, e))?;
    Ok(path)
}

/// Writes a file of the package tree with its mode, making its directories.
fn put(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PackageError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    fs::write(path, bytes).map_err(|e| io(path, e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| io(path, e))
}

/// Gives every directory of the tree mode 0755, whatever the umask made.
fn directories_readable(dir: &Path) -> Result<(), PackageError> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(|e| io(dir, e))?;
    for entry in fs::read_dir(dir).map_err(|e| io(dir, e))?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            directories_readable(&entry.path())?;
        }
    }
    Ok(())
}

/// `gzip -9n` of `bytes`, as Debian compresses changelogs (no name, no time).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>, PackageError> {
    let tool = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => PackageError::MissingTool("gzip".into()),
        _ => PackageError::Failed {
            what: "gzip".into(),
            message: e.to_string(),
        },
    };
    let mut child = Command::new("gzip")
        .args(["-9n", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(tool)?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(bytes)
        .map_err(tool)?;
    let output = child.wait_with_output().map_err(tool)?;
    if !output.status.success() {
        return Err(PackageError::Failed {
            what: "gzip".into(),
            message: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(output.stdout)
}

/// The MD5 sum of a file of the tree, as `DEBIAN/md5sums` lists it.
fn md5(root: &Path, place: &str) -> Result<String, PackageError> {
    let output = Command::new("md5sum")
        .arg("--")
        .arg(place)
        .current_dir(root)
        .output()
        .map_err(|e| PackageError::Failed {
            what: "md5sum".into(),
            message: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.split_whitespace().next() {
        Some(sum) if output.status.success() && sum.len() == 32 => Ok(sum.to_string()),
        _ => Err(PackageError::Failed {
            what: "md5sum".into(),
            message: String::from_utf8_lossy(&output.stderr).into_owned(),
        }),
    }
}

fn io(path: &Path, error: std::io::Error) -> PackageError {
    PackageError::Io {
        path: path.to_path_buf(),
        message: crate::read::describe_io(&error),
    }
}
