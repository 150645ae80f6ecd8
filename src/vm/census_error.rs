//! Why a census boot gave no census, in words for the user.

use super::VmError;
use std::fmt;
use std::path::PathBuf;

/// Why a boot recorded no census.
#[derive(Debug)]
pub enum CensusBootError {
    /// No temporary directory for the boot's files.
    WorkDir(std::io::Error),
    /// The initramfs could not be made or the machine could not run.
    Machine(VmError),
    /// The guest's report did not reach its end.
    Incomplete {
        /// The time bound, when the boot ran out of it.
        timed_out_after: Option<u64>,
        /// The console's last lines, oldest first.
        console_tail: Vec<String>,
    },
    /// The image booted as another release than the one asked for.
    WrongRelease {
        image: PathBuf,
        booted: String,
        wanted: String,
    },
}

impl fmt::Display for CensusBootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CensusBootError::WorkDir(e) => write!(f, "cannot create a temporary directory: {e}"),
            CensusBootError::Machine(e) => write!(f, "{e}"),
            CensusBootError::Incomplete {
                timed_out_after,
                console_tail,
            } => {
                let how = match timed_out_after {
                    Some(secs) => format!("did not finish within {secs} s"),
                    None => "stopped before its end".to_string(),
                };
                write!(
                    f,
                    "the census boot {how} (the console's last lines: {})",
                    console_tail.join(" | ")
                )
            }
            CensusBootError::WrongRelease {
                image,
                booted,
                wanted,
            } => write!(
                f,
                "the image {} booted as release `{booted}`, not `{wanted}`",
                image.display()
            ),
        }
    }
}

impl std::error::Error for CensusBootError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_name_what_went_wrong() {
        let cut = CensusBootError::Incomplete {
            timed_out_after: Some(60),
            console_tail: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            cut.to_string(),
            "the census boot did not finish within 60 s (the console's last lines: a | b)"
        );
        let stopped = CensusBootError::Incomplete {
            timed_out_after: None,
            console_tail: vec![],
        };
        assert_eq!(
            stopped.to_string(),
            "the census boot stopped before its end (the console's last lines: )"
        );
        let wrong = CensusBootError::WrongRelease {
            image: "/boot/vmlinuz-x".into(),
            booted: "6.1.0-1-cloud-amd64".into(),
            wanted: "6.1.0-2-cloud-amd64".into(),
        };
        assert_eq!(
            wrong.to_string(),
            "the image /boot/vmlinuz-x booted as release `6.1.0-1-cloud-amd64`, not `6.1.0-2-cloud-amd64`"
        );
    }
}
