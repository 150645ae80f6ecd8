//! Progress on a terminal while a kernel object is indexed.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub struct Progress {
    enabled: bool,
    label: String,
    start: Instant,
    last_percent: AtomicU64,
}

impl Progress {
    /// Shows progress only when standard error is a terminal and `wanted`.
    pub fn new(label: String, wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            label,
            start: Instant::now(),
            last_percent: AtomicU64::new(u64::MAX),
        }
    }

    pub fn update(&self, done: u64, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let percent = (done.min(total) * 100) / total;
        if self.last_percent.swap(percent, Ordering::Relaxed) == percent {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}: {percent:3}% of {} MB of DWARF, {:.1} s",
            self.label,
            total >> 20,
            self.start.elapsed().as_secs_f64()
        );
        let _ = err.flush();
    }

    pub fn finish(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
