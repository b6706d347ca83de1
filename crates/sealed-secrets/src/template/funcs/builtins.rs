//! Go's `text/template` builtins (`funcs.go`).

use super::{CallError, CallResult, err, string};
use crate::template::value::{self, IntTy, Value};

pub(super) fn unreachable(_: Vec<Value>) -> CallResult {
    // `and` and `or` are evaluated by the executor, lazily.
    err("and/or are evaluated lazily")
}

pub(super) fn not(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(!a[0].truthy()))
}

pub(super) fn len(a: Vec<Value>) -> CallResult {
    match &a[0] {
        Value::Missing | Value::Nil => err("len of nil pointer"),
        v => match v.len() {
            Some(n) => Ok(Value::int(i64::try_from(n).unwrap_or(i64::MAX))),
            None => err(format!("len of type {}", v.type_name())),
        },
    }
}

pub(super) fn index(a: Vec<Value>) -> CallResult {
    let mut item = a[0].clone();
    if matches!(item, Value::Missing | Value::Nil) {
        return err("index of untyped nil");
    }
    for ix in &a[1..] {
        item = match &item {
            Value::List(items, _) => items[list_index(ix, items.len())?].clone(),
            Value::Str(s) => Value::Int(i64::from(s[list_index(ix, s.len())?]), IntTy::Int),
            Value::Map(m, ty) => {
                let Value::Str(k) = ix else {
                    let t = if matches!(ix, Value::Missing | Value::Nil) {
                        "<nil>".to_owned()
                    } else {
                        ix.type_name().to_owned()
                    };
                    return err(format!("value has type {t}; should be string"));
                };
                let key = String::from_utf8_lossy(k);
                match m.borrow().get(key.as_ref()) {
                    Some(v) => v.clone(),
                    // The zero value of the element type.
                    None if *ty == value::MapTy::Str => Value::str(Vec::new()),
                    None => Value::Nil,
                }
            }
            Value::Missing | Value::Nil => return err("index of nil pointer"),
            other => return err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn list_index(ix: &Value, len: usize) -> Result<usize, CallError> {
    let x = match ix {
        Value::Int(i, _) => *i,
        Value::Missing | Value::Nil => return err("cannot index slice/array with nil"),
        other => {
            return err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ));
        }
    };
    match usize::try_from(x) {
        Ok(i) if i < len => Ok(i),
        _ => err(format!("index out of range: {x}")),
    }
}

/// `fmt.Sprint`: a space between operands when neither is a string.
pub(super) fn sprint_args(args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(b' ');
        }
        value::sprint(a, &mut out);
        prev_string = is_string;
    }
    out
}

pub(super) fn print(a: Vec<Value>) -> CallResult {
    string(sprint_args(&a))
}

pub(super) fn println(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        value::sprint(v, &mut out);
    }
    out.push(b'\n');
    string(out)
}

pub(super) fn printf(a: Vec<Value>) -> CallResult {
    let format = a[0].as_bytes().unwrap_or_default().to_vec();
    let out = super::fmt::sprintf(&format, &a[1..])?;
    string(out)
}

/// The kinds Go's comparisons know.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    String,
    Invalid,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(..) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::String,
        Value::Missing | Value::Nil => Kind::Invalid,
        _ => Kind::Other,
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Missing | Value::Nil => "<nil>",
        other => other.type_name(),
    }
}

fn equal(a: &Value, b: &Value) -> Result<bool, CallError> {
    let (k1, k2) = (kind(a), kind(b));
    if k1 != k2 {
        if k1 != Kind::Invalid && k2 != Kind::Invalid {
            return err(format!(
                "incompatible types for comparison: {} and {}",
                type_of(a),
                type_of(b)
            ));
        }
        return Ok(false);
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, _), Value::Int(y, _)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x[..] == y[..],
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
        // Go's `==` on two `time.Time` structs.
        (Value::Time(x), Value::Time(y)) => x.identical(y),
        // Go's `==` on two structs of comparable fields.
        (Value::Cert(x), Value::Cert(y)) => x.cert[..] == y.cert[..] && x.key[..] == y.key[..],
        (x, y) => {
            return err(format!(
                "non-comparable types: {} and {}",
                type_of(x),
                type_of(y)
            ));
        }
    })
}

pub(super) fn eq(a: Vec<Value>) -> CallResult {
    if a.len() < 2 {
        return err("missing argument for comparison");
    }
    for other in &a[1..] {
        if equal(&a[0], other)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

pub(super) fn ne(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(!equal(&a[0], &a[1])?))
}

fn less(a: &Value, b: &Value) -> Result<bool, CallError> {
    let (k1, k2) = (kind(a), kind(b));
    for k in [k1, k2] {
        if matches!(k, Kind::Invalid | Kind::Other) {
            return err("invalid type for comparison");
        }
    }
    if k1 != k2 {
        return err(format!(
            "incompatible types for comparison: {} and {}",
            type_of(a),
            type_of(b)
        ));
    }
    Ok(match (a, b) {
        (Value::Int(x, _), Value::Int(y, _)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x[..] < y[..],
        _ => return err("invalid type for comparison"),
    })
}

pub(super) fn lt(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(less(&a[0], &a[1])?))
}

pub(super) fn le(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(less(&a[0], &a[1])? || equal(&a[0], &a[1])?))
}

pub(super) fn gt(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(!(less(&a[0], &a[1])? || equal(&a[0], &a[1])?)))
}

pub(super) fn ge(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(!less(&a[0], &a[1])?))
}

/// Go's `evalArgs`: one string as itself, else `fmt.Sprint` of all.
fn eval_args(a: &[Value]) -> Vec<u8> {
    if let [Value::Str(s)] = a {
        return s.to_vec();
    }
    let printable: Vec<Value> = a
        .iter()
        .map(|v| match v {
            Value::Missing => Value::str("<no value>"),
            other => other.clone(),
        })
        .collect();
    sprint_args(&printable)
}

pub(super) fn html(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for &c in &eval_args(&a) {
        match c {
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            c => out.push(c),
        }
    }
    string(out)
}

pub(super) fn js(a: Vec<Value>) -> CallResult {
    let input = eval_args(&a);
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'<' => out.extend_from_slice(b"\\u003C"),
            b'>' => out.extend_from_slice(b"\\u003E"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            b'=' => out.extend_from_slice(b"\\u003D"),
            c if c < b' ' => out.extend_from_slice(format!("\\u00{c:02X}").as_bytes()),
            c if c < 0x80 => out.push(c),
            _ => {
                let (r, size) = super::strings::decode_rune(&input[i..]);
                if super::fmt::is_print(r) && r != '\u{FFFD}' || (r == '\u{FFFD}' && size > 1) {
                    out.extend_from_slice(&input[i..i + size]);
                } else {
                    out.extend_from_slice(format!("\\u{:04X}", u32::from(r)).as_bytes());
                }
                i += size;
                continue;
            }
        }
        i += 1;
    }
    string(out)
}

pub(super) fn urlquery(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for &c in &eval_args(&a) {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(c),
            b' ' => out.push(b'+'),
            c => out.extend_from_slice(format!("%{c:02X}").as_bytes()),
        }
    }
    string(out)
}

pub(super) fn call(a: Vec<Value>) -> CallResult {
    err(format!(
        "non-function of type {}",
        match &a[0] {
            Value::Missing | Value::Nil => "<nil>",
            v => v.type_name(),
        }
    ))
}
