//! Sprig's `duration` and `durationRound`, with Go's `time.Duration` text.

use super::{CallResult, string};
use crate::template::gotime::Clock;
use crate::template::value::{IntTy, Value};

/// Go's `time.Duration.String` of `d` nanoseconds.
pub(in crate::template) fn duration_string(d: i64) -> String {
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

/// Go's `time.ParseDuration`, with Go's integer arithmetic; the error is Go's
/// without the quoted input (it may be a secret).
pub(super) fn parse_duration(s: &[u8]) -> Result<i64, &'static str> {
    const INVALID: &str = "time: invalid duration";
    const LIMIT: u64 = 1 << 63;
    let (neg, mut s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(INVALID);
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(INVALID);
        }
        // The integer part.
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &s[..digits] {
            if v > LIMIT / 10 {
                return Err(INVALID);
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return Err(INVALID);
            }
        }
        let pre = digits > 0;
        s = &s[digits..];
        // The fraction: digits past what fits are dropped.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &s[..digits] {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = digits > 0;
            s = &s[digits..];
        }
        if !pre && !post {
            return Err(INVALID);
        }
        let unit_len = s
            .iter()
            .take_while(|&&c| !(c == b'.' || c.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err("time: missing unit in duration");
        }
        let unit: u64 = match &s[..unit_len] {
            b"ns" => 1,
            // "us", "µs" (U+00B5) and "μs" (U+03BC).
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err("time: unknown unit in duration"),
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return Err(INVALID);
        }
        v *= unit;
        if f > 0 {
            // Go adds the fraction in float64, truncating.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(INVALID);
            }
        }
        d += v;
        if d > LIMIT {
            return Err(INVALID);
        }
    }
    if neg {
        // `-int64(d)` in Go wraps, so -(1<<63) is i64::MIN.
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return Err(INVALID);
    }
    Ok(d as i64)
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

pub(super) fn duration_round(clock: &Clock, a: Vec<Value>) -> CallResult {
    let d = match &a[0] {
        Value::Str(s) => parse_duration(s).unwrap_or(0),
        Value::Int(i, IntTy::Int64) => *i,
        Value::Time(t) => super::date::since(clock, t),
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
        for (s, want) in [
            ("2h10m5s", Ok(7_805_000_000_000)),
            ("1.5h", Ok(5_400_000_000_000)),
            ("-1h", Ok(-3_600_000_000_000)),
            ("+.5s", Ok(500_000_000)),
            ("1µs1us1μs", Ok(3_000)),
            ("0", Ok(0)),
            ("9223372036854775807ns", Ok(i64::MAX)),
            ("-9223372036854775808ns", Ok(i64::MIN)),
            ("9223372036854775808ns", Err("time: invalid duration")),
            ("1.00000000000000000000000001s", Ok(1_000_000_000)),
            ("", Err("time: invalid duration")),
            ("-", Err("time: invalid duration")),
            (".s", Err("time: invalid duration")),
            ("1", Err("time: missing unit in duration")),
            ("1d", Err("time: unknown unit in duration")),
            ("bogus", Err("time: invalid duration")),
        ] {
            assert_eq!(parse_duration(s.as_bytes()), want, "{s}");
        }
    }
}
