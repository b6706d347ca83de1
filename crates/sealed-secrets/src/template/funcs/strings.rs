//! Sprig's string functions (`strings.go`, goutils, xstrings, `regex.go`) and Go's
//! `path` functions. Go strings are bytes: what Go does byte by byte is done byte
//! by byte here, what Go decodes as UTF-8 is decoded (invalid bytes as U+FFFD).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::{CallResult, bytes_of, err, int_of, string, string_list, strval, usize_of};
use crate::template::value::{Bytes, MapTy, Value};

/// Go's `utf8.DecodeRune`: one rune and its width; an invalid byte is U+FFFD, width 1.
pub(crate) fn decode_rune(b: &[u8]) -> (char, usize) {
    let len = match b.first() {
        None => return ('\u{FFFD}', 0),
        Some(&c) if c < 0x80 => return (char::from(c), 1),
        Some(&c) if c >> 5 == 0b110 => 2,
        Some(&c) if c >> 4 == 0b1110 => 3,
        Some(&c) if c >> 3 == 0b11110 => 4,
        _ => return ('\u{FFFD}', 1),
    };
    match b.get(..len).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next().unwrap_or('\u{FFFD}'), len),
        None => ('\u{FFFD}', 1),
    }
}

/// The runes of `b`, as Go's `for _, r := range s` sees them.
fn runes(b: &[u8]) -> Vec<char> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let (c, n) = decode_rune(&b[i..]);
        out.push(c);
        i += n;
    }
    out
}

fn from_runes(rs: impl IntoIterator<Item = char>) -> Vec<u8> {
    rs.into_iter().collect::<String>().into_bytes()
}

/// Go's `unicode.ToUpper`/`ToLower`: one rune to one rune.
fn go_upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn go_lower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (u32::from(c) > 0xff && c.is_whitespace())
}

fn arg(a: &[Value], i: usize) -> &[u8] {
    bytes_of(&a[i])
}

pub(super) fn hello(_: Vec<Value>) -> CallResult {
    string("Hello!")
}

fn abbreviate_full(s: &[u8], offset: i64, max: i64) -> Option<Vec<u8>> {
    let len = i64::try_from(s.len()).ok()?;
    if s.is_empty() {
        return Some(Vec::new());
    }
    if max < 4 {
        return None;
    }
    if len <= max {
        return Some(s.to_vec());
    }
    let mut offset = offset.min(len);
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    let cut = |a: i64, b: i64| -> Option<&[u8]> {
        s.get(usize::try_from(a).ok()?..usize::try_from(b).ok()?)
    };
    if offset <= 4 {
        let mut out = cut(0, max - 3)?.to_vec();
        out.extend_from_slice(b"...");
        return Some(out);
    }
    if max < 7 {
        return None;
    }
    let mut out = b"...".to_vec();
    if offset + max - 3 < len {
        out.extend(abbreviate_full(cut(offset, len)?, 0, max - 3)?);
    } else {
        out.extend_from_slice(cut(len - (max - 3), len)?);
    }
    Some(out)
}

pub(super) fn abbrev(a: Vec<Value>) -> CallResult {
    let width = int_of(&a[0]);
    if width < 4 {
        return string(arg(&a, 1));
    }
    string(abbreviate_full(arg(&a, 1), 0, width).unwrap_or_default())
}

pub(super) fn abbrevboth(a: Vec<Value>) -> CallResult {
    let (left, right) = (int_of(&a[0]), int_of(&a[1]));
    if right < 4 || left > 0 && right < 7 {
        return string(arg(&a, 2));
    }
    string(abbreviate_full(arg(&a, 2), left, right).unwrap_or_default())
}

pub(super) fn trunc(a: Vec<Value>) -> CallResult {
    let c = int_of(&a[0]);
    let s = arg(&a, 1);
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    let out = if c < 0 && len + c > 0 {
        &s[usize::try_from(len + c).unwrap_or(0)..]
    } else if c >= 0 && len > c {
        &s[..usize::try_from(c).unwrap_or(0)]
    } else {
        s
    };
    string(out)
}

/// `s` without the runes `cut` matches at either end (Go's `strings.TrimFunc`); the
/// bytes in between are kept as they are.
fn trim_by(s: &[u8], cut: impl Fn(char) -> bool) -> &[u8] {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let (c, n) = decode_rune(&s[i..]);
        spans.push((i, i + n, c));
        i += n;
    }
    let Some(first) = spans.iter().position(|&(_, _, c)| !cut(c)) else {
        return &[];
    };
    let last = spans
        .iter()
        .rposition(|&(_, _, c)| !cut(c))
        .unwrap_or(first);
    &s[spans[first].0..spans[last].1]
}

pub(super) fn trim(a: Vec<Value>) -> CallResult {
    string(trim_by(arg(&a, 0), is_space))
}

pub(super) fn upper(a: Vec<Value>) -> CallResult {
    let s = arg(&a, 0);
    if s.is_ascii() {
        return string(s.to_ascii_uppercase());
    }
    string(from_runes(runes(s).into_iter().map(go_upper)))
}

pub(super) fn lower(a: Vec<Value>) -> CallResult {
    let s = arg(&a, 0);
    if s.is_ascii() {
        return string(s.to_ascii_lowercase());
    }
    string(from_runes(runes(s).into_iter().map(go_lower)))
}

/// `strings.Title`'s word boundary.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    is_space(c)
}

pub(super) fn title(a: Vec<Value>) -> CallResult {
    let mut prev = ' ';
    let out = runes(arg(&a, 0)).into_iter().map(|c| {
        let r = if is_separator(prev) { go_upper(c) } else { c };
        prev = c;
        r
    });
    string(from_runes(out))
}

pub(super) fn untitle(a: Vec<Value>) -> CallResult {
    let mut next = true;
    let out = runes(arg(&a, 0)).into_iter().map(|c| {
        if is_space(c) {
            next = true;
            c
        } else if next {
            next = false;
            go_lower(c)
        } else {
            c
        }
    });
    string(from_runes(out))
}

pub(super) fn substr(a: Vec<Value>) -> CallResult {
    let (start, end, s) = (int_of(&a[0]), int_of(&a[1]), arg(&a, 2));
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    let range = if start < 0 {
        0..end
    } else if end < 0 || end > len {
        start..len
    } else {
        start..end
    };
    match (usize::try_from(range.start), usize::try_from(range.end)) {
        (Ok(a), Ok(b)) if a <= b && b <= s.len() => string(&s[a..b]),
        _ => err("runtime error: slice bounds out of range"),
    }
}

pub(super) fn repeat(a: Vec<Value>) -> CallResult {
    let n = int_of(&a[0]);
    let s = arg(&a, 1);
    let Ok(n) = usize::try_from(n) else {
        return err("strings: negative Repeat count");
    };
    match s.len().checked_mul(n) {
        Some(total) if total <= super::MAX_LEN => string(s.repeat(n)),
        _ => Err(super::CallError::TooLarge),
    }
}

pub(super) fn trim_all(a: Vec<Value>) -> CallResult {
    let cut: Vec<char> = runes(arg(&a, 0));
    string(trim_by(arg(&a, 1), |c| cut.contains(&c)))
}

pub(super) fn trim_suffix(a: Vec<Value>) -> CallResult {
    let s = arg(&a, 1);
    string(s.strip_suffix(arg(&a, 0)).unwrap_or(s))
}

pub(super) fn trim_prefix(a: Vec<Value>) -> CallResult {
    let s = arg(&a, 1);
    string(s.strip_prefix(arg(&a, 0)).unwrap_or(s))
}

/// goutils' `DeleteWhiteSpace` works on bytes, each taken as a rune (so a UTF-8
/// sequence comes back as Latin-1 characters), as upstream does.
pub(super) fn nospace(a: Vec<Value>) -> CallResult {
    let s = arg(&a, 0);
    let kept: Vec<char> = s
        .iter()
        .map(|&b| char::from(b))
        .filter(|c| !is_space(*c))
        .collect();
    if kept.len() == s.len() {
        return string(s);
    }
    string(from_runes(kept))
}

/// goutils' `Initials`, byte by byte as upstream.
pub(super) fn initials(a: Vec<Value>) -> CallResult {
    let mut gap = true;
    let mut out = Vec::new();
    for &b in arg(&a, 0) {
        let c = char::from(b);
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    string(from_runes(out))
}

pub(super) fn swapcase(a: Vec<Value>) -> CallResult {
    let out = runes(arg(&a, 0)).into_iter().map(|c| {
        if c.is_uppercase() {
            go_lower(c)
        } else if c.is_lowercase() {
            go_upper(c)
        } else {
            c
        }
    });
    string(from_runes(out))
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

/// xstrings' `ToPascalCase` (Sprig's `camelcase`).
pub(super) fn camelcase(a: Vec<Value>) -> CallResult {
    let rs = runes(arg(&a, 0));
    let mut out = String::new();
    let mut it = rs.into_iter().peekable();
    let mut r0 = '\0';
    let mut first_upper = false;
    let mut found = false;
    for c in it.by_ref() {
        if !is_connector(c) {
            first_upper = c.is_uppercase();
            r0 = go_upper(c);
            found = true;
            break;
        }
        out.push(c);
    }
    if !found {
        return string(out);
    }
    if it.peek().is_none() {
        out.push(r0);
        return string(out);
    }
    for c in it {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = r0.is_uppercase();
            r0 = go_upper(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = go_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    string(out)
}

/// goutils' `WrapCustom`, on bytes as upstream.
fn wrap_custom(s: &[u8], width: i64, newline: &[u8], long_words: bool) -> Vec<u8> {
    if s.is_empty() {
        return Vec::new();
    }
    let newline: &[u8] = if newline.is_empty() { b"\n" } else { newline };
    let width = usize::try_from(width.max(1)).unwrap_or(1);
    let len = s.len();
    let mut offset = 0;
    let mut out = Vec::new();
    while len - offset > width {
        if s[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(len);
        match s[offset..end].iter().rposition(|&c| c == b' ') {
            Some(p) => {
                out.extend_from_slice(&s[offset..offset + p]);
                out.extend_from_slice(newline);
                offset += p + 1;
            }
            None if long_words => {
                out.extend_from_slice(&s[offset..offset + width]);
                out.extend_from_slice(newline);
                offset += width;
            }
            None => {
                let end = width + offset;
                match s[end..].iter().position(|&c| c == b' ') {
                    None => {
                        out.extend_from_slice(&s[offset..]);
                        offset = len;
                    }
                    Some(i) => {
                        out.extend_from_slice(&s[offset..end + i]);
                        out.extend_from_slice(newline);
                        offset = end + i + 1;
                    }
                }
            }
        }
        if out.len() > super::MAX_LEN {
            break;
        }
    }
    out.extend_from_slice(&s[offset..]);
    out
}

pub(super) fn wrap(a: Vec<Value>) -> CallResult {
    string(wrap_custom(arg(&a, 1), int_of(&a[0]), b"", false))
}

pub(super) fn wrap_with(a: Vec<Value>) -> CallResult {
    string(wrap_custom(arg(&a, 2), int_of(&a[0]), arg(&a, 1), true))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn contains(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(find(arg(&a, 1), arg(&a, 0)).is_some()))
}

pub(super) fn has_prefix(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(arg(&a, 1).starts_with(arg(&a, 0))))
}

pub(super) fn has_suffix(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(arg(&a, 1).ends_with(arg(&a, 0))))
}

pub(super) fn quote(a: Vec<Value>) -> CallResult {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil | Value::Missing))
        .map(|v| super::fmt::quote(&strval(v), false))
        .collect();
    string(parts.join(" "))
}

/// The non-nil arguments as text, space-separated, each between `quote` bytes
/// (Sprig's `squote` and `cat`, which drop nils).
fn join_present(a: &[Value], quote: &[u8]) -> CallResult {
    let mut out = Vec::new();
    for v in a
        .iter()
        .filter(|v| !matches!(v, Value::Nil | Value::Missing))
    {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(quote);
        out.extend_from_slice(&strval(v));
        out.extend_from_slice(quote);
        if out.len() > super::MAX_LEN {
            return Err(super::CallError::TooLarge);
        }
    }
    string(out)
}

pub(super) fn squote(a: Vec<Value>) -> CallResult {
    join_present(&a, b"'")
}

pub(super) fn cat(a: Vec<Value>) -> CallResult {
    join_present(&a, b"")
}

fn indent_bytes(n: usize, s: &[u8]) -> CallResult {
    let lines = s.iter().filter(|&&c| c == b'\n').count() + 1;
    match lines
        .checked_mul(n)
        .and_then(|p| p.checked_add(s.len() + 1))
    {
        Some(total) if total <= super::MAX_LEN => {}
        _ => return Err(super::CallError::TooLarge),
    }
    let pad = vec![b' '; n];
    let mut out = pad.clone();
    for &c in s {
        out.push(c);
        if c == b'\n' {
            out.extend_from_slice(&pad);
        }
    }
    string(out)
}

pub(super) fn indent(a: Vec<Value>) -> CallResult {
    indent_bytes(usize_of(&a[0]), arg(&a, 1))
}

pub(super) fn nindent(a: Vec<Value>) -> CallResult {
    let Value::Str(s) = indent_bytes(usize_of(&a[0]), arg(&a, 1))? else {
        return err("nindent");
    };
    let mut out = vec![b'\n'];
    out.extend_from_slice(&s);
    string(out)
}

pub(super) fn replace(a: Vec<Value>) -> CallResult {
    let (old, new, s) = (arg(&a, 0), arg(&a, 1), arg(&a, 2));
    let mut out = Vec::new();
    if old.is_empty() {
        // Go inserts `new` before every rune and at the end.
        let mut i = 0;
        while i < s.len() {
            out.extend_from_slice(new);
            let n = decode_rune(&s[i..]).1;
            out.extend_from_slice(&s[i..i + n]);
            i += n;
            if out.len() > super::MAX_LEN {
                return Err(super::CallError::TooLarge);
            }
        }
        out.extend_from_slice(new);
        return string(out);
    }
    let mut i = 0;
    while let Some(p) = find(&s[i..], old) {
        out.extend_from_slice(&s[i..i + p]);
        out.extend_from_slice(new);
        i += p + old.len();
        if out.len() > super::MAX_LEN {
            return Err(super::CallError::TooLarge);
        }
    }
    out.extend_from_slice(&s[i..]);
    string(out)
}

pub(super) fn plural(a: Vec<Value>) -> CallResult {
    string(if int_of(&a[2]) == 1 {
        arg(&a, 0)
    } else {
        arg(&a, 1)
    })
}

pub(super) fn to_string(a: Vec<Value>) -> CallResult {
    string(strval(&a[0]).to_vec())
}

/// Go's `strings.Split` (`n` < 0: all parts).
fn split_bytes(s: &[u8], sep: &[u8], n: i64) -> Vec<Bytes> {
    if n == 0 {
        return Vec::new();
    }
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let mut parts = Vec::new();
    if sep.is_empty() {
        let mut i = 0;
        while i < s.len() {
            if parts.len() + 1 == limit {
                parts.push(Zeroizing::new(s[i..].to_vec()));
                return parts;
            }
            let k = decode_rune(&s[i..]).1;
            parts.push(Zeroizing::new(s[i..i + k].to_vec()));
            i += k;
        }
        return parts;
    }
    let mut i = 0;
    while parts.len() + 1 < limit {
        let Some(p) = find(&s[i..], sep) else { break };
        parts.push(Zeroizing::new(s[i..i + p].to_vec()));
        i += p + sep.len();
    }
    parts.push(Zeroizing::new(s[i..].to_vec()));
    parts
}

fn indexed_map(parts: Vec<Bytes>) -> Value {
    let m: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::Str(std::rc::Rc::new(p))))
        .collect();
    Value::Map(std::rc::Rc::new(std::cell::RefCell::new(m)), MapTy::Str)
}

pub(super) fn split(a: Vec<Value>) -> CallResult {
    Ok(indexed_map(split_bytes(arg(&a, 1), arg(&a, 0), -1)))
}

pub(super) fn splitn(a: Vec<Value>) -> CallResult {
    Ok(indexed_map(split_bytes(
        arg(&a, 2),
        arg(&a, 0),
        int_of(&a[1]),
    )))
}

pub(super) fn split_list(a: Vec<Value>) -> CallResult {
    Ok(string_list(split_bytes(arg(&a, 1), arg(&a, 0), -1)))
}

/// Sprig's `strslice`: a list's non-nil elements as strings, or a value alone.
fn strslice(v: &Value) -> Vec<Bytes> {
    match v {
        Value::List(items, _) => items
            .iter()
            .filter(|x| !matches!(x, Value::Nil | Value::Missing))
            .map(strval)
            .collect(),
        Value::Nil | Value::Missing => Vec::new(),
        other => vec![strval(other)],
    }
}

pub(super) fn to_strings(a: Vec<Value>) -> CallResult {
    Ok(string_list(strslice(&a[0])))
}

pub(super) fn join(a: Vec<Value>) -> CallResult {
    let sep = arg(&a, 0);
    let mut out = Vec::new();
    for (i, p) in strslice(&a[1]).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(p);
        if out.len() > super::MAX_LEN {
            return Err(super::CallError::TooLarge);
        }
    }
    string(out)
}

pub(super) fn sort_alpha(a: Vec<Value>) -> CallResult {
    match &a[0] {
        Value::List(..) => {
            let mut items = strslice(&a[0]);
            items.sort_by(|x, y| x[..].cmp(&y[..]));
            Ok(string_list(items))
        }
        other => Ok(string_list(vec![strval(other)])),
    }
}

fn regex(pattern: &[u8]) -> Result<regex::bytes::Regex, super::CallError> {
    let p = String::from_utf8_lossy(pattern);
    // Go quotes the pattern; it may be a value here, so the message does not.
    regex::bytes::RegexBuilder::new(&p)
        .size_limit(1 << 20)
        .build()
        .or_else(|_| err("error parsing regexp: the pattern is not valid RE2 syntax"))
}

pub(super) fn regex_match(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(
        regex(arg(&a, 0)).is_ok_and(|r| r.is_match(arg(&a, 1))),
    ))
}

pub(super) fn must_regex_match(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(regex(arg(&a, 0))?.is_match(arg(&a, 1))))
}

fn find_all(a: &[Value]) -> Result<Vec<Bytes>, super::CallError> {
    let r = regex(arg(a, 0))?;
    let n = int_of(&a[2]);
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    Ok(r.find_iter(arg(a, 1))
        .take(limit)
        .map(|m| Zeroizing::new(m.as_bytes().to_vec()))
        .collect())
}

pub(super) fn regex_find_all(a: Vec<Value>) -> CallResult {
    // Sprig's non-must form panics on a bad pattern (MustCompile): an error too.
    Ok(string_list(find_all(&a)?))
}

pub(super) fn must_regex_find_all(a: Vec<Value>) -> CallResult {
    Ok(string_list(find_all(&a)?))
}

pub(super) fn regex_find(a: Vec<Value>) -> CallResult {
    let r = regex(arg(&a, 0))?;
    string(
        r.find(arg(&a, 1))
            .map(|m| m.as_bytes().to_vec())
            .unwrap_or_default(),
    )
}

pub(super) fn must_regex_find(a: Vec<Value>) -> CallResult {
    regex_find(a)
}

pub(super) fn regex_replace_all(a: Vec<Value>) -> CallResult {
    let r = regex(arg(&a, 0))?;
    string(r.replace_all(arg(&a, 1), arg(&a, 2)).into_owned())
}

pub(super) fn must_regex_replace_all(a: Vec<Value>) -> CallResult {
    regex_replace_all(a)
}

pub(super) fn regex_replace_all_literal(a: Vec<Value>) -> CallResult {
    let r = regex(arg(&a, 0))?;
    string(
        r.replace_all(arg(&a, 1), regex::bytes::NoExpand(arg(&a, 2)))
            .into_owned(),
    )
}

pub(super) fn must_regex_replace_all_literal(a: Vec<Value>) -> CallResult {
    regex_replace_all_literal(a)
}

fn regex_split_parts(a: &[Value]) -> Result<Vec<Bytes>, super::CallError> {
    let r = regex(arg(a, 0))?;
    let s = arg(a, 1);
    let n = int_of(&a[2]);
    if n == 0 {
        return Ok(Vec::new());
    }
    if !arg(a, 0).is_empty() && s.is_empty() {
        return Ok(vec![Zeroizing::new(Vec::new())]);
    }
    let limit = usize::try_from(n).ok();
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in r.find_iter(s).take(limit.unwrap_or(usize::MAX)) {
        if limit.is_some_and(|l| parts.len() == l - 1) {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(Zeroizing::new(s[beg..end].to_vec()));
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(Zeroizing::new(s[beg..].to_vec()));
    }
    Ok(parts)
}

pub(super) fn regex_split(a: Vec<Value>) -> CallResult {
    Ok(string_list(regex_split_parts(&a)?))
}

pub(super) fn must_regex_split(a: Vec<Value>) -> CallResult {
    regex_split(a)
}

pub(super) fn regex_quote_meta(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for &c in arg(&a, 0) {
        if b"\\.+*?()|[]{}^$".contains(&c) {
            out.push(b'\\');
        }
        out.push(c);
    }
    string(out)
}

/// Go's `path.Clean`.
fn clean(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let rooted = p[0] == b'/';
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in p.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|l| *l != b"..") {
                    parts.pop();
                } else if !rooted {
                    parts.push(part);
                }
            }
            other => parts.push(other),
        }
    }
    let mut out = if rooted { b"/".to_vec() } else { Vec::new() };
    out.extend_from_slice(&parts.join(&b'/'));
    if out.is_empty() {
        return b".".to_vec();
    }
    out
}

pub(super) fn path_clean(a: Vec<Value>) -> CallResult {
    string(clean(arg(&a, 0)))
}

pub(super) fn path_base(a: Vec<Value>) -> CallResult {
    let mut p = arg(&a, 0);
    if p.is_empty() {
        return string(".");
    }
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    if p == b"/" {
        return string("/");
    }
    let start = p.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    string(&p[start..])
}

pub(super) fn path_dir(a: Vec<Value>) -> CallResult {
    let p = arg(&a, 0);
    let dir = match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[..=i],
        None => b"",
    };
    string(clean(dir))
}

pub(super) fn path_ext(a: Vec<Value>) -> CallResult {
    let p = arg(&a, 0);
    for i in (0..p.len()).rev() {
        match p[i] {
            b'/' => break,
            b'.' => return string(&p[i..]),
            _ => {}
        }
    }
    string("")
}

pub(super) fn path_is_abs(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(arg(&a, 0).starts_with(b"/")))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings' `isAlphabet`: a letter that is not CJK.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic()
        && !matches!(u32::from(c), 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Go's `unicode.IsPunct` for what templates meet: ASCII punctuation other than
/// the symbols Go files under `S` (`$+<=>^`|~`), and Unicode punctuation.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c);
    }
    c.is_ascii_punctuation()
        || matches!(u32::from(c), 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003)
}

/// xstrings' `nextWord`: the type and length (in chars) of the word at the start.
fn next_word(s: &[char]) -> (Word, usize) {
    let Some(&r) = s.first() else {
        return (Word::Invalid, 0);
    };
    if r == '\u{FFFD}' {
        return (Word::Invalid, 1);
    }
    let run = |from: usize, pred: &dyn Fn(char) -> bool| {
        let mut i = from;
        while i < s.len() && pred(s[i]) {
            i += 1;
        }
        i
    };
    if is_connector(r) {
        (Word::Connector, run(1, &is_connector))
    } else if is_punct(r) {
        (Word::Punct, run(1, &is_punct))
    } else if r.is_uppercase() {
        match s.get(1) {
            None => (Word::Upper, 1),
            Some(&n) if n.is_uppercase() => {
                let end = run(1, &|c: char| c.is_uppercase());
                // "HTTPStatus": the S starts the next word.
                if end < s.len() && is_alphabet(s[end]) {
                    (Word::Upper, end - 1)
                } else {
                    (Word::Upper, end)
                }
            }
            Some(&n) if is_alphabet(n) => (
                Word::Upper,
                run(1, &|c: char| is_alphabet(c) && !c.is_uppercase()),
            ),
            Some(_) => (Word::Upper, 1),
        }
    } else if is_alphabet(r) {
        (
            Word::Alphabet,
            run(1, &|c: char| is_alphabet(c) && !c.is_uppercase()),
        )
    } else if r.is_numeric() {
        (Word::Number, run(1, &char::is_numeric))
    } else {
        (
            Word::Other,
            run(1, &|c: char| {
                !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
            }),
        )
    }
}

fn lower_word(out: &mut String, wt: Word, word: &[char], connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.extend(word);
        return;
    }
    for &c in word {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (Sprig's `snakecase` and `kebabcase`).
fn camel_to_lower(s: &[u8], connector: char) -> String {
    let chars = runes(s);
    let mut out = String::new();
    if chars.is_empty() {
        return out;
    }
    let mut pos = 0;
    let take = |pos: &mut usize| -> (Word, &[char]) {
        let (wt, n) = next_word(&chars[*pos..]);
        let word = &chars[*pos..*pos + n];
        *pos += n;
        (wt, word)
    };
    let (mut wt, mut word) = take(&mut pos);
    while pos < chars.len() {
        if wt != Word::Connector {
            lower_word(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word) = take(&mut pos);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word) = take(&mut pos);
                }
                if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if pos >= chars.len() {
                    continue;
                }
                let number = word;
                (wt, word) = take(&mut pos);
                // A number then lower case letters starts a word: "HTTP2xx".
                if wt != Word::Alphabet {
                    lower_word(&mut out, Word::Number, number, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                lower_word(&mut out, Word::Number, number, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word) = take(&mut pos);
                }
                if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    lower_word(&mut out, wt, word, connector);
    out
}

pub(super) fn snakecase(a: Vec<Value>) -> CallResult {
    string(camel_to_lower(arg(&a, 0), '_'))
}

pub(super) fn kebabcase(a: Vec<Value>) -> CallResult {
    string(camel_to_lower(arg(&a, 0), '-'))
}
