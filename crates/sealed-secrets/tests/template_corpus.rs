//! Golden vectors: every case of `template-corpus.json`, rendered here, must give
//! what Go's text/template + Sprig gave (recorded by `tests/peers/template`, kept
//! current by `tests/e2e/tests/template_go.rs`): the same bytes, or an error where
//! Go errs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealed_secrets::template::{self, Values};
use serde::Deserialize;
use zeroize::Zeroizing;

#[derive(Deserialize)]
struct Corpus {
    /// The zone Go's `time.Local` was when the results were recorded.
    local: String,
    data: BTreeMap<String, String>,
    #[serde(default)]
    data_b64: BTreeMap<String, String>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    template: String,
    go: Go,
}

#[derive(Deserialize)]
struct Go {
    output: Option<String>,
    output_b64: Option<String>,
    error: Option<String>,
}

/// Cases where we differ from Go on purpose (docs/templates.md), with the reason.
const DIFFERENCES: &[(&str, &str)] = &[
    ("number-imaginary", "complex numbers are not supported"),
    ("time-method-In", "time.Location values are not supported"),
    (
        "time-method-AddDate",
        "AddDate (calendar normalization in a zone) is not supported",
    ),
];

/// What `now` reads in the corpus: any instant will do, since a case whose output
/// depends on the clock does not belong in the corpus (the oracle runs each case
/// several times to catch one).
const NOW: i64 = 1_764_000_000;

fn corpus() -> (Values, Vec<Case>, template::Clock) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/template-corpus.json"
    ))
    .expect("read the corpus");
    let corpus: Corpus = serde_json::from_str(&text).expect("parse the corpus");
    let mut values = Values::new();
    for (k, v) in corpus.data {
        values.insert(k, Zeroizing::new(v.into_bytes()));
    }
    for (k, v) in corpus.data_b64 {
        values.insert(k, Zeroizing::new(STANDARD.decode(v).expect("data_b64")));
    }
    let clock = template::Clock::fixed(NOW, &corpus.local);
    (values, corpus.cases, clock)
}

#[test]
fn every_corpus_case_renders_as_go_renders_it() {
    let (values, cases, clock) = corpus();
    assert!(cases.len() > 500, "the corpus lost cases");
    let mut failures = Vec::new();
    for case in &cases {
        let ours = template::render_with_clock(&case.name, &case.template, &values, &clock);
        if DIFFERENCES.iter().any(|(n, _)| *n == case.name) {
            // Each listed difference is a refusal naming what is missing.
            let e = ours.expect_err(&case.name).to_string();
            assert!(
                e.contains("not supported") || e.contains("not provide"),
                "{}: {e}",
                case.name
            );
            continue;
        }
        let want: Result<Vec<u8>, &str> =
            match (&case.go.output, &case.go.output_b64, &case.go.error) {
                (Some(o), _, _) => Ok(o.as_bytes().to_vec()),
                (_, Some(b), _) => Ok(STANDARD.decode(b).expect("output_b64")),
                (_, _, Some(e)) => Err(e.as_str()),
                _ => panic!("{}: nothing recorded", case.name),
            };
        match (&ours, &want) {
            (Ok(got), Ok(want)) if got[..] == want[..] => {}
            (Err(_), Err(_)) => {}
            (Ok(got), Ok(want)) => failures.push(format!(
                "{}: {:?}\n    ours: {:?}\n    go:   {:?}",
                case.name,
                case.template,
                String::from_utf8_lossy(got),
                String::from_utf8_lossy(want)
            )),
            (Ok(got), Err(e)) => failures.push(format!(
                "{}: {:?}\n    ours: {:?}\n    go error: {e}",
                case.name,
                case.template,
                String::from_utf8_lossy(got)
            )),
            (Err(e), Ok(want)) => failures.push(format!(
                "{}: {:?}\n    ours error: {e}\n    go:   {:?}",
                case.name,
                case.template,
                String::from_utf8_lossy(want)
            )),
        }
    }
    let same_errors = cases
        .iter()
        .filter(|c| {
            c.go.error.as_deref().is_some_and(|e| {
                template::render_with_clock(&c.name, &c.template, &values, &clock)
                    .is_err_and(|o| o.to_string() == e)
            })
        })
        .count();
    let errors = cases.iter().filter(|c| c.go.error.is_some()).count();
    println!("error cases with Go's exact message: {same_errors} of {errors}");
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Go:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
