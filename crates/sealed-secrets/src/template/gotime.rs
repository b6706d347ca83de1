//! Go's `time.Time` as far as Sprig's date functions reach: an instant, the location
//! it is shown in, and (for `now`) a monotonic reading; Go's layouts (`Format`,
//! `ParseInLocation`), `String()` and `LoadLocation`. Time zones come from the system
//! tzdata, else the one jiff bundles, as Go reads `/usr/share/zoneinfo`.
//!
//! Parse errors keep Go's shape but never quote the value being parsed: it may be a
//! decrypted secret.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::tz::TimeZone;

const SECS_PER_DAY: i64 = 86_400;
/// Seconds from 0001-01-01 (Go's zero `Time`) to 1970-01-01.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// `time.Month.String`, and `January` in layouts.
pub(super) const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// `time.Weekday.String`, and `Monday` in layouts.
pub(super) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Where a time is shown: Go's `*time.Location`.
#[derive(Clone, Debug)]
pub(super) enum Loc {
    /// `time.UTC`, also the zero `Time`'s location.
    Utc,
    /// `time.Local`.
    Local(TimeZone),
    /// A zone `LoadLocation` found.
    Zone(TimeZone),
    /// `FixedZone(name, offset)`, what parsing makes of an offset the local zone
    /// does not have.
    Fixed { name: String, offset: i32 },
}

impl Loc {
    /// Offset east of UTC in seconds and the zone's abbreviation at `unix`.
    fn lookup(&self, unix: i64) -> (i32, String) {
        let tz = match self {
            Loc::Utc => return (0, "UTC".to_owned()),
            Loc::Fixed { name, offset } => return (*offset, name.clone()),
            Loc::Local(tz) | Loc::Zone(tz) => tz,
        };
        // jiff's range is years -9999..=9999; beyond it Go's zones keep their last
        // rule, which the clamp approximates.
        let ts = Timestamp::from_second(
            unix.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second()),
        )
        .unwrap_or(Timestamp::UNIX_EPOCH);
        let info = tz.to_offset_info(ts);
        (info.offset().seconds(), info.abbreviation().to_owned())
    }

    /// Whether two locations are the same `*Location` (what `==` on times compares).
    fn same(&self, other: &Loc) -> bool {
        match (self, other) {
            (Loc::Utc, Loc::Utc) | (Loc::Local(_), Loc::Local(_)) => true,
            (Loc::Zone(a), Loc::Zone(b)) => a == b,
            (Loc::Fixed { name: a, offset: x }, Loc::Fixed { name: b, offset: y }) => {
                a == b && x == y
            }
            _ => false,
        }
    }
}

/// Go's `time.Time`.
#[derive(Clone, Debug)]
pub(crate) struct Time {
    unix: i64,
    nanos: u32,
    loc: Loc,
    /// Nanoseconds since the process started, as `time.Now` records them.
    mono: Option<i64>,
}

/// When this process first asked the monotonic clock: Go's `m=` readings count from
/// its runtime's start, ours from the first `now`.
fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// What a template may learn of the world beyond its values: the time and the local
/// time zone (Go's `time.Now` and `time.Local`).
#[derive(Clone, Debug)]
pub struct Clock {
    local: TimeZone,
    /// A fixed instant (seconds, nanoseconds) instead of the system clock.
    fixed: Option<(i64, u32)>,
}

impl Clock {
    /// The system clock and the local zone Go's `time.Local` would be.
    pub fn system() -> Clock {
        static LOCAL: OnceLock<TimeZone> = OnceLock::new();
        Clock {
            local: LOCAL.get_or_init(go_local).clone(),
            fixed: None,
        }
    }

    /// A clock that always reads `unix_seconds`, in `local` (an IANA name; UTC when
    /// the name is unknown): for tests and golden files.
    pub fn fixed(unix_seconds: i64, local: &str) -> Clock {
        Clock {
            local: TimeZone::get(local).unwrap_or(TimeZone::UTC),
            fixed: Some((unix_seconds, 0)),
        }
    }

    pub(super) fn local(&self) -> Loc {
        Loc::Local(self.local.clone())
    }

    /// `time.Now()`, with its monotonic reading.
    pub(super) fn now(&self) -> Time {
        let (unix, nanos) = self.fixed.unwrap_or_else(|| {
            let d = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            )
        });
        let mono = match self.fixed {
            Some(_) => 1,
            None => i64::try_from(process_start().elapsed().as_nanos())
                .unwrap_or(i64::MAX)
                .max(1),
        };
        Time {
            unix,
            nanos,
            loc: self.local(),
            mono: Some(mono),
        }
    }
}

/// Go's `time.Local` on Unix: `$TZ` (unset: /etc/localtime; empty or unknown: UTC).
fn go_local() -> TimeZone {
    match std::env::var("TZ") {
        Err(_) => std::fs::read("/etc/localtime")
            .ok()
            .and_then(|b| TimeZone::tzif("Local", &b).ok())
            .unwrap_or(TimeZone::UTC),
        Ok(tz) => {
            let tz = tz.strip_prefix(':').unwrap_or(&tz);
            if tz.is_empty() || tz == "UTC" {
                TimeZone::UTC
            } else if tz.starts_with('/') {
                std::fs::read(tz)
                    .ok()
                    .and_then(|b| TimeZone::tzif("Local", &b).ok())
                    .unwrap_or(TimeZone::UTC)
            } else {
                load_zone(tz).unwrap_or(TimeZone::UTC)
            }
        }
    }
}

/// A zone by its IANA name, spelled exactly (Go opens a file of that name, so case
/// counts and paths do not work).
fn load_zone(name: &str) -> Option<TimeZone> {
    if name.contains("..") || name.starts_with(['/', '\\']) {
        return None;
    }
    let tz = TimeZone::get(name).ok()?;
    (tz.iana_name() == Some(name)).then_some(tz)
}

/// Go's `time.LoadLocation`, falling back to UTC as Sprig does when it fails.
pub(super) fn load_location(name: &str, clock: &Clock) -> Loc {
    match name {
        "" | "UTC" => Loc::Utc,
        "Local" => clock.local(),
        _ => load_zone(name).map_or(Loc::Utc, Loc::Zone),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A time's fields as shown in its location.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    /// 0 is Sunday.
    weekday: i64,
    /// From 1.
    yday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    nanos: u32,
    offset: i32,
    abbrev: String,
}

impl Time {
    /// Go's zero `Time`: what `toDate` gives for a value it cannot parse.
    pub(super) fn zero() -> Time {
        Time::from_unix(ZERO_TIME_UNIX, 0, Loc::Utc)
    }

    /// `time.Unix(secs, 0)`, shown in `loc`.
    pub(super) fn from_unix(unix: i64, nanos: u32, loc: Loc) -> Time {
        Time {
            unix,
            nanos,
            loc,
            mono: None,
        }
    }

    pub(super) fn unix(&self) -> i64 {
        self.unix
    }

    /// `t.In(loc)`; like Go's, it drops the monotonic reading.
    pub(super) fn in_loc(&self, loc: Loc) -> Time {
        Time {
            loc,
            mono: None,
            ..self.clone()
        }
    }

    pub(super) fn is_zero(&self) -> bool {
        self.unix == ZERO_TIME_UNIX && self.nanos == 0
    }

    /// `t.Add(d)`, `d` in nanoseconds; the monotonic reading moves with it.
    pub(super) fn add(&self, d: i64) -> Time {
        let total = i128::from(self.unix) * 1_000_000_000 + i128::from(self.nanos) + i128::from(d);
        let unix = i64::try_from(total.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
        let nanos = u32::try_from(total.rem_euclid(1_000_000_000)).unwrap_or(0);
        Time {
            unix,
            nanos,
            loc: self.loc.clone(),
            mono: self.mono.map(|m| m.saturating_add(d)),
        }
    }

    /// `t.Sub(u)` in nanoseconds, saturating as Go's does; by the monotonic readings
    /// when both have one.
    pub(super) fn sub(&self, u: &Time) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let d = (i128::from(self.unix) - i128::from(u.unix)) * 1_000_000_000
            + i128::from(self.nanos)
            - i128::from(u.nanos);
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }

    /// `t.Compare(u)` (and so `Before`, `After`, `Equal`): by the monotonic readings
    /// when both have one, else by instant.
    pub(super) fn compare(&self, u: &Time) -> std::cmp::Ordering {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.cmp(&b);
        }
        (self.unix, self.nanos).cmp(&(u.unix, u.nanos))
    }

    /// `t.Truncate(d)` or, with `round`, `t.Round(d)`: to a multiple of `d` since Go's
    /// zero time; the monotonic reading goes, and `d <= 0` changes nothing else.
    pub(super) fn truncate(&self, d: i64, round: bool) -> Time {
        let t = Time {
            mono: None,
            ..self.clone()
        };
        if d <= 0 {
            return t;
        }
        let since_zero = (i128::from(self.unix) - i128::from(ZERO_TIME_UNIX)) * 1_000_000_000
            + i128::from(self.nanos);
        let r = i64::try_from(since_zero.rem_euclid(i128::from(d))).unwrap_or(0);
        // Go's `lessThanHalf`: r + r < d, in unsigned arithmetic.
        if !round || (r as u64).wrapping_add(r as u64) < d as u64 {
            t.add(-r)
        } else {
            t.add(d - r)
        }
    }

    /// `==` on two `time.Time` values: same instant, location and monotonic reading.
    pub(super) fn identical(&self, other: &Time) -> bool {
        self.unix == other.unix
            && self.nanos == other.nanos
            && self.mono == other.mono
            && self.loc.same(&other.loc)
    }

    fn civil(&self) -> Civil {
        let (offset, abbrev) = self.loc.lookup(self.unix);
        let local = self.unix.saturating_add(i64::from(offset));
        let days = local.div_euclid(SECS_PER_DAY);
        let secs = local.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            weekday: (days + 4).rem_euclid(7),
            yday: days - days_from_civil(year, 1, 1) + 1,
            hour: secs / 3600,
            min: secs / 60 % 60,
            sec: secs % 60,
            nanos: self.nanos,
            offset,
            abbrev,
        }
    }

    /// Go's `t.Format(layout)`.
    pub(super) fn format(&self, layout: &[u8]) -> Vec<u8> {
        let c = self.civil();
        let mut out = Vec::with_capacity(layout.len() + 10);
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.extend_from_slice(prefix);
            let Some(std) = std else { break };
            format_std(&mut out, std, &c);
            rest = suffix;
        }
        out
    }

    /// Go's `t.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, then the
    /// monotonic reading as ` m=±s.nnnnnnnnn`.
    pub(super) fn text(&self) -> String {
        let mut s =
            String::from_utf8_lossy(&self.format(b"2006-01-02 15:04:05.999999999 -0700 MST"))
                .into_owned();
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let u = m.unsigned_abs();
            s.push_str(&format!(
                " m={sign}{}.{:09}",
                u / 1_000_000_000,
                u % 1_000_000_000
            ));
        }
        s
    }

    /// `t.MarshalJSON()` without its quotes: RFC 3339 with nanoseconds, or `None`
    /// for a year Go refuses to write.
    pub(super) fn rfc3339_nano(&self) -> Option<Vec<u8>> {
        let year = self.civil().year;
        if !(0..=9999).contains(&year) {
            return None;
        }
        Some(self.format(b"2006-01-02T15:04:05.999999999Z07:00"))
    }

    pub(super) fn year(&self) -> i64 {
        self.civil().year
    }
    pub(super) fn yday(&self) -> i64 {
        self.civil().yday
    }
    pub(super) fn day(&self) -> i64 {
        self.civil().day
    }
    /// 1 is January.
    pub(super) fn month(&self) -> i64 {
        self.civil().month
    }
    /// 0 is Sunday.
    pub(super) fn weekday(&self) -> i64 {
        self.civil().weekday
    }
    pub(super) fn hour(&self) -> i64 {
        self.civil().hour
    }
    pub(super) fn minute(&self) -> i64 {
        self.civil().min
    }
    pub(super) fn second(&self) -> i64 {
        self.civil().sec
    }
    pub(super) fn nanosecond(&self) -> i64 {
        i64::from(self.nanos)
    }
    pub(super) fn unix_nanos(&self) -> i128 {
        i128::from(self.unix) * 1_000_000_000 + i128::from(self.nanos)
    }
}

/// A layout element (Go's `std*` constants).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    LowerPM,
    /// `MST`
    Tz,
    /// `-0700` and friends; with `z` (`Z0700`, …), `Z` stands for UTC.
    Offset {
        z: bool,
        colon: bool,
        seconds: bool,
        short: bool,
    },
    /// `.000` (`trim: false`) or `.999`, with its separator and digit count.
    Frac {
        trim: bool,
        digits: usize,
        sep: u8,
    },
}

fn lower_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_lowercase)
}

fn digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `nextStdChunk`: the text before the first layout element, the element, and
/// what follows it.
fn next_std_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let at = |i: usize, s: &[u8]| layout.get(i..i + s.len()) == Some(s);
    for i in 0..layout.len() {
        let hit = |len: usize, std: Std| Some((i, std, i + len));
        let found = match layout[i] {
            b'J' if at(i, b"January") => hit(7, Std::LongMonth),
            b'J' if at(i, b"Jan") && !lower_at(layout, i + 3) => hit(3, Std::Month),
            b'M' if at(i, b"Monday") => hit(6, Std::LongWeekDay),
            b'M' if at(i, b"Mon") && !lower_at(layout, i + 3) => hit(3, Std::WeekDay),
            b'M' if at(i, b"MST") => hit(3, Std::Tz),
            b'0' if layout.get(i + 1).is_some_and(|c| (b'1'..=b'6').contains(c)) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(layout[i + 1] - b'1')];
                hit(2, std)
            }
            b'0' if at(i, b"002") => hit(3, Std::ZeroYearDay),
            b'1' if at(i, b"15") => hit(2, Std::Hour),
            b'1' => hit(1, Std::NumMonth),
            b'2' if at(i, b"2006") => hit(4, Std::LongYear),
            b'2' => hit(1, Std::Day),
            // `_2006` is a literal `_` and a year.
            b'_' if at(i, b"_2006") => Some((i + 1, Std::LongYear, i + 5)),
            b'_' if at(i, b"_2") => hit(2, Std::UnderDay),
            b'_' if at(i, b"__2") => hit(3, Std::UnderYearDay),
            b'3' => hit(1, Std::Hour12),
            b'4' => hit(1, Std::Minute),
            b'5' => hit(1, Std::Second),
            b'P' if at(i, b"PM") => hit(2, Std::PM),
            b'p' if at(i, b"pm") => hit(2, Std::LowerPM),
            b'-' | b'Z' => zone_std(&layout[i..]).map(|(len, std)| (i, std, i + len)),
            sep @ (b'.' | b',') if matches!(layout.get(i + 1), Some(b'0' | b'9')) => {
                let ch = layout[i + 1];
                let mut j = i + 1;
                while layout.get(j) == Some(&ch) {
                    j += 1;
                }
                (!digit_at(layout, j)).then_some((
                    i,
                    Std::Frac {
                        trim: ch == b'9',
                        digits: j - i - 1,
                        sep,
                    },
                    j,
                ))
            }
            _ => None,
        };
        if let Some((start, std, end)) = found {
            return (&layout[..start], Some(std), &layout[end..]);
        }
    }
    (layout, None, &[])
}

/// The zone offset elements, longest first, as Go tries them.
fn zone_std(s: &[u8]) -> Option<(usize, Std)> {
    let iso = s[0] == b'Z';
    let body = &s[1..];
    let (len, colon, seconds, short) = if body.starts_with(b"070000") {
        (7, false, true, false)
    } else if body.starts_with(b"07:00:00") {
        (9, true, true, false)
    } else if body.starts_with(b"0700") {
        (5, false, false, false)
    } else if body.starts_with(b"07:00") {
        (6, true, false, false)
    } else if body.starts_with(b"07") {
        (3, false, false, true)
    } else {
        return None;
    };
    let std = Std::Offset {
        z: iso,
        colon,
        seconds,
        short,
    };
    Some((len, std))
}

/// Go's `appendInt`: decimal, zero-padded to `width` digits.
fn push_int(out: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(format!("{:0width$}", x.unsigned_abs()).as_bytes());
}

fn format_std(out: &mut Vec<u8>, std: Std, c: &Civil) {
    let month = LONG_MONTHS[usize::try_from(c.month - 1).unwrap_or(0)];
    let weekday = LONG_DAYS[usize::try_from(c.weekday).unwrap_or(0)];
    match std {
        Std::Year => push_int(out, c.year % 100, 2),
        Std::LongYear => push_int(out, c.year, 4),
        Std::Month => out.extend_from_slice(&month.as_bytes()[..3]),
        Std::LongMonth => out.extend_from_slice(month.as_bytes()),
        Std::NumMonth => push_int(out, c.month, 0),
        Std::ZeroMonth => push_int(out, c.month, 2),
        Std::WeekDay => out.extend_from_slice(&weekday.as_bytes()[..3]),
        Std::LongWeekDay => out.extend_from_slice(weekday.as_bytes()),
        Std::Day => push_int(out, c.day, 0),
        Std::UnderDay => {
            if c.day < 10 {
                out.push(b' ');
            }
            push_int(out, c.day, 0);
        }
        Std::ZeroDay => push_int(out, c.day, 2),
        Std::UnderYearDay => {
            if c.yday < 100 {
                out.push(b' ');
                if c.yday < 10 {
                    out.push(b' ');
                }
            }
            push_int(out, c.yday, 0);
        }
        Std::ZeroYearDay => push_int(out, c.yday, 3),
        Std::Hour => push_int(out, c.hour, 2),
        Std::Hour12 | Std::ZeroHour12 => {
            let hr = match c.hour % 12 {
                0 => 12,
                h => h,
            };
            push_int(out, hr, if std == Std::Hour12 { 0 } else { 2 });
        }
        Std::Minute => push_int(out, c.min, 0),
        Std::ZeroMinute => push_int(out, c.min, 2),
        Std::Second => push_int(out, c.sec, 0),
        Std::ZeroSecond => push_int(out, c.sec, 2),
        Std::PM => out.extend_from_slice(if c.hour >= 12 { b"PM" } else { b"AM" }),
        Std::LowerPM => out.extend_from_slice(if c.hour >= 12 { b"pm" } else { b"am" }),
        Std::Offset { z: true, .. } if c.offset == 0 => out.push(b'Z'),
        Std::Offset {
            colon,
            seconds,
            short,
            ..
        } => {
            let zone = c.offset / 60;
            out.push(if zone < 0 { b'-' } else { b'+' });
            let (zone, abs) = (i64::from(zone.abs()), i64::from(c.offset.abs()));
            push_int(out, zone / 60, 2);
            if colon {
                out.push(b':');
            }
            if !short {
                push_int(out, zone % 60, 2);
            }
            if seconds {
                if colon {
                    out.push(b':');
                }
                push_int(out, abs % 60, 2);
            }
        }
        Std::Tz if !c.abbrev.is_empty() => out.extend_from_slice(c.abbrev.as_bytes()),
        Std::Tz => {
            let zone = c.offset / 60;
            out.push(if zone < 0 { b'-' } else { b'+' });
            let zone = i64::from(zone.abs());
            push_int(out, zone / 60, 2);
            push_int(out, zone % 60, 2);
        }
        Std::Frac { trim, digits, sep } => {
            if trim && (digits == 0 || c.nanos == 0) {
                return;
            }
            let all = format!("{:09}", c.nanos);
            let mut frac = &all.as_bytes()[..digits.min(9)];
            if trim {
                while let [rest @ .., b'0'] = frac {
                    frac = rest;
                }
                if frac.is_empty() {
                    return;
                }
            }
            out.push(sep);
            out.extend_from_slice(frac);
        }
    }
}

/// Why a value does not parse with a layout; the value itself is never quoted.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ParseError {
    layout: String,
    /// The layout element that did not match, or Go's message (`: day out of range`).
    what: ParseFailure,
}

#[derive(Debug, PartialEq, Eq)]
enum ParseFailure {
    Element(String),
    Message(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.what {
            ParseFailure::Element(e) => write!(
                f,
                "parsing time as {:?}: cannot parse the value as {e:?}",
                self.layout
            ),
            ParseFailure::Message(m) => write!(f, "parsing time as {:?}{m}", self.layout),
        }
    }
}

/// Go's `getnum`: one or two digits (`fixed`: exactly two).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !digit_at(s, 0) {
        return None;
    }
    if !digit_at(s, 1) {
        return (!fixed).then(|| (i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// Go's `getnum3`: one to three digits (`fixed`: exactly three).
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && digit_at(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    (i > 0 && !(fixed && i != 3)).then(|| (n, &s[i..]))
}

/// Go's `lookup`: the first name of `names` (cut to `len` bytes) that starts `s`,
/// ignoring ASCII case.
fn lookup_name<'a>(names: &[&str], len: Option<usize>, s: &'a [u8]) -> Option<(i64, &'a [u8])> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = &name.as_bytes()[..len.unwrap_or(name.len())];
        let head = s.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i64::try_from(i).unwrap_or(0), &s[name.len()..]))
    })
}

/// Go's `skip`: `prefix` must start `value`, runs of spaces matching runs of spaces.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    let cutspace = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b' ').count() };
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = &prefix[cutspace(prefix)..];
            value = &value[cutspace(value)..];
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

/// Go's `parseNanoseconds` of `value[..n]` (a separator then digits).
fn nanoseconds(value: &[u8], n: usize) -> Option<u32> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return None;
    }
    let n = n.min(10);
    let digits = value.get(1..n)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut ns: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    for _ in 0..(10 - n) {
        ns *= 10;
    }
    Some(ns)
}

/// Go's `parseTimeZone`: the length of the zone abbreviation that starts `v`.
fn time_zone_len(v: &[u8]) -> Option<usize> {
    if v.len() < 3 {
        return None;
    }
    if v.starts_with(b"ChST") || v.starts_with(b"MeST") {
        return Some(4);
    }
    if v.starts_with(b"GMT") {
        return Some(3 + signed_offset_len(&v[3..]));
    }
    if matches!(v[0], b'+' | b'-') {
        return Some(signed_offset_len(v)).filter(|&n| n > 0);
    }
    let upper = v
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if v[3] == b'T' || v.starts_with(b"WITA") => Some(4),
        5 if v[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: a sign and an hour in -23..=23.
fn signed_offset_len(v: &[u8]) -> usize {
    if !matches!(v.first(), Some(b'+' | b'-')) {
        return 0;
    }
    let digits = v[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return 0;
    }
    let x: u64 = std::str::from_utf8(&v[1..1 + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    if x > 23 { 0 } else { 1 + digits }
}

/// Go's `time.ParseInLocation(layout, value, local)`.
pub(super) fn parse_in_local(layout: &[u8], value: &[u8], local: &Loc) -> Result<Time, ParseError> {
    let layout_text = String::from_utf8_lossy(layout).into_owned();
    let element = |e: &[u8]| ParseError {
        layout: layout_text.clone(),
        what: ParseFailure::Element(String::from_utf8_lossy(e).into_owned()),
    };
    let message = |m: &str| ParseError {
        layout: layout_text.clone(),
        what: ParseFailure::Message(m.to_owned()),
    };
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0u32);
    let (mut am, mut pm) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Option<String> = None;
    let mut layout = layout;
    let mut value = value;
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let elem = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix).ok_or_else(|| element(prefix))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(message(": extra text after the value"));
            }
            break;
        };
        layout = suffix;
        let mut range: Option<&str> = None;
        let parsed: Option<&[u8]> = match std {
            Std::Year => value
                .get(..2)
                .filter(|p| p.iter().all(u8::is_ascii_digit))
                .map(|p| {
                    let y = i64::from(p[0] - b'0') * 10 + i64::from(p[1] - b'0');
                    year = if y >= 69 { 1900 + y } else { 2000 + y };
                    &value[2..]
                }),
            Std::LongYear => value
                .get(..4)
                .filter(|p| p.iter().all(u8::is_ascii_digit))
                .map(|p| {
                    year = std::str::from_utf8(p)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    &value[4..]
                }),
            Std::Month | Std::LongMonth => {
                let len = (std == Std::Month).then_some(3);
                lookup_name(&LONG_MONTHS, len, value).map(|(m, rest)| {
                    month = m + 1;
                    rest
                })
            }
            Std::NumMonth | Std::ZeroMonth => {
                getnum(value, std == Std::ZeroMonth).map(|(m, rest)| {
                    month = m;
                    if !(1..=12).contains(&m) {
                        range = Some("month");
                    }
                    rest
                })
            }
            Std::WeekDay | Std::LongWeekDay => {
                let len = (std == Std::WeekDay).then_some(3);
                lookup_name(&LONG_DAYS, len, value).map(|(_, rest)| rest)
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                let v = match value {
                    [b' ', rest @ ..] if std == Std::UnderDay => rest,
                    v => v,
                };
                getnum(v, std == Std::ZeroDay).map(|(d, rest)| {
                    day = d;
                    rest
                })
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                let mut v = value;
                for _ in 0..2 {
                    if std == Std::UnderYearDay && v.first() == Some(&b' ') {
                        v = &v[1..];
                    }
                }
                getnum3(v, std == Std::ZeroYearDay).map(|(d, rest)| {
                    yday = d;
                    rest
                })
            }
            Std::Hour => getnum(value, false).map(|(h, rest)| {
                hour = h;
                if h >= 24 {
                    range = Some("hour");
                }
                rest
            }),
            Std::Hour12 | Std::ZeroHour12 => {
                getnum(value, std == Std::ZeroHour12).map(|(h, rest)| {
                    hour = h;
                    if h > 12 {
                        range = Some("hour");
                    }
                    rest
                })
            }
            Std::Minute | Std::ZeroMinute => {
                getnum(value, std == Std::ZeroMinute).map(|(m, rest)| {
                    min = m;
                    if m >= 60 {
                        range = Some("minute");
                    }
                    rest
                })
            }
            Std::Second | Std::ZeroSecond => match getnum(value, std == Std::ZeroSecond) {
                None => None,
                Some((s, rest)) if s >= 60 => {
                    sec = s;
                    range = Some("second");
                    Some(rest)
                }
                Some((s, rest)) => {
                    sec = s;
                    // A fraction in the value that the layout does not spell out.
                    let layout_has_fraction =
                        matches!(next_std_chunk(layout).1, Some(Std::Frac { .. }));
                    if rest.len() >= 2
                        && matches!(rest[0], b'.' | b',')
                        && digit_at(rest, 1)
                        && !layout_has_fraction
                    {
                        let n = 2 + rest[2..].iter().take_while(|c| c.is_ascii_digit()).count();
                        match nanoseconds(rest, n) {
                            Some(ns) => {
                                nsec = ns;
                                Some(&rest[n..])
                            }
                            None => None,
                        }
                    } else {
                        Some(rest)
                    }
                }
            },
            Std::PM | Std::LowerPM => {
                let (p, a): (&[u8], &[u8]) = if std == Std::PM {
                    (b"PM", b"AM")
                } else {
                    (b"pm", b"am")
                };
                match value.get(..2) {
                    Some(x) if x == p => {
                        pm = true;
                        Some(&value[2..])
                    }
                    Some(x) if x == a => {
                        am = true;
                        Some(&value[2..])
                    }
                    _ => None,
                }
            }
            Std::Offset { z: true, .. } if value.first() == Some(&b'Z') => {
                utc = true;
                Some(&value[1..])
            }
            Std::Offset {
                colon,
                seconds,
                short,
                ..
            } => parse_offset(value, colon, seconds, short).map(|(off, r, rest)| {
                if r.is_some() {
                    range = r;
                }
                zone_offset = Some(off);
                rest
            }),
            Std::Tz if value.starts_with(b"UTC") => {
                utc = true;
                Some(&value[3..])
            }
            Std::Tz => time_zone_len(value).map(|n| {
                zone_name = Some(String::from_utf8_lossy(&value[..n]).into_owned());
                &value[n..]
            }),
            Std::Frac {
                trim: false,
                digits,
                ..
            } => {
                let n = 1 + digits;
                if value.len() < n {
                    None
                } else {
                    nanoseconds(value, n).map(|ns| {
                        nsec = ns;
                        &value[n..]
                    })
                }
            }
            Std::Frac { trim: true, .. } => {
                if value.len() < 2 || !matches!(value[0], b'.' | b',') || !digit_at(value, 1) {
                    Some(value)
                } else {
                    let n = 1 + value[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nanoseconds(value, n).map(|ns| {
                        nsec = ns;
                        &value[n..]
                    })
                }
            }
        };
        if let Some(r) = range {
            return Err(message(&format!(": {r} out of range")));
        }
        value = parsed.ok_or_else(|| element(elem))?;
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (m, d) =
            month_day_of_year(year, yday).ok_or_else(|| message(": day-of-year out of range"))?;
        if month >= 0 && month != m {
            return Err(message(": day-of-year does not match month"));
        }
        if day >= 0 && day != d {
            return Err(message(": day-of-year does not match day"));
        }
        (month, day) = (m, d);
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(message(": day out of range"));
    }
    let wall = days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
    if utc {
        return Ok(Time::from_unix(wall, nsec, Loc::Utc));
    }
    if let Some(offset) = zone_offset {
        let unix = wall - offset;
        let (local_offset, local_name) = local.lookup(unix);
        let t = if i64::from(local_offset) == offset
            && zone_name.as_ref().is_none_or(|n| *n == local_name)
        {
            local.clone()
        } else {
            Loc::Fixed {
                name: zone_name.unwrap_or_default(),
                offset: i32::try_from(offset).unwrap_or(0),
            }
        };
        return Ok(Time::from_unix(unix, nsec, t));
    }
    if let Some(name) = zone_name {
        // The local zone's offset where it uses this abbreviation at about this time.
        for guess in [wall, wall - i64::from(local.lookup(wall).0)] {
            let (offset, abbrev) = local.lookup(guess);
            if abbrev == name {
                return Ok(Time::from_unix(
                    wall - i64::from(offset),
                    nsec,
                    local.clone(),
                ));
            }
        }
        let offset = match name.strip_prefix("GMT") {
            Some(h) if !h.is_empty() => h.parse::<i32>().unwrap_or(0) * 3600,
            _ => 0,
        };
        return Ok(Time::from_unix(
            wall - i64::from(offset),
            nsec,
            Loc::Fixed { name, offset },
        ));
    }
    Ok(date_in(wall, nsec, local.clone()))
}

/// Go's `time.Date` for a wall clock reading in `loc`: the offset in effect there,
/// looked up first as if the reading were UTC, then at the instant that gives.
fn date_in(wall: i64, nanos: u32, loc: Loc) -> Time {
    let (first, _) = loc.lookup(wall);
    let unix = if first == 0 {
        wall
    } else {
        let (offset, _) = loc.lookup(wall - i64::from(first));
        wall - i64::from(offset)
    };
    Time::from_unix(unix, nanos, loc)
}

/// A numeric zone offset at the start of `v`: seconds east, a range error, the rest.
fn parse_offset(
    v: &[u8],
    colon: bool,
    seconds: bool,
    short: bool,
) -> Option<(i64, Option<&'static str>, &[u8])> {
    let (sign, h, m, s, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = if colon && !seconds {
        if v.len() < 6 || v[3] != b':' {
            return None;
        }
        (v[0], &v[1..3], &v[4..6], b"00", &v[6..])
    } else if short {
        if v.len() < 3 {
            return None;
        }
        (v[0], &v[1..3], b"00", b"00", &v[3..])
    } else if colon && seconds {
        if v.len() < 9 || v[3] != b':' || v[6] != b':' {
            return None;
        }
        (v[0], &v[1..3], &v[4..6], &v[7..9], &v[9..])
    } else if seconds {
        if v.len() < 7 {
            return None;
        }
        (v[0], &v[1..3], &v[3..5], &v[5..7], &v[7..])
    } else {
        if v.len() < 5 {
            return None;
        }
        (v[0], &v[1..3], &v[3..5], b"00", &v[5..])
    };
    let (hr, _) = getnum(h, true)?;
    let (mm, _) = getnum(m, true)?;
    let (ss, _) = getnum(s, true)?;
    // Go tests with `>`: some write offsets of 24 hours or 60 minutes.
    let range = if ss > 60 {
        Some("time zone offset second")
    } else if mm > 60 {
        Some("time zone offset minute")
    } else if hr > 24 {
        Some("time zone offset hour")
    } else {
        None
    };
    let off = (hr * 60 + mm) * 60 + ss;
    let off = match sign {
        b'+' => off,
        b'-' => -off,
        _ => return None,
    };
    Some((off, range, rest))
}

/// Month and day of day-of-year `yday` (Go's conversion, leap days included).
fn month_day_of_year(year: i64, mut yday: i64) -> Option<(i64, i64)> {
    if is_leap(year) {
        if yday == 31 + 29 {
            return Some((2, 29));
        } else if yday > 31 + 29 {
            yday -= 1;
        }
    }
    if !(1..=365).contains(&yday) {
        return None;
    }
    let mut before = 0;
    for m in 1..=12 {
        let len = if m == 2 { 28 } else { days_in(m, 2001) };
        if yday <= before + len {
            return Some((m, yday - before));
        }
        before += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Loc {
        Loc::Zone(TimeZone::get("Europe/Berlin").unwrap())
    }

    #[test]
    fn formats_as_go_does() {
        // 2017-12-31 13:04:05.123456789 UTC, a Sunday.
        let t = Time::from_unix(1_514_725_445, 123_456_789, Loc::Utc);
        for (layout, want) in [
            ("2006-01-02", "2017-12-31"),
            (
                "Mon Jan _2 15:04:05 MST 2006",
                "Sun Dec 31 13:04:05 UTC 2017",
            ),
            (
                "Monday, January 2, 2006 3:04PM",
                "Sunday, December 31, 2017 1:04PM",
            ),
            ("02/01/06 03:4:5 pm", "31/12/17 01:4:5 pm"),
            (
                "2006-01-02T15:04:05.999999999Z07:00",
                "2017-12-31T13:04:05.123456789Z",
            ),
            ("15:04:05.000 -07:00:00", "13:04:05.123 +00:00:00"),
            ("05,00000", "05,12345"),
            ("002 __2", "365 365"),
            ("_2006", "_2017"),
            ("Janet", "Janet"),
            (".9", ".1"),
        ] {
            assert_eq!(
                String::from_utf8(t.format(layout.as_bytes())).unwrap(),
                want,
                "{layout}"
            );
        }
        let summer = Time::from_unix(1_530_000_000, 0, berlin());
        assert_eq!(
            String::from_utf8(summer.format(b"2006-01-02 15:04:05 -0700 MST Z07:00 -07")).unwrap(),
            "2018-06-26 10:00:00 +0200 CEST +02:00 +02"
        );
        let odd = Time::from_unix(
            0,
            0,
            Loc::Fixed {
                name: String::new(),
                offset: -(5 * 3600 + 30 * 60),
            },
        );
        assert_eq!(String::from_utf8(odd.format(b"MST")).unwrap(), "-0530");
    }

    #[test]
    fn strings_as_go_does() {
        assert_eq!(Time::zero().text(), "0001-01-01 00:00:00 +0000 UTC");
        let clock = Clock::fixed(1_700_000_000, "UTC");
        assert_eq!(
            clock.now().text(),
            "2023-11-14 22:13:20 +0000 UTC m=+0.000000001"
        );
        let later = clock.now().add(90 * 60 * 1_000_000_000 + 5);
        assert_eq!(
            later.text(),
            "2023-11-14 23:43:20.000000005 +0000 UTC m=+5400.000000006"
        );
        assert_eq!(later.sub(&clock.now()), 90 * 60 * 1_000_000_000 + 5);
    }

    #[test]
    fn parses_as_go_does() {
        let utc = Loc::Utc;
        let p =
            |layout: &str, value: &str| parse_in_local(layout.as_bytes(), value.as_bytes(), &utc);
        assert_eq!(p("2006-01-02", "2017-12-31").unwrap().unix(), 1_514_678_400);
        let t = p(
            "2006-01-02 15:04:05.000 -0700",
            "2017-12-31 13:04:05.250 +0130",
        )
        .unwrap();
        assert_eq!(t.text(), "2017-12-31 13:04:05.25 +0130 +0130");
        assert_eq!(t.unix(), 1_514_725_445 - 5400);
        // A fraction the layout does not name is still read.
        assert_eq!(
            p("15:04:05", "01:02:03.5").unwrap().nanosecond(),
            500_000_000
        );
        assert_eq!(
            p("Jan 2 06 3PM MST", "feb 3 19 4PM PST").unwrap().text(),
            "2019-02-03 16:00:00 +0000 PST"
        );
        assert_eq!(
            p("2006 002", "2020 060").unwrap().text(),
            "2020-02-29 00:00:00 +0000 UTC"
        );
        assert_eq!(
            p("Z07:00", "Z").unwrap().text(),
            "0000-01-01 00:00:00 +0000 UTC"
        );
        for (layout, value, want) in [
            (
                "2006-01-02",
                "2017-02-30",
                "parsing time as \"2006-01-02\": day out of range",
            ),
            (
                "2006-01-02",
                "2017-13-01",
                "parsing time as \"2006-01-02\": month out of range",
            ),
            (
                "2006-01-02",
                "17-12-01",
                "parsing time as \"2006-01-02\": cannot parse the value as \"2006\"",
            ),
            (
                "2006-01-02",
                "2017-12-01x",
                "parsing time as \"2006-01-02\": extra text after the value",
            ),
            (
                "2006-01-02",
                "2017/12/01",
                "parsing time as \"2006-01-02\": cannot parse the value as \"-\"",
            ),
        ] {
            assert_eq!(p(layout, value).unwrap_err().to_string(), want, "{value}");
        }
        // A local zone's own offset keeps the local zone.
        let t = parse_in_local(b"2006-01-02 -0700", b"2018-06-26 +0200", &berlin()).unwrap();
        assert!(matches!(t.loc, Loc::Zone(_)));
        assert_eq!(t.text(), "2018-06-26 00:00:00 +0200 CEST");
        // No zone in the value: the wall clock in the local zone.
        let t = parse_in_local(b"2006-01-02 15:04", b"2018-06-26 12:00", &berlin()).unwrap();
        assert_eq!(t.unix(), 1_530_007_200);
    }

    #[test]
    fn zones_load_by_exact_name_only() {
        let clock = Clock::fixed(0, "UTC");
        assert!(matches!(
            load_location("Europe/Berlin", &clock),
            Loc::Zone(_)
        ));
        assert!(matches!(load_location("europe/berlin", &clock), Loc::Utc));
        assert!(matches!(
            load_location("../../etc/passwd", &clock),
            Loc::Utc
        ));
        assert!(matches!(
            load_location("Nowhere/Atlantis", &clock),
            Loc::Utc
        ));
        assert!(matches!(load_location("Local", &clock), Loc::Local(_)));
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_162, -1, 0, 1, 10_957, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
    }

    /// Layout elements and the text around them, for the properties below.
    const PIECES: &[&str] = &[
        "2006",
        "06",
        "01",
        "1",
        "Jan",
        "January",
        "02",
        "2",
        "_2",
        "002",
        "__2",
        "15",
        "3",
        "03",
        "04",
        "4",
        "05",
        "5",
        "PM",
        "pm",
        "Mon",
        "Monday",
        "MST",
        "-0700",
        "-07:00",
        "-07",
        "-07:00:00",
        "Z0700",
        "Z07:00",
        "Z07",
        ".000",
        ".999",
        ",9",
        ".000000000",
        " ",
        "-",
        ":",
        "T",
        "x",
        "+",
        "Z",
        "9",
        "0",
    ];

    proptest::proptest! {
        /// Any layout over any value: an answer, never a panic.
        #[test]
        fn parsing_never_panics(
            layout in proptest::collection::vec(proptest::sample::select(PIECES), 0..8),
            value in proptest::collection::vec(proptest::sample::select(PIECES), 0..8),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
        ) {
            let layout = layout.concat();
            let _ = parse_in_local(layout.as_bytes(), value.concat().as_bytes(), &berlin());
            let _ = parse_in_local(layout.as_bytes(), &bytes, &Loc::Utc);
        }

        /// What a full layout prints parses back to the same instant, in any zone.
        #[test]
        fn full_layouts_round_trip(
            unix in -62_135_596_800i64..253_402_300_799,
            nanos in 0u32..1_000_000_000,
            zone in proptest::sample::select(&["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"][..]),
        ) {
            let loc = match zone {
                "UTC" => Loc::Utc,
                z => Loc::Zone(TimeZone::get(z).unwrap()),
            };
            let t = Time::from_unix(unix, nanos, loc.clone());
            // Before 1970 a zone's offset may have seconds (local mean time), which
            // only `-07:00:00` prints.
            let layouts: &[&[u8]] = if unix >= 0 {
                &[
                    b"2006-01-02T15:04:05.999999999Z07:00",
                    b"Mon Jan _2 15:04:05.000000000 -0700 2006",
                    b"2006-002 15:04:05.000000000 -07:00:00",
                ]
            } else {
                &[b"2006-002 15:04:05.000000000 -07:00:00"]
            };
            for &layout in layouts {
                let text = t.format(layout);
                let back = parse_in_local(layout, &text, &loc).unwrap();
                proptest::prop_assert_eq!(back.unix(), unix);
                proptest::prop_assert_eq!(back.nanosecond(), i64::from(nanos));
                proptest::prop_assert_eq!(back.format(layout), text);
            }
            let _ = t.text();
            let _ = t.add(i64::MAX).text();
            let _ = t.add(i64::MIN).format(b"2006-01-02 Z07:00 MST");
        }
    }
}
