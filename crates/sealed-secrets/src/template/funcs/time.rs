//! Sprig's `duration` and `durationRound`, with Go's `time.Duration` text.

use super::{CallResult, string};
use crate::template::value::{IntTy, Value};

/// Go's `time.Duration.String` of `d` nanoseconds.
fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".to_owned();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Below a second: one unit, with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let nanos = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fraction(s * 1_000_000_000 + nanos, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / scale` with the fraction's trailing zeros dropped.
fn fraction(v: u64, scale: u64) -> String {
    let int = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return int.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// Go's `time.ParseDuration` (`None` where Go errs).
fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * scale;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let d = total as i64;
    Some(if neg { -d } else { d })
}

pub(super) fn duration(a: Vec<Value>) -> CallResult {
    // Sprig takes a string or an int64 only; anything else (an int) is 0.
    let secs = match &a[0] {
        Value::Str(s) => String::from_utf8_lossy(s).parse::<i64>().unwrap_or(0),
        Value::Int(i, IntTy::Int64) => *i,
        _ => 0,
    };
    string(duration_string(secs.wrapping_mul(1_000_000_000)))
}

pub(super) fn duration_round(a: Vec<Value>) -> CallResult {
    let d = match &a[0] {
        Value::Str(s) => parse_duration(&String::from_utf8_lossy(s)).unwrap_or(0),
        Value::Int(i, IntTy::Int64) => *i,
        _ => 0,
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let units: [(u64, &str); 6] = [
        (365 * DAY, "y"),
        (30 * DAY, "mo"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
    ];
    for (size, name) in units {
        if u > size {
            return string(format!("{}{name}", u / size));
        }
    }
    string("0s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        for (d, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (2_000_000, "2ms"),
            (1_500_000_000, "1.5s"),
            (3_661_000_000_000, "1h1m1s"),
            (60_000_000_000, "1m0s"),
            (-90_000_000_000, "-1m30s"),
        ] {
            assert_eq!(duration_string(d), want);
        }
        assert_eq!(parse_duration("2h10m5s"), Some(7_805_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("bogus"), None);
    }
}
