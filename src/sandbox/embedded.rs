//! The sandbox workspace's own Meta: the sandbox started in-process, a loopback receiver for its
//! signed webhooks, and the workspace's connection pointed at both. The app runs this at launch
//! for a sandbox workspace, so a new user sees every feature work with no Meta account.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use super::{Sandbox, SandboxConfig, SandboxHandle};
use crate::meta::signature;
use crate::workspace::{Workspace, WorkspaceKind};

/// A running embedded sandbox. Dropping it does not stop it: call [`Embedded::shutdown`].
pub struct Embedded {
    sandbox: SandboxHandle,
    stop: CancellationToken,
    webhook_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("only a sandbox workspace runs the embedded sandbox")]
    NotSandbox,
    #[error("could not start the sandbox: {0}")]
    Start(String),
}

impl Embedded {
    /// Starts the sandbox and its webhook receiver and configures `ws` to use them.
    pub async fn start(ws: Arc<Workspace>, config: SandboxConfig) -> crate::Result<Embedded> {
        if ws.info().kind != WorkspaceKind::Sandbox {
            return Err(crate::connection::ConnectionError::Invalid {
                field: "workspace",
                problem: EmbeddedError::NotSandbox.to_string(),
            }
            .into());
        }
        let start_err = |e: String| crate::connection::ConnectionError::Invalid {
            field: "sandbox",
            problem: EmbeddedError::Start(e).to_string(),
        };
        let sandbox = Sandbox::start(config.clone())
            .await
            .map_err(|e| start_err(e.to_string()))?;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| start_err(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| start_err(e.to_string()))?;
        let webhook_url = format!("http://{addr}/webhook");
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/webhook", get(handshake).post(receive))
            .with_state(ws.clone());
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
        });

        let sales = sandbox
            .phone_numbers()
            .into_iter()
            .next()
            .map(|n| n.id)
            .unwrap_or_default();
        ws.configure_sandbox_connection(crate::connection::SandboxConnection {
            graph_base_url: sandbox.base_url().to_owned(),
            graph_version: config.graph_version.clone(),
            phone_number_id: sales,
            waba_id: sandbox.waba_id(),
            access_token: config.access_token.clone(),
            app_secret: config.app_secret.clone(),
            verify_token: config.verify_token.clone(),
        })
        .await?;
        sandbox
            .set_webhook_target(&webhook_url, config.app_secret.expose())
            .map_err(|e| start_err(e.to_string()))?;
        tracing::info!(graph = %sandbox.base_url(), webhooks = %webhook_url, "embedded sandbox running");
        Ok(Embedded {
            sandbox,
            stop,
            webhook_url,
        })
    }

    pub fn sandbox(&self) -> &SandboxHandle {
        &self.sandbox
    }

    pub fn webhook_url(&self) -> &str {
        &self.webhook_url
    }

    pub async fn shutdown(self) {
        self.stop.cancel();
        self.sandbox.shutdown().await;
    }
}

#[derive(serde::Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's GET verification: answer the challenge when the verify token matches.
async fn handshake(
    State(ws): State<Arc<Workspace>>,
    Query(q): Query<Handshake>,
) -> (StatusCode, String) {
    let expected = ws.sandbox_verify_token().await;
    match (q.mode.as_deref(), q.verify_token, q.challenge, expected) {
        (Some("subscribe"), Some(given), Some(challenge), Some(expected))
            if signature::constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) =>
        {
            (StatusCode::OK, challenge)
        }
        _ => (StatusCode::FORBIDDEN, "verify token does not match".into()),
    }
}

/// A signed webhook POST: verified over the raw bytes, then applied.
async fn receive(State(ws): State<Arc<Workspace>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let sig = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    match ws.apply_meta_webhook(&body, sig).await {
        Ok(_) => StatusCode::OK,
        Err(e) if e.code() == crate::ErrorCode::Invalid => {
            tracing::warn!(error = %e, "webhook refused");
            StatusCode::UNAUTHORIZED
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook not applied");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
