//! Health as GitOps tools compute it (issue 19): kstatus, the real Go library from
//! sigs.k8s.io/cli-utils that Flux's health checks use (tests/peers/kstatus), on
//! SealedSecrets our controller reconciled on the real API server.

use std::io::Write;
use std::process::{Command, Stdio};

use e2e::TestEnv;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use sealed_secrets::SealedSecret;

/// Variable naming the kstatus binary (scripts/peers.sh).
const KSTATUS_ENV: &str = "SEALED_SECRETS_KSTATUS";

/// kstatus's (status, message) for the SealedSecret `name` as the API server has it.
async fn kstatus(env: &TestEnv, bin: &std::path::Path, name: &str) -> (String, String) {
    let api: Api<DynamicObject> = Api::namespaced_with(
        env.client.clone(),
        &env.namespace,
        &ApiResource::erase::<SealedSecret>(&()),
    );
    let object = api.get(name).await.expect("reading the SealedSecret");
    let json = serde_json::to_vec(&object).expect("an object serializes");
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kstatus");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&json)
        .expect("writing to kstatus");
    let out = child.wait_with_output().expect("kstatus ran");
    assert!(
        out.status.success(),
        "kstatus failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).expect("utf-8");
    let (status, message) = line
        .trim_end()
        .split_once('\t')
        .expect("status<TAB>message");
    (status.to_owned(), message.to_owned())
}

#[tokio::test]
async fn kstatus_says_current_when_synced_and_failed_when_it_cannot_unseal() {
    let Some(bin) = e2e::go::go_binary(KSTATUS_ENV) else {
        return;
    };
    let Some(env) = TestEnv::start("kstatus").await else {
        return;
    };
    let ctl = env.start_controller(&[]).await;
    let cert = env.write_file("cert.pem", &ctl.wait_cert().await);
    let good = env
        .seal_with_cert(&cert, "good", &[("password", &env.plaintext("good"))])
        .await;
    env.create_sealed_secret(&good).await;
    // Strict scope, sealed for another name: no key can ever open it here.
    let mut bad = env
        .seal_with_cert(&cert, "original", &[("password", &env.plaintext("bad"))])
        .await;
    bad.metadata.name = Some("bad".to_owned());
    env.create_sealed_secret(&bad).await;

    env.wait_synced("good", "True").await;
    let (status, message) = kstatus(&env, &bin, "good").await;
    assert_eq!(status, "Current", "{message}");

    let failed = env.wait_synced("bad", "False").await;
    let (status, message) = kstatus(&env, &bin, "bad").await;
    assert_eq!(status, "Failed", "{message}; {:?}", failed.status);
    assert!(
        message.contains("no key could decrypt"),
        "kstatus passes on the reason: {message}"
    );

    // Sealed properly for its name: Current again, and the Stalled condition is gone.
    let fixed = env
        .seal_with_cert(&cert, "bad", &[("password", &env.plaintext("fixed"))])
        .await;
    let mut current = env.sealed_secrets().get("bad").await.expect("reading bad");
    current.spec = fixed.spec;
    env.sealed_secrets()
        .replace("bad", &PostParams::default(), &current)
        .await
        .expect("updating bad");
    let synced = env.wait_synced("bad", "True").await;
    let (status, message) = kstatus(&env, &bin, "bad").await;
    assert_eq!(status, "Current", "{message}");
    let types: Vec<_> = synced
        .status
        .iter()
        .flat_map(|s| &s.conditions)
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(types, ["Synced"], "no Stalled or Reconciling once synced");
    env.finish([ctl]).await;
}
