//! When the next key is due (upstream `initKeyRenewal`): a period after the newest
//! key, so restarts do not reset the clock, and at once when there is no key or the
//! newest is older than `--key-cutoff-time`.

use std::time::Duration;

use time::OffsetDateTime;

/// What the renewal loop should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Make a key now.
    Now,
    /// Wait this long, then make a key.
    After(Duration),
    /// Automatic renewal is off and a usable key exists: wait for a manual trigger.
    Never,
}

/// The next renewal, given the newest key's ordering time.
pub fn next_renewal(
    now: OffsetDateTime,
    newest: Option<OffsetDateTime>,
    period: Option<Duration>,
    cutoff: Option<OffsetDateTime>,
) -> Renewal {
    let Some(newest) = newest else {
        return Renewal::Now;
    };
    // A cutoff in the future would make every new key stale at once: it only
    // counts once it has passed.
    if cutoff.is_some_and(|cutoff| cutoff <= now && newest < cutoff) {
        return Renewal::Now;
    }
    let Some(period) = period else {
        return Renewal::Never;
    };
    let age = now - newest;
    match time::Duration::try_from(period) {
        Ok(period) if age < period => {
            Renewal::After(Duration::try_from(period - age).unwrap_or(Duration::ZERO))
        }
        Ok(_) => Renewal::Now,
        // A period too long to represent is as good as never.
        Err(_) => Renewal::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn no_key_means_now() {
        assert_eq!(next_renewal(t(0), None, Some(HOUR), None), Renewal::Now);
        assert_eq!(next_renewal(t(0), None, None, None), Renewal::Now);
    }

    #[test]
    fn restarts_do_not_reset_the_clock() {
        // Key made 40 minutes ago, period one hour: 20 minutes left.
        assert_eq!(
            next_renewal(t(2400), Some(t(0)), Some(HOUR), None),
            Renewal::After(Duration::from_secs(1200))
        );
        assert_eq!(
            next_renewal(t(3600), Some(t(0)), Some(HOUR), None),
            Renewal::Now
        );
        assert_eq!(
            next_renewal(t(99_999), Some(t(0)), Some(HOUR), None),
            Renewal::Now,
            "a stale key is renewed at once"
        );
    }

    #[test]
    fn cutoff_forces_a_key_even_with_renewal_off() {
        assert_eq!(
            next_renewal(t(10), Some(t(0)), None, Some(t(5))),
            Renewal::Now
        );
        assert_eq!(
            next_renewal(t(10), Some(t(6)), None, Some(t(5))),
            Renewal::Never
        );
        assert_eq!(
            next_renewal(t(10), Some(t(10)), None, Some(t(20))),
            Renewal::Never,
            "a future cutoff does not make every new key stale"
        );
    }
}
