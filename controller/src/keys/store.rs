//! Key Secrets as upstream writes and reads them (`pkg/controller/keys.go`): type
//! `kubernetes.io/tls`, `tls.key` a PEM RSA private key, `tls.crt` one or more PEM
//! certificates of which the first counts, the active label, generateName
//! `--key-prefix`.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sealed_secrets::annotations::{SEALING_KEY_ACTIVE, SEALING_KEY_LABEL};
use sealed_secrets::key_secret::{TLS_CRT, TLS_KEY};
use sealed_secrets_core::cert::{CertificateParams, self_signed};
use sealed_secrets_core::{Certificate, CertificateError, KeyError, PrivateKey};
use time::OffsetDateTime;

use super::KeyPair;
use crate::config::KeyConfig;

/// Secret type of key Secrets.
pub const TLS_SECRET_TYPE: &str = "kubernetes.io/tls";

/// The label selector that finds active key Secrets.
pub fn active_key_selector() -> String {
    format!("{SEALING_KEY_LABEL}={SEALING_KEY_ACTIVE}")
}

/// Why a key Secret could not be used. It is skipped and logged, never fatal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadKeyError {
    /// No `tls.key`.
    #[error("no data[\"tls.key\"]")]
    MissingKey,
    /// No `tls.crt`.
    #[error("no data[\"tls.crt\"]")]
    MissingCertificate,
    /// `tls.key` unreadable or not RSA.
    #[error("tls.key: {0}")]
    Key(#[from] KeyError),
    /// `tls.crt` unreadable.
    #[error("tls.crt: {0}")]
    Certificate(#[from] CertificateError),
    /// The certificate is for another key: serving it would make SealedSecrets nobody
    /// can open.
    #[error("tls.crt is not the certificate of tls.key")]
    Mismatch,
}

/// Reads a key Secret.
pub fn read_key_secret(secret: &Secret) -> Result<KeyPair, ReadKeyError> {
    let data = secret.data.as_ref();
    let key_pem = data
        .and_then(|d| d.get(TLS_KEY))
        .ok_or(ReadKeyError::MissingKey)?;
    let cert_pem = data
        .and_then(|d| d.get(TLS_CRT))
        .ok_or(ReadKeyError::MissingCertificate)?;
    let key = PrivateKey::from_pem(&key_pem.0)?;
    let certificate = Certificate::from_pem(&cert_pem.0)?;
    if certificate.public_key() != key.public_key() {
        return Err(ReadKeyError::Mismatch);
    }
    Ok(KeyPair {
        secret_name: secret.metadata.name.clone().unwrap_or_default(),
        created: secret
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok()),
        key,
        certificate,
    })
}

/// Why a new key could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateKeyError {
    /// RSA key generation failed.
    #[error("cannot generate key: {0}")]
    Key(#[from] KeyError),
    /// Certificate creation failed.
    #[error("cannot create certificate: {0}")]
    Certificate(#[from] CertificateError),
}

/// Makes a key and its controller-shaped certificate (CPU-heavy: run it off the
/// async runtime).
pub fn generate(config: &KeyConfig) -> Result<(PrivateKey, Certificate), GenerateKeyError> {
    let key = PrivateKey::generate(config.size)?;
    let params = CertificateParams {
        not_before: OffsetDateTime::now_utc(),
        validity: time::Duration::try_from(config.ttl).unwrap_or(time::Duration::MAX),
        common_name: config.common_name.clone(),
    };
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
    let certificate = self_signed(&mut rng, &key, &params)?;
    Ok((key, certificate))
}

/// The Secret that stores a new key, as upstream's `writeKey` shapes it.
pub fn key_secret(
    config: &KeyConfig,
    namespace: &str,
    key: &PrivateKey,
    certificate: &Certificate,
) -> Result<Secret, KeyError> {
    let mut labels = config.labels.clone();
    // The active label is ours to set; a configured label of the same name is ignored.
    labels.insert(SEALING_KEY_LABEL.to_owned(), SEALING_KEY_ACTIVE.to_owned());
    let key_pem = key.to_pkcs1_pem()?;
    let data = BTreeMap::from([
        (
            TLS_KEY.to_owned(),
            // The Secret object must hold the PEM; `key_pem` itself is zeroized.
            ByteString(key_pem.as_bytes().to_vec()),
        ),
        (
            TLS_CRT.to_owned(),
            ByteString(certificate.to_pem().into_bytes()),
        ),
    ]);
    Ok(Secret {
        metadata: ObjectMeta {
            generate_name: Some(config.prefix.clone()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            annotations: (!config.annotations.is_empty()).then(|| config.annotations.clone()),
            ..ObjectMeta::default()
        },
        type_: Some(TLS_SECRET_TYPE.to_owned()),
        data: Some(data),
        ..Secret::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> KeyConfig {
        let mut config = crate::testing::key_config();
        config.labels = BTreeMap::from([
            ("team".into(), "ops".into()),
            (SEALING_KEY_LABEL.into(), "other".into()),
        ]);
        config
    }

    #[test]
    fn compat_strings() {
        assert_eq!(
            active_key_selector(),
            "sealedsecrets.bitnami.com/sealed-secrets-key=active"
        );
        assert_eq!(TLS_SECRET_TYPE, "kubernetes.io/tls");
    }

    #[test]
    fn written_key_secret_reads_back() {
        let config = config();
        let (key, cert) = generate(&config).unwrap();
        let mut secret = key_secret(&config, "kube-system", &key, &cert).unwrap();
        assert_eq!(
            secret.metadata.generate_name.as_deref(),
            Some("sealed-secrets-key")
        );
        let labels = secret.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[SEALING_KEY_LABEL], "active");
        assert_eq!(labels["team"], "ops");
        assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
        let tls_key = &secret.data.as_ref().unwrap()[TLS_KEY].0;
        assert!(tls_key.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));

        secret.metadata.name = Some("sealed-secrets-keyabcde".into());
        let pair = read_key_secret(&secret).unwrap();
        assert_eq!(pair.key.fingerprint(), key.fingerprint());
        assert_eq!(pair.secret_name, "sealed-secrets-keyabcde");
    }

    #[test]
    fn malformed_key_secrets_are_refused_with_the_reason() {
        let config = config();
        let (key, cert) = generate(&config).unwrap();
        let (_, other_cert) = generate(&config).unwrap();
        let good = key_secret(&config, "ns", &key, &cert).unwrap();

        let mut no_key = good.clone();
        no_key.data.as_mut().unwrap().remove(TLS_KEY);
        assert!(matches!(
            read_key_secret(&no_key),
            Err(ReadKeyError::MissingKey)
        ));

        let mut garbage = good.clone();
        garbage
            .data
            .as_mut()
            .unwrap()
            .insert(TLS_KEY.into(), ByteString(b"not a key".to_vec()));
        assert!(matches!(
            read_key_secret(&garbage),
            Err(ReadKeyError::Key(_))
        ));

        let mut mismatched = good;
        mismatched
            .data
            .as_mut()
            .unwrap()
            .insert(TLS_CRT.into(), ByteString(other_cert.to_pem().into_bytes()));
        assert!(matches!(
            read_key_secret(&mismatched),
            Err(ReadKeyError::Mismatch)
        ));
    }
}
