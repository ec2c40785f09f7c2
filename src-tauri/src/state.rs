//! What the shell keeps between commands: the open workspace (or why it could not be opened).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crmconnect::contacts::import::Cancel;
use crmconnect::sandbox::{Embedded, SandboxConfig};
use crmconnect::secrets::Keychain;
use crmconnect::workspace::WorkspaceKind;
use crmconnect::{ApiError, Workspace, Workspaces, logging};
use tauri::{AppHandle, Manager};

use crate::settings;

pub struct AppState {
    workspace: Result<Arc<Workspace>, ApiError>,
    /// The sandbox workspace's in-process Meta stand-in.
    _sandbox: Option<Embedded>,
    /// The running CSV import's cancel switch.
    import: Mutex<Option<Cancel>>,
    _log_guard: Option<logging::Guard>,
}

/// The embedded sandbox's settings; `CRMCONNECT_SANDBOX_REVIEW_SECONDS` shortens template review.
fn sandbox_config() -> SandboxConfig {
    let review = std::env::var("CRMCONNECT_SANDBOX_REVIEW_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30));
    SandboxConfig {
        template_approval_delay: review,
        ..SandboxConfig::default()
    }
}

impl AppState {
    /// Opens the workspace last used (the sandbox one on first launch). A workspace that cannot be
    /// opened — a corrupt or newer database — is kept as the error every command then returns, so
    /// the window still opens and says what is wrong.
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
        let mut sandbox = None;
        if let Ok(ws) = &workspace {
            settings::set_workspace(app, &store_path, &ws.info().slug);
            if ws.info().kind == WorkspaceKind::Sandbox {
                match tauri::async_runtime::block_on(Embedded::start(ws.clone(), sandbox_config()))
                {
                    Ok(e) => sandbox = Some(e),
                    Err(e) => tracing::error!(error = %e, "the embedded sandbox did not start"),
                }
            }
        }
        app.manage(settings::StorePath(store_path));
        Ok(AppState {
            workspace,
            _sandbox: sandbox,
            import: Mutex::new(None),
            _log_guard: guard,
        })
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

    pub fn ws(&self) -> Result<&Workspace, ApiError> {
        self.workspace.as_deref().map_err(Clone::clone)
    }
}
