//! SealedSecret → Secret. The reconcile reads like upstream's `Controller.unseal`:
//! check whether the Secret already matches (then no RSA work at all), check we may
//! touch it, unseal with every key, write, report status and events. Each decision
//! is a pure function in [`desired`] or [`status`].

pub mod desired;
pub mod pending;
pub mod status;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource, ResourceExt};
use sealed_secrets::unseal::{UnsealCost, UnsealOptions, unseal_measured};
use sealed_secrets::v1alpha1::SealedSecretStatus;
use sealed_secrets::{SealedSecret, annotations};
use sealed_secrets_core::Fingerprint;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroize;

use crate::error::{Error, Retry, is_immutable_error};
use crate::events::{self, EventType, Recorder};
use crate::keys::KeyRegistry;
use crate::metrics::Metrics;
use desired::{
    FIELD_MANAGER, Freshness, Ownership, Write, is_up_to_date, listed_source_hash, ownership,
    plan_write, source_hash, unmanaged_message,
};
use pending::PendingCopies;
use status::{Outcome, Record, next_status};

/// The label whose value `condition_info` reports.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Reconcile settings from the flags.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `--update-status`.
    pub update_status: bool,
    /// `--accept-deprecated-v1-data`.
    pub accept_deprecated_v1_data: bool,
    /// `--max-unseal-retries`.
    pub max_unseal_retries: u32,
    /// `--old-gc-behavior`.
    pub old_gc_behavior: bool,
}

/// Where the reconcile looks up existing Secrets' metadata.
#[derive(Clone)]
pub enum SecretLookup {
    /// A metadata-only reflector of the watched Secrets (the default).
    Store {
        /// The cache.
        store: Store<kube::core::PartialObjectMeta<Secret>>,
        /// Resolves once the cache holds its first complete list, or on `stop`.
        ready: Shared<BoxFuture<'static, ()>>,
        /// The controller is stopping (shutdown, or leadership lost).
        stop: CancellationToken,
    },
    /// A live GET per reconcile (`--skip-recreate`: Secrets are not watched).
    Live,
}

impl SecretLookup {
    /// Looks Secrets up in `store`; `stop` ends every wait for it (a reconcile still
    /// waiting for the first list when the controller stops would otherwise hold the
    /// graceful shutdown forever).
    pub fn store(
        store: Store<kube::core::PartialObjectMeta<Secret>>,
        stop: CancellationToken,
    ) -> Self {
        // One shared wait for every reconcile: the store's own readiness future
        // wakes only the last task that polled it, so many concurrent waiters on it
        // would hang.
        let waiting = store.clone();
        let stopped = stop.clone();
        let ready = async move {
            tokio::select! {
                // Err: the watch is gone, which happens only when stopping.
                _ = waiting.wait_until_ready() => {}
                () = stopped.cancelled() => {}
            }
        }
        .boxed()
        .shared();
        SecretLookup::Store { store, ready, stop }
    }
}

/// What every reconcile shares.
pub struct Context {
    /// API client.
    pub client: Client,
    /// The keys.
    pub keys: Arc<KeyRegistry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events.
    pub recorder: Recorder,
    /// Settings.
    pub options: Options,
    /// Existing Secrets.
    pub secrets: SecretLookup,
    /// Full copies of the SealedSecrets waiting to be unsealed (the cache has none).
    pub pending: Arc<PendingCopies>,
    /// Failures per SealedSecret since its last success.
    retries: Mutex<HashMap<ObjectRef<SealedSecret>, RetryState>>,
    /// Secrets we wrote or checked against their SealedSecret: their resourceVersion
    /// and the source hash of what they hold. This covers the time before our status
    /// write (which records the hash for a restart) comes back by watch.
    verified: Mutex<HashMap<(String, String), Verified>>,
    /// The (uid, generation) each SealedSecret was last announced `Unsealed` for.
    announced: Mutex<HashMap<ObjectRef<SealedSecret>, Announced>>,
    /// Status is written by update: RBAC refused the apply (upstream's role).
    status_by_update: AtomicBool,
    /// One permit per core: RSA work runs on the blocking pool, never more at once
    /// than there are cores to do it.
    rsa_slots: tokio::sync::Semaphore,
}

/// The uid and generation of a SealedSecret announced `Unsealed`.
type Announced = (Option<String>, Option<i64>);

/// What this process knows of one Secret (see `Context::verified`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verified {
    version: String,
    source_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RetryState {
    generation: Option<i64>,
    keys_version: u64,
    failures: u32,
}

impl Context {
    /// A context over `secrets`.
    pub fn new(
        client: Client,
        keys: Arc<KeyRegistry>,
        metrics: Arc<Metrics>,
        recorder: Recorder,
        options: Options,
        secrets: SecretLookup,
    ) -> Self {
        Context {
            client,
            keys,
            metrics,
            recorder,
            options,
            secrets,
            pending: Arc::new(PendingCopies::new(pending::BUDGET_BYTES)),
            retries: Mutex::default(),
            verified: Mutex::default(),
            announced: Mutex::default(),
            status_by_update: AtomicBool::new(false),
            rsa_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            ),
        }
    }

    async fn secret_metadata(&self, ns: &str, name: &str) -> Result<Option<ObjectMeta>, Error> {
        match &self.secrets {
            SecretLookup::Store { store, ready, stop } => {
                // Decide only from a complete picture: wait for the first list.
                ready.clone().await;
                if stop.is_cancelled() {
                    return Err(Error::Stopping);
                }
                Ok(store
                    .get(&ObjectRef::new(name).within(ns))
                    .map(|m| m.metadata.clone()))
            }
            SecretLookup::Live => {
                let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
                Ok(api
                    .get_metadata_opt(name)
                    .await
                    .map_err(Error::api("reading Secret metadata"))?
                    .map(|m| m.metadata))
            }
        }
    }

    /// Whether `meta` is exactly the version of a Secret this process last wrote or
    /// checked: its watch event (our own write coming back) needs no reconcile.
    pub fn is_verified(&self, meta: &ObjectMeta) -> bool {
        match (meta.namespace.as_deref(), meta.name.as_deref()) {
            (Some(ns), Some(name)) => self.freshness(ns, name, Some(meta)) == Freshness::Verified,
            _ => false,
        }
    }

    /// What this process verified settles it; any later change by anyone else is
    /// re-checked. Without a record (after a start), `managedFields` decide.
    fn freshness(&self, ns: &str, name: &str, meta: Option<&ObjectMeta>) -> Freshness {
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(ns.to_owned(), name.to_owned())) {
            None => Freshness::Unknown,
            Some(v) if meta.and_then(|m| m.resource_version.as_ref()) == Some(&v.version) => {
                Freshness::Verified
            }
            Some(_) => Freshness::ChangedSinceVerified,
        }
    }

    /// The source hash of what this process wrote into exactly the version `meta`.
    fn verified_hash(&self, ns: &str, name: &str, meta: &ObjectMeta) -> Option<String> {
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(ns.to_owned(), name.to_owned()))
            .filter(|v| meta.resource_version.as_ref() == Some(&v.version))
            .map(|v| v.source_hash.clone())
    }

    fn set_verified(&self, ns: &str, name: &str, version: Option<String>, source_hash: &str) {
        let mut map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        let key = (ns.to_owned(), name.to_owned());
        match version {
            Some(version) => map.insert(
                key,
                Verified {
                    version,
                    source_hash: source_hash.to_owned(),
                },
            ),
            None => map.remove(&key),
        };
    }

    /// Whether this is the first `Unsealed` announcement of this generation of `ss`
    /// by this process (and records that it is made).
    fn first_announcement(&self, ss: &SealedSecret) -> bool {
        let mut map = self.announced.lock().unwrap_or_else(|e| e.into_inner());
        let this = (ss.metadata.uid.clone(), ss.metadata.generation);
        map.insert(ObjectRef::from_obj(ss), this.clone()) != Some(this)
    }

    /// Forgets a deleted SealedSecret, and with `--old-gc-behavior` deletes the
    /// Secret it controlled.
    pub async fn on_deleted(&self, ss: &SealedSecret) {
        let ns = ss.namespace().unwrap_or_default();
        let name = ss.name_any();
        self.metrics.forget(&ns, &name, &instance_of(ss));
        self.set_verified(&ns, &name, None, "");
        self.retries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ObjectRef::from_obj(ss));
        self.announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ObjectRef::from_obj(ss));
        if !self.options.old_gc_behavior {
            return;
        }
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &ns);
        match api.get_metadata_opt(&name).await {
            Ok(Some(meta)) if ownership(ss, &meta.metadata) == Ownership::Controlled => {
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => {
                        tracing::info!(namespace = %ns, name = %name, "deleted Secret of deleted SealedSecret")
                    }
                    Err(kube::Error::Api(s)) if s.is_not_found() => {}
                    Err(e) => {
                        tracing::warn!(namespace = %ns, name = %name, error = %e, "cannot delete Secret")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(namespace = %ns, name = %name, error = %e, "cannot read Secret")
            }
        }
    }
}

fn instance_of(ss: &SealedSecret) -> String {
    ss.labels().get(INSTANCE_LABEL).cloned().unwrap_or_default()
}

/// Turns one SealedSecret into its Secret.
#[tracing::instrument(skip_all, fields(namespace = ss.metadata.namespace.as_deref().unwrap_or_default(), name = ss.metadata.name.as_deref().unwrap_or_default()))]
pub async fn reconcile(ss: Arc<SealedSecret>, ctx: Arc<Context>) -> Result<Action, Error> {
    let result = sync(&ss, &ctx).await;
    if matches!(result, Err(Error::Stopping | Error::Gone)) {
        // Nothing was written, and a replica that stops leading writes no status; a
        // deleted SealedSecret has no status to write.
        return Ok(Action::await_change());
    }
    ctx.metrics.unseal_requests.inc();
    let outcome = match &result {
        Ok(_) => Outcome::Synced,
        Err(e) => failed(e),
    };
    let ns = ss.namespace().unwrap_or_default();
    if let Err(e) = &result {
        ctx.metrics.error(e.metric_reason(), &ns);
        let (reason, message) = match e {
            Error::Unseal(u) => (
                events::REASON_UNSEAL_FAILED,
                format!("Failed to unseal: {u}"),
            ),
            Error::Unmanaged(m) => (events::REASON_UPDATE_FAILED, m.clone()),
            other => (events::REASON_UPDATE_FAILED, other.to_string()),
        };
        ctx.recorder
            .publish(&ss, EventType::Warning, reason, &message)
            .await;
    }
    let record = result.as_ref().ok().map(|s| &s.record);
    let status = write_status(&ss, &ctx, &outcome, record).await;
    ctx.metrics.set_condition(
        &ns,
        &ss.name_any(),
        &instance_of(&ss),
        outcome == Outcome::Synced,
    );
    let wrote = result?.wrote;
    // Announced once the status says so: a write whose status is retried is announced
    // by the retry (which finds the Secret written and the SealedSecret newly Synced).
    // A copy older than our own status write also looks newly Synced: once per
    // generation is enough, unless this reconcile wrote the Secret.
    let announce = match status {
        StatusWrite::Done { newly_synced } if wrote || newly_synced => {
            // Recorded either way, so a later stale copy stays quiet.
            let first = ctx.first_announcement(&ss);
            wrote || first
        }
        _ => false,
    };
    if announce {
        ctx.recorder
            .publish(
                &ss,
                EventType::Normal,
                events::REASON_UNSEALED,
                events::MESSAGE_UNSEALED,
            )
            .await;
    }
    match status {
        StatusWrite::Done { .. } => {
            ctx.retries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&ObjectRef::from_obj(ss.as_ref()));
            Ok(Action::await_change())
        }
        // Not left to the watch: it may have delivered the newer version before this
        // reconcile began with the older one, or be reconnecting after an outage.
        StatusWrite::Stale => Ok(Action::requeue(STALE_STATUS_RETRY)),
        // Retried with backoff like any API failure: a Secret written without its
        // status would otherwise stay reported as not Synced until the next change.
        StatusWrite::Failed(e) => Err(e),
    }
}

/// How soon a reconcile whose status update met a newer version runs again (from the
/// cache, which by then holds that version).
const STALE_STATUS_RETRY: Duration = Duration::from_secs(1);

/// The status [`Outcome`] of a failure: the `Synced` reason upstream gives it, and
/// whether kstatus should see it as stalled (retrying cannot help until something
/// changes) or in progress (retried with backoff).
fn failed(e: &Error) -> Outcome {
    use status::Progress::{Retrying, Stalled};
    let (reason, progress) = match e {
        Error::Unseal(_) => (
            status::REASON_UNSEAL_FAILED,
            Stalled(status::REASON_UNSEAL_FAILED),
        ),
        Error::Unmanaged(_) => (status::REASON_UNMANAGED, Stalled(status::REASON_UNMANAGED)),
        Error::Immutable(_) => (
            status::REASON_UPDATE_FAILED,
            Stalled(status::REASON_IMMUTABLE),
        ),
        Error::Api { .. } | Error::Internal(_) | Error::Stopping | Error::Gone => {
            (status::REASON_UPDATE_FAILED, Retrying)
        }
    };
    Outcome::Failed {
        reason,
        message: e.to_string(),
        progress,
    }
}

/// How writing the status went.
#[derive(Debug)]
enum StatusWrite {
    /// Written, or already right; `newly_synced`: this reconcile is the one that saw
    /// the SealedSecret become Synced (what earns an `Unsealed` event when nothing
    /// else was written).
    Done {
        /// Synced now, not before.
        newly_synced: bool,
    },
    /// The copy was older than the object (409, status by update only): the write
    /// must be retried from the newer version.
    Stale,
    /// The API server refused or could not be reached.
    Failed(Error),
}

/// A Secret in line with its SealedSecret.
struct Synced {
    /// This reconcile wrote to the Secret.
    wrote: bool,
    /// What the status records of it.
    record: Record,
}

/// Brings the Secret in line.
async fn sync(ss: &SealedSecret, ctx: &Context) -> Result<Synced, Error> {
    let ns = ss.namespace().unwrap_or_default();
    let name = ss.name_any();
    let (hash, stripped) = listed_source_hash(ss);
    // Taken whatever the path below: a reconcile that needs no unseal frees it too.
    let kept = ctx
        .pending
        .take(&ns, &name, ss.metadata.resource_version.as_deref());

    let mut existing_meta = ctx.secret_metadata(&ns, &name).await?;
    let mut freshness = ctx.freshness(&ns, &name, existing_meta.as_ref());
    if freshness == Freshness::ChangedSinceVerified
        && matches!(ctx.secrets, SecretLookup::Store { .. })
    {
        // The cache may only trail our own last write: ask the API server (a
        // metadata GET is far cheaper than re-decrypting).
        let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
        existing_meta = api
            .get_metadata_opt(&name)
            .await
            .map_err(Error::api("reading Secret metadata"))?
            .map(|m| m.metadata);
        freshness = ctx.freshness(&ns, &name, existing_meta.as_ref());
    }
    if let Some(meta) = &existing_meta {
        // What we wrote into this very version, else what the status recorded.
        let recorded = ctx
            .verified_hash(&ns, &name, meta)
            .or_else(|| ss.status.as_ref().and_then(|s| s.source_hash.clone()));
        if is_up_to_date(ss, &hash, recorded.as_deref(), meta, freshness) {
            let unsealed_with = ss.status.as_ref().and_then(|s| s.unsealed_with.clone());
            ctx.metrics
                .record_keys_used(&ns, &name, keys_recorded(unsealed_with.as_deref()));
            return Ok(Synced {
                wrote: false,
                record: Record {
                    source_hash: hash,
                    unsealed_with,
                },
            });
        }
        if ownership(ss, meta) == Ownership::Unmanaged {
            return Err(Error::Unmanaged(unmanaged_message(&name)));
        }
    }

    // The cache holds no ciphertexts: take the copy the watch kept of this version,
    // else read the object (a newer version than the cached one is fine: its own
    // watch event follows and finds the work done).
    let full;
    let (ss, hash) = if stripped {
        full = match kept.and_then(pending::Kept::into_object) {
            Some(copy) => copy,
            None => {
                let api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), &ns);
                api.get_opt(&name)
                    .await
                    .map_err(Error::api("reading SealedSecret"))?
                    .ok_or(Error::Gone)?
            }
        };
        (&full, source_hash(&full))
    } else {
        (ss, hash)
    };
    let keys = ctx.keys.snapshot();
    let options = UnsealOptions {
        accept_deprecated_v1_data: ctx.options.accept_deprecated_v1_data,
    };
    let owned = ss.clone();
    let slot = ctx
        .rsa_slots
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    // RSA is CPU-bound: keep it off the async workers.
    let (unsealed, cost) = tokio::task::spawn_blocking(move || {
        let mut cost = UnsealCost::default();
        let result = unseal_measured(&owned, keys.ring(), options, &mut cost);
        (result, cost)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    drop(slot);
    ctx.metrics.rsa_decryptions.inc_by(cost.rsa_operations);
    let unsealed = unsealed?;

    // A live read: the write must start from the Secret as it is now (upstream does
    // the same), and `patch` needs its data. When the complete Secret cache says there
    // is none, create straight away: a Secret made meanwhile makes the create fail
    // (409), and the retry starts from a live read.
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    let cache_says_absent =
        existing_meta.is_none() && matches!(ctx.secrets, SecretLookup::Store { .. });
    let mut existing = if cache_says_absent {
        None
    } else {
        api.get_opt(&name)
            .await
            .map_err(Error::api("reading Secret"))?
    };
    let plan = plan_write(ss, existing.as_ref(), &unsealed);
    drop(unsealed);
    if let Some(secret) = existing.as_mut() {
        scrub(secret);
    }
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    let (wrote, version) = match plan {
        None => return Err(Error::Unmanaged(unmanaged_message(&name))),
        Some(Write::Nothing) => (false, existing.and_then(|s| s.metadata.resource_version)),
        Some(Write::Create(mut secret)) => {
            let result = api.create(&params, &secret).await;
            scrub(&mut secret);
            let created = result.map_err(Error::api("creating Secret"))?;
            tracing::info!("created Secret");
            (true, created.metadata.resource_version)
        }
        Some(Write::Replace(mut secret)) => {
            let result = api.replace(&name, &params, &secret).await;
            scrub(&mut secret);
            let replaced = result.map_err(|e| {
                if is_immutable_error(&e) {
                    Error::Immutable(format!("{ns}/{name}"))
                } else {
                    Error::Api {
                        what: "updating Secret",
                        source: e,
                    }
                }
            })?;
            tracing::info!("updated Secret");
            (true, replaced.metadata.resource_version)
        }
    };
    ctx.set_verified(&ns, &name, version, &hash);
    let record = Record {
        source_hash: hash,
        unsealed_with: (!cost.keys_used.is_empty())
            .then(|| annotations::join_fingerprints(&cost.keys_used)),
    };
    ctx.metrics.record_keys_used(&ns, &name, cost.keys_used);
    Ok(Synced { wrote, record })
}

/// Overwrites plaintext values in a Secret we are done with.
fn scrub(secret: &mut Secret) {
    for value in secret.data.iter_mut().flat_map(|d| d.values_mut()) {
        value.0.zeroize();
    }
}

/// The fingerprints of a status's `unsealedWith` (`SHA256:…,SHA256:…`).
fn keys_recorded(unsealed_with: Option<&str>) -> BTreeSet<Fingerprint> {
    unsealed_with
        .into_iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Fingerprint::new)
        .collect()
}

/// Writes the status if it changes.
async fn write_status(
    ss: &SealedSecret,
    ctx: &Context,
    outcome: &Outcome,
    record: Option<&Record>,
) -> StatusWrite {
    let was_synced = ss.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == sealed_secrets::v1alpha1::CONDITION_SYNCED && c.status == "True")
    });
    if !ctx.options.update_status {
        return StatusWrite::Done {
            newly_synced: !was_synced,
        };
    }
    let now = now_rfc3339();
    let Some(new_status) = next_status(
        ss.status.as_ref(),
        ss.metadata.generation,
        outcome,
        record,
        &now,
    ) else {
        return StatusWrite::Done {
            newly_synced: !was_synced,
        };
    };
    let newly_synced = !was_synced && *outcome == Outcome::Synced;
    let api: Api<SealedSecret> =
        Api::namespaced(ctx.client.clone(), &ss.namespace().unwrap_or_default());
    let result = if ctx.status_by_update.load(Ordering::Relaxed) {
        update_status(&api, ss, new_status).await
    } else {
        match apply_status(&api, ss, &new_status).await {
            Err(kube::Error::Api(s)) if s.code == 403 => {
                // Upstream's RBAC grants `update` on sealedsecrets/status, not `patch`:
                // a drop-in image swap keeps working, the old way.
                tracing::warn!(
                    "no RBAC to patch sealedsecrets/status; writing status by update \
                     (grant `patch` to avoid conflicts and retries)"
                );
                ctx.status_by_update.store(true, Ordering::Relaxed);
                update_status(&api, ss, new_status).await
            }
            other => other,
        }
    };
    match result {
        Ok(()) => StatusWrite::Done { newly_synced },
        Err(kube::Error::Api(s)) if s.code == 409 => {
            tracing::debug!("status write met a newer version; retrying from it");
            StatusWrite::Stale
        }
        Err(e) => {
            ctx.metrics.error(
                crate::metrics::reason::STATUS,
                &ss.namespace().unwrap_or_default(),
            );
            tracing::warn!(error = %e, "cannot update status");
            StatusWrite::Failed(Error::Api {
                what: "updating status",
                source: e,
            })
        }
    }
}

/// Server-side apply of the status alone. It carries no resourceVersion, so a copy
/// older than the object meets no 409 and no retry (what it writes is decided by the
/// spec, which that copy shares with the newest). Forced: before a migration,
/// upstream's controller owned these fields through its updates.
async fn apply_status(
    api: &Api<SealedSecret>,
    ss: &SealedSecret,
    status: &SealedSecretStatus,
) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": SealedSecret::api_version(&()),
        "kind": SealedSecret::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&ss.name_any(), &params, &Patch::Apply(&patch))
        .await
        .map(drop)
}

/// The status by update, as upstream writes it: a copy older than the object meets
/// a 409 and is retried from the newer one.
async fn update_status(
    api: &Api<SealedSecret>,
    ss: &SealedSecret,
    status: SealedSecretStatus,
) -> Result<(), kube::Error> {
    let mut updated = ss.clone();
    updated.status = Some(status);
    // The API server takes only `status` from this write, but it would still list the
    // cache's own annotation among the fields we manage.
    if let Some(annotations) = updated.metadata.annotations.as_mut() {
        annotations.remove(desired::CACHED_SOURCE_HASH);
        if annotations.is_empty() {
            updated.metadata.annotations = None;
        }
    }
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    api.replace_status(&ss.name_any(), &params, &updated)
        .await
        .map(drop)
}

fn now_rfc3339() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_default()
}

/// Requeue policy after a failure (upstream `--max-unseal-retries`, backoff).
pub fn error_policy(ss: Arc<SealedSecret>, error: &Error, ctx: Arc<Context>) -> Action {
    let keys_version = ctx.keys.version();
    let key = ObjectRef::from_obj(ss.as_ref());
    let mut retries = ctx.retries.lock().unwrap_or_else(|e| e.into_inner());
    let state = retries.entry(key).or_insert(RetryState {
        generation: ss.metadata.generation,
        keys_version,
        failures: 0,
    });
    // A new spec or new keys start a fresh series of attempts.
    if state.generation != ss.metadata.generation || state.keys_version != keys_version {
        *state = RetryState {
            generation: ss.metadata.generation,
            keys_version,
            failures: 0,
        };
    }
    state.failures += 1;
    let failures = state.failures;
    let give_up = match error.retry() {
        Retry::Never => true,
        Retry::Limited => failures > ctx.options.max_unseal_retries,
        Retry::Always => false,
    };
    if give_up {
        tracing::warn!(error = %error, failures, "Error updating, giving up");
        Action::await_change()
    } else {
        let delay = backoff(failures);
        tracing::warn!(error = %error, failures, retry_in = ?delay, "Error updating, will retry");
        Action::requeue(delay)
    }
}

/// 250 ms doubling per failure, at most five minutes.
fn backoff(failures: u32) -> Duration {
    let factor = 1u64 << failures.saturating_sub(1).min(16);
    Duration::from_millis(250u64.saturating_mul(factor)).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(5), Duration::from_secs(4));
        assert_eq!(backoff(40), Duration::from_secs(300));
    }

    #[test]
    fn recorded_keys_are_read_back() {
        let keys = keys_recorded(Some("SHA256:a, SHA256:b"));
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&Fingerprint::new("SHA256:b")));
        assert!(keys_recorded(None).is_empty());
    }

    #[test]
    fn scrub_zeroes_values() {
        let mut s = Secret {
            data: Some([("k".to_owned(), k8s_openapi::ByteString(b"hunter2".to_vec()))].into()),
            ..Secret::default()
        };
        scrub(&mut s);
        assert!(s.data.unwrap()["k"].0.is_empty(), "zeroed, then cleared");
    }
}

#[cfg(test)]
mod scenarios;
