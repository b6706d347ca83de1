//! kubeseal's cluster features (issue 4) against a real API server: kubeseal reaches
//! the controller through the API server's service proxy, as in a cluster. The
//! controller listens on `127.0.0.N`; a stand-in Pod at `192.0.2.N` and an Endpoints
//! object route the Service `sealed-secrets-controller` there (see `e2e::proxy`).

use std::ffi::{OsStr, OsString};
use std::path::Path;

use e2e::proxy::{CONTROLLER_SERVICE, ProxyArrangement};
use e2e::{
    Controller, TIMEOUT, TestEnv, cert_der, next_host, parse_sealed_secret, secret_item, wait_for,
};
use sealed_secrets::SealedSecret;

/// A controller reachable through Service `sealed-secrets-controller` in the test
/// namespace; waits until the proxy path answers.
async fn controller_behind_service(
    env: &TestEnv,
    args: &[&str],
) -> (Controller, ProxyArrangement, u8) {
    let host = next_host();
    let ctl = env.start_controller_on(host, args).await;
    let proxy = ProxyArrangement::create(
        &env.client,
        &env.namespace,
        CONTROLLER_SERVICE,
        host,
        ctl.addr.port(),
    )
    .await;
    wait_proxy_healthy(&proxy).await;
    for key in env.wait_active_keys(1).await {
        env.forbid_private_key(secret_item(&key, "tls.key"));
    }
    ctl.wait_cert().await;
    (ctl, proxy, host)
}

async fn wait_proxy_healthy(proxy: &ProxyArrangement) {
    wait_for(
        "the controller's /healthz through the service proxy",
        TIMEOUT,
        async || match proxy.get("/healthz").await? {
            (200, _) => Ok(()),
            (code, body) => Err(format!("HTTP {code}: {}", String::from_utf8_lossy(&body))),
        },
    )
    .await;
}

/// `--kubeconfig`, `--controller-name`, `--controller-namespace` for this test.
fn cluster_args(env: &TestEnv) -> Vec<OsString> {
    vec![
        "--kubeconfig".into(),
        env.kubeconfig.clone().into_os_string(),
        format!("--controller-name={CONTROLLER_SERVICE}").into(),
        format!("--controller-namespace={}", env.namespace).into(),
    ]
}

fn args(base: &[&str], env: &TestEnv) -> Vec<OsString> {
    let mut v: Vec<OsString> = base.iter().map(OsString::from).collect();
    v.extend(cluster_args(env));
    v
}

fn to_json(ss: &SealedSecret) -> Vec<u8> {
    serde_json::to_vec(ss).expect("a SealedSecret serializes")
}

#[tokio::test]
async fn fetch_cert_and_seal_through_the_api_server() {
    let Some(env) = TestEnv::start("ks-fetch").await else {
        return;
    };
    let (ctl, _proxy, _) = controller_behind_service(&env, &[]).await;
    let direct = ctl.cert_pem().await;
    let fetched = env.kubeseal_ok(&args(&["--fetch-cert"], &env), None).await;
    assert_eq!(
        String::from_utf8_lossy(&fetched),
        String::from_utf8_lossy(&direct),
        "kubeseal --fetch-cert prints the controller's /v1/cert.pem"
    );

    // Sealing without --cert fetches the certificate the same way.
    let value = env.plaintext("online");
    let manifest = env.secret_manifest("online", &[("password", &value)]);
    let out = env
        .kubeseal_ok(&args(&["--format", "json"], &env), Some(&manifest))
        .await;
    let ss = parse_sealed_secret(&out);
    env.create_sealed_secret(&ss).await;
    env.wait_secret_data("online", &[("password", &value)])
        .await;
    env.wait_synced("online", "True").await;
    env.finish([ctl]).await;
}

#[tokio::test]
async fn validate_online_accepts_good_and_rejects_bad() {
    let Some(env) = TestEnv::start("ks-validate").await else {
        return;
    };
    let (ctl, _proxy, _) = controller_behind_service(&env, &[]).await;
    let cert = env.write_file("cert.pem", &ctl.cert_pem().await);
    let value = env.plaintext("validated");
    let ss = env
        .seal_with_cert(&cert, "validated", &[("password", &value)])
        .await;
    let good = env
        .kubeseal(&args(&["--validate"], &env), Some(&to_json(&ss)))
        .await;
    assert!(
        good.status.success(),
        "kubeseal --validate of a good SealedSecret: {} {}",
        good.status,
        String::from_utf8_lossy(&good.stderr)
    );

    let mut renamed = ss.clone();
    renamed.metadata.name = Some("elsewhere".to_owned());
    let bad = env
        .kubeseal(&args(&["--validate"], &env), Some(&to_json(&renamed)))
        .await;
    assert!(
        !bad.status.success(),
        "kubeseal --validate of a SealedSecret renamed under strict scope must fail"
    );
    assert!(!bad.stderr.is_empty(), "the failure is explained on stderr");
    env.finish([ctl]).await;
}

#[tokio::test]
async fn re_encrypt_online_gives_a_new_sealed_secret_that_unseals() {
    let Some(env) = TestEnv::start("ks-reencrypt").await else {
        return;
    };
    let (ctl, _proxy, _) = controller_with_proxy_and_cert(&env).await;
    let cert = env.dir().join("cert.pem");
    let value = env.plaintext("rotated");
    let ss = env
        .seal_with_cert(&cert, "rotated", &[("password", &value)])
        .await;
    let out = env
        .kubeseal_ok(
            &args(&["--re-encrypt", "--format", "json"], &env),
            Some(&to_json(&ss)),
        )
        .await;
    let rotated = parse_sealed_secret(&out);
    assert_eq!(rotated.metadata.name.as_deref(), Some("rotated"));
    assert_ne!(
        rotated.spec.encrypted_data.get("password"),
        ss.spec.encrypted_data.get("password"),
        "re-encryption makes a new ciphertext"
    );
    env.create_sealed_secret(&rotated).await;
    env.wait_secret_data("rotated", &[("password", &value)])
        .await;
    env.wait_synced("rotated", "True").await;
    env.finish([ctl]).await;
}

async fn controller_with_proxy_and_cert(env: &TestEnv) -> (Controller, ProxyArrangement, u8) {
    let (ctl, proxy, host) = controller_behind_service(env, &[]).await;
    env.write_file("cert.pem", &ctl.cert_pem().await);
    (ctl, proxy, host)
}

/// `kubeseal --recovery-unseal` of `file` with one key: did it decrypt?
async fn opens_with(env: &TestEnv, key: &Path, file: &Path) -> bool {
    let out = env
        .kubeseal(
            &[
                OsStr::new("--recovery-unseal"),
                OsStr::new("--recovery-private-key"),
                key.as_os_str(),
                OsStr::new("--secret-file"),
                file.as_os_str(),
            ],
            None,
        )
        .await;
    out.status.success()
}

#[tokio::test]
async fn reseal_directory_online_after_key_renewal() {
    let Some(env) = TestEnv::start("ks-reseal").await else {
        return;
    };
    // A controller renewing its key every 3 s, long enough to seal with the first key
    // and see a second one.
    let host = next_host();
    let mut renewing = env
        .start_controller_on(host, &["--key-renew-period=3s"])
        .await;
    let proxy = ProxyArrangement::create(
        &env.client,
        &env.namespace,
        CONTROLLER_SERVICE,
        host,
        renewing.addr.port(),
    )
    .await;
    wait_proxy_healthy(&proxy).await;
    env.wait_active_keys(1).await;
    let cert1 = renewing.wait_cert().await;
    let cert1_file = env.write_file("cert1.pem", &cert1);

    let dir = env.dir().join("sealed");
    std::fs::create_dir_all(dir.join("nested")).expect("creating the sealed dir");
    let mut files = Vec::new();
    for (name, file, format) in [
        ("one", "one.yaml", "yaml"),
        ("two", "nested/two.json", "json"),
    ] {
        let value = env.plaintext(name);
        let manifest = env.secret_manifest(name, &[("password", &value)]);
        let out = env
            .kubeseal_ok(
                &[
                    OsStr::new("--cert"),
                    cert1_file.as_os_str(),
                    OsStr::new("--format"),
                    OsStr::new(format),
                ],
                Some(&manifest),
            )
            .await;
        let path = dir.join(file);
        std::fs::write(&path, &out).expect("writing a sealed file");
        files.push((name, path, out, value));
    }

    wait_for("a key renewal (cert.pem changes)", TIMEOUT, async || {
        let cert = renewing.cert_pem().await;
        if cert_der(&cert) == cert_der(&cert1) {
            Err("still the first certificate".to_owned())
        } else {
            Ok(())
        }
    })
    .await;
    // Restart without renewal, so "the newest key" stays put while kubeseal works.
    let status = renewing.stop();
    assert!(status.success(), "SIGTERM exits 0, got {status}");
    let ctl = env.start_controller_on(host, &[]).await;
    proxy.retarget(ctl.addr.port()).await;
    wait_for(
        "the service proxy to reach the restarted controller",
        TIMEOUT,
        async || match proxy.get("/v1/cert.pem").await? {
            (200, body) if body == ctl.cert_pem().await => Ok(()),
            (code, _) => Err(format!("HTTP {code} (or the old controller's cert)")),
        },
    )
    .await;
    let newest = ctl.cert_pem().await;
    assert_ne!(cert_der(&newest), cert_der(&cert1));
    let keys = env.active_keys().await;
    for key in &keys {
        env.forbid_private_key(secret_item(key, "tls.key"));
    }
    let key_of = |cert: &[u8]| {
        let want = cert_der(cert);
        keys.iter()
            .find(|k| cert_der(secret_item(k, "tls.crt")) == want)
            .map(|k| secret_item(k, "tls.key").to_vec())
            .expect("an active key Secret holds the certificate")
    };
    let key1_file = env.write_file("key1.pem", &key_of(&cert1));
    let newest_file = env.write_file("newest.pem", &key_of(&newest));

    let dir_arg = dir.as_os_str();
    let mut check_args: Vec<OsString> = vec!["reseal".into(), "--check".into(), dir_arg.into()];
    check_args.extend(cluster_args(&env));
    let before = env.kubeseal(&check_args, None).await;
    assert!(
        !before.status.success(),
        "reseal --check fails while files are sealed with an older key: {}",
        String::from_utf8_lossy(&before.stderr)
    );

    let mut reseal_args: Vec<OsString> = vec!["reseal".into(), dir_arg.into()];
    reseal_args.extend(cluster_args(&env));
    env.kubeseal_ok(&reseal_args, None).await;

    let after = env.kubeseal(&check_args, None).await;
    assert!(
        after.status.success(),
        "reseal --check passes after reseal: {} {}",
        after.status,
        String::from_utf8_lossy(&after.stderr)
    );
    for (name, path, original, value) in &files {
        let now = std::fs::read(path).expect("reading a resealed file");
        assert_ne!(&now, original, "{} was rewritten", path.display());
        assert!(
            opens_with(&env, &newest_file, path).await,
            "{} opens with the newest key",
            path.display()
        );
        assert!(
            !opens_with(&env, &key1_file, path).await,
            "{} no longer opens with the first key",
            path.display()
        );
        // And the controller unseals the rewritten file to the original value.
        let ss: SealedSecret = serde_yaml_ng::from_slice(&now).expect("a resealed SealedSecret");
        env.create_sealed_secret(&ss).await;
        env.wait_secret_data(name, &[("password", value)]).await;
        env.wait_synced(name, "True").await;
    }
    env.finish([renewing, ctl]).await;
}

/// `kubeseal keys backup --from-cluster` then `keys restore --apply` (issue 6): the
/// backup is age-encrypted (no key material in it), and after the key Secrets are
/// deleted, the restore brings the same keys back and the running controller unseals
/// with them again without a restart.
#[tokio::test]
async fn key_backup_from_the_cluster_and_restore_into_it() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::{DeleteParams, ListParams};

    let Some(env) = TestEnv::start("ks-backup").await else {
        return;
    };
    let ctl = env.start_controller(&[]).await;
    let keys = env.wait_active_keys(1).await;
    let tls_key = secret_item(&keys[0], "tls.key").to_vec();
    let old_cert = secret_item(&keys[0], "tls.crt").to_vec();
    env.forbid_private_key(&tls_key);
    let (identity, recipient) = sealed_secrets_sops::age::generate_identity();
    let identity_file = env.write_file("id.txt", identity.as_bytes());
    let backup = env.dir().join("keys.age");

    let output = format!("--output={}", backup.display());
    let backup_args = args(
        &[
            "keys",
            "backup",
            "--from-cluster",
            "-r",
            &recipient,
            &output,
        ],
        &env,
    );
    env.kubeseal_ok(&backup_args, None).await;
    let bytes = std::fs::read(&backup).expect("backup written");
    let body_line = String::from_utf8_lossy(&tls_key)
        .lines()
        .find(|l| !l.starts_with("-----"))
        .expect("PEM body")
        .to_owned();
    assert!(
        !String::from_utf8_lossy(&bytes).contains(&body_line),
        "the backup holds no key material in the clear"
    );

    // Lose the keys, then restore them.
    let api: kube::Api<Secret> = env.secrets();
    let selector = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels(selector),
    )
    .await
    .expect("delete key Secrets");
    let mut restore_args = args(&["keys", "restore", "--apply", "-i"], &env);
    restore_args.insert(4, identity_file.into_os_string());
    restore_args.push(backup.into_os_string());
    env.kubeseal_ok(&restore_args, None).await;
    // The controller makes a fresh key as soon as it has none, so the restored key
    // may be one of two; never print key material in an assertion.
    wait_for(
        "the backed-up key among the active keys again",
        TIMEOUT,
        async || {
            let keys = env.wait_active_keys(1).await;
            if keys
                .iter()
                .any(|k| secret_item(k, "tls.key") == tls_key.as_slice())
            {
                Ok(())
            } else {
                Err(format!("{} other key(s)", keys.len()))
            }
        },
    )
    .await;

    // The controller (never restarted) unseals what was sealed to the restored key.
    let cert_file = env.write_file("restored.pem", &old_cert);
    let ss = env
        .seal_with_cert(&cert_file, "after-restore", &[("password", "restored")])
        .await;
    env.create_sealed_secret(&ss).await;
    wait_for(
        "the Secret unsealed after the restore",
        TIMEOUT,
        async || match env.secrets().get_opt("after-restore").await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err("no Secret yet".to_owned()),
            Err(e) => Err(e.to_string()),
        },
    )
    .await;
    env.finish([ctl]).await;
}
