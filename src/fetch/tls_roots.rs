//! The certificate authorities an https debuginfod server is checked against, taken as curl
//! (and so elfutils' client) takes them.

use std::path::PathBuf;
use ureq::tls::{parse_pem, PemItem, RootCerts};

/// The largest certificate bundle read; Debian's is about 200 KB.
const MAX_BUNDLE: u64 = 16 << 20;

/// Debian's bundle of the system's certificate authorities (the ca-certificates package).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The certificates of the file `SSL_CERT_FILE` names, else of the system's bundle, else
/// the Mozilla roots built into kgpc when neither holds a certificate.
pub fn root_certs() -> RootCerts {
    let file = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SYSTEM_BUNDLE));
    let Ok(text) = crate::read::read_regular(&file, MAX_BUNDLE) else {
        return RootCerts::WebPki;
    };
    let certs: Vec<_> = parse_pem(&text)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(&certs)
    }
}
