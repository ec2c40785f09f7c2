//! The event log in SQLite: WAL, `synchronous = FULL` (a 200 to Meta means the event survives a
//! power cut, not only a crash), one writer, batched commits.

use std::str::FromStr;
use std::time::Duration;

use std::collections::HashMap;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

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

/// Rows per multi-row statement (9 variables each; SQLite allows 32,766 per statement).
const CHUNK: usize = 1000;

pub async fn append(
    pool: &SqlitePool,
    batches: &[(&str, &[NewEvent])],
    now: i64,
) -> Result<Vec<Vec<Appended>>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(batches.len());
    for (workspace, events) in batches {
        let head: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE workspace = ?")
                .bind(workspace)
                .fetch_one(&mut *tx)
                .await?;
        // Keys already in the log, in one query per chunk.
        let mut existing: HashMap<String, i64> = HashMap::new();
        for chunk in events.chunks(CHUNK) {
            let mut q =
                QueryBuilder::<Sqlite>::new("SELECT key, seq FROM events WHERE workspace = ");
            q.push_bind(*workspace).push(" AND key IN (");
            let mut sep = q.separated(", ");
            for e in chunk {
                sep.push_bind(&e.key);
            }
            q.push(")");
            let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
            existing.extend(rows);
        }
        // Fresh events get the next numbers; a key repeated within the batch is a duplicate too.
        let mut next = head;
        let mut results = Vec::with_capacity(events.len());
        let mut fresh: Vec<(i64, &NewEvent)> = Vec::with_capacity(events.len());
        for e in events.iter() {
            if let Some(&seq) = existing.get(&e.key) {
                results.push(Appended {
                    seq,
                    duplicate: true,
                });
                continue;
            }
            next += 1;
            existing.insert(e.key.clone(), next);
            fresh.push((next, e));
            results.push(Appended {
                seq: next,
                duplicate: false,
            });
        }
        for chunk in fresh.chunks(CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (workspace, seq, key, kind, source, staff, fields, raw, received_at) ",
            );
            q.push_values(chunk, |mut row, (seq, e)| {
                row.push_bind(*workspace)
                    .push_bind(*seq)
                    .push_bind(&e.key)
                    .push_bind(&e.kind)
                    .push_bind(e.source.as_str())
                    .push_bind(&e.staff)
                    .push_bind(fields_json(e))
                    .push_bind(&e.raw)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
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
