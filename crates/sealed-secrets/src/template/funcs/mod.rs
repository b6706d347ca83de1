//! The functions templates may call: Go's builtins and Sprig's `GenericFuncMap`
//! (v3.3.0, what upstream v0.36.6 links) minus `env`, `expandenv` and
//! `getHostByName`, which upstream removes. Each has Go's parameter types, so a
//! call Go refuses is refused here with Go's words. Messages name functions and
//! types, never values.

mod builtins;
pub(super) mod certs;
mod collections;
mod crypto;
mod date;
mod encoding;
pub(super) mod fmt;
mod numbers;
mod pkey;
mod random;
pub(super) mod semver;
mod strings;
mod time;
mod url;

pub(in crate::template) use time::duration_string;

use zeroize::Zeroizing;

use super::gotime::Clock;
use super::value::{Bytes, IntTy, ListTy, Value};

/// The largest value a template may build, in bytes. The API server refuses a Secret
/// over 1 MiB anyway; the limit turns `{{ repeat 1000000000 "x" }}` (or a pipeline of
/// `b64enc`s) into an error instead of a controller out of memory.
pub(super) const MAX_LEN: usize = 1 << 20;

/// The longest list a template may build (`until`, `seq`, `untilStep`, `concat`).
pub(super) const MAX_ITEMS: usize = 100_000;

/// The error of a result over [`MAX_LEN`].
pub(super) fn too_large(what: &str) -> String {
    format!("{what}: the result would exceed {MAX_LEN} bytes (a Secret holds at most 1 MiB)")
}

/// A Go parameter type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Ty {
    /// `interface {}`
    Any,
    /// `reflect.Value`: what the builtins take, missing values included.
    Value,
    Str,
    Int,
    Float,
    Bool,
    /// `map[string]interface {}`
    MapAny,
    /// `time.Time`
    Time,
    /// `[]interface {}`
    ListAny,
    /// Sprig's `certificate`
    Cert,
    /// `time.Duration` (a method's parameter)
    Duration,
}

impl Ty {
    pub(super) fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Value => "reflect.Value",
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::MapAny => "map[string]interface {}",
            Ty::Time => "time.Time",
            Ty::ListAny => "[]interface {}",
            Ty::Cert => certs::TYPE_NAME,
            Ty::Duration => "time.Duration",
        }
    }
}

/// Why a call failed.
pub(super) enum CallError {
    /// Go's `error calling NAME: MESSAGE`; the message holds no value.
    Msg(String),
    /// `fail`'s own message, shown only if the template spells it out.
    Fail(Zeroizing<String>),
    /// A result over [`MAX_LEN`] or [`MAX_ITEMS`].
    TooLarge,
}

pub(super) type CallResult = Result<Value, CallError>;

pub(super) fn err<T>(m: impl Into<String>) -> Result<T, CallError> {
    Err(CallError::Msg(m.into()))
}

/// A function's body.
pub(super) enum Imp {
    /// Depends on its arguments only.
    Pure(fn(Vec<Value>) -> CallResult),
    /// Reads the clock or the local time zone too.
    Clock(fn(&Clock, Vec<Value>) -> CallResult),
}

pub(super) struct Func {
    pub name: &'static str,
    pub fixed: &'static [Ty],
    pub variadic: Option<Ty>,
    /// `and` and `or` evaluate their arguments lazily.
    pub short_circuit: bool,
    pub imp: Imp,
}

const fn f(name: &'static str, fixed: &'static [Ty], imp: fn(Vec<Value>) -> CallResult) -> Func {
    Func {
        name,
        fixed,
        variadic: None,
        short_circuit: false,
        imp: Imp::Pure(imp),
    }
}

/// A function that reads the clock or the local zone.
const fn c(
    name: &'static str,
    fixed: &'static [Ty],
    imp: fn(&Clock, Vec<Value>) -> CallResult,
) -> Func {
    Func {
        name,
        fixed,
        variadic: None,
        short_circuit: false,
        imp: Imp::Clock(imp),
    }
}

const fn v(
    name: &'static str,
    fixed: &'static [Ty],
    variadic: Ty,
    imp: fn(Vec<Value>) -> CallResult,
) -> Func {
    Func {
        name,
        fixed,
        variadic: Some(variadic),
        short_circuit: false,
        imp: Imp::Pure(imp),
    }
}

use Ty::{Any, Bool, Float, Int, ListAny, MapAny, Str};

/// Go's builtins, then Sprig's functions (which win where both define a name, as
/// `Funcs` does: Sprig's `slice`).
static FUNCS: &[Func] = &[
    // text/template builtins.
    Func {
        name: "and",
        fixed: &[Ty::Value],
        variadic: Some(Ty::Value),
        short_circuit: true,
        imp: Imp::Pure(builtins::unreachable),
    },
    Func {
        name: "or",
        fixed: &[Ty::Value],
        variadic: Some(Ty::Value),
        short_circuit: true,
        imp: Imp::Pure(builtins::unreachable),
    },
    f("not", &[Ty::Value], builtins::not),
    f("len", &[Ty::Value], builtins::len),
    v("index", &[Ty::Value], Ty::Value, builtins::index),
    v("print", &[], Any, builtins::print),
    v("printf", &[Str], Any, builtins::printf),
    v("println", &[], Any, builtins::println),
    v("eq", &[Ty::Value], Ty::Value, builtins::eq),
    f("ne", &[Ty::Value, Ty::Value], builtins::ne),
    f("lt", &[Ty::Value, Ty::Value], builtins::lt),
    f("le", &[Ty::Value, Ty::Value], builtins::le),
    f("gt", &[Ty::Value, Ty::Value], builtins::gt),
    f("ge", &[Ty::Value, Ty::Value], builtins::ge),
    v("html", &[], Any, builtins::html),
    v("js", &[], Any, builtins::js),
    v("urlquery", &[], Any, builtins::urlquery),
    v("call", &[Ty::Value], Ty::Value, builtins::call),
    // Sprig: strings.
    f("hello", &[], strings::hello),
    f("abbrev", &[Int, Str], strings::abbrev),
    f("abbrevboth", &[Int, Int, Str], strings::abbrevboth),
    f("trunc", &[Int, Str], strings::trunc),
    f("trim", &[Str], strings::trim),
    f("upper", &[Str], strings::upper),
    f("lower", &[Str], strings::lower),
    f("title", &[Str], strings::title),
    f("untitle", &[Str], strings::untitle),
    f("substr", &[Int, Int, Str], strings::substr),
    f("repeat", &[Int, Str], strings::repeat),
    f("trimall", &[Str, Str], strings::trim_all),
    f("trimAll", &[Str, Str], strings::trim_all),
    f("trimSuffix", &[Str, Str], strings::trim_suffix),
    f("trimPrefix", &[Str, Str], strings::trim_prefix),
    f("nospace", &[Str], strings::nospace),
    f("initials", &[Str], strings::initials),
    f("swapcase", &[Str], strings::swapcase),
    f("camelcase", &[Str], strings::camelcase),
    f("snakecase", &[Str], strings::snakecase),
    f("kebabcase", &[Str], strings::kebabcase),
    f("wrap", &[Int, Str], strings::wrap),
    f("wrapWith", &[Int, Str, Str], strings::wrap_with),
    f("contains", &[Str, Str], strings::contains),
    f("hasPrefix", &[Str, Str], strings::has_prefix),
    f("hasSuffix", &[Str, Str], strings::has_suffix),
    v("quote", &[], Any, strings::quote),
    v("squote", &[], Any, strings::squote),
    v("cat", &[], Any, strings::cat),
    f("indent", &[Int, Str], strings::indent),
    f("nindent", &[Int, Str], strings::nindent),
    f("replace", &[Str, Str, Str], strings::replace),
    f("plural", &[Str, Str, Int], strings::plural),
    f("toString", &[Any], strings::to_string),
    f("split", &[Str, Str], strings::split),
    f("splitList", &[Str, Str], strings::split_list),
    f("splitn", &[Str, Int, Str], strings::splitn),
    f("toStrings", &[Any], strings::to_strings),
    f("join", &[Str, Any], strings::join),
    f("sortAlpha", &[Any], strings::sort_alpha),
    f("regexMatch", &[Str, Str], strings::regex_match),
    f("mustRegexMatch", &[Str, Str], strings::must_regex_match),
    f("regexFindAll", &[Str, Str, Int], strings::regex_find_all),
    f(
        "mustRegexFindAll",
        &[Str, Str, Int],
        strings::must_regex_find_all,
    ),
    f("regexFind", &[Str, Str], strings::regex_find),
    f("mustRegexFind", &[Str, Str], strings::must_regex_find),
    f(
        "regexReplaceAll",
        &[Str, Str, Str],
        strings::regex_replace_all,
    ),
    f(
        "mustRegexReplaceAll",
        &[Str, Str, Str],
        strings::must_regex_replace_all,
    ),
    f(
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        strings::regex_replace_all_literal,
    ),
    f(
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        strings::must_regex_replace_all_literal,
    ),
    f("regexSplit", &[Str, Str, Int], strings::regex_split),
    f(
        "mustRegexSplit",
        &[Str, Str, Int],
        strings::must_regex_split,
    ),
    f("regexQuoteMeta", &[Str], strings::regex_quote_meta),
    f("base", &[Str], strings::path_base),
    f("dir", &[Str], strings::path_dir),
    f("clean", &[Str], strings::path_clean),
    f("ext", &[Str], strings::path_ext),
    f("isAbs", &[Str], strings::path_is_abs),
    f("osBase", &[Str], strings::path_base),
    f("osDir", &[Str], strings::path_dir),
    f("osClean", &[Str], strings::path_clean),
    f("osExt", &[Str], strings::path_ext),
    f("osIsAbs", &[Str], strings::path_is_abs),
    // Sprig: randomness.
    f("randAlphaNum", &[Int], random::rand_alpha_num),
    f("randAlpha", &[Int], random::rand_alpha),
    f("randAscii", &[Int], random::rand_ascii),
    f("randNumeric", &[Int], random::rand_numeric),
    f("randInt", &[Int, Int], random::rand_int),
    f("randBytes", &[Int], random::rand_bytes),
    f("shuffle", &[Str], random::shuffle),
    f("uuidv4", &[], random::uuidv4),
    // Sprig: secrets.
    f("encryptAES", &[Str, Str], crypto::encrypt_aes),
    f("decryptAES", &[Str, Str], crypto::decrypt_aes),
    f("bcrypt", &[Str], crypto::bcrypt),
    f("htpasswd", &[Str, Str], crypto::htpasswd),
    f(
        "derivePassword",
        &[Int, Str, Str, Str, Str],
        crypto::derive_password,
    ),
    // Sprig: keys and certificates.
    f("genPrivateKey", &[Str], certs::gen_private_key),
    f("buildCustomCert", &[Str, Str], certs::build_custom_cert),
    c("genCA", &[Str, Int], certs::gen_ca),
    c("genCAWithKey", &[Str, Int, Str], certs::gen_ca_with_key),
    c(
        "genSelfSignedCert",
        &[Str, ListAny, ListAny, Int],
        certs::gen_self_signed_cert,
    ),
    c(
        "genSelfSignedCertWithKey",
        &[Str, ListAny, ListAny, Int, Str],
        certs::gen_self_signed_cert_with_key,
    ),
    c(
        "genSignedCert",
        &[Str, ListAny, ListAny, Int, Ty::Cert],
        certs::gen_signed_cert,
    ),
    c(
        "genSignedCertWithKey",
        &[Str, ListAny, ListAny, Int, Ty::Cert, Str],
        certs::gen_signed_cert_with_key,
    ),
    // Sprig: versions.
    f("semver", &[Str], semver::semver),
    f("semverCompare", &[Str, Str], semver::semver_compare),
    // Sprig: URLs.
    f("urlParse", &[Str], url::url_parse),
    f("urlJoin", &[MapAny], url::url_join),
    // Sprig: encodings and digests.
    f("b64enc", &[Str], encoding::b64enc),
    f("b64dec", &[Str], encoding::b64dec),
    f("b32enc", &[Str], encoding::b32enc),
    f("b32dec", &[Str], encoding::b32dec),
    f("sha1sum", &[Str], encoding::sha1sum),
    f("sha256sum", &[Str], encoding::sha256sum),
    f("sha512sum", &[Str], encoding::sha512sum),
    f("adler32sum", &[Str], encoding::adler32sum),
    f("fromJson", &[Str], encoding::from_json),
    f("mustFromJson", &[Str], encoding::must_from_json),
    f("toJson", &[Any], encoding::to_json),
    f("mustToJson", &[Any], encoding::must_to_json),
    f("toPrettyJson", &[Any], encoding::to_pretty_json),
    f("mustToPrettyJson", &[Any], encoding::must_to_pretty_json),
    f("toRawJson", &[Any], encoding::to_raw_json),
    f("mustToRawJson", &[Any], encoding::must_to_raw_json),
    // Sprig: numbers.
    f("atoi", &[Str], numbers::atoi),
    f("int64", &[Any], numbers::int64),
    f("int", &[Any], numbers::int),
    f("float64", &[Any], numbers::float64),
    v("seq", &[], Int, numbers::seq),
    f("toDecimal", &[Any], numbers::to_decimal),
    f("until", &[Int], numbers::until),
    f("untilStep", &[Int, Int, Int], numbers::until_step),
    f("add1", &[Any], numbers::add1),
    v("add", &[], Any, numbers::add),
    f("sub", &[Any, Any], numbers::sub),
    f("div", &[Any, Any], numbers::div),
    f("mod", &[Any, Any], numbers::modulo),
    v("mul", &[Any], Any, numbers::mul),
    f("add1f", &[Any], numbers::add1f),
    v("addf", &[], Any, numbers::addf),
    v("subf", &[Any], Any, numbers::subf),
    v("divf", &[Any], Any, numbers::divf),
    v("mulf", &[Any], Any, numbers::mulf),
    v("biggest", &[Any], Any, numbers::max),
    v("max", &[Any], Any, numbers::max),
    v("min", &[Any], Any, numbers::min),
    v("maxf", &[Any], Any, numbers::maxf),
    v("minf", &[Any], Any, numbers::minf),
    f("ceil", &[Any], numbers::ceil),
    f("floor", &[Any], numbers::floor),
    f("duration", &[Any], time::duration),
    c("durationRound", &[Any], time::duration_round),
    v("round", &[Any, Int], Float, numbers::round),
    // Sprig: dates.
    c("now", &[], date::now),
    c("date", &[Str, Any], date::date),
    c("dateInZone", &[Str, Any, Str], date::date_in_zone),
    c("date_in_zone", &[Str, Any, Str], date::date_in_zone),
    c("htmlDate", &[Any], date::html_date),
    c("htmlDateInZone", &[Any, Str], date::html_date_in_zone),
    f("dateModify", &[Str, Ty::Time], date::date_modify),
    f("date_modify", &[Str, Ty::Time], date::date_modify),
    f("mustDateModify", &[Str, Ty::Time], date::must_date_modify),
    f("must_date_modify", &[Str, Ty::Time], date::must_date_modify),
    c("ago", &[Any], date::ago),
    c("toDate", &[Str, Str], date::to_date),
    c("mustToDate", &[Str, Str], date::must_to_date),
    f("unixEpoch", &[Ty::Time], date::unix_epoch),
    // Sprig: defaults, flow and types.
    v("default", &[Any], Any, collections::default),
    f("empty", &[Any], collections::empty),
    v("coalesce", &[], Any, collections::coalesce),
    v("all", &[], Any, collections::all),
    v("any", &[], Any, collections::any),
    f("compact", &[Any], collections::compact),
    f("mustCompact", &[Any], collections::compact),
    f("ternary", &[Any, Any, Bool], collections::ternary),
    f("deepCopy", &[Any], collections::deep_copy),
    f("mustDeepCopy", &[Any], collections::deep_copy),
    f("typeOf", &[Any], collections::type_of),
    f("typeIs", &[Str, Any], collections::type_is),
    f("typeIsLike", &[Str, Any], collections::type_is_like),
    f("kindOf", &[Any], collections::kind_of),
    f("kindIs", &[Str, Any], collections::kind_is),
    f("deepEqual", &[Any, Any], collections::deep_equal_call),
    f("fail", &[Str], collections::fail),
    // Sprig: lists.
    v("tuple", &[], Any, collections::list),
    v("list", &[], Any, collections::list),
    f("append", &[Any, Any], collections::push),
    f("push", &[Any, Any], collections::push),
    f("mustAppend", &[Any, Any], collections::push),
    f("mustPush", &[Any, Any], collections::push),
    f("prepend", &[Any, Any], collections::prepend),
    f("mustPrepend", &[Any, Any], collections::prepend),
    f("first", &[Any], collections::first),
    f("mustFirst", &[Any], collections::first),
    f("rest", &[Any], collections::rest),
    f("mustRest", &[Any], collections::rest),
    f("last", &[Any], collections::last),
    f("mustLast", &[Any], collections::last),
    f("initial", &[Any], collections::initial),
    f("mustInitial", &[Any], collections::initial),
    f("reverse", &[Any], collections::reverse),
    f("mustReverse", &[Any], collections::reverse),
    f("uniq", &[Any], collections::uniq),
    f("mustUniq", &[Any], collections::uniq),
    v("without", &[Any], Any, collections::without),
    v("mustWithout", &[Any], Any, collections::without),
    f("has", &[Any, Any], collections::has),
    f("mustHas", &[Any, Any], collections::has),
    v("slice", &[Any], Any, collections::slice),
    v("mustSlice", &[Any], Any, collections::slice),
    v("concat", &[], Any, collections::concat),
    f("chunk", &[Int, Any], collections::chunk),
    f("mustChunk", &[Int, Any], collections::chunk),
    // Sprig: dicts.
    v("dict", &[], Any, collections::dict),
    f("get", &[MapAny, Str], collections::get),
    f("set", &[MapAny, Str, Any], collections::set),
    f("unset", &[MapAny, Str], collections::unset),
    f("hasKey", &[MapAny, Str], collections::has_key),
    v("pluck", &[Str], MapAny, collections::pluck),
    v("keys", &[], MapAny, collections::keys),
    v("pick", &[MapAny], Str, collections::pick),
    v("omit", &[MapAny], Str, collections::omit),
    v("merge", &[MapAny], MapAny, collections::merge),
    v("mustMerge", &[MapAny], MapAny, collections::merge),
    v(
        "mergeOverwrite",
        &[MapAny],
        MapAny,
        collections::merge_overwrite,
    ),
    v(
        "mustMergeOverwrite",
        &[MapAny],
        MapAny,
        collections::merge_overwrite,
    ),
    f("values", &[MapAny], collections::values),
    v("dig", &[], Any, collections::dig),
];

/// Steps a call costs beyond the one every call costs: scrypt, bcrypt and a 2048-bit
/// RSA key take tens of milliseconds each, a 4096-bit one (`genPrivateKey`) hundreds,
/// so a template may make only a few such calls.
pub(super) fn extra_cost(name: &str) -> usize {
    match name {
        "derivePassword" | "bcrypt" | "htpasswd" => 100_000,
        "genCA" | "genSelfSignedCert" | "genSignedCert" => 100_000,
        "genPrivateKey" => 250_000,
        _ => 0,
    }
}

/// The function called `name`.
pub(super) fn lookup(name: &str) -> Option<&'static Func> {
    FUNCS.iter().rev().find(|f| f.name == name)
}

/// Whether templates may name `name`.
pub(super) fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

/// The parse error for an unknown function name.
pub(super) fn undefined_message(name: &str) -> String {
    format!("function {name:?} not defined")
}

/// Sprig's `strval`: a string as itself, anything else as `%v` prints it.
pub(super) fn strval(v: &Value) -> Bytes {
    super::value::to_text(v)
}

/// Text of a string argument (Go strings are bytes; invalid UTF-8 is kept by the
/// byte-wise functions and replaced only where Go decodes runes).
pub(super) fn bytes_of(v: &Value) -> &[u8] {
    v.as_bytes().unwrap_or_default()
}

pub(super) fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

pub(super) fn usize_of(v: &Value) -> usize {
    usize::try_from(int_of(v)).unwrap_or(0)
}

/// A string result, zeroized when dropped.
pub(super) fn string(s: impl Into<Vec<u8>>) -> CallResult {
    let s = s.into();
    if s.len() > MAX_LEN {
        return Err(CallError::TooLarge);
    }
    Ok(Value::str(s))
}

/// The elements of a slice argument, or Go's panic text `Cannot OP on type KIND`.
pub(super) fn elements<'a>(v: &'a Value, op: &str) -> Result<&'a [Value], CallError> {
    match v {
        Value::List(items, _) => Ok(items),
        Value::Missing | Value::Nil => err(format!(
            "reflect: call of reflect.Value.Type on zero Value ({op})"
        )),
        other => err(format!("Cannot {op} on type {}", other.kind_name())),
    }
}

/// `cast.ToInt64` (what Sprig's integer functions apply to every argument).
pub(super) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => {
            let s = String::from_utf8_lossy(s);
            numbers::parse_go_int(trim_zero_decimal(&s)).unwrap_or(0)
        }
        _ => 0,
    }
}

/// cast's `trimZeroDecimal`: `12.00` → `12`, `12.50` stays.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `cast.ToFloat64`.
pub(super) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i, _) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => numbers::parse_go_float(&String::from_utf8_lossy(s)).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `reflect.DeepEqual` for template values (an `int` never equals an `int64`).
pub(super) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, tx), Value::Int(y, ty)) => x == y && tx == ty,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x[..] == y[..],
        (Value::Time(x), Value::Time(y)) => x.identical(y),
        (Value::Cert(x), Value::Cert(y)) => x.cert[..] == y.cert[..] && x.key[..] == y.key[..],
        (Value::List(x, tx), Value::List(y, ty)) => {
            tx == ty && x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x, tx), Value::Map(y, ty)) => {
            if std::rc::Rc::ptr_eq(x, y) {
                return tx == ty;
            }
            let (x, y) = (x.borrow(), y.borrow());
            tx == ty
                && x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| deep_equal(p, q)))
        }
        _ => false,
    }
}

/// A `[]string` result.
pub(super) fn string_list(items: Vec<Bytes>) -> Value {
    Value::List(
        std::rc::Rc::new(
            items
                .into_iter()
                .map(|b| Value::Str(std::rc::Rc::new(b)))
                .collect(),
        ),
        ListTy::Str,
    )
}

/// An `int64` result.
pub(super) fn int64_result(i: i64) -> CallResult {
    Ok(Value::Int(i, IntTy::Int64))
}
