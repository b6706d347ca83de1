//! Sprig's lists, dicts, defaults and type functions (`list.go`, `dict.go`,
//! `defaults.go`, `reflect.go`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::{
    CallError, CallResult, MAX_ITEMS, bytes_of, deep_equal, elements, err, int_of, string, strval,
    to_int64,
};
use crate::template::value::{self, ListTy, MapTy, Value};

pub(super) fn default(a: Vec<Value>) -> CallResult {
    match a.get(1) {
        Some(given) if given.truthy() => Ok(given.clone()),
        _ => Ok(a[0].clone()),
    }
}

pub(super) fn empty(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(!a[0].truthy()))
}

pub(super) fn coalesce(a: Vec<Value>) -> CallResult {
    Ok(a.into_iter().find(Value::truthy).unwrap_or(Value::Nil))
}

pub(super) fn all(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(a.iter().all(Value::truthy)))
}

pub(super) fn any(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(a.iter().any(Value::truthy)))
}

pub(super) fn compact(a: Vec<Value>) -> CallResult {
    let items = elements(&a[0], "compact")?;
    Ok(Value::list(
        items.iter().filter(|v| v.truthy()).cloned().collect(),
    ))
}

pub(super) fn ternary(a: Vec<Value>) -> CallResult {
    Ok(if matches!(a[2], Value::Bool(true)) {
        a[0].clone()
    } else {
        a[1].clone()
    })
}

/// A copy that shares no map with the original.
fn deep_copy_value(v: &Value, depth: usize) -> Result<Value, CallError> {
    if depth > value::MAX_NESTING {
        return err("deepCopy: value nested too deeply");
    }
    Ok(match v {
        Value::List(items, ty) => Value::List(
            Rc::new(
                items
                    .iter()
                    .map(|x| deep_copy_value(x, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            *ty,
        ),
        Value::Map(m, ty) => {
            let copy = m
                .borrow()
                .iter()
                .map(|(k, x)| Ok((k.clone(), deep_copy_value(x, depth + 1)?)))
                .collect::<Result<BTreeMap<_, _>, CallError>>()?;
            Value::Map(Rc::new(RefCell::new(copy)), *ty)
        }
        other => other.clone(),
    })
}

pub(super) fn deep_copy(a: Vec<Value>) -> CallResult {
    deep_copy_value(&a[0], 0)
}

pub(super) fn type_of(a: Vec<Value>) -> CallResult {
    string(match &a[0] {
        Value::Missing | Value::Nil => "<nil>",
        v => v.type_name(),
    })
}

pub(super) fn type_is(a: Vec<Value>) -> CallResult {
    let t = match &a[1] {
        Value::Missing | Value::Nil => "<nil>",
        v => v.type_name(),
    };
    Ok(Value::Bool(bytes_of(&a[0]) == t.as_bytes()))
}

pub(super) fn type_is_like(a: Vec<Value>) -> CallResult {
    let t = match &a[1] {
        Value::Missing | Value::Nil => "<nil>",
        v => v.type_name(),
    };
    let target = bytes_of(&a[0]);
    Ok(Value::Bool(
        target == t.as_bytes() || [b"*", target].concat() == t.as_bytes(),
    ))
}

pub(super) fn kind_of(a: Vec<Value>) -> CallResult {
    string(a[0].kind_name())
}

pub(super) fn kind_is(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(bytes_of(&a[0]) == a[1].kind_name().as_bytes()))
}

pub(super) fn deep_equal_call(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(deep_equal(&a[0], &a[1])))
}

pub(super) fn fail(a: Vec<Value>) -> CallResult {
    let message = String::from_utf8_lossy(bytes_of(&a[0])).into_owned();
    Err(CallError::Fail(Zeroizing::new(message)))
}

pub(super) fn list(a: Vec<Value>) -> CallResult {
    Ok(Value::list(a))
}

fn copy_of(v: &Value, op: &str) -> Result<Vec<Value>, CallError> {
    Ok(elements(v, op)?.to_vec())
}

pub(super) fn push(a: Vec<Value>) -> CallResult {
    let mut items = copy_of(&a[0], "push")?;
    items.push(a[1].clone());
    Ok(Value::list(items))
}

pub(super) fn prepend(a: Vec<Value>) -> CallResult {
    let mut items = vec![a[1].clone()];
    items.extend(copy_of(&a[0], "prepend")?);
    Ok(Value::list(items))
}

pub(super) fn first(a: Vec<Value>) -> CallResult {
    Ok(elements(&a[0], "find first")?
        .first()
        .cloned()
        .unwrap_or(Value::Nil))
}

pub(super) fn last(a: Vec<Value>) -> CallResult {
    Ok(elements(&a[0], "find last")?
        .last()
        .cloned()
        .unwrap_or(Value::Nil))
}

pub(super) fn rest(a: Vec<Value>) -> CallResult {
    let items = elements(&a[0], "find rest")?;
    Ok(Value::list(items.get(1..).unwrap_or_default().to_vec()))
}

pub(super) fn initial(a: Vec<Value>) -> CallResult {
    let items = elements(&a[0], "find initial")?;
    Ok(Value::list(items[..items.len().saturating_sub(1)].to_vec()))
}

pub(super) fn reverse(a: Vec<Value>) -> CallResult {
    let mut items = copy_of(&a[0], "find reverse")?;
    items.reverse();
    Ok(Value::list(items))
}

pub(super) fn uniq(a: Vec<Value>) -> CallResult {
    let mut out: Vec<Value> = Vec::new();
    for item in elements(&a[0], "find uniq")? {
        if !out.iter().any(|x| deep_equal(x, item)) {
            out.push(item.clone());
        }
    }
    Ok(Value::list(out))
}

pub(super) fn without(a: Vec<Value>) -> CallResult {
    let omit = &a[1..];
    let items = elements(&a[0], "find without")?;
    Ok(Value::list(
        items
            .iter()
            .filter(|x| !omit.iter().any(|o| deep_equal(o, x)))
            .cloned()
            .collect(),
    ))
}

pub(super) fn has(a: Vec<Value>) -> CallResult {
    if matches!(a[1], Value::Nil | Value::Missing) {
        return Ok(Value::Bool(false));
    }
    let items = elements(&a[1], "find has")?;
    Ok(Value::Bool(items.iter().any(|x| deep_equal(&a[0], x))))
}

pub(super) fn slice(a: Vec<Value>) -> CallResult {
    let Value::List(items, ty) = &a[0] else {
        return err(format!(
            "list should be type of slice or array but {}",
            a[0].kind_name()
        ));
    };
    if items.is_empty() {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, to_int64);
    let end = a
        .get(2)
        .map_or(i64::try_from(items.len()).unwrap_or(i64::MAX), to_int64);
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if s <= e && e <= items.len() => {
            Ok(Value::List(Rc::new(items[s..e].to_vec()), *ty))
        }
        _ => err("reflect: slice index out of range"),
    }
}

pub(super) fn concat(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for l in &a {
        out.extend(
            elements(l, "concat type as list")
                .map_err(|_| {
                    CallError::Msg(format!("Cannot concat type {} as list", l.kind_name()))
                })?
                .iter()
                .cloned(),
        );
        if out.len() > MAX_ITEMS {
            return Err(CallError::TooLarge);
        }
    }
    if out.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(Value::list(out))
}

pub(super) fn chunk(a: Vec<Value>) -> CallResult {
    let size = int_of(&a[0]);
    let items = elements(&a[1], "chunk")?;
    let Ok(size) = usize::try_from(size) else {
        return err("runtime error: makeslice: len out of range");
    };
    if size == 0 {
        return err("runtime error: integer divide by zero");
    }
    let chunks: Vec<Value> = items
        .chunks(size)
        .map(|c| Value::list(c.to_vec()))
        .collect();
    if items.is_empty() {
        // Go computes one chunk of length 0 % size... of zero length.
        return Ok(Value::List(
            Rc::new(vec![Value::list(Vec::new())]),
            ListTy::Lists,
        ));
    }
    Ok(Value::List(Rc::new(chunks), ListTy::Lists))
}

pub(super) fn dict(a: Vec<Value>) -> CallResult {
    let mut m = BTreeMap::new();
    let mut it = a.chunks(2);
    for pair in it.by_ref() {
        let key = String::from_utf8_lossy(&strval(&pair[0])).into_owned();
        let v = pair
            .get(1)
            .cloned()
            .unwrap_or_else(|| Value::str(Vec::new()));
        m.insert(key, v);
    }
    Ok(Value::map(m))
}

fn map_of(v: &Value) -> Rc<RefCell<BTreeMap<String, Value>>> {
    match v {
        Value::Map(m, _) => Rc::clone(m),
        _ => Rc::default(),
    }
}

fn key_of(v: &Value) -> String {
    String::from_utf8_lossy(bytes_of(v)).into_owned()
}

pub(super) fn get(a: Vec<Value>) -> CallResult {
    Ok(map_of(&a[0])
        .borrow()
        .get(&key_of(&a[1]))
        .cloned()
        .unwrap_or_else(|| Value::str(Vec::new())))
}

pub(super) fn set(a: Vec<Value>) -> CallResult {
    let m = map_of(&a[0]);
    m.borrow_mut().insert(key_of(&a[1]), a[2].clone());
    Ok(Value::Map(m, MapTy::Any))
}

pub(super) fn unset(a: Vec<Value>) -> CallResult {
    let m = map_of(&a[0]);
    m.borrow_mut().remove(&key_of(&a[1]));
    Ok(Value::Map(m, MapTy::Any))
}

pub(super) fn has_key(a: Vec<Value>) -> CallResult {
    Ok(Value::Bool(
        map_of(&a[0]).borrow().contains_key(&key_of(&a[1])),
    ))
}

pub(super) fn pluck(a: Vec<Value>) -> CallResult {
    let key = key_of(&a[0]);
    Ok(Value::list(
        a[1..]
            .iter()
            .filter_map(|d| map_of(d).borrow().get(&key).cloned())
            .collect(),
    ))
}

pub(super) fn keys(a: Vec<Value>) -> CallResult {
    let mut out = Vec::new();
    for d in &a {
        out.extend(
            map_of(d)
                .borrow()
                .keys()
                .map(|k| Zeroizing::new(k.as_bytes().to_vec())),
        );
    }
    Ok(super::string_list(out))
}

pub(super) fn values(a: Vec<Value>) -> CallResult {
    Ok(Value::list(
        map_of(&a[0]).borrow().values().cloned().collect(),
    ))
}

pub(super) fn pick(a: Vec<Value>) -> CallResult {
    let m = map_of(&a[0]);
    let m = m.borrow();
    let out = a[1..]
        .iter()
        .filter_map(|k| {
            let k = key_of(k);
            m.get(&k).map(|v| (k, v.clone()))
        })
        .collect();
    Ok(Value::map(out))
}

pub(super) fn omit(a: Vec<Value>) -> CallResult {
    let drop: Vec<String> = a[1..].iter().map(key_of).collect();
    let out = map_of(&a[0])
        .borrow()
        .iter()
        .filter(|(k, _)| !drop.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Value::map(out))
}

/// mergo's deep merge of `src` into `dst`: nested maps merge; otherwise `dst` keeps
/// its value unless it is empty (or `overwrite` and `src`'s is not).
fn merge_into(
    dst: &Rc<RefCell<BTreeMap<String, Value>>>,
    src: &BTreeMap<String, Value>,
    overwrite: bool,
    depth: usize,
) {
    if depth > value::MAX_NESTING {
        return;
    }
    for (k, sv) in src {
        let current = dst.borrow().get(k).cloned();
        match (current, sv) {
            (Some(Value::Map(dm, MapTy::Any)), Value::Map(sm, MapTy::Any)) => {
                if !Rc::ptr_eq(&dm, sm) {
                    let sm = sm.borrow().clone();
                    merge_into(&dm, &sm, overwrite, depth + 1);
                }
            }
            (None, sv) => {
                dst.borrow_mut().insert(k.clone(), sv.clone());
            }
            (Some(dv), sv) => {
                if !dv.truthy() || (overwrite && sv.truthy()) {
                    dst.borrow_mut().insert(k.clone(), sv.clone());
                }
            }
        }
    }
}

fn merge_all(a: &[Value], overwrite: bool) -> CallResult {
    let dst = map_of(&a[0]);
    for s in &a[1..] {
        let src = map_of(s).borrow().clone();
        merge_into(&dst, &src, overwrite, 0);
    }
    Ok(Value::Map(dst, MapTy::Any))
}

pub(super) fn merge(a: Vec<Value>) -> CallResult {
    merge_all(&a, false)
}

pub(super) fn merge_overwrite(a: Vec<Value>) -> CallResult {
    merge_all(&a, true)
}

pub(super) fn dig(a: Vec<Value>) -> CallResult {
    if a.len() < 3 {
        return err("dig needs at least three arguments");
    }
    let Value::Map(dict, MapTy::Any) = &a[a.len() - 1] else {
        return err(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            a[a.len() - 1].type_name()
        ));
    };
    let default = a[a.len() - 2].clone();
    let mut keys = Vec::new();
    for k in &a[..a.len() - 2] {
        let Value::Str(s) = k else {
            return err(format!(
                "interface conversion: interface {{}} is {}, not string",
                k.type_name()
            ));
        };
        keys.push(String::from_utf8_lossy(s).into_owned());
    }
    let mut current = Rc::clone(dict);
    for (i, k) in keys.iter().enumerate() {
        let step = current.borrow().get(k).cloned();
        let Some(step) = step else {
            return Ok(default);
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        match step {
            Value::Map(m, MapTy::Any) => current = m,
            other => {
                return err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                ));
            }
        }
    }
    Ok(default)
}
