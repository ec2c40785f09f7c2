//! The outbox of a desktop's own events: a change writes its event here with [`emit`], in the
//! change's own transaction, and the sync engine ([`crate::sync`]) publishes what is here. It sits
//! below the domain modules so that any of them can write its events.

use rand::RngCore;

use crate::ErrorCode;
use crate::Result;
use crate::permissions::Principal;
use crmconnect_events::kinds::{self, Required};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("“{0}” is not an event kind a desktop publishes")]
    UnknownKind(String),
}

impl crate::error::Coded for OutboxError {
    fn code(&self) -> ErrorCode {
        match self {
            OutboxError::UnknownKind(_) => ErrorCode::Invalid,
        }
    }
}

/// Writes an event of this desktop into the outbox on `conn`: inside the transaction of the change
/// it describes, so that the change and its event commit together or not at all (a crash after the
/// commit leaves the event in the outbox, and the sync engine publishes it when it next runs).
/// Checks first that `actor` may publish `kind`, as the relay will. Returns the client event id.
/// Call [`Workspace::outbox_written`] after the commit to publish at once.
pub async fn emit(
    conn: &mut sqlx::SqliteConnection,
    actor: &Principal,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<String> {
    match kinds::required(kind).ok_or_else(|| OutboxError::UnknownKind(kind.into()))? {
        Required::Admin => actor.require_admin(kind)?,
        Required::Permission(p) => actor.require(p.resource, p.action)?,
    }
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let event_id = hex::encode(id);
    let payload = payload.to_string();
    let now = crate::now_ms();
    sqlx::query!(
        "INSERT INTO sync_outbox (event_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        event_id,
        kind,
        payload,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(event_id)
}

/// Whether the events `event_ids` left the outbox accepted by the relay: `Some(true)` when every
/// one was published, `Some(false)` when the relay refused one (a stale lease, a permission),
/// `None` while some still wait.
pub async fn published(
    conn: &mut sqlx::SqliteConnection,
    event_ids: &[String],
) -> Result<Option<bool>> {
    let mut waiting = false;
    for id in event_ids {
        let refused = sqlx::query_scalar!(
            r#"SELECT refused_at IS NOT NULL AS "refused!: bool" FROM sync_outbox WHERE event_id = ?"#,
            id
        )
        .fetch_optional(&mut *conn)
        .await?;
        match refused {
            None => {}
            Some(true) => return Ok(Some(false)),
            Some(false) => waiting = true,
        }
    }
    Ok(if waiting { None } else { Some(true) })
}

/// [`emit`], remembering that the event changes `subject` (`template:<name>:<language>`): see
/// [`superseded_here`].
pub async fn emit_about(
    conn: &mut sqlx::SqliteConnection,
    actor: &Principal,
    kind: &str,
    payload: &serde_json::Value,
    subject: &str,
) -> Result<String> {
    let event_id = emit(conn, actor, kind, payload).await?;
    sqlx::query!(
        "INSERT INTO outbox_pending (event_id, subject) VALUES (?, ?)",
        event_id,
        subject
    )
    .execute(&mut *conn)
    .await?;
    Ok(event_id)
}

/// The relay refused event `event_id` for good: it never comes back, so it supersedes nothing.
pub(crate) async fn refused(conn: &mut sqlx::SqliteConnection, event_id: &str) -> Result<()> {
    sqlx::query!("DELETE FROM outbox_pending WHERE event_id = ?", event_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the received event `key` (the relay's `…:<event id>`) is one of this desktop's own
/// events about `subject` coming back while a later one about it is still on its way: then the
/// change here is already newer than the event, which must not undo it.
pub async fn superseded_here(
    conn: &mut sqlx::SqliteConnection,
    key: &str,
    subject: &str,
) -> Result<bool> {
    let Some(event_id) = key.rsplit(':').next() else {
        return Ok(false);
    };
    let own = sqlx::query!(
        "DELETE FROM outbox_pending WHERE event_id = ? AND subject = ?",
        event_id,
        subject
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if !own {
        return Ok(false);
    }
    let later = sqlx::query_scalar!(
        "SELECT count(*) FROM outbox_pending WHERE subject = ?",
        subject
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(later > 0)
}
