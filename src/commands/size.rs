//! Sizes of the kernel cache as people write and read them: `5G`, `800M`.

/// Parses a size: bytes, or a number with K, M, G or T (powers of 1024,
/// with an optional `i` and `B`: `5G`, `5GiB`, `1.5G`).
pub fn parse(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix('B').unwrap_or(t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (number, shift) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        c if c.is_ascii_digit() => (t, 0),
        _ => return None,
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let bytes = value * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// A size for people: `1.42 GiB`, `27.1 MiB`, `512 B`.
pub fn show(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else if value >= 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse("5G"), Some(5 << 30));
        assert_eq!(parse("5GiB"), Some(5 << 30));
        assert_eq!(parse("800m"), Some(800 << 20));
        assert_eq!(parse("1.5K"), Some(1536));
        assert_eq!(parse("1000000"), Some(1_000_000));
        for bad in ["", "G", "5Q", "-1G", "5 G", "1e9", "99999999999999999999T"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(show(512), "512 B");
        assert_eq!(show(1536), "1.50 KiB");
        assert_eq!(show(2_140_201_447), "1.99 GiB");
    }
}
