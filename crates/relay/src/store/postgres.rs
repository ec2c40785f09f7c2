//! The event log in PostgreSQL, shared by several relay instances.
//!
//! A writer takes `pg_advisory_xact_lock` on the workspace for its whole transaction, reads the
//! head, filters out keys already stored, inserts the rest with the next sequence numbers and
//! commits. Sequence numbers of a workspace therefore commit strictly in order: a reader that sees
//! `seq = n` has already been able to see every `seq < n`, so it can never skip an event that
//! commits late. Each transaction sends one `NOTIFY relay_events, '<workspace>'` (delivered at
//! commit) to wake the other instances' streams; they also poll, in case a notification is lost.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgListener, PgPoolOptions};

use super::{Appended, StoreError, fields_json, stored};
use crmconnect_events::events::{NewEvent, StoredEvent};

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/relay/postgres");

pub const CHANNEL: &str = "relay_events";

pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?)
}

/// Takes the workspace's writer lock inside `tx` (held until commit or rollback).
pub async fn lock_workspace(
    tx: &mut sqlx::PgConnection,
    workspace: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7411))")
        .bind(workspace)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Appends inside an open transaction that already holds the workspace's lock.
pub async fn append_locked(
    tx: &mut sqlx::PgConnection,
    workspace: &str,
    events: &[NewEvent],
    now: i64,
) -> Result<Vec<Appended>, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT seq FROM heads WHERE workspace = $1")
        .bind(workspace)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
    let keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
    let existing: HashMap<String, i64> =
        // A join on the unnested keys, not `key = ANY($2)`: on a prepared statement PostgreSQL
        // soon switches to a generic plan, which for ANY scanned the workspace's whole log by its
        // primary key (each batch slower than the last); this shape always probes the
        // (workspace, key) index once per key.
        sqlx::query_as(
            "SELECT e.key, e.seq FROM UNNEST($2::text[]) AS k(key) \
             JOIN events e ON e.workspace = $1 AND e.key = k.key",
        )
            .bind(workspace)
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut results = Vec::with_capacity(events.len());
    let mut fresh: HashMap<&str, i64> = HashMap::new();
    let mut next = head;
    let (mut seqs, mut ks, mut kinds, mut sources, mut staffs, mut fields, mut raws) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for e in events {
        if let Some(&seq) = existing.get(&e.key).or_else(|| fresh.get(e.key.as_str())) {
            results.push(Appended {
                seq,
                duplicate: true,
            });
            continue;
        }
        next += 1;
        fresh.insert(&e.key, next);
        seqs.push(next);
        ks.push(e.key.as_str());
        kinds.push(e.kind.as_str());
        sources.push(e.source.as_str());
        staffs.push(e.staff.as_deref());
        fields.push(fields_json(e));
        raws.push(e.raw.as_str());
        results.push(Appended {
            seq: next,
            duplicate: false,
        });
    }
    if !seqs.is_empty() {
        sqlx::query(
            "INSERT INTO events (workspace, seq, key, kind, source, staff, fields, raw, received_at) \
             SELECT $1, * , $9 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])",
        )
        .bind(workspace)
        .bind(&seqs)
        .bind(&ks)
        .bind(&kinds)
        .bind(&sources)
        .bind(&staffs)
        .bind(&fields)
        .bind(&raws)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO heads (workspace, seq) VALUES ($1, $2) \
             ON CONFLICT (workspace) DO UPDATE SET seq = excluded.seq",
        )
        .bind(workspace)
        .bind(next)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(workspace)
            .execute(&mut *tx)
            .await?;
    }
    Ok(results)
}

pub async fn append(
    pool: &PgPool,
    batches: &[(&str, &[NewEvent])],
    now: i64,
) -> Result<Vec<Vec<Appended>>, StoreError> {
    // Locks are taken in workspace order, so two instances never deadlock.
    let mut order: Vec<usize> = (0..batches.len()).collect();
    order.sort_by_key(|&i| batches[i].0);
    let mut locked = HashSet::new();
    let mut tx = pool.begin().await?;
    for &i in &order {
        if locked.insert(batches[i].0) {
            lock_workspace(&mut tx, batches[i].0).await?;
        }
    }
    let mut out = Vec::with_capacity(batches.len());
    for (workspace, events) in batches {
        out.push(append_locked(&mut tx, workspace, events, now).await?);
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
    pool: &PgPool,
    workspace: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, key, kind, source, staff, fields, raw, received_at FROM events \
         WHERE workspace = $1 AND seq > $2 ORDER BY seq LIMIT $3",
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

/// NOTIFY wake-ups from every instance: yields the workspace that has new events.
pub struct PgWakeups {
    listener: PgListener,
}

impl PgWakeups {
    pub async fn listen(pool: &PgPool) -> Result<PgWakeups, StoreError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(PgWakeups { listener })
    }

    /// The next workspace notified; on a lost connection, sqlx reconnects (the streams' polling
    /// covers what was missed meanwhile).
    pub async fn next(&mut self) -> Result<String, StoreError> {
        Ok(self.listener.recv().await?.payload().to_string())
    }
}
