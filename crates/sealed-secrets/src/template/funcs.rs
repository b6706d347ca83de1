//! The functions templates may call: Go's builtins and the Sprig string functions
//! users write in practice. Messages name functions, never values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::{Value, Values};

const NAMES: &[&str] = &[
    "index",
    "print",
    "printf",
    "println",
    "len",
    "eq",
    "ne",
    "and",
    "or",
    "not",
    "b64enc",
    "b64dec",
    "quote",
    "squote",
    "upper",
    "lower",
    "title",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "replace",
    "default",
    "empty",
    "toJson",
    "indent",
    "nindent",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "repeat",
    "cat",
    "sha256sum",
    "trunc",
    "toString",
    "nospace",
];

/// The largest value a template may build, in bytes. The API server refuses a Secret
/// over 1 MiB anyway; the limit turns `{{ repeat 1000000000 "x" }}` (or a pipeline of
/// `b64enc`s) into an error instead of a controller out of memory.
pub(super) const MAX_LEN: usize = 1 << 20;

/// The error of a result over [`MAX_LEN`].
pub(super) fn too_large(what: &str) -> String {
    format!("{what}: the result would exceed {MAX_LEN} bytes (a Secret holds at most 1 MiB)")
}

/// Refuses a result of `len` bytes (`None`: the size overflowed) over [`MAX_LEN`],
/// before anything that large is allocated.
fn check_len(what: &str, len: Option<usize>) -> Result<(), String> {
    match len {
        Some(n) if n <= MAX_LEN => Ok(()),
        _ => Err(too_large(what)),
    }
}

/// Whether `name` is a function we provide.
pub(super) fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// A value as template output text. Missing keys and the root map are errors.
pub(super) fn to_text(v: &Value) -> Result<Zeroizing<Vec<u8>>, String> {
    Ok(Zeroizing::new(match v {
        Value::Str(s) => s.to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::Nil => b"<nil>".to_vec(),
        Value::Root => return Err("cannot print the whole map: use .key or index . \"key\"".into()),
        Value::Missing(k) => return Err(format!("map has no entry for key {k:?}")),
    }))
}

fn text(v: &Value) -> Result<Zeroizing<String>, String> {
    Ok(Zeroizing::new(
        String::from_utf8_lossy(&to_text(v)?).into_owned(),
    ))
}

fn int(v: &Value, func: &str) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Missing(k) => Err(format!("map has no entry for key {k:?}")),
        _ => Err(format!("{func}: expected an integer argument")),
    }
}

fn arity(func: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {func}: want {n} got {}",
            args.len()
        ))
    }
}

fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Missing(k), _) | (_, Value::Missing(k)) => {
            return Err(format!("map has no entry for key {k:?}"));
        }
        (x, y) => *to_text(x)? == *to_text(y)?,
    })
}

fn printf(args: &[Value]) -> Result<Vec<u8>, String> {
    let Some((format, rest)) = args.split_first() else {
        return Err("wrong number of args for printf: want at least 1 got 0".into());
    };
    let format = text(format)?;
    let mut rest = rest.iter();
    let mut out = Vec::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let verb = chars.next().ok_or("printf: format ends with %")?;
        if verb == '%' {
            out.push(b'%');
            continue;
        }
        let arg = rest
            .next()
            .ok_or(format!("printf: missing argument for %{verb}"))?;
        match verb {
            's' | 'v' | 'd' => out.extend_from_slice(&to_text(arg)?),
            'q' => out.extend_from_slice(go_quote(&text(arg)?).as_bytes()),
            'x' => {
                for b in to_text(arg)?.iter() {
                    out.extend_from_slice(format!("{b:02x}").as_bytes());
                }
            }
            other => return Err(format!("printf: verb %{other} is not supported")),
        }
        check_len("printf", Some(out.len()))?;
    }
    Ok(out)
}

fn indent(n: i64, s: &str) -> String {
    let pad = " ".repeat(usize::try_from(n).unwrap_or(0));
    s.split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Calls `name` with `args` (a piped value comes last).
pub(super) fn call(name: &str, args: Vec<Value>, values: &Values) -> Result<Value, String> {
    let v = call_unchecked(name, args, values)?;
    if let Value::Str(s) = &v {
        check_len(name, Some(s.len()))?;
    }
    Ok(v)
}

fn call_unchecked(name: &str, args: Vec<Value>, values: &Values) -> Result<Value, String> {
    let bytes = |v: &Value| to_text(v);
    let s = |v: Zeroizing<Vec<u8>>| Ok(Value::Str(v));
    let string = |v: String| Ok(Value::str(v.into_bytes()));
    let last_text = |args: &[Value]| -> Result<Zeroizing<String>, String> {
        text(
            args.last()
                .ok_or(format!("wrong number of args for {name}"))?,
        )
    };
    match name {
        "index" => {
            arity(name, &args, 2)?;
            match &args[0] {
                Value::Root => {
                    let key = String::from_utf8_lossy(&to_text(&args[1])?).into_owned();
                    Ok(values
                        .get(&key)
                        .map_or(Value::Missing(key), |v| Value::Str(v.clone())))
                }
                _ => Err("index of a string is not supported".into()),
            }
        }
        "print" | "cat" | "println" => {
            let sep: &[u8] = if name == "print" { b"" } else { b" " };
            let mut out = Zeroizing::new(Vec::new());
            for (i, a) in args.iter().enumerate() {
                let t = to_text(a)?;
                check_len(name, out.len().checked_add(sep.len() + t.len()))?;
                if i > 0 {
                    out.extend_from_slice(sep);
                }
                out.extend_from_slice(&t);
            }
            if name == "println" {
                out.push(b'\n');
            }
            s(out)
        }
        "printf" => s(Zeroizing::new(printf(&args)?)),
        "len" => {
            arity(name, &args, 1)?;
            Ok(Value::Int(
                i64::try_from(bytes(&args[0])?.len()).unwrap_or(i64::MAX),
            ))
        }
        "eq" | "ne" => {
            arity(name, &args, 2)?;
            let e = equal(&args[0], &args[1])?;
            Ok(Value::Bool(if name == "eq" { e } else { !e }))
        }
        "and" => Ok(args
            .iter()
            .find(|a| !a.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil)),
        "or" => Ok(args
            .iter()
            .find(|a| a.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil)),
        "not" => {
            arity(name, &args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "empty" => {
            arity(name, &args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "default" => {
            arity(name, &args, 2)?;
            Ok(if args[1].truthy() {
                args[1].clone()
            } else {
                args[0].clone()
            })
        }
        "b64enc" => {
            arity(name, &args, 1)?;
            string(STANDARD.encode(&bytes(&args[0])?[..]))
        }
        "b64dec" => {
            arity(name, &args, 1)?;
            let decoded = STANDARD
                .decode(&bytes(&args[0])?[..])
                .map_err(|_| "b64dec: the value is not valid base64".to_owned())?;
            s(Zeroizing::new(decoded))
        }
        "quote" | "squote" | "toJson" => {
            arity(name, &args, 1)?;
            let t = text(&args[0])?;
            match name {
                "quote" => string(go_quote(&t)),
                "squote" => string(format!("'{}'", &*t)),
                _ => string(serde_json::to_string(&*t).map_err(|e| e.to_string())?),
            }
        }
        "upper" | "lower" | "title" | "trim" | "toString" | "nospace" | "sha256sum" => {
            arity(name, &args, 1)?;
            let t = text(&args[0])?;
            string(match name {
                "upper" => t.to_uppercase(),
                "lower" => t.to_lowercase(),
                "trim" => t.trim().to_owned(),
                "toString" => t.to_string(),
                "nospace" => t.chars().filter(|c| !c.is_whitespace()).collect(),
                "sha256sum" => {
                    let d = sealed_secrets_core::sha256(&bytes(&args[0])?);
                    d.iter().map(|b| format!("{b:02x}")).collect()
                }
                _ => t
                    .split(' ')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<String>>()
                    .join(" "),
            })
        }
        "trimAll" | "trimPrefix" | "trimSuffix" | "contains" | "hasPrefix" | "hasSuffix" => {
            arity(name, &args, 2)?;
            let (a, t) = (text(&args[0])?, last_text(&args)?);
            match name {
                "trimAll" => string(t.trim_matches(|c| a.contains(c)).to_owned()),
                "trimPrefix" => string(t.strip_prefix(a.as_str()).unwrap_or(&t).to_owned()),
                "trimSuffix" => string(t.strip_suffix(a.as_str()).unwrap_or(&t).to_owned()),
                "contains" => Ok(Value::Bool(t.contains(a.as_str()))),
                "hasPrefix" => Ok(Value::Bool(t.starts_with(a.as_str()))),
                _ => Ok(Value::Bool(t.ends_with(a.as_str()))),
            }
        }
        "replace" => {
            arity(name, &args, 3)?;
            let (old, new, t) = (text(&args[0])?, text(&args[1])?, text(&args[2])?);
            // An empty `old` matches between every two characters and at both ends.
            let matches = if old.is_empty() {
                t.chars().count() + 1
            } else {
                t.matches(old.as_str()).count()
            };
            check_len(
                name,
                matches
                    .checked_mul(new.len())
                    .and_then(|n| n.checked_add(t.len())),
            )?;
            string(t.replace(old.as_str(), &new))
        }
        "indent" | "nindent" | "repeat" | "trunc" => {
            arity(name, &args, 2)?;
            let (n, t) = (int(&args[0], name)?, last_text(&args)?);
            let count = usize::try_from(n).unwrap_or(0);
            let size = match name {
                "repeat" => t.len().checked_mul(count),
                "trunc" => Some(0),
                // The pad on every line, plus nindent's leading newline.
                _ => (t.matches('\n').count() + 1)
                    .checked_mul(count)
                    .and_then(|pad| pad.checked_add(t.len() + 1)),
            };
            check_len(name, size)?;
            string(match name {
                "indent" => indent(n, &t),
                "nindent" => format!("\n{}", indent(n, &t)),
                "repeat" => t.repeat(usize::try_from(n).map_err(|_| "repeat: negative count")?),
                _ => {
                    let n = usize::try_from(n).unwrap_or(0);
                    t.chars().take(n).collect()
                }
            })
        }
        other => Err(format!("function {other:?} not defined")),
    }
}
