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
use crate::relay::events::ReceivedEvent;
use crate::relay::http::close;
use crate::workspace::Workspace;
use crmconnect_events::kinds::Reader;

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
    /// What the relay made this desktop do that the user should know (it resumed after events
    /// were deleted, or after the relay's log went back), until dismissed.
    pub warning: Option<String>,
    /// Own events the relay refused for good (kept, listed in Settings).
    pub refused: i64,
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
            warning: None,
            refused: 0,
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
    // A desktop the team cut off stays locked across restarts.
    ws.load_lockout().await?;
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
        let warning = ws.sync_warning().await.unwrap_or_default();
        let refused = ws.refused_len().await.unwrap_or_default();
        status.send_modify(|s| {
            s.state = SyncState::Connecting;
            s.cursor = cursor;
            s.outbox = outbox;
            s.retry_in_ms = None;
            s.warning = warning;
            s.refused = refused;
        });
        // What this token may read, as the relay says, then the stream.
        let opened = async {
            let reader = client.whoami().await?.reader();
            Ok::<_, RelayClientError>((reader, client.subscribe(cursor).await?))
        };
        let error = match opened.await {
            Ok((reader, sub)) => {
                attempt = 0;
                match session(&ws, &client, sub, reader.as_ref(), &status, &stop, &kick).await {
                    Ok(()) => return,
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        let error = match error {
            RelayClientError::Resync { code, .. } => match resume(&ws, &client, code).await {
                // Go on at once from where the relay can.
                Ok(()) => continue,
                Err(e) => e,
            },
            e => e,
        };
        let refused = matches!(error, RelayClientError::Unauthorized(_));
        tracing::info!(error = %error, "relay connection lost");
        if refused && let Err(e) = ws.lock_out(&error.to_string()).await {
            tracing::error!(error = %e, "could not lock this desktop out");
        }
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
    reader: Option<&Reader>,
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
                StreamItem::Events { events, through } => {
                    let (events, through) = readable(reader, events, through);
                    let cursor = ws.apply_synced_through(&events, through).await.map_err(|e| RelayClientError::Protocol(format!("applying events: {e}")))?;
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
                    } else if code == close::CURSOR_EXPIRED || code == close::CURSOR_AHEAD {
                        RelayClientError::Resync { code, reason }
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

/// The events of a frame this desktop applies: the relay leaves out what its token may not
/// read; should a relay send more anyway, it is not applied here either (the cursor still moves
/// past it). `None`: a relay too old to say what the token may read.
fn readable(
    reader: Option<&Reader>,
    events: Vec<ReceivedEvent>,
    through: i64,
) -> (Vec<ReceivedEvent>, i64) {
    let Some(reader) = reader else {
        return (events, through);
    };
    let through = through.max(events.last().map_or(0, |e| e.seq));
    let sent = events.len();
    let events: Vec<ReceivedEvent> = events
        .into_iter()
        .filter(|e| reader.may_read_kind(&e.kind))
        .collect();
    if events.len() < sent {
        tracing::warn!(
            left_out = sent - events.len(),
            "the relay sent events this desktop's token may not read: not applied"
        );
    }
    (events, through)
}

/// Moves the cursor to where the relay can go on from, with a warning the user sees: after
/// [`close::CURSOR_EXPIRED`], to just before the oldest event the relay still keeps (what was
/// deleted before this desktop received it is lost to it, and it says so); after
/// [`close::CURSOR_AHEAD`], back to the relay's head, so that the events the relay numbers from
/// there are received instead of skipped.
async fn resume(ws: &Workspace, client: &RelayClient, code: u16) -> Result<(), RelayClientError> {
    let who = client.whoami().await?;
    let cursor = ws
        .sync_cursor()
        .await
        .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
    let (to, warning) = if code == close::CURSOR_AHEAD {
        (
            who.head,
            format!(
                "The relay's log went back: this desktop had received the team's events up to \
                 number {cursor}, but the relay now ends at {}. It was most likely restored from \
                 an older backup. What this desktop received after that stays here; teammates \
                 may not have it. New events are received as usual.",
                who.head
            ),
        )
    } else {
        let to = (who.oldest - 1).max(cursor);
        (
            to,
            format!(
                "This desktop was away longer than the relay keeps events: events {} to {to} \
                 were deleted before it received them, so what teammates changed in that time \
                 is missing here. It receives everything from event {} on.",
                cursor + 1,
                to + 1
            ),
        )
    };
    ws.resume_sync_from(to, &warning)
        .await
        .map_err(|e| RelayClientError::Protocol(e.to_string()))
}

/// The most payload bytes one publish request carries (with at least one event): under the
/// relay's body limit (4 MiB by default) with room for the envelope, whatever the events hold (an
/// import's parts are up to 2 MiB each).
const PUBLISH_BYTES: usize = 2 << 20;

/// Publishes the outbox in order, 100 at a time (fewer when they are large). The relay judges each event: one it refuses
/// for good (a permission this staff member lacks, a payload it does not accept) is kept, marked
/// refused and shown in Settings; the others of its batch go on. Anything else (the relay
/// unreachable) keeps the batch for the next attempt.
async fn flush_outbox(
    ws: &Workspace,
    client: &RelayClient,
    status: &watch::Sender<SyncStatus>,
) -> Result<(), RelayClientError> {
    loop {
        let mut entries = ws
            .outbox(100)
            .await
            .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
        let mut bytes = 0;
        let fits = entries
            .iter()
            .take_while(|e| {
                bytes += e.bytes;
                bytes <= PUBLISH_BYTES
            })
            .count();
        entries.truncate(fits.max(1));
        if entries.is_empty() {
            // Woken after the warning was dismissed, too: the status shows what is stored.
            let warning = ws.sync_warning().await.unwrap_or_default();
            status.send_modify(|s| {
                s.outbox = 0;
                s.warning = warning;
            });
            return Ok(());
        }
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        let events = entries.into_iter().map(|e| e.event).collect();
        match client.publish(events).await {
            Ok(results) => {
                let mut refused = Vec::new();
                let mut done = Vec::new();
                for (id, r) in ids.iter().zip(&results) {
                    match &r.refused {
                        Some(why) => refused.push((*id, why.clone())),
                        None => done.push(*id),
                    }
                }
                // An answer shorter than the request confirms only what it answers.
                ws.outbox_refused(&refused)
                    .await
                    .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
                ws.outbox_done(&done)
                    .await
                    .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
                if results.len() < ids.len() {
                    return Err(RelayClientError::Protocol(format!(
                        "the relay answered for {} of {} events",
                        results.len(),
                        ids.len()
                    )));
                }
                let left = ws.outbox_len().await.unwrap_or_default();
                let refused_len = ws.refused_len().await.unwrap_or_default();
                status.send_modify(|s| {
                    s.outbox = left;
                    s.refused = refused_len;
                    s.last_contact = Some(crate::now_ms());
                    if let Some((_, why)) = refused.first() {
                        tracing::warn!(
                            events = refused.len(),
                            "the relay refused published events; kept"
                        );
                        s.last_error = Some(format!("the relay refused: {why}"));
                    }
                });
            }
            Err(
                e
                @ (RelayClientError::Forbidden(_) | RelayClientError::Refused { status: 400, .. }),
            ) => {
                // The whole request refused: each of its events is kept as refused, with why.
                tracing::warn!(error = %e, events = ids.len(), "the relay refused published events; kept");
                let why = e.to_string();
                let refused: Vec<(i64, String)> = ids.iter().map(|id| (*id, why.clone())).collect();
                ws.outbox_refused(&refused)
                    .await
                    .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
                let refused_len = ws.refused_len().await.unwrap_or_default();
                status.send_modify(|s| {
                    s.last_error = Some(why);
                    s.refused = refused_len;
                });
            }
            Err(e) => {
                let _ = ws.outbox_failed(&ids, &e.to_string()).await;
                return Err(e);
            }
        }
    }
}
