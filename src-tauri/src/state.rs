//! What the shell keeps between commands: the open workspace (or why it could not be opened).

use std::path::PathBuf;
use std::sync::Arc;

use crmconnect::secrets::Keychain;
use crmconnect::{ApiError, Workspace, Workspaces, logging};
use tauri::{AppHandle, Manager};

use crate::settings;

pub struct AppState {
    workspace: Result<Arc<Workspace>, ApiError>,
    _log_guard: Option<logging::Guard>,
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
        if let Ok(ws) = &workspace {
            settings::set_workspace(app, &store_path, &ws.info().slug);
        }
        app.manage(settings::StorePath(store_path));
        Ok(AppState {
            workspace,
            _log_guard: guard,
        })
    }

    pub fn ws(&self) -> Result<&Workspace, ApiError> {
        self.workspace.as_deref().map_err(Clone::clone)
    }
}
