//! The controller (issue 3) against a real API server. Each test runs its own
//! controller process, watching only the test's own namespace.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use e2e::{
    Controller, KEY_LABEL, KEY_LABEL_ACTIVE, MANAGED_ANNOTATION, TIMEOUT, TestEnv, byte_map,
    cert_der, http, parse_sealed_secret, secret_item, synced_condition, wait_for,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use sealed_secrets::SealedSecret;

const RSA_DECRYPTIONS: &str = "sealed_secrets_controller_rsa_decryptions_total";

/// Starts a controller and waits for its first key; returns it with the served cert
/// written to `cert.pem` in the test dir.
async fn controller_with_cert(env: &TestEnv, args: &[&str]) -> (Controller, std::path::PathBuf) {
    let ctl = env.start_controller(args).await;
    for key in env.wait_active_keys(1).await {
        env.forbid_private_key(secret_item(&key, "tls.key"));
    }
    let cert = ctl.wait_cert().await;
    let file = env.write_file("cert.pem", &cert);
    (ctl, file)
}

/// `kubeseal --recovery-unseal` with one private key file: did it decrypt?
async fn recovery_unseal_works(env: &TestEnv, key: &Path, ss: &SealedSecret) -> bool {
    let json = serde_json::to_vec(ss).expect("a SealedSecret serializes");
    let out = env
        .kubeseal(
            &[
                OsStr::new("--recovery-unseal"),
                OsStr::new("--recovery-private-key"),
                key.as_os_str(),
            ],
            Some(&json),
        )
        .await;
    out.status.success()
}

/// The key Secret whose certificate is `cert_pem`.
async fn key_for_cert(env: &TestEnv, cert_pem: &[u8]) -> Secret {
    let want = cert_der(cert_pem);
    env.active_keys()
        .await
        .into_iter()
        .find(|k| cert_der(secret_item(k, "tls.crt")) == want)
        .expect("an active key Secret holds the served certificate")
}

#[tokio::test]
async fn first_key_is_generated_and_its_cert_served() {
    let Some(env) = TestEnv::start("first-key").await else {
        return;
    };
    let ctl = env.start_controller(&[]).await;
    let keys = env.wait_active_keys(1).await;
    assert_eq!(keys.len(), 1, "exactly one key is generated at first start");
    let key = &keys[0];
    env.forbid_private_key(secret_item(key, "tls.key"));
    assert_eq!(key.type_.as_deref(), Some("kubernetes.io/tls"));
    let name = key.metadata.name.as_deref().unwrap_or_default();
    assert!(
        name.starts_with("sealed-secrets-key"),
        "key Secret name {name:?} starts with the key prefix"
    );
    assert_eq!(
        key.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(KEY_LABEL))
            .map(String::as_str),
        Some(KEY_LABEL_ACTIVE)
    );
    let tls_key = String::from_utf8_lossy(secret_item(key, "tls.key")).into_owned();
    assert!(
        tls_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "tls.key is a PKCS#1 PEM"
    );

    ctl.wait_cert().await;
    let resp = http::get(ctl.addr, "/v1/cert.pem")
        .await
        .expect("GET /v1/cert.pem");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type.as_deref(), Some("application/x-pem-file"));
    assert_eq!(cert_der(&resp.body), cert_der(secret_item(key, "tls.crt")));

    let health = http::get(ctl.addr, "/healthz").await.expect("GET /healthz");
    assert_eq!((health.status, health.body.as_slice()), (200, &b"ok\n"[..]));
    env.finish([ctl]).await;
}

#[tokio::test]
async fn sealed_secret_is_unsealed_with_owner_status_and_event_then_updated() {
    let Some(env) = TestEnv::start("unseal").await else {
        return;
    };
    let (ctl, cert) = controller_with_cert(&env, &[]).await;
    let password = env.plaintext("password");
    let ss = env
        .seal_with_cert(&cert, "app", &[("password", &password)])
        .await;
    let created = env.create_sealed_secret(&ss).await;

    let secret = env
        .wait_secret_data("app", &[("password", &password)])
        .await;
    let owners = secret.metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(owners.len(), 1, "one owner reference: {owners:?}");
    let owner = &owners[0];
    assert_eq!(owner.api_version, "bitnami.com/v1alpha1");
    assert_eq!(owner.kind, "SealedSecret");
    assert_eq!(owner.name, "app");
    assert_eq!(Some(&owner.uid), created.metadata.uid.as_ref());
    assert_eq!(owner.controller, Some(true));

    let synced = env.wait_synced("app", "True").await;
    assert_eq!(
        synced.status.as_ref().and_then(|s| s.observed_generation),
        synced.metadata.generation
    );
    let event = env.wait_event("app", "Unsealed").await;
    assert_eq!(event.type_.as_deref(), Some("Normal"));

    // A new spec (another value, one more key) is unsealed over the old Secret.
    let password2 = env.plaintext("password2");
    let user = env.plaintext("user");
    let ss2 = env
        .seal_with_cert(&cert, "app", &[("password", &password2), ("user", &user)])
        .await;
    let api = env.sealed_secrets();
    let mut current = api.get("app").await.expect("reading SealedSecret app");
    current.spec = ss2.spec;
    let replaced = api
        .replace("app", &PostParams::default(), &current)
        .await
        .expect("updating SealedSecret app");
    assert!(replaced.metadata.generation > synced.metadata.generation);
    let updated = env
        .wait_secret_data("app", &[("password", &password2), ("user", &user)])
        .await;
    assert_eq!(
        updated.metadata.uid, secret.metadata.uid,
        "the Secret is updated in place"
    );
    let synced2 = env.wait_synced("app", "True").await;
    assert_eq!(synced2.metadata.generation, replaced.metadata.generation);
    env.finish([ctl]).await;
}

#[tokio::test]
async fn strict_scope_rename_fails_with_status_and_event() {
    let Some(env) = TestEnv::start("rename").await else {
        return;
    };
    let (ctl, cert) = controller_with_cert(&env, &[]).await;
    let password = env.plaintext("password");
    let ss = env
        .seal_with_cert(&cert, "original", &[("password", &password)])
        .await;
    let mut renamed = ss.clone();
    renamed.metadata.name = Some("renamed".to_owned());
    env.create_sealed_secret(&renamed).await;

    let failed = env.wait_synced("renamed", "False").await;
    let cond = synced_condition(&failed).expect("a Synced condition");
    let message = cond.message.as_deref().unwrap_or_default();
    assert!(
        message.contains("no key could decrypt secret"),
        "Synced=False message {message:?} says no key could decrypt"
    );
    let event = env.wait_event("renamed", "ErrUnsealFailed").await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert!(
        env.secrets()
            .get_opt("renamed")
            .await
            .expect("reading Secret renamed")
            .is_none(),
        "no Secret is produced"
    );
    env.finish([ctl]).await;
}

#[tokio::test]
async fn existing_unmanaged_secret_is_left_untouched() {
    let Some(env) = TestEnv::start("unmanaged").await else {
        return;
    };
    let (ctl, cert) = controller_with_cert(&env, &[]).await;
    let mine = env.plaintext("hand-made");
    let before = env
        .create_secret("existing", &[], &[("password", &mine)])
        .await;
    let sealed_value = env.plaintext("sealed");
    let ss = env
        .seal_with_cert(&cert, "existing", &[("password", &sealed_value)])
        .await;
    env.create_sealed_secret(&ss).await;

    let failed = env.wait_synced("existing", "False").await;
    let cond = synced_condition(&failed).expect("a Synced condition");
    let message = cond.message.as_deref().unwrap_or_default();
    assert!(
        message.contains("not managed"),
        "Synced=False message {message:?} says the Secret is not managed"
    );
    assert_eq!(
        cond.reason.as_deref(),
        Some("Unmanaged"),
        "condition {cond:?}"
    );
    let after = env
        .secrets()
        .get("existing")
        .await
        .expect("reading Secret existing");
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "the unmanaged Secret is not written"
    );
    assert_eq!(after.data, Some(byte_map(&[("password", &mine)])));
    assert!(after.metadata.owner_references.is_none());
    env.finish([ctl]).await;
}

#[tokio::test]
async fn secret_annotated_managed_is_adopted() {
    let Some(env) = TestEnv::start("adopt").await else {
        return;
    };
    let (ctl, cert) = controller_with_cert(&env, &[]).await;
    let stale = env.plaintext("stale");
    let before = env
        .create_secret(
            "adopted",
            &[(MANAGED_ANNOTATION, "true")],
            &[("password", &stale)],
        )
        .await;
    let fresh = env.plaintext("fresh");
    let ss = env
        .seal_with_cert(&cert, "adopted", &[("password", &fresh)])
        .await;
    let created = env.create_sealed_secret(&ss).await;

    let secret = env
        .wait_secret_data("adopted", &[("password", &fresh)])
        .await;
    assert_eq!(
        secret.metadata.uid, before.metadata.uid,
        "adopted in place, not recreated"
    );
    let owners = secret.metadata.owner_references.unwrap_or_default();
    assert!(
        owners
            .iter()
            .any(|o| Some(&o.uid) == created.metadata.uid.as_ref() && o.controller == Some(true)),
        "the adopted Secret is controlled by the SealedSecret: {owners:?}"
    );
    env.wait_synced("adopted", "True").await;
    env.finish([ctl]).await;
}

/// A controller with SealedSecret `drift` unsealed and Synced; returns the Secret.
async fn synced_drift(env: &TestEnv, password: &str) -> (Controller, Secret) {
    let (ctl, cert) = controller_with_cert(env, &[]).await;
    let ss = env
        .seal_with_cert(&cert, "drift", &[("password", password)])
        .await;
    env.create_sealed_secret(&ss).await;
    let secret = env
        .wait_secret_data("drift", &[("password", password)])
        .await;
    env.wait_synced("drift", "True").await;
    (ctl, secret)
}

#[tokio::test]
async fn deleted_secret_is_recreated() {
    let Some(env) = TestEnv::start("recreate").await else {
        return;
    };
    let password = env.plaintext("password");
    let (ctl, first) = synced_drift(&env, &password).await;
    let api = env.secrets();
    api.delete("drift", &DeleteParams::default())
        .await
        .expect("deleting Secret drift");
    let want = byte_map(&[("password", &password)]);
    wait_for(
        "the deleted Secret to be recreated",
        TIMEOUT,
        async || match api.get_opt("drift").await.map_err(|e| e.to_string())? {
            Some(s) if s.metadata.uid != first.metadata.uid && s.data.as_ref() == Some(&want) => {
                Ok(())
            }
            Some(s) if s.metadata.uid == first.metadata.uid => {
                Err("the old Secret is still there".to_owned())
            }
            Some(_) => Err("recreated with other data".to_owned()),
            None => Err("no Secret".to_owned()),
        },
    )
    .await;
    env.finish([ctl]).await;
}

#[tokio::test]
async fn hand_edited_secret_is_restored() {
    let Some(env) = TestEnv::start("hand-edit").await else {
        return;
    };
    let password = env.plaintext("password");
    let (ctl, _) = synced_drift(&env, &password).await;
    // Edited right after the controller wrote it (as a deploy tool racing it would).
    let tampered = env.plaintext("tampered");
    let patch = serde_json::json!({"stringData": {"password": tampered}});
    env.secrets()
        .patch("drift", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("editing Secret drift");
    env.wait_secret_data("drift", &[("password", &password)])
        .await;
    env.finish([ctl]).await;
}

#[tokio::test]
async fn renewed_key_seals_new_secrets_and_old_ones_still_unseal() {
    let Some(env) = TestEnv::start("renew").await else {
        return;
    };
    let (ctl, cert1_file) = controller_with_cert(&env, &["--key-renew-period=3s"]).await;
    let cert1 = std::fs::read(&cert1_file).expect("reading cert.pem");
    let old_value = env.plaintext("old");
    let old = env
        .seal_with_cert(&cert1_file, "old", &[("password", &old_value)])
        .await;

    let cert2 = wait_for(
        "cert.pem to change after a key renewal",
        TIMEOUT,
        async || {
            let cert = ctl.cert_pem().await;
            if cert_der(&cert) == cert_der(&cert1) {
                Err("still the first certificate".to_owned())
            } else {
                Ok(cert)
            }
        },
    )
    .await;
    let keys = env.wait_active_keys(2).await;
    for key in &keys {
        env.forbid_private_key(secret_item(key, "tls.key"));
    }

    // Sealed before the renewal: still unseals.
    env.create_sealed_secret(&old).await;
    env.wait_secret_data("old", &[("password", &old_value)])
        .await;
    env.wait_synced("old", "True").await;

    // Sealed with the new certificate: unseals, and only the new key opens it.
    let cert2_file = env.write_file("cert2.pem", &cert2);
    let new_value = env.plaintext("new");
    let new = env
        .seal_with_cert(&cert2_file, "new", &[("password", &new_value)])
        .await;
    env.create_sealed_secret(&new).await;
    env.wait_secret_data("new", &[("password", &new_value)])
        .await;
    env.wait_synced("new", "True").await;
    let key1 = key_for_cert(&env, &cert1).await;
    let key2 = key_for_cert(&env, &cert2).await;
    let key1_file = env.write_file("key1.pem", secret_item(&key1, "tls.key"));
    let key2_file = env.write_file("key2.pem", secret_item(&key2, "tls.key"));
    assert!(recovery_unseal_works(&env, &key2_file, &new).await);
    assert!(
        !recovery_unseal_works(&env, &key1_file, &new).await,
        "a SealedSecret sealed with the renewed certificate must not open with the first key"
    );
    env.finish([ctl]).await;
}

#[tokio::test]
async fn hand_added_key_is_used_without_restart() {
    let Some(env) = TestEnv::start("byo-key").await else {
        return;
    };
    let (ctl, first_cert) = controller_with_cert(&env, &[]).await;
    let first_cert = std::fs::read(first_cert).expect("reading cert.pem");
    // Certificate validity times have one-second precision; the hand-made certificate
    // must be strictly newer than the generated one to become the one served.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let key_file = env.dir().join("byo.key");
    let cert_file = env.dir().join("byo.crt");
    env.kubeseal_ok(
        &[
            OsStr::new("keygen"),
            OsStr::new("--key-size"),
            OsStr::new("2048"),
            OsStr::new("--key-out"),
            key_file.as_os_str(),
            OsStr::new("--cert-out"),
            cert_file.as_os_str(),
        ],
        None,
    )
    .await;
    let key_pem = std::fs::read(&key_file).expect("reading the generated key");
    let cert_pem = std::fs::read(&cert_file).expect("reading the generated cert");
    env.forbid_private_key(&key_pem);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("hand-made-key".to_owned()),
            labels: Some(
                [(KEY_LABEL.to_owned(), KEY_LABEL_ACTIVE.to_owned())]
                    .into_iter()
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".to_owned()),
        data: Some(
            [
                ("tls.key".to_owned(), k8s_openapi::ByteString(key_pem)),
                (
                    "tls.crt".to_owned(),
                    k8s_openapi::ByteString(cert_pem.clone()),
                ),
            ]
            .into_iter()
            .collect(),
        ),
        ..Secret::default()
    };
    env.secrets()
        .create(&PostParams::default(), &secret)
        .await
        .expect("creating the hand-made key Secret");

    wait_for(
        "the controller to serve the hand-added (newest) certificate",
        TIMEOUT,
        async || {
            let served = ctl.cert_pem().await;
            if cert_der(&served) == cert_der(&cert_pem) {
                Ok(())
            } else if cert_der(&served) == cert_der(&first_cert) {
                Err("still serving the generated certificate".to_owned())
            } else {
                Err("serving a third certificate".to_owned())
            }
        },
    )
    .await;
    let value = env.plaintext("byo");
    let ss = env
        .seal_with_cert(&cert_file, "byo", &[("password", &value)])
        .await;
    env.create_sealed_secret(&ss).await;
    env.wait_secret_data("byo", &[("password", &value)]).await;
    env.wait_synced("byo", "True").await;
    env.finish([ctl]).await;
}

#[tokio::test]
async fn warm_restart_decrypts_nothing_already_synced() {
    let Some(env) = TestEnv::start("warm-restart").await else {
        return;
    };
    let (mut first, cert) = controller_with_cert(&env, &[]).await;
    let mut secrets = Vec::new();
    for name in ["one", "two"] {
        let a = env.plaintext("a");
        let b = env.plaintext("b");
        let ss = env
            .seal_with_cert(&cert, name, &[("a", &a), ("b", &b)])
            .await;
        env.create_sealed_secret(&ss).await;
        secrets.push((name, a, b));
    }
    let mut versions = Vec::new();
    for (name, a, b) in &secrets {
        let s = env.wait_secret_data(name, &[("a", a), ("b", b)]).await;
        env.wait_synced(name, "True").await;
        versions.push(s.metadata.resource_version);
    }
    let before = first
        .metrics()
        .await
        .sum(RSA_DECRYPTIONS, &[])
        .expect("the first process exports the RSA decryption counter");
    assert!(before >= 4.0, "4 values were unsealed, counter {before}");
    let status = first.stop();
    assert!(status.success(), "SIGTERM exits 0, got {status}");

    let second = env.start_controller(&[]).await;
    // A SealedSecret created after the restart: once it is Synced, the new process has
    // gone through what it listed at startup (queued before it).
    let s = env.plaintext("sentinel");
    let sentinel = env.seal_with_cert(&cert, "sentinel", &[("s", &s)]).await;
    env.create_sealed_secret(&sentinel).await;
    env.wait_secret_data("sentinel", &[("s", &s)]).await;
    env.wait_synced("sentinel", "True").await;

    let after = second
        .metrics()
        .await
        .sum(RSA_DECRYPTIONS, &[])
        .expect("the new process exports the RSA decryption counter");
    assert_eq!(
        after, 1.0,
        "after a warm restart only the sentinel's one value needs an RSA decryption; \
         the 4 values already synced must cost none"
    );
    for ((name, _, _), version) in secrets.iter().zip(&versions) {
        let s = env.secrets().get(name).await.expect("reading a Secret");
        assert_eq!(
            &s.metadata.resource_version, version,
            "Secret {name} is not rewritten after a warm restart"
        );
    }
    // The new process still serves the SealedSecrets it found at startup: deleted, their
    // Secrets come back.
    for (name, a, b) in &secrets {
        env.secrets()
            .delete(name, &DeleteParams::default())
            .await
            .expect("deleting a Secret");
        env.wait_secret_data(name, &[("a", a), ("b", b)]).await;
    }
    env.finish([first, second]).await;
}

/// `POST /v1/verify`, waiting out its rate limit (`--rate-limit` 2/s, burst 2): a 429
/// is the limiter, not the verdict.
async fn verify(ctl: &Controller, body: Vec<u8>) -> http::Response {
    wait_for("a /v1/verify answer other than 429", TIMEOUT, async || {
        let resp = http::post(ctl.addr, "/v1/verify", "application/json", body.clone()).await?;
        if resp.status == 429 {
            Err("429 Too Many Requests".to_owned())
        } else {
            Ok(resp)
        }
    })
    .await
}

#[tokio::test]
async fn verify_and_rotate_endpoints() {
    let Some(env) = TestEnv::start("verify-rotate").await else {
        return;
    };
    let (ctl, cert) = controller_with_cert(&env, &[]).await;
    let value = env.plaintext("checked");
    let ss = env
        .seal_with_cert(&cert, "checked", &[("password", &value)])
        .await;
    let body = serde_json::to_vec(&ss).expect("a SealedSecret serializes");

    let ok = verify(&ctl, body.clone()).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let mut renamed = ss.clone();
    renamed.metadata.name = Some("other".to_owned());
    let bad = verify(
        &ctl,
        serde_json::to_vec(&renamed).expect("a SealedSecret serializes"),
    )
    .await;
    assert_eq!(bad.status, 409, "{}", String::from_utf8_lossy(&bad.body));

    let rotated = http::post(ctl.addr, "/v1/rotate", "application/json", body)
        .await
        .expect("POST /v1/rotate");
    assert_eq!(
        rotated.status,
        200,
        "{}",
        String::from_utf8_lossy(&rotated.body)
    );
    let rotated = parse_sealed_secret(&rotated.body);
    assert_eq!(
        rotated.spec.encrypted_data.keys().collect::<Vec<_>>(),
        ss.spec.encrypted_data.keys().collect::<Vec<_>>()
    );
    assert_ne!(
        rotated.spec.encrypted_data["password"], ss.spec.encrypted_data["password"],
        "re-sealing makes a new ciphertext"
    );
    let again = verify(
        &ctl,
        serde_json::to_vec(&rotated).expect("a SealedSecret serializes"),
    )
    .await;
    assert_eq!(again.status, 200, "the rotated SealedSecret verifies");
    env.create_sealed_secret(&rotated).await;
    env.wait_secret_data("checked", &[("password", &value)])
        .await;
    env.wait_synced("checked", "True").await;
    env.finish([ctl]).await;
}
