//! The build id of a bootable x86 kernel image (bzImage): its payload is the
//! kernel's ELF file, compressed; the payload is decompressed with the tool
//! its magic names, and read only as far as the build-id note.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The largest image read; Debian's are about 8 to 15 MB.
const MAX_IMAGE: u64 = 256 << 20;
/// How far into the decompressed kernel a note may be; its notes follow the text.
const MAX_NOTE_END: u64 = 512 << 20;

/// The decompressors of the payloads x86 kernels are built with, by magic.
const DECOMPRESSORS: &[(&[u8], &str, &[&str])] = &[
    (b"\x1f\x8b", "gzip", &["-dc"]),
    (b"\xfd7zXZ\x00", "xz", &["-dc"]),
    (b"\x28\xb5\x2f\xfd", "zstd", &["-dc"]),
    (b"\x02\x21\x4c\x18", "lz4", &["-dc"]),
    (b"BZh", "bzip2", &["-dc"]),
    (b"\x89LZO", "lzop", &["-dc"]),
    (b"\x5d\x00\x00", "xz", &["--format=lzma", "-dc"]),
];

/// The GNU build id of the kernel in the bzImage `image`, in hex.
pub fn image_build_id(image: &Path) -> Result<String, String> {
    let bytes = read_image(image)?;
    let payload = payload(&bytes)?;
    let Some((_, tool, args)) = DECOMPRESSORS
        .iter()
        .find(|(m, _, _)| payload.starts_with(m))
    else {
        return Err(format!(
            "its payload is compressed in a way kgpc does not know (it starts with {:02x?})",
            &payload[..payload.len().min(6)]
        ));
    };
    let mut child = Command::new(tool)
        .args(*args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{tool}` to decompress its payload: {e}"))?;
    let (Some(mut stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("no pipes to `{tool}`"));
    };
    let found = std::thread::scope(|scope| {
        // The tool reads the payload while kgpc reads what it writes; once the note is
        // read, both pipes are closed and the tool is stopped.
        scope.spawn(move || {
            let _ = stdin.write_all(payload);
        });
        let found = build_id_from_stream(&mut stdout);
        drop(stdout);
        let _ = child.kill();
        found
    });
    let _ = child.wait();
    found.map_err(|why| format!("its payload, decompressed with `{tool}`, {why}"))
}

/// The image's bytes, if it is a regular file of a sane size.
fn read_image(image: &Path) -> Result<Vec<u8>, String> {
    let (mut file, meta) =
        crate::read::open_regular(image).map_err(|e| format!("cannot open it: {e}"))?;
    if meta.len() > MAX_IMAGE {
        return Err(format!("it is {} bytes, too big for a bzImage", meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    Ok(bytes)
}

/// The compressed payload of a bzImage, as the boot protocol (2.08 and later) places it.
fn payload(bytes: &[u8]) -> Result<&[u8], String> {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if bytes.get(0x202..0x206) != Some(b"HdrS") {
        return Err("it is not an x86 bzImage (no `HdrS` boot header)".into());
    }
    let version = u16_at(0x206).unwrap_or(0);
    if version < 0x208 {
        return Err(format!(
            "its boot protocol {}.{:02} is older than 2.08, which names the payload",
            version >> 8,
            version & 0xff
        ));
    }
    let setup_sects = match bytes[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let (Some(offset), Some(length)) = (u32_at(0x248), u32_at(0x24c)) else {
        return Err("its boot header is truncated".into());
    };
    let start = (setup_sects + 1) * 512 + offset;
    bytes
        .get(start..start.saturating_add(length))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| "its payload lies outside the file".into())
}

/// The build id in the notes of the ELF file `stream` yields, read up to the end of the
/// note segment that holds it.
fn build_id_from_stream(stream: &mut impl Read) -> Result<String, String> {
    let mut reader = Forward {
        stream,
        at: 0,
        bytes: Vec::new(),
    };
    let header = reader.read_to(64)?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err("is not a 64-bit little-endian ELF file".into());
    }
    let u16_of = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as u64;
    let u32_of = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_of = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (
        u64_of(header, 0x20),
        u16_of(header, 0x36),
        u16_of(header, 0x38),
    );
    // phentsize and phnum are 16-bit, so only phoff can make the end overflow.
    let table_end = phoff.saturating_add(phentsize * phnum);
    if phentsize < 56 || phoff < 64 || table_end > MAX_NOTE_END {
        return Err("has program headers kgpc cannot read".into());
    }
    let table = reader.read_to(table_end)?[phoff as usize..].to_vec();
    let mut notes: Vec<(u64, u64)> = table
        .chunks(phentsize as usize)
        .filter(|ph| u32_of(ph, 0) == 4)
        .map(|ph| (u64_of(ph, 8), u64_of(ph, 0x20)))
        .filter(|&(offset, size)| {
            offset >= reader.at && offset.saturating_add(size) <= MAX_NOTE_END
        })
        .collect();
    notes.sort_unstable();
    for (offset, size) in notes {
        reader.skip_to(offset)?;
        let segment = reader.read_to(offset + size)?.to_vec();
        if let Some(id) = gnu_build_id(&segment) {
            return Ok(id);
        }
    }
    Err("has no build-id note".into())
}

/// The GNU build id among the notes `notes` holds.
fn gnu_build_id(notes: &[u8]) -> Option<String> {
    let mut at = 0usize;
    let align = |n: usize| n.div_ceil(4) * 4;
    while at + 12 <= notes.len() {
        let word =
            |i: usize| u32::from_le_bytes(notes[at + i..at + i + 4].try_into().unwrap()) as usize;
        let (namesz, descsz, kind) = (word(0), word(4), word(8));
        let name_at = at + 12;
        let desc_at = name_at.checked_add(align(namesz))?;
        let end = desc_at.checked_add(align(descsz))?;
        let desc = notes.get(desc_at..desc_at + descsz)?;
        if kind == 3 && notes.get(name_at..name_at + namesz) == Some(b"GNU\0") {
            return Some(crate::digest::hex(desc));
        }
        at = end;
    }
    None
}

/// A stream read forwards only, keeping the bytes since the last skip.
struct Forward<'a, R> {
    stream: &'a mut R,
    /// The stream offset of `bytes[0]`.
    at: u64,
    bytes: Vec<u8>,
}

impl<R: Read> Forward<'_, R> {
    /// The bytes from `self.at` up to stream offset `end`.
    fn read_to(&mut self, end: u64) -> Result<&[u8], String> {
        let want = (end - self.at) as usize;
        if self.bytes.len() < want {
            let have = self.bytes.len();
            self.bytes.resize(want, 0);
            self.stream
                .read_exact(&mut self.bytes[have..])
                .map_err(|_| format!("ends before offset {end}"))?;
        }
        Ok(&self.bytes[..want])
    }

    /// Reads and drops everything before stream offset `offset`.
    fn skip_to(&mut self, offset: u64) -> Result<(), String> {
        let kept = self.bytes.len() as u64;
        if offset <= self.at + kept {
            self.bytes.drain(..(offset - self.at) as usize);
        } else {
            self.bytes.clear();
            let gap = offset - self.at - kept;
            let copied = std::io::copy(&mut (&mut *self.stream).take(gap), &mut std::io::sink())
                .map_err(|e| format!("cannot be read: {e}"))?;
            if copied < gap {
                return Err(format!("ends before offset {offset}"));
            }
        }
        self.at = offset;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gnu_note_is_found_among_others() {
        let mut notes = Vec::new();
        for (name, kind, desc) in [
            (&b"Xen\0"[..], 6u32, &b"linux\0"[..]),
            (b"GNU\0", 3, &[0xab, 0xcd][..]),
        ] {
            notes.extend((name.len() as u32).to_le_bytes());
            notes.extend((desc.len() as u32).to_le_bytes());
            notes.extend(kind.to_le_bytes());
            notes.extend(name);
            notes.extend(desc);
            notes.resize(notes.len().div_ceil(4) * 4, 0);
        }
        assert_eq!(gnu_build_id(&notes).as_deref(), Some("abcd"));
        assert_eq!(gnu_build_id(&notes[..20]), None);
    }

    /// An ELF header with one program header, of `kind` at `offset` for `size` bytes.
    fn elf_with(phoff: u64, kind: u32, offset: u64, size: u64) -> Vec<u8> {
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&phoff.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let mut ph = vec![0u8; 56];
        ph[..4].copy_from_slice(&kind.to_le_bytes());
        ph[8..16].copy_from_slice(&offset.to_le_bytes());
        ph[0x20..0x28].copy_from_slice(&size.to_le_bytes());
        elf.extend(ph);
        elf
    }

    #[test]
    fn the_note_is_read_from_the_stream_and_no_further() {
        let mut elf = elf_with(64, 4, 200, 24);
        elf.resize(200, 0);
        elf.extend(4u32.to_le_bytes());
        elf.extend(8u32.to_le_bytes());
        elf.extend(3u32.to_le_bytes());
        elf.extend(b"GNU\0\x01\x02\x03\x04\x05\x06\x07\x08");
        // What follows the note is never read: a stream that fails there still gives the id.
        let mut stream = std::io::Read::chain(&elf[..], FailingRead);
        assert_eq!(
            build_id_from_stream(&mut stream).unwrap(),
            "0102030405060708"
        );
    }

    struct FailingRead;

    impl Read for FailingRead {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("read past the note"))
        }
    }

    #[test]
    fn headers_with_wild_offsets_are_refused_without_a_panic() {
        let huge = elf_with(u64::MAX - 8, 4, 0, 0);
        assert!(build_id_from_stream(&mut &huge[..]).is_err());
        let wild_note = elf_with(64, 4, u64::MAX - 1, 16);
        assert_eq!(
            build_id_from_stream(&mut &wild_note[..]).unwrap_err(),
            "has no build-id note"
        );
        assert!(build_id_from_stream(&mut &b"not an elf"[..]).is_err());
    }

    #[test]
    fn what_is_not_a_bzimage_is_refused() {
        assert!(payload(&[0u8; 1024]).unwrap_err().contains("HdrS"));
        let mut old = vec![0u8; 1024];
        old[0x202..0x206].copy_from_slice(b"HdrS");
        old[0x206] = 0x04;
        old[0x207] = 0x02;
        assert!(payload(&old).unwrap_err().contains("2.04"));
    }
}
