//! Team sync: the desktop's side of the relay's event log.
//!
//! The desktop keeps a replica of its workspace's log (`sync_events`), the cursor it has applied
//! up to, and an outbox of its own events that survives restarts. [`engine`] connects to the relay,
//! applies streamed events idempotently, publishes the outbox, and reconnects with backoff; it
//! works offline and catches up in order when back.
//!
//! - [`kinds`]: the event kinds a desktop publishes and the permission each needs (the relay
//!   checks the same table).
//! - [`relay_client`]: HTTP and WebSocket calls to a relay.
//! - [`handlers`]: what applies a received event, registered by the modules that own its effect
//!   (its own module, [`crate::handlers`], below the domain modules).
//! - [`engine`]: the background loop and the state the UI shows.

pub mod engine;
pub use crate::handlers;
pub use crate::outbox::emit;
pub use crmconnect_events::kinds;
pub mod lockout;
pub mod relay_client;
pub mod team;

use serde::Serialize;
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::relay::events::ReceivedEvent;
use crate::relay::http::PublishedEvent;
use crate::screens::Screen;
use crate::secrets::SecretName;
use crate::sensitive::Sensitive;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};
use relay_client::RelayClientError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Relay(#[from] RelayClientError),
    #[error("no relay is configured for this workspace")]
    NotConfigured,
    #[error(
        "enter the token again for the new relay address: a saved token goes only to the relay it was given for"
    )]
    TokenForNewAddress,
    #[error("could not read the keychain: {0}")]
    Keychain(String),
}

impl crate::error::Coded for SyncError {
    fn code(&self) -> ErrorCode {
        SyncError::code(self)
    }
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SyncError::NotConfigured | SyncError::TokenForNewAddress => ErrorCode::Invalid,
            SyncError::Relay(RelayClientError::BadUrl(_) | RelayClientError::NotHttps(_)) => {
                ErrorCode::Invalid
            }
            SyncError::Relay(RelayClientError::Unauthorized(_))
            | SyncError::Relay(RelayClientError::Forbidden(_)) => ErrorCode::PermissionDenied,
            SyncError::Relay(_) | SyncError::Keychain(_) => ErrorCode::Internal,
        }
    }
}

/// The relay settings the Settings screen shows (never the token).
#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
pub struct RelaySettings {
    pub relay_url: String,
    pub token_set: bool,
    pub cursor: i64,
}

/// One event of the local replica, for the UI and tests.
#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
pub struct SyncedEvent {
    pub seq: i64,
    pub key: String,
    pub kind: String,
    pub source: String,
    pub staff: Option<String>,
}

/// An event of this desktop the relay refused for good.
#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
pub struct RefusedEvent {
    pub id: i64,
    pub kind: String,
    pub created_at: i64,
    pub refused_at: i64,
    /// The relay's words.
    pub reason: String,
}

/// An outbox entry not yet confirmed by the relay.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub event: PublishedEvent,
    /// The payload's size as stored (compact JSON): a publish request is kept under the relay's
    /// body limit by it.
    pub bytes: usize,
}

impl Workspace {
    pub(crate) async fn relay_settings_unchecked(&self) -> Result<RelaySettings> {
        let row = sqlx::query!("SELECT relay_url, cursor FROM sync_settings WHERE id = 1")
            .fetch_one(self.db())
            .await?;
        let token_set = self.relay_token().await?.is_some();
        Ok(RelaySettings {
            relay_url: row.relay_url,
            token_set,
            cursor: row.cursor,
        })
    }

    pub(crate) async fn relay_token(&self) -> Result<Option<Sensitive<String>>> {
        let store = self.secrets().clone();
        let ws = self.info().slug.clone();
        tokio::task::spawn_blocking(move || store.get(&ws, SecretName::RelayToken))
            .await
            .map_err(|e| SyncError::Keychain(e.to_string()))?
            .map_err(|e| SyncError::Keychain(e.to_string()).into())
    }

    /// Sets the relay without a permission check or a round trip (the sandbox workspace's
    /// in-process relay, set by the system at launch). Another address means another log, so the
    /// replica starts afresh, unless `same_log` (the in-process relay's port changes at every
    /// launch; its log does not).
    pub(crate) async fn set_relay_unchecked(
        &self,
        relay_url: &str,
        token: Sensitive<String>,
        same_log: bool,
    ) -> Result<()> {
        let store = self.secrets().clone();
        let ws = self.info().slug.clone();
        tokio::task::spawn_blocking(move || store.set(&ws, SecretName::RelayToken, &token))
            .await
            .map_err(|e| SyncError::Keychain(e.to_string()))?
            .map_err(|e| SyncError::Keychain(e.to_string()))?;
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let old = sqlx::query_scalar!("SELECT relay_url FROM sync_settings WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        if same_log {
            sqlx::query!(
                "UPDATE sync_settings SET relay_url = ? WHERE id = 1",
                relay_url
            )
            .execute(&mut *tx)
            .await?;
        } else if old != relay_url {
            // Another relay is another log: start its replica afresh.
            sqlx::query!(
                "UPDATE sync_settings SET relay_url = ?, cursor = 0 WHERE id = 1",
                relay_url
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!("DELETE FROM sync_events")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last sequence number applied.
    pub async fn sync_cursor(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!("SELECT cursor FROM sync_settings WHERE id = 1")
                .fetch_one(self.db())
                .await?,
        )
    }

    /// What the relay made this desktop do that the user should know (see
    /// [`Workspace::resume_sync_from`]), until dismissed.
    pub async fn sync_warning(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar!("SELECT warning FROM sync_settings WHERE id = 1")
                .fetch_one(self.db())
                .await?,
        )
    }

    /// Moves the cursor to `cursor` because the relay cannot go on from where it was (its
    /// retention deleted events this desktop had not received, or its log went back), keeps
    /// `warning` for the user and writes it in the Activity Log. Replica rows after `cursor` are
    /// dropped: a log that went back gives their numbers to new events.
    pub(crate) async fn resume_sync_from(&self, cursor: i64, warning: &str) -> Result<()> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        sqlx::query!(
            "UPDATE sync_settings SET cursor = ?, warning = ? WHERE id = 1",
            cursor,
            warning
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!("DELETE FROM sync_events WHERE seq > ?", cursor)
            .execute(&mut *tx)
            .await?;
        audit::insert(
            &mut tx,
            &crate::permissions::Principal::system(crate::permissions::SystemTask::Sync),
            &Change::new(
                Screen::Settings,
                "sync.resumed",
                format!("event {}", cursor + 1),
            ),
            audit::Outcome::Ok,
            Some(warning),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(cursor, "sync resumed from another cursor");
        Ok(())
    }

    /// Applies a batch from the stream, in order. Domain effects first (each is idempotent),
    /// then the replica and the cursor in one transaction: a crash in between applies the batch
    /// again, harmlessly. Events at or below the cursor are skipped. Returns the new cursor.
    pub async fn apply_synced(&self, events: &[ReceivedEvent]) -> Result<i64> {
        let through = events.last().map_or(0, |e| e.seq);
        self.apply_synced_through(events, through).await
    }

    /// [`Workspace::apply_synced`] of a frame that accounts for the log up to `through`: the
    /// relay left out the events after the last one that this desktop's token may not read, and
    /// the cursor moves past them too.
    pub async fn apply_synced_through(
        &self,
        events: &[ReceivedEvent],
        through: i64,
    ) -> Result<i64> {
        let cursor = self.sync_cursor().await?;
        let fresh: Vec<&ReceivedEvent> = events.iter().filter(|e| e.seq > cursor).collect();
        if fresh.is_empty() {
            if through > cursor {
                sqlx::query!("UPDATE sync_settings SET cursor = ? WHERE id = 1", through)
                    .execute(self.db())
                    .await?;
                return Ok(through);
            }
            return Ok(cursor);
        }
        // Runs of one kind go to each handler together (a chat handler commits a run of
        // messages once); the handlers still see the events in log order, kind after kind.
        let handlers = self.handlers().for_replica();
        for run in fresh.chunk_by(|a, b| a.kind == b.kind) {
            for h in &handlers {
                h.apply_run(self, run).await?;
            }
        }
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let mut last = cursor;
        for e in fresh {
            let fields = serde_json::to_string(&e.fields()).expect("fields serialise");
            let source = match e.source {
                crate::relay::events::Source::Meta => "meta",
                crate::relay::events::Source::Desktop => "desktop",
            };
            let raw = e.raw.get();
            sqlx::query!(
                "INSERT OR IGNORE INTO sync_events (seq, key, kind, source, staff, fields, raw, received_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                e.seq,
                e.key,
                e.kind,
                source,
                e.staff,
                fields,
                raw,
                e.received_at
            )
            .execute(&mut *tx)
            .await?;
            last = last.max(e.seq);
        }
        let last = last.max(through);
        sqlx::query!("UPDATE sync_settings SET cursor = ? WHERE id = 1", last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(last)
    }

    /// The local replica after `after`, oldest first.
    pub async fn synced_events(&self, after: i64, limit: i64) -> Result<Vec<SyncedEvent>> {
        Ok(sqlx::query_as!(
            SyncedEvent,
            "SELECT seq, key, kind, source, staff FROM sync_events WHERE seq > ? ORDER BY seq LIMIT ?",
            after,
            limit
        )
        .fetch_all(self.db())
        .await?)
    }

    /// The oldest outbox entries still to publish, in the order they were made.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query!(
            "SELECT id, event_id, kind, payload FROM sync_outbox WHERE refused_at IS NULL ORDER BY id LIMIT ?",
            limit
        )
        .fetch_all(self.db())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxEntry {
                id: r.id,
                bytes: r.payload.len(),
                event: PublishedEvent {
                    id: r.event_id,
                    kind: r.kind,
                    payload: serde_json::from_str(&r.payload).unwrap_or_default(),
                },
            })
            .collect())
    }

    /// Outbox entries still to publish.
    pub async fn outbox_len(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!("SELECT COUNT(*) FROM sync_outbox WHERE refused_at IS NULL")
                .fetch_one(self.db())
                .await?,
        )
    }

    /// How many outbox entries the relay refused for good.
    pub async fn refused_len(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!("SELECT COUNT(*) FROM sync_outbox WHERE refused_at IS NOT NULL")
                .fetch_one(self.db())
                .await?,
        )
    }

    /// Outbox entries the relay refused for good, newest first: kept so that the user sees what
    /// did not reach the team and why.
    pub async fn refused_events(&self, limit: i64) -> Result<Vec<RefusedEvent>> {
        Ok(sqlx::query_as!(
            RefusedEvent,
            r#"SELECT id, kind, created_at, refused_at AS "refused_at!", COALESCE(last_error, '') AS "reason!: String"
               FROM sync_outbox WHERE refused_at IS NOT NULL ORDER BY id DESC LIMIT ?"#,
            limit
        )
        .fetch_all(self.db())
        .await?)
    }

    /// Marks entries the relay refused for good, with its reason: no longer sent, still kept.
    pub(crate) async fn outbox_refused(&self, refused: &[(i64, String)]) -> Result<()> {
        let now = crate::now_ms();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        for (id, reason) in refused {
            let event_id = sqlx::query_scalar!(
                "UPDATE sync_outbox SET refused_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?
                 RETURNING event_id",
                now,
                reason,
                id
            )
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(event_id) = event_id {
                crate::outbox::refused(&mut tx, &event_id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes entries the relay has confirmed.
    pub(crate) async fn outbox_done(&self, ids: &[i64]) -> Result<()> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        for id in ids {
            sqlx::query!("DELETE FROM sync_outbox WHERE id = ?", id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn outbox_failed(&self, ids: &[i64], error: &str) -> Result<()> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        for id in ids {
            sqlx::query!(
                "UPDATE sync_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                error,
                id
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Ctx<'_> {
    /// Where this workspace syncs, for the Settings screen (administrators).
    pub async fn relay_settings(&self) -> Result<RelaySettings> {
        self.actor().await?.require_admin("the relay settings")?;
        self.relay_settings_unchecked().await
    }

    /// Sets the relay's address and (when given) its token, which goes to the keychain. Checks
    /// both with the relay first, so a wrong address or a refused token is named at once.
    pub async fn set_relay(&self, relay_url: &str, token: Option<Sensitive<String>>) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("the relay settings");
        let mut target = relay_url.to_string();
        if allowed.is_ok() {
            let token = match token {
                Some(t) if !t.expose().trim().is_empty() => t,
                _ => {
                    // The stored token goes only to the relay it was given for: another address
                    // needs it typed again, or a changed address would carry it elsewhere.
                    let current = self.relay_settings_unchecked().await?.relay_url;
                    if current.trim_end_matches('/') != relay_url.trim().trim_end_matches('/') {
                        return Err(SyncError::TokenForNewAddress.into());
                    }
                    self.relay_token().await?.ok_or(SyncError::NotConfigured)?
                }
            };
            let client = relay_client::RelayClient::new(relay_url, token.clone())
                .map_err(SyncError::from)?;
            let who = client.whoami().await.map_err(SyncError::from)?;
            self.set_relay_unchecked(client.base_url(), token, false)
                .await?;
            target = format!("{} as {} ({})", client.base_url(), who.staff, who.workspace);
        }
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Settings, "relay.set", target),
            allowed,
            Box::new(move |_tx| Box::pin(async move { Ok(((), None)) })),
        )
        .await
    }

    /// This desktop's events the relay refused for good, newest first (administrators).
    pub async fn refused_events(&self) -> Result<Vec<RefusedEvent>> {
        self.actor().await?.require_admin("the relay settings")?;
        Workspace::refused_events(self, 200).await
    }

    /// Clears the sync warning once the user has read it (administrators).
    pub async fn dismiss_sync_warning(&self) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("the relay settings");
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Settings, "sync.warning_dismissed", "team sync"),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    sqlx::query!("UPDATE sync_settings SET warning = NULL WHERE id = 1")
                        .execute(&mut *tx)
                        .await?;
                    Ok(((), None))
                })
            }),
        )
        .await
    }

    /// Queues an event that describes no local change (the change, if any, happened elsewhere),
    /// after the same permission check the relay makes. Returns the client event id. A change of
    /// this desktop's state writes its event with [`emit`] in its own transaction instead.
    pub async fn publish_event(&self, kind: &str, payload: serde_json::Value) -> Result<String> {
        let actor = self.actor().await?;
        let id = emit(&mut *self.db().acquire().await?, &actor, kind, &payload).await?;
        self.outbox_written();
        Ok(id)
    }
}
