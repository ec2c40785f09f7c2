//! The pure engine's figures (issue 22): steps/s through a 50-node flow, turns/s and p99 turn
//! latency over 10,000 concurrent sessions, and the size of a parked session in memory and stored.
//! Run: `cargo bench -p crmconnect-flow --bench engine` (BENCH_SESSIONS, BENCH_TURNS to change).
//!
//! This is the engine alone. The runner's durable sessions (stored per turn) are measured by the
//! runner's own bench when it runs bots.

use std::time::Instant;

use crmconnect_flow::engine::{Inbound, Input, Limits, Session, turn};
use crmconnect_flow::fixtures::FixedWorld;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let flow = crmconnect_flow::fixtures::fifty_nodes();
    let program = crmconnect_flow::compile(&flow).expect("the bench flow compiles");
    assert_eq!(program.nodes.len(), 50);
    let limits = Limits {
        visits_per_node: u16::MAX,
        messages_per_session: u16::MAX,
        ..Limits::default()
    };
    let sessions_n = env("BENCH_SESSIONS", 10_000);
    let turns_each = env("BENCH_TURNS", 20);
    println!("engine: a 50-node flow, {sessions_n} concurrent sessions, {turns_each} turns each");

    let begin = Instant::now();
    let mut sessions: Vec<Session> = (0..sessions_n).map(|_| Session::new()).collect();
    for (i, s) in sessions.iter_mut().enumerate() {
        let first = [Inbound {
            id: format!("wamid.b{i}"),
            text: "hi".into(),
            ..Default::default()
        }];
        turn(&program, &limits, s, Input::Begin(&first), &FixedWorld);
    }
    let begin_s = begin.elapsed().as_secs_f64();

    // Round robin over the sessions, as customers answering at once would.
    let mut latencies = Vec::with_capacity(sessions_n * turns_each);
    let mut steps = 0u64;
    let mut actions = 0u64;
    let start = Instant::now();
    for t in 0..turns_each {
        for (i, s) in sessions.iter_mut().enumerate() {
            let m = [Inbound {
                id: format!("wamid.{i}.{t}"),
                text: String::new(),
                reply: Some("again".into()),
                phone: None,
            }];
            let before = s.visits.iter().map(|&v| v as u64).sum::<u64>();
            let t0 = Instant::now();
            let out = turn(&program, &limits, s, Input::Inbound(&m), &FixedWorld);
            latencies.push(t0.elapsed().as_nanos() as u64);
            steps += s.visits.iter().map(|&v| v as u64).sum::<u64>() - before;
            actions += out.len() as u64;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)] as f64 / 1000.0
    };
    let turns = latencies.len() as f64;
    println!(
        "  begun {sessions_n} sessions in {:.1} ms",
        begin_s * 1000.0
    );
    println!(
        "  turns/s            {:>12.0}   (target ≥ 10,000)",
        turns / secs
    );
    println!(
        "  steps/s            {:>12.0}   (target ≥ 1,000,000)",
        steps as f64 / secs
    );
    println!("  steps per turn     {:>12.1}", steps as f64 / turns);
    println!(
        "  actions per turn   {:>12.1}   (texts merged into one message)",
        actions as f64 / turns
    );
    println!(
        "  turn latency       p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        p(0.5),
        p(0.99),
        p(1.0)
    );

    // A parked session: in memory (the struct and what it owns) and stored (its JSON).
    let s = &sessions[0];
    let heap = s
        .vars
        .iter()
        .map(|(k, v)| k.capacity() + v.capacity() + std::mem::size_of::<(String, String)>())
        .sum::<usize>()
        + s.visits.capacity() * 2
        + s.seen.capacity() * 8;
    let memory = std::mem::size_of::<Session>() + heap;
    let stored = serde_json::to_vec(s).unwrap().len();
    println!(
        "  parked session     {memory} B in memory, {stored} B stored as JSON   (target ≤ 2 KB)"
    );
    println!(
        "                     ({} variables, {} nodes visited, {} ids remembered)",
        s.vars.len(),
        s.visits.len(),
        s.seen.len()
    );
}
