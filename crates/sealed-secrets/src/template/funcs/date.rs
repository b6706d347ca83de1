//! Sprig's date functions (`date.go`): `now`, `date`, `dateInZone`, `htmlDate`,
//! `dateModify`, `ago`, `toDate`, `unixEpoch` and their aliases, over Go's
//! `time.Time` ([`crate::template::gotime`]).

use std::rc::Rc;

use super::time::{duration_string, parse_duration};
use super::{CallResult, bytes_of, err, string};
use crate::template::gotime::{self, Clock, Time};
use crate::template::value::{IntTy, Value};

/// The layout `htmlDate` formats with.
const HTML_DATE_LAYOUT: &[u8] = b"2006-01-02";

fn time(t: Time) -> CallResult {
    Ok(Value::Time(Rc::new(t)))
}

/// What Sprig makes of a date argument: a `time.Time`, an `int`/`int64` as Unix
/// seconds (in `Local`), and anything else as the current time.
fn date_arg(clock: &Clock, v: &Value) -> Time {
    match v {
        Value::Time(t) => (**t).clone(),
        Value::Int(secs, IntTy::Int | IntTy::Int64) => Time::from_unix(*secs, 0, clock.local()),
        _ => clock.now(),
    }
}

fn in_zone(clock: &Clock, layout: &[u8], date: &Value, zone: &[u8]) -> CallResult {
    let t = date_arg(clock, date);
    let loc = gotime::load_location(&String::from_utf8_lossy(zone), clock);
    string(t.in_loc(loc).format(layout))
}

pub(super) fn now(clock: &Clock, _: Vec<Value>) -> CallResult {
    time(clock.now())
}

pub(super) fn date(clock: &Clock, a: Vec<Value>) -> CallResult {
    in_zone(clock, bytes_of(&a[0]), &a[1], b"Local")
}

pub(super) fn date_in_zone(clock: &Clock, a: Vec<Value>) -> CallResult {
    in_zone(clock, bytes_of(&a[0]), &a[1], bytes_of(&a[2]))
}

pub(super) fn html_date(clock: &Clock, a: Vec<Value>) -> CallResult {
    in_zone(clock, HTML_DATE_LAYOUT, &a[0], b"Local")
}

pub(super) fn html_date_in_zone(clock: &Clock, a: Vec<Value>) -> CallResult {
    in_zone(clock, HTML_DATE_LAYOUT, &a[0], bytes_of(&a[1]))
}

fn the_time(v: &Value) -> Time {
    match v {
        Value::Time(t) => (**t).clone(),
        _ => Time::zero(),
    }
}

/// `dateModify`: a duration that does not parse leaves the date as it was.
pub(super) fn date_modify(a: Vec<Value>) -> CallResult {
    let t = the_time(&a[1]);
    match parse_duration(bytes_of(&a[0])) {
        Ok(d) => time(t.add(d)),
        Err(_) => time(t),
    }
}

pub(super) fn must_date_modify(a: Vec<Value>) -> CallResult {
    match parse_duration(bytes_of(&a[0])) {
        Ok(d) => time(the_time(&a[1]).add(d)),
        Err(e) => err(e),
    }
}

/// `ago`: the time since a date (an `int`/`int64` is Unix seconds; anything else
/// is now), rounded to the second.
pub(super) fn ago(clock: &Clock, a: Vec<Value>) -> CallResult {
    let t = date_arg(clock, &a[0]);
    string(duration_string(round_to_second(since(clock, &t))))
}

/// Go's `Duration.Round(time.Second)`: halves away from zero, saturating.
fn round_to_second(d: i64) -> i64 {
    const S: i64 = 1_000_000_000;
    let r = d % S;
    if d < 0 {
        let r = -r;
        if r + r < S {
            d + r
        } else {
            d.checked_sub(S - r).unwrap_or(i64::MIN)
        }
    } else if r + r < S {
        d - r
    } else {
        d.checked_add(S - r).unwrap_or(i64::MAX)
    }
}

/// `d` nanoseconds since `t`, as `durationRound` takes a `time.Time`.
pub(super) fn since(clock: &Clock, t: &Time) -> i64 {
    clock.now().sub(t)
}

/// `toDate`: a value that does not parse is Go's zero time.
pub(super) fn to_date(clock: &Clock, a: Vec<Value>) -> CallResult {
    let t = gotime::parse_in_local(bytes_of(&a[0]), bytes_of(&a[1]), &clock.local())
        .unwrap_or_else(|_| Time::zero());
    time(t)
}

pub(super) fn must_to_date(clock: &Clock, a: Vec<Value>) -> CallResult {
    match gotime::parse_in_local(bytes_of(&a[0]), bytes_of(&a[1]), &clock.local()) {
        Ok(t) => time(t),
        Err(e) => err(e.to_string()),
    }
}

pub(super) fn unix_epoch(a: Vec<Value>) -> CallResult {
    string(the_time(&a[0]).unix().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_second_as_go_does() {
        const S: i64 = 1_000_000_000;
        assert_eq!(round_to_second(S / 2), S);
        assert_eq!(round_to_second(S / 2 - 1), 0);
        assert_eq!(round_to_second(-S / 2), -S);
        assert_eq!(round_to_second(-S / 2 + 1), 0);
        assert_eq!(round_to_second(3 * S + 1), 3 * S);
        assert_eq!(round_to_second(i64::MAX), i64::MAX);
        assert_eq!(round_to_second(i64::MIN), i64::MIN);
    }
}
