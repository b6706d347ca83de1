//! Sprig's random functions. Their output cannot match Go's (nor any earlier
//! render): a template using them gives a new value whenever the controller
//! renders it, as upstream's does. Drawn from the operating system's CSPRNG.

use super::{CallError, CallResult, MAX_LEN, bytes_of, err, int_of, string};
use crate::template::value::Value;
use base64::Engine as _;

pub(super) fn fill(buf: &mut [u8]) -> Result<(), CallError> {
    getrandom::fill(buf).or_else(|_| err("the system random number generator failed"))
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
fn below(n: u64) -> Result<u64, CallError> {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let mut b = [0u8; 8];
        fill(&mut b)?;
        let v = u64::from_le_bytes(b);
        if v < zone {
            return Ok(v % n);
        }
    }
}

fn random_from(count: i64, alphabet: &[u8]) -> CallResult {
    let Ok(count) = usize::try_from(count) else {
        // goutils refuses a negative count; Sprig prints the empty string.
        return string("");
    };
    if count > MAX_LEN {
        return Err(CallError::TooLarge);
    }
    let n = u64::try_from(alphabet.len()).unwrap_or(1);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(alphabet[usize::try_from(below(n)?).unwrap_or(0)]);
    }
    string(out)
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

pub(super) fn rand_alpha_num(a: Vec<Value>) -> CallResult {
    random_from(int_of(&a[0]), &[LETTERS, DIGITS].concat())
}

pub(super) fn rand_alpha(a: Vec<Value>) -> CallResult {
    random_from(int_of(&a[0]), LETTERS)
}

pub(super) fn rand_numeric(a: Vec<Value>) -> CallResult {
    random_from(int_of(&a[0]), DIGITS)
}

pub(super) fn rand_ascii(a: Vec<Value>) -> CallResult {
    let printable: Vec<u8> = (32u8..127).collect();
    random_from(int_of(&a[0]), &printable)
}

pub(super) fn rand_int(a: Vec<Value>) -> CallResult {
    let (min, max) = (int_of(&a[0]), int_of(&a[1]));
    let Some(span) = max.checked_sub(min).filter(|s| *s > 0) else {
        return err("invalid argument to Intn");
    };
    let r = below(span.unsigned_abs())?;
    Ok(Value::int(min + i64::try_from(r).unwrap_or(0)))
}

pub(super) fn rand_bytes(a: Vec<Value>) -> CallResult {
    let Ok(count) = usize::try_from(int_of(&a[0])) else {
        return err("runtime error: makeslice: len out of range");
    };
    if count > MAX_LEN {
        return Err(CallError::TooLarge);
    }
    let mut buf = zeroize::Zeroizing::new(vec![0u8; count]);
    fill(&mut buf)?;
    string(base64::engine::general_purpose::STANDARD.encode(&buf[..]))
}

pub(super) fn uuidv4(_: Vec<Value>) -> CallResult {
    let mut b = [0u8; 16];
    fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    string(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// xstrings' `Shuffle`: the runes in a random order.
pub(super) fn shuffle(a: Vec<Value>) -> CallResult {
    let mut chars: Vec<char> = String::from_utf8_lossy(bytes_of(&a[0])).chars().collect();
    for i in (1..chars.len()).rev() {
        let j = usize::try_from(below(u64::try_from(i + 1).unwrap_or(1))?).unwrap_or(0);
        chars.swap(i, j);
    }
    string(chars.into_iter().collect::<String>())
}
