//! Settings that are not secret, in tauri-plugin-store (`settings.json` beside the workspaces).
//! Secrets never come here: they live in the OS keychain.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};
use tauri_plugin_store::StoreExt;

/// Where the store file lives (under the data root, so tests with their own root never share it).
pub struct StorePath(pub PathBuf);

const WORKSPACE: &str = "workspace";
const LAST_USERNAME: &str = "last_username";

fn get(app: &AppHandle, path: &Path, key: &str) -> Option<String> {
    let store = app.store(path).ok()?;
    store.get(key)?.as_str().map(str::to_owned)
}

fn set(app: &AppHandle, path: &Path, key: &str, value: &str) {
    match app.store(path) {
        Ok(store) => {
            store.set(key, value);
            if let Err(e) = store.save() {
                tracing::warn!(error = %e, "could not save settings");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not open settings"),
    }
}

pub fn workspace(app: &AppHandle, path: &Path) -> Option<String> {
    get(app, path, WORKSPACE)
}

pub fn set_workspace(app: &AppHandle, path: &Path, slug: &str) {
    set(app, path, WORKSPACE, slug)
}

pub fn last_username(app: &AppHandle) -> Option<String> {
    get(app, &app.state::<StorePath>().0, LAST_USERNAME)
}

pub fn remember_username(app: &AppHandle, username: &str) {
    set(app, &app.state::<StorePath>().0, LAST_USERNAME, username)
}
