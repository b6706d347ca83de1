//! Template text → nodes. Lexing follows Go's `text/template/parse` for the subset
//! we support; what we do not support is named in the error.

use super::Pos;

/// Deepest nesting of parentheses and blocks; deeper input is refused rather than
/// risking the stack.
const MAX_DEPTH: usize = 100;

pub(super) enum Node {
    Text(String),
    Action(Pipeline),
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    With {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

pub(super) struct Pipeline {
    pub pos: Pos,
    pub commands: Vec<Command>,
}

pub(super) struct Command {
    pub args: Vec<Arg>,
}

pub(super) enum Arg {
    Dot,
    /// `(from $?, key)`.
    Field(bool, String),
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    Func(String),
    Sub(Pipeline),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Pipe,
    Str(String),
    Int(i64),
    Ident(String),
    Field(bool, String),
    Dot,
    Dollar,
    Declare,
}

enum Item {
    Text(String),
    Action(Pos, Vec<Tok>),
}

type PResult<T> = Result<T, (Pos, String)>;

fn pos_of(src: &str, offset: usize) -> Pos {
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |i| offset - i - 1);
    Pos { line, column }
}

fn lex(src: &str) -> PResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut rest = 0;
    let mut trim_next = false;
    while rest < src.len() {
        let Some(open) = src[rest..].find("{{").map(|i| i + rest) else {
            let mut text = &src[rest..];
            if trim_next {
                text = text.trim_start();
            }
            items.push(Item::Text(text.to_owned()));
            break;
        };
        let mut text = &src[rest..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut start = open + 2;
        let bytes = src.as_bytes();
        if bytes.get(start) == Some(&b'-')
            && bytes.get(start + 1).is_some_and(u8::is_ascii_whitespace)
        {
            text = text.trim_end();
            start += 1;
        }
        items.push(Item::Text(text.to_owned()));
        let pos = pos_of(src, open);
        let (toks, end, trim) = lex_action(src, start, pos)?;
        if let Some(toks) = toks {
            items.push(Item::Action(pos, toks));
        }
        trim_next = trim;
        rest = end;
    }
    Ok(items)
}

/// Lexes one action from `start` (after `{{` and any `-`): tokens (None for a
/// comment), the offset after `}}`, and whether `-}}` trims the next text.
fn lex_action(src: &str, start: usize, pos: Pos) -> PResult<(Option<Vec<Tok>>, usize, bool)> {
    let err = |m: &str| Err((pos, m.to_owned()));
    let body = &src[start..];
    let trimmed = body.trim_start();
    if let Some(comment) = trimmed.strip_prefix("/*") {
        let Some(close) = comment.find("*/") else {
            return err("unclosed comment");
        };
        let after = &comment[close + 2..];
        let after_ws = after.trim_start();
        let (trim, tail) = match after_ws.strip_prefix("-}}") {
            Some(t) => (true, t),
            None => match after.strip_prefix("}}") {
                Some(t) => (false, t),
                None => return err("comment ends before closing delimiter"),
            },
        };
        return Ok((None, src.len() - tail.len(), trim));
    }
    let b = src.as_bytes();
    let mut i = start;
    let mut toks = Vec::new();
    loop {
        let Some(&c) = b.get(i) else {
            return err("unclosed action");
        };
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                if b.get(i + 1) == Some(&b'-') && src[i + 2..].starts_with("}}") {
                    return Ok((Some(toks), i + 4, true));
                }
                i += 1;
            }
            b'}' if src[i..].starts_with("}}") => return Ok((Some(toks), i + 2, false)),
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b'|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            b'"' => {
                let (s, next) =
                    lex_quoted(src, i + 1).ok_or((pos, "unterminated quoted string".to_owned()))?;
                toks.push(Tok::Str(s));
                i = next;
            }
            b'`' => {
                let close = src[i + 1..]
                    .find('`')
                    .ok_or((pos, "unterminated raw quoted string".to_owned()))?;
                toks.push(Tok::Str(src[i + 1..i + 1 + close].to_owned()));
                i += close + 2;
            }
            b'$' | b'.' => {
                let dollar = c == b'$';
                let mut j = i + 1;
                if dollar && b.get(j) != Some(&b'.') {
                    if b.get(j)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        return err("variables other than $ are not supported");
                    }
                    toks.push(Tok::Dollar);
                    i = j;
                    continue;
                }
                if dollar {
                    j += 1;
                }
                let name_end = src[j..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(src.len(), |k| k + j);
                if name_end == j {
                    toks.push(if dollar { Tok::Dollar } else { Tok::Dot });
                } else {
                    if b.get(name_end) == Some(&b'.') {
                        return err("nested field access is not supported: the values are strings");
                    }
                    toks.push(Tok::Field(dollar, src[j..name_end].to_owned()));
                }
                i = name_end;
            }
            c if c.is_ascii_digit()
                || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let end = src[i + 1..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(src.len(), |k| k + i + 1);
                let n = src[i..end]
                    .parse()
                    .map_err(|_| (pos, "number out of range".to_owned()))?;
                toks.push(Tok::Int(n));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = src[i..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(src.len(), |k| k + i);
                toks.push(Tok::Ident(src[i..end].to_owned()));
                i = end;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err((pos, format!("unexpected {ch:?} in command")));
            }
        }
    }
}

/// A Go double-quoted string from just after the opening quote.
fn lex_quoted(src: &str, start: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = src[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, start + i + 1)),
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' => {
                        let n = if e == 'x' { 2 } else { 4 };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

enum End {
    Eof,
    Close,
    Else(Option<Pipeline>),
}

pub(super) fn parse(src: &str) -> PResult<Vec<Node>> {
    let items = lex(src)?;
    let mut i = 0;
    let (nodes, end) = list(&items, &mut i, 0)?;
    match end {
        (End::Eof, _) => Ok(nodes),
        (End::Close, pos) => Err((pos, "unexpected {{end}}".to_owned())),
        (End::Else(_), pos) => Err((pos, "unexpected {{else}}".to_owned())),
    }
}

fn list(items: &[Item], i: &mut usize, depth: usize) -> PResult<(Vec<Node>, (End, Pos))> {
    let mut nodes = Vec::new();
    while let Some(item) = items.get(*i) {
        *i += 1;
        let (pos, toks) = match item {
            Item::Text(t) => {
                if !t.is_empty() {
                    nodes.push(Node::Text(t.clone()));
                }
                continue;
            }
            Item::Action(pos, toks) => (*pos, toks.as_slice()),
        };
        if depth > MAX_DEPTH {
            return Err((pos, "template nested too deeply".to_owned()));
        }
        match toks.first() {
            Some(Tok::Ident(k)) if k == "end" => return Ok((nodes, (End::Close, pos))),
            Some(Tok::Ident(k)) if k == "else" => {
                let cond = match toks.get(1) {
                    Some(Tok::Ident(k)) if k == "if" => Some(pipeline(&toks[2..], pos, 0)?),
                    Some(_) => {
                        return Err((
                            pos,
                            "only {{else}} and {{else if}} are supported".to_owned(),
                        ));
                    }
                    None => None,
                };
                return Ok((nodes, (End::Else(cond), pos)));
            }
            Some(Tok::Ident(k)) if k == "if" => {
                let mut branches = vec![(pipeline(&toks[1..], pos, 0)?, Vec::new())];
                let otherwise = loop {
                    let (body, (end, _)) = list(items, i, depth + 1)?;
                    branches.last_mut().expect("an if has a branch").1 = body;
                    match end {
                        End::Close => break Vec::new(),
                        End::Else(Some(cond)) => branches.push((cond, Vec::new())),
                        End::Else(None) => break block_tail(items, i, depth, pos)?,
                        End::Eof => {
                            return Err((pos, "unexpected EOF: missing {{end}}".to_owned()));
                        }
                    }
                };
                nodes.push(Node::If {
                    branches,
                    otherwise,
                });
            }
            Some(Tok::Ident(k)) if k == "with" => {
                let pipe = pipeline(&toks[1..], pos, 0)?;
                let (body, (end, end_pos)) = list(items, i, depth + 1)?;
                let otherwise = match end {
                    End::Close => Vec::new(),
                    End::Else(None) => block_tail(items, i, depth, pos)?,
                    End::Else(Some(_)) => {
                        return Err((
                            end_pos,
                            "{{else if}} is not supported in {{with}}".to_owned(),
                        ));
                    }
                    End::Eof => return Err((pos, "unexpected EOF: missing {{end}}".to_owned())),
                };
                nodes.push(Node::With {
                    pipe,
                    body,
                    otherwise,
                });
            }
            Some(Tok::Ident(k))
                if ["range", "define", "template", "block", "break", "continue"]
                    .contains(&k.as_str()) =>
            {
                return Err((
                    pos,
                    format!("{{{{{k}}}}} is not supported in SealedSecret templates"),
                ));
            }
            _ => nodes.push(Node::Action(pipeline(toks, pos, 0)?)),
        }
    }
    Ok((nodes, (End::Eof, Pos { line: 0, column: 0 })))
}

/// The body after a plain `{{else}}`, up to `{{end}}`.
fn block_tail(items: &[Item], i: &mut usize, depth: usize, pos: Pos) -> PResult<Vec<Node>> {
    match list(items, i, depth + 1)? {
        (body, (End::Close, _)) => Ok(body),
        (_, (End::Eof, _)) => Err((pos, "unexpected EOF: missing {{end}}".to_owned())),
        (_, (End::Else(_), p)) => Err((p, "unexpected {{else}} after {{else}}".to_owned())),
    }
}

fn pipeline(toks: &[Tok], pos: Pos, depth: usize) -> PResult<Pipeline> {
    if depth > MAX_DEPTH {
        return Err((pos, "template nested too deeply".to_owned()));
    }
    if toks.contains(&Tok::Declare) {
        return Err((pos, "variables are not supported".to_owned()));
    }
    let mut commands = Vec::new();
    let mut args = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Pipe => {
                if args.is_empty() {
                    return Err((pos, "missing command before |".to_owned()));
                }
                commands.push(Command {
                    args: std::mem::take(&mut args),
                });
            }
            Tok::LParen => {
                let mut level = 0usize;
                let close = toks[i..]
                    .iter()
                    .position(|t| {
                        match t {
                            Tok::LParen => level += 1,
                            Tok::RParen => level -= 1,
                            _ => {}
                        }
                        level == 0
                    })
                    .ok_or((pos, "unclosed left paren".to_owned()))?;
                args.push(Arg::Sub(pipeline(&toks[i + 1..i + close], pos, depth + 1)?));
                i += close;
            }
            Tok::RParen => return Err((pos, "unexpected right paren".to_owned())),
            Tok::Str(s) => args.push(Arg::Str(s.clone())),
            Tok::Int(n) => args.push(Arg::Int(*n)),
            Tok::Dot => args.push(Arg::Dot),
            Tok::Dollar => args.push(Arg::Field(true, String::new())),
            Tok::Field(root, k) => args.push(Arg::Field(*root, k.clone())),
            Tok::Ident(k) => args.push(match k.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                name if super::funcs::exists(name) => Arg::Func(name.to_owned()),
                name => return Err((pos, format!("function {name:?} not defined"))),
            }),
            Tok::Declare => return Err((pos, "variables are not supported".to_owned())),
        }
        i += 1;
    }
    if args.is_empty() {
        return Err((pos, "missing value for command".to_owned()));
    }
    commands.push(Command { args });
    Ok(Pipeline { pos, commands })
}
