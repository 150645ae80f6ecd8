//! Running one target for a while: mutants from the corpus, each exec on a
//! worker thread under a watchdog, panics caught, findings saved.
//!
//! An exec that takes longer than [`HANG`] (by default) is a finding (a hang); the
//! runner then waits up to [`GRACE`] for it to finish, to say how long it
//! took, and stops the target if it does not, since a stuck worker cannot be
//! killed. A panic is caught on the worker, which goes on. A broken property
//! is the target returning an error. Each distinct finding (by kind and
//! first line of its message, digits aside) is saved once to `DIR/TARGET/`, with the input.

use crate::crash_log::CrashLog;
use crate::mutate::{mutate_binary, Layout, TextMutator, MAX_BINARY, MAX_TEXT};
use crate::rng::Rng;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// An exec slower than this is reported as a hang.
pub const HANG: Duration = Duration::from_secs(1);
/// How long a hanging exec is given to finish before the target stops.
pub const GRACE: Duration = Duration::from_secs(30);
/// The most inputs the corpus keeps besides the seeds.
const CORPUS: usize = 2000;

/// What one exec of a target saw: a signature of where it went, or a broken property.
pub type TargetFn = fn(&[u8]) -> Result<u64, String>;

/// How a target's inputs are mutated.
#[derive(Clone, Copy)]
pub enum Input {
    /// Spec text.
    Text,
    /// A kernel object; mutations prefer sections whose names start with these.
    Elf(&'static [&'static str]),
    /// Raw bytes with no layout of their own (BTF, the index).
    Bytes,
}

pub struct Target {
    pub name: &'static str,
    pub input: Input,
    pub run: TargetFn,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Panic,
    Hang,
    Property,
    /// The process died: a stack overflow or an abort, which no thread survives.
    Crash,
}

impl Kind {
    fn as_str(&self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Hang => "hang",
            Kind::Property => "property",
            Kind::Crash => "crash",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: Kind,
    pub message: String,
    /// How many execs hit it.
    pub hits: u64,
    /// Where its first input was saved.
    pub saved: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Report {
    pub target: &'static str,
    pub execs: u64,
    pub elapsed: Duration,
    pub corpus: usize,
    pub findings: Vec<Finding>,
    /// Why the target stopped before its time, if it did.
    pub stopped: Option<String>,
}

impl Report {
    pub fn execs_per_second(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

thread_local! {
    /// The message and place of the last panic on this thread.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether this thread is a worker, whose panics are findings.
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Records the panics of workers instead of printing them; the runner
/// reports them. Panics elsewhere are printed as usual.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install_hook);
}

fn install_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !IN_WORKER.with(|w| w.get()) {
            return default(info);
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = Some(format!("{place}: {message}")));
    }));
}

type Outcome = Result<Result<u64, String>, String>;

/// A worker thread that runs inputs one at a time.
struct Worker {
    send: mpsc::Sender<Vec<u8>>,
    receive: mpsc::Receiver<(Outcome, Duration)>,
}

impl Worker {
    fn start(run: TargetFn) -> Worker {
        let (send, inputs) = mpsc::channel::<Vec<u8>>();
        let (results, receive) = mpsc::channel();
        std::thread::spawn(move || {
            IN_WORKER.with(|w| w.set(true));
            for input in inputs {
                let start = Instant::now();
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| run(&input))).map_err(|_| {
                    PANIC
                        .with(|p| p.borrow_mut().take())
                        .unwrap_or_else(|| "a panic without a message".to_string())
                });
                if results.send((outcome, start.elapsed())).is_err() {
                    break;
                }
            }
        });
        Worker { send, receive }
    }
}

struct Findings {
    dir: Option<PathBuf>,
    target: &'static str,
    list: Vec<Finding>,
    by_key: HashMap<(String, String), usize>,
}

impl Findings {
    fn add(&mut self, kind: Kind, message: String, input: &[u8]) {
        // Digits do not count: the same fault at another offset or taking
        // another time is the same finding.
        let first: String = message
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let key = (kind.as_str().to_string(), first);
        if let Some(&i) = self.by_key.get(&key) {
            self.list[i].hits += 1;
            return;
        }
        let saved = self
            .dir
            .as_ref()
            .and_then(|d| save(d, self.target, &kind, &message, input));
        self.by_key.insert(key, self.list.len());
        self.list.push(Finding {
            kind,
            message,
            hits: 1,
            saved,
        });
    }
}

/// Saves the input and its message as `DIR/TARGET/KIND-HASH` and `.txt`.
pub fn save(dir: &Path, target: &str, kind: &Kind, message: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).ok()?;
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    let path = dir.join(format!("{}-{:016x}", kind.as_str(), h.finish()));
    std::fs::write(&path, input).ok()?;
    std::fs::write(path.with_extension("txt"), format!("{message}\n")).ok()?;
    Some(path)
}

/// One entry of the corpus, with its ELF layout when it has one.
struct Entry {
    bytes: Vec<u8>,
    layout: Option<Layout>,
}

/// How long a target runs, from which seed, and where its findings go.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long to run.
    pub time: Duration,
    /// Stop after this many execs, even before `time`.
    pub max_execs: u64,
    /// An exec slower than this is a hang.
    pub hang: Duration,
    /// The random seed: the same seed makes the same mutants.
    pub seed: u64,
    pub findings_dir: Option<PathBuf>,
    /// How long a hanging exec is given to finish before the target stops.
    pub grace: Duration,
    /// The longest text mutant.
    pub max_text: usize,
    /// Where to keep the input being run, for a process that dies (see [`CrashLog`]).
    pub crash_log: Option<PathBuf>,
}

impl Options {
    pub fn new(time: Duration) -> Options {
        Options {
            time,
            max_execs: u64::MAX,
            hang: HANG,
            seed: 1,
            findings_dir: None,
            grace: GRACE,
            max_text: MAX_TEXT,
            crash_log: None,
        }
    }
}

/// An input of the corpus, with the layout its binary mutator aims at.
fn entry(target: &Target, bytes: Vec<u8>) -> Entry {
    Entry {
        layout: matches!(target.input, Input::Elf(_))
            .then(|| Layout::of_elf(&bytes))
            .flatten(),
        bytes,
    }
}

/// A mutant of a corpus entry, spliced with another where the input is text.
fn mutant(target: &Target, corpus: &[Entry], text: &TextMutator, rng: &mut Rng) -> Vec<u8> {
    let parent = &corpus[rng.below(corpus.len())];
    let other = &corpus[rng.below(corpus.len())];
    match target.input {
        Input::Text => {
            let a = String::from_utf8_lossy(&parent.bytes);
            let b = String::from_utf8_lossy(&other.bytes);
            text.mutate(rng, &a, &b).into_bytes()
        }
        Input::Elf(focus) => mutate_binary(rng, &parent.bytes, parent.layout.as_ref(), focus),
        Input::Bytes => mutate_binary(rng, &parent.bytes, None, &[]),
    }
}

/// Runs `target` over mutants of `seeds`, every seed unchanged first.
pub fn run(target: &Target, seeds: &[Vec<u8>], options: &Options) -> Report {
    let (time, seed, grace, hang) = (options.time, options.seed, options.grace, options.hang);
    let findings_dir = options.findings_dir.as_deref();
    let mut rng = Rng::new(seed ^ target.name.len() as u64);
    let text = TextMutator::new(options.max_text);
    let mut corpus: Vec<Entry> = seeds.iter().map(|s| entry(target, s.clone())).collect();
    let seed_count = corpus.len();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut findings = Findings {
        dir: findings_dir.map(Path::to_path_buf),
        target: target.name,
        list: Vec::new(),
        by_key: HashMap::new(),
    };
    let mut log = options
        .crash_log
        .as_ref()
        .and_then(|p| CrashLog::create(p, MAX_BINARY.max(options.max_text)).ok());
    let mut worker = Worker::start(target.run);
    let start = Instant::now();
    let mut execs = 0u64;
    let mut stopped = None;
    let more = |execs: u64, elapsed: Duration| elapsed < time && execs < options.max_execs;
    while more(execs, start.elapsed()) && !corpus.is_empty() {
        let input = if (execs as usize) < seed_count {
            corpus[execs as usize].bytes.clone()
        } else {
            mutant(target, &corpus, &text, &mut rng)
        };
        execs += 1;
        if let Some(log) = &mut log {
            log.record(&input);
        }
        if worker.send.send(input.clone()).is_err() {
            stopped = Some("the worker thread ended".to_string());
            break;
        }
        let (outcome, took) = match worker.receive.recv_timeout(hang) {
            Ok(result) => result,
            Err(_) => {
                // Past the hang limit: a finding, and a new worker if this one
                // finishes within the grace; a worker stuck for good stops the run.
                let (message, stuck) = match worker.receive.recv_timeout(grace) {
                    Ok((_, took)) => (
                        format!(
                            "an exec took {:.1} s (more than {:.1} s)",
                            took.as_secs_f64(),
                            hang.as_secs_f64()
                        ),
                        false,
                    ),
                    Err(_) => (
                        format!(
                            "an exec did not finish within {:.1} s",
                            (hang + grace).as_secs_f64()
                        ),
                        true,
                    ),
                };
                findings.add(Kind::Hang, message.clone(), &input);
                if stuck {
                    stopped = Some(message);
                    break;
                }
                worker = Worker::start(target.run);
                continue;
            }
        };
        if took > hang {
            findings.add(
                Kind::Hang,
                format!("an exec took {:.1} s", took.as_secs_f64()),
                &input,
            );
        }
        match outcome {
            Err(panic) => findings.add(Kind::Panic, panic, &input),
            Ok(Err(property)) => findings.add(Kind::Property, property, &input),
            Ok(Ok(signature)) => {
                if seen.insert(signature) && execs as usize > seed_count {
                    let entry = entry(target, input);
                    if corpus.len() < seed_count + CORPUS {
                        corpus.push(entry);
                    } else {
                        let at = seed_count + rng.below(CORPUS);
                        corpus[at] = entry;
                    }
                }
            }
        }
    }
    Report {
        target: target.name,
        execs,
        elapsed: start.elapsed(),
        corpus: corpus.len(),
        findings: findings.list,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faulty(input: &[u8]) -> Result<u64, String> {
        match input {
            b"panic" => panic!("boom at {}", input.len()),
            b"hang" => {
                std::thread::sleep(HANG + Duration::from_millis(300));
                Ok(1)
            }
            b"property" => Err("a broken property".to_string()),
            _ => Ok(input.len() as u64),
        }
    }

    #[test]
    fn panics_hangs_and_broken_properties_are_saved_with_their_input() {
        quiet_panics();
        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            name: "faulty",
            input: Input::Bytes,
            run: faulty,
        };
        let seeds: Vec<Vec<u8>> = ["panic", "hang", "property", "fine"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let options = Options {
            seed: 7,
            findings_dir: Some(dir.path().to_path_buf()),
            ..Options::new(Duration::from_secs(3))
        };
        let report = run(&target, &seeds, &options);
        assert!(report.execs > 4, "the run went on after its findings");
        assert!(report.stopped.is_none());
        let kinds: Vec<&Kind> = report.findings.iter().map(|f| &f.kind).collect();
        assert_eq!(kinds, [&Kind::Panic, &Kind::Hang, &Kind::Property]);
        assert!(
            report.findings[0].message.contains("boom at 5"),
            "{:?}",
            report.findings[0]
        );
        assert!(
            report.findings[0].message.contains("runner.rs"),
            "the place of the panic"
        );
        assert!(
            report.findings[1].message.contains("took 1."),
            "{:?}",
            report.findings[1]
        );
        for (f, input) in report.findings.iter().zip(["panic", "hang", "property"]) {
            let saved = f.saved.as_ref().expect("saved");
            assert!(saved.starts_with(dir.path().join("faulty")));
            assert_eq!(std::fs::read(saved).unwrap(), input.as_bytes());
            let text = std::fs::read_to_string(saved.with_extension("txt")).unwrap();
            assert_eq!(text.trim_end(), f.message);
        }
    }

    #[test]
    fn an_exec_that_never_ends_stops_its_target() {
        fn stuck(input: &[u8]) -> Result<u64, String> {
            if input == b"stuck" {
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            Ok(0)
        }
        let target = Target {
            name: "stuck",
            input: Input::Bytes,
            run: stuck,
        };
        let start = Instant::now();
        let options = Options {
            grace: Duration::from_millis(200),
            ..Options::new(Duration::from_secs(60))
        };
        let report = run(&target, &[b"stuck".to_vec()], &options);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(report.execs, 1);
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].kind, Kind::Hang);
        assert!(report
            .stopped
            .as_deref()
            .unwrap_or("")
            .contains("did not finish"));
    }

    #[test]
    fn inputs_that_reach_a_new_signature_join_the_corpus() {
        fn by_length(input: &[u8]) -> Result<u64, String> {
            Ok(input.len() as u64 / 4)
        }
        let target = Target {
            name: "lengths",
            input: Input::Bytes,
            run: by_length,
        };
        let options = Options {
            max_execs: 500,
            ..Options::new(Duration::from_secs(60))
        };
        let report = run(&target, &[vec![0; 16]], &options);
        assert_eq!(report.execs, 500, "max_execs is a ceiling");
        assert!(report.corpus > 1, "no mutant was kept: {report:?}");
        assert!(report.findings.is_empty());
    }
}
