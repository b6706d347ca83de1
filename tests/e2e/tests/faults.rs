//! Faults against a real API server (issue 8): a controller killed with SIGKILL in the
//! middle of a batch, the API server restarted in the middle of a batch, the leader of
//! two replicas killed, conflicting writes to a Secret, a malformed key Secret. In
//! every case every Secret ends holding exactly its sealed data (a Secret is written
//! in one request, so "half-written" would show as wrong data), and no controller log
//! holds a secret value (`TestEnv::finish` scans them for every plaintext used).

use std::time::{Duration, Instant};

use e2e::apiserver::ApiServer;
use e2e::{Controller, KEY_LABEL, KEY_LABEL_ACTIVE, TIMEOUT, TestEnv, byte_map, wait_for};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

/// SealedSecrets in the kill and restart batches (`SEALED_SECRETS_TEST_FAULT_COUNT`).
fn batch_size() -> usize {
    std::env::var("SEALED_SECRETS_TEST_FAULT_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Upper bound for a whole batch to be unsealed ("it never finished", not a target).
const BATCH_TIMEOUT: Duration = Duration::from_secs(600);

const LEADER: &str = "sealed_secrets_controller_leader";
const UNSEAL_REQUESTS: &str = "sealed_secrets_controller_unseal_requests_total";

/// Short leader-election timings so the test takes seconds, in client-go's proportions.
const LEASE: Duration = Duration::from_secs(6);
const ELECTION_ARGS: [&str; 4] = [
    "--leader-elect",
    "--leader-elect-lease-duration=6s",
    "--leader-elect-renew-deadline=4s",
    "--leader-elect-retry-period=1s",
];
const RETRY: Duration = Duration::from_secs(1);

/// Starts a controller, waits for its key and certificate, and stops it (SIGTERM,
/// exit 0): the key stays in the namespace for the next controller.
async fn key_and_cert(env: &TestEnv) -> Vec<u8> {
    let mut ctl = env.start_controller(&[]).await;
    forbid_keys(env).await;
    let cert = ctl.wait_cert().await;
    assert!(ctl.stop().success(), "the first controller stops cleanly");
    cert
}

async fn forbid_keys(env: &TestEnv) {
    for key in env.wait_active_keys(1).await {
        env.forbid_private_key(e2e::secret_item(&key, "tls.key"));
    }
}

#[tokio::test]
async fn controller_killed_mid_batch_and_restarted_loses_nothing() {
    let Some(env) = TestEnv::start("fault-kill").await else {
        return;
    };
    let n = batch_size();
    let cert = key_and_cert(&env).await;
    let batch = env.seal_batch(&cert, "k", n, 2);
    env.create_all(&batch.sealed).await;

    let mut first = env.start_controller(&[]).await;
    env.wait_secrets_correct(&batch.expected, (n / 10).max(1), BATCH_TIMEOUT)
        .await;
    first.kill();
    let (correct, problems) = env.compare_secrets(&batch.expected).await;
    println!("SIGKILL after {correct} of {n} Secrets were written");
    assert!(
        correct < n,
        "the kill came after the whole batch; raise SEALED_SECRETS_TEST_FAULT_COUNT"
    );
    // Whatever exists is whole: every Secret written so far holds all of its data.
    let wrong: Vec<_> = problems
        .iter()
        .filter(|p| !p.ends_with("missing"))
        .collect();
    assert!(
        wrong.is_empty(),
        "Secrets with wrong data after the kill: {wrong:?}"
    );

    let second = env.start_controller(&[]).await;
    env.wait_secrets_correct(&batch.expected, n, BATCH_TIMEOUT)
        .await;
    all_synced(&env, n).await;
    env.finish([second]).await;
}

#[tokio::test]
async fn api_server_restarted_mid_batch_loses_nothing() {
    let Some(apiserver) = ApiServer::from_env() else {
        return;
    };
    let Some(env) = TestEnv::start("fault-apiserver").await else {
        return;
    };
    let n = (batch_size() / 2).max(10);
    let cert = key_and_cert(&env).await;
    let batch = env.seal_batch(&cert, "a", n, 2);
    let ctl = env.start_controller(&[]).await;
    env.create_all(&batch.sealed).await;
    env.wait_secrets_correct(&batch.expected, (n / 10).max(1), BATCH_TIMEOUT)
        .await;
    let down = apiserver.restart(&env.client).await;
    let (correct, _) = env.compare_secrets(&batch.expected).await;
    println!("API server restarted (down {down:.1?}) with {correct} of {n} Secrets written");
    env.wait_secrets_correct(&batch.expected, n, BATCH_TIMEOUT)
        .await;

    // The watches came back: SealedSecrets created after the restart are unsealed too.
    let after = env.seal_batch(&cert, "b", 10, 1);
    env.create_all(&after.sealed).await;
    env.wait_secrets_correct(&after.expected, 10, TIMEOUT).await;
    ctl.assert_running();
    all_synced(&env, n + 10).await;
    env.finish([ctl]).await;
}

#[tokio::test]
async fn killed_leader_is_replaced_and_only_the_leader_writes() {
    let Some(env) = TestEnv::start("fault-leader").await else {
        return;
    };
    let a = env.start_controller(&ELECTION_ARGS).await;
    let b = env.start_controller(&ELECTION_ARGS).await;
    forbid_keys(&env).await;
    // Both replicas serve the same certificate, leader or not.
    let cert = a.wait_cert().await;
    assert_eq!(
        b.wait_cert().await,
        cert,
        "both replicas serve one certificate"
    );
    assert_eq!(
        env.active_keys().await.len(),
        1,
        "two replicas made one key (only the leader makes keys)"
    );
    let (mut leader, standby) = one_leader(a, b).await;

    let before = env.seal_batch(&cert, "before", 20, 1);
    env.create_all(&before.sealed).await;
    env.wait_secrets_correct(&before.expected, 20, TIMEOUT)
        .await;
    assert_eq!(
        standby.metrics().await.sum(UNSEAL_REQUESTS, &[]),
        Some(0.0),
        "the standby reconciled nothing"
    );
    let lease_before = lease(&env).await;

    // No warning: SIGKILL, the Lease is not released.
    leader.kill();
    let killed = Instant::now();
    wait_for(
        "the standby to take the Lease",
        TIMEOUT,
        async || match standby.metrics().await.sum(LEADER, &[]) {
            Some(1.0) => Ok(()),
            other => Err(format!("{LEADER} = {other:?}")),
        },
    )
    .await;
    let takeover = killed.elapsed();
    println!(
        "leader killed; standby leads after {takeover:.1?} (lease {LEASE:?}, retry {RETRY:?})"
    );
    // The protocol's bound: a lease duration (plus one retry) after the last renewal,
    // which precedes the kill. Generous slack for a loaded machine; not a speed target.
    assert!(
        takeover <= LEASE + RETRY + Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
    let lease_after = lease(&env).await;
    let spec = lease_after.spec.clone().unwrap_or_default();
    assert_ne!(
        spec.holder_identity,
        lease_before
            .spec
            .clone()
            .unwrap_or_default()
            .holder_identity,
        "the Lease changed hands"
    );
    assert!(spec.lease_transitions.unwrap_or(0) >= 1, "{spec:?}");

    let after = env.seal_batch(&cert, "after", 20, 1);
    env.create_all(&after.sealed).await;
    env.wait_secrets_correct(&after.expected, 20, TIMEOUT).await;

    // A replacement replica joins as a standby; there is still one leader.
    let replacement = env.start_controller(&ELECTION_ARGS).await;
    replacement.wait_cert().await;
    tokio::time::sleep(LEASE).await;
    assert_eq!(replacement.metrics().await.sum(LEADER, &[]), Some(0.0));
    assert_eq!(standby.metrics().await.sum(LEADER, &[]), Some(1.0));
    env.finish([standby, replacement]).await;
}

/// Waits until exactly one of two replicas leads; returns (leader, standby).
async fn one_leader(a: Controller, b: Controller) -> (Controller, Controller) {
    let a_leads = wait_for("exactly one replica to lead", TIMEOUT, async || {
        let (x, y) = (
            a.metrics().await.sum(LEADER, &[]),
            b.metrics().await.sum(LEADER, &[]),
        );
        match (x, y) {
            (Some(1.0), Some(0.0)) => Ok(true),
            (Some(0.0), Some(1.0)) => Ok(false),
            other => Err(format!("{LEADER} = {other:?}")),
        }
    })
    .await;
    if a_leads { (a, b) } else { (b, a) }
}

async fn lease(env: &TestEnv) -> Lease {
    Api::<Lease>::namespaced(env.client.clone(), &env.namespace)
        .get("sealed-secrets-controller")
        .await
        .unwrap_or_else(|e| panic!("reading the Lease: {e}"))
}

#[tokio::test]
async fn conflicting_writes_to_a_secret_end_with_the_sealed_data() {
    let Some(env) = TestEnv::start("fault-conflict").await else {
        return;
    };
    let ctl = env.start_controller(&[]).await;
    forbid_keys(&env).await;
    let cert = ctl.wait_cert().await;
    let cert_file = env.write_file("cert.pem", &cert);
    let (v1, v2) = (env.plaintext("v1"), env.plaintext("v2"));
    let ss = env
        .seal_with_cert(&cert_file, "db", &[("password", &v1)])
        .await;
    env.create_sealed_secret(&ss).await;
    env.wait_secret_data("db", &[("password", &v1)]).await;

    // Another writer overwrites the Secret's data over and over while the SealedSecret
    // changes underneath: the controller and the writer race on every write.
    let intruder = env.plaintext("intruder");
    let writer = {
        let api: Api<Secret> = env.secrets();
        let intruder = intruder.clone();
        tokio::spawn(async move {
            let pp = PatchParams::apply("someone-else").force();
            for i in 0..40 {
                let patch = serde_json::json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "db"},
                    "data": {"password": base64_of(&format!("{intruder}-{i}"))},
                });
                let _ = api.patch("db", &pp, &Patch::Apply(&patch)).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let updated = env
        .seal_with_cert(&cert_file, "db", &[("password", &v2)])
        .await;
    let mut current = env
        .sealed_secrets()
        .get("db")
        .await
        .expect("the SealedSecret");
    current.spec = updated.spec;
    env.sealed_secrets()
        .replace("db", &PostParams::default(), &current)
        .await
        .expect("updating the SealedSecret");
    writer.await.expect("the writer task");
    env.wait_secret_data("db", &[("password", &v2)]).await;
    env.wait_synced("db", "True").await;
    env.finish([ctl]).await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn malformed_key_secret_is_skipped_and_never_logged() {
    let Some(env) = TestEnv::start("fault-badkey").await else {
        return;
    };
    let cert = key_and_cert(&env).await;
    // An active-labelled key Secret whose key is garbage in PEM armour, and an Opaque
    // one with no key at all (the API server requires tls.key of kubernetes.io/tls).
    // Neither may stop the controller or reach its log.
    let garbage = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        "TUlJRXBBSUJBQUtDQVFFQXVuZ2FyYmFnZWtleW1hdGVyaWFsbm90YXJlYWxrZXk="
    );
    env.forbid_private_key(garbage.as_bytes());
    for (name, type_, data) in [
        (
            "sealed-secrets-keybad1",
            "kubernetes.io/tls",
            vec![
                ("tls.key", garbage.as_str()),
                ("tls.crt", "not a certificate"),
            ],
        ),
        (
            "sealed-secrets-keybad2",
            "Opaque",
            vec![("tls.crt", "no key here")],
        ),
    ] {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some([(KEY_LABEL.to_owned(), KEY_LABEL_ACTIVE.to_owned())].into()),
                ..ObjectMeta::default()
            },
            type_: Some(type_.to_owned()),
            data: Some(byte_map(&data)),
            ..Secret::default()
        };
        env.secrets()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    }

    // A controller started with the bad keys present works with the good one.
    let ctl = env.start_controller(&[]).await;
    assert_eq!(
        ctl.wait_cert().await,
        cert,
        "the good key's certificate is served"
    );
    let batch = env.seal_batch(&cert, "ok", 5, 1);
    env.create_all(&batch.sealed).await;
    env.wait_secrets_correct(&batch.expected, 5, TIMEOUT).await;
    ctl.assert_running();
    let log = ctl.log_text();
    assert!(
        log.contains("sealed-secrets-keybad1") && log.contains("skipping"),
        "the bad key is reported by name: {}",
        ctl.log_tail(20)
    );
    env.finish([ctl]).await;
}

/// Every SealedSecret of the namespace is `Synced=True` for its generation.
async fn all_synced(env: &TestEnv, n: usize) {
    wait_for(
        &format!("{n} SealedSecrets to be Synced"),
        BATCH_TIMEOUT,
        async || {
            let list = env
                .sealed_secrets()
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?;
            let synced = list
                .items
                .iter()
                .filter(|ss| {
                    e2e::synced_condition(ss).is_some_and(|c| c.status == "True")
                        && ss.status.as_ref().and_then(|s| s.observed_generation)
                            == ss.metadata.generation
                })
                .count();
            if synced >= n {
                Ok(())
            } else {
                Err(format!("{synced} of {} Synced", list.items.len()))
            }
        },
    )
    .await;
}
