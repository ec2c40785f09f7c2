//! The sandbox workspace's own Meta and relay: the sandbox started in-process, and a relay
//! in-process (its log in `relay.db` beside the workspace's database) that receives the sandbox's
//! signed webhooks, with the workspace pointed at both. The workspace's runtime
//! ([`crate::runtime::Runtime`]) starts this for a sandbox workspace and then syncs from that relay
//! exactly as a team's desktops sync from theirs, so a new user sees every feature work with no
//! Meta account, through the same path a team uses every day.

use crate::relay::config::WorkspaceConfig;
use crate::relay::tokens::{self, TokenSpec};
use crate::relay::{RelayConfig, RelayHandle};
use crate::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use crate::sensitive::Sensitive;
use crate::workspace::{Workspace, WorkspaceKind};

/// A running embedded sandbox and relay. Dropping it does not stop them: call
/// [`Embedded::shutdown`].
pub struct Embedded {
    sandbox: SandboxHandle,
    relay: RelayHandle,
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
    /// Starts the sandbox and the relay, and configures `ws` to use them.
    pub async fn start(ws: &Workspace, config: SandboxConfig) -> crate::Result<Embedded> {
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

        // The relay, with its log beside the workspace's database.
        let slug = ws.info().slug.clone();
        let folder = std::path::Path::new(&ws.info().path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let mut relay_config = RelayConfig {
            database_url: format!("sqlite://{}", folder.join("relay.db").display()),
            ..RelayConfig::default()
        };
        relay_config.workspaces.insert(
            slug.clone(),
            WorkspaceConfig {
                app_secret: config.app_secret.clone(),
                verify_token: config.verify_token.clone(),
                waba_id: None,
                phone_number_ids: vec![],
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| start_err(e.to_string()))?;
        let relay = crate::relay::start(relay_config, listener)
            .await
            .map_err(|e| start_err(format!("the relay: {e}")))?;
        let store = relay.state.log.store().clone();
        // This desktop's token: the one in the keychain while the relay still knows it.
        let token = match ws.relay_token().await? {
            Some(t)
                if tokens::authenticate(&store, t.expose())
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|r| r.workspace == slug) =>
            {
                t
            }
            _ => {
                let (_, t) = tokens::issue(
                    &store,
                    TokenSpec {
                        workspace: slug.clone(),
                        staff: "this desktop".into(),
                        is_admin: true,
                        permissions: vec![],
                        label: "the sandbox workspace's own desktop".into(),
                        expires_at: None,
                    },
                )
                .await
                .map_err(|e| start_err(format!("the relay token: {e}")))?;
                Sensitive::new(t)
            }
        };
        // The port changes at every launch, the log does not: keep the replica.
        ws.set_relay_unchecked(&relay.url(), token, true).await?;

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
        })
        .await?;
        let webhook_url = format!("{}/webhook/{slug}", relay.url());
        sandbox
            .set_webhook_target(&webhook_url, config.app_secret.expose())
            .map_err(|e| start_err(e.to_string()))?;
        // Sends are paced at the sandbox's limits, as at Meta's.
        ws.set_send_pacing(crate::connection::SendPacing {
            throughput_per_sec: config.throughput_mps,
            pair_burst: config.pair_burst,
            pair_period: config.pair_interval,
        })
        .await;
        // Meta's time is the sandbox's: the 24-hour window follows its clock.
        ws.set_clock(sandbox.clock().clone());
        tracing::info!(graph = %sandbox.base_url(), relay = %relay.url(), "embedded sandbox and relay running");
        Ok(Embedded {
            sandbox,
            relay,
            webhook_url,
        })
    }

    pub fn sandbox(&self) -> &SandboxHandle {
        &self.sandbox
    }

    /// The in-process relay (another desktop of the team can sync from it).
    pub fn relay(&self) -> &RelayHandle {
        &self.relay
    }

    pub fn webhook_url(&self) -> &str {
        &self.webhook_url
    }

    pub async fn shutdown(self) {
        let _ = self.relay.shutdown().await;
        self.sandbox.shutdown().await;
    }
}
