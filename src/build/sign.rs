//! Signing a built module with the kernel's own `sign-file`, as `make
//! modules_sign` does, with the hash algorithm the build tree's config names.
//!
//! The module is never changed in place: an unsigned copy is signed into a
//! second temporary file beside it, which is renamed over the module, so a
//! failed signing leaves the unsigned module and a reader never sees half a file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The marker the kernel looks for at the end of a signed module.
const MAGIC: &[u8] = b"~Module signature appended~\n";
/// The size of `struct module_signature`, which sits just before the marker.
const SIGNATURE_INFO: usize = 12;

/// A private key and its X.509 certificate to sign modules with (PEM, or a
/// DER certificate, as `sign-file` reads them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKey {
    pub key: PathBuf,
    pub cert: PathBuf,
}

/// How a module was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The hash algorithm, from the build tree's `CONFIG_MODULE_SIG_HASH`.
    pub hash: String,
    /// The `sign-file` that signed it.
    pub sign_file: PathBuf,
}

/// What the build tree offers for signing: its `sign-file` and hash algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    pub sign_file: PathBuf,
    pub hash: String,
}

/// Why a module could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The key or certificate is missing, unreadable, or not a key or certificate.
    Unreadable {
        path: PathBuf,
        /// "key" or "certificate".
        what: &'static str,
        why: String,
    },
    /// The key is not the certificate's.
    Mismatch { key: PathBuf, cert: PathBuf },
    /// The build tree has no `sign-file`.
    NoSignFile { path: PathBuf },
    /// The build tree's config names no `CONFIG_MODULE_SIG_HASH`.
    NoHash { kdir: PathBuf },
    /// `sign-file` failed for another reason, or a file could not be written.
    Failed { message: String },
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Unreadable { path, what, why } => {
                write!(f, "cannot read the signing {what} `{}`: {why}", path.display())
            }
            SignError::Mismatch { key, cert } => write!(
                f,
                "the signing key `{}` is not the key of the certificate `{}`",
                key.display(),
                cert.display()
            ),
            SignError::NoSignFile { path } => {
                write!(f, "the build tree has no `sign-file`: {} is missing", path.display())
            }
            SignError::NoHash { kdir } => write!(
                f,
                "the build tree {} names no CONFIG_MODULE_SIG_HASH: its kernel does not check module signatures",
                kdir.display()
            ),
            SignError::Failed { message } => write!(f, "cannot sign the module: {message}"),
        }
    }
}

impl SigningKey {
    /// Checks that the key and the certificate are readable regular files,
    /// before anything is built.
    pub fn check(&self) -> Result<(), SignError> {
        for (path, what) in [(&self.key, "key"), (&self.cert, "certificate")] {
            crate::read::read_regular(path, 1 << 20).map_err(|e| SignError::Unreadable {
                path: path.clone(),
                what,
                why: e.to_string(),
            })?;
        }
        Ok(())
    }
}

impl Signer {
    /// The build tree's `scripts/sign-file` (in Debian's trees a link into
    /// linux-kbuild) and the hash its config names.
    pub fn of_tree(kdir: &Path) -> Result<Signer, SignError> {
        let sign_file = kdir.join("scripts/sign-file");
        if !sign_file.is_file() {
            return Err(SignError::NoSignFile { path: sign_file });
        }
        let hash = ["include/config/auto.conf", ".config"]
            .iter()
            .filter_map(|name| crate::read::read_data_text(&kdir.join(name)).ok())
            .find_map(|text| config_hash(&text))
            .ok_or_else(|| SignError::NoHash {
                kdir: kdir.to_path_buf(),
            })?;
        Ok(Signer { sign_file, hash })
    }

    /// Signs `module` with `key`, replacing it whole; a signature it already
    /// has is dropped first, so signing twice gives one signature.
    pub fn sign(&self, module: &Path, key: &SigningKey) -> Result<Signed, SignError> {
        let failed = |what: &str, e: &dyn fmt::Display| SignError::Failed {
            message: format!("{what} {}: {e}", module.display()),
        };
        let data =
            crate::read::read_regular(module, u64::MAX).map_err(|e| failed("cannot read", &e))?;
        let unsigned = &data[..unsigned_len(&data)];
        let dir = match module.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = |label: &str| {
            tempfile::Builder::new()
                .prefix(&format!(".kgpc-{label}-"))
                .tempfile_in(dir)
                .map_err(|e| failed("cannot write beside", &e))
        };
        let mut input = temp("unsigned")?;
        input
            .write_all(unsigned)
            .and_then(|()| input.flush())
            .map_err(|e| failed("cannot copy", &e))?;
        let output = temp("signed")?;
        let run = Command::new(&self.sign_file)
            .arg(&self.hash)
            .arg(&key.key)
            .arg(&key.cert)
            .arg(input.path())
            .arg(output.path())
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| SignError::Failed {
                message: format!("cannot run {}: {e}", self.sign_file.display()),
            })?;
        if !run.status.success() {
            let text = String::from_utf8_lossy(&run.stderr).into_owned();
            // A module make did not relink still has the signature of an
            // earlier run; it is left unsigned, as a new one would be.
            if unsigned.len() < data.len() {
                input
                    .persist(module)
                    .map_err(|e| failed("cannot replace", &e.error))?;
            }
            return Err(classify(&text, key));
        }
        let signed = crate::read::read_regular(output.path(), u64::MAX)
            .map_err(|e| failed("cannot read the signed copy of", &e))?;
        if !signed.ends_with(MAGIC) {
            return Err(failed(
                "sign-file wrote no signature into the copy of",
                &"no marker",
            ));
        }
        if let Ok(meta) = std::fs::metadata(module) {
            let _ = output.as_file().set_permissions(meta.permissions());
        }
        output
            .persist(module)
            .map_err(|e| failed("cannot replace", &e.error))?;
        Ok(Signed {
            hash: self.hash.clone(),
            sign_file: self.sign_file.clone(),
        })
    }
}

/// The value of `CONFIG_MODULE_SIG_HASH` in a config or `auto.conf`, quoted or not.
fn config_hash(text: &str) -> Option<String> {
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_MODULE_SIG_HASH="))?;
    let value = value.trim().trim_matches('"');
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plain.then(|| value.to_string())
}

/// The length of a module without its appended signature, if it has one.
fn unsigned_len(data: &[u8]) -> usize {
    if !data.ends_with(MAGIC) || data.len() < MAGIC.len() + SIGNATURE_INFO {
        return data.len();
    }
    let info = data.len() - MAGIC.len() - SIGNATURE_INFO;
    let field = |at: usize| data[info + at] as usize;
    let sig_len = u32::from_be_bytes([
        data[info + 8],
        data[info + 9],
        data[info + 10],
        data[info + 11],
    ]) as usize;
    let total = sig_len + field(3) + field(4);
    info.checked_sub(total).unwrap_or(data.len())
}

/// What `sign-file`'s OpenSSL messages mean: its last line names the file it
/// could not read, and a key that is not the certificate's is a mismatch.
fn classify(text: &str, key: &SigningKey) -> SignError {
    if text.contains("key values mismatch") || text.contains("does not match certificate") {
        return SignError::Mismatch {
            key: key.key.clone(),
            cert: key.cert.clone(),
        };
    }
    let last = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("sign-file: "))
        .unwrap_or_default();
    let why = text
        .lines()
        .filter_map(|l| l.strip_prefix("- SSL error:"))
        .filter_map(|l| l.split("::").nth(1))
        .filter_map(|l| l.split(':').next())
        .collect::<Vec<_>>()
        .join("; ");
    for (path, what) in [(&key.key, "key"), (&key.cert, "certificate")] {
        if Path::new(last) == path.as_path() {
            return SignError::Unreadable {
                path: path.clone(),
                what,
                why: format!("sign-file cannot read it as a {what} ({why})"),
            };
        }
    }
    SignError::Failed {
        message: format!("sign-file failed: {}", text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_read_quoted_or_not() {
        assert_eq!(
            config_hash("CONFIG_X=y\nCONFIG_MODULE_SIG_HASH=\"sha512\"\n").as_deref(),
            Some("sha512")
        );
        assert_eq!(
            config_hash("CONFIG_MODULE_SIG_HASH=sha256\n").as_deref(),
            Some("sha256")
        );
        assert_eq!(config_hash("# CONFIG_MODULE_SIG is not set\n"), None);
        assert_eq!(config_hash("CONFIG_MODULE_SIG_HASH=\"a b\"\n"), None);
    }

    #[test]
    fn an_appended_signature_is_found_and_dropped() {
        let mut data = b"ELF module body".to_vec();
        assert_eq!(unsigned_len(&data), data.len());
        let body = data.len();
        data.extend_from_slice(&[7u8; 5]);
        data.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
        data.extend_from_slice(MAGIC);
        assert_eq!(unsigned_len(&data), body);
        let mut short = MAGIC.to_vec();
        short.insert(0, 1);
        assert_eq!(unsigned_len(&short), short.len());
    }

    #[test]
    fn sign_file_messages_name_what_failed() {
        let key = SigningKey {
            key: "k.pem".into(),
            cert: "c.pem".into(),
        };
        let mismatch = "- SSL error:05800074:x509 certificate routines::key values mismatch: x.c:403\nsign-file: CMS_add1_signer\n";
        assert!(matches!(
            classify(mismatch, &key),
            SignError::Mismatch { .. }
        ));
        let cert = "- SSL error:0480006C:PEM routines::no start line: ../crypto/pem/pem_lib.c:760\nsign-file: c.pem\n";
        match classify(cert, &key) {
            SignError::Unreadable { what, why, .. } => {
                assert_eq!(what, "certificate");
                assert!(why.contains("no start line"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
