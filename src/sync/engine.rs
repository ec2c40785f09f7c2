//! The sync loop: connect to the relay, apply what it streams, publish the outbox, reconnect with
//! backoff. Its state is published on a watch channel for the UI.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::relay_client::{RelayClient, RelayClientError, StreamItem};
use crate::relay::http::close;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncState {
    /// No relay is configured for this workspace.
    NotConfigured,
    Connecting,
    /// Connected, receiving events it missed.
    CatchingUp,
    /// Connected and up to date.
    Live,
    /// The connection dropped; trying again.
    Reconnecting,
    /// The relay refused this desktop (revoked or wrong token): it will not retry by itself.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    pub state: SyncState,
    pub relay_url: String,
    /// The last event applied.
    pub cursor: i64,
    /// The head of the log as last heard from the relay.
    pub head: i64,
    /// Events this desktop has not applied yet, as far as it knows.
    pub behind: i64,
    /// Own events waiting for the relay.
    pub outbox: i64,
    pub last_error: Option<String>,
    /// When reconnecting: milliseconds until the next attempt.
    pub retry_in_ms: Option<u64>,
    /// Milliseconds since the epoch of the last event or confirmation from the relay.
    pub last_contact: Option<i64>,
}

impl SyncStatus {
    /// A workspace without a relay.
    pub fn not_configured() -> SyncStatus {
        SyncStatus {
            state: SyncState::NotConfigured,
            ..SyncStatus::new("")
        }
    }

    fn new(relay_url: &str) -> SyncStatus {
        SyncStatus {
            state: SyncState::Connecting,
            relay_url: relay_url.into(),
            cursor: 0,
            head: 0,
            behind: 0,
            outbox: 0,
            last_error: None,
            retry_in_ms: None,
            last_contact: None,
        }
    }
}

/// The running loop. Dropping it does not stop it: call [`SyncHandle::stop`].
pub struct SyncHandle {
    status: watch::Receiver<SyncStatus>,
    stop: CancellationToken,
    kick: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Wakes the loop: publish the outbox now, or reconnect now if waiting.
    pub fn kick(&self) {
        self.kick.notify_one();
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Backoff before attempt `n` (0-based): 0.5 s doubling to 30 s, with ±25 % jitter.
pub fn backoff(n: u32) -> Duration {
    let base = (500u64 << n.min(6)).min(30_000);
    let jitter = fastrand::u64(0..=base / 2);
    Duration::from_millis(base * 3 / 4 + jitter)
}

/// Starts syncing `ws` with the relay behind `client`.
pub fn start(ws: Arc<Workspace>, client: RelayClient) -> SyncHandle {
    let (tx, rx) = watch::channel(SyncStatus::new(client.base_url()));
    let stop = CancellationToken::new();
    // A change that commits an event wakes the loop to publish it at once.
    let kick = ws.outbox_wake();
    let task = tokio::spawn(run(ws, client, tx, stop.clone(), kick.clone()));
    SyncHandle {
        status: rx,
        stop,
        kick,
        task,
    }
}

/// Starts syncing with the relay configured for `ws`, if any.
pub async fn start_configured(ws: Arc<Workspace>) -> crate::Result<Option<SyncHandle>> {
    let settings = ws.relay_settings_unchecked().await?;
    let Some(token) = ws.relay_token().await? else {
        return Ok(None);
    };
    if settings.relay_url.is_empty() {
        return Ok(None);
    }
    let client = RelayClient::new(&settings.relay_url, token).map_err(super::SyncError::from)?;
    Ok(Some(start(ws, client)))
}

async fn run(
    ws: Arc<Workspace>,
    client: RelayClient,
    status: watch::Sender<SyncStatus>,
    stop: CancellationToken,
    kick: Arc<Notify>,
) {
    let mut attempt: u32 = 0;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let cursor = ws.sync_cursor().await.unwrap_or_default();
        let outbox = ws.outbox_len().await.unwrap_or_default();
        status.send_modify(|s| {
            s.state = SyncState::Connecting;
            s.cursor = cursor;
            s.outbox = outbox;
            s.retry_in_ms = None;
        });
        let error = match client.subscribe(cursor).await {
            Ok(sub) => {
                attempt = 0;
                match session(&ws, &client, sub, &status, &stop, &kick).await {
                    Ok(()) => return,
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        let refused = matches!(error, RelayClientError::Unauthorized(_));
        tracing::info!(error = %error, "relay connection lost");
        let wait = if refused {
            Duration::from_secs(300)
        } else {
            backoff(attempt)
        };
        attempt = attempt.saturating_add(1);
        status.send_modify(|s| {
            s.state = if refused {
                SyncState::Refused
            } else {
                SyncState::Reconnecting
            };
            s.last_error = Some(error.to_string());
            s.retry_in_ms = Some(wait.as_millis() as u64);
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {},
            _ = kick.notified() => {},
            _ = stop.cancelled() => return,
        }
    }
}

/// One connection: apply what arrives, publish the outbox when woken or every few seconds.
/// `Ok` only when stopped.
async fn session(
    ws: &Workspace,
    client: &RelayClient,
    mut sub: super::relay_client::Subscription,
    status: &watch::Sender<SyncStatus>,
    stop: &CancellationToken,
    kick: &Notify,
) -> Result<(), RelayClientError> {
    let head = sub.head;
    status.send_modify(|s| {
        s.head = head;
        s.behind = (head - s.cursor).max(0);
        s.state = if s.behind > 0 {
            SyncState::CatchingUp
        } else {
            SyncState::Live
        };
        s.last_error = None;
        s.last_contact = Some(crate::now_ms());
    });
    flush_outbox(ws, client, status).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.reset();
    loop {
        tokio::select! {
            item = sub.next() => match item? {
                StreamItem::Events(events) => {
                    let cursor = ws.apply_synced(&events).await.map_err(|e| RelayClientError::Protocol(format!("applying events: {e}")))?;
                    status.send_modify(|s| {
                        s.cursor = cursor;
                        s.head = s.head.max(cursor);
                        s.behind = (s.head - cursor).max(0);
                        if s.behind > 0 { s.state = SyncState::CatchingUp; }
                        s.last_contact = Some(crate::now_ms());
                    });
                }
                StreamItem::Live { seq } => {
                    status.send_modify(|s| {
                        s.head = s.head.max(seq);
                        s.behind = (s.head - s.cursor).max(0);
                        s.state = SyncState::Live;
                        s.last_contact = Some(crate::now_ms());
                    });
                }
                StreamItem::Hello { .. } => {}
                StreamItem::Closed { code, reason } => {
                    return Err(if code == close::REVOKED {
                        RelayClientError::Unauthorized(reason)
                    } else {
                        RelayClientError::Unreachable(format!("the relay closed the stream ({code}): {reason}"))
                    });
                }
            },
            _ = kick.notified() => flush_outbox(ws, client, status).await?,
            _ = tick.tick() => flush_outbox(ws, client, status).await?,
            _ = stop.cancelled() => {
                sub.close().await;
                return Ok(());
            }
        }
    }
}

/// Publishes the outbox in order, 100 at a time. A refusal that retrying cannot fix (an event
/// kind or permission the relay refuses) drops the entry, with a warning; anything else keeps it
/// for the next attempt.
async fn flush_outbox(
    ws: &Workspace,
    client: &RelayClient,
    status: &watch::Sender<SyncStatus>,
) -> Result<(), RelayClientError> {
    loop {
        let entries = ws
            .outbox(100)
            .await
            .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
        if entries.is_empty() {
            status.send_modify(|s| s.outbox = 0);
            return Ok(());
        }
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        let events = entries.into_iter().map(|e| e.event).collect();
        match client.publish(events).await {
            Ok(_) => {
                ws.outbox_done(&ids)
                    .await
                    .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
                let left = ws.outbox_len().await.unwrap_or_default();
                status.send_modify(|s| {
                    s.outbox = left;
                    s.last_contact = Some(crate::now_ms());
                });
            }
            Err(
                e
                @ (RelayClientError::Forbidden(_) | RelayClientError::Refused { status: 400, .. }),
            ) => {
                tracing::warn!(error = %e, events = ids.len(), "the relay refused published events; dropped");
                let _ = ws.outbox_failed(&ids, &e.to_string()).await;
                ws.outbox_done(&ids)
                    .await
                    .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
                status.send_modify(|s| s.last_error = Some(e.to_string()));
            }
            Err(e) => {
                let _ = ws.outbox_failed(&ids, &e.to_string()).await;
                return Err(e);
            }
        }
    }
}
