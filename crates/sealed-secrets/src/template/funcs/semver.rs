//! Sprig's `semver` and `semverCompare`, on the rules of Masterminds/semver v3.4.0
//! (what upstream links): lenient version parsing (`v1.2` is 1.2.0), SemVer
//! precedence, and its constraint language (`^`, `~`, `x` ranges, `a - b`, `,`, `||`,
//! prereleases only where the constraint names one).

use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::LazyLock;

use regex::Regex;

use super::{CallResult, bytes_of, err};
use crate::template::value::Value;

/// A parsed version; templates read it through its methods (`.Major`, `.String`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Semver {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

impl Semver {
    /// `Version.String()`: no leading `v`, zeros filled in.
    pub(crate) fn text(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }

    fn compare(&self, o: &Semver) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let (s, o) = (
            pa.get(i).copied().unwrap_or(""),
            pb.get(i).copied().unwrap_or(""),
        );
        let d = compare_part(s, o);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.cmp(o),
        // A number sorts before a word.
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(x), Ok(y)) => x.cmp(&y),
    }
}

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

/// The patterns are constants (tested): a failure to compile one is a bug, reported
/// as an error of the call rather than a panic.
fn compile(pattern: String) -> Option<Regex> {
    Regex::new(&pattern).ok()
}

static LOOSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$".to_owned())
});
static CONSTRAINT: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(format!(r"^\s*({OPS})\s*({CV})\s*$")));
static RANGE: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(format!(r"\s*({CV})\s+-\s+({CV})\s*")));
static FIND: LazyLock<Option<Regex>> = LazyLock::new(|| compile(format!(r"({OPS})\s*({CV})")));
static VALID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(format!(
        r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$"
    ))
});

fn pattern(re: &'static LazyLock<Option<Regex>>) -> Result<&'static Regex, &'static str> {
    re.as_ref()
        .ok_or("semver: an internal pattern does not compile")
}

/// `semver.NewVersion` with `CoerceNewVersion` (its default).
pub(crate) fn parse_version(v: &str) -> Result<Semver, &'static str> {
    let m = pattern(&LOOSE)?
        .captures(v)
        .ok_or("invalid semantic version")?;
    let seg = |i: usize| -> Result<u64, &'static str> {
        match m.get(i) {
            None => Ok(0),
            Some(s) => s
                .as_str()
                .trim_start_matches('.')
                .parse()
                .map_err(|_| "error parsing version segment"),
        }
    };
    let text = |i: usize| m.get(i).map_or(String::new(), |s| s.as_str().to_owned());
    let sv = Semver {
        major: seg(1)?,
        minor: seg(2)?,
        patch: seg(3)?,
        pre: text(5),
        metadata: text(8),
        original: v.to_owned(),
    };
    for part in sv.pre.split('.').filter(|_| !sv.pre.is_empty()) {
        if part.is_empty() {
            return Err("invalid prerelease string");
        }
        if part.bytes().all(|b| b.is_ascii_digit()) && part.len() > 1 && part.starts_with('0') {
            return Err("version segment starts with 0");
        }
    }
    Ok(sv)
}

struct Constraint {
    op: String,
    con: Semver,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    if c.is_empty() {
        return Ok(Constraint {
            op: String::new(),
            con: parse_version("0.0.0").map_err(str::to_owned)?,
            dirty: true,
            minor_dirty: false,
            patch_dirty: false,
        });
    }
    let m = pattern(&CONSTRAINT)?
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| m.get(i).map_or("", |s| s.as_str());
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let mut ver = g(2).to_owned();
    if is_x(g(3)) || g(3).is_empty() {
        ver = format!("0.0.0{}", g(6));
        dirty = true;
    } else if is_x(g(4).trim_start_matches('.')) || g(4).is_empty() {
        (minor_dirty, dirty) = (true, true);
        ver = format!("{}.0.0{}", g(3), g(6));
    } else if is_x(g(5).trim_start_matches('.')) || g(5).is_empty() {
        (patch_dirty, dirty) = (true, true);
        ver = format!("{}{}.0{}", g(3), g(4), g(6));
    }
    let con = parse_version(&ver).map_err(|_| "constraint parser error".to_owned())?;
    Ok(Constraint {
        op: g(1).to_owned(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Semver, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        let less = |a: &Semver, b: &Semver| a.compare(b) == Ordering::Less;
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            "<" => less(v, c),
            ">=" | "=>" => !less(v, c),
            "<=" | "=<" => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            _ => self.caret(v),
        }
    }

    fn tilde(&self, v: &Semver) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Semver) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// `semver.NewConstraint`: groups joined by `||`, each a list of constraints.
fn parse_constraints(text: &str) -> Result<Vec<(Vec<Constraint>, bool)>, String> {
    let mut rewritten = text.to_owned();
    for m in pattern(&RANGE)?.captures_iter(text) {
        let (all, a, b) = (&m[0], &m[1], &m[11]);
        rewritten = rewritten.replacen(all, &format!(">= {a}, <= {b} "), 1);
    }
    let mut groups = Vec::new();
    for part in rewritten.split("||") {
        if !pattern(&VALID)?.is_match(part) {
            return Err(format!("improper constraint: {part}"));
        }
        let found: Vec<&str> = pattern(&FIND)?
            .find_iter(part)
            .map(|m| m.as_str())
            .collect();
        let found = if found.is_empty() { vec![part] } else { found };
        let cs = found
            .into_iter()
            .map(parse_constraint)
            .collect::<Result<Vec<_>, _>>()?;
        let has_pre = cs.iter().any(|c| !c.con.pre.is_empty());
        groups.push((cs, has_pre));
    }
    Ok(groups)
}

pub(super) fn semver(a: Vec<Value>) -> CallResult {
    let text = String::from_utf8_lossy(bytes_of(&a[0])).into_owned();
    match parse_version(&text) {
        Ok(v) => Ok(Value::Semver(Rc::new(v))),
        Err(e) => err(e),
    }
}

pub(super) fn semver_compare(a: Vec<Value>) -> CallResult {
    let constraint = String::from_utf8_lossy(bytes_of(&a[0])).into_owned();
    let groups = parse_constraints(&constraint).or_else(err)?;
    let v = parse_version(&String::from_utf8_lossy(bytes_of(&a[1]))).or_else(err)?;
    Ok(Value::Bool(
        groups
            .iter()
            .any(|(cs, pre)| cs.iter().all(|c| c.check(&v, *pre))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        let groups = parse_constraints(c).unwrap();
        let v = parse_version(v).unwrap();
        groups
            .iter()
            .any(|(cs, pre)| cs.iter().all(|x| x.check(&v, *pre)))
    }

    #[test]
    fn constraints_as_masterminds_reads_them() {
        for (c, v, want) in [
            ("^1.2.0", "1.9.9", true),
            ("^1.2.0", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            (">=1.2, <2", "1.5.0", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("1.2 - 1.4.5", "1.3.0", true),
            ("1.x", "1.7.0", true),
            ("<1.0.0 || >=2.0.0", "1.5.0", false),
            ("<1.0.0 || >=2.0.0", "2.1.0", true),
            (">=1.2.0", "1.3.0-beta", false),
            (">=1.2.0-0", "1.3.0-beta", true),
            ("!=1.2.3", "1.2.3", false),
        ] {
            assert_eq!(check(c, v), want, "{c} {v}");
        }
        assert_eq!(parse_version("v1.2").unwrap().text(), "1.2.0");
        assert!(parse_version("1.2.3-01").is_err());
    }
}
