//! Secret and SealedSecret input parsing: YAML streams and JSON values as kubeseal
//! reads them, then each document as a `Secret` and as a `SealedSecret`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::documents::{self, Format};
use sealed_secrets::secret::InputSecret;
use sealed_secrets::{SealedSecret, unseal};

fuzz_target!(|data: &[u8]| {
    let Ok(docs) = documents::parse(data) else {
        return;
    };
    for doc in &docs {
        let _ = InputSecret::from_value(doc);
        if let Ok(ss) = serde_json::from_value::<SealedSecret>(doc.clone()) {
            let _ = unseal::label_of(&ss);
            let _ = unseal::scope_of(&ss);
            // What kubeseal writes must read back as the same object.
            for format in [Format::Json, Format::Yaml] {
                let text = documents::render(&ss, format).expect("a SealedSecret serialises");
                let back = documents::parse(text.as_bytes()).expect("our own output parses");
                assert_eq!(back.len(), 1, "one document out, one back ({format})");
                let again: SealedSecret = serde_json::from_value(back[0].clone())
                    .expect("our own output is a SealedSecret");
                assert_eq!(
                    serde_json::to_value(&again).expect("serialises"),
                    serde_json::to_value(&ss).expect("serialises"),
                    "round trip through {format} changed the SealedSecret"
                );
            }
        }
    }
});
