//! What a workspace's webhooks are checked with: Meta's app secret, the verify token, and the
//! account and numbers they may be about.
//!
//! Either the configuration file names the workspace (`[workspaces.<id>]`, the operator's way),
//! or the workspace's admin sets them from the app (`PUT /v1/webhook` with an admin token) when
//! the workspace goes live: then they are kept in the relay's database, apart from the event log,
//! never logged and never sent back. The file wins: a workspace it names cannot be changed from
//! the app.
//!
//! Lookups are cached for the poll interval, so a webhook does not cost a query while another
//! instance on the same PostgreSQL database still sees a change within that interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crmconnect_base::sensitive::Sensitive;

use super::config::{RelayConfig, WorkspaceConfig, check_secret};
use super::store::{Store, StoreError, WebhookRow, now_ms};

/// The most workspaces remembered; past it the cache starts again (unknown ids, which anyone can
/// send, cannot grow it without bound).
const MAX_CACHED: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error(
        "this workspace's webhook settings are in the relay's configuration file; its operator changes them there"
    )]
    InConfig,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an admin sends: the same fields as a workspace of the configuration file.
pub type WebhookInput = WorkspaceConfig;

/// What anyone may be told back: never a secret.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct WebhookView {
    pub workspace: String,
    /// Where Meta must send this workspace's webhooks, under the relay's address.
    pub callback_path: String,
    pub configured: bool,
    /// `config` or `app`; absent when not configured.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub waba_id: Option<String>,
    #[serde(default)]
    pub phone_number_ids: Vec<String>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

#[derive(Default)]
pub struct WebhookSettings {
    cache: Mutex<HashMap<String, (Instant, Option<WorkspaceConfig>)>>,
}

fn ids_ok(what: &str, v: &str) -> Result<(), SetError> {
    if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit()) {
        return Err(SetError::Invalid(format!(
            "{what} “{}” is not one of Meta's ids (digits only)",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

fn from_row(r: WebhookRow) -> WorkspaceConfig {
    WorkspaceConfig {
        app_secret: Sensitive::new(r.app_secret),
        verify_token: Sensitive::new(r.verify_token),
        waba_id: r.waba_id,
        phone_number_ids: r
            .phone_number_ids
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    }
}

impl WebhookSettings {
    /// Workspace `id`'s settings: the file's, else the app's, else none.
    pub async fn get(
        &self,
        config: &RelayConfig,
        store: &Store,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<WorkspaceConfig>, StoreError> {
        if let Some(ws) = config.workspaces.get(id) {
            return Ok(Some(ws.clone()));
        }
        if let Some((at, ws)) = self.lock().get(id)
            && at.elapsed() < ttl
        {
            return Ok(ws.clone());
        }
        let ws = store.webhook_settings(id).await?.map(from_row);
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(id.to_owned(), (Instant::now(), ws.clone()));
        Ok(ws)
    }

    /// Sets workspace `id`'s settings from the app, checked as the file's are.
    pub async fn set(
        &self,
        config: &RelayConfig,
        store: &Store,
        id: &str,
        input: WebhookInput,
        by: &str,
    ) -> Result<(), SetError> {
        if config.workspaces.contains_key(id) {
            return Err(SetError::InConfig);
        }
        check_secret("app_secret", input.app_secret.expose()).map_err(SetError::Invalid)?;
        check_secret("verify_token", input.verify_token.expose()).map_err(SetError::Invalid)?;
        let waba_id = input
            .waba_id
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty());
        if let Some(w) = &waba_id {
            ids_ok("waba_id", w)?;
        }
        let mut numbers = Vec::new();
        for n in &input.phone_number_ids {
            let n = n.trim();
            ids_ok("phone number id", n)?;
            numbers.push(n.to_owned());
        }
        let row = WebhookRow {
            app_secret: input.app_secret.expose().clone(),
            verify_token: input.verify_token.expose().clone(),
            waba_id,
            phone_number_ids: numbers.join(" "),
            updated_at: now_ms(),
            updated_by: by.to_owned(),
        };
        store.set_webhook_settings(id, &row).await?;
        self.lock().remove(id);
        Ok(())
    }

    /// What [`WebhookView`] says of workspace `id`.
    pub async fn view(
        &self,
        config: &RelayConfig,
        store: &Store,
        id: &str,
    ) -> Result<WebhookView, StoreError> {
        let mut view = WebhookView {
            workspace: id.to_owned(),
            callback_path: format!("/webhook/{id}"),
            configured: false,
            source: None,
            waba_id: None,
            phone_number_ids: vec![],
            updated_at: None,
            updated_by: None,
        };
        if let Some(ws) = config.workspaces.get(id) {
            view.configured = true;
            view.source = Some("config".into());
            view.waba_id = ws.waba_id.clone();
            view.phone_number_ids = ws.phone_number_ids.clone();
        } else if let Some(r) = store.webhook_settings(id).await? {
            view.configured = true;
            view.source = Some("app".into());
            view.updated_at = Some(r.updated_at);
            view.updated_by = Some(r.updated_by.clone());
            let ws = from_row(r);
            view.waba_id = ws.waba_id;
            view.phone_number_ids = ws.phone_number_ids;
        }
        Ok(view)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<WorkspaceConfig>)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}
