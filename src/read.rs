//! Opening the files kgpc reads: regular files only, and text with a size limit.
//!
//! Every file a user names (a spec, an import, a body file, a kernel object,
//! `Module.symvers`) and every file of kgpc's own caches and manifests is
//! opened here. A FIFO, a device or a socket is refused before it can block
//! or stream without end: the path is checked with `stat`, opened with
//! `O_NONBLOCK` (so that a FIFO swapped in meanwhile cannot block the open)
//! and checked again with `fstat` on the open descriptor.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest spec or body file kgpc reads. The largest spec of the
/// repository is a few KiB and the largest C file of Linux 6.1 under 1 MiB;
/// the limit only stops a file that would exhaust memory.
pub const TEXT_LIMIT: u64 = 4 << 20;

/// The largest file of kgpc's own (a census, a manifest) or of a build tree
/// (`Module.symvers`) read whole; vmlinux's `Module.symvers` is about 2 MiB.
pub const DATA_LIMIT: u64 = 256 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// The path names a directory.
    Directory,
    /// The path names something other than a regular file or a directory.
    NotRegular(&'static str),
    /// The file holds more than the limit.
    TooLarge(u64),
    /// Text that is not UTF-8: the offset of the first invalid byte.
    NotUtf8(usize),
    /// Text holding a control character no spec or C file holds (a NUL, an
    /// escape): the byte and its offset. Such a file is never shown.
    Binary(u8, usize),
}

impl ReadError {
    /// Whether the file is of a kind kgpc never reads, or too large: KGP0041.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ReadError::NotRegular(_) | ReadError::TooLarge(_))
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => f.write_str(&describe_io(e)),
            ReadError::Directory => f.write_str("it is a directory"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge(limit) => {
                write!(f, "it is larger than the limit of {} MiB", limit >> 20)
            }
            ReadError::NotUtf8(at) => {
                write!(f, "it is not UTF-8 text (invalid byte at offset {at})")
            }
            ReadError::Binary(byte, at) => write!(
                f,
                "it is not text (control byte 0x{byte:02x} at offset {at}); its contents are not shown"
            ),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// A short lower-case description of an I/O error.
pub fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ if error.raw_os_error() == Some(libc::EISDIR) => "it is a directory".to_string(),
        _ => error.to_string().to_lowercase(),
    }
}

/// Opens `path` for reading if it is a regular file (following symbolic links).
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ReadError> {
    check_kind(&std::fs::metadata(path)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    check_kind(&meta)?;
    Ok((file, meta))
}

/// Reads a regular file of at most `limit` bytes. The limit is checked while
/// reading, since files such as those of `/proc` report a size of 0.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path)?;
    read_limited(file, limit)
}

/// Reads at most `limit` bytes from `reader`, refusing more.
pub fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Reads a spec or body file: a regular file of UTF-8 text within [`TEXT_LIMIT`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    text_of(read_regular(path, TEXT_LIMIT)?)
}

/// Reads a UTF-8 file of kgpc's own or of a build tree, within [`DATA_LIMIT`].
pub fn read_data_text(path: &Path) -> Result<String, ReadError> {
    let bytes = read_regular(path, DATA_LIMIT)?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))
}

/// Decodes text read from a file or standard input, without a byte-order mark.
pub fn text_of(bytes: Vec<u8>) -> Result<String, ReadError> {
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    let text =
        String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))?;
    // Tab, line feed, vertical tab, form feed and carriage return are the
    // only control characters C and specs hold.
    if let Some((at, byte)) = text
        .bytes()
        .enumerate()
        .find(|(_, b)| (b.is_ascii_control() && !b"\t\n\x0b\x0c\r".contains(b)) && *b != 0x7f)
    {
        return Err(ReadError::Binary(byte, at));
    }
    Ok(text)
}

fn check_kind(meta: &Metadata) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(())
    } else if kind.is_dir() {
        Err(ReadError::Directory)
    } else if kind.is_fifo() {
        Err(ReadError::NotRegular("a FIFO"))
    } else if kind.is_char_device() {
        Err(ReadError::NotRegular("a character device"))
    } else if kind.is_block_device() {
        Err(ReadError::NotRegular("a block device"))
    } else if kind.is_socket() {
        Err(ReadError::NotRegular("a socket"))
    } else {
        Err(ReadError::NotRegular("not a file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = read_regular(&fifo, TEXT_LIMIT).unwrap_err();
        assert_eq!(e.to_string(), "it is a FIFO, not a regular file");
        let e = read_regular(Path::new("/dev/zero"), TEXT_LIMIT).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );
        assert!(e.is_refusal());
        let e = read_regular(dir.path(), TEXT_LIMIT).unwrap_err();
        assert!(matches!(e, ReadError::Directory));
    }

    #[test]
    fn the_limit_counts_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, [b'x'; 11]).unwrap();
        assert_eq!(read_regular(&file, 11).unwrap().len(), 11);
        assert!(matches!(
            read_regular(&file, 10),
            Err(ReadError::TooLarge(10))
        ));
        // /proc files report a size of 0 and are read to their end.
        let limited = read_regular(Path::new("/proc/self/status"), TEXT_LIMIT).unwrap();
        assert!(!limited.is_empty());
    }

    #[test]
    fn text_is_utf8_without_binary_controls() {
        assert_eq!(
            text_of(b"\xef\xbb\xbfa\tb\r\n\x0c".to_vec()).unwrap(),
            "a\tb\r\n\x0c"
        );
        assert!(matches!(
            text_of(b"caf\xe9".to_vec()),
            Err(ReadError::NotUtf8(3))
        ));
        let e = text_of(b"PATH=/bin\0HOME=/root".to_vec()).unwrap_err();
        assert!(matches!(e, ReadError::Binary(0, 9)));
        assert!(!e.to_string().contains("PATH"));
        assert!(matches!(
            text_of(b"a\x1b[2J".to_vec()),
            Err(ReadError::Binary(0x1b, 1))
        ));
    }
}
