//! The event log in SQLite: WAL, `synchronous = FULL` (a 200 to Meta means the event survives a
//! power cut, not only a crash), one writer, batched commits.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Appended, StoreError, fields_json, stored};
use crate::relay::events::{NewEvent, StoredEvent};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/relay/sqlite");

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

pub async fn append(
    pool: &SqlitePool,
    batches: &[(&str, &[NewEvent])],
    now: i64,
) -> Result<Vec<Vec<Appended>>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(batches.len());
    for (workspace, events) in batches {
        let mut head: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE workspace = ?")
                .bind(workspace)
                .fetch_one(&mut *tx)
                .await?;
        let mut results = Vec::with_capacity(events.len());
        for e in events.iter() {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM events WHERE workspace = ? AND key = ?")
                    .bind(workspace)
                    .bind(&e.key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(seq) = existing {
                results.push(Appended {
                    seq,
                    duplicate: true,
                });
                continue;
            }
            head += 1;
            sqlx::query(
                "INSERT INTO events (workspace, seq, key, kind, source, staff, fields, raw, received_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(workspace)
            .bind(head)
            .bind(&e.key)
            .bind(&e.kind)
            .bind(e.source.as_str())
            .bind(&e.staff)
            .bind(fields_json(e))
            .bind(&e.raw)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            results.push(Appended {
                seq: head,
                duplicate: false,
            });
        }
        out.push(results);
    }
    tx.commit().await?;
    Ok(out)
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
