//! Differential tests against the upstream Go binaries (v0.36.6, built by
//! `scripts/peers.sh`) on a real API server.
//!
//! Each test runs one controller, then the other, in one namespace with one key:
//! - `go_controller_then_ours` (migration): the Go controller makes the key; the same
//!   SealedSecrets, sealed by both kubeseal binaries, are unsealed by it, then by our
//!   controller taking over its key Secret; the Secrets must be identical.
//! - `our_controller_then_go` (rollback): the same with the order reversed.
//!
//! While each controller runs, both kubeseal binaries fetch its certificate, validate
//! and re-encrypt through the API server's service proxy.
//!
//! `go_rotate_keeps_the_template_of_our_sealed_secrets`: the Go controller's
//! `/v1/rotate` leaves the template of our kubeseal's output as it was (our fingerprint
//! annotation is in both places, so upstream's metadata check passes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::go::{GoPeers, go_peers, run_program};
use e2e::proxy::{CONTROLLER_SERVICE, ProxyArrangement};
use e2e::{Controller, TIMEOUT, TestEnv, binary, http, next_host, secret_item, wait_for};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

/// Which implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Go,
    Ours,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Go => "go",
            Side::Ours => "rs",
        }
    }
}

fn kubeseal_bin(peers: &GoPeers, side: Side) -> PathBuf {
    match side {
        Side::Go => peers.kubeseal.clone(),
        Side::Ours => binary("kubeseal"),
    }
}

/// One SealedSecret to make: the Secret given to kubeseal, kubeseal's extra flags, and
/// how the sealed output is changed before it is applied.
struct Case {
    /// The SealedSecret's (and so the Secret's) name, without the sealer prefix.
    name: &'static str,
    flags: Vec<String>,
    /// The input Secret (JSON), with `metadata.name` set by [`Case::input`].
    secret: Value,
    /// Input as YAML instead of JSON (and `--format yaml`).
    yaml: bool,
    /// Sealed for this name, then applied renamed to `name` (scope tests).
    sealed_as: Option<&'static str>,
    /// `spec.template` fields added to the sealed output.
    template: Option<Value>,
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn cases(env: &TestEnv) -> Vec<Case> {
    let ns = env.namespace.as_str();
    let p = |l: &str| env.plaintext(l);
    let opaque = |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns}, "type": "Opaque", "data": data});
    let docker = format!(
        r#"{{"auths":{{"registry.example":{{"auth":"{}"}}}}}}"#,
        b64(&format!("ci:{}", p("docker")))
    );
    vec![
        Case {
            name: "strict-yaml",
            flags: vec![],
            secret: opaque(
                json!({"mariadb-password": b64(&p("maria")), "user": b64("prestashop")}),
            ),
            yaml: true,
            sealed_as: None,
            template: None,
        },
        Case {
            name: "strict-json",
            flags: vec![],
            secret: {
                let mut s = opaque(json!({"webhook": b64(&p("slack"))}));
                s["metadata"]["labels"] = json!({"app": "alerts"});
                s["metadata"]["annotations"] = json!({"team": "ops"});
                s
            },
            yaml: false,
            sealed_as: None,
            template: None,
        },
        Case {
            name: "namespace-wide",
            flags: vec!["--scope=namespace-wide".into()],
            secret: opaque(json!({"token": b64(&p("nswide"))})),
            yaml: false,
            sealed_as: Some("sealed-under-another-name"),
            template: None,
        },
        Case {
            name: "cluster-wide",
            flags: vec!["--scope=cluster-wide".into()],
            secret: opaque(json!({"token": b64(&p("cwide"))})),
            yaml: true,
            sealed_as: Some("sealed-elsewhere"),
            template: None,
        },
        Case {
            name: "string-data",
            flags: vec![],
            secret: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns},
                "stringData": {"password": p("strdata"), "config.ini": "[db]\nhost = mariadb\n"}}),
            yaml: false,
            sealed_as: None,
            template: None,
        },
        Case {
            name: "dockerconfig",
            flags: vec![],
            secret: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns},
                "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64(&docker)}}),
            yaml: true,
            sealed_as: None,
            template: None,
        },
        Case {
            name: "templated",
            flags: vec![],
            secret: opaque(json!({"user": b64("shop"), "password": b64(&p("tmpl"))})),
            yaml: false,
            sealed_as: None,
            template: Some(json!({
                "metadata": {"labels": {"app.kubernetes.io/name": "mariadb"},
                             "annotations": {"reloader.stakater.com/match": "true"}},
                "type": "kubernetes.io/basic-auth",
                "data": {
                    "dsn": "mysql://{{ index . \"user\" }}:{{ index . \"password\" }}@mariadb:3306/shop",
                    "upper": "{{ index . \"user\" | upper }}",
                    "quoted": "{{ index . \"user\" | quote }}",
                    "encoded": "{{ index . \"user\" | b64enc }}",
                    "digest": "{{ index . \"password\" | sha256sum }}",
                    "fallback": "{{ index . \"missing\" | default \"none\" }}",
                    "formatted": "{{ printf \"%s-%d\" (index . \"user\") 3 }}",
                    "trimmed": "{{ \"  spaced  \" | trim }}",
                    "replaced": "{{ index . \"user\" | replace \"sh\" \"SH\" }}",
                    "cond": "{{ if eq (index . \"user\") \"shop\" }}yes{{ else }}no{{ end }}"
                }
            })),
        },
        corpus_case(ns),
    ]
}

/// Every template of the Go-recorded corpus (crates/sealed-secrets/tests/
/// template-corpus.json) that both renderers accept, over the corpus's own values, in
/// one SealedSecret (a single failing template fails the whole Secret upstream): the Go
/// controller and ours must make the same bytes for each.
fn corpus_case(ns: &str) -> Case {
    let path = e2e::workspace_root().join("crates/sealed-secrets/tests/template-corpus.json");
    let corpus: Value = serde_json::from_slice(&std::fs::read(&path).expect("the template corpus"))
        .expect("the corpus is JSON");
    let mut data = serde_json::Map::new();
    let mut values = sealed_secrets::template::Values::new();
    for (k, v) in corpus["data"].as_object().expect("corpus data") {
        let v = v.as_str().expect("a string value");
        data.insert(k.clone(), json!(b64(v)));
        values.insert(k.clone(), zeroize::Zeroizing::new(v.as_bytes().to_vec()));
    }
    for (k, v) in corpus["data_b64"].as_object().into_iter().flatten() {
        let v = v.as_str().expect("base64");
        data.insert(k.clone(), json!(v));
        values.insert(
            k.clone(),
            zeroize::Zeroizing::new(STANDARD.decode(v).expect("corpus base64")),
        );
    }
    let mut templates = serde_json::Map::new();
    for case in corpus["cases"].as_array().expect("corpus cases") {
        let name = case["name"].as_str().expect("a name");
        let template = case["template"].as_str().expect("a template");
        let go_renders = case["go"].get("error").is_none();
        if go_renders && sealed_secrets::template::render(name, template, &values).is_ok() {
            templates.insert(name.to_owned(), json!(template));
        }
    }
    assert!(templates.len() > 450, "the corpus lost templates");
    Case {
        name: "template-corpus",
        flags: vec![],
        secret: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns},
            "type": "Opaque", "data": data}),
        yaml: false,
        sealed_as: None,
        template: Some(json!({"data": templates})),
    }
}

impl Case {
    fn input(&self, side: Side) -> (String, Vec<u8>) {
        let name = format!("{}-{}", side.label(), self.name);
        let mut secret = self.secret.clone();
        secret["metadata"]["name"] = json!(
            self.sealed_as
                .map_or(name.clone(), |n| format!("{}-{n}", side.label()))
        );
        let bytes = if self.yaml {
            serde_yaml_ng::to_string(&secret)
                .expect("a JSON value is YAML")
                .into_bytes()
        } else {
            serde_json::to_vec(&secret).expect("a JSON value serializes")
        };
        (name, bytes)
    }
}

async fn kubeseal(
    peers: &GoPeers,
    side: Side,
    args: &[String],
    stdin: Option<&[u8]>,
) -> std::process::Output {
    run_program(&kubeseal_bin(peers, side), args, stdin, &[]).await
}

async fn kubeseal_ok(
    peers: &GoPeers,
    side: Side,
    args: &[String],
    stdin: Option<&[u8]>,
) -> Vec<u8> {
    let out = kubeseal(peers, side, args, stdin).await;
    assert!(
        out.status.success(),
        "{side:?} kubeseal {args:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn parse_document(bytes: &[u8]) -> Value {
    serde_yaml_ng::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "kubeseal output is not YAML/JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// Seals every case with `side`'s kubeseal and `cert`, plus a `--raw` one and a
/// `--merge-into` one; returns the SealedSecret documents to apply.
async fn seal_all(env: &TestEnv, peers: &GoPeers, side: Side, cert: &Path) -> Vec<Value> {
    let cert_arg = format!("--cert={}", cert.display());
    let mut out = Vec::new();
    for case in cases(env) {
        let (name, input) = case.input(side);
        let mut args = vec![
            cert_arg.clone(),
            format!("--format={}", if case.yaml { "yaml" } else { "json" }),
        ];
        args.extend(case.flags.iter().cloned());
        let sealed = kubeseal_ok(peers, side, &args, Some(&input)).await;
        let mut doc = parse_document(&sealed);
        assert_eq!(doc["kind"], "SealedSecret", "{side:?} {}: {doc}", case.name);
        if case.sealed_as.is_some() {
            doc["metadata"]["name"] = json!(name);
            if doc["spec"]["template"]["metadata"].get("name").is_some() {
                doc["spec"]["template"]["metadata"]["name"] = json!(name);
            }
        }
        if let Some(template) = &case.template {
            let t = &mut doc["spec"]["template"];
            for (k, v) in template.as_object().expect("a template is an object") {
                if k == "metadata" {
                    for (mk, mv) in v.as_object().expect("template metadata is an object") {
                        t["metadata"][mk] = mv.clone();
                    }
                } else {
                    t[k] = v.clone();
                }
            }
        }
        out.push(doc);
    }

    // --raw: one value, strict scope, put into a SealedSecret by hand.
    let raw_name = format!("{}-raw", side.label());
    let value = env.plaintext("raw");
    let value_file = env.write_file(&format!("{raw_name}.txt"), value.as_bytes());
    let raw = kubeseal_ok(
        peers,
        side,
        &[
            cert_arg.clone(),
            "--raw".into(),
            format!("--namespace={}", env.namespace),
            format!("--name={raw_name}"),
            format!("--from-file={}", value_file.display()),
        ],
        None,
    )
    .await;
    let raw = String::from_utf8(raw).expect("--raw prints base64");
    out.push(json!({
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": raw_name, "namespace": env.namespace},
        "spec": {"encryptedData": {"value": raw.trim()}, "template": {"metadata": {"name": raw_name, "namespace": env.namespace}}}
    }));

    // --merge-into: a second Secret's keys merged into a sealed file in place.
    let merge_name = format!("{}-merged", side.label());
    let first = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": merge_name, "namespace": env.namespace},
        "data": {"a": b64(&env.plaintext("merge-a")), "b": b64("kept")}});
    let second = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": merge_name, "namespace": env.namespace},
        "data": {"a": b64(&env.plaintext("merge-a2")), "c": b64(&env.plaintext("merge-c"))}});
    let sealed_first = kubeseal_ok(
        peers,
        side,
        &[cert_arg.clone(), "--format=yaml".into()],
        Some(&serde_json::to_vec(&first).expect("serializes")),
    )
    .await;
    let file = env.write_file(&format!("{merge_name}.yaml"), &sealed_first);
    kubeseal_ok(
        peers,
        side,
        &[cert_arg.clone(), format!("--merge-into={}", file.display())],
        Some(&serde_json::to_vec(&second).expect("serializes")),
    )
    .await;
    let merged = std::fs::read(&file).expect("the merged file");
    out.push(parse_document(&merged));
    out
}

/// What a Secret made by a controller must be the same in, from one controller to the
/// other: everything but the server's bookkeeping (uid, resourceVersion, timestamps,
/// managedFields).
fn comparable(secret: &Secret) -> Value {
    let m = &secret.metadata;
    let owners: Vec<Value> = m
        .owner_references
        .iter()
        .flatten()
        .map(|o| {
            json!({"apiVersion": o.api_version, "kind": o.kind, "name": o.name, "uid": o.uid,
                   "controller": o.controller, "blockOwnerDeletion": o.block_owner_deletion})
        })
        .collect();
    let data: BTreeMap<&String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    json!({
        "name": m.name, "namespace": m.namespace, "labels": m.labels, "annotations": m.annotations,
        "ownerReferences": owners, "type": secret.type_, "immutable": secret.immutable, "data": data,
    })
}

fn sealed_secret_api(env: &TestEnv) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("bitnami.com", "v1alpha1", "SealedSecret");
    Api::namespaced_with(
        env.client.clone(),
        &env.namespace,
        &ApiResource::from_gvk(&gvk),
    )
}

async fn apply_all(env: &TestEnv, docs: &[Value]) {
    let api = sealed_secret_api(env);
    for doc in docs {
        let mut doc = doc.clone();
        doc["metadata"]["namespace"] = json!(env.namespace);
        let name = doc["metadata"]["name"].as_str().expect("a name").to_owned();
        api.patch(
            &name,
            &PatchParams::apply(e2e::FIELD_MANAGER),
            &Patch::Apply(&doc),
        )
        .await
        .unwrap_or_else(|e| panic!("applying SealedSecret {name}: {e}\n{doc}"));
    }
}

/// The shortest Secret value the log scan looks for: the random plaintexts are
/// longer, the public words some templates print are shorter.
const MIN_SECRET_LEN: usize = 16;

/// Waits until every SealedSecret of `docs` has its Secret; returns them comparable.
async fn snapshot(env: &TestEnv, docs: &[Value], who: &str) -> BTreeMap<String, Value> {
    let api = env.secrets();
    let mut out = BTreeMap::new();
    for doc in docs {
        let name = doc["metadata"]["name"].as_str().expect("a name").to_owned();
        let secret = wait_for(
            &format!("{who} to make Secret {name}"),
            TIMEOUT,
            async || match api.get_opt(&name).await.map_err(|e| e.to_string())? {
                Some(s) if s.data.as_ref().is_some_and(|d| !d.is_empty()) => Ok(s),
                other => Err(format!("{other:?}").chars().take(300).collect()),
            },
        )
        .await;
        // The corpus's values and outputs are short public words ("true", "a"), and so
        // are some template outputs of the other cases ("yes", "SHOP"): a log holds them
        // by chance (a base64 certificate once held "yes"). Every secret of these cases
        // is random and at least MIN_SECRET_LEN long, and so is what a template makes
        // from one (a DSN, a digest).
        let corpus = name.ends_with("template-corpus");
        for value in secret.data.iter().flatten().map(|(_, v)| v) {
            if let Ok(text) = std::str::from_utf8(&value.0)
                && !corpus
                && text.len() >= MIN_SECRET_LEN
            {
                env.forbid_in_logs(text);
            }
        }
        out.insert(name, comparable(&secret));
    }
    out
}

async fn delete_secrets(env: &TestEnv, names: impl Iterator<Item = &String>) {
    let api = env.secrets();
    for name in names {
        api.delete(name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("deleting Secret {name}: {e}"));
    }
    // No garbage collector on the test server: the Secrets are gone once the deletes are.
}

async fn start(env: &TestEnv, peers: &GoPeers, side: Side, host: u8) -> Controller {
    match side {
        Side::Go => {
            let args = ["--all-namespaces=false", "--key-size=2048"];
            env.start_go_controller_on(&peers.controller, host, &args)
                .await
        }
        // `--all-namespaces=false --key-size 2048` are the harness's defaults for ours.
        Side::Ours => env.start_controller_on(host, &[]).await,
    }
}

fn cluster_args(env: &TestEnv) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", env.kubeconfig.display()),
        format!("--controller-name={CONTROLLER_SERVICE}"),
        format!("--controller-namespace={}", env.namespace),
    ]
}

/// Both kubeseal binaries against the running controller `ctl` (`who`) through the
/// service proxy: `--fetch-cert` gives its certificate, `--validate` accepts a good
/// SealedSecret and refuses a corrupted one, `--re-encrypt` gives a SealedSecret that
/// still validates.
async fn kubeseal_against(
    env: &TestEnv,
    peers: &GoPeers,
    ctl: &Controller,
    who: Side,
    good: &Value,
) {
    let direct = ctl.cert_pem().await;
    let mut bad = good.clone();
    let data = bad["spec"]["encryptedData"]
        .as_object_mut()
        .expect("encryptedData");
    let key = data.keys().next().expect("a key").clone();
    let mut ct = STANDARD
        .decode(data[&key].as_str().expect("base64"))
        .expect("base64");
    let last = ct.len() - 1;
    ct[last] ^= 1;
    data.insert(key, json!(STANDARD.encode(ct)));
    let good = serde_json::to_vec(good).expect("serializes");
    let bad = serde_json::to_vec(&bad).expect("serializes");
    for side in [Side::Go, Side::Ours] {
        let base = cluster_args(env);
        let with = |extra: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
            v.extend(base.iter().cloned());
            v
        };
        let fetched = kubeseal_ok(peers, side, &with(&["--fetch-cert"]), None).await;
        assert_eq!(
            String::from_utf8_lossy(&fetched),
            String::from_utf8_lossy(&direct),
            "{side:?} kubeseal --fetch-cert from the {who:?} controller"
        );
        let ok = kubeseal(peers, side, &with(&["--validate"]), Some(&good)).await;
        assert!(
            ok.status.success(),
            "{side:?} kubeseal --validate of a good SealedSecret against the {who:?} controller: {} {}",
            ok.status,
            String::from_utf8_lossy(&ok.stderr)
        );
        let refused = kubeseal(peers, side, &with(&["--validate"]), Some(&bad)).await;
        assert!(
            !refused.status.success(),
            "{side:?} kubeseal --validate of a corrupted SealedSecret against the {who:?} controller passed"
        );
        let rotated = kubeseal_ok(peers, side, &with(&["--re-encrypt"]), Some(&good)).await;
        let rotated_doc = parse_document(&rotated);
        assert_eq!(
            rotated_doc["kind"], "SealedSecret",
            "{side:?} --re-encrypt via {who:?}"
        );
        let again = kubeseal(
            peers,
            side,
            &with(&["--validate"]),
            Some(&serde_json::to_vec(&rotated_doc).expect("serializes")),
        )
        .await;
        assert!(
            again.status.success(),
            "{side:?} kubeseal --re-encrypt output does not validate against the {who:?} controller: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
}

async fn serve(
    env: &TestEnv,
    ctl: &Controller,
    host: u8,
    proxy: Option<&ProxyArrangement>,
) -> Option<ProxyArrangement> {
    let created = match proxy {
        Some(p) => {
            p.retarget(ctl.addr.port()).await;
            None
        }
        None => Some(
            ProxyArrangement::create(
                &env.client,
                &env.namespace,
                CONTROLLER_SERVICE,
                host,
                ctl.addr.port(),
            )
            .await,
        ),
    };
    let p = proxy.or(created.as_ref()).expect("a proxy arrangement");
    wait_for(
        "the controller through the service proxy",
        TIMEOUT,
        async || match p.get("/healthz").await? {
            (200, _) => Ok(()),
            (code, body) => Err(format!("HTTP {code}: {}", String::from_utf8_lossy(&body))),
        },
    )
    .await;
    created
}

/// `first` makes the key and unseals everything; `second` takes over its key Secret
/// and must make the same Secrets.
async fn differential(test: &str, first: Side, second: Side) {
    let Some(env) = TestEnv::start(test).await else {
        return;
    };
    let Some(peers) = go_peers() else {
        return;
    };
    let host = next_host();
    let mut ctl = start(&env, &peers, first, host).await;
    let proxy = serve(&env, &ctl, host, None).await.expect("created");
    let keys = env.wait_active_keys(1).await;
    for key in &keys {
        env.forbid_private_key(secret_item(key, "tls.key"));
    }
    let cert = ctl.wait_cert().await;
    let cert_file = env.write_file("cert.pem", &cert);

    let mut docs = seal_all(&env, &peers, Side::Go, &cert_file).await;
    docs.extend(seal_all(&env, &peers, Side::Ours, &cert_file).await);
    apply_all(&env, &docs).await;
    let made_first = snapshot(&env, &docs, &format!("the {first:?} controller")).await;
    kubeseal_against(&env, &peers, &ctl, first, &docs[0]).await;
    let status = ctl.stop();
    assert!(
        status.success(),
        "the {first:?} controller exited with {status} on SIGTERM"
    );

    delete_secrets(&env, made_first.keys()).await;
    let ctl2 = start(&env, &peers, second, host).await;
    serve(&env, &ctl2, host, Some(&proxy)).await;
    assert_eq!(
        String::from_utf8_lossy(&ctl2.wait_cert().await),
        String::from_utf8_lossy(&cert),
        "the {second:?} controller serves the key the {first:?} controller made"
    );
    let made_second = snapshot(&env, &docs, &format!("the {second:?} controller")).await;
    let keys_after: Vec<String> = env
        .active_keys()
        .await
        .iter()
        .filter_map(|k| k.metadata.name.clone())
        .collect();
    assert_eq!(
        keys_after.len(),
        1,
        "the {second:?} controller made a key of its own: {keys_after:?}"
    );

    let mut diffs = Vec::new();
    for (name, a) in &made_first {
        let b = &made_second[name];
        if a != b {
            diffs.push(format!(
                "Secret {name}:\n  {first:?}: {a}\n  {second:?}: {b}"
            ));
        }
    }
    kubeseal_against(&env, &peers, &ctl2, second, &docs[0]).await;
    assert!(
        diffs.is_empty(),
        "the controllers made different Secrets:\n{}",
        diffs.join("\n")
    );
    println!(
        "{} Secrets identical from both controllers",
        made_first.len()
    );
    env.finish([ctl2]).await;
}

#[tokio::test]
async fn go_controller_then_ours() {
    differential("go-then-rs", Side::Go, Side::Ours).await;
}

#[tokio::test]
async fn our_controller_then_go() {
    differential("rs-then-go", Side::Ours, Side::Go).await;
}

/// What the Go controller logs when `/v1/rotate` overwrites a SealedSecret's template
/// with its top-level metadata (upstream `pkg/controller/controller.go`, `Rotate`).
const GO_METADATA_MISMATCH: &str = "Sealed Secret metadata doesn't match";

/// Our kubeseal's SealedSecrets of plain Secrets through the Go controller's
/// `/v1/rotate`: upstream copies the top-level metadata over the template (and warns)
/// unless the two are `reflect.DeepEqual`. With our fingerprint annotation in both
/// places they are, so the template comes back as sent. Then our `kubeseal reseal`
/// through the service proxy takes that controller's reply and records its key in
/// both places.
#[tokio::test]
async fn go_rotate_keeps_the_template_of_our_sealed_secrets() {
    let Some(env) = TestEnv::start("go-rotate-template").await else {
        return;
    };
    let Some(peers) = go_peers() else {
        return;
    };
    let host = next_host();
    let ctl = start(&env, &peers, Side::Go, host).await;
    let _proxy = serve(&env, &ctl, host, None).await;
    for key in &env.wait_active_keys(1).await {
        env.forbid_private_key(secret_item(key, "tls.key"));
    }
    let cert = env.write_file("cert.pem", &ctl.wait_cert().await);
    let template_of = |doc: &Value| -> ObjectMeta {
        // As Go compares: decoded, so `creationTimestamp: null` is no field.
        serde_json::from_value(doc["spec"]["template"]["metadata"].clone())
            .unwrap_or_else(|e| panic!("template metadata: {e}: {doc}"))
    };

    let mut sealed = Vec::new();
    for (name, format, scope) in [
        ("plain-yaml", "yaml", None),
        ("plain-json", "json", None),
        ("namespace-wide", "json", Some("--scope=namespace-wide")),
    ] {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": env.namespace},
            "type": "Opaque", "data": {"k": b64(&env.plaintext(name))}});
        let mut args = vec![
            format!("--cert={}", cert.display()),
            format!("--format={format}"),
        ];
        args.extend(scope.map(str::to_owned));
        let input = serde_json::to_vec(&secret).expect("serializes");
        let text = kubeseal_ok(&peers, Side::Ours, &args, Some(&input)).await;
        let sent = parse_document(&text);
        let reply = http::post(ctl.addr, "/v1/rotate", "application/json", text.clone())
            .await
            .unwrap_or_else(|e| panic!("{name}: POST /v1/rotate: {e}"));
        assert_eq!(
            reply.status,
            200,
            "{name}: /v1/rotate: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let rotated: Value = serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{name}: the reply is not JSON: {e}"));
        assert_ne!(
            rotated["spec"]["encryptedData"], sent["spec"]["encryptedData"],
            "{name}: re-sealed"
        );
        assert_eq!(
            template_of(&rotated),
            template_of(&sent),
            "{name}: the Go controller rewrote the template\n  sent: {sent}\n  got:  {rotated}"
        );
        sealed.push(text);
    }
    let log = ctl.log_text();
    assert!(
        !log.contains(GO_METADATA_MISMATCH),
        "the Go controller found our metadata misaligned:\n{log}"
    );

    // Online `reseal` takes the new ciphertexts from that reply (whose template copy
    // names the key as sent, and which has no top-level copy) and records the key.
    let file = env.write_file("plain.yaml", &sealed[0]);
    let before = parse_document(&sealed[0]);
    let mut args = vec!["reseal".to_owned(), "--force".to_owned()];
    args.extend(cluster_args(&env));
    args.push(file.display().to_string());
    kubeseal_ok(&peers, Side::Ours, &args, None).await;
    let after = parse_document(&std::fs::read(&file).expect("the re-sealed file"));
    assert_ne!(
        after["spec"]["encryptedData"], before["spec"]["encryptedData"],
        "re-sealed through the Go controller"
    );
    let fp = "sealed-secrets-rs.io/key-fingerprint";
    assert_eq!(
        after["metadata"]["annotations"][fp],
        before["metadata"]["annotations"][fp]
    );
    assert_eq!(after["metadata"], after["spec"]["template"]["metadata"]);
    assert!(!ctl.log_text().contains(GO_METADATA_MISMATCH));
    env.finish([ctl]).await;
}
