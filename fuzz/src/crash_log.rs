//! The input being run, kept in a shared file mapping, so that an exec that
//! kills the whole process (a stack overflow, an abort) leaves its input
//! behind for the parent process to save. Writing it is a copy in memory.

use memmap2::MmapMut;
use std::fs::OpenOptions;
use std::path::Path;

pub struct CrashLog {
    map: MmapMut,
}

impl CrashLog {
    /// Maps `path`, sized for inputs of up to `max` bytes.
    pub fn create(path: &Path, max: usize) -> std::io::Result<CrashLog> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.set_len(8 + max as u64)?;
        // SAFETY: the file is this process's own; nothing else writes it while it runs.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(CrashLog { map })
    }

    /// Records `input` as the one being run.
    pub fn record(&mut self, input: &[u8]) {
        let len = input.len().min(self.map.len() - 8);
        self.map[..8].copy_from_slice(&(len as u64).to_le_bytes());
        self.map[8..8 + len].copy_from_slice(&input[..len]);
    }

    /// The input a dead process was running, read from `path`.
    pub fn read(path: &Path) -> Option<Vec<u8>> {
        let bytes = std::fs::read(path).ok()?;
        let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
        Some(bytes.get(8..8 + len)?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_input_recorded_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("running");
        let mut log = CrashLog::create(&path, 16).unwrap();
        log.record(b"a longer first input");
        log.record(b"second");
        assert_eq!(CrashLog::read(&path).unwrap(), b"second");
        drop(log);
        assert_eq!(CrashLog::read(&path).unwrap(), b"second");
    }

    #[test]
    fn the_runner_records_each_input_before_running_it() {
        use crate::runner::{run, Input, Options, Target};
        static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
        fn logged(input: &[u8]) -> Result<u64, String> {
            let path = PATH.get().ok_or("no path")?;
            match CrashLog::read(path) {
                Some(logged) if logged == input => Ok(input.len() as u64),
                other => Err(format!("{input:?} ran while the log held {other:?}")),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = PATH.get_or_init(|| dir.path().join("running")).clone();
        let target = Target {
            name: "logged",
            input: Input::Bytes,
            run: logged,
        };
        let options = Options {
            crash_log: Some(path),
            ..Options::new(std::time::Duration::from_millis(200))
        };
        let report = run(&target, &[b"only seed".to_vec()], &options);
        assert!(report.execs > 10, "{report:?}");
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
}
