//! The runner: the app's runtime without a window (issue 21). It joins its team's workspace as a
//! desktop does — its own replica under its data folder, built from the relay's log by the same
//! handlers — and competes for the workspace's automation lease ([`crate::relay::lease`]): the
//! one that holds it runs bots and campaigns; the others wait as standby and take over within the
//! lease's time when it dies. Everything automation publishes carries the lease's epoch, so a
//! runner that was paused and wakes up after another took over is refused by the relay.
//!
//! Its credentials (the relay token, Meta's access token) are handed to [`run`] by its caller,
//! which reads them from a credential file or the environment (`crmconnect-runner`): they are kept
//! in memory only, never in its configuration, its database or its logs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::relay::lease::{LeaseClaim, LeaseView};
use crate::secrets::SecretName;
use crate::sensitive::Sensitive;
use crate::sync::relay_client::RelayClient;
use crate::workspace::{Workspace, WorkspaceKind, Workspaces};
use crate::{ErrorCode, Result};

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("the relay at {url} cannot be used: {problem}")]
    Relay { url: String, problem: String },
    #[error(
        "the relay token is {staff}'s, which may not run automation: give the runner a token of an administrator or of a role with whatsapp_bot:edit or whatsapp_campaign:edit"
    )]
    NotAutomation { staff: String },
    #[error("the runner's workspace folder {0} belongs to workspace “{1}”, not the token's “{2}”")]
    OtherWorkspace(String, String, String),
}

impl crate::error::Coded for RunnerError {
    fn code(&self) -> ErrorCode {
        match self {
            RunnerError::Relay { .. } => ErrorCode::Internal,
            RunnerError::NotAutomation { .. } => ErrorCode::PermissionDenied,
            RunnerError::OtherWorkspace(..) => ErrorCode::Conflict,
        }
    }
}

/// What a runner is given to run.
#[derive(Debug, Clone)]
pub struct RunnerSetup {
    /// Where its replica of the workspace lives.
    pub data_dir: PathBuf,
    pub relay_url: String,
    /// Its name for itself in the lease (`runner@host:pid` by default).
    pub holder: String,
    /// The OpenAI-compatible endpoint its AI bots ask, and the model (base URL, model).
    pub ai: Option<(String, String)>,
    /// Meta's Graph API address its token goes to (Meta's own when not given; a sandbox's in
    /// tests). Never taken from the team's log: a token goes only where it was given for.
    pub graph_base_url: Option<String>,
    /// The business number's messages per second (Meta's tier); 80 when not given.
    pub throughput_per_sec: Option<u32>,
    /// How long a campaign send left unanswered by a crash waits for its status.
    pub campaign_grace: Option<std::time::Duration>,
}

/// Its credentials, read by its caller from a credential file or the environment.
pub struct Credentials {
    pub relay_token: Sensitive<String>,
    pub meta_access_token: Option<Sensitive<String>>,
    /// The AI endpoint's key.
    pub ai_key: Option<Sensitive<String>>,
}

/// Where the runner stands, for its logs, its caller and (through the relay's lease) the desktops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerState {
    Starting,
    /// Another holds the lease.
    Standby {
        holder: String,
        epoch: i64,
    },
    /// This runner holds the lease: automation runs under `claim`.
    Active {
        claim: LeaseClaim,
        since: i64,
    },
    /// The relay refuses this token the lease (its role has no automation permission).
    Refused(String),
}

/// What the top bar shows of the workspace's automation: who runs it, since when, and whether
/// this desktop is the one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AutomationStatus {
    /// `active` (this desktop runs it), `standby` (another does), `refused` (this desktop's token
    /// may not), `unreachable` (the relay does not answer) or `off` (no relay).
    pub here: String,
    /// Whether anyone runs it now.
    pub running: bool,
    pub holder: Option<String>,
    /// Held by a desktop working alone rather than a server runner.
    pub desktop: bool,
    pub since: Option<i64>,
    pub heartbeat_at: Option<i64>,
    /// What the holder says it is doing.
    pub status: String,
    /// In plain words, for the top bar.
    pub message: String,
    /// The bots that are on: what answers customers while automation runs.
    pub bots_on: Vec<String>,
    /// The campaigns sending now (or waiting for a runner to send them).
    pub campaigns_running: Vec<String>,
}

impl AutomationStatus {
    pub fn of(here: &RunnerState, lease: Option<&LeaseView>, now: i64) -> Self {
        let here_key = match here {
            RunnerState::Starting => "unreachable",
            RunnerState::Standby { .. } => "standby",
            RunnerState::Active { .. } => "active",
            RunnerState::Refused(_) => "refused",
        };
        let running = lease.is_some_and(|l| l.expires_at > now);
        let message = match lease {
            Some(_) if running && matches!(here, RunnerState::Active { .. }) => {
                "Bots and campaigns run on this desktop while it is open".to_owned()
            }
            Some(l) if running => format!("Bots and campaigns run on {}", l.holder),
            _ => "Bots and campaigns are paused: no runner is connected".to_owned(),
        };
        AutomationStatus {
            here: here_key.into(),
            running,
            holder: lease.map(|l| l.holder.clone()),
            desktop: lease.is_some_and(|l| l.desktop),
            since: lease.map(|l| l.since),
            heartbeat_at: lease.map(|l| l.heartbeat_at),
            status: lease.map(|l| l.status.clone()).unwrap_or_default(),
            message,
            bots_on: Vec::new(),
            campaigns_running: Vec::new(),
        }
    }

    /// No relay: nothing runs automation.
    pub fn off() -> Self {
        AutomationStatus {
            here: "off".into(),
            running: false,
            holder: None,
            desktop: false,
            since: None,
            heartbeat_at: None,
            status: String::new(),
            message: "Bots and campaigns are paused: no runner is connected".into(),
            bots_on: Vec::new(),
            campaigns_running: Vec::new(),
        }
    }
}

/// How often a standby asks for the lease again.
const STANDBY_POLL: Duration = Duration::from_secs(1);
/// How often a token the relay refused the lease asks again (its role may change).
const REFUSED_POLL: Duration = Duration::from_secs(30);

/// Runs until `stop`: the replica's sync, and the lease (renewed every third of its time while
/// held, asked for every second while another holds it). A clean stop lets the lease go, so a
/// standby takes over at once.
pub async fn run(
    setup: RunnerSetup,
    creds: Credentials,
    state: watch::Sender<RunnerState>,
    stop: CancellationToken,
) -> Result<()> {
    let relay =
        RelayClient::new(&setup.relay_url, creds.relay_token).map_err(|e| RunnerError::Relay {
            url: setup.relay_url.clone(),
            problem: e.to_string(),
        })?;
    let who = relay.whoami().await.map_err(|e| RunnerError::Relay {
        url: setup.relay_url.clone(),
        problem: e.to_string(),
    })?;
    let may_automate = who.is_admin
        || who
            .permissions
            .iter()
            .flatten()
            .any(|p| p == "whatsapp_bot:edit" || p == "whatsapp_campaign:edit");
    if !may_automate {
        return Err(RunnerError::NotAutomation { staff: who.staff }.into());
    }
    let ws = Arc::new(open_replica(&setup, &who.workspace).await?);
    if let Some(token) = creds.meta_access_token {
        // In this process's memory only (the workspaces' store here is not the keychain).
        let store = ws.secrets().clone();
        let slug = ws.info().slug.clone();
        let stored =
            tokio::task::spawn_blocking(move || store.set(&slug, SecretName::AccessToken, &token))
                .await
                .map_err(|e| RunnerError::Relay {
                    url: setup.relay_url.clone(),
                    problem: e.to_string(),
                })?;
        stored.map_err(crate::Error::from)?;
    }
    if let Some((base_url, model)) = setup.ai.clone() {
        // The key in this process's memory only, like Meta's token.
        let input = crate::bots::AiSettingsInput {
            base_url,
            model,
            key: creds.ai_key.as_ref().map(|k| k.expose().clone()),
        };
        ws.as_system(crate::permissions::SystemTask::Runner)
            .set_ai_settings(input)
            .await?;
    }
    tracing::info!(
        workspace = who.workspace,
        staff = who.staff,
        holder = setup.holder,
        "the runner joined its workspace"
    );
    if let Some(url) = &setup.graph_base_url {
        ws.set_graph_base_url(url).await?;
    }
    if let Some(rate) = setup.throughput_per_sec {
        let pacing = crate::connection::SendPacing {
            throughput_per_sec: rate.max(1),
            ..ws.send_pacing()
        };
        ws.set_send_pacing(pacing).await;
    }
    if let Some(grace) = setup.campaign_grace {
        ws.set_dispatch_tuning(crate::campaigns::DispatchTuning {
            grace,
            ..crate::campaigns::DispatchTuning::default()
        });
    }
    let sync = crate::sync::engine::start(ws.clone(), relay.clone());
    let automation = automate(ws.clone(), state.subscribe(), stop.clone());
    hold_lease(&relay, &setup.holder, false, &state, &stop).await;
    let _ = automation.await;
    if matches!(*state.borrow(), RunnerState::Active { .. })
        && let Err(e) = relay.release_lease(&setup.holder).await
    {
        tracing::warn!(error = %e, "the lease could not be let go: a standby takes it when it expires");
    }
    sync.stop().await;
    ws.close().await;
    tracing::info!("the runner stopped");
    Ok(())
}

/// The runner's replica: the folder of the token's workspace under `data_dir`, created empty the
/// first time (the log fills it).
async fn open_replica(setup: &RunnerSetup, workspace: &str) -> Result<Workspace> {
    let workspaces = Workspaces::new(&setup.data_dir);
    match workspaces.open(workspace).await {
        Ok(ws) => {
            if ws.info().slug != workspace {
                return Err(RunnerError::OtherWorkspace(
                    ws.info().path.clone(),
                    ws.info().slug.clone(),
                    workspace.into(),
                )
                .into());
            }
            Ok(ws)
        }
        Err(e) if e.code() == ErrorCode::NotFound => {
            workspaces
                .create(workspace, workspace, WorkspaceKind::Live)
                .await
        }
        Err(e) => Err(e),
    }
}

/// While this replica holds the lease it runs automation: the automation handlers (the bots) apply
/// what arrives, the bots' timers fire, and the campaign dispatcher sends. Automation is off again at `stop`.
pub fn automate(
    ws: Arc<Workspace>,
    mut state: watch::Receiver<RunnerState>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let timers = tokio::spawn(crate::bots::host::run_timers(ws.clone(), stop.clone()));
        let dispatcher = tokio::spawn(crate::campaigns::run_dispatcher(ws.clone(), stop.clone()));
        loop {
            let active = matches!(*state.borrow_and_update(), RunnerState::Active { .. });
            if active != ws.handlers().runs_automation() {
                tracing::info!(active, "automation on this replica");
            }
            ws.handlers().set_automation(active);
            tokio::select! {
                _ = stop.cancelled() => break,
                changed = state.changed() => if changed.is_err() { break },
            }
        }
        ws.handlers().set_automation(false);
        let _ = timers.await;
        let _ = dispatcher.await;
    })
}

/// Asks for the lease and keeps it until `stop`; says every change of hands. A desktop working
/// alone asks as one (`desktop`): a server runner takes the lease from it.
pub async fn hold_lease(
    relay: &RelayClient,
    holder: &str,
    desktop: bool,
    state: &watch::Sender<RunnerState>,
    stop: &CancellationToken,
) {
    loop {
        let status = match &*state.borrow() {
            RunnerState::Active { .. } => "active",
            _ => "standby",
        };
        let wait = match relay.acquire_lease_as(holder, status, desktop).await {
            Ok(lease) => {
                let wait = next_wait(&lease);
                let next = if lease.granted {
                    RunnerState::Active {
                        claim: LeaseClaim {
                            holder: holder.to_owned(),
                            epoch: lease.epoch,
                        },
                        since: lease.since,
                    }
                } else {
                    RunnerState::Standby {
                        holder: lease.holder.clone(),
                        epoch: lease.epoch,
                    }
                };
                say_change(&state.borrow(), &next);
                state.send_if_modified(|s| {
                    let changed = *s != next;
                    *s = next;
                    changed
                });
                wait
            }
            Err(crate::sync::relay_client::RelayClientError::Forbidden(why)) => {
                state.send_replace(RunnerState::Refused(why));
                REFUSED_POLL
            }
            Err(e) => {
                // The relay cannot be reached: automation stops until it answers again, since a
                // lease that cannot be renewed may already be another's.
                if matches!(*state.borrow(), RunnerState::Active { .. }) {
                    tracing::warn!(error = %e, "the lease cannot be renewed: automation pauses");
                }
                state.send_replace(RunnerState::Starting);
                STANDBY_POLL
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// While held: renew every third of the lease's time; else ask again every second.
fn next_wait(lease: &LeaseView) -> Duration {
    if lease.granted {
        Duration::from_millis((lease.ttl_ms / 3).max(100))
    } else {
        STANDBY_POLL
    }
}

fn say_change(before: &RunnerState, after: &RunnerState) {
    match (before, after) {
        (RunnerState::Active { claim: was, .. }, RunnerState::Standby { holder, epoch }) => {
            tracing::warn!(
                epoch = was.epoch,
                now_held_by = holder,
                now_epoch = epoch,
                "lost the lease: another runner took over (this one was paused or cut off); automation stops here"
            );
        }
        (RunnerState::Active { claim: a, .. }, RunnerState::Active { claim: b, .. })
            if a.epoch == b.epoch => {}
        (_, RunnerState::Active { claim, .. }) => {
            tracing::info!(epoch = claim.epoch, "holds the lease: automation runs here");
        }
        (RunnerState::Standby { holder: a, .. }, RunnerState::Standby { holder: b, .. })
            if a == b => {}
        (_, RunnerState::Standby { holder, epoch }) => {
            tracing::info!(holder, epoch, "standby: another runner holds the lease");
        }
        _ => {}
    }
}
