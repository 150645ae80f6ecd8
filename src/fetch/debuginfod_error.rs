//! Why a debug object could not be had from debuginfod servers, server by server.

use std::fmt;

/// What one server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// No answer: the connection was refused, the name did not resolve, or it timed out.
    Unreachable(String),
    /// The server answered that it has no such object (404), or another error status.
    NotFound(u16),
    /// The server sent something that is not the object asked for.
    WrongObject(String),
}

/// Why no debuginfod server gave the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebuginfodError {
    /// `DEBUGINFOD_URLS` is unset or empty.
    NoServers { build_id: String, what: String },
    /// Every server was asked; none gave the object.
    Failed {
        build_id: String,
        /// What the object is, such as "the debug vmlinux of 6.1.0-57-cloud-amd64".
        what: String,
        /// Each server's URL and answer, in the order asked.
        answers: Vec<(String, Asked)>,
    },
    /// The build id the object is asked by could not be read.
    NoBuildId { what: String, why: String },
}

/// The kind of failure, which picks the diagnostic code: a wrong object outranks a
/// missing one, which outranks no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NoServers,
    Unreachable,
    NotFound,
    WrongObject,
}

impl DebuginfodError {
    pub fn failure(&self) -> Failure {
        match self {
            DebuginfodError::NoServers { .. } => Failure::NoServers,
            DebuginfodError::NoBuildId { .. } => Failure::WrongObject,
            DebuginfodError::Failed { answers, .. } => {
                let any = |f: fn(&Asked) -> bool| answers.iter().any(|(_, a)| f(a));
                if any(|a| matches!(a, Asked::WrongObject(_))) {
                    Failure::WrongObject
                } else if any(|a| matches!(a, Asked::NotFound(_))) {
                    Failure::NotFound
                } else {
                    Failure::Unreachable
                }
            }
        }
    }
}

impl fmt::Display for DebuginfodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebuginfodError::NoServers { build_id, what } => write!(
                f,
                "no debuginfod server to ask for {what} (build id {build_id}): DEBUGINFOD_URLS is not set"
            ),
            DebuginfodError::NoBuildId { what, why } => {
                write!(f, "cannot read the build id of {what}: {why}")
            }
            DebuginfodError::Failed {
                build_id,
                what,
                answers,
            } => {
                write!(
                    f,
                    "no debuginfod server gave {what} (build id {build_id}):"
                )?;
                for (url, answer) in answers {
                    match answer {
                        Asked::Unreachable(why) => write!(f, "\n  {url}: no answer: {why}")?,
                        Asked::NotFound(404) => write!(f, "\n  {url}: has no such object (404)")?,
                        Asked::NotFound(status) => {
                            write!(f, "\n  {url}: answered with HTTP status {status}")?
                        }
                        Asked::WrongObject(why) => {
                            write!(f, "\n  {url}: sent the wrong file: {why}")?
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
