//! Keeping the registry in step with the cluster: watch the key Secrets (added,
//! changed, removed: no restart needed for bring-your-own keys or a restore), make a
//! key when none exists or one is due, and on `SIGUSR1`.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, ResourceExt};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::registry::KeySource;
use super::rotation::{Renewal, next_renewal};
use super::store::{active_key_selector, generate, key_secret, read_key_secret};
use super::{KeyPair, KeyRegistry};
use crate::config::KeyConfig;

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateKeyError {
    /// Generation failed.
    #[error(transparent)]
    Generate(#[from] super::store::GenerateKeyError),
    /// The PEM could not be written.
    #[error(transparent)]
    Key(#[from] sealed_secrets_core::KeyError),
    /// The API refused the key Secret.
    #[error("cannot write key Secret: {0}")]
    Api(#[from] kube::Error),
    /// The generating task failed.
    #[error("key generation task failed: {0}")]
    Task(String),
}

/// Watches, generates and renews keys for one controller namespace.
#[derive(Clone)]
pub struct KeyManager {
    client: Client,
    namespace: String,
    config: KeyConfig,
    registry: Arc<KeyRegistry>,
}

impl KeyManager {
    /// A manager of the keys in `namespace`.
    pub fn new(
        client: Client,
        namespace: String,
        config: KeyConfig,
        registry: Arc<KeyRegistry>,
    ) -> Self {
        KeyManager {
            client,
            namespace,
            config,
            registry,
        }
    }

    /// Watches the labelled key Secrets and the legacy one until `shutdown`. `ready`
    /// turns true once both initial lists are in the registry.
    pub async fn watch(self, ready: watch::Sender<bool>, shutdown: CancellationToken) {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let labelled = watcher(
            api.clone(),
            watcher::Config::default().labels(&active_key_selector()),
        );
        let legacy = watcher(
            api,
            watcher::Config::default().fields(&format!("metadata.name={}", self.config.prefix)),
        );
        let (synced, mut listed) = tokio::sync::mpsc::unbounded_channel();
        let labelled = self.follow(labelled, KeySource::Labelled, synced.clone());
        let legacy = self.follow(legacy, KeySource::Legacy, synced);
        let readiness = async {
            // Both watches send once, after their first complete list.
            for _ in 0..2 {
                listed.recv().await;
            }
            let _ = ready.send(true);
            std::future::pending::<()>().await;
        };
        tokio::select! {
            () = labelled => {}
            () = legacy => {}
            () = readiness => {}
            () = shutdown.cancelled() => {}
        }
    }

    async fn follow(
        &self,
        stream: impl futures::Stream<Item = Result<Event<Secret>, watcher::Error>>,
        source: KeySource,
        synced: tokio::sync::mpsc::UnboundedSender<()>,
    ) {
        let mut stream = std::pin::pin!(stream);
        let mut listing: Option<Vec<KeyPair>> = None;
        let mut first = true;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => listing = Some(Vec::new()),
                Ok(Event::InitApply(secret)) => {
                    if let (Some(list), Some(pair)) = (listing.as_mut(), self.read(&secret)) {
                        list.push(pair);
                    }
                }
                Ok(Event::InitDone) => {
                    self.registry
                        .replace_all(source, listing.take().unwrap_or_default());
                    if first {
                        first = false;
                        let _ = synced.send(());
                    }
                }
                Ok(Event::Apply(secret)) => match self.read(&secret) {
                    Some(pair) => self.registry.upsert(source, pair),
                    None => self.registry.remove(source, &secret.name_any()),
                },
                Ok(Event::Delete(secret)) => self.registry.remove(source, &secret.name_any()),
                Err(e) => tracing::warn!(error = %e, "watching key Secrets failed; retrying"),
            }
        }
    }

    fn read(&self, secret: &Secret) -> Option<KeyPair> {
        match read_key_secret(secret) {
            Ok(pair) => Some(pair),
            Err(e) => {
                // A bad key Secret is skipped, never fatal (upstream panics here).
                tracing::error!(secretname = %secret.name_any(), error = %e, "Error reading key; skipping it");
                None
            }
        }
    }

    /// Makes a key, writes its Secret, and registers it.
    pub async fn create_key(&self) -> Result<(), CreateKeyError> {
        let config = self.config.clone();
        let (key, certificate) = tokio::task::spawn_blocking(move || generate(&config))
            .await
            .map_err(|e| CreateKeyError::Task(e.to_string()))??;
        let secret = key_secret(&self.config, &self.namespace, &key, &certificate)?;
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let created = api.create(&PostParams::default(), &secret).await?;
        tracing::info!(secretname = %created.name_any(), fingerprint = %key.fingerprint(), "New key written");
        tracing::info!(certificate = %certificate.to_pem(), "Certificate generated");
        self.registry.upsert(
            KeySource::Labelled,
            KeyPair {
                secret_name: created.name_any(),
                created: created
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok()),
                key,
                certificate,
            },
        );
        Ok(())
    }

    /// Makes a key when the schedule says so, when the keys change (recomputing the
    /// schedule), or on `trigger`, until `shutdown`.
    pub async fn renew(self, trigger: Arc<Notify>, shutdown: CancellationToken) {
        let mut changes = self.registry.subscribe();
        loop {
            let set = self.registry.snapshot();
            let newest = set.newest().map(|k| k.ordering_time(self.config.order));
            let plan = next_renewal(
                time::OffsetDateTime::now_utc(),
                newest,
                self.config.renew_period,
                self.config.cutoff,
            );
            let due = async {
                match plan {
                    Renewal::Now => {}
                    Renewal::After(delay) => tokio::time::sleep(delay).await,
                    Renewal::Never => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = due => {}
                () = trigger.notified() => tracing::info!("key generation requested (SIGUSR1)"),
                changed = changes.changed() => {
                    if changed.is_err() { return; }
                    continue;
                }
            }
            changes.mark_unchanged();
            if let Err(e) = self.create_key().await {
                // Not fatal: the old keys keep working. Try again shortly.
                tracing::error!(error = %e, "cannot create a new key");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
                }
            }
        }
    }
}

fn watcher(
    api: Api<Secret>,
    config: watcher::Config,
) -> impl futures::Stream<Item = Result<Event<Secret>, watcher::Error>> {
    watcher::watcher(api, config).default_backoff()
}
