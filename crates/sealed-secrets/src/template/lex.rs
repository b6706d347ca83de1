//! Template text → items, as Go's `text/template/parse/lex.go` cuts it: text between
//! actions, and inside `{{ }}` spaces, punctuation, literals, fields, variables,
//! identifiers and keywords.

/// One lexical item. Positions are byte offsets into the source.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub kind: Kind,
    pub pos: usize,
    pub val: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Bool,
    Char,
    CharConstant,
    Number,
    String,
    RawString,
    /// `.name` (the value includes the dot).
    Field,
    /// `$name` or `$`.
    Variable,
    Identifier,
    Dot,
    Pipe,
    LeftParen,
    RightParen,
    Assign,
    Declare,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
    Eof,
}

/// A lexing error at a byte offset.
pub(super) type LexError = (usize, String);

fn keyword(word: &str) -> Option<Kind> {
    Some(match word {
        "block" => Kind::Block,
        "break" => Kind::Break,
        "continue" => Kind::Continue,
        "define" => Kind::Define,
        "else" => Kind::Else,
        "end" => Kind::End,
        "if" => Kind::If,
        "nil" => Kind::Nil,
        "range" => Kind::Range,
        "template" => Kind::Template,
        "with" => Kind::With,
        "true" | "false" => Kind::Bool,
        _ => return None,
    })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    items: Vec<Item>,
}

/// Lexes the whole template.
pub(super) fn lex(src: &str) -> Result<Vec<Item>, LexError> {
    let mut lx = Lexer {
        src,
        items: Vec::new(),
    };
    lx.run()?;
    Ok(lx.items)
}

impl Lexer<'_> {
    fn emit(&mut self, kind: Kind, pos: usize, end: usize) {
        self.items.push(Item {
            kind,
            pos,
            val: self.src[pos..end].to_owned(),
        });
    }

    fn run(&mut self) -> Result<(), LexError> {
        let src = self.src;
        let b = src.as_bytes();
        let mut at = 0;
        let mut trim_next = false;
        loop {
            let open = src[at..].find("{{").map(|i| i + at);
            let text_end = open.unwrap_or(src.len());
            let mut text_start = at;
            if trim_next {
                while text_start < text_end && is_space(b[text_start]) {
                    text_start += 1;
                }
            }
            let Some(open) = open else {
                if text_start < text_end {
                    self.emit(Kind::Text, text_start, text_end);
                }
                self.items.push(Item {
                    kind: Kind::Eof,
                    pos: src.len(),
                    val: String::new(),
                });
                return Ok(());
            };
            let trim_left =
                b.get(open + 2) == Some(&b'-') && b.get(open + 3).is_some_and(|c| is_space(*c));
            let mut text_stop = text_end;
            if trim_left {
                while text_stop > text_start && is_space(b[text_stop - 1]) {
                    text_stop -= 1;
                }
            }
            if text_start < text_stop {
                self.emit(Kind::Text, text_start, text_stop);
            }
            let mut inner = open + 2;
            if trim_left {
                inner += 2;
            }
            // A comment must follow the delimiter (and trim marker) at once.
            if src[inner..].starts_with("/*") {
                let close = src[inner + 2..]
                    .find("*/")
                    .map(|i| i + inner + 2)
                    .ok_or((open, "unclosed comment".to_owned()))?;
                let after = close + 2;
                if b.get(after).is_some_and(|c| is_space(*c)) && src[after + 1..].starts_with("-}}")
                {
                    trim_next = true;
                    at = after + 4;
                } else if src[after..].starts_with("}}") {
                    trim_next = false;
                    at = after + 2;
                } else {
                    return Err((open, "comment ends before closing delimiter".to_owned()));
                }
                continue;
            }
            self.items.push(Item {
                kind: Kind::LeftDelim,
                pos: open,
                val: "{{".to_owned(),
            });
            let (end, trim) = self.inside(inner, open)?;
            trim_next = trim;
            at = end;
        }
    }

    /// Lexes inside an action from `i`; returns the offset after `}}` and whether
    /// it was `-}}`.
    fn inside(&mut self, mut i: usize, open: usize) -> Result<(usize, bool), LexError> {
        let src = self.src;
        let b = src.as_bytes();
        let mut parens = 0usize;
        loop {
            // The right delimiter, with or without a trim marker.
            if b.get(i).is_some_and(|c| is_space(*c)) && src[i + 1..].starts_with("-}}") {
                self.emit(Kind::Space, i, i + 1);
                return self.close(i + 1, i + 4, true, parens);
            }
            if src[i..].starts_with("}}") {
                return self.close(i, i + 2, false, parens);
            }
            let Some(c) = src[i..].chars().next() else {
                return Err((open, "unclosed action".to_owned()));
            };
            let start = i;
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    while b.get(i).is_some_and(|c| is_space(*c))
                        && !(src[i + 1..].starts_with("-}}"))
                    {
                        i += 1;
                    }
                    if i == start {
                        // A lone space right before `-}}`: handled at the loop top.
                        continue;
                    }
                    self.emit(Kind::Space, start, i);
                }
                '=' => {
                    i += 1;
                    self.emit(Kind::Assign, start, i);
                }
                ':' => {
                    if b.get(i + 1) != Some(&b'=') {
                        return Err((start, "expected :=".to_owned()));
                    }
                    i += 2;
                    self.emit(Kind::Declare, start, i);
                }
                '|' => {
                    i += 1;
                    self.emit(Kind::Pipe, start, i);
                }
                '"' => {
                    i = scan_quote(src, i + 1)
                        .ok_or((start, "unterminated quoted string".to_owned()))?;
                    self.emit(Kind::String, start, i);
                }
                '`' => {
                    let close = src[i + 1..]
                        .find('`')
                        .ok_or((start, "unterminated raw quoted string".to_owned()))?;
                    i += close + 2;
                    self.emit(Kind::RawString, start, i);
                }
                '\'' => {
                    i = scan_char(src, i + 1)
                        .ok_or((start, "unterminated character constant".to_owned()))?;
                    self.emit(Kind::CharConstant, start, i);
                }
                '$' => {
                    i = self.alnum_run(i + 1)?;
                    self.emit(Kind::Variable, start, i);
                }
                '.' => {
                    if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        i = scan_number(src, i).ok_or((
                            start,
                            format!(
                                "bad number syntax: {:?}",
                                &src[start..(start + 2).min(src.len())]
                            ),
                        ))?;
                        self.emit(Kind::Number, start, i);
                    } else if src[i + 1..].chars().next().is_some_and(is_alnum) {
                        i = self.alnum_run(i + 1)?;
                        self.emit(Kind::Field, start, i);
                    } else {
                        i += 1;
                        self.emit(Kind::Dot, start, i);
                    }
                }
                '+' | '-' | '0'..='9' => {
                    i = scan_number(src, i).ok_or_else(|| {
                        let end = src[start..]
                            .find(|c: char| is_space_char(c) || c == '}')
                            .map_or(src.len(), |k| k + start);
                        (start, format!("bad number syntax: {:?}", &src[start..end]))
                    })?;
                    self.emit(Kind::Number, start, i);
                }
                '(' => {
                    i += 1;
                    parens += 1;
                    self.emit(Kind::LeftParen, start, i);
                }
                ')' => {
                    if parens == 0 {
                        return Err((start, "unexpected right paren".to_owned()));
                    }
                    parens -= 1;
                    i += 1;
                    self.emit(Kind::RightParen, start, i);
                }
                c if is_alnum(c) => {
                    i = self.alnum_run(i)?;
                    let word = &src[start..i];
                    self.emit(keyword(word).unwrap_or(Kind::Identifier), start, i);
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    i += 1;
                    self.emit(Kind::Char, start, i);
                }
                c => {
                    return Err((
                        start,
                        format!("unrecognized character in action: {}", go_rune(c)),
                    ));
                }
            }
        }
    }

    fn close(
        &mut self,
        at: usize,
        end: usize,
        trim: bool,
        parens: usize,
    ) -> Result<(usize, bool), LexError> {
        if parens > 0 {
            return Err((at, "unclosed left paren".to_owned()));
        }
        self.items.push(Item {
            kind: Kind::RightDelim,
            pos: at,
            val: "}}".to_owned(),
        });
        Ok((end, trim))
    }

    /// The end of a run of alphanumerics from `i`, which must end at a terminator.
    fn alnum_run(&self, i: usize) -> Result<usize, LexError> {
        let src = self.src;
        let end = src[i..]
            .find(|c: char| !is_alnum(c))
            .map_or(src.len(), |k| k + i);
        match src[end..].chars().next() {
            None => Ok(end),
            Some(c)
                if is_space_char(c) || ".,|:()=".contains(c) || src[end..].starts_with("}}") =>
            {
                Ok(end)
            }
            Some(c) => Err((end, format!("bad character {}", go_rune(c)))),
        }
    }
}

fn is_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Go's `%#U`: `U+0023 '#'`.
fn go_rune(c: char) -> String {
    format!("U+{:04X} '{c}'", u32::from(c))
}

/// After an opening `"`: the offset after the closing one.
fn scan_quote(src: &str, mut i: usize) -> Option<usize> {
    let b = src.as_bytes();
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'\n' => return None,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

fn scan_char(src: &str, mut i: usize) -> Option<usize> {
    let b = src.as_bytes();
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'\n' => return None,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Go's `scanNumber`: sign, base prefix, digits with `_`, fraction, exponent.
fn scan_number(src: &str, start: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = start;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut digits: &[u8] = b"0123456789_";
    let mut exp: &[u8] = b"eE";
    if b.get(i) == Some(&b'0') {
        match b.get(i + 1) {
            Some(b'x' | b'X') => {
                i += 2;
                digits = b"0123456789abcdefABCDEF_";
                exp = b"pP";
            }
            Some(b'o' | b'O') => {
                i += 2;
                digits = b"01234567_";
                exp = b"";
            }
            Some(b'b' | b'B') => {
                i += 2;
                digits = b"01_";
                exp = b"";
            }
            _ => {}
        }
    }
    let run = |i: &mut usize, set: &[u8]| {
        while b.get(*i).is_some_and(|c| set.contains(c)) {
            *i += 1;
        }
    };
    run(&mut i, digits);
    if b.get(i) == Some(&b'.') {
        i += 1;
        run(&mut i, digits);
    }
    if !exp.is_empty() && b.get(i).is_some_and(|c| exp.contains(c)) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        run(&mut i, b"0123456789_");
    }
    if b.get(i) == Some(&b'i') {
        i += 1;
    }
    // A number runs into no letter or digit.
    if src[i..].chars().next().is_some_and(is_alnum) || i == start {
        return None;
    }
    Some(i)
}
