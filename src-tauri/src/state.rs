//! What the shell keeps between commands: the open workspace (or why it could not be opened).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crmconnect::contacts::import::Cancel;
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::SandboxConfig;
use crmconnect::secrets::Keychain;
use crmconnect::sync::engine::SyncStatus;
use crmconnect::workspace::Ctx;
use crmconnect::{ApiError, Workspace, Workspaces, logging};
use tauri::{AppHandle, Emitter, Manager};

use crate::settings;

pub struct AppState {
    workspace: Result<Arc<Workspace>, ApiError>,
    /// The open workspace's background: the sandbox workspace's embedded Meta stand-in and relay,
    /// sync, the chat sender.
    runtime: Option<Runtime>,
    /// The running CSV import's cancel switch.
    import: Mutex<Option<Cancel>>,
    /// The conversation on screen: no notification for it.
    chat_focus: crate::notify::Focus,
    _log_guard: Option<logging::Guard>,
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
        let slug = settings::workspace(app, &store_path);
        let workspace =
            tauri::async_runtime::block_on(workspaces.open_or_create_sandbox(slug.as_deref()))
                .map(Arc::new)
                .map_err(|e| {
                    tracing::error!(error = %e, "could not open the workspace");
                    ApiError::from(e)
                });
        app.manage(settings::StorePath(store_path.clone()));
        let chat_focus = crate::notify::Focus::default();
        let mut runtime = None;
        if let Ok(ws) = &workspace {
            settings::set_workspace(app, &store_path, &ws.info().slug);
            let options = RuntimeOptions {
                sandbox: sandbox_config(),
            };
            match tauri::async_runtime::block_on(Runtime::start(ws.clone(), options)) {
                Ok(r) => runtime = Some(r),
                Err(e) => tracing::error!(error = %e, "the workspace's runtime did not start"),
            }
            crate::notify::forward(app, ws.clone(), chat_focus.clone());
            forward_record_changes(app, ws.clone());
        }
        let state = AppState {
            workspace,
            runtime,
            import: Mutex::new(None),
            chat_focus,
            _log_guard: guard,
        };
        if let Some(rx) = state
            .runtime
            .as_ref()
            .and_then(|r| tauri::async_runtime::block_on(r.subscribe_sync()))
        {
            forward_sync_status(app, rx);
        }
        Ok(state)
    }

    /// The sync state the top bar shows.
    pub async fn sync_status(&self) -> SyncStatus {
        match &self.runtime {
            Some(r) => r.sync_status().await,
            None => SyncStatus::not_configured(),
        }
    }

    /// Publish the outbox / reconnect now.
    pub async fn sync_now(&self) {
        if let Some(r) = &self.runtime {
            r.sync_now().await;
        }
    }

    /// After the relay settings changed: a team workspace restarts its sync loop.
    pub async fn restart_sync(&self, app: &AppHandle) -> Result<(), ApiError> {
        if let Some(r) = &self.runtime
            && let Some(rx) = r.restart_sync().await?
        {
            forward_sync_status(app, rx);
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

    /// The sandbox workspace's own sandbox, for its panel; someone must be signed in.
    pub async fn sandbox(&self) -> Result<&crmconnect::embedded::Embedded, ApiError> {
        self.cx()?.actor().await?;
        self.runtime
            .as_ref()
            .and_then(Runtime::embedded)
            .ok_or_else(|| ApiError::from(crmconnect::embedded::no_sandbox()))
    }

    pub fn ws(&self) -> Result<&Workspace, ApiError> {
        self.workspace.as_deref().map_err(Clone::clone)
    }

    /// The context of a command: the open workspace, acted on by whoever is signed in here.
    pub fn cx(&self) -> Result<Ctx<'_>, ApiError> {
        Ok(self.ws()?.cx())
    }
}

/// Tells the webview which screens' records a teammate's change altered (`records-changed`, the
/// screen's key): open lists reload. A burst is sent once per screen, at most every 300 ms.
fn forward_record_changes(app: &AppHandle, ws: Arc<Workspace>) {
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
    });
}

/// Sends every change of the sync state to the webview as a `sync-status` event, while that sync
/// loop runs.
fn forward_sync_status(app: &AppHandle, mut rx: tokio::sync::watch::Receiver<SyncStatus>) {
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
    });
}
