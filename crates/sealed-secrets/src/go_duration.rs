//! Go's `time.ParseDuration` syntax, which upstream's duration flags use
//! (`--key-renew-period 720h0m0s`, `--key-ttl 87600h`, `--read-timeout 2m`).

use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {0:?}: expected a Go duration such as \"720h\", \"1h30m\", \"90s\" or \"0\""
)]
pub struct GoDurationError(pub String);

/// Parses a Go duration: decimal numbers with optional fractions, each followed by a
/// unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `720h0m0s` or `1.5h`; a bare `0`
/// is zero. Negative durations are refused: no flag here has a use for them.
pub fn parse(text: &str) -> Result<Duration, GoDurationError> {
    let err = || GoDurationError(text.to_owned());
    let body = text.strip_prefix('+').unwrap_or(text);
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() {
        return Err(err());
    }
    let mut rest = body;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let (number, tail) = rest.split_at(number_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(err());
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let mut nanos = whole.checked_mul(unit_nanos).ok_or_else(err)?;
        let mut scale = unit_nanos;
        for digit in fraction.chars() {
            let d = u128::from(digit.to_digit(10).ok_or_else(err)?);
            scale /= 10;
            nanos += d * scale;
        }
        total_nanos = total_nanos.checked_add(nanos).ok_or_else(err)?;
        rest = tail;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err())?;
    let sub = u32::try_from(total_nanos % 1_000_000_000).map_err(|_| err())?;
    Ok(Duration::new(secs, sub))
}

/// Formats like Go's `Duration.String` for whole seconds (`720h0m0s`, `5s`, `0s`), so
/// logs and `--help` read as upstream's do.
pub fn format(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_defaults_and_forms() {
        assert_eq!(parse("720h0m0s"), Ok(Duration::from_secs(720 * 3600)));
        assert_eq!(parse("87600h"), Ok(Duration::from_secs(87_600 * 3600)));
        assert_eq!(parse("2m0s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("2us"), Ok(Duration::from_micros(2)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse(".5s"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn refusals() {
        for bad in ["", "10", "5d", "-1h", "h", "1h2", ".s", "1..2s", "1x"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(
            parse("5d")
                .unwrap_err()
                .to_string()
                .contains("expected a Go duration")
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::from_secs(720 * 3600)), "720h0m0s");
        assert_eq!(format(Duration::from_secs(120)), "2m0s");
        assert_eq!(format(Duration::from_secs(5)), "5s");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
