//! The Flux example under `deploy/flux/sops/` stays consistent: the Kustomization
//! decrypts with sops from a Secret whose key ends in `.agekey`, and `.sops.yaml`
//! encrypts the template's `stringData` only, with the markers Flux looks for.

use std::path::PathBuf;

use sealed_secrets_sops::config::Config;
use sealed_secrets_sops::format::{self, Format};
use sealed_secrets_sops::tree::{Item, Node, Scalar};
use sealed_secrets_sops::{EncryptOptions, encrypt};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/flux/sops")
        .join(name)
}

fn get<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let Node::Map(items) = node else { return None };
    items.iter().find_map(|i| match i {
        Item::Pair(k, v) if k == first => get(v, rest),
        _ => None,
    })
}

fn load(name: &str) -> Node {
    let text = std::fs::read(example(name)).expect("example file");
    let tree = format::parse_plain(Format::Yaml, &text).expect("valid YAML");
    Node::Map(tree.branches[0].clone())
}

fn text(n: Option<&Node>) -> &str {
    match n {
        Some(Node::Scalar(Scalar::Str(s))) => s,
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn kustomization_and_key_secret_match() {
    let k = load("kustomization.yaml");
    assert_eq!(text(get(&k, &["spec", "decryption", "provider"])), "sops");
    let secret_name = text(get(&k, &["spec", "decryption", "secretRef", "name"]));
    let s = load("sops-age.secret.example.yaml");
    assert_eq!(text(get(&s, &["metadata", "name"])), secret_name);
    let Some(Node::Map(data)) = get(&s, &["stringData"]) else {
        panic!("stringData")
    };
    assert!(
        data.iter()
            .any(|i| matches!(i, Item::Pair(k, _) if k.ends_with(".agekey")))
    );
}

#[test]
fn sops_yaml_rule_encrypts_only_data_with_flux_markers() {
    let config = Config::load(&example(".sops.yaml")).expect("valid .sops.yaml");
    let template = example("secrets/db-credentials.yaml");
    let rule = config
        .rule_for(&template)
        .expect("a rule matches")
        .expect("rules exist");
    let plain = std::fs::read(&template).expect("template");
    let opts = EncryptOptions {
        recipients: rule.age.clone(),
        rule: rule.rule.clone(),
        mac_only_encrypted: rule.mac_only_encrypted,
    };
    let enc =
        String::from_utf8(encrypt(Format::Yaml, &plain, &opts, config.style).expect("encrypt"))
            .expect("utf-8");
    assert!(enc.contains("  name: db-credentials\n"));
    assert!(enc.contains("  password: ENC[AES256_GCM,data:"));
    assert!(enc.contains("mac: ENC[AES256_GCM,data:"));
    assert!(!enc.contains("change-me"));
}
