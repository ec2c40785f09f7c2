//! What the shell keeps between commands: the open workspace (or why it could not be opened).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crmconnect::contacts::import::Cancel;
use crmconnect::live::{GoLive, JoinTeam, WebhookReport};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::SandboxConfig;
use crmconnect::secrets::Keychain;
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::engine::SyncStatus;
use crmconnect::{ApiError, Workspace, Workspaces, logging};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager};

use crate::settings;

pub struct AppState {
    app: AppHandle,
    workspaces: Workspaces,
    store_path: PathBuf,
    /// The open workspace (or why it could not be opened); replaced when the user switches.
    workspace: std::sync::RwLock<Result<Arc<Workspace>, ApiError>>,
    /// The open workspace's background — the sandbox workspace's embedded Meta stand-in and relay,
    /// sync, the chat sender — and the tasks forwarding its changes to the webview. Commands read
    /// it; a switch waits for them, then stops it.
    open: tokio::sync::RwLock<Background>,
    /// The running CSV import's cancel switch.
    import: Mutex<Option<Cancel>>,
    /// The conversation on screen: no notification for it.
    chat_focus: crate::notify::Focus,
    _log_guard: Option<logging::Guard>,
}

#[derive(Default)]
struct Background {
    runtime: Option<Runtime>,
    forwarders: Vec<JoinHandle<()>>,
}

/// What commands answer while no workspace is open (during a switch).
fn no_workspace() -> ApiError {
    ApiError {
        code: crmconnect::ErrorCode::NotFound,
        message: "no workspace is open (one is being switched to); try again".into(),
        fields: vec![],
    }
}

/// The embedded sandbox's settings; `CRMCONNECT_SANDBOX_REVIEW_SECONDS` shortens template review and
/// `CRMCONNECT_SANDBOX_LISTEN` fixes its address.
fn sandbox_config() -> SandboxConfig {
    let review = std::env::var("CRMCONNECT_SANDBOX_REVIEW_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30));
    let mut config = SandboxConfig {
        template_approval_delay: review,
        ..SandboxConfig::default()
    };
    // A fixed address, so that end-to-end tests can drive the sandbox's customers and clock.
    if let Some(listen) = std::env::var("CRMCONNECT_SANDBOX_LISTEN")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.listen = listen;
    }
    config
}

impl AppState {
    /// Opens the workspace last used (the sandbox one on first launch) and starts its runtime. A
    /// workspace that cannot be opened — a corrupt or newer database — is kept as the error every
    /// command then returns, so the window still opens and says what is wrong.
    pub fn start(app: &AppHandle) -> Result<AppState, Box<dyn std::error::Error>> {
        let platform_data = app.path().app_data_dir()?;
        let workspaces = Workspaces::from_env_or(platform_data).with_secrets(Arc::new(Keychain));
        let log_dir = match std::env::var_os(crmconnect::workspace::DATA_DIR_ENV) {
            Some(_) => workspaces.root().join("logs"),
            None => app.path().app_log_dir()?,
        };
        let guard = logging::init_desktop(&log_dir).ok();
        let store_path: PathBuf = workspaces.root().join("settings.json");
        app.manage(settings::StorePath(store_path.clone()));
        let slug = settings::workspace(app, &store_path);
        let state = AppState {
            app: app.clone(),
            workspaces,
            store_path,
            workspace: std::sync::RwLock::new(Err(no_workspace())),
            open: Default::default(),
            import: Mutex::new(None),
            chat_focus: crate::notify::Focus::default(),
            _log_guard: guard,
        };
        let opened = tauri::async_runtime::block_on(
            state.workspaces.open_or_create_sandbox(slug.as_deref()),
        );
        tauri::async_runtime::block_on(state.take_open(opened));
        Ok(state)
    }

    /// Makes `opened` the open workspace: remembers it for the next launch, starts its runtime
    /// and its forwarders. An error is kept for the commands to return.
    async fn take_open(&self, opened: crmconnect::Result<Workspace>) {
        let mut bg = self.open.write().await;
        let opened = opened.map(Arc::new).map_err(|e| {
            tracing::error!(error = %e, "could not open the workspace");
            ApiError::from(e)
        });
        if let Ok(ws) = &opened {
            settings::set_workspace(&self.app, &self.store_path, &ws.info().slug);
            let options = RuntimeOptions {
                sandbox: sandbox_config(),
            };
            match Runtime::start(ws.clone(), options).await {
                Ok(r) => {
                    if let Some(rx) = r.subscribe_sync().await {
                        bg.forwarders.push(forward_sync_status(&self.app, rx));
                    }
                    bg.runtime = Some(r);
                }
                Err(e) => tracing::error!(error = %e, "the workspace's runtime did not start"),
            }
            bg.forwarders.extend(crate::notify::forward(
                &self.app,
                ws.clone(),
                self.chat_focus.clone(),
            ));
            bg.forwarders
                .push(forward_record_changes(&self.app, ws.clone()));
        }
        *self.workspace.write().unwrap_or_else(|e| e.into_inner()) = opened;
    }

    /// Closes the open workspace — waits for the commands using it, stops its runtime and
    /// forwarders, releases its folder — then opens `slug`. If `slug` cannot be opened, the one
    /// that was open is opened again and the error returned.
    pub async fn switch_to(&self, slug: &str) -> Result<(), ApiError> {
        let previous = self.ws().ok().map(|w| w.info().slug.clone());
        if previous.as_deref() == Some(slug) {
            return Ok(());
        }
        self.close_current().await;
        match self.workspaces.open(slug).await {
            Ok(ws) => {
                self.take_open(Ok(ws)).await;
                Ok(())
            }
            Err(e) => {
                let e = ApiError::from(e);
                if let Some(p) = previous {
                    let again = self.workspaces.open(&p).await;
                    self.take_open(again).await;
                }
                Err(e)
            }
        }
    }

    /// Going live: creates the workspace (checking Meta and the relay again), opens it in place
    /// of the current one, signed in as its owner, and connects its webhooks.
    pub async fn go_live(
        &self,
        input: GoLive,
        app_secret: Sensitive<String>,
    ) -> Result<WebhookReport, ApiError> {
        let passphrase = input.passphrase.clone();
        let ws = self.workspaces.create_live(input).await?;
        let username = ws.cx().me().await?.username;
        let slug = ws.info().slug.clone();
        ws.close().await;
        self.switch_to(&slug).await?;
        let ws = self.ws()?;
        ws.sign_in(&username, passphrase).await?;
        settings::remember_username(&self.app, &username);
        Ok(ws.cx().connect_webhooks(app_secret).await?)
    }

    /// Joining a team: creates the workspace from a staff member's token, opens it in place of
    /// the current one, signed in; sync then catches up with the team's log.
    pub async fn join_team(&self, input: JoinTeam) -> Result<(), ApiError> {
        let passphrase = input.passphrase.clone();
        let ws = self.workspaces.join(input).await?;
        let username = ws.cx().me().await?.username;
        let slug = ws.info().slug.clone();
        ws.close().await;
        self.switch_to(&slug).await?;
        self.ws()?.sign_in(&username, passphrase).await?;
        settings::remember_username(&self.app, &username);
        Ok(())
    }

    async fn close_current(&self) {
        let mut bg = self.open.write().await;
        for f in bg.forwarders.drain(..) {
            f.abort();
        }
        if let Some(r) = bg.runtime.take() {
            r.shutdown().await;
        }
        self.cancel_import();
        let old = std::mem::replace(
            &mut *self.workspace.write().unwrap_or_else(|e| e.into_inner()),
            Err(no_workspace()),
        );
        if let Ok(ws) = old {
            ws.close().await;
        }
    }

    pub fn workspaces(&self) -> &Workspaces {
        &self.workspaces
    }

    /// The sync state the top bar shows.
    pub async fn sync_status(&self) -> SyncStatus {
        match &self.open.read().await.runtime {
            Some(r) => r.sync_status().await,
            None => SyncStatus::not_configured(),
        }
    }

    /// Who runs the workspace's bots and campaigns (the relay's automation lease).
    pub async fn automation_status(&self) -> crmconnect::runner::AutomationStatus {
        match &self.open.read().await.runtime {
            Some(r) => r.automation_status().await,
            None => crmconnect::runner::AutomationStatus::off(),
        }
    }

    /// Publish the outbox / reconnect now.
    pub async fn sync_now(&self) {
        if let Some(r) = &self.open.read().await.runtime {
            r.sync_now().await;
        }
    }

    /// After the relay settings changed: a team workspace restarts its sync loop.
    pub async fn restart_sync(&self) -> Result<(), ApiError> {
        let mut bg = self.open.write().await;
        let rx = match &bg.runtime {
            Some(r) => r.restart_sync().await?,
            None => None,
        };
        if let Some(rx) = rx {
            bg.forwarders.push(forward_sync_status(&self.app, rx));
        }
        Ok(())
    }

    /// A cancel switch for a new import (replacing any finished one).
    pub fn new_import(&self) -> Cancel {
        let cancel = Cancel::default();
        *self.import.lock().unwrap_or_else(|e| e.into_inner()) = Some(cancel.clone());
        cancel
    }

    pub fn cancel_import(&self) {
        if let Some(c) = self
            .import
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            c.cancel();
        }
    }

    pub fn set_chat_focus(&self, id: Option<i64>) {
        self.chat_focus.set(id);
    }

    /// Runs `f` on the sandbox workspace's own sandbox, for its panel; someone must be signed in.
    pub async fn with_sandbox<T>(
        &self,
        f: impl FnOnce(&crmconnect::embedded::Embedded) -> crmconnect::Result<T>,
    ) -> Result<T, ApiError> {
        self.ws()?.cx().actor().await?;
        let bg = self.open.read().await;
        let embedded = bg
            .runtime
            .as_ref()
            .and_then(Runtime::embedded)
            .ok_or_else(|| ApiError::from(crmconnect::embedded::no_sandbox()))?;
        Ok(f(embedded)?)
    }

    /// The open workspace.
    pub fn ws(&self) -> Result<Arc<Workspace>, ApiError> {
        self.workspace
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Tells the webview which screens' records a teammate's change altered (`records-changed`, the
/// screen's key): open lists reload. A burst is sent once per screen, at most every 300 ms.
fn forward_record_changes(app: &AppHandle, ws: Arc<Workspace>) -> JoinHandle<()> {
    use tokio::sync::broadcast::error::RecvError;
    let mut rx = ws.record_changes();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let mut screens = std::collections::BTreeSet::new();
            match rx.recv().await {
                Ok(s) => drop(screens.insert(s.key())),
                // Some were missed: every open list reloads.
                Err(RecvError::Lagged(_)) => drop(screens.insert("all")),
                Err(RecvError::Closed) => return,
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            while let Ok(s) = rx.try_recv() {
                screens.insert(s.key());
            }
            for s in screens {
                let _ = app.emit("records-changed", s);
            }
        }
    })
}

/// Sends every change of the sync state to the webview as a `sync-status` event, while that sync
/// loop runs.
fn forward_sync_status(
    app: &AppHandle,
    mut rx: tokio::sync::watch::Receiver<SyncStatus>,
) -> JoinHandle<()> {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let status = rx.borrow_and_update().clone();
            let _ = app.emit("sync-status", status);
            if rx.changed().await.is_err() {
                return;
            }
            // At most a few updates a second while catching up.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
