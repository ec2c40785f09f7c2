//! The event log in SQLite: WAL, `synchronous = FULL` (a 200 to Meta means the event survives a
//! power cut, not only a crash), one writer, batched commits.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crmconnect_base::raw::{Raw, Stmt, Value};

use super::{Appended, StoreError, fields_json, stored};
use crmconnect_events::events::{NewEvent, StoredEvent};

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/relay/sqlite");

pub async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        .pragma("cache_size", "-16384");
    Ok(SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?)
}

type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
);

pub async fn read_after(
    pool: &SqlitePool,
    workspace: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, key, kind, source, staff, fields, raw, received_at FROM events \
         WHERE workspace = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(workspace)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(seq, key, kind, source, staff, fields, raw, at)| {
            stored(seq, key, kind, source, staff, fields, raw, at)
        })
        .collect()
}

/// The relay's one writer on SQLite: a connection of its own, locked away from sqlx's worker for
/// the writer thread's whole life, whose statements it binds and steps itself. Through sqlx each
/// of a batch's statements was a round trip to the connection's worker thread, and on a busy
/// machine each round trip waited to be scheduled: the commit, not the work, was the cost.
pub struct Appender<'h> {
    raw: Raw<'h>,
    head: Stmt<'h>,
    set_head: Stmt<'h>,
    insert: Stmt<'h>,
    find: Stmt<'h>,
}

impl<'h> Appender<'h> {
    fn new(raw: Raw<'h>) -> Result<Self, StoreError> {
        Ok(Appender {
            head: raw
                .prepare("SELECT seq FROM heads WHERE workspace = ?1")
                .map_err(StoreError::Raw)?,
            set_head: raw
                .prepare(
                    "INSERT INTO heads (workspace, seq) VALUES (?1, ?2) \
                     ON CONFLICT (workspace) DO UPDATE SET seq = excluded.seq",
                )
                .map_err(StoreError::Raw)?,
            insert: raw
                .prepare(
                    "INSERT INTO events (workspace, seq, key, kind, source, staff, fields, raw, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (workspace, key) DO NOTHING",
                )
                .map_err(StoreError::Raw)?,
            find: raw
                .prepare("SELECT seq FROM events WHERE workspace = ?1 AND key = ?2")
                .map_err(StoreError::Raw)?,
            raw,
        })
    }

    /// Appends batches (one per workspace) in one transaction; the same contract as
    /// [`append`]: duplicates, in the log or earlier in the batch, take no sequence number.
    pub fn append(
        &mut self,
        batches: &[(&str, &[NewEvent])],
        now: i64,
    ) -> Result<Vec<Vec<Appended>>, StoreError> {
        self.raw
            .execute("BEGIN IMMEDIATE")
            .map_err(StoreError::Raw)?;
        match self.append_in_transaction(batches, now) {
            Ok(out) => match self.raw.execute("COMMIT") {
                Ok(()) => Ok(out),
                Err(e) => {
                    let _ = self.raw.execute("ROLLBACK");
                    Err(StoreError::Raw(e))
                }
            },
            Err(e) => {
                let _ = self.raw.execute("ROLLBACK");
                Err(e)
            }
        }
    }

    fn append_in_transaction(
        &mut self,
        batches: &[(&str, &[NewEvent])],
        now: i64,
    ) -> Result<Vec<Vec<Appended>>, StoreError> {
        let mut out = Vec::with_capacity(batches.len());
        for (workspace, events) in batches {
            let head = self
                .head
                .run(&[Value::Text(workspace)])
                .map_err(StoreError::Raw)?
                .0
                .unwrap_or(0);
            let mut next = head;
            let mut results = Vec::with_capacity(events.len());
            for e in events.iter() {
                let fields = fields_json(e);
                let (_, changed) = self
                    .insert
                    .run(&[
                        Value::Text(workspace),
                        Value::Int(next + 1),
                        Value::Text(&e.key),
                        Value::Text(&e.kind),
                        Value::Text(e.source.as_str()),
                        e.staff.as_deref().map_or(Value::Null, Value::Text),
                        Value::Text(&fields),
                        Value::Text(&e.raw),
                        Value::Int(now),
                    ])
                    .map_err(StoreError::Raw)?;
                if changed == 1 {
                    next += 1;
                    results.push(Appended {
                        seq: next,
                        duplicate: false,
                    });
                } else {
                    // Already in the log, or earlier in this batch: the first copy's number.
                    let seq = self
                        .find
                        .run(&[Value::Text(workspace), Value::Text(&e.key)])
                        .map_err(StoreError::Raw)?
                        .0
                        .ok_or_else(|| {
                            StoreError::Raw(format!("event {} was neither stored nor found", e.key))
                        })?;
                    results.push(Appended {
                        seq,
                        duplicate: true,
                    });
                }
            }
            if next != head {
                self.set_head
                    .run(&[Value::Text(workspace), Value::Int(next)])
                    .map_err(StoreError::Raw)?;
            }
            out.push(results);
        }
        Ok(out)
    }
}

/// Runs `body` on this (dedicated, blocking) thread with the writer's own connection to the
/// database `pool` opens. `ready` is told whether the connection could be opened.
pub fn run_writer(
    pool: &SqlitePool,
    ready: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
    body: impl FnOnce(&mut Appender<'_>),
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(StoreError::Raw(format!("starting the writer: {e}"))));
            return;
        }
    };
    let options = (*pool.connect_options()).clone();
    let mut conn = match runtime.block_on(SqliteConnection::connect_with(&options)) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    {
        let mut lock = match runtime.block_on(conn.lock_handle()) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        };
        let mut appender = match Appender::new(Raw::new(&mut lock)) {
            Ok(a) => a,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        body(&mut appender);
    }
    let _ = runtime.block_on(conn.close());
}
