//! The relay: receives Meta's webhooks, verifies them, keeps one durable, totally ordered event
//! log per workspace, and streams it to every desktop of the team from the cursor each last saw.
//!
//! - [`events`]: splitting a webhook into events, with idempotency keys and the raw JSON.
//! - [`store`]: the log in SQLite or PostgreSQL, and the desktops' tokens.
//! - [`log`]: group commit, and the in-memory tail that feeds live streams.
//! - [`http`]: the webhook endpoint, publish, the WebSocket stream, `/healthz`, `/metrics`.
//! - [`tokens`], [`config`], [`metrics`].

pub mod config;
pub mod conn;
pub use crmconnect_events::events;
pub mod http;
pub mod lease;
pub mod log;
pub mod metrics;
pub mod store;
pub mod tokens;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::RelayConfig;
use log::EventLog;
use metrics::Metrics;
use store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// What every handler shares.
pub struct RelayState {
    pub config: RelayConfig,
    pub log: Arc<EventLog>,
    pub metrics: Arc<Metrics>,
    pub stop: CancellationToken,
    /// Open streams per token id (see `Limits::streams_per_token`).
    pub streams: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// Each workspace's webhook secrets: the file's, or what its admin set from the app.
    pub webhooks: webhooks::WebhookSettings,
}

impl RelayState {
    /// What workspace `id`'s webhooks are checked with, if the relay serves it.
    pub async fn webhook_config(
        &self,
        id: &str,
    ) -> Result<Option<config::WorkspaceConfig>, StoreError> {
        self.webhooks
            .get(
                &self.config,
                self.log.store(),
                id,
                self.config.limits.poll_interval(),
            )
            .await
    }
}

/// A relay running in this process (tests, the sandbox workspace, `serve`).
pub struct RelayHandle {
    pub addr: SocketAddr,
    pub state: Arc<RelayState>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), RelayError>>,
}

impl RelayHandle {
    /// Stops accepting, closes the streams, waits for requests in flight (their events are
    /// committed before they are answered) and returns.
    pub async fn shutdown(self) -> Result<(), RelayError> {
        self.stop.cancel();
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(RelayError::Serve(std::io::Error::other(e))),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

/// Connects to the database, migrates it, and serves on `listener` (plain HTTP) until
/// [`RelayHandle::shutdown`].
pub async fn start(config: RelayConfig, listener: TcpListener) -> Result<RelayHandle, RelayError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    start_with_store(config, store, listener).await
}

pub async fn start_with_store(
    config: RelayConfig,
    store: Store,
    listener: TcpListener,
) -> Result<RelayHandle, RelayError> {
    let addr = listener.local_addr().map_err(RelayError::Serve)?;
    let stop = CancellationToken::new();
    let state = build_state(config, store, stop.clone()).await?;
    let router = http::router(state.clone());
    let handle = axum_server::Handle::new();
    let on_stop = handle.clone();
    let shutdown = stop.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        on_stop.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let std_listener = listener.into_std().map_err(RelayError::Serve)?;
    let mut server = axum_server::from_tcp(std_listener)
        .map_err(RelayError::Serve)?
        .acceptor(conn::LimitAcceptor::new(connection_limits(&state)))
        .handle(handle);
    server
        .http_builder()
        .http1()
        .header_read_timeout(state.config.limits.header_timeout());
    let task = tokio::spawn(async move {
        server
            .serve(router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .map_err(RelayError::Serve)
    });
    Ok(RelayHandle {
        addr,
        state,
        stop,
        task,
    })
}

fn connection_limits(state: &RelayState) -> Arc<conn::ConnLimits> {
    conn::ConnLimits::new(
        state.config.limits.max_connections,
        state.config.limits.max_connections_per_ip,
        state.metrics.clone(),
    )
}

async fn build_state(
    config: RelayConfig,
    store: Store,
    stop: CancellationToken,
) -> Result<Arc<RelayState>, RelayError> {
    let metrics = Arc::new(Metrics::default());
    let log = EventLog::start(store, config.limits.clone(), metrics.clone(), stop.clone()).await?;
    let state = Arc::new(RelayState {
        config,
        log,
        metrics,
        stop,
        streams: Default::default(),
        webhooks: Default::default(),
    });
    spawn_retention(state.clone());
    Ok(state)
}

/// Deletes events older than `retention.days`, hourly.
fn spawn_retention(state: Arc<RelayState>) {
    let days = state.config.retention.days;
    if days == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = every.tick() => {},
                _ = state.stop.cancelled() => return,
            }
            let before = store::now_ms() - i64::from(days) * 86_400_000;
            match state.log.store().prune(before).await {
                Ok(n) => {
                    state.metrics.pruned.inc_by(n);
                    if n > 0 {
                        tracing::info!(events = n, days, "retention: old events deleted");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "retention failed"),
            }
        }
    });
}

/// `relay serve`: serves HTTP or HTTPS until Ctrl-C or SIGTERM, then shuts down gracefully:
/// streams are closed with "going away", requests in flight are finished, and every webhook that
/// was answered 200 is already committed.
pub async fn serve(config: RelayConfig) -> Result<(), RelayError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let addr = config.listen;
    let Some(tls) = config.tls.clone() else {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| RelayError::Listen { addr, source })?;
        tracing::info!(addr = %listener.local_addr().map_err(RelayError::Serve)?, workspaces = config.workspaces.len(), "relay listening (HTTP)");
        let handle = start_with_store(config, store, listener).await?;
        shutdown_signal().await;
        return handle.shutdown().await;
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(RelayError::Tls)?;
    let stop = CancellationToken::new();
    let state = build_state(config, store, stop.clone()).await?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
        h.graceful_shutdown(Some(Duration::from_secs(30)));
    });
    tracing::info!(%addr, "relay listening (HTTPS)");
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls)
        .acceptor(conn::LimitAcceptor::new(connection_limits(&state)));
    let mut server = axum_server::bind(addr).acceptor(acceptor).handle(handle);
    server
        .http_builder()
        .http1()
        .header_read_timeout(state.config.limits.header_timeout());
    server
        .serve(http::router(state).into_make_service_with_connect_info::<SocketAddr>())
        .await
        .map_err(RelayError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
