//! The sealed-secrets controller: holds the RSA keys as Secrets in its namespace
//! ([`keys`]), turns every SealedSecret into the Secret it describes ([`reconcile`],
//! wired in [`controller`]), and serves the certificate, verify and rotate endpoints
//! and metrics ([`http`], [`metrics`]). Compatible with Bitnami's controller: same
//! key Secrets, flags, HTTP API, events and metric names.
//!
//! [`run`] takes a client and a shutdown signal and returns; the binary's `main`
//! does the process things (flags, logging, signals, exit codes).
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod controller;
pub mod error;
pub mod events;
pub mod http;
pub mod keys;
pub mod leader;
pub mod metrics;
pub mod ratelimit;
pub mod reconcile;
pub mod telemetry;
#[cfg(test)]
mod testing;

use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};
use sealed_secrets::unseal::UnsealOptions;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Namespaces};
use crate::controller::Shared;
use crate::events::Recorder;
use crate::http::{ApiState, api_router, metrics_router};
use crate::keys::KeyRegistry;
use crate::keys::manager::KeyManager;
use crate::leader::{ElectionConfig, Elector};
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;

/// The version reported by `--version`, `build_info` and logs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why the controller stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// An HTTP server failed.
    #[error("HTTP server on {addr} failed: {source}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Signals from the process.
#[derive(Clone, Default)]
pub struct Signals {
    /// Stop gracefully (SIGTERM, SIGINT).
    pub shutdown: CancellationToken,
    /// Make a new key now (SIGUSR1).
    pub new_key: Arc<Notify>,
}

/// Runs the controller until `signals.shutdown`.
pub async fn run(config: Config, client: Client, signals: Signals) -> Result<(), RunError> {
    let shutdown = signals.shutdown.clone();
    let registry = Arc::new(KeyRegistry::new(config.keys.order));
    let metrics = Arc::new(Metrics::new(VERSION));
    let manager = KeyManager::new(
        client.clone(),
        config.namespace.clone(),
        config.keys.clone(),
        Arc::clone(&registry),
    );

    // Keys first: nothing can be unsealed or served without them.
    let (ready_tx, mut ready_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(manager.clone().watch(ready_tx, shutdown.clone()));
    tracing::info!(namespace = %config.namespace, "reading keys");
    tokio::select! {
        _ = ready_rx.wait_for(|ready| *ready) => {}
        () = shutdown.cancelled() => return Ok(()),
    }

    // What only the leader does: make keys and reconcile. Without leader election this
    // replica always leads.
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "sealed-secrets-controller".into());
    let leader = Arc::new(LeaderWork {
        manager,
        new_key: Arc::clone(&signals.new_key),
        namespaces: config.namespaces.clone(),
        shared: Arc::new(Shared {
            client: client.clone(),
            keys: Arc::clone(&registry),
            metrics: Arc::clone(&metrics),
            recorder: Recorder::new(client.clone(), host.clone()),
            options: reconcile::Options {
                update_status: config.update_status,
                accept_deprecated_v1_data: config.accept_deprecated_v1_data,
                max_unseal_retries: config.max_unseal_retries,
                old_gc_behavior: config.old_gc_behavior,
            },
            label_selector: config.label_selector.clone(),
            watch_secrets: config.watch_secrets,
        }),
    });
    match &config.leader_election {
        None => {
            metrics.leader.set(1);
            tasks.spawn(lead(leader, shutdown.clone()));
        }
        Some(election) => {
            let elector = Elector::new(
                client.clone(),
                ElectionConfig {
                    namespace: config.namespace.clone(),
                    lease_name: election.lease_name.clone(),
                    identity: leader::identity(&host),
                    lease_duration: election.lease_duration,
                    renew_deadline: election.renew_deadline,
                    retry_period: election.retry_period,
                },
                metrics.leader.clone(),
            );
            tasks.spawn(elector.run(shutdown.clone(), move |token| {
                lead(Arc::clone(&leader), token)
            }));
        }
    }

    // Every replica serves the API once there is a key (a standby waits for the
    // leader's first key to arrive through the key watch).
    if !wait_for_keys(&registry, &shutdown).await {
        return Ok(());
    }
    metrics.register_keys(&registry.snapshot().fingerprints());
    {
        let (metrics, registry, shutdown) = (
            Arc::clone(&metrics),
            Arc::clone(&registry),
            shutdown.clone(),
        );
        let mut key_changes = registry.subscribe();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    changed = key_changes.changed() => if changed.is_err() { return },
                    () = shutdown.cancelled() => return,
                }
                metrics.register_keys(&registry.snapshot().fingerprints());
            }
        });
    }

    // HTTP API and metrics.
    let api_state = Arc::new(ApiState {
        keys: Arc::clone(&registry),
        metrics: Arc::clone(&metrics),
        limiter: RateLimiter::new(config.http.rate_limit, config.http.rate_limit_burst),
        options: UnsealOptions {
            accept_deprecated_v1_data: config.accept_deprecated_v1_data,
        },
        timeout: http::request_timeout(config.http.read_timeout, config.http.write_timeout),
    });
    let servers = [
        (config.http.listen, api_router(api_state)),
        (config.http.metrics, metrics_router(Arc::clone(&metrics))),
    ];
    let mut http_tasks = tokio::task::JoinSet::new();
    for (addr, router) in servers {
        let listener = listen(addr).map_err(|source| RunError::Listen { addr, source })?;
        tracing::info!(%addr, "HTTP server listening");
        let stop = shutdown.clone();
        http_tasks.spawn(async move {
            // The peer address keys /v1/verify's rate limit when no proxy names one.
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .map_err(|source| RunError::Serve { addr, source })
        });
    }

    // Until shutdown, or until an HTTP server fails.
    let result = tokio::select! {
        () = shutdown.cancelled() => Ok(()),
        Some(Ok(Err(e))) = http_tasks.join_next() => Err(e),
    };
    shutdown.cancel();
    while http_tasks.join_next().await.is_some() {}
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped");
    result
}

/// Listens on `addr` as Go's `net.Listen("tcp", …)` does: a wildcard address (`:8080`,
/// `0.0.0.0:8080`, `[::]:8080`) takes IPv4 and IPv6 on one dual-stack socket, or IPv4
/// alone on a machine without IPv6.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let bind = |socket: Socket, at: SocketAddr| -> std::io::Result<TcpListener> {
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&at.into())?;
        socket.listen(1024)?;
        TcpListener::from_std(socket.into())
    };
    if addr.ip().is_unspecified() {
        if let Ok(socket) = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP)) {
            socket.set_only_v6(false)?;
            let any = SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), addr.port());
            match bind(socket, any) {
                Ok(listener) => return Ok(listener),
                // No IPv6 here (disabled, or no address): IPv4 alone, as Go falls back.
                Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {}
                Err(e) => return Err(e),
            }
        }
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        return bind(
            socket,
            SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), addr.port()),
        );
    }
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    bind(socket, addr)
}

/// Everything the leader runs.
struct LeaderWork {
    manager: KeyManager,
    new_key: Arc<Notify>,
    namespaces: Namespaces,
    shared: Arc<Shared>,
}

/// Leads until `token` is cancelled: renews keys (making the first one if there is
/// none) and, once a key exists, reconciles the watched namespaces.
async fn lead(work: Arc<LeaderWork>, token: CancellationToken) {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(
        work.manager
            .clone()
            .renew(Arc::clone(&work.new_key), token.clone()),
    );
    if wait_for_keys(&work.shared.keys, &token).await {
        let client = &work.shared.client;
        match &work.namespaces {
            Namespaces::All => {
                tasks.spawn(controller::run(
                    Arc::clone(&work.shared),
                    None,
                    token.clone(),
                ));
            }
            Namespaces::Only(list) => {
                for ns in list {
                    if namespace_exists(client, ns).await {
                        tasks.spawn(controller::run(
                            Arc::clone(&work.shared),
                            Some(ns.clone()),
                            token.clone(),
                        ));
                    }
                }
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Waits until the registry holds a key; `false` if `stop` came first.
async fn wait_for_keys(registry: &KeyRegistry, stop: &CancellationToken) -> bool {
    let mut changes = registry.subscribe();
    loop {
        if !registry.snapshot().is_empty() {
            return true;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return false },
            () = stop.cancelled() => return false,
        }
    }
}

/// Upstream checks each additional namespace and skips missing ones. A namespace we
/// may not read (namespaced installs have no such permission) is watched anyway.
async fn namespace_exists(client: &Client, name: &str) -> bool {
    let api: Api<Namespace> = Api::all(client.clone());
    match api.get_opt(name).await {
        Ok(Some(_)) => true,
        Ok(None) => {
            tracing::warn!(namespace = %name, "namespace doesn't exist; not watching it");
            false
        }
        Err(kube::Error::Api(s)) if s.code == 403 => true,
        Err(e) => {
            tracing::warn!(namespace = %name, error = %e, "cannot check namespace; watching it anyway");
            true
        }
    }
}

#[cfg(test)]
mod listen_tests {
    use super::*;

    #[tokio::test]
    async fn a_wildcard_address_takes_ipv4_and_ipv6() {
        let listener = listen("0.0.0.0:0".parse().expect("addr")).expect("listening");
        let port = listener.local_addr().expect("bound").port();
        let accept = tokio::spawn(async move {
            for _ in 0..2 {
                listener.accept().await.expect("a connection");
            }
        });
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("IPv4 connects");
        if std::net::TcpListener::bind("[::1]:0").is_ok() {
            tokio::net::TcpStream::connect(("::1", port))
                .await
                .expect("IPv6 connects");
        } else {
            eprintln!("no IPv6 on this machine: only IPv4 checked");
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("IPv4 connects");
        }
        accept.await.expect("accepted both");
    }

    #[tokio::test]
    async fn a_specific_address_is_that_address_only() {
        let listener = listen("127.0.0.1:0".parse().expect("addr")).expect("listening");
        let addr = listener.local_addr().expect("bound");
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
    }
}
