//! A Go `text/template` subset with the Sprig functions people use in SealedSecret
//! `template.data` (upstream renders with Go templates plus Sprig's
//! `GenericFuncMap`, minus `env`, `expandenv` and `getHostByName`).
//!
//! Supported: text and actions with `{{-`/`-}}` trim markers, comments, `.key`,
//! `$.key`, `.`, pipelines, parentheses, string/raw/int/bool literals, `if`/`else
//! if`/`else`/`with`/`end`, and the functions in [`funcs`]. Anything else is a
//! parse error naming what is not supported.
//!
//! One deliberate difference: a missing key is an error (Go prints `<no value>`),
//! except under `default`, `empty`, `if` and `with`, because a typo would otherwise
//! produce a broken Secret silently. Error messages carry key names and positions,
//! never values.

mod funcs;
mod parse;

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use parse::{Arg, Command, Node, Pipeline};

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

/// A value during execution. Strings are bytes: secret values need not be UTF-8.
#[derive(Clone)]
enum Value {
    Str(Zeroizing<Vec<u8>>),
    Int(i64),
    Bool(bool),
    Nil,
    /// The root map (`.` or `$`).
    Root,
    /// A lookup of a key that does not exist.
    Missing(String),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) => *i != 0,
            Value::Bool(b) => *b,
            Value::Nil | Value::Missing(_) => false,
            Value::Root => true,
        }
    }

    fn str(s: impl Into<Vec<u8>>) -> Value {
        Value::Str(Zeroizing::new(s.into()))
    }
}

struct Exec<'a> {
    values: &'a Values,
    out: Zeroizing<Vec<u8>>,
}

/// Where an error happened, to build a [`TemplateError`].
#[derive(Debug, Clone, Copy)]
struct Pos {
    line: usize,
    column: usize,
}

type ExecResult<T> = Result<T, (Pos, String)>;

/// Renders template `source` (named `name`, the `template.data` key) over `values`.
pub fn render(
    name: &str,
    source: &str,
    values: &Values,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let make = |(pos, message): (Pos, String)| TemplateError {
        name: name.to_owned(),
        line: pos.line,
        column: pos.column,
        message,
    };
    let nodes = parse::parse(source).map_err(make)?;
    let mut exec = Exec {
        values,
        out: Zeroizing::new(Vec::new()),
    };
    exec.nodes(&nodes, &Value::Root).map_err(make)?;
    Ok(exec.out)
}

impl Exec<'_> {
    fn nodes(&mut self, nodes: &[Node], dot: &Value) -> ExecResult<()> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.extend_from_slice(t.as_bytes()),
                Node::Action(p) => {
                    let v = self.pipeline(p, dot)?;
                    self.print(&v, p.pos)?;
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.pipeline(cond, dot)?.truthy() {
                            self.nodes(body, dot)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.nodes(otherwise, dot)?;
                    }
                }
                Node::With {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let v = self.pipeline(pipe, dot)?;
                    if v.truthy() {
                        self.nodes(body, &v)?;
                    } else {
                        self.nodes(otherwise, dot)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn print(&mut self, v: &Value, pos: Pos) -> ExecResult<()> {
        let bytes = funcs::to_text(v).map_err(|m| (pos, m))?;
        if self.out.len() + bytes.len() > funcs::MAX_LEN {
            return Err((pos, funcs::too_large("template")));
        }
        self.out.extend_from_slice(&bytes);
        Ok(())
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &Value) -> ExecResult<Value> {
        let mut piped: Option<Value> = None;
        for cmd in &p.commands {
            piped = Some(self.command(cmd, dot, piped.take(), p.pos)?);
        }
        Ok(piped.unwrap_or(Value::Nil))
    }

    fn command(
        &mut self,
        cmd: &Command,
        dot: &Value,
        piped: Option<Value>,
        pos: Pos,
    ) -> ExecResult<Value> {
        if let Some(Arg::Func(name)) = cmd.args.first() {
            let mut args = Vec::with_capacity(cmd.args.len());
            for a in &cmd.args[1..] {
                args.push(self.arg(a, dot, pos)?);
            }
            args.extend(piped);
            return funcs::call(name, args, self.values).map_err(|m| (pos, m));
        }
        match (cmd.args.as_slice(), piped) {
            ([single], None) => self.arg(single, dot, pos),
            ([_], Some(_)) => Err((pos, "can't give argument to non-function".to_owned())),
            _ => Err((pos, "can't give argument to non-function".to_owned())),
        }
    }

    fn arg(&mut self, a: &Arg, dot: &Value, pos: Pos) -> ExecResult<Value> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Field(root, key) => {
                let base = if *root { &Value::Root } else { dot };
                if key.is_empty() {
                    return Ok(base.clone());
                }
                match base {
                    Value::Root => self.lookup(key),
                    _ => return Err((pos, format!("can't evaluate field {key} in a string"))),
                }
            }
            Arg::Str(s) => Value::str(s.as_bytes()),
            Arg::Int(i) => Value::Int(*i),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Nil => Value::Nil,
            Arg::Sub(p) => self.pipeline(p, dot)?,
            Arg::Func(name) => funcs::call(name, Vec::new(), self.values).map_err(|m| (pos, m))?,
        })
    }

    fn lookup(&self, key: &str) -> Value {
        match self.values.get(key) {
            Some(v) => Value::Str(v.clone()),
            None => Value::Missing(key.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
