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
use crate::reconcile::desired::{
    prune_sealed_secret_with_hash, prune_secret_for_cache, source_hash,
};
use crate::reconcile::{Context, Options, SecretLookup, error_policy, reconcile};

/// Reconciles in flight at once: enough to keep API round trips overlapping while
/// RSA work is bounded by cores separately.
const RECONCILE_CONCURRENCY: u16 = 64;

/// Objects per page of the initial lists. A page is held twice while it is parsed
/// (the body, then the objects with every ciphertext and managedFields entry), so
/// smaller pages lower the peak; 10,000 objects are still only 100 requests.
const LIST_PAGE_SIZE: u32 = 100;

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
    let mut config = watcher::Config::default().page_size(LIST_PAGE_SIZE);
    if let Some(selector) = &shared.label_selector {
        config = config.labels(selector);
    }

    let (secret_reader, secret_writer) = reflector::store();
    let lookup = if shared.watch_secrets {
        SecretLookup::store(secret_reader.clone(), shutdown.clone())
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
    let pending = Arc::clone(&ctx.pending);
    let sealed_secrets = watcher::watcher(ss_api, config.clone())
        .default_backoff()
        .modify(move |ss| {
            // Before the cache drops the ciphertexts: keep them for an unseal to come.
            let hash = source_hash(ss);
            pending.offer(ss, &hash);
            prune_sealed_secret_with_hash(ss, hash);
        })
        .reflect(ss_writer);
    let sealed_secrets = until_cancelled(sealed_secrets, shutdown.clone())
        .inspect(move |event| match event {
            Ok(Event::Delete(ss)) => {
                deletions.pending.forget(ss);
                let ctx = Arc::clone(&deletions);
                let ss = ss.clone();
                tokio::spawn(async move { ctx.on_deleted(&ss).await });
            }
            // A new list: what it no longer holds must not stay kept.
            Ok(Event::Init) => deletions.pending.clear(),
            _ => {}
        })
        .applied_objects();

    let mut controller = Controller::for_stream(sealed_secrets, ss_reader)
        .with_config(
            kube::runtime::controller::Config::default().concurrency(RECONCILE_CONCURRENCY),
        )
        .reconcile_all_on(until_cancelled(
            key_changes(shared.keys.subscribe()),
            shutdown.clone(),
        ));

    if shared.watch_secrets {
        let secrets = secret_metadata_events(secret_api, config)
            .modify(|meta| prune_secret_for_cache(&mut meta.metadata))
            .reflect(secret_writer);
        let secrets = until_cancelled(secrets, shutdown.clone()).touched_objects();
        let own_writes = Arc::clone(&ctx);
        controller = controller.watches_stream(secrets, move |meta| {
            // Our own write coming back (or listed again unchanged): nothing to check.
            // Without this, the reconcile it triggered often ran from a copy of the
            // SealedSecret older than our status write, which then met a 409.
            if own_writes.is_verified(&meta.metadata) {
                return None;
            }
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

/// Events of the watched Secrets, metadata only: on an `Api<PartialObjectMeta<_>>`
/// (kube 3.1 and later) lists and watches ask the API server for
/// `PartialObjectMetadata`, so the data of Secrets, most of them not ours, never
/// crosses the wire (the test below holds kube to that).
fn secret_metadata_events(
    api: Api<PartialObjectMeta<Secret>>,
    config: watcher::Config,
) -> impl Stream<Item = Result<Event<PartialObjectMeta<Secret>>, watcher::Error>> + Send {
    watcher::watcher(api, config).default_backoff()
}

/// `stream` until `stop`, then dropped, and its reflector's writer with it. When every
/// trigger stream has ended, kube's controller shuts down gracefully (in-flight
/// reconciles finish). Its own `graceful_shutdown_on` is not used: it stops polling the
/// triggers but keeps the writer alive, so a stop before the first list completes
/// leaves its runner waiting for the cache forever; a dropped writer ends that wait.
fn until_cancelled<S>(stream: S, stop: CancellationToken) -> impl Stream<Item = S::Item> + Send
where
    S: Stream + Send + 'static,
    S::Item: Send,
{
    futures::stream::unfold(Some(Box::pin(stream)), move |state| {
        let stop = stop.clone();
        async move {
            let mut stream = state?;
            tokio::select! {
                item = stream.next() => item.map(|item| (item, Some(stream))),
                () = stop.cancelled() => None,
            }
        }
    })
}

/// One item per change of the key set (the first value is the current one, skipped).
fn key_changes(mut rx: watch::Receiver<u64>) -> impl Stream<Item = ()> + Send + 'static {
    rx.mark_unchanged();
    futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_before_the_first_list_ends_the_controller() {
        use kube::runtime::controller::Action;
        // A watch that never lists: kube's runner waits for the cache to be ready.
        let (reader, writer) = reflector::store::<SealedSecret>();
        let never = futures::stream::pending::<Result<Event<SealedSecret>, watcher::Error>>()
            .reflect(writer);
        let stop = CancellationToken::new();
        let triggers = until_cancelled(never, stop.clone()).applied_objects();
        let run = Controller::for_stream(triggers, reader)
            .run(
                |_ss, _ctx: Arc<()>| async { Ok::<_, std::io::Error>(Action::await_change()) },
                |_ss, _e, _ctx| Action::await_change(),
                Arc::new(()),
            )
            .for_each(|_| async {});
        let running = tokio::spawn(run);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!running.is_finished());
        stop.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(10), running)
            .await
            .expect("the controller stops although its cache never filled")
            .expect("no panic");
    }

    #[tokio::test]
    async fn secrets_are_listed_and_watched_as_metadata_only() {
        use http::{Request, Response};
        use kube::client::Body;
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let api: Api<PartialObjectMeta<Secret>> = Api::all(Client::new(service, "default"));
        let server = tokio::spawn(async move {
            let (request, send) = handle.next_request().await.expect("a list request");
            let accept = request
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let list = serde_json::json!({
                "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                "metadata": {"resourceVersion": "1"},
                "items": [{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                           "metadata": {"name": "db", "namespace": "app", "resourceVersion": "1"}}]
            });
            send.send_response(
                Response::builder()
                    .body(Body::from(serde_json::to_vec(&list).expect("json")))
                    .expect("response"),
            );
            (request.uri().path().to_owned(), accept)
        });
        let mut events = std::pin::pin!(secret_metadata_events(api, watcher::Config::default()));
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .expect("an event");
        assert!(matches!(first, Some(Ok(Event::Init))), "{first:?}");
        // The list is requested when the stream is polled on.
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .expect("an event");
        match next {
            Some(Ok(Event::InitApply(meta))) => assert_eq!(meta.name_any(), "db"),
            other => panic!("{other:?}"),
        }
        let (path, accept) = server.await.expect("server");
        assert_eq!(path, "/api/v1/secrets");
        assert!(
            accept.contains("as=PartialObjectMetadataList") && accept.contains("g=meta.k8s.io"),
            "the API server is asked for metadata only, not whole Secrets: {accept:?}"
        );
    }

    #[tokio::test]
    async fn key_changes_skip_the_current_value() {
        let (tx, rx) = watch::channel(0u64);
        let mut changes = std::pin::pin!(key_changes(rx));
        tx.send_modify(|v| *v += 1);
        assert_eq!(changes.next().await, Some(()));
        drop(tx);
        assert_eq!(changes.next().await, None);
    }
}
