//! The template corpus (crates/sealed-secrets/tests/template-corpus.json) against Go:
//! `template-oracle check` (tests/peers/template: text/template and Sprig exactly as
//! upstream's controller v0.36.6 configures them) recomputes every case and fails if a
//! recorded result is no longer what Go makes of it. After a deliberate change, rerun
//! `template-oracle record` on the corpus (tests/peers/README.md).

use std::process::Command;

use e2e::go::template_oracle;

#[test]
fn template_corpus_is_what_go_computes() {
    let Some(oracle) = template_oracle() else {
        return;
    };
    e2e::record_ran("peer", "template_corpus_is_what_go_computes");
    let corpus = e2e::workspace_root().join("crates/sealed-secrets/tests/template-corpus.json");
    let out = Command::new(&oracle)
        .arg("check")
        .arg(&corpus)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", oracle.display()));
    assert!(
        out.status.success(),
        "Go's results differ from {} ({}):\n{}{}",
        corpus.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
