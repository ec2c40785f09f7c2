//! Bots are the team's: storage of the `bots` and `bot_versions` tables, the `bot.*` events, and
//! the handler that applies the log's on every desktop.
//!
//! The log decides clashes. A name the log gave one bot first stays its: a later one with the same
//! name is called “name (uid8)” on every desktop. Two bots activated at once whose triggers overlap:
//! the one the log puts second is kept inactive, and the Activity Log says why. A deletion wins
//! over an edit the log puts after it. Versions never change once published.

use sqlx::SqliteConnection;

use super::{BotVersion, BotsError, Stored, overlap};
use crate::Result;
use crate::permissions::Principal;
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;
use crmconnect_events::payloads::BotState;

struct Row {
    id: i64,
    uid: String,
    name: String,
    kind: String,
    trigger: String,
    number_id: Option<String>,
    binding: Option<String>,
    media: Option<String>,
    active: bool,
    draft: String,
    version: i64,
    updated_at: i64,
}

impl Row {
    fn stored(self) -> Result<Stored> {
        let json = |what: &str, text: &str| {
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| BotsError::Corrupt(self.name.clone(), format!("{what}: {e}")))
        };
        let state = BotState {
            trigger: json("trigger", &self.trigger)?,
            binding: self
                .binding
                .as_deref()
                .map(|b| json("binding", b))
                .transpose()?,
            media: self
                .media
                .as_deref()
                .map(|m| json("media", m))
                .transpose()?,
            uid: self.uid,
            name: self.name,
            kind: self.kind,
            number_id: self.number_id,
            active: self.active,
            draft: self.draft,
            version: self.version,
            published: None,
            deleted: false,
        };
        Ok(Stored {
            id: self.id,
            state,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) async fn all(conn: &mut SqliteConnection) -> Result<Vec<Stored>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", uid, name, kind, trigger, number_id, binding, media, active AS "active: bool",
                  draft, version, updated_at
           FROM bots ORDER BY name COLLATE NOCASE"#
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(Row::stored).collect()
}

pub(crate) async fn load(conn: &mut SqliteConnection, id: i64) -> Result<Stored> {
    sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", uid, name, kind, trigger, number_id, binding, media, active AS "active: bool",
                  draft, version, updated_at
           FROM bots WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(BotsError::NotFound(id))?
    .stored()
}

/// An active bot, as the host matches messages against it (no draft read).
#[derive(Debug, Clone)]
pub(crate) struct ActiveBot {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub kind: String,
    /// The trigger's JSON.
    pub trigger: String,
    pub version: i64,
}

/// The published, active bots that answer on `phone_number_id` (or on every number), by name.
pub(crate) async fn active_on(
    conn: &mut SqliteConnection,
    phone_number_id: &str,
) -> Result<Vec<ActiveBot>> {
    Ok(sqlx::query_as!(
        ActiveBot,
        r#"SELECT id AS "id!", uid, name, kind, trigger, version FROM bots
           WHERE active = 1 AND version > 0 AND (number_id IS NULL OR number_id = ?)
           ORDER BY name COLLATE NOCASE"#,
        phone_number_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A published bot by uid or by name (active or not): where a flow's "go to another bot" goes.
pub(crate) async fn published(conn: &mut SqliteConnection, key: &str) -> Result<Option<ActiveBot>> {
    Ok(sqlx::query_as!(
        ActiveBot,
        r#"SELECT id AS "id!", uid, name, kind, trigger, version FROM bots
           WHERE version > 0 AND (uid = ?1 OR name = ?1 COLLATE NOCASE)"#,
        key
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The editor export of a published version (none for version 0 or one not here).
pub(crate) async fn version_drawflow(
    conn: &mut SqliteConnection,
    uid: &str,
    version: i64,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT drawflow FROM bot_versions WHERE bot_uid = ? AND version = ?",
        uid,
        version
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub(crate) async fn versions(conn: &mut SqliteConnection, uid: &str) -> Result<Vec<BotVersion>> {
    let rows = sqlx::query!(
        "SELECT version, flow, published_at, published_by FROM bot_versions WHERE bot_uid = ? ORDER BY version DESC",
        uid
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BotVersion {
            version: r.version,
            published_at: r.published_at,
            published_by: r.published_by,
            nodes: serde_json::from_str::<crmconnect_flow::Flow>(&r.flow)
                .map(|f| f.nodes.len() as u32)
                .unwrap_or(0),
        })
        .collect())
}

pub(crate) enum WriteError {
    NameTaken,
    Other(crate::Error),
}

impl<E: Into<crate::Error>> From<E> for WriteError {
    fn from(e: E) -> Self {
        WriteError::Other(e.into())
    }
}

/// Stores `state` (by uid: made or replaced), and the version it publishes, if any. `seq`: the log
/// position it comes from (none: a change made here).
pub(crate) async fn write(
    conn: &mut SqliteConnection,
    state: &BotState,
    seq: Option<i64>,
    by: &str,
) -> std::result::Result<Stored, WriteError> {
    let now = crate::now_ms();
    let trigger = state.trigger.to_string();
    let binding = state.binding.as_ref().map(|b| b.to_string());
    let media = state.media.as_ref().map(|m| m.to_string());
    let written = sqlx::query_scalar!(
        r#"INSERT INTO bots (uid, name, kind, trigger, number_id, binding, media, active, log_active, draft, version,
                           created_at, updated_at, seq)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8 AND ?11 IS NOT NULL, ?9, ?10, ?12, ?12, ?11)
           ON CONFLICT (uid) DO UPDATE SET name = excluded.name, kind = excluded.kind, trigger = excluded.trigger,
               number_id = excluded.number_id, binding = excluded.binding, media = excluded.media,
               active = excluded.active,
               log_active = CASE WHEN excluded.seq IS NULL THEN bots.log_active ELSE excluded.active END,
               draft = excluded.draft, version = max(bots.version, excluded.version),
               updated_at = excluded.updated_at, seq = coalesce(excluded.seq, bots.seq)
           RETURNING id AS "id!""#,
        state.uid,
        state.name,
        state.kind,
        trigger,
        state.number_id,
        binding,
        media,
        state.active,
        state.draft,
        state.version,
        seq,
        now
    )
    .fetch_one(&mut *conn)
    .await;
    let id = match written {
        Ok(id) => id,
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            return Err(WriteError::NameTaken);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(p) = &state.published {
        let flow = p.flow.to_string();
        sqlx::query!(
            "INSERT OR IGNORE INTO bot_versions (bot_uid, version, drawflow, flow, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)",
            state.uid,
            p.version,
            p.drawflow,
            flow,
            p.published_at,
            by
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(load(conn, id).await?)
}

pub(crate) async fn delete(conn: &mut SqliteConnection, uid: &str) -> Result<()> {
    sqlx::query!("DELETE FROM bots WHERE uid = ?", uid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn emit(
    tx: &mut SqliteConnection,
    actor: &Principal,
    kind: &str,
    state: &BotState,
) -> Result<()> {
    let payload = serde_json::to_value(state).expect("a bot serialises");
    crate::outbox::emit_about(tx, actor, kind, &payload, &subject(&state.uid)).await?;
    Ok(())
}

/// What a bot's events change, for [`crate::outbox::superseded_here`].
fn subject(uid: &str) -> String {
    format!("bot:{uid}")
}

inventory::submit! { crate::handlers::DefaultHandler { order: 14, make: handler } }

/// The team's bots, applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "bots",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    if !e.kind.starts_with("bot.") {
        return Ok(());
    }
    let Some(b) = crate::handlers::read_payload::<BotState>(e, BotState::problem) else {
        return Ok(());
    };
    // What a desktop of ours publishes compiles: one that does not is skipped, not run.
    if let Some(p) = &b.published
        && let Err(err) = super::compile_draft(&p.drawflow)
    {
        tracing::warn!(seq = e.seq, kind = %e.kind, error = %err, "a bot version that does not compile is skipped");
        return Ok(());
    }
    let author = e.staff.clone().unwrap_or_default();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let what = format!("bot “{}”", b.name);
    if !crate::staff::shared::author_allowed(&mut tx, e, Screen::Bots, what).await? {
        tx.commit().await?;
        return Ok(());
    }
    if crate::outbox::superseded_here(&mut tx, &e.key, &subject(&b.uid)).await? {
        // Only what the log now says is kept: where it is, whether it is active there, and the
        // version it published.
        sqlx::query!(
            "UPDATE bots SET seq = ?, log_active = ? WHERE uid = ?",
            e.seq,
            b.active,
            b.uid
        )
        .execute(&mut *tx)
        .await?;
        if let Some(p) = &b.published {
            let flow = p.flow.to_string();
            sqlx::query!(
                "INSERT OR IGNORE INTO bot_versions (bot_uid, version, drawflow, flow, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)",
                b.uid,
                p.version,
                p.drawflow,
                flow,
                p.published_at,
                author
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    apply_state(&mut tx, e.seq, &author, b).await?;
    tx.commit().await?;
    ws.records_changed(Screen::Bots);
    Ok(())
}

async fn apply_state(
    conn: &mut SqliteConnection,
    seq: i64,
    author: &str,
    mut b: BotState,
) -> Result<()> {
    let gone = sqlx::query_scalar!("SELECT count(*) FROM bot_tombstones WHERE uid = ?", b.uid)
        .fetch_one(&mut *conn)
        .await?;
    if gone > 0 {
        return Ok(()); // deleted earlier in the log: a later edit does not bring it back
    }
    if b.deleted {
        delete(conn, &b.uid).await?;
        sqlx::query!(
            "INSERT OR IGNORE INTO bot_tombstones (uid) VALUES (?)",
            b.uid
        )
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    let others: Vec<Stored> = all(conn)
        .await?
        .into_iter()
        .filter(|o| o.state.uid != b.uid)
        .collect();
    // The log decides who has a name: one the log placed first keeps it; one made here and not
    // back yet gives way until its own event places it.
    let wanted = b.name.clone();
    if let Some(holder) = others
        .iter()
        .find(|o| o.state.name.eq_ignore_ascii_case(&wanted))
    {
        let placed = sqlx::query_scalar!("SELECT seq FROM bots WHERE id = ?", holder.id)
            .fetch_one(&mut *conn)
            .await?;
        if placed.is_some() {
            b.name = suffixed(&wanted, &b.uid);
            crate::staff::shared::clash_noted_in(
                conn,
                Screen::Bots,
                author,
                format!("bot “{wanted}” is “{}” here", b.name),
            )
            .await?;
        } else {
            let moved = suffixed(&wanted, &holder.state.uid);
            sqlx::query!("UPDATE bots SET name = ? WHERE id = ?", moved, holder.id)
                .execute(&mut *conn)
                .await?;
        }
    }
    if b.active {
        // Decided on what the log says: a bot the log made active first keeps the messages.
        let log_active: Vec<String> = sqlx::query_scalar!(
            "SELECT uid FROM bots WHERE log_active = 1 AND uid != ?",
            b.uid
        )
        .fetch_all(&mut *conn)
        .await?;
        if let Some((other, why)) = others
            .iter()
            .filter(|o| log_active.contains(&o.state.uid))
            .find_map(|o| overlap(&b, &o.state).map(|why| (o.state.name.clone(), why)))
        {
            b.active = false;
            crate::staff::shared::clash_noted_in(
                conn,
                Screen::Bots,
                author,
                format!(
                    "bot “{}” stays inactive: “{other}” was active first ({why})",
                    b.name
                ),
            )
            .await?;
        } else {
            // One activated here and not back yet gives way; its own event is decided in turn.
            for o in others
                .iter()
                .filter(|o| o.state.active && overlap(&b, &o.state).is_some())
            {
                sqlx::query!("UPDATE bots SET active = 0 WHERE id = ?", o.id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    match write(conn, &b, Some(seq), author).await {
        Ok(_) => Ok(()),
        Err(WriteError::Other(e)) => Err(e),
        Err(WriteError::NameTaken) => Err(BotsError::NameTaken(b.name).into()),
    }
}

/// `name (xxxxxxxx)`: a later bot with a taken name, named by its uid's last eight characters
/// (a UUIDv7's first ones are its time, alike for bots made the same minute).
fn suffixed(name: &str, uid: &str) -> String {
    let tail = &uid[uid.len().saturating_sub(8)..];
    let head: String = name
        .chars()
        .take(super::MAX_NAME - tail.len() - 3)
        .collect();
    format!("{head} ({tail})")
}
