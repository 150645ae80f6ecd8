//! Printing to standard output and standard error without panicking.
//!
//! `println!` panics when a write fails, so a reader that stops early, as
//! in `kgpc explain --list | head -1`, made kgpc exit with status 101 and
//! "failed printing to stdout: Broken pipe". kgpc does not reset SIGPIPE to
//! its default action, which would end it on the spot: it may be holding a
//! QEMU or make child, temporary directories and the output lock, which it
//! releases on its way out. Instead every command prints through `outln!`,
//! `out!`, `errln!` and `err!`: once a stream's reader has gone, nothing more
//! is written to it and the command finishes with its own exit status. Any
//! other failure to write (a full disk under `> file`) is reported once on
//! standard error and turns a successful exit into status 3.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Which standard stream to print to.
#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

/// Whether the reader of standard output, or of standard error, has gone.
static CLOSED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
/// Whether a write failed for another reason than a closed pipe.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to `stream`, followed by a newline when `newline` is set.
pub fn print(stream: Stream, args: fmt::Arguments, newline: bool) {
    let closed = &CLOSED[stream as usize];
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let written = match stream {
        Stream::Out => write_to(&mut io::stdout().lock(), args, newline),
        Stream::Err => write_to(&mut io::stderr().lock(), args, newline),
    };
    if let Err(e) = written {
        closed.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            FAILED.store(true, Ordering::Relaxed);
            let name = ["standard output", "standard error"][stream as usize];
            let _ = writeln!(io::stderr(), "error: cannot write to {name}: {e}");
        }
    }
}

fn write_to(out: &mut dyn Write, args: fmt::Arguments, newline: bool) -> io::Result<()> {
    out.write_fmt(args)?;
    if newline {
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// The exit status of a command that returned `status`: a success whose
/// output could not be written is status 3, as for any output kgpc cannot
/// write; a reader that stopped early changes nothing.
pub fn exit_status(status: i32) -> i32 {
    if status == 0 && FAILED.load(Ordering::Relaxed) {
        crate::error::EXIT_OUTPUT
    } else {
        status
    }
}

/// `println!` that never panics (see `kgpc::stdio`).
#[macro_export]
macro_rules! outln {
    () => { $crate::stdio::print($crate::stdio::Stream::Out, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::stdio::print($crate::stdio::Stream::Out, format_args!($($arg)*), true) };
}

/// `print!` that never panics (see `kgpc::stdio`).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdio::print($crate::stdio::Stream::Out, format_args!($($arg)*), false) };
}

/// `eprintln!` that never panics (see `kgpc::stdio`).
#[macro_export]
macro_rules! errln {
    () => { $crate::stdio::print($crate::stdio::Stream::Err, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::stdio::print($crate::stdio::Stream::Err, format_args!($($arg)*), true) };
}

/// `eprint!` that never panics (see `kgpc::stdio`).
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::stdio::print($crate::stdio::Stream::Err, format_args!($($arg)*), false) };
}
