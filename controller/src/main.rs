//! The `controller` binary: flags, logging, signals and exit codes around
//! [`sealed_secrets_controller::run`].
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use sealed_secrets_controller::config::{ConfigError, Flags, log_level};
use sealed_secrets_controller::telemetry::LogFormat;
use sealed_secrets_controller::{Signals, VERSION, client, run, telemetry};

/// Where the service account's namespace is mounted in a pod.
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

fn main() -> ExitCode {
    let flags = match Flags::try_parse() {
        Ok(flags) => flags,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp) => {
            print!("{}", e.render());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::FAILURE;
        }
    };
    if flags.version {
        println!("controller version: v{VERSION}");
        return ExitCode::SUCCESS;
    }
    let level = log_level(&flags.log_level);
    let (format, known_format) = LogFormat::parse(&flags.log_format);
    let bad_format = (!known_format).then(|| ConfigError::LogFormat(flags.log_format.clone()));
    let info_stdout = flags.log_info_stdout;
    let config = match flags.into_config(own_namespace()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(
        level.as_ref().map_or(tracing::Level::INFO, |l| *l),
        format,
        info_stdout,
    );
    // What upstream tolerates starts ours too, said once.
    for warning in level.err().into_iter().chain(bad_format) {
        tracing::warn!("{warning}");
    }
    tracing::info!(version = VERSION, namespace = %config.namespace, "starting sealed-secrets controller");

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let client = client::build(
            config.kubeconfig.as_deref(),
            config.client_qps,
            config.client_burst,
        )
        .await
        .map_err(|e| e.to_string())?;
        let signals = Signals::default();
        install_signal_handlers(&signals)
            .map_err(|e| format!("cannot install signal handlers: {e}"))?;
        run(config, client, signals)
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "controller failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `POD_NAMESPACE`, else the service account's namespace, else `kube-system`
/// (where upstream's manifests install the controller).
fn own_namespace() -> String {
    if let Ok(ns) = std::env::var("POD_NAMESPACE")
        && !ns.trim().is_empty()
    {
        return ns.trim().to_owned();
    }
    std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "kube-system".to_owned())
}

/// SIGTERM/SIGINT stop gracefully; SIGUSR1 makes a new key.
fn install_signal_handlers(signals: &Signals) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let shutdown = signals.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        shutdown.cancel();
    });
    let new_key = signals.new_key.clone();
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            new_key.notify_one();
        }
    });
    Ok(())
}
