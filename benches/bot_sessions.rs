//! Bots with durable sessions (issue 22): 10,000 concurrent sessions of a 50-node flow kept in a
//! workspace's `bot_sessions` table, each turn as the runner takes it — the session read, the
//! engine's turn, the session written back (its own commit). Prints turns/s flat out, the p99
//! turn latency at a steady 1,000 turns/s, and the bytes a parked session takes (its JSON, and
//! the table's pages per session). Baseline in the same run: the same turns without storage.
//! Sends are not in it: they are the chat sender's, paced by Meta's limits.
//! Run with `cargo bench --bench bot_sessions` (BENCH_SESSIONS, BENCH_TURNS to change).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use crmconnect::flow::engine::{Inbound, Input, Limits, Session, turn};
use crmconnect::flow::fixtures::FixedWorld;
use crmconnect::flow::{Program, compile};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn answer(i: usize, t: usize) -> [Inbound; 1] {
    [Inbound {
        id: format!("wamid.{i}.{t}"),
        text: String::new(),
        reply: Some("again".into()),
        phone: None,
    }]
}

/// One durable turn: read the session, run the engine, write it back.
async fn durable_turn(
    db: &sqlx::SqlitePool,
    program: &Program,
    limits: &Limits,
    id: i64,
    m: &[Inbound],
) {
    let state: String = sqlx::query_scalar("SELECT state FROM bot_sessions WHERE id = ?")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    let mut s: Session = serde_json::from_str(&state).unwrap();
    let out = turn(program, limits, &mut s, Input::Inbound(m), &FixedWorld);
    let state = serde_json::to_string(&s).unwrap();
    sqlx::query(
        "UPDATE bot_sessions SET state = ?, messages = messages + ?, updated_at = ? WHERE id = ?",
    )
    .bind(state)
    .bind(out.len() as i64)
    .bind(crmconnect::now_ms())
    .bind(id)
    .execute(db)
    .await
    .unwrap();
}

fn p(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
}

async fn pages(db: &sqlx::SqlitePool) -> i64 {
    let count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(db)
        .await
        .unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(db)
        .await
        .unwrap();
    count * size
}

#[tokio::main]
async fn main() {
    let sessions = env("BENCH_SESSIONS", 10_000);
    let turns = env("BENCH_TURNS", 20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = support::signed_in_workspace(dir.path()).await;
    let db = ws.db();
    let program =
        compile(&crmconnect::flow::fixtures::fifty_nodes()).expect("the bench flow compiles");
    let limits = Limits {
        visits_per_node: u16::MAX,
        messages_per_session: u16::MAX,
        ..Limits::default()
    };
    println!("bot sessions: a 50-node flow, {sessions} durable sessions, {turns} turns");

    // Park every session at its question, as after a customer's first message.
    let before = pages(db).await;
    let mut tx = db.begin().await.unwrap();
    let mut json_bytes = 0usize;
    for i in 0..sessions {
        let mut s = Session::new();
        let first = [Inbound {
            id: format!("wamid.b{i}"),
            text: "hi".into(),
            ..Default::default()
        }];
        turn(&program, &limits, &mut s, Input::Begin(&first), &FixedWorld);
        let state = serde_json::to_string(&s).unwrap();
        json_bytes += state.len();
        sqlx::query("INSERT INTO bot_sessions (conversation_id, bot_uid, version, state, started_at, updated_at) VALUES (?, 'bench', 1, ?, 0, 0)")
            .bind(i as i64 + 1)
            .bind(state)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await
        .unwrap();
    let parked = (pages(db).await - before) as f64 / sessions as f64;

    // Flat out, round robin over the sessions (the runner takes one turn at a time).
    let mut latencies = Vec::with_capacity(turns);
    let start = Instant::now();
    for t in 0..turns {
        let i = t % sessions;
        let m = answer(i, t);
        let t0 = Instant::now();
        durable_turn(db, &program, &limits, i as i64 + 1, &m).await;
        latencies.push(t0.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "  durable turns/s, each its own commit {:>6.0}   (target ≥ 10,000)",
        turns as f64 / secs
    );
    println!(
        "  flat-out turn latency    p50 {:.3} ms, p99 {:.3} ms",
        p(&latencies, 0.5),
        p(&latencies, 0.99)
    );

    // Group commit: a run of turns (messages that arrived together) written in one transaction.
    let group = 64;
    let start = Instant::now();
    let mut t = 0;
    while t < turns {
        let mut tx = db.begin().await.unwrap();
        for k in t..(t + group).min(turns) {
            let i = (k * 13) % sessions;
            let state: String = sqlx::query_scalar("SELECT state FROM bot_sessions WHERE id = ?")
                .bind(i as i64 + 1)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let mut s: Session = serde_json::from_str(&state).unwrap();
            let out = turn(
                &program,
                &limits,
                &mut s,
                Input::Inbound(&answer(i, 2 * turns + k)),
                &FixedWorld,
            );
            sqlx::query("UPDATE bot_sessions SET state = ?, messages = messages + ?, updated_at = ? WHERE id = ?")
                .bind(serde_json::to_string(&s).unwrap())
                .bind(out.len() as i64)
                .bind(crmconnect::now_ms())
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        t += group;
    }
    println!(
        "  durable turns/s, {group} per commit {:>6.0}",
        turns as f64 / start.elapsed().as_secs_f64()
    );

    // Steady 1,000 turns/s: one every millisecond, latency of each.
    let steady = turns.min(5_000);
    let mut latencies = Vec::with_capacity(steady);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for t in 0..steady {
        tick.tick().await;
        let i = (t * 7) % sessions;
        let m = answer(i, turns + t);
        let t0 = Instant::now();
        durable_turn(db, &program, &limits, i as i64 + 1, &m).await;
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    println!(
        "  at 1,000 turns/s         p50 {:.3} ms, p99 {:.3} ms   (target p99 ≤ 5 ms)",
        p(&latencies, 0.5),
        p(&latencies, 0.99)
    );
    println!(
        "  parked session           {:.0} B of table pages, {} B of JSON   (target ≤ 2 KB)",
        parked,
        json_bytes / sessions
    );

    // Baseline: the same turns in memory, no storage.
    let mut mem: Vec<Session> = (0..sessions)
        .map(|i| {
            let mut s = Session::new();
            let first = [Inbound {
                id: format!("wamid.b{i}"),
                text: "hi".into(),
                ..Default::default()
            }];
            turn(&program, &limits, &mut s, Input::Begin(&first), &FixedWorld);
            s
        })
        .collect();
    let start = Instant::now();
    for t in 0..turns {
        let i = t % sessions;
        turn(
            &program,
            &limits,
            &mut mem[i],
            Input::Inbound(&answer(i, t)),
            &FixedWorld,
        );
    }
    println!(
        "  baseline (no storage)    {:>9.0} turns/s",
        turns as f64 / start.elapsed().as_secs_f64()
    );
}
