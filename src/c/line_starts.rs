//! The lines of a text: which 1-based line a byte is on, and where each line
//! starts and ends.

/// The byte offsets where the lines of a text start.
pub struct LineStarts {
    starts: Vec<usize>,
    len: usize,
}

impl LineStarts {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineStarts {
            starts,
            len: text.len(),
        }
    }

    /// The 1-based line of byte `at`.
    pub fn line_of(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at)
    }

    /// Where line `line` (1-based) starts.
    pub fn start_of(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.len)
    }

    /// Where line `line` ends, its line break included.
    pub fn end_of(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::LineStarts;

    #[test]
    fn bytes_lines_and_their_ends() {
        let lines = LineStarts::new("ab\n\ncd");
        assert_eq!(
            (lines.line_of(0), lines.line_of(2), lines.line_of(3)),
            (1, 1, 2)
        );
        assert_eq!(lines.line_of(5), 3);
        assert_eq!(
            (lines.start_of(3), lines.end_of(1), lines.end_of(3)),
            (4, 3, 6)
        );
    }
}
