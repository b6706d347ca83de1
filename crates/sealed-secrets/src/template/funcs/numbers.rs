//! Sprig's number functions (`numeric.go` and the arithmetic in `functions.go`),
//! with spf13/cast's conversions.

use std::rc::Rc;

use super::{
    CallError, CallResult, MAX_ITEMS, bytes_of, err, int_of, int64_result, string, to_float64,
    to_int64,
};
use crate::template::value::{ListTy, Value};

/// `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/leading-0 octal, `_` between
/// digits only with a base prefix.
pub(super) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_owned(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        if digits.starts_with('_') && radix == 8 && !lower.starts_with("0o") {
            digits
        } else {
            digits.replace('_', "")
        }
    } else if digits.contains('_') {
        return None;
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i128::from_str_radix(&digits, radix).ok()?;
    i64::try_from(if neg { -v } else { v }).ok()
}

/// `strconv.ParseFloat(s, 64)`, close enough for cast: decimal and exponent forms,
/// `inf`/`nan`.
pub(super) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.to_ascii_lowercase();
    let body = t.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan")
        || body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-' | '_'))
    {
        return s.replace('_', "").parse().ok();
    }
    None
}

pub(super) fn atoi(a: Vec<Value>) -> CallResult {
    let s = String::from_utf8_lossy(bytes_of(&a[0])).into_owned();
    // strconv.Atoi: base 10, optional sign, no underscores.
    let ok = !s.is_empty()
        && s.trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit())
        && s.len() - s.trim_start_matches(['+', '-']).len() <= 1;
    let n = if ok { s.parse::<i64>().unwrap_or(0) } else { 0 };
    Ok(Value::int(n))
}

pub(super) fn int64(a: Vec<Value>) -> CallResult {
    int64_result(to_int64(&a[0]))
}

pub(super) fn int(a: Vec<Value>) -> CallResult {
    Ok(Value::int(to_int64(&a[0])))
}

pub(super) fn float64(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(to_float64(&a[0])))
}

pub(super) fn to_decimal(a: Vec<Value>) -> CallResult {
    let text = crate::template::value::to_text(&a[0]);
    let s = String::from_utf8_lossy(&text);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
    let v = if !digits.is_empty() && digits.chars().all(|c| ('0'..='7').contains(&c)) {
        i64::from_str_radix(&s, 8).unwrap_or(0)
    } else {
        0
    };
    int64_result(v)
}

fn until_step_vec(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, CallError> {
    // Counting down needs a negative step, up a positive one; else nothing.
    let down = stop < start;
    if (down && step >= 0) || (!down && step <= 0) {
        return Ok(Vec::new());
    }
    let mut v = Vec::new();
    let mut i = start;
    while if down { i > stop } else { i < stop } {
        v.push(i);
        if v.len() > MAX_ITEMS {
            return Err(CallError::TooLarge);
        }
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(v)
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(
        Rc::new(v.into_iter().map(Value::int).collect()),
        ListTy::Int,
    )
}

pub(super) fn until(a: Vec<Value>) -> CallResult {
    let n = int_of(&a[0]);
    let step = if n < 0 { -1 } else { 1 };
    Ok(int_list(until_step_vec(0, n, step)?))
}

pub(super) fn until_step(a: Vec<Value>) -> CallResult {
    Ok(int_list(until_step_vec(
        int_of(&a[0]),
        int_of(&a[1]),
        int_of(&a[2]),
    )?))
}

pub(super) fn seq(a: Vec<Value>) -> CallResult {
    let p: Vec<i64> = a.iter().map(int_of).collect();
    let list = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step_vec(1, end + inc, inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step_vec(*start, end + step, step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return string("");
                }
            }
            until_step_vec(*start, end + inc, *step)?
        }
        _ => return string(""),
    };
    let text: Vec<String> = list.iter().map(i64::to_string).collect();
    string(text.join(" "))
}

pub(super) fn add1(a: Vec<Value>) -> CallResult {
    int64_result(to_int64(&a[0]).wrapping_add(1))
}

pub(super) fn add(a: Vec<Value>) -> CallResult {
    int64_result(a.iter().map(to_int64).fold(0i64, i64::wrapping_add))
}

pub(super) fn sub(a: Vec<Value>) -> CallResult {
    int64_result(to_int64(&a[0]).wrapping_sub(to_int64(&a[1])))
}

pub(super) fn div(a: Vec<Value>) -> CallResult {
    let d = to_int64(&a[1]);
    if d == 0 {
        return err("runtime error: integer divide by zero");
    }
    int64_result(to_int64(&a[0]).wrapping_div(d))
}

pub(super) fn modulo(a: Vec<Value>) -> CallResult {
    let d = to_int64(&a[1]);
    if d == 0 {
        return err("runtime error: integer divide by zero");
    }
    int64_result(to_int64(&a[0]).wrapping_rem(d))
}

pub(super) fn mul(a: Vec<Value>) -> CallResult {
    int64_result(a.iter().map(to_int64).fold(1i64, i64::wrapping_mul))
}

/// Sprig's float arithmetic goes through shopspring/decimal: each operand is the
/// shortest decimal of its float, so `addf 0.1 0.2` is 0.3, not 0.30000000000000004.
fn decimal_op(a: &[Value], op: fn(f64, f64) -> f64, exact: fn(Dec, Dec) -> Option<Dec>) -> f64 {
    let mut acc = to_float64(&a[0]);
    for b in &a[1..] {
        let y = to_float64(b);
        acc = match (Dec::from_f64(acc), Dec::from_f64(y)) {
            (Some(p), Some(q)) => exact(p, q).map_or_else(|| op(acc, y), Dec::to_f64),
            _ => op(acc, y),
        };
    }
    acc
}

/// A decimal `mantissa × 10^-scale`, enough for the sums and products of the
/// shortest decimals of floats that users write.
#[derive(Clone, Copy)]
pub(super) struct Dec {
    m: i128,
    scale: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f}");
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let scale = u32::try_from(frac.len()).ok()?;
        let m: i128 = format!("{int}{frac}").parse().ok()?;
        (scale <= 30).then_some(Dec { m, scale })
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
        let scale = a.scale.max(b.scale);
        let am = a.m.checked_mul(10i128.checked_pow(scale - a.scale)?)?;
        let bm = b.m.checked_mul(10i128.checked_pow(scale - b.scale)?)?;
        Some((am, bm, scale))
    }

    fn to_f64(self) -> f64 {
        let digits = self.m.unsigned_abs().to_string();
        let scale = usize::try_from(self.scale).unwrap_or(0);
        let s = if digits.len() > scale {
            format!(
                "{}.{}",
                &digits[..digits.len() - scale],
                &digits[digits.len() - scale..]
            )
        } else {
            format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
        };
        let v: f64 = s.parse().unwrap_or(0.0);
        if self.m < 0 { -v } else { v }
    }
}

fn dec_add(a: Dec, b: Dec) -> Option<Dec> {
    let (x, y, scale) = Dec::align(a, b)?;
    Some(Dec {
        m: x.checked_add(y)?,
        scale,
    })
}

fn dec_sub(a: Dec, b: Dec) -> Option<Dec> {
    let (x, y, scale) = Dec::align(a, b)?;
    Some(Dec {
        m: x.checked_sub(y)?,
        scale,
    })
}

fn dec_mul(a: Dec, b: Dec) -> Option<Dec> {
    let scale = a.scale + b.scale;
    (scale <= 36).then_some(())?;
    Some(Dec {
        m: a.m.checked_mul(b.m)?,
        scale,
    })
}

/// shopspring's `Div` rounds to 16 decimal places, half away from zero.
fn dec_div(a: Dec, b: Dec) -> Option<Dec> {
    if b.m == 0 {
        return None;
    }
    let (x, y, _) = Dec::align(a, b)?;
    let scaled = x.checked_mul(10i128.pow(17))?;
    let q = scaled / y;
    let r = (q % 10).abs();
    let mut q = q / 10;
    if r >= 5 {
        q += if (x < 0) != (y < 0) { -1 } else { 1 };
    }
    Some(Dec { m: q, scale: 16 })
}

pub(super) fn add1f(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(decimal_op(
        &[a[0].clone(), Value::int(1)],
        |x, y| x + y,
        dec_add,
    )))
}

pub(super) fn addf(a: Vec<Value>) -> CallResult {
    let mut all = vec![Value::Float(0.0)];
    all.extend(a);
    Ok(Value::Float(decimal_op(&all, |x, y| x + y, dec_add)))
}

pub(super) fn subf(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(decimal_op(&a, |x, y| x - y, dec_sub)))
}

pub(super) fn mulf(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(decimal_op(&a, |x, y| x * y, dec_mul)))
}

pub(super) fn divf(a: Vec<Value>) -> CallResult {
    if a[1..].iter().any(|b| to_float64(b) == 0.0) {
        return err("decimal division by 0");
    }
    Ok(Value::Float(decimal_op(&a, |x, y| x / y, dec_div)))
}

pub(super) fn max(a: Vec<Value>) -> CallResult {
    int64_result(a.iter().map(to_int64).max().unwrap_or(0))
}

pub(super) fn min(a: Vec<Value>) -> CallResult {
    int64_result(a.iter().map(to_int64).min().unwrap_or(0))
}

pub(super) fn maxf(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(
        a.iter().map(to_float64).fold(f64::NEG_INFINITY, go_max),
    ))
}

pub(super) fn minf(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(
        a.iter().map(to_float64).fold(f64::INFINITY, go_min),
    ))
}

fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.max(y)
    }
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.min(y)
    }
}

pub(super) fn ceil(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(to_float64(&a[0]).ceil()))
}

pub(super) fn floor(a: Vec<Value>) -> CallResult {
    Ok(Value::Float(to_float64(&a[0]).floor()))
}

pub(super) fn round(a: Vec<Value>) -> CallResult {
    let round_on = match a.get(2) {
        Some(Value::Float(f)) => *f,
        _ => 0.5,
    };
    let val = to_float64(&a[0]);
    let pow = 10f64.powf(int_of(&a[1]) as f64);
    let digit = pow * val;
    let frac = digit.fract();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}
