//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a, I, S>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + 'a + ?Sized,
{
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(AsRef::as_ref)
        .filter(|c| !c.is_empty() && *c != word)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// The Levenshtein distance between two strings, counted in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("descripton", &["description", "author"]),
            Some("description")
        );
        assert_eq!(did_you_mean("xyz", &["description", "author"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
