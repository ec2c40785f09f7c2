//! What runs in the background of an open workspace, whatever opened it (the desktop app, a test,
//! later the headless runner): one [`Runtime`] per open workspace. It starts and owns the
//! background parts — the embedded sandbox and relay of the sandbox workspace, team sync, the chat
//! sender. The handlers that apply received events are registered when the workspace opens
//! ([`crate::handlers`]). The workspace's one Graph
//! client lives in the workspace itself ([`Workspace::graph_client`]), shared by every caller.

use std::sync::Arc;

use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::Result;
use crate::embedded::Embedded;
use crate::runner::{AutomationStatus, RunnerState};
use crate::sandbox::SandboxConfig;
use crate::sync::engine::{self, SyncHandle, SyncStatus};
use crate::sync::relay_client::RelayClient;
use crate::workspace::{Workspace, WorkspaceKind};
use tokio_util::sync::CancellationToken;

/// How a runtime starts.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// The embedded sandbox's settings, for the sandbox workspace.
    pub sandbox: SandboxConfig,
}

/// The background of one open workspace. Dropping it does not stop it: call [`Runtime::shutdown`].
pub struct Runtime {
    ws: Arc<Workspace>,
    embedded: Option<Embedded>,
    sync: Mutex<Option<SyncHandle>>,
    sender: JoinHandle<()>,
    automation: Mutex<Option<Automation>>,
}

/// This desktop's part in the workspace's automation lease: it holds the lease while no server
/// runner does (the sandbox workspace, someone working alone), and gives it up to one at once.
struct Automation {
    relay: RelayClient,
    state: watch::Receiver<RunnerState>,
    stop: CancellationToken,
    task: JoinHandle<()>,
    /// Runs the bots while the lease is this desktop's.
    automate: JoinHandle<()>,
}

impl Automation {
    async fn start(ws: &Arc<Workspace>) -> Option<Automation> {
        let settings = ws.relay_settings_unchecked().await.ok()?;
        let token = ws.relay_token().await.ok().flatten()?;
        if settings.relay_url.is_empty() {
            return None;
        }
        let relay = RelayClient::new(&settings.relay_url, token).ok()?;
        let (tx, state) = watch::channel(RunnerState::Starting);
        let stop = CancellationToken::new();
        let holder = format!("desktop@{}:{}", host_name(), std::process::id());
        let task = {
            let (relay, stop) = (relay.clone(), stop.clone());
            tokio::spawn(async move {
                crate::runner::hold_lease(&relay, &holder, true, &tx, &stop).await;
                let held = matches!(&*tx.borrow(), RunnerState::Active { .. });
                if held {
                    let _ = relay.release_lease(&holder).await;
                }
            })
        };
        let automate = crate::runner::automate(ws.clone(), state.clone(), stop.clone());
        Some(Automation {
            relay,
            state,
            stop,
            task,
            automate,
        })
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
        let _ = self.automate.await;
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this-computer".into())
}

impl Runtime {
    /// Starts what `ws` runs: for the sandbox workspace, its embedded sandbox and relay first;
    /// sync with the workspace's relay when one is configured; the chat sender.
    pub async fn start(ws: Arc<Workspace>, options: RuntimeOptions) -> Result<Runtime> {
        let embedded = match ws.info().kind {
            WorkspaceKind::Sandbox => Some(Embedded::start(&ws, options.sandbox).await?),
            WorkspaceKind::Live => None,
        };
        let sync = match engine::start_configured(ws.clone()).await {
            Ok(s) => s,
            Err(e) if embedded.is_none() => {
                // A team workspace still opens when its relay settings cannot be used; the
                // sync indicator says so and Settings can fix them.
                tracing::error!(error = %e, "team sync did not start");
                None
            }
            Err(e) => return Err(e),
        };
        let sender = crate::chat::start_sender(ws.clone());
        let automation = Automation::start(&ws).await;
        Ok(Runtime {
            ws,
            embedded,
            sync: Mutex::new(sync),
            sender,
            automation: Mutex::new(automation),
        })
    }

    pub fn workspace(&self) -> &Arc<Workspace> {
        &self.ws
    }

    /// The sandbox workspace's embedded sandbox and relay.
    pub fn embedded(&self) -> Option<&Embedded> {
        self.embedded.as_ref()
    }

    /// The sync state the top bar shows.
    pub async fn sync_status(&self) -> SyncStatus {
        match self.sync.lock().await.as_ref() {
            Some(s) => s.status(),
            None => SyncStatus::not_configured(),
        }
    }

    /// Every change of the sync state, while this sync loop runs (until [`Runtime::restart_sync`]).
    pub async fn subscribe_sync(&self) -> Option<watch::Receiver<SyncStatus>> {
        self.sync.lock().await.as_ref().map(SyncHandle::subscribe)
    }

    /// Publish the outbox / reconnect now.
    pub async fn sync_now(&self) {
        if let Some(s) = self.sync.lock().await.as_ref() {
            s.kick();
        }
    }

    /// After the relay settings changed: a team workspace restarts its sync loop (the sandbox
    /// workspace's relay is its own and does not change). Returns the new loop's status stream.
    pub async fn restart_sync(&self) -> Result<Option<watch::Receiver<SyncStatus>>> {
        let mut slot = self.sync.lock().await;
        if self.embedded.is_some() {
            return Ok(slot.as_ref().map(SyncHandle::subscribe));
        }
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        *slot = engine::start_configured(self.ws.clone()).await?;
        let mut automation = self.automation.lock().await;
        if let Some(old) = automation.take() {
            old.stop().await;
        }
        *automation = Automation::start(&self.ws).await;
        Ok(slot.as_ref().map(SyncHandle::subscribe))
    }

    /// Who runs the workspace's bots and campaigns, for the top bar: the relay's lease, and this
    /// desktop's part in it.
    pub async fn automation_status(&self) -> AutomationStatus {
        let mut status = {
            let automation = self.automation.lock().await;
            match automation.as_ref() {
                None => AutomationStatus::off(),
                Some(a) => {
                    let here = a.state.borrow().clone();
                    match a.relay.lease().await {
                        Ok(lease) => AutomationStatus::of(&here, lease.as_ref(), crate::now_ms()),
                        Err(_) => {
                            AutomationStatus::of(&RunnerState::Starting, None, crate::now_ms())
                        }
                    }
                }
            }
        };
        // What it does (or would do), from this replica of the team's bots and campaigns.
        status.bots_on = self.ws.active_bot_names().await.unwrap_or_default();
        status.campaigns_running = self.ws.running_campaign_names().await.unwrap_or_default();
        status
    }

    pub async fn shutdown(self) {
        if let Some(a) = self.automation.into_inner() {
            a.stop().await;
        }
        self.sender.abort();
        if let Some(sync) = self.sync.into_inner() {
            sync.stop().await;
        }
        if let Some(e) = self.embedded {
            e.shutdown().await;
        }
    }
}
