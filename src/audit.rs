//! The activity log: who did what to which target, when, and with what outcome.
//!
//! A change and its entry commit together: [`perform`] runs the change and writes the entry in
//! one transaction, so a change that fails leaves no entry and an entry that cannot be written
//! undoes the change. An attempt the actor's role refuses is recorded too, as `denied`.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use ts_rs::TS;

use crate::permissions::{PermissionError, Principal};
use crate::screens::Screen;
use crate::{ErrorCode, Result};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the activity log holds an entry of an unknown sub-module “{0}”")]
    UnknownModule(String),
    #[error("the date range ends before it starts")]
    BadRange,
}

impl crate::error::Coded for AuditError {
    fn code(&self) -> ErrorCode {
        AuditError::code(self)
    }
}

impl AuditError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuditError::UnknownModule(_) => ErrorCode::Internal,
            AuditError::BadRange => ErrorCode::Invalid,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    Ok,
    Denied,
}

impl Outcome {
    fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
        }
    }
}

/// What a state change is, for its log entry.
#[derive(Debug, Clone)]
pub struct Change {
    pub module: Screen,
    /// A stable verb such as `staff.create`.
    pub action: &'static str,
    /// What it was done to, as a person reads it: `staff member “maria” (#4)`.
    pub target: String,
}

impl Change {
    pub fn new(module: Screen, action: &'static str, target: impl Into<String>) -> Self {
        Change {
            module,
            action,
            target: target.into(),
        }
    }
}

/// The change itself: runs inside the transaction, returns its value and an optional detail for
/// the log entry (never a secret or a message body).
pub type ChangeFn<'a, T> = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<(T, Option<String>)>>
        + Send
        + 'a,
>;

/// Checks `allowed`, runs `change` and writes its entry, all or nothing.
///
/// When `allowed` is an error, a `denied` entry is committed on its own and the error returned.
pub async fn perform<T: Send>(
    db: &SqlitePool,
    actor: &Principal,
    what: Change,
    allowed: std::result::Result<(), PermissionError>,
    change: ChangeFn<'_, T>,
) -> Result<T> {
    if let Err(refusal) = allowed {
        let mut conn = db.acquire().await?;
        insert(
            &mut conn,
            actor,
            &what,
            Outcome::Denied,
            Some(&refusal.to_string()),
        )
        .await?;
        tracing::info!(actor = %actor.name, action = what.action, "refused");
        return Err(refusal.into());
    }
    perform_on(&mut *db.acquire().await?, actor, what, change).await
}

/// [`perform`] on a given connection, for a caller that needs the same connection for a series
/// of changes (the permission already checked).
pub async fn perform_on<T: Send>(
    conn: &mut SqliteConnection,
    actor: &Principal,
    what: Change,
    change: ChangeFn<'_, T>,
) -> Result<T> {
    let mut tx = crate::db::write_tx(conn).await?;
    let (value, detail) = change(&mut tx).await?; // dropping `tx` on error rolls back
    insert(&mut tx, actor, &what, Outcome::Ok, detail.as_deref()).await?;
    tx.commit().await?;
    tracing::info!(actor = %actor.name, action = what.action, "done");
    Ok(value)
}

/// Writes one entry with the caller's connection (inside the caller's transaction, if any).
/// Who acted is the actor's name as a person reads it (“System · chat sender”, “Bot «Welcome»”);
/// the staff id only when a person acted.
pub async fn insert(
    conn: &mut SqliteConnection,
    actor: &Principal,
    what: &Change,
    outcome: Outcome,
    detail: Option<&str>,
) -> Result<()> {
    let now = crate::now_ms();
    let staff_id = actor.staff_id();
    let staff_name = actor.name.as_str();
    let module = what.module.key();
    let outcome = outcome.key();
    sqlx::query!(
        "INSERT INTO activity_log (at, staff_id, staff_name, module, action, target, outcome, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        now,
        staff_id,
        staff_name,
        module,
        what.action,
        what.target,
        outcome,
        detail
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A position in the newest-first order, to fetch the page after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LogCursor {
    pub at: i64,
    pub id: i64,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct LogFilter {
    #[ts(optional)]
    pub staff_id: Option<i64>,
    #[ts(optional)]
    pub module: Option<Screen>,
    /// Inclusive start, Unix milliseconds.
    #[ts(optional)]
    pub from_ms: Option<i64>,
    /// Exclusive end, Unix milliseconds.
    #[ts(optional)]
    pub to_ms: Option<i64>,
    /// The last entry of the previous page.
    #[ts(optional)]
    pub after: Option<LogCursor>,
    /// 1 to 500; 100 when absent.
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogEntry {
    pub id: i64,
    pub at: i64,
    pub staff_id: Option<i64>,
    pub staff_name: String,
    pub module: Screen,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// Where the next page starts; `None` when this was the last one.
    pub next: Option<LogCursor>,
}

/// One page of the log, newest first. Admins only.
///
/// The filters are optional and combine, so the statement is assembled from fixed fragments with
/// bound values (`QueryBuilder`) rather than one `query!` full of `? IS NULL OR …`, which SQLite
/// cannot serve from an index; every shape it produces is served by one of the log's indexes.
pub async fn list(db: &SqlitePool, actor: &Principal, filter: &LogFilter) -> Result<LogPage> {
    actor.require_admin(Screen::ActivityLog.label())?;
    if let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms)
        && to < from
    {
        return Err(AuditError::BadRange.into());
    }
    let limit = filter.limit.unwrap_or(100).clamp(1, 500) as i64;
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT id, at, staff_id, staff_name, module, action, target, outcome, detail FROM activity_log WHERE 1",
    );
    if let Some(staff) = filter.staff_id {
        q.push(" AND staff_id = ").push_bind(staff);
    }
    if let Some(module) = filter.module {
        q.push(" AND module = ").push_bind(module.key());
    }
    if let Some(from) = filter.from_ms {
        q.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = filter.to_ms {
        q.push(" AND at < ").push_bind(to);
    }
    if let Some(c) = filter.after {
        q.push(" AND (at, id) < (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(limit + 1);

    let rows = q.build().fetch_all(db).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let module: String = row.try_get("module")?;
        let outcome: String = row.try_get("outcome")?;
        entries.push(LogEntry {
            id: row.try_get("id")?,
            at: row.try_get("at")?,
            staff_id: row.try_get("staff_id")?,
            staff_name: row.try_get("staff_name")?,
            module: Screen::from_key(&module).ok_or(AuditError::UnknownModule(module))?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            outcome: if outcome == "denied" {
                Outcome::Denied
            } else {
                Outcome::Ok
            },
            detail: row.try_get("detail")?,
        });
    }
    let next = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| LogCursor { at: e.at, id: e.id })
    } else {
        None
    };
    Ok(LogPage { entries, next })
}
