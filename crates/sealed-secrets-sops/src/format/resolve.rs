//! How go-yaml v3 (sops's YAML library) types a plain scalar. This decides the
//! `type:` of encrypted values and the MAC bytes of every value, so it follows
//! `resolve.go` closely: `0x1F` is an int 31, `0755` is octal, `1_000` is 1000,
//! `TRUE` is a bool, `yes` is a string, `2024-01-01` is a timestamp.

use crate::tree::Scalar;

/// What a plain scalar resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// `~`, `null`, empty.
    Null,
    /// A typed value.
    Scalar(Scalar),
    /// An integer outside i64 (go-yaml gives uint64, which sops rejects).
    OutOfRange,
}

/// Resolves a plain (unquoted, untagged) scalar.
pub fn resolve_plain(s: &str) -> Resolved {
    use Resolved::Null;
    let str_ = || Resolved::Scalar(Scalar::Str(s.to_owned()));
    let Some(first) = s.bytes().next() else {
        return Null;
    };
    match s {
        "~" | "null" | "Null" | "NULL" => return Null,
        "true" | "True" | "TRUE" => return Resolved::Scalar(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Resolved::Scalar(Scalar::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Scalar(Scalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Scalar(Scalar::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Scalar(Scalar::Float(f64::NAN)),
        "<<" => return str_(),
        _ => {}
    }
    match first {
        b'.' => match go_parse_float(s) {
            Some(f) => Resolved::Scalar(Scalar::Float(f)),
            None => str_(),
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(t) = parse_timestamp(s) {
                return Resolved::Scalar(Scalar::Time(t));
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            match go_parse_int(&plain) {
                IntResult::Int(i) => return Resolved::Scalar(Scalar::Int(i)),
                IntResult::Unsigned => return Resolved::OutOfRange,
                IntResult::Invalid => {}
            }
            if is_yaml_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Scalar(Scalar::Float(f));
            }
            for (prefix, radix, neg) in [
                ("0b", 2, false),
                ("-0b", 2, true),
                ("0o", 8, false),
                ("-0o", 8, true),
            ] {
                if let Some(digits) = plain.strip_prefix(prefix)
                    && let Ok(v) = i64::from_str_radix(digits, radix)
                    && !digits.starts_with(['+', '-'])
                {
                    return Resolved::Scalar(Scalar::Int(if neg { -v } else { v }));
                }
            }
            str_()
        }
        _ => str_(),
    }
}

enum IntResult {
    Int(i64),
    Unsigned,
    Invalid,
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint` to tell "too big" apart).
fn go_parse_int(s: &str) -> IntResult {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return IntResult::Invalid;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(u) => {
            if neg {
                if u <= i64::MAX as u64 + 1 {
                    IntResult::Int((u as i128).wrapping_neg() as i64)
                } else {
                    IntResult::Invalid
                }
            } else if u <= i64::MAX as u64 {
                IntResult::Int(u as i64)
            } else {
                IntResult::Unsigned
            }
        }
        Err(_) => IntResult::Invalid,
    }
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for decimal input (also `inf`/`nan` spellings).
fn go_parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return crate::value::parse_go_float(s).or_else(|| {
            let neg = lower.starts_with('-');
            Some(match body {
                "nan" => f64::NAN,
                _ if neg => f64::NEG_INFINITY,
                _ => f64::INFINITY,
            })
        });
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// go-yaml's timestamp check: four digits then `-`, then Go layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also `t`), `2006-1-2 15:4:5.999999999`, `2006-1-2`.
/// Returns the RFC 3339 nanosecond text (Go `MarshalText`).
pub fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { b, i: 0 };
    let year = p.num(4, 4)?;
    p.lit(b'-')?;
    let month = p.num(1, 2)?;
    p.lit(b'-')?;
    let day = p.num(1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if p.done() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let with_zone = match p.peek()? {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    p.i += 1;
    let hour = p.num(1, 2)?;
    p.lit(b':')?;
    let min = p.num(1, 2)?;
    p.lit(b':')?;
    let sec = p.num(1, 2)?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if p.peek() == Some(b'.') || p.peek() == Some(b',') {
        p.i += 1;
        let start = p.i;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
        if p.i == start || p.i - start > 9 {
            return None;
        }
        frac = String::from_utf8_lossy(&b[start..p.i])
            .trim_end_matches('0')
            .to_owned();
    }
    let zone = if with_zone {
        match p.peek()? {
            b'Z' => {
                p.i += 1;
                "Z".to_owned()
            }
            sign @ (b'+' | b'-') => {
                p.i += 1;
                let h = p.num(2, 2)?;
                p.lit(b':')?;
                let m = p.num(2, 2)?;
                if h > 23 || m > 59 {
                    return None;
                }
                if h == 0 && m == 0 {
                    "Z".to_owned()
                } else {
                    format!("{}{h:02}:{m:02}", sign as char)
                }
            }
            _ => return None,
        }
    } else {
        "Z".to_owned()
    };
    if !p.done() {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn lit(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Strings go-yaml v3 quotes on output because YAML 1.1 read them as bools.
pub fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Resolved {
        resolve_plain(s)
    }
    fn int(i: i64) -> Resolved {
        Resolved::Scalar(Scalar::Int(i))
    }
    fn float(f: f64) -> Resolved {
        Resolved::Scalar(Scalar::Float(f))
    }
    fn s(v: &str) -> Resolved {
        Resolved::Scalar(Scalar::Str(v.into()))
    }

    #[test]
    fn go_yaml_v3_resolution() {
        assert_eq!(r(""), Resolved::Null);
        assert_eq!(r("~"), Resolved::Null);
        assert_eq!(r("NULL"), Resolved::Null);
        assert_eq!(r("TRUE"), Resolved::Scalar(Scalar::Bool(true)));
        assert_eq!(r("yes"), s("yes"));
        assert_eq!(r("on"), s("on"));
        assert_eq!(r("0x1F"), int(31));
        assert_eq!(r("0755"), int(493));
        assert_eq!(r("0o17"), int(15));
        assert_eq!(r("0b101"), int(5));
        assert_eq!(r("12345_54321"), int(1_234_554_321));
        assert_eq!(r("-42"), int(-42));
        assert_eq!(r("+7"), int(7));
        assert_eq!(r("08"), float(8.0));
        assert_eq!(r("1.50"), float(1.5));
        assert_eq!(r("1e3"), float(1000.0));
        assert_eq!(r(".5"), float(0.5));
        assert_eq!(r("."), s("."));
        assert_eq!(r("1.2.3"), s("1.2.3"));
        assert_eq!(r("3.11.0"), s("3.11.0"));
        assert_eq!(r("-"), s("-"));
        assert_eq!(r("18446744073709551615"), Resolved::OutOfRange);
        assert_eq!(r("-9223372036854775808"), int(i64::MIN));
        assert!(matches!(r(".nan"), Resolved::Scalar(Scalar::Float(f)) if f.is_nan()));
        assert_eq!(r("-.inf"), float(f64::NEG_INFINITY));
        assert_eq!(r("ENC[AES256_GCM,data:x]"), s("ENC[AES256_GCM,data:x]"));
    }

    #[test]
    fn timestamps() {
        let t = |v: &str| match r(v) {
            Resolved::Scalar(Scalar::Time(t)) => t,
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(t("2024-01-01"), "2024-01-01T00:00:00Z");
        assert_eq!(t("2024-1-2"), "2024-01-02T00:00:00Z");
        assert_eq!(t("2024-01-01T10:20:30Z"), "2024-01-01T10:20:30Z");
        assert_eq!(t("2024-01-01t10:20:30.500Z"), "2024-01-01T10:20:30.5Z");
        assert_eq!(t("2024-01-01T10:20:30+02:00"), "2024-01-01T10:20:30+02:00");
        assert_eq!(t("2024-01-01 10:20:30"), "2024-01-01T10:20:30Z");
        assert_eq!(r("2024-02-30"), s("2024-02-30"));
        assert_eq!(r("2024-01-01T10:20"), s("2024-01-01T10:20"));
    }
}
