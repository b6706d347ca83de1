//! Items → a tree, as Go's `text/template/parse/parse.go` builds it, with the same
//! checks at parse time (undefined functions and variables, `{{break}}` outside
//! `{{range}}`, non-executable pipeline stages).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::lex::{self, Item, Kind};

/// Deepest nesting of parentheses and blocks; deeper input is refused rather than
/// risking the stack.
const MAX_DEPTH: usize = 100;

/// A parse error at a byte offset.
pub(super) type ParseError = (usize, String);

pub(super) struct Tree {
    pub root: Vec<Node>,
    /// `{{define}}` and `{{block}}` bodies by name.
    pub defines: BTreeMap<String, Rc<Vec<Node>>>,
}

pub(super) enum Node {
    Text(String),
    Action(Pipeline),
    If(Branch),
    With(Branch),
    Range(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipeline>,
    },
    Break,
    Continue,
}

pub(super) struct Branch {
    pub pipe: Pipeline,
    pub list: Vec<Node>,
    pub otherwise: Vec<Node>,
}

pub(super) struct Pipeline {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

pub(super) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

pub(super) struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// A character constant or hex integer: an `int` even where a float would do.
    pub int_like: bool,
}

pub(super) enum Arg {
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number(usize, Number),
    Str(usize, String),
    /// `.a.b`
    Field(usize, Vec<String>),
    /// `$x.a.b` (`$` is the root).
    Variable(usize, String, Vec<String>),
    Func(usize, String),
    /// `(pipeline).a.b`
    Chain(usize, Box<Arg>, Vec<String>),
    Pipe(Pipeline),
}

impl Arg {
    pub(super) fn pos(&self) -> usize {
        match self {
            Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::Str(p, _)
            | Arg::Field(p, _)
            | Arg::Variable(p, ..)
            | Arg::Func(p, _)
            | Arg::Chain(p, ..) => *p,
            Arg::Pipe(p) => p.pos,
        }
    }
}

struct Parser<'a> {
    items: &'a [Item],
    at: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    defines: BTreeMap<String, Rc<Vec<Node>>>,
    has_func: &'a dyn Fn(&str) -> bool,
}

enum Ended {
    End,
    Else(usize),
}

/// Parses template `src`; `has_func` says which function names exist.
pub(super) fn parse(src: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Tree, ParseError> {
    let items = lex::lex(src)?;
    let mut p = Parser {
        items: &items,
        at: 0,
        vars: vec!["$".to_owned()],
        range_depth: 0,
        depth: 0,
        defines: BTreeMap::new(),
        has_func,
    };
    let mut root = Vec::new();
    while p.peek_kind() != Kind::Eof {
        if p.peek_kind() == Kind::LeftDelim && p.peek_non_space_after_delim() == Kind::Define {
            p.next();
            p.next_non_space();
            p.definition()?;
            continue;
        }
        match p.text_or_action()? {
            Parsed::Node(n) => root.push(n),
            Parsed::End(pos) => return Err((pos, "unexpected {{end}}".to_owned())),
            Parsed::Else(pos) => return Err((pos, "unexpected {{else}}".to_owned())),
        }
    }
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

enum Parsed {
    Node(Node),
    End(usize),
    Else(usize),
}

fn unquote(item: &Item) -> Result<String, ParseError> {
    let v = &item.val;
    if item.kind == Kind::RawString {
        // Go drops carriage returns from raw strings.
        return Ok(v[1..v.len() - 1].replace('\r', ""));
    }
    unquote_go(&v[1..v.len() - 1], '"').ok_or((item.pos, "invalid syntax".to_owned()))
}

/// Go's `strconv.Unquote` body for a `"` string or a `'` character.
pub(super) fn unquote_go(s: &str, quote: char) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' if quote == '\'' => out.push('\''),
            '"' if quote == '"' => out.push('"'),
            '0'..='7' => {
                let mut n = e.to_digit(8)?;
                for _ in 0..2 {
                    n = n * 8 + chars.next()?.to_digit(8)?;
                }
                if n > 255 {
                    return None;
                }
                // An octal or \x escape is a byte; we keep templates as text, so a
                // byte above 0x7f becomes its Latin-1 character.
                out.push(char::from_u32(n)?);
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut n = 0u32;
                for _ in 0..len {
                    n = n * 16 + chars.next()?.to_digit(16)?;
                }
                out.push(char::from_u32(n)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A hexadecimal float body after `0x`: `1.8p3` is 1.5 × 2³.
fn hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = s.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

fn parse_number(item: &Item) -> Result<Number, ParseError> {
    let text = item.val.clone();
    let err = |m: String| Err((item.pos, m));
    if item.kind == Kind::CharConstant {
        let inner = unquote_go(&text[1..text.len() - 1], '\'')
            .ok_or((item.pos, format!("malformed character constant: {text}")))?;
        let mut cs = inner.chars();
        let (Some(c), None) = (cs.next(), cs.next()) else {
            return err(format!("malformed character constant: {text}"));
        };
        let n = i64::from(u32::from(c));
        return Ok(Number {
            text,
            int: Some(n),
            float: Some(n as f64),
            int_like: true,
        });
    }
    if text.ends_with('i') {
        return err(format!("complex numbers are not supported: {text}"));
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = body.to_ascii_lowercase();
    let radix_int = if let Some(h) = lower.strip_prefix("0x") {
        (!h.contains(['.', 'p'])).then(|| i128::from_str_radix(h, 16))
    } else if let Some(o) = lower.strip_prefix("0o") {
        Some(i128::from_str_radix(o, 8))
    } else if let Some(b) = lower.strip_prefix("0b") {
        Some(i128::from_str_radix(b, 2))
    } else if !lower.contains(['.', 'e']) {
        if lower.len() > 1 && lower.starts_with('0') {
            Some(i128::from_str_radix(&lower[1..], 8))
        } else {
            Some(lower.parse::<i128>())
        }
    } else {
        None
    };
    let int_like = lower.starts_with("0x");
    if let Some(parsed) = radix_int {
        let Ok(v) = parsed else {
            return err(format!("illegal number syntax: {text:?}"));
        };
        let v = if neg { -v } else { v };
        let Ok(i) = i64::try_from(v) else {
            // Go: too large for an int64 but a valid unsigned or float literal.
            if v > 0 && v <= i128::from(u64::MAX) {
                return Ok(Number {
                    text,
                    int: None,
                    float: Some(v as f64),
                    int_like,
                });
            }
            return err(format!("integer overflow: {text:?}"));
        };
        return Ok(Number {
            text,
            int: Some(i),
            float: Some(i as f64),
            int_like,
        });
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        let f = hex_float(hex).ok_or((item.pos, format!("illegal number syntax: {text:?}")))?;
        let f = if neg { -f } else { f };
        let int = (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
        return Ok(Number {
            text,
            int,
            float: Some(f),
            int_like: false,
        });
    }
    let f: f64 = clean
        .parse()
        .map_err(|_| (item.pos, format!("illegal number syntax: {text:?}")))?;
    let int = (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
    Ok(Number {
        text,
        int,
        float: Some(f),
        int_like: false,
    })
}

impl Parser<'_> {
    fn peek(&self) -> &Item {
        &self.items[self.at.min(self.items.len() - 1)]
    }

    fn peek_kind(&self) -> Kind {
        self.peek().kind
    }

    fn next(&mut self) -> Item {
        let item = self.peek().clone();
        if self.at < self.items.len() - 1 {
            self.at += 1;
        }
        item
    }

    fn backup(&mut self) {
        self.at -= 1;
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.kind != Kind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    /// The kind after a `{{` and any space, without moving.
    fn peek_non_space_after_delim(&self) -> Kind {
        self.items[self.at + 1..]
            .iter()
            .find(|i| i.kind != Kind::Space)
            .map_or(Kind::Eof, |i| i.kind)
    }

    fn unexpected(item: &Item, context: &str) -> ParseError {
        let what = match item.kind {
            Kind::Eof => "EOF".to_owned(),
            Kind::RightDelim => "\"}}\"".to_owned(),
            Kind::Space => "space".to_owned(),
            Kind::Block
            | Kind::Break
            | Kind::Continue
            | Kind::Define
            | Kind::Else
            | Kind::End
            | Kind::If
            | Kind::Range
            | Kind::Template
            | Kind::With => format!("<{}>", item.val),
            _ => format!("{:?}", item.val),
        };
        (item.pos, format!("unexpected {what} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Item, ParseError> {
        let item = self.next_non_space();
        if item.kind != kind {
            return Err(Self::unexpected(&item, context));
        }
        Ok(item)
    }

    fn deeper(&mut self, pos: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((pos, "template nested too deeply".to_owned()));
        }
        Ok(())
    }

    fn definition(&mut self) -> Result<(), ParseError> {
        let context = "define clause";
        let name_item = self.next_non_space();
        let name = self.template_name(&name_item, context)?;
        self.expect(Kind::RightDelim, context)?;
        // A definition is a template of its own: only `$` is in scope.
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if let Ended::Else(pos) = end {
            return Err((pos, "unexpected {{else}}".to_owned()));
        }
        self.add_define(name_item.pos, name, list)
    }

    fn add_define(&mut self, pos: usize, name: String, list: Vec<Node>) -> Result<(), ParseError> {
        // Go lets a later non-empty definition replace an empty one only.
        if let Some(old) = self.defines.get(&name) {
            if !is_empty(old) && !is_empty(&list) {
                return Err((
                    pos,
                    format!("template: multiple definition of template {name:?}"),
                ));
            }
            if is_empty(&list) {
                return Ok(());
            }
        }
        self.defines.insert(name, Rc::new(list));
        Ok(())
    }

    fn template_name(&self, item: &Item, context: &str) -> Result<String, ParseError> {
        match item.kind {
            Kind::String | Kind::RawString => unquote(item),
            _ => Err(Self::unexpected(item, context)),
        }
    }

    /// A list of nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> Result<(Vec<Node>, Ended), ParseError> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                Parsed::End(_) => return Ok((list, Ended::End)),
                Parsed::Else(pos) => return Ok((list, Ended::Else(pos))),
            }
        }
        let item = self.peek().clone();
        Err((item.pos, "unexpected EOF".to_owned()))
    }

    fn text_or_action(&mut self) -> Result<Parsed, ParseError> {
        let item = self.next_non_space();
        match item.kind {
            Kind::Text => Ok(Parsed::Node(Node::Text(item.val))),
            Kind::LeftDelim => self.action(),
            _ => Err(Self::unexpected(&item, "input")),
        }
    }

    fn action(&mut self) -> Result<Parsed, ParseError> {
        let item = self.next_non_space();
        let node = match item.kind {
            Kind::Block => self.block(&item)?,
            Kind::Break | Kind::Continue => {
                let word = &item.val;
                if self.range_depth == 0 {
                    return Err((item.pos, format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                self.expect(Kind::RightDelim, &format!("{{{{{word}}}}}"))?;
                if item.kind == Kind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            Kind::Else => {
                // `{{else if}}` and `{{else with}}` leave the keyword for the caller.
                let peek = self.peek_non_space();
                if !matches!(peek.kind, Kind::If | Kind::With) {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Parsed::Else(item.pos));
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Parsed::End(item.pos));
            }
            Kind::If => Node::If(self.control("if", item.pos)?),
            Kind::Range => Node::Range(self.control("range", item.pos)?),
            Kind::With => Node::With(self.control("with", item.pos)?),
            Kind::Template => self.template_call("template clause")?,
            _ => {
                self.backup();
                Node::Action(self.pipeline("command", Kind::RightDelim)?)
            }
        };
        Ok(Parsed::Node(node))
    }

    fn template_call(&mut self, context: &str) -> Result<Node, ParseError> {
        let name_item = self.next_non_space();
        let name = self.template_name(&name_item, context)?;
        let pipe = if self.next_non_space().kind == Kind::RightDelim {
            None
        } else {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        };
        Ok(Node::Template {
            pos: name_item.pos,
            name,
            pipe,
        })
    }

    fn block(&mut self, item: &Item) -> Result<Node, ParseError> {
        let context = "block clause";
        let name_item = self.next_non_space();
        let name = self.template_name(&name_item, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        self.deeper(item.pos)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.depth -= 1;
        if let Ended::Else(pos) = end {
            return Err((pos, "unexpected {{else}}".to_owned()));
        }
        self.add_define(name_item.pos, name.clone(), list)?;
        Ok(Node::Template {
            pos: name_item.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn control(&mut self, context: &str, pos: usize) -> Result<Branch, ParseError> {
        self.deeper(pos)?;
        let vars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut otherwise = Vec::new();
        if let Ended::Else(else_pos) = end {
            let peek = self.peek_non_space().kind;
            if context == "if" && peek == Kind::If {
                self.next_non_space();
                otherwise.push(Node::If(self.control("if", else_pos)?));
            } else if context == "with" && peek == Kind::With {
                self.next_non_space();
                otherwise.push(Node::With(self.control("with", else_pos)?));
            } else {
                let (list, end) = self.item_list()?;
                if let Ended::Else(p) = end {
                    return Err((p, "expected end; found {{else}}".to_owned()));
                }
                otherwise = list;
            }
        }
        self.vars.truncate(vars);
        self.depth -= 1;
        Ok(Branch {
            pipe,
            list,
            otherwise,
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipeline, ParseError> {
        let first = self.peek_non_space();
        let mut pipe = Pipeline {
            pos: first.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.at;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    break;
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => {
                                return Err((
                                    next.pos,
                                    "range can only initialize variables".to_owned(),
                                ));
                            }
                        }
                    }
                    return Err((next.pos, format!("too many declarations in {context}")));
                }
                _ => {
                    self.at = save;
                    break;
                }
            }
        }
        loop {
            let item = self.next_non_space();
            match item.kind {
                k if k == end => {
                    if pipe.cmds.is_empty() {
                        return Err((item.pos, format!("missing value for {context}")));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args.first(),
                            Some(
                                Arg::Bool(..)
                                    | Arg::Dot(_)
                                    | Arg::Nil(_)
                                    | Arg::Number(..)
                                    | Arg::Str(..)
                            )
                        ) {
                            return Err((
                                c.pos,
                                format!("non executable command in pipeline stage {}", i + 1),
                            ));
                        }
                    }
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(Self::unexpected(&item, context)),
            }
        }
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let item = self.next();
            match item.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(Self::unexpected(&item, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err((pos, "empty command".to_owned()));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> Result<Option<Arg>, ParseError> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        if self.peek_kind() != Kind::Field {
            return Ok(Some(term));
        }
        let mut fields = Vec::new();
        while self.peek_kind() == Kind::Field {
            fields.push(self.next().val[1..].to_owned());
        }
        Ok(Some(match term {
            Arg::Field(p, mut f) => {
                f.extend(fields);
                Arg::Field(p, f)
            }
            Arg::Variable(p, name, mut f) => {
                f.extend(fields);
                Arg::Variable(p, name, f)
            }
            Arg::Bool(p, _) | Arg::Str(p, _) | Arg::Number(p, _) | Arg::Nil(p) | Arg::Dot(p) => {
                return Err((p, "unexpected . after term".to_owned()));
            }
            other => Arg::Chain(other.pos(), Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>, ParseError> {
        let item = self.next_non_space();
        let pos = item.pos;
        Ok(Some(match item.kind {
            Kind::Identifier => {
                if !(self.has_func)(&item.val) {
                    return Err((pos, super::funcs::undefined_message(&item.val)));
                }
                Arg::Func(pos, item.val)
            }
            Kind::Dot => Arg::Dot(pos),
            Kind::Nil => Arg::Nil(pos),
            Kind::Variable => {
                if !self.vars.contains(&item.val) {
                    return Err((pos, format!("undefined variable {:?}", item.val)));
                }
                Arg::Variable(pos, item.val, Vec::new())
            }
            Kind::Field => Arg::Field(pos, vec![item.val[1..].to_owned()]),
            Kind::Bool => Arg::Bool(pos, item.val == "true"),
            Kind::CharConstant | Kind::Number => Arg::Number(pos, parse_number(&item)?),
            Kind::LeftParen => {
                self.deeper(pos)?;
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(p)
            }
            Kind::String | Kind::RawString => Arg::Str(pos, unquote(&item)?),
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's `IsEmptyTree`: only whitespace text.
fn is_empty(list: &[Node]) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}
