//! Lists of names in diagnostics, cut after the first few, and the plural
//! ending of a count.

/// `names` joined with commas, or the first `max` of them and how many more there are.
pub(crate) fn name_list(names: &[String], max: usize) -> String {
    match names.get(..max) {
        Some(shown) if names.len() > max => {
            format!("{} and {} more", shown.join(", "), names.len() - max)
        }
        _ => names.join(", "),
    }
}

/// The ending of a noun counted `count` times: `s`, except for one.
pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_say_how_many_are_left_out() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(name_list(&names, 3), "a, b, c");
        assert_eq!(name_list(&names, 2), "a, b and 1 more");
        assert_eq!(name_list(&names, 0), " and 3 more");
        assert_eq!(name_list(&[], 2), "");
    }

    #[test]
    fn only_one_is_singular() {
        assert_eq!([0, 1, 2].map(plural), ["s", "", "s"]);
    }
}
