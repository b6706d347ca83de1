//! Sprig's encodings, digests and JSON (`strings.go`, `crypto.go`, `defaults.go`),
//! each as Go's standard library writes it.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest as _;

use super::{CallResult, bytes_of, err, string};
use zeroize::Zeroizing;

use crate::template::value::{self, Bytes, Value};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn b64enc(a: Vec<Value>) -> CallResult {
    string(STANDARD.encode(bytes_of(&a[0])))
}

/// Go's `base64.StdEncoding.DecodeString`: newlines are skipped; on bad input
/// Sprig returns the error text itself.
pub(super) fn b64dec(a: Vec<Value>) -> CallResult {
    match decode_go(bytes_of(&a[0]), 4, &|c| {
        STANDARD_ALPHABET
            .iter()
            .position(|&x| x == c)
            .map(|p| p as u8)
    }) {
        Ok(v) => string(v),
        Err(at) => string(format!("illegal base64 data at input byte {at}")),
    }
}

/// Go's `base64.StdEncoding.DecodeString`, or `None` where it fails.
pub(super) fn decode_std_base64(src: &[u8]) -> Option<Bytes> {
    decode_go(src, 4, &|c| {
        STANDARD_ALPHABET
            .iter()
            .position(|&x| x == c)
            .map(|p| p as u8)
    })
    .ok()
    .map(Zeroizing::new)
}

const STANDARD_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Quantum-wise decoding as Go's `encoding/base64` and `base32` do it, returning
/// the offset Go's `CorruptInputError` names. `quantum` is 4 (base64) or 8 (base32).
fn decode_go(
    src: &[u8],
    quantum: usize,
    value_of: &dyn Fn(u8) -> Option<u8>,
) -> Result<Vec<u8>, usize> {
    let bits = if quantum == 4 { 6 } else { 5 };
    let mut out = Vec::new();
    let mut si = 0;
    let skip_newlines = |si: &mut usize| {
        while *si < src.len() && matches!(src[*si], b'\n' | b'\r') {
            *si += 1;
        }
    };
    loop {
        let mut buf = Vec::with_capacity(quantum);
        let mut j = 0;
        while j < quantum {
            skip_newlines(&mut si);
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if c == b'=' {
                // Padding: how much a quantum may carry depends on the encoding.
                let valid = if quantum == 4 {
                    j >= 2
                } else {
                    matches!(j, 2 | 4 | 5 | 7)
                };
                if !valid {
                    return Err(si - 1);
                }
                let need = quantum - j - 1;
                for _ in 0..need {
                    skip_newlines(&mut si);
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                skip_newlines(&mut si);
                if si < src.len() {
                    return Err(si);
                }
                flush(&mut out, &buf, bits);
                return Ok(out);
            }
            match value_of(c) {
                Some(v) => buf.push(v),
                None => return Err(si - 1),
            }
            j += 1;
        }
        flush(&mut out, &buf, bits);
    }
}

fn flush(out: &mut Vec<u8>, buf: &[u8], bits: u32) {
    let mut acc: u64 = 0;
    for &v in buf {
        acc = (acc << bits) | u64::from(v);
    }
    let total = bits * u32::try_from(buf.len()).unwrap_or(0);
    let n = total / 8;
    acc >>= total - n * 8;
    for i in (0..n).rev() {
        out.push((acc >> (8 * i)) as u8);
    }
}

pub(super) fn b32enc(a: Vec<Value>) -> CallResult {
    let src = bytes_of(&a[0]);
    let mut out = Vec::new();
    for chunk in src.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let acc = block.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(BASE32_ALPHABET[((acc >> (35 - 5 * i)) & 31) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    string(out)
}

pub(super) fn b32dec(a: Vec<Value>) -> CallResult {
    match decode_go(bytes_of(&a[0]), 8, &|c| {
        BASE32_ALPHABET
            .iter()
            .position(|&x| x == c)
            .map(|p| p as u8)
    }) {
        Ok(v) => string(v),
        Err(at) => string(format!("illegal base32 data at input byte {at}")),
    }
}

pub(super) fn sha1sum(a: Vec<Value>) -> CallResult {
    string(hex(&sha1::Sha1::digest(bytes_of(&a[0]))))
}

pub(super) fn sha256sum(a: Vec<Value>) -> CallResult {
    string(hex(&sealed_secrets_core::sha256(bytes_of(&a[0]))))
}

pub(super) fn sha512sum(a: Vec<Value>) -> CallResult {
    string(hex(&sha2::Sha512::digest(bytes_of(&a[0]))))
}

pub(super) fn adler32sum(a: Vec<Value>) -> CallResult {
    let (mut s1, mut s2) = (1u32, 0u32);
    for &b in bytes_of(&a[0]) {
        s1 = (s1 + u32::from(b)) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    string(((s2 << 16) | s1).to_string())
}

fn from_json_value(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::string(s),
        serde_json::Value::Array(items) => {
            Value::list(items.into_iter().map(from_json_value).collect())
        }
        serde_json::Value::Object(m) => Value::map(
            m.into_iter()
                .map(|(k, v)| (k, from_json_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn parse_json(a: &[Value]) -> Result<Value, super::CallError> {
    serde_json::from_slice::<serde_json::Value>(bytes_of(&a[0]))
        .map(from_json_value)
        .or_else(|_| err("the value is not valid JSON"))
}

pub(super) fn from_json(a: Vec<Value>) -> CallResult {
    Ok(parse_json(&a).unwrap_or(Value::Nil))
}

pub(super) fn must_from_json(a: Vec<Value>) -> CallResult {
    parse_json(&a)
}

/// Go's `encoding/json` string escaping.
fn json_string(out: &mut Vec<u8>, s: &[u8], html: bool) {
    out.push(b'"');
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            match c {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'<' | b'>' | b'&' if html => {
                    out.extend_from_slice(format!("\\u00{c:02x}").as_bytes());
                }
                c if c < 0x20 => out.extend_from_slice(format!("\\u00{c:02x}").as_bytes()),
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        let (r, n) = super::strings::decode_rune(&s[i..]);
        if r == '\u{FFFD}' && n == 1 {
            out.extend_from_slice(b"\\ufffd");
        } else if r == '\u{2028}' || r == '\u{2029}' {
            out.extend_from_slice(format!("\\u{:04x}", u32::from(r)).as_bytes());
        } else {
            out.extend_from_slice(&s[i..i + n]);
        }
        i += n;
    }
    out.push(b'"');
}

/// Go's float encoding in JSON: `'f'` between 1e-6 and 1e21, else `'e'` with a
/// short exponent.
fn json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = value::format_float_e(f, -1);
        // Go writes e-07 as e-7.
        return Some(s.replace("e-0", "e-").replace("e+0", "e+"));
    }
    Some(value::format_float_f(f, -1))
}

/// Encodes `v` as Go's `json.Marshal`/`MarshalIndent` would; `None` where Go
/// fails (NaN, infinities, too deep).
fn json_encode(
    out: &mut Vec<u8>,
    v: &Value,
    html: bool,
    indent: Option<usize>,
    depth: usize,
) -> Option<()> {
    if depth > value::MAX_NESTING {
        return None;
    }
    let newline = |out: &mut Vec<u8>, level: usize| {
        if indent.is_some() {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', 2 * level));
        }
    };
    match v {
        Value::Missing | Value::Nil => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i, _) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(json_float(*f)?.as_bytes()),
        Value::Str(s) => json_string(out, s, html),
        // `Version.MarshalJSON`: its string.
        Value::Semver(sv) => json_string(out, sv.text().as_bytes(), html),
        // `Time.MarshalJSON`: RFC 3339 with nanoseconds; Go fails outside
        // years 0..=9999.
        Value::Time(t) => json_string(out, &t.rfc3339_nano()?, html),
        // A struct: its exported fields in declaration order, which for `Cert`,
        // `Key` is a map's key order.
        Value::Cert(c) => json_encode(out, &c.fields(), html, indent, depth)?,
        Value::List(items, _) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                json_encode(out, item, html, indent, depth + 1)?;
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(b']');
        }
        Value::Map(m, _) => {
            let m = m.borrow();
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                json_string(out, k.as_bytes(), html);
                out.push(b':');
                if indent.is_some() {
                    out.push(b' ');
                }
                json_encode(out, item, html, indent, depth + 1)?;
            }
            if !m.is_empty() {
                newline(out, depth);
            }
            out.push(b'}');
        }
    }
    if out.len() > super::MAX_LEN {
        return None;
    }
    Some(())
}

fn to_json_with(v: &Value, html: bool, indent: Option<usize>, must: bool) -> CallResult {
    let mut out = Vec::new();
    match json_encode(&mut out, v, html, indent, 0) {
        Some(()) => string(out),
        // Sprig's plain forms ignore the error and return the empty output.
        None if !must => string(""),
        None => err("json: unsupported value (NaN, an infinity, or nested too deeply)"),
    }
}

pub(super) fn to_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], true, None, false)
}

pub(super) fn must_to_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], true, None, true)
}

pub(super) fn to_pretty_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], true, Some(2), false)
}

pub(super) fn must_to_pretty_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], true, Some(2), true)
}

/// Sprig's `toRawJson` panics where the others return "": an error, as the must form.
pub(super) fn to_raw_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], false, None, true)
}

pub(super) fn must_to_raw_json(a: Vec<Value>) -> CallResult {
    to_json_with(&a[0], false, None, true)
}
