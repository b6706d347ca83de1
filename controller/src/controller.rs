//! Wiring the reconciler to the cluster: a SealedSecret watch (triggering
//! reconciles, reporting deletions), a metadata-only Secret watch (restoring deleted
//! or edited Secrets, and telling the reconcile what exists without a GET), and a
//! re-check of everything whenever the keys change (a restored or new key may now
//! open SealedSecrets that failed).

use std::sync::Arc;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use sealed_secrets::SealedSecret;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::events::Recorder;
use crate::keys::KeyRegistry;
use crate::metrics::Metrics;
use crate::reconcile::{Context, Options, SecretLookup, error_policy, reconcile};
use sealed_secrets::annotations::KUBECTL_LAST_APPLIED;

/// What one controller instance (one namespace, or all) needs.
pub struct Shared {
    /// API client.
    pub client: Client,
    /// Keys.
    pub keys: Arc<KeyRegistry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events.
    pub recorder: Recorder,
    /// Reconcile settings.
    pub options: Options,
    /// `--label-selector`.
    pub label_selector: Option<String>,
    /// Watch Secrets (not `--skip-recreate`).
    pub watch_secrets: bool,
}

/// Runs the controller for `namespace` (`None`: all namespaces) until `shutdown`.
pub async fn run(shared: Arc<Shared>, namespace: Option<String>, shutdown: CancellationToken) {
    let client = shared.client.clone();
    let (ss_api, secret_api): (Api<SealedSecret>, Api<PartialObjectMeta<Secret>>) = match &namespace
    {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = &shared.label_selector {
        config = config.labels(selector);
    }

    let (secret_reader, secret_writer) = reflector::store();
    let lookup = if shared.watch_secrets {
        SecretLookup::Store(secret_reader.clone())
    } else {
        SecretLookup::Live
    };
    let ctx = Arc::new(Context::new(
        client,
        Arc::clone(&shared.keys),
        Arc::clone(&shared.metrics),
        shared.recorder.clone(),
        shared.options,
        lookup,
    ));

    let (ss_reader, ss_writer) = reflector::store();
    let deletions = Arc::clone(&ctx);
    let sealed_secrets = watcher::watcher(ss_api, config.clone())
        .default_backoff()
        // Field-manager bookkeeping is never read here: do not hold it in memory.
        .modify(|ss: &mut SealedSecret| ss.managed_fields_mut().clear())
        .reflect(ss_writer)
        .inspect(move |event| {
            if let Ok(Event::Delete(ss)) = event {
                let ctx = Arc::clone(&deletions);
                let ss = ss.clone();
                tokio::spawn(async move { ctx.on_deleted(&ss).await });
            }
        })
        .applied_objects();

    let mut controller = Controller::for_stream(sealed_secrets, ss_reader)
        .reconcile_all_on(key_changes(shared.keys.subscribe()))
        .graceful_shutdown_on(shutdown.clone().cancelled_owned());

    if shared.watch_secrets {
        // Metadata only: the data of every Secret in the cluster is not ours to hold.
        let secrets = watcher::watcher(secret_api, config)
            .default_backoff()
            // kubectl's last-applied annotation on a Secret holds its data: drop it.
            .modify(|meta| {
                if let Some(a) = meta.metadata.annotations.as_mut() {
                    a.remove(KUBECTL_LAST_APPLIED);
                }
            })
            .reflect(secret_writer)
            .touched_objects();
        controller = controller.watches_stream(secrets, |meta| {
            let ns = meta.namespace()?;
            Some(ObjectRef::<SealedSecret>::new(&meta.name_any()).within(&ns))
        });
    }

    let scope = namespace.as_deref().unwrap_or("all namespaces").to_owned();
    tracing::info!(namespaces = %scope, "controller started");
    controller
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile loop");
            }
        })
        .await;
    tracing::info!(namespaces = %scope, "controller stopped");
}

/// One item per change of the key set (the first value is the current one, skipped).
fn key_changes(mut rx: watch::Receiver<u64>) -> impl Stream<Item = ()> + Send + 'static {
    rx.mark_unchanged();
    futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    })
}
