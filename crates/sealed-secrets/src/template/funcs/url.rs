//! Sprig's `urlParse` and `urlJoin`, on the rules of Go's `net/url` (`Parse` and
//! `URL.String`): the path and fragment unescaped, userinfo re-escaped.

use std::collections::BTreeMap;

use super::{CallResult, bytes_of, err, string};
use crate::template::value::{MapTy, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && b"!()*".contains(&c) {
        return false;
    }
    true
}

fn escape(s: &[u8], mode: Mode) -> String {
    let mut out = String::new();
    for &c in s {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&c| unhex(c)),
                s.get(i + 2).and_then(|&c| unhex(c)),
            ) else {
                return Err("invalid URL escape".to_owned());
            };
            if mode == Mode::Host && h < 8 && &s[i..i + 3] != b"%25" {
                return Err("invalid URL escape".to_owned());
            }
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        if mode == Mode::Host && c < 0x80 && should_escape(c, Mode::Host) {
            return Err("invalid character in host name".to_owned());
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

#[derive(Default)]
struct Url {
    scheme: Vec<u8>,
    opaque: Vec<u8>,
    user: Option<(Vec<u8>, Option<Vec<u8>>)>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_query: Vec<u8>,
    force_query: bool,
    fragment: Vec<u8>,
}

fn split_once(s: &[u8], c: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&x| x == c) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn parse(raw: &[u8]) -> Result<Url, String> {
    if raw.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    let (rest, frag) = split_once(raw, b'#');
    let mut u = Url::default();
    if let Some(f) = frag {
        u.fragment = unescape(f, Mode::Fragment)?;
    }
    // The scheme: a letter, then letters, digits, + - ., then ':'.
    let mut rest = rest;
    for (i, &c) in rest.iter().enumerate() {
        if c.is_ascii_alphabetic() || (i > 0 && (c.is_ascii_digit() || b"+-.".contains(&c))) {
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err("missing protocol scheme".to_owned());
            }
            u.scheme = rest[..i].to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
        break;
    }
    if rest.ends_with(b"?") && rest.iter().filter(|&&c| c == b'?').count() == 1 {
        u.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else {
        let (r, q) = split_once(rest, b'?');
        rest = r;
        u.raw_query = q.unwrap_or_default().to_vec();
    }
    if !rest.starts_with(b"/") {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_vec();
            return Ok(u);
        }
        let (segment, _) = split_once(rest, b'/');
        if segment.contains(&b':') {
            return Err("first path segment in URL cannot contain colon".to_owned());
        }
    }
    if (!u.scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.iter().position(|&c| c == b'/') {
            Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
            None => (authority_and_path, &b""[..]),
        };
        let (userinfo, host) = match authority.iter().rposition(|&c| c == b'@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        u.host = parse_host(host)?;
        if let Some(ui) = userinfo {
            let (name, password) = split_once(ui, b':');
            u.user = Some((
                unescape(name, Mode::UserPassword)?,
                password
                    .map(|p| unescape(p, Mode::UserPassword))
                    .transpose()?,
            ));
        }
        rest = path;
    }
    u.path = unescape(rest, Mode::Path)?;
    Ok(u)
}

fn parse_host(host: &[u8]) -> Result<Vec<u8>, String> {
    if host.starts_with(b"[") {
        let Some(close) = host.iter().position(|&c| c == b']') else {
            return Err("missing ']' in host".to_owned());
        };
        let port = &host[close + 1..];
        if !port.is_empty() && !valid_port(port) {
            return Err("invalid port after host".to_owned());
        }
        return Ok(host.to_vec());
    }
    if let Some(i) = host.iter().rposition(|&c| c == b':')
        && !valid_port(&host[i..])
    {
        return Err("invalid port after host".to_owned());
    }
    unescape(host, Mode::Host)
}

fn valid_port(p: &[u8]) -> bool {
    p.first() == Some(&b':') && p[1..].iter().all(u8::is_ascii_digit)
}

fn hostname(host: &[u8]) -> &[u8] {
    if let Some(inner) = host.strip_prefix(b"[") {
        return inner
            .iter()
            .position(|&c| c == b']')
            .map_or(inner, |i| &inner[..i]);
    }
    match host.iter().rposition(|&c| c == b':') {
        Some(i) => &host[..i],
        None => host,
    }
}

fn userinfo_string(user: &(Vec<u8>, Option<Vec<u8>>)) -> String {
    let mut s = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

pub(super) fn url_parse(a: Vec<Value>) -> CallResult {
    let u = parse(bytes_of(&a[0])).or_else(|e| err(format!("unable to parse url: {e}")))?;
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Vec<u8>| {
        m.insert(k.to_owned(), Value::str(v));
    };
    put("scheme", u.scheme.clone());
    put("host", u.host.clone());
    put("hostname", hostname(&u.host).to_vec());
    put("path", u.path.clone());
    put("query", u.raw_query.clone());
    put("opaque", u.opaque.clone());
    put("fragment", u.fragment.clone());
    put(
        "userinfo",
        u.user
            .as_ref()
            .map(userinfo_string)
            .unwrap_or_default()
            .into_bytes(),
    );
    Ok(Value::map(m))
}

pub(super) fn url_join(a: Vec<Value>) -> CallResult {
    let Value::Map(d, MapTy::Any) = &a[0] else {
        return err("urlJoin needs a dict");
    };
    let d = d.borrow();
    let get = |k: &str| -> Result<Vec<u8>, super::CallError> {
        match d.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Str(s)) => Ok(s.to_vec()),
            Some(other) => err(format!(
                "unable to parse {k} key, must be of type string, but {} found",
                other.kind_name()
            )),
        }
    };
    let mut u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let userinfo = get("userinfo")?;
    if !userinfo.is_empty() {
        let mut probe = b"proto://".to_vec();
        probe.extend_from_slice(&userinfo);
        probe.extend_from_slice(b"@host");
        u.user = parse(&probe)
            .or_else(|e| err(format!("unable to parse userinfo in dict: {e}")))?
            .user;
    }
    string(url_string(&u))
}

fn url_string(u: &Url) -> String {
    let mut out = String::new();
    if !u.scheme.is_empty() {
        out.push_str(&String::from_utf8_lossy(&u.scheme));
        out.push(':');
    }
    if !u.opaque.is_empty() {
        out.push_str(&String::from_utf8_lossy(&u.opaque));
    } else {
        if !u.scheme.is_empty() || !u.host.is_empty() || u.user.is_some() {
            if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                out.push_str("//");
            }
            if let Some(user) = &u.user {
                out.push_str(&userinfo_string(user));
                out.push('@');
            }
            out.push_str(&escape(&u.host, Mode::Host));
        }
        let path = escape(&u.path, Mode::Path);
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            out.push('/');
        }
        if out.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
            out.push_str("./");
        }
        out.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        out.push('?');
        out.push_str(&String::from_utf8_lossy(&u.raw_query));
    }
    if !u.fragment.is_empty() {
        out.push('#');
        out.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    out
}
