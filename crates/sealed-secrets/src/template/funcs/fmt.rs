//! Go's `fmt.Sprintf` for the values templates hold: flags, width, precision, the
//! verbs `v s q d x X o O b c U e E f F g G t T %`, and Go's `%!verb(type=value)`
//! for a verb that does not fit its argument.

use super::{CallError, MAX_LEN};
use crate::template::value::{self, Value};

#[derive(Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `format`.
pub(crate) fn sprintf(format: &[u8], args: &[Value]) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut reordered = false;
    let mut i = 0;
    while i < format.len() {
        if out.len() > MAX_LEN {
            return Err(CallError::TooLarge);
        }
        let c = format[i];
        if c != b'%' {
            let end = format[i..]
                .iter()
                .position(|&b| b == b'%')
                .map_or(format.len(), |p| p + i);
            out.extend_from_slice(&format[i..end]);
            i = end;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while let Some(&f) = format.get(i) {
            match f {
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b'#' => spec.sharp = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = !spec.minus,
                _ => break,
            }
            i += 1;
        }
        let mut good_index = true;
        // `%[n]`: the next argument is the n-th (before a `*` width or the verb).
        let mut take_index = |i: &mut usize, next: &mut usize| {
            if let Some((n, after)) = arg_index(format, *i) {
                *i = after;
                reordered = true;
                match n.checked_sub(1).filter(|k| *k < args.len()) {
                    Some(k) => *next = k,
                    None => good_index = false,
                }
            }
        };
        take_index(&mut i, &mut next);
        let mut bad_width = false;
        if format.get(i) == Some(&b'*') {
            i += 1;
            match args.get(next) {
                Some(Value::Int(n, _)) => {
                    if *n < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.wid = usize::try_from(n.unsigned_abs())
                        .ok()
                        .filter(|w| *w <= 1_000_000);
                    bad_width = spec.wid.is_none();
                }
                _ => bad_width = true,
            }
            next += 1;
        } else {
            let (n, after) = number(format, i);
            spec.wid = n;
            i = after;
        }
        if bad_width {
            out.extend_from_slice(b"%!(BADWIDTH)");
        }
        if format.get(i) == Some(&b'.') {
            i += 1;
            if format.get(i) == Some(&b'*') {
                i += 1;
                match args.get(next) {
                    Some(Value::Int(n, _)) if *n >= 0 && *n <= 1_000_000 => {
                        spec.prec = usize::try_from(*n).ok();
                    }
                    _ => out.extend_from_slice(b"%!(BADPREC)"),
                }
                next += 1;
            } else {
                let (n, after) = number(format, i);
                spec.prec = Some(n.unwrap_or(0));
                i = after;
            }
        }
        if spec.wid.is_some_and(|w| w > 1_000_000) || spec.prec.is_some_and(|p| p > 1_000_000) {
            return Err(CallError::TooLarge);
        }
        take_index(&mut i, &mut next);
        let Some(verb) = decode_char(&format[i..]) else {
            out.extend_from_slice(b"%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            out.push(b'%');
            continue;
        }
        if !good_index {
            out.extend_from_slice(format!("%!{verb}(BADINDEX)").as_bytes());
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.extend_from_slice(format!("%!{verb}(MISSING)").as_bytes());
            continue;
        };
        next += 1;
        print_arg(&mut out, arg, verb, spec, 0);
    }
    if !reordered && next < args.len() {
        out.extend_from_slice(b"%!(EXTRA ");
        for (k, a) in args[next..].iter().enumerate() {
            if k > 0 {
                out.extend_from_slice(b", ");
            }
            if matches!(a, Value::Missing | Value::Nil) {
                out.extend_from_slice(b"<nil>");
            } else {
                out.extend_from_slice(a.type_name().as_bytes());
                out.push(b'=');
                print_arg(&mut out, a, 'v', Spec::default(), 0);
            }
        }
        out.push(b')');
    }
    if out.len() > MAX_LEN {
        return Err(CallError::TooLarge);
    }
    Ok(out)
}

/// `[n]` at `i`: the 1-based argument index and the offset after `]`.
fn arg_index(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let close = b[i..].iter().position(|&c| c == b']')? + i;
    let n = std::str::from_utf8(&b[i + 1..close])
        .ok()?
        .parse()
        .unwrap_or(0);
    Some((n, close + 1))
}

fn number(b: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n = 0usize;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    ((i > start).then_some(n), i)
}

fn decode_char(b: &[u8]) -> Option<char> {
    if b.is_empty() {
        return None;
    }
    Some(super::strings::decode_rune(b).0)
}

fn pad(out: &mut Vec<u8>, s: &[u8], spec: Spec) {
    let count = String::from_utf8_lossy(s).chars().count();
    let width = spec.wid.unwrap_or(0).saturating_sub(count);
    let fill = if spec.zero && !spec.minus { b'0' } else { b' ' };
    if spec.minus {
        out.extend_from_slice(s);
        out.extend(std::iter::repeat_n(b' ', width));
    } else {
        out.extend(std::iter::repeat_n(fill, width));
        out.extend_from_slice(s);
    }
}

fn bad_verb(out: &mut Vec<u8>, arg: &Value, verb: char, spec: Spec) {
    out.extend_from_slice(format!("%!{verb}(").as_bytes());
    if matches!(arg, Value::Missing | Value::Nil) {
        out.extend_from_slice(b"<nil>");
    } else {
        out.extend_from_slice(arg.type_name().as_bytes());
        out.push(b'=');
        print_arg(out, arg, 'v', spec, 0);
    }
    out.push(b')');
}

fn print_arg(out: &mut Vec<u8>, arg: &Value, verb: char, spec: Spec, depth: usize) {
    if verb == 'v' && spec.sharp {
        let mut s = Vec::new();
        go_syntax(&mut s, arg, depth);
        pad(
            out,
            &s,
            Spec {
                zero: false,
                sharp: false,
                ..spec
            },
        );
        return;
    }
    if verb == 'T' {
        let t = match arg {
            Value::Missing | Value::Nil => "<nil>",
            v => v.type_name(),
        };
        pad(
            out,
            t.as_bytes(),
            Spec {
                zero: false,
                ..spec
            },
        );
        return;
    }
    match arg {
        // A `fmt.Stringer`: the string verbs print its String(), which is what
        // `sprint` writes for these; the others see the value itself.
        v if v.is_stringer() && matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') => {
            let text = Value::Str(std::rc::Rc::new(value::to_text(arg)));
            print_arg(out, &text, verb, spec, depth);
        }
        Value::Semver(_) | Value::Time(_) => bad_verb(out, arg, verb, spec),
        // A struct: `{` its fields with the same verb `}`; `%+v` names them.
        Value::Cert(c) => {
            if depth > value::MAX_NESTING {
                return;
            }
            out.push(b'{');
            for (k, (name, field)) in c.named_fields().into_iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                if spec.plus && verb == 'v' {
                    out.extend_from_slice(name.as_bytes());
                    out.push(b':');
                }
                let field = Value::Str(std::rc::Rc::new(field.clone()));
                print_arg(out, &field, verb, spec, depth + 1);
            }
            out.push(b'}');
        }
        Value::Missing | Value::Nil => {
            if verb == 'v' || depth > 0 {
                pad(
                    out,
                    b"<nil>",
                    Spec {
                        zero: false,
                        ..spec
                    },
                );
            } else {
                bad_verb(out, arg, verb, spec);
            }
        }
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { b"true" } else { b"false" }, spec),
            _ => bad_verb(out, arg, verb, spec),
        },
        Value::Int(n, _) => fmt_int(out, arg, *n, verb, spec),
        Value::Float(f) => fmt_float(out, arg, *f, verb, spec),
        Value::Str(s) => match verb {
            'v' | 's' => {
                let s = truncate(s, spec.prec);
                pad(out, s, spec);
            }
            'q' => {
                let q = if spec.sharp && can_backquote(s) {
                    let mut q = vec![b'`'];
                    q.extend_from_slice(s);
                    q.push(b'`');
                    q
                } else {
                    quote(truncate(s, spec.prec), spec.plus).into_bytes()
                };
                pad(out, &q, spec);
            }
            'x' | 'X' => hex_bytes(out, truncate_bytes(s, spec.prec), verb == 'X', spec),
            _ => bad_verb(out, arg, verb, spec),
        },
        Value::List(items, _) => {
            if depth > value::MAX_NESTING {
                return;
            }
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                print_arg(out, item, verb, spec, depth + 1);
            }
            out.push(b']');
        }
        Value::Map(m, _) => {
            if depth > value::MAX_NESTING {
                return;
            }
            out.extend_from_slice(b"map[");
            for (k, (key, item)) in m.borrow().iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                print_arg(out, &Value::str(key.as_bytes()), verb, spec, depth + 1);
                out.push(b':');
                print_arg(out, item, verb, spec, depth + 1);
            }
            out.push(b']');
        }
    }
}

/// `%#v`: the value as Go source.
fn go_syntax(out: &mut Vec<u8>, v: &Value, depth: usize) {
    if depth > value::MAX_NESTING {
        return;
    }
    match v {
        Value::Missing | Value::Nil if depth == 0 => out.extend_from_slice(b"<nil>"),
        Value::Missing | Value::Nil => out.extend_from_slice(b"interface {}(nil)"),
        Value::Str(s) => out.extend_from_slice(quote(s, false).as_bytes()),
        Value::Int(n, _) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::List(items, _) => {
            out.extend_from_slice(v.type_name().as_bytes());
            out.push(b'{');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                go_syntax(out, item, depth + 1);
            }
            out.push(b'}');
        }
        Value::Map(m, _) => {
            out.extend_from_slice(v.type_name().as_bytes());
            out.push(b'{');
            for (k, (key, item)) in m.borrow().iter().enumerate() {
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(quote(key.as_bytes(), false).as_bytes());
                out.push(b':');
                go_syntax(out, item, depth + 1);
            }
            out.push(b'}');
        }
        Value::Cert(c) => {
            out.extend_from_slice(v.type_name().as_bytes());
            out.push(b'{');
            for (k, (name, field)) in c.named_fields().into_iter().enumerate() {
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(quote(field, false).as_bytes());
            }
            out.push(b'}');
        }
        other => value::sprint(other, out),
    }
}

fn truncate(s: &[u8], prec: Option<usize>) -> &[u8] {
    let Some(n) = prec else { return s };
    let mut i = 0;
    for _ in 0..n {
        if i >= s.len() {
            break;
        }
        i += super::strings::decode_rune(&s[i..]).1;
    }
    &s[..i]
}

fn truncate_bytes(s: &[u8], prec: Option<usize>) -> &[u8] {
    match prec {
        Some(n) if n < s.len() => &s[..n],
        _ => s,
    }
}

fn can_backquote(s: &[u8]) -> bool {
    match std::str::from_utf8(s) {
        Ok(t) => t
            .chars()
            .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control())),
        Err(_) => false,
    }
}

fn hex_bytes(out: &mut Vec<u8>, b: &[u8], upper: bool, spec: Spec) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let prefix: &[u8] = if upper { b"0X" } else { b"0x" };
    let mut s = Vec::new();
    if spec.sharp && !b.is_empty() {
        s.extend_from_slice(prefix);
    }
    for (i, &c) in b.iter().enumerate() {
        if spec.space && i > 0 {
            s.push(b' ');
            if spec.sharp {
                s.extend_from_slice(prefix);
            }
        }
        s.push(digits[usize::from(c >> 4)]);
        s.push(digits[usize::from(c & 15)]);
    }
    pad(
        out,
        &s,
        Spec {
            zero: spec.zero,
            ..spec
        },
    );
}

fn fmt_int(out: &mut Vec<u8>, arg: &Value, n: i64, verb: char, spec: Spec) {
    let (base, upper) = match verb {
        'd' | 'v' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, c.to_string().as_bytes(), spec);
            return;
        }
        'q' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, quote_rune(c, spec.plus).as_bytes(), spec);
            return;
        }
        'U' => {
            let u = n as u64;
            let mut s = format!("U+{u:04X}");
            if spec.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                && is_print(c)
            {
                s.push_str(&format!(" '{c}'"));
            }
            pad(
                out,
                s.as_bytes(),
                Spec {
                    zero: false,
                    ..spec
                },
            );
            return;
        }
        _ => return bad_verb(out, arg, verb, spec),
    };
    let negative = n < 0;
    let u = n.unsigned_abs();
    let mut prec = 0usize;
    if let Some(p) = spec.prec {
        prec = p;
        if p == 0 && u == 0 {
            pad(
                out,
                b"",
                Spec {
                    zero: false,
                    ..spec
                },
            );
            return;
        }
    } else if spec.zero
        && !spec.minus
        && let Some(w) = spec.wid
    {
        prec = w;
        if negative || spec.plus || spec.space {
            prec = prec.saturating_sub(1);
        }
    }
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    while digits.len() < prec {
        digits.insert(0, '0');
    }
    if spec.sharp {
        match base {
            2 => digits.insert_str(0, "0b"),
            8 if !digits.starts_with('0') => digits.insert(0, '0'),
            16 => digits.insert_str(0, if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        digits.insert_str(0, "0o");
    }
    if negative {
        digits.insert(0, '-');
    } else if spec.plus {
        digits.insert(0, '+');
    } else if spec.space {
        digits.insert(0, ' ');
    }
    pad(
        out,
        digits.as_bytes(),
        Spec {
            zero: false,
            ..spec
        },
    );
}

fn fmt_float(out: &mut Vec<u8>, arg: &Value, f: f64, verb: char, spec: Spec) {
    let prec = spec.prec.map(|p| i32::try_from(p).unwrap_or(i32::MAX));
    let mut s = match verb {
        'v' | 'g' | 'G' => match prec {
            None => value::format_float_g(f),
            Some(p) => format_g_prec(f, p.max(1)),
        },
        'e' | 'E' => value::format_float_e(f, prec.unwrap_or(6)),
        'f' | 'F' => value::format_float_f(f, prec.unwrap_or(6)),
        _ => return bad_verb(out, arg, verb, spec),
    };
    if matches!(verb, 'E' | 'G') {
        s = s.to_uppercase();
    }
    if spec.plus && !s.starts_with(['-', '+']) {
        s.insert(0, '+');
    } else if spec.space && !s.starts_with(['-', '+']) {
        s.insert(0, ' ');
    }
    if s.ends_with("Inf") || s.ends_with("NaN") {
        if s == "+Inf" && !spec.plus {
            s = "+Inf".to_owned();
        }
        return pad(
            out,
            s.as_bytes(),
            Spec {
                zero: false,
                ..spec
            },
        );
    }
    // Zero padding goes after the sign.
    if spec.zero
        && !spec.minus
        && let Some(w) = spec.wid
    {
        let (sign, num) = match s.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (Some(c), s[1..].to_owned()),
            _ => (None, s.clone()),
        };
        let len = num.len() + usize::from(sign.is_some());
        if w > len {
            let mut t = String::new();
            if let Some(c) = sign {
                t.push(c);
            }
            t.push_str(&"0".repeat(w - len));
            t.push_str(&num);
            s = t;
        }
    }
    pad(
        out,
        s.as_bytes(),
        Spec {
            zero: false,
            ..spec
        },
    );
}

/// `strconv.FormatFloat(f, 'g', prec, 64)`.
fn format_g_prec(f: f64, prec: i32) -> String {
    if !f.is_finite() {
        return value::format_float_g(f);
    }
    let e = format!("{:.*e}", usize::try_from(prec - 1).unwrap_or(0), f);
    let (m, ex) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = ex.parse().unwrap_or(0);
    let digits: String = m.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let mut eprec = prec;
    if eprec > nd && nd > exp {
        eprec = nd;
    }
    let sign = if f < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let mut s = String::from(sign);
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        s.push_str(&format!("e{es}{ea:02}"));
        return s;
    }
    let prec_f = (nd - exp - 1).max(0);
    value::format_float_f(f, prec_f)
}

/// Go's `unicode.IsPrint` approximated: graphic characters and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
        || is_unassigned_or_private(c))
}

fn is_unassigned_or_private(c: char) -> bool {
    matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{10FFFF}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Go's `strconv.Quote` (`%q`); `ascii` is `%+q` (`QuoteToASCII`).
pub(crate) fn quote(s: &[u8], ascii: bool) -> String {
    let mut out = String::from("\"");
    let mut i = 0;
    while i < s.len() {
        let (c, size) = super::strings::decode_rune(&s[i..]);
        if c == '\u{FFFD}' && size == 1 {
            out.push_str(&format!("\\x{:02x}", s[i]));
            i += 1;
            continue;
        }
        escape_rune(&mut out, c, '"', ascii);
        i += size;
    }
    out.push('"');
    out
}

fn quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from("'");
    escape_rune(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

fn escape_rune(out: &mut String, c: char, q: char, ascii: bool) {
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii {
        if c.is_ascii() && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if u32::from(c) < 0x20 || c == '\x7f' => {
            out.push_str(&format!("\\x{:02x}", u32::from(c)))
        }
        c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}
