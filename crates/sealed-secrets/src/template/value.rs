//! Values during execution, modelled on the Go values upstream's templates see: the
//! root is a `map[string]string`, Sprig builds `[]interface{}`, `[]string`,
//! `map[string]interface{}`, `int64`, `float64`. The Go type is kept because it shows
//! (`typeOf`, `%T`, `kindIs`) and decides which calls Go accepts.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use zeroize::Zeroizing;

/// Secret-bearing bytes: a Go string need not be UTF-8.
pub(super) type Bytes = Zeroizing<Vec<u8>>;

#[derive(Clone)]
pub(super) enum Value {
    /// Go's invalid `reflect.Value`, what a missing map key gives: prints `<no value>`.
    Missing,
    /// A nil `interface{}`: prints `<nil>`.
    Nil,
    Bool(bool),
    Int(i64, IntTy),
    Float(f64),
    Str(Rc<Bytes>),
    List(Rc<Vec<Value>>, ListTy),
    /// Go maps are references: `set`, `unset` and `merge` change them in place.
    Map(Rc<RefCell<BTreeMap<String, Value>>>, MapTy),
    /// Sprig's `semver`: a `*semver.Version`, read through its methods.
    Semver(Rc<super::funcs::semver::Semver>),
    /// A `time.Time` from Sprig's date functions.
    Time(Rc<super::gotime::Time>),
    /// Sprig's `certificate` struct (`.Cert`, `.Key`).
    Cert(Rc<super::funcs::certs::Certificate>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum IntTy {
    Int,
    Int64,
    /// A version's `Major`, `Minor`, `Patch`.
    Uint64,
    /// Go's `time.Duration` (nanoseconds), `time.Month` (1 is January) and
    /// `time.Weekday` (0 is Sunday): integers that print through their `String`.
    Duration,
    Month,
    Weekday,
}

impl IntTy {
    /// Whether values of this type print through a `String` method (`fmt.Stringer`).
    pub(super) fn is_stringer(self) -> bool {
        matches!(self, IntTy::Duration | IntTy::Month | IntTy::Weekday)
    }

    /// `String()` of `i` of this type.
    pub(super) fn text(self, i: i64) -> String {
        let name = |names: &[&str], at: i64| {
            usize::try_from(at)
                .ok()
                .and_then(|k| names.get(k))
                .map(|s| (*s).to_owned())
        };
        match self {
            IntTy::Duration => super::funcs::duration_string(i),
            IntTy::Month => {
                name(&super::gotime::LONG_MONTHS, i - 1).unwrap_or_else(|| format!("%!Month({i})"))
            }
            IntTy::Weekday => {
                name(&super::gotime::LONG_DAYS, i).unwrap_or_else(|| format!("%!Weekday({i})"))
            }
            IntTy::Int | IntTy::Int64 | IntTy::Uint64 => i.to_string(),
        }
    }
}

/// The Go element type of a slice.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ListTy {
    /// `[]interface {}`
    Any,
    /// `[]string`
    Str,
    /// `[]int`
    Int,
    /// `[][]interface {}` (`chunk`)
    Lists,
}

/// The Go value type of a map (keys are always strings here).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum MapTy {
    /// `map[string]interface {}`
    Any,
    /// `map[string]string`: the root data and `split`.
    Str,
}

impl Value {
    pub(super) fn str(s: impl Into<Vec<u8>>) -> Value {
        Value::Str(Rc::new(Zeroizing::new(s.into())))
    }

    pub(super) fn string(s: String) -> Value {
        Value::str(s.into_bytes())
    }

    pub(super) fn int(i: i64) -> Value {
        Value::Int(i, IntTy::Int)
    }

    pub(super) fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items), ListTy::Any)
    }

    pub(super) fn map(m: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(m)), MapTy::Any)
    }

    /// Go's `isTrue` (and Sprig's `!empty`).
    pub(super) fn truthy(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l, _) => !l.is_empty(),
            Value::Map(m, _) => !m.borrow().is_empty(),
            Value::Semver(_) | Value::Time(_) | Value::Cert(_) => true,
        }
    }

    /// `%T`.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Int64) => "int64",
            Value::Int(_, IntTy::Uint64) => "uint64",
            Value::Int(_, IntTy::Duration) => "time.Duration",
            Value::Int(_, IntTy::Month) => "time.Month",
            Value::Int(_, IntTy::Weekday) => "time.Weekday",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Semver(_) => "*semver.Version",
            Value::Time(_) => "time.Time",
            Value::Cert(_) => super::funcs::certs::TYPE_NAME,
            Value::List(_, ListTy::Any) => "[]interface {}",
            Value::List(_, ListTy::Str) => "[]string",
            Value::List(_, ListTy::Int) => "[]int",
            Value::List(_, ListTy::Lists) => "[][]interface {}",
            Value::Map(_, MapTy::Any) => "map[string]interface {}",
            Value::Map(_, MapTy::Str) => "map[string]string",
        }
    }

    /// `reflect.Kind` as Sprig's `kindOf` prints it.
    pub(super) fn kind_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Uint64) => "uint64",
            Value::Int(_, IntTy::Int64 | IntTy::Duration) => "int64",
            Value::Int(_, IntTy::Month | IntTy::Weekday) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Semver(_) => "ptr",
            Value::Time(_) | Value::Cert(_) => "struct",
            Value::List(..) => "slice",
            Value::Map(..) => "map",
        }
    }

    /// The length Go's `len` gives, or `None` for a value without one.
    pub(super) fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.len()),
            Value::List(l, _) => Some(l.len()),
            Value::Map(m, _) => Some(m.borrow().len()),
            _ => None,
        }
    }

    /// Whether the value prints through a `String` method (`fmt.Stringer`).
    pub(super) fn is_stringer(&self) -> bool {
        match self {
            Value::Semver(_) | Value::Time(_) => true,
            Value::Int(_, ty) => ty.is_stringer(),
            _ => false,
        }
    }

    /// Bytes of a string value.
    pub(super) fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// How deep printing and copying follow nested lists and maps: a map can hold
/// itself (`set $d "me" $d`), which would otherwise recurse without end.
pub(super) const MAX_NESTING: usize = 64;

/// A value as `fmt.Sprint` prints it (`%v`).
pub(super) fn sprint(v: &Value, out: &mut Vec<u8>) {
    sprint_depth(v, out, 0);
}

fn sprint_depth(v: &Value, out: &mut Vec<u8>, depth: usize) {
    if depth > MAX_NESTING {
        out.extend_from_slice(b"...");
        return;
    }
    match v {
        Value::Missing | Value::Nil => out.extend_from_slice(b"<nil>"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i, ty) => out.extend_from_slice(ty.text(*i).as_bytes()),
        Value::Float(f) => out.extend_from_slice(format_float_g(*f).as_bytes()),
        Value::Str(s) => out.extend_from_slice(s),
        Value::Semver(v) => out.extend_from_slice(v.text().as_bytes()),
        Value::Time(t) => out.extend_from_slice(t.text().as_bytes()),
        // A struct: its fields in braces.
        Value::Cert(c) => {
            out.push(b'{');
            for (k, (_, field)) in c.named_fields().into_iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(field);
            }
            out.push(b'}');
        }
        Value::List(items, _) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                sprint_depth(item, out, depth + 1);
            }
            out.push(b']');
        }
        Value::Map(m, _) => {
            out.extend_from_slice(b"map[");
            for (i, (k, item)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                sprint_depth(item, out, depth + 1);
            }
            out.push(b']');
        }
    }
}

/// `fmt.Sprint(v)` as bytes, zeroized on drop.
pub(super) fn to_text(v: &Value) -> Bytes {
    let mut out = Zeroizing::new(Vec::new());
    sprint(v, &mut out);
    out
}

/// Shortest digits and decimal exponent of a finite, non-zero `f` (`d.ddd × 10^exp`).
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest representation that round-trips, as Go's does.
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

fn special_float(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which `%v` uses.
pub(super) fn format_float_g(f: f64) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (digits, exp) = shortest_digits(f);
    let sign = if f < 0.0 { "-" } else { "" };
    // strconv: %e when the exponent is < -4 or >= the precision, which is 6 for
    // the shortest form.
    let eprec = 6;
    if exp < -4 || exp >= eprec {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        return format!("{sign}{m}e{es}{ea:02}");
    }
    format!("{sign}{}", place_point(&digits, exp))
}

/// `digits` (d.ddd) times 10^exp in plain decimal notation.
fn place_point(digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// `strconv.FormatFloat(f, 'f', prec, 64)`; `prec` < 0 is the shortest form.
pub(super) fn format_float_f(f: f64, prec: i32) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    if prec >= 0 {
        return format!("{:.*}", usize::try_from(prec).unwrap_or(0), f);
    }
    if f == 0.0 {
        return "0".into();
    }
    let (digits, exp) = shortest_digits(f);
    let sign = if f < 0.0 { "-" } else { "" };
    format!("{sign}{}", place_point(&digits, exp))
}

/// `strconv.FormatFloat(f, 'e', prec, 64)`; `prec` < 0 is the shortest form.
pub(super) fn format_float_e(f: f64, prec: i32) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    let s = if prec >= 0 {
        format!("{:.*e}", usize::try_from(prec).unwrap_or(0), f)
    } else {
        format!("{f:e}")
    };
    // Rust writes `1.5e3` and `1e-7`; Go writes `1.5e+03` and `1e-07`.
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = e.parse().unwrap_or(0);
    let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
    let mut out = String::new();
    let _ = write!(out, "{m}e{es}{ea:02}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        for (f, want) in [
            (1.5, "1.5"),
            (1000.0, "1000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (100000.0, "100000"),
            (3.0, "3"),
            (1e21, "1e+21"),
            (123456789012.0, "1.23456789012e+11"),
        ] {
            assert_eq!(format_float_g(f), want, "{f}");
        }
        assert_eq!(format_float_f(1.23456, 2), "1.23");
        assert_eq!(format_float_e(1500.0, 2), "1.50e+03");
        assert_eq!(format_float_e(1e-7, -1), "1e-07");
    }
}
