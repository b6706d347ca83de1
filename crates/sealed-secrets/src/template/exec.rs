//! Executes a parsed tree as Go's `text/template/exec.go` does: variables and their
//! scopes, `if`/`with`/`range` truth, field chains through maps, argument
//! conversion to each function's parameter types, `<no value>` for a missing key.

use std::rc::Rc;

use zeroize::Zeroizing;

use super::funcs::{self, Func, Imp, Ty};
use super::gotime::{Clock, Loc, Time};
use super::parse::{Arg, Branch, Command, Node, Number, Pipeline, Tree};
use super::value::{self, Bytes, IntTy, ListTy, MapTy, Value};

/// Most work one template may do (nodes walked, range iterations, calls); beyond it
/// the template is refused rather than holding the controller.
const MAX_STEPS: usize = 1_000_000;
/// Deepest `{{template}}` recursion (Go allows 100,000; a Secret needs a few).
const MAX_TEMPLATE_DEPTH: usize = 100;

/// An execution error: where, the node text Go would show, the message.
pub(super) struct ExecError {
    pub pos: usize,
    pub context: String,
    pub message: String,
}

type R<T> = Result<T, ExecError>;

enum Flow {
    Normal,
    Break,
    Continue,
}

/// The parameters of the `time.Time` methods that take arguments and that we have.
fn time_method_params(name: &str) -> Option<&'static [Ty]> {
    Some(match name {
        "Format" => &[Ty::Str],
        "Add" | "Truncate" | "Round" => &[Ty::Duration],
        "Sub" | "After" | "Before" | "Equal" | "Compare" => &[Ty::Time],
        _ => return None,
    })
}

/// The methods without parameters of `time.Duration`, `time.Month`, `time.Weekday`.
fn stringer_method(n: i64, ty: IntTy, name: &str) -> Option<Value> {
    // Go's `Hours`, `Minutes`, `Seconds`: whole units plus the rest as a fraction.
    let units = |unit: i64| Value::Float((n / unit) as f64 + (n % unit) as f64 / unit as f64);
    Some(match (ty, name) {
        (_, "String") => Value::string(ty.text(n)),
        (IntTy::Duration, "Hours") => units(3_600_000_000_000),
        (IntTy::Duration, "Minutes") => units(60_000_000_000),
        (IntTy::Duration, "Seconds") => units(1_000_000_000),
        (IntTy::Duration, "Milliseconds") => Value::Int(n / 1_000_000, IntTy::Int64),
        (IntTy::Duration, "Microseconds") => Value::Int(n / 1_000, IntTy::Int64),
        (IntTy::Duration, "Nanoseconds") => Value::Int(n, IntTy::Int64),
        (IntTy::Duration, "Abs") => Value::Int(
            if n == i64::MIN { i64::MAX } else { n.abs() },
            IntTy::Duration,
        ),
        _ => return None,
    })
}

/// A `time.Time` method of [`time_method_params`] on arguments of its types.
fn time_call(t: &Time, name: &str, a: &[Value]) -> Value {
    let other = |i: usize| match &a[i] {
        Value::Time(u) => Some(u.clone()),
        _ => None,
    };
    let int = |i: usize| match &a[i] {
        Value::Int(n, _) => *n,
        _ => 0,
    };
    let time = |t: Time| Value::Time(Rc::new(t));
    match (name, other(0)) {
        ("Format", _) => Value::str(t.format(funcs::bytes_of(&a[0]))),
        ("Add", _) => time(t.add(int(0))),
        ("Truncate", _) => time(t.truncate(int(0), false)),
        ("Round", _) => time(t.truncate(int(0), true)),
        ("Sub", Some(u)) => Value::Int(t.sub(&u), IntTy::Duration),
        ("After", Some(u)) => Value::Bool(t.compare(&u).is_gt()),
        ("Before", Some(u)) => Value::Bool(t.compare(&u).is_lt()),
        ("Equal", Some(u)) => Value::Bool(t.compare(&u).is_eq()),
        ("Compare", Some(u)) => Value::int(t.compare(&u) as i64),
        _ => Value::Missing,
    }
}

/// Every exported method of Go's `time.Time`, to tell one we refuse from a name Go
/// does not know.
const TIME_METHODS: &[&str] = &[
    "Add",
    "AddDate",
    "After",
    "AppendBinary",
    "AppendFormat",
    "AppendText",
    "Before",
    "Clock",
    "Compare",
    "Date",
    "Day",
    "Equal",
    "Format",
    "GoString",
    "GobEncode",
    "Hour",
    "ISOWeek",
    "In",
    "IsDST",
    "IsZero",
    "Local",
    "Location",
    "MarshalBinary",
    "MarshalJSON",
    "MarshalText",
    "Minute",
    "Month",
    "Nanosecond",
    "Round",
    "Second",
    "String",
    "Sub",
    "Truncate",
    "UTC",
    "Unix",
    "UnixMicro",
    "UnixMilli",
    "UnixNano",
    "Weekday",
    "Year",
    "YearDay",
    "Zone",
    "ZoneBounds",
];

pub(super) struct Exec<'t> {
    tree: &'t Tree,
    /// The template source, to tell literal text from values in `fail` messages.
    source: &'t str,
    vars: Vec<(String, Value)>,
    pub out: Bytes,
    steps: usize,
    depth: usize,
    /// The node being evaluated, for error messages.
    pos: usize,
    context: String,
    /// What `now` reads and what `Local` is.
    clock: &'t Clock,
}

impl<'t> Exec<'t> {
    pub(super) fn new(tree: &'t Tree, source: &'t str, data: Value, clock: &'t Clock) -> Self {
        Exec {
            tree,
            source,
            vars: vec![("$".to_owned(), data)],
            out: Zeroizing::new(Vec::new()),
            steps: 0,
            depth: 0,
            pos: 0,
            context: String::new(),
            clock,
        }
    }

    fn fail<T>(&self, message: impl Into<String>) -> R<T> {
        Err(ExecError {
            pos: self.pos,
            context: self.context.clone(),
            message: message.into(),
        })
    }

    fn at_arg(&mut self, arg: &Arg) {
        self.pos = arg.pos();
        self.context = arg_text(arg);
    }

    fn at_cmd(&mut self, cmd: &Command) {
        self.pos = cmd.pos;
        self.context = command_text(cmd);
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.fail(format!(
                "the template does too much work (over {MAX_STEPS} steps)"
            ));
        }
        Ok(())
    }

    pub(super) fn set_dot(&mut self, dot: Value) -> R<()> {
        let root = &self.tree.root;
        self.walk_list(&dot, root).map(|_| ())
    }

    fn walk_list(&mut self, dot: &Value, list: &[Node]) -> R<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node) -> R<Flow> {
        self.step()?;
        match node {
            Node::Text(t) => self.write(t.as_bytes())?,
            Node::Action(p) => {
                let v = self.pipeline(dot, p)?;
                if p.decl.is_empty() {
                    self.print(&v)?;
                }
            }
            Node::If(b) | Node::With(b) => {
                let mark = self.vars.len();
                let v = self.pipeline(dot, &b.pipe)?;
                let flow = if v.truthy() {
                    let inner = if matches!(node, Node::With(_)) {
                        &v
                    } else {
                        dot
                    };
                    self.walk_list(inner, &b.list)?
                } else {
                    self.walk_list(dot, &b.otherwise)?
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Range(b) => return self.range(dot, b),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Template { pos, name, pipe } => {
                self.pos = *pos;
                self.context = format!("{{{{template {name:?}}}}}");
                let Some(body) = self.tree.defines.get(name).map(Rc::clone) else {
                    return self.fail(format!("no such template {name:?}"));
                };
                if self.depth >= MAX_TEMPLATE_DEPTH {
                    return self.fail(format!(
                        "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
                    ));
                }
                let new_dot = match pipe {
                    Some(p) => self.pipeline(dot, p)?,
                    None => Value::Missing,
                };
                let saved =
                    std::mem::replace(&mut self.vars, vec![("$".to_owned(), new_dot.clone())]);
                self.depth += 1;
                let r = self.walk_list(&new_dot, &body);
                self.depth -= 1;
                self.vars = saved;
                r?;
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, dot: &Value, b: &Branch) -> R<Flow> {
        let outer = self.vars.len();
        let v = self.pipeline(dot, &b.pipe)?;
        // The pipeline's declarations stay in scope (the else branch sees the value
        // ranged over); each iteration overwrites them.
        let mark = self.vars.len();
        let items: Vec<(Value, Value)> = match &v {
            Value::List(items, _) => items
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::int(i64::try_from(i).unwrap_or(i64::MAX)), x.clone()))
                .collect(),
            Value::Map(m, _) => m
                .borrow()
                .iter()
                .map(|(k, x)| (Value::str(k.as_bytes()), x.clone()))
                .collect(),
            Value::Int(n, ty) => {
                if b.pipe.decl.len() > 1 {
                    return self
                        .fail("can't use an integer to iterate over more than one variable");
                }
                let n = usize::try_from(*n).unwrap_or(0);
                if n > MAX_STEPS {
                    return self.fail(format!(
                        "the template does too much work (over {MAX_STEPS} steps)"
                    ));
                }
                (0..n)
                    .map(|i| {
                        (
                            Value::Missing,
                            Value::Int(i64::try_from(i).unwrap_or(i64::MAX), *ty),
                        )
                    })
                    .collect()
            }
            Value::Missing | Value::Nil => Vec::new(),
            other => return self.fail(format!("range can't iterate over {}", describe(other))),
        };
        if items.is_empty() {
            let flow = self.walk_list(dot, &b.otherwise)?;
            self.vars.truncate(outer);
            return Ok(flow);
        }
        for (key, elem) in items {
            self.step()?;
            let decl = &b.pipe.decl;
            if b.pipe.is_assign {
                let targets: Vec<(&String, Value)> = match decl.as_slice() {
                    [one] => vec![(one, elem.clone())],
                    [k, v, ..] => vec![(k, key.clone()), (v, elem.clone())],
                    [] => Vec::new(),
                };
                for (name, value) in targets {
                    if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                        slot.1 = value;
                    }
                }
            } else {
                if !decl.is_empty() {
                    self.vars[mark - 1].1 = elem.clone();
                }
                if decl.len() > 1 {
                    self.vars[mark - 2].1 = key.clone();
                }
            }
            let flow = self.walk_list(&elem, &b.list)?;
            self.vars.truncate(mark);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(outer);
        Ok(Flow::Normal)
    }

    fn write(&mut self, bytes: &[u8]) -> R<()> {
        if self.out.len() + bytes.len() > funcs::MAX_LEN {
            return self.fail(funcs::too_large("template"));
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn print(&mut self, v: &Value) -> R<()> {
        if matches!(v, Value::Missing) {
            return self.write(b"<no value>");
        }
        let text = value::to_text(v);
        self.write(&text)
    }

    fn pipeline(&mut self, dot: &Value, p: &Pipeline) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &p.cmds {
            let v = self.command(dot, cmd, value.take())?;
            // Go digs a nil interface{} down to the invalid value.
            value = Some(if matches!(v, Value::Nil) {
                Value::Missing
            } else {
                v
            });
        }
        let value = value.unwrap_or(Value::Missing);
        for name in &p.decl {
            if p.is_assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => return self.fail(format!("undefined variable: {name}")),
                }
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&mut self, cmd: &Command, final_: &Option<Value>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            self.at_arg(&cmd.args[0]);
            let s = arg_text(&cmd.args[0]);
            return self.fail(format!("can't give argument to non-function {s}"));
        }
        Ok(())
    }

    fn command(&mut self, dot: &Value, cmd: &Command, final_: Option<Value>) -> R<Value> {
        self.step()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field(_, fields) => {
                self.at_arg(first);
                self.method_chain(dot, dot.clone(), fields, cmd, final_)
            }
            Arg::Chain(_, inner, fields) => {
                let base = self.chain_base(dot, inner)?;
                self.at_arg(first);
                self.method_chain(dot, base, fields, cmd, final_)
            }
            Arg::Variable(_, name, fields) => {
                let v = self.var(name, first)?;
                if fields.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                self.at_arg(first);
                self.method_chain(dot, v, fields, cmd, final_)
            }
            Arg::Func(_, name) => self.call(dot, name, cmd, final_),
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                self.pipeline(dot, p)
            }
            Arg::Bool(_, b) => {
                self.not_a_function(cmd, &final_)?;
                Ok(Value::Bool(*b))
            }
            Arg::Dot(_) => {
                self.not_a_function(cmd, &final_)?;
                Ok(dot.clone())
            }
            Arg::Nil(_) => {
                self.at_arg(first);
                self.fail("nil is not a command")
            }
            Arg::Number(_, n) => {
                self.not_a_function(cmd, &final_)?;
                self.at_arg(first);
                self.ideal(n)
            }
            Arg::Str(_, s) => {
                self.not_a_function(cmd, &final_)?;
                Ok(Value::str(s.as_bytes()))
            }
        }
    }

    fn chain_base(&mut self, dot: &Value, inner: &Arg) -> R<Value> {
        if matches!(inner, Arg::Nil(_)) {
            self.at_arg(inner);
            return self.fail("indirection through explicit nil");
        }
        self.arg(dot, Ty::Any, inner)
    }

    fn var(&mut self, name: &str, at: &Arg) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => {
                self.at_arg(at);
                self.fail(format!("undefined variable: {name}"))
            }
        }
    }

    /// A command that starts with a field chain: its last name may be a method of a
    /// `time.Time` called with the command's other arguments (Go's `evalCall`).
    fn method_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        fields: &[String],
        cmd: &Command,
        final_: Option<Value>,
    ) -> R<Value> {
        let args = &cmd.args[1..];
        let got = args.len() + usize::from(final_.is_some());
        let Some((last, init)) = fields.split_last() else {
            return Ok(receiver);
        };
        let receiver = self.field_chain(receiver, init)?;
        let Value::Time(t) = &receiver else {
            return self.field(receiver, last, got);
        };
        let Some(params) = time_method_params(last) else {
            return self.time_method(t, last, got);
        };
        if got != params.len() {
            return self.fail(format!(
                "wrong number of args for {last}: want {} got {got}",
                params.len()
            ));
        }
        let mut argv = Vec::with_capacity(got);
        for (a, ty) in args.iter().zip(params) {
            argv.push(self.arg(dot, *ty, a)?);
        }
        if let Some(f) = final_ {
            self.at_cmd(cmd);
            argv.push(self.validate(f, params[got - 1])?);
        }
        self.at_cmd(cmd);
        self.step()?;
        match time_call(t, last, &argv) {
            Value::Str(s) if s.len() > funcs::MAX_LEN => self.fail(funcs::too_large(last)),
            v => Ok(v),
        }
    }

    /// Fields and methods read without arguments, left to right.
    fn field_chain(&mut self, mut receiver: Value, fields: &[String]) -> R<Value> {
        for name in fields {
            receiver = self.field(receiver, name, 0)?;
        }
        Ok(receiver)
    }

    /// Field or argument-less method `name` of `receiver`, which a command gives
    /// `nargs` arguments (Go refuses any for a field).
    fn field(&mut self, receiver: Value, name: &str, nargs: usize) -> R<Value> {
        let has_args = nargs > 0;
        match receiver {
            Value::Missing => Ok(Value::Missing),
            Value::Nil => self.fail(format!("nil pointer evaluating interface {{}}.{name}")),
            Value::Map(m, _) => {
                if has_args {
                    return self.fail(format!("{name} is not a method but has arguments"));
                }
                Ok(m.borrow().get(name).cloned().unwrap_or(Value::Missing))
            }
            // The methods of `*semver.Version` that take no argument.
            Value::Semver(v) if !has_args => Ok(match name {
                "Major" => Value::Int(v.major as i64, IntTy::Uint64),
                "Minor" => Value::Int(v.minor as i64, IntTy::Uint64),
                "Patch" => Value::Int(v.patch as i64, IntTy::Uint64),
                "Prerelease" => Value::str(v.pre.as_bytes()),
                "Metadata" => Value::str(v.metadata.as_bytes()),
                "Original" => Value::str(v.original.as_bytes()),
                "String" => Value::string(v.text()),
                _ => {
                    return self.fail(format!(
                        "can't evaluate field {name} in type *semver.Version"
                    ));
                }
            }),
            Value::Time(t) => self.time_method(&t, name, nargs),
            // Sprig's `certificate` struct: two exported string fields.
            Value::Cert(c) => match name {
                _ if has_args && matches!(name, "Cert" | "Key") => self.fail(format!(
                    "{name} has arguments but cannot be invoked as function"
                )),
                "Cert" => Ok(Value::Str(Rc::new(c.cert.clone()))),
                "Key" => Ok(Value::Str(Rc::new(c.key.clone()))),
                _ => self.fail(format!(
                    "can't evaluate field {name} in type {}",
                    funcs::certs::TYPE_NAME
                )),
            },
            Value::Int(n, ty) if ty.is_stringer() => match stringer_method(n, ty, name) {
                Some(v) if !has_args => Ok(v),
                Some(_) => self.fail(format!(
                    "wrong number of args for {name}: want 0 got {nargs}"
                )),
                None if ty == IntTy::Duration && matches!(name, "Round" | "Truncate") => {
                    self.fail(format!(
                        "the method {name} of time.Duration is not supported (docs/templates.md)"
                    ))
                }
                None => self.fail(format!(
                    "can't evaluate field {name} in type {}",
                    Value::Int(n, ty).type_name()
                )),
            },
            other => self.fail(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            )),
        }
    }

    /// The methods of `time.Time` that take no argument, called with `nargs`; those
    /// with parameters are [`time_method_params`], and the rest (`In`, `Zone`, …) are
    /// refused by name.
    fn time_method(&self, t: &Time, name: &str, nargs: usize) -> R<Value> {
        let int = |i: i64| Value::Int(i, IntTy::Int);
        let int64 = |i: i64| Value::Int(i, IntTy::Int64);
        let nanos = t.unix_nanos();
        let v = match name {
            "Year" => Some(int(t.year())),
            "Month" => Some(Value::Int(t.month(), IntTy::Month)),
            "Weekday" => Some(Value::Int(t.weekday(), IntTy::Weekday)),
            "YearDay" => Some(int(t.yday())),
            "Day" => Some(int(t.day())),
            "Hour" => Some(int(t.hour())),
            "Minute" => Some(int(t.minute())),
            "Second" => Some(int(t.second())),
            "Nanosecond" => Some(int(t.nanosecond())),
            "Unix" => Some(int64(t.unix())),
            "UnixMilli" => Some(int64(nanos.div_euclid(1_000_000) as i64)),
            "UnixMicro" => Some(int64(nanos.div_euclid(1_000) as i64)),
            // Go's `UnixNano` wraps outside 1678..2262.
            "UnixNano" => Some(int64(nanos as i64)),
            "IsZero" => Some(Value::Bool(t.is_zero())),
            "String" => Some(Value::string(t.text())),
            "UTC" => Some(Value::Time(Rc::new(t.in_loc(Loc::Utc)))),
            "Local" => Some(Value::Time(Rc::new(t.in_loc(self.clock.local())))),
            _ => None,
        };
        match v {
            Some(v) if nargs == 0 => Ok(v),
            Some(_) => self.fail(format!(
                "wrong number of args for {name}: want 0 got {nargs}"
            )),
            None if TIME_METHODS.contains(&name) => self.fail(format!(
                "the method {name} of time.Time is not supported (docs/templates.md)"
            )),
            None => self.fail(format!("can't evaluate field {name} in type time.Time")),
        }
    }

    /// A number literal where any type will do: Go's `idealConstant`.
    fn ideal(&self, n: &Number) -> R<Value> {
        let text = &n.text;
        if !n.int_like
            && text.contains(['.', 'e', 'E'])
            && let Some(f) = n.float
        {
            return Ok(Value::Float(f));
        }
        match n.int {
            Some(i) => Ok(Value::int(i)),
            None if n.float.is_some() && !n.int_like && !text.contains(['.', 'e', 'E']) => {
                self.fail(format!("{text} overflows int"))
            }
            None => match n.float {
                Some(f) => Ok(Value::Float(f)),
                None => self.fail(format!("{text} overflows int")),
            },
        }
    }

    /// Evaluates an argument for a parameter of type `ty` (Go's `evalArg`).
    fn arg(&mut self, dot: &Value, ty: Ty, a: &Arg) -> R<Value> {
        self.at_arg(a);
        let v = match a {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                return match ty {
                    Ty::Any | Ty::Value => Ok(Value::Nil),
                    Ty::MapAny => Ok(Value::Map(Rc::default(), MapTy::Any)),
                    Ty::ListAny => Ok(Value::List(Rc::default(), ListTy::Any)),
                    _ => self.fail(format!("cannot assign nil to {}", ty.go_name())),
                };
            }
            Arg::Field(_, fields) => self.field_chain(dot.clone(), fields)?,
            Arg::Variable(_, name, fields) => {
                let v = self.var(name, a)?;
                self.at_arg(a);
                self.field_chain(v, fields)?
            }
            Arg::Pipe(p) => self.pipeline(dot, p)?,
            Arg::Func(_, name) => {
                let cmd = Command {
                    pos: a.pos(),
                    args: vec![Arg::Func(a.pos(), name.clone())],
                };
                self.call(dot, name, &cmd, None)?
            }
            Arg::Chain(_, inner, fields) => {
                let base = self.chain_base(dot, inner)?;
                self.at_arg(a);
                self.field_chain(base, fields)?
            }
            Arg::Bool(_, b) => {
                return match ty {
                    Ty::Any | Ty::Value | Ty::Bool => Ok(Value::Bool(*b)),
                    _ => self.literal_mismatch(ty, a),
                };
            }
            Arg::Str(_, s) => {
                return match ty {
                    Ty::Any | Ty::Value | Ty::Str => Ok(Value::str(s.as_bytes())),
                    _ => self.literal_mismatch(ty, a),
                };
            }
            Arg::Number(_, n) => {
                return match ty {
                    Ty::Any | Ty::Value => self.ideal(n),
                    Ty::Int => match n.int {
                        Some(i) => Ok(Value::int(i)),
                        None => self.fail(format!("expected integer; found {}", n.text)),
                    },
                    Ty::Duration => match n.int {
                        Some(i) => Ok(Value::Int(i, IntTy::Duration)),
                        None => self.fail(format!("expected integer; found {}", n.text)),
                    },
                    Ty::Float => match n.float {
                        Some(f) => Ok(Value::Float(f)),
                        None => self.fail(format!("expected float; found {}", n.text)),
                    },
                    _ => self.literal_mismatch(ty, a),
                };
            }
        };
        self.at_arg(a);
        self.validate(v, ty)
    }

    fn literal_mismatch<T>(&self, ty: Ty, a: &Arg) -> R<T> {
        let found = arg_text(a);
        match ty {
            Ty::Bool => self.fail(format!("expected bool; found {found}")),
            Ty::Int | Ty::Duration => self.fail(format!("expected integer; found {found}")),
            Ty::Float => self.fail(format!("expected float; found {found}")),
            Ty::Str => self.fail(format!("expected string; found {found}")),
            _ => self.fail(format!(
                "can't handle {found} for arg of type {}",
                ty.go_name()
            )),
        }
    }

    /// Go's `validateType`: may a value of this type be passed as `ty`?
    fn validate(&self, v: Value, ty: Ty) -> R<Value> {
        match (ty, v) {
            (Ty::Value, v) => Ok(v),
            (Ty::Any, Value::Missing) => Ok(Value::Nil),
            (Ty::Any, v) => Ok(v),
            (Ty::MapAny, Value::Missing) => Ok(Value::Map(Rc::default(), MapTy::Any)),
            (Ty::ListAny, Value::Missing) => Ok(Value::List(Rc::default(), ListTy::Any)),
            (_, Value::Missing) => self.fail(format!("invalid value; expected {}", ty.go_name())),
            (Ty::Str, v @ Value::Str(_))
            | (Ty::Int, v @ Value::Int(_, super::value::IntTy::Int))
            | (Ty::Float, v @ Value::Float(_))
            | (Ty::Bool, v @ Value::Bool(_))
            | (Ty::MapAny, v @ Value::Map(_, MapTy::Any))
            | (Ty::ListAny, v @ Value::List(_, ListTy::Any))
            | (Ty::Duration, v @ Value::Int(_, IntTy::Duration))
            | (Ty::Time, v @ Value::Time(_))
            | (Ty::Cert, v @ Value::Cert(_)) => Ok(v),
            (ty, v) => {
                let got = if matches!(v, Value::Nil) {
                    "interface {}"
                } else {
                    v.type_name()
                };
                self.fail(format!(
                    "wrong type for value; expected {}; got {got}",
                    ty.go_name()
                ))
            }
        }
    }

    fn call(&mut self, dot: &Value, name: &str, cmd: &Command, final_: Option<Value>) -> R<Value> {
        let Some(func) = funcs::lookup(name) else {
            self.at_cmd(cmd);
            return self.fail(format!("{name:?} is not a defined function"));
        };
        let args = &cmd.args[1..];
        let num_in = args.len() + usize::from(final_.is_some());
        let fixed = func.fixed.len();
        self.at_cmd(cmd);
        match func.variadic {
            Some(_) if num_in < fixed => {
                return self.fail(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    args.len()
                ));
            }
            None if num_in != fixed => {
                return self.fail(format!(
                    "wrong number of args for {name}: want {fixed} got {num_in}"
                ));
            }
            _ => {}
        }
        if func.short_circuit {
            return self.and_or(dot, name == "or", args, final_);
        }
        let param = |i: usize| -> Ty {
            func.fixed
                .get(i)
                .copied()
                .or(func.variadic)
                .unwrap_or(Ty::Any)
        };
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.arg(dot, param(i), a)?);
        }
        if let Some(f) = final_ {
            self.at_cmd(cmd);
            argv.push(self.validate(f, param(args.len()))?);
        }
        self.at_cmd(cmd);
        self.call_func(func, argv)
    }

    fn call_func(&mut self, func: &Func, argv: Vec<Value>) -> R<Value> {
        self.steps += funcs::extra_cost(func.name);
        self.step()?;
        let result = match func.imp {
            Imp::Pure(imp) => imp(argv),
            Imp::Clock(imp) => imp(self.clock, argv),
        };
        match result {
            Ok(v) => {
                if let Value::Str(s) = &v
                    && s.len() > funcs::MAX_LEN
                {
                    return self.fail(funcs::too_large(func.name));
                }
                Ok(v)
            }
            Err(funcs::CallError::Fail(message)) => {
                // `fail`'s message is shown only when the template spells it out:
                // a message built from values could carry a secret into a condition.
                let shown = if self.source.contains(message.as_str()) {
                    message.to_string()
                } else {
                    "(a message built from values, not shown)".to_owned()
                };
                self.fail(format!("error calling fail: {shown}"))
            }
            Err(funcs::CallError::Msg(m)) => self.fail(format!("error calling {}: {m}", func.name)),
            Err(funcs::CallError::TooLarge) => self.fail(funcs::too_large(func.name)),
        }
    }

    fn and_or(&mut self, dot: &Value, or: bool, args: &[Arg], final_: Option<Value>) -> R<Value> {
        let mut v = Value::Missing;
        for a in args {
            v = self.arg(dot, Ty::Value, a)?;
            if v.truthy() == or {
                return Ok(v);
            }
        }
        if let Some(f) = final_ {
            v = f;
        }
        Ok(v)
    }
}

/// How Go's `range can't iterate over %v` shows a value, without the value itself.
fn describe(v: &Value) -> String {
    match v {
        Value::Str(_) => "a string".to_owned(),
        other => format!("a {}", other.type_name()),
    }
}

/// A node as Go prints it in error contexts: whole (Go 1.26, which upstream v0.36.6
/// requires, no longer cuts it at 20 bytes). It is template text, never a value.
fn arg_text(a: &Arg) -> String {
    match a {
        Arg::Dot(_) => ".".to_owned(),
        Arg::Nil(_) => "nil".to_owned(),
        Arg::Bool(_, b) => b.to_string(),
        Arg::Number(_, n) => n.text.clone(),
        Arg::Str(_, s) => format!("{s:?}"),
        Arg::Field(_, f) => f.iter().map(|x| format!(".{x}")).collect(),
        Arg::Variable(_, v, f) => {
            let mut s = v.clone();
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
        Arg::Func(_, name) => name.clone(),
        Arg::Chain(_, inner, f) => {
            let mut s = arg_text(inner);
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
        Arg::Pipe(p) => format!("({})", pipeline_text(p)),
    }
}

fn command_text(c: &Command) -> String {
    c.args.iter().map(arg_text).collect::<Vec<_>>().join(" ")
}

fn pipeline_text(p: &Pipeline) -> String {
    let mut s = String::new();
    if !p.decl.is_empty() {
        s.push_str(&p.decl.join(", "));
        s.push_str(if p.is_assign { " = " } else { " := " });
    }
    s.push_str(
        &p.cmds
            .iter()
            .map(command_text)
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s
}
