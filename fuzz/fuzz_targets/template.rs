//! `template.data` rendering (the Go text/template subset with Sprig functions) over
//! a fixed set of values, some not UTF-8. Parse and execution errors are fine;
//! panics, stack overflows, hangs and runaway allocations are not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealed_secrets::template::{self, Values};
use zeroize::Zeroizing;

fn values() -> &'static Values {
    static VALUES: OnceLock<Values> = OnceLock::new();
    VALUES.get_or_init(|| {
        let mut v = Values::new();
        v.insert("user".into(), Zeroizing::new(b"admin".to_vec()));
        v.insert(
            "password".into(),
            Zeroizing::new(b"hunter2\nline 2".to_vec()),
        );
        v.insert("empty".into(), Zeroizing::new(Vec::new()));
        v.insert(
            "binary".into(),
            Zeroizing::new(vec![0xff, 0x00, 0xc3, 0x28]),
        );
        v.insert("n".into(), Zeroizing::new(b"42".to_vec()));
        v.insert("b64".into(), Zeroizing::new(b"aHVudGVyMg==".to_vec()));
        v.insert("dotted.key-name".into(), Zeroizing::new(b"x".to_vec()));
        v
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let _ = template::render("fuzz", source, values());
});
