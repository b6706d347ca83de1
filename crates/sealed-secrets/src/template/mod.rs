//! Go's `text/template` with Sprig's functions, as upstream renders SealedSecret
//! `template.data`: `template.New(key).Funcs(sprig.GenericFuncMap() minus env,
//! expandenv, getHostByName).Parse(value)` executed over the decrypted values as a
//! `map[string]string`. The output is Go's byte for byte, `<no value>` for a
//! missing key included; `crates/sealed-secrets/tests/template-corpus.json` holds
//! Go's own results and `tests/e2e/tests/template_go.rs` keeps it honest.
//!
//! Where we differ, on purpose: work, output size, nesting and `{{template}}`
//! recursion are bounded (a template cannot hold the controller); error messages
//! never carry values (Go's sometimes do: `range can't iterate over hunter2`), and
//! `fail` shows its message only when the template spells it out; `genPrivateKey`
//! makes no DSA keys. Every Sprig function upstream allows is provided.

mod exec;
mod funcs;
mod gotime;
mod lex;
mod parse;
mod value;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use value::{MapTy, Value};

pub use gotime::Clock;

/// Why a template could not be parsed or executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}:{column}: {message}")]
pub struct TemplateError {
    name: String,
    line: usize,
    column: usize,
    message: String,
}

/// The values a template sees: key → decrypted bytes.
pub type Values = BTreeMap<String, Zeroizing<Vec<u8>>>;

/// Line (from 1) and column (byte offset in the line, from 0, as Go counts) of a
/// byte offset.
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let before = &src.as_bytes()[..offset.min(src.len())];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let column = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(before.len(), |i| before.len() - i - 1);
    (line, column)
}

/// Renders template `source` (named `name`, the `template.data` key) over `values`,
/// as upstream does: `template.New(name).Funcs(sprig).Parse(source)` executed with
/// the decrypted values as a `map[string]string`.
pub fn render(
    name: &str,
    source: &str,
    values: &Values,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    render_with_clock(name, source, values, &Clock::system())
}

/// [`render`] with `clock` as what `now` reads and what `Local` is: tests and
/// golden files pass [`Clock::fixed`].
pub fn render_with_clock(
    name: &str,
    source: &str,
    values: &Values,
    clock: &Clock,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let make = |offset: usize, message: String| {
        let (line, column) = line_column(source, offset);
        TemplateError {
            name: name.to_owned(),
            line,
            column,
            message,
        }
    };
    let tree = parse::parse(source, &funcs::exists).map_err(|(at, m)| make(at, m))?;
    let data: BTreeMap<String, Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), Value::Str(Rc::new(v.clone()))))
        .collect();
    let root = Value::Map(Rc::new(RefCell::new(data)), MapTy::Str);
    let mut exec = exec::Exec::new(&tree, source, root.clone(), clock);
    exec.set_dot(root).map_err(|e| {
        let message = format!("executing {name:?} at <{}>: {}", e.context, e.message);
        make(e.pos, message)
    })?;
    Ok(std::mem::take(&mut exec.out))
}

#[cfg(test)]
mod tests;
