//! Relay throughput and latency: signed webhooks driven into a relay with 100 desktops connected
//! over WebSocket, against a bare axum endpoint that does nothing, in the same run.
//!
//! `cargo bench --bench relay_throughput` (SQLite; PostgreSQL too when
//! `CRMCONNECT_BENCH_POSTGRES=postgres://…/` names a server whose role may create databases).
//!
//! Prints, for each store:
//! - events/s: 1-event webhooks sent as fast as 256 connections allow (hyper's bare HTTP/1.1
//!   client, connections opened before the clock starts), until all 100 clients have the last one;
//! - p50 / p99 ingest-to-client latency at 5,000 events/s: from just before the webhook is POSTed
//!   to the moment a client has the event (measured on one client that parses every frame; the
//!   other 99 decompress every frame and check only that they reached the last event);
//! - the bytes each client receives per event (the desktops ask for LZ4-compressed frames), and
//!   how many frames each got during the burst;
//! - the CPU the whole process used per event during the burst: the relay, but also the load
//!   generator and the 100 clients, which share the same cores here;
//!
//! and for the bare endpoint: requests/s, p50 / p99 request round trip at 5,000/s, and CPU per
//! request. `BENCH_CLIENTS=n` changes the number of clients; `BENCH_COMMIT_WINDOW_US=n` the
//! relay's `limits.commit_window_us`; `BENCH_VERBOSE=1` adds the relay's commit metrics.

/// The relay binary's allocator (see src/bin/relay.rs), so that the relay is measured as it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crmconnect::meta::signature;
use crmconnect::relay::config::WorkspaceConfig;
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::relay::{RelayConfig, RelayHandle};
use crmconnect::sensitive::Sensitive;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &str = "bench-secret";
fn clients() -> usize {
    std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}
/// The relay's `limits.commit_window_us`: its default unless `BENCH_COMMIT_WINDOW_US` is set.
fn commit_window_us() -> u64 {
    std::env::var("BENCH_COMMIT_WINDOW_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RelayConfig::default().limits.commit_window_us)
}
const CONCURRENCY: usize = 256;
const BURST_EVENTS: u64 = 60_000;
const RATE: u64 = 5_000;
const RATE_SECONDS: u64 = 6;

fn webhook(n: u64) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"statuses":[{{"id":"wamid.bench{n}","status":"delivered","timestamp":"1749416383","recipient_id":"16505551234"}}]}}}}]}}]}}"#
    )
}

struct Shared {
    start: Instant,
    /// Nanoseconds after `start` at which event n was sent.
    sent: Vec<AtomicU64>,
    latencies: std::sync::Mutex<Vec<u64>>,
    /// The last sequence number each client has.
    reached: Vec<AtomicI64>,
    /// What the probe client received: bytes on the wire, and the same frames as text.
    wire_bytes: AtomicU64,
    text_bytes: AtomicU64,
    /// Event frames the probe client received.
    frames: AtomicU64,
}

/// CPU seconds this process has used (user + system), from /proc/self/stat (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// `cpu` seconds used over `secs`, per item and as a share of the machine's cores.
fn cpu_line(cpu: f64, secs: f64, items: u64, what: &str) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    format!(
        "CPU (the whole process: server, load generator and clients): {:.0} µs per {what}, {:.0}% of {cores} cores",
        cpu * 1e6 / items as f64,
        cpu / secs / cores * 100.0
    )
}

fn now_ns(s: &Shared) -> u64 {
    s.start.elapsed().as_nanos() as u64
}

async fn start_relay(url: &str) -> (RelayHandle, Vec<String>) {
    let mut config = RelayConfig {
        database_url: url.into(),
        ..RelayConfig::default()
    };
    config.limits.commit_window_us = commit_window_us();
    config.workspaces.insert(
        "bench".into(),
        WorkspaceConfig {
            app_secret: Sensitive::new(SECRET.into()),
            verify_token: Sensitive::new("v".into()),
            waba_id: None,
            phone_number_ids: vec![],
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = crmconnect::relay::start(config, listener).await.unwrap();
    let mut tokens_ = Vec::new();
    for i in 0..clients() {
        let (_, t) = tokens::issue(
            relay.state.log.store(),
            TokenSpec {
                workspace: "bench".into(),
                staff: format!("desk{i}"),
                is_admin: true,
                permissions: vec![],
                label: String::new(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
        tokens_.push(t);
    }
    (relay, tokens_)
}

async fn connect_clients(relay: &RelayHandle, tokens_: &[String], shared: Arc<Shared>) {
    for (i, token) in tokens_.iter().enumerate() {
        let mut req = format!("{}/v1/stream?after=0&compress=lz4", relay.ws_url())
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4 * 1024);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), false)
            .await
            .unwrap();
        let shared = shared.clone();
        tokio::spawn(async move {
            // One buffer per client for the decompressed frames, as a desktop's reader keeps.
            let mut buf = Vec::new();
            while let Some(Ok(msg)) = ws.next().await {
                // Every client decompresses every frame, as a desktop does.
                let (wire, buf) = match &msg {
                    Message::Binary(b) => (
                        b.len(),
                        crmconnect::relay::log::decompress_into(b, &mut buf).unwrap(),
                    ),
                    Message::Text(t) => (t.len(), t.as_bytes()),
                    _ => continue,
                };
                if i == 0 {
                    shared.wire_bytes.fetch_add(wire as u64, Ordering::Relaxed);
                    shared
                        .text_bytes
                        .fetch_add(buf.len() as u64, Ordering::Relaxed);
                }
                if !buf.starts_with(br#"{"type":"events""#) {
                    continue;
                }
                if i == 0 {
                    shared.frames.fetch_add(1, Ordering::Relaxed);
                    // The probe: every event's latency, from the frame parsed as text.
                    let at = now_ns(&shared);
                    let mut rest = std::str::from_utf8(buf).unwrap();
                    let mut lat = Vec::new();
                    const ID: &str = r#""message_id":"wamid.bench"#;
                    while let Some(p) = rest.find(ID) {
                        rest = &rest[p + ID.len()..];
                        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
                        let n: usize = rest[..end].parse().unwrap();
                        let sent = shared.sent[n].load(Ordering::Relaxed);
                        lat.push(at.saturating_sub(sent));
                    }
                    shared.latencies.lock().unwrap().extend(lat);
                }
                // The last event's sequence number: `{"seq":N,` nearest the end.
                const SEQ: &[u8] = br#"{"seq":"#;
                if let Some(p) = buf.windows(SEQ.len()).rposition(|w| w == SEQ) {
                    let tail = &buf[p + SEQ.len()..];
                    let end = tail.iter().position(|&c| c == b',').unwrap();
                    let seq: i64 = std::str::from_utf8(&tail[..end]).unwrap().parse().unwrap();
                    shared.reached[i].store(seq, Ordering::Relaxed);
                }
            }
        });
    }
}

/// The load generator: `CONCURRENCY` HTTP/1.1 connections, each hyper's bare client connection
/// (no pool, no redirect or header machinery), so that its own work, which shares the two cores
/// with what is measured, stays small. One request at a time on each connection.
struct LoadGen {
    host: String,
    path: String,
    conns: std::sync::Mutex<Vec<Sender>>,
    /// As many permits as connections: a permit guarantees a free connection.
    slots: tokio::sync::Semaphore,
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

impl LoadGen {
    /// Opens the connections to `url` (`http://host:port/path`).
    async fn connect(url: &str) -> Arc<LoadGen> {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut conns = Vec::with_capacity(CONCURRENCY);
        for _ in 0..CONCURRENCY {
            let tcp = tokio::net::TcpStream::connect(host).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let (send, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            conns.push(send);
        }
        Arc::new(LoadGen {
            host: host.into(),
            path: path.into(),
            conns: std::sync::Mutex::new(conns),
            slots: tokio::sync::Semaphore::new(CONCURRENCY),
        })
    }

    /// A free connection (waits for one), to give back with [`LoadGen::give_back`].
    async fn take(&self) -> (Sender, tokio::sync::SemaphorePermit<'_>) {
        let permit = self.slots.acquire().await.unwrap();
        (self.conns.lock().unwrap().pop().unwrap(), permit)
    }

    fn give_back(&self, conn: Sender) {
        self.conns.lock().unwrap().push(conn);
    }

    /// POSTs `body`, signed, and checks that the answer is 200.
    async fn post(&self, conn: &mut Sender, body: String) {
        use http_body_util::BodyExt;
        let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
        let req = hyper::Request::post(self.path.as_str())
            .header(hyper::header::HOST, self.host.as_str())
            .header(signature::HEADER, sig)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap();
        conn.ready().await.unwrap();
        let r = conn.send_request(req).await.unwrap();
        assert_eq!(r.status(), 200);
        r.into_body().collect().await.unwrap();
    }
}

/// Sends webhooks `from..to` on every connection as fast as possible.
async fn burst(load: &Arc<LoadGen>, shared: Arc<Shared>, from: u64, to: u64) {
    let next = Arc::new(AtomicU64::new(from));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (load, shared, next) = (load.clone(), shared.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut conn, _permit) = load.take().await;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    break;
                }
                shared.sent[n as usize].store(now_ns(&shared), Ordering::Relaxed);
                load.post(&mut conn, webhook(n)).await;
            }
            load.give_back(conn);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Sends webhooks `from..from+rate*seconds` at `rate` per second; returns round-trip times (ns).
async fn paced(
    load: &Arc<LoadGen>,
    shared: Arc<Shared>,
    from: u64,
    rate: u64,
    seconds: u64,
) -> Vec<u64> {
    let total = rate * seconds;
    let rtts = Arc::new(std::sync::Mutex::new(Vec::with_capacity(total as usize)));
    // At most `CONCURRENCY` requests in flight; a request that waits for a connection counts its
    // wait (it is timed from when it was due, so a slow server cannot hide its queue).
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let begin = Instant::now();
    let mut sent = 0u64;
    let mut tasks = Vec::new();
    while sent < total {
        tick.tick().await;
        let due = ((begin.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            let n = from + sent;
            sent += 1;
            let (load, shared, rtts) = (load.clone(), shared.clone(), rtts.clone());
            tasks.push(tokio::spawn(async move {
                let t0 = now_ns(&shared);
                shared.sent[n as usize].store(t0, Ordering::Relaxed);
                let (mut conn, permit) = load.take().await;
                load.post(&mut conn, webhook(n)).await;
                load.give_back(conn);
                drop(permit);
                rtts.lock().unwrap().push(now_ns(&shared) - t0);
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(rtts).unwrap().into_inner().unwrap()
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i] as f64 / 1e6
}

async fn wait_all(shared: &Shared, seq: i64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while shared
        .reached
        .iter()
        .any(|r| r.load(Ordering::Relaxed) < seq)
    {
        assert!(Instant::now() < deadline, "clients never reached {seq}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn bench_relay(label: &str, url: &str) {
    let (relay, tokens_) = start_relay(url).await;
    let total = BURST_EVENTS + RATE * RATE_SECONDS;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent: (0..total).map(|_| AtomicU64::new(0)).collect(),
        latencies: Default::default(),
        reached: (0..clients()).map(|_| AtomicI64::new(0)).collect(),
        wire_bytes: AtomicU64::new(0),
        text_bytes: AtomicU64::new(0),
        frames: AtomicU64::new(0),
    });
    connect_clients(&relay, &tokens_, shared.clone()).await;
    let load = LoadGen::connect(&format!("{}/webhook/bench", relay.url())).await;

    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    burst(&load, shared.clone(), 0, BURST_EVENTS).await;
    wait_all(&shared, BURST_EVENTS as i64).await;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let eps = BURST_EVENTS as f64 / secs;
    if std::env::var("BENCH_VERBOSE").is_ok() {
        for l in relay.state.metrics.render().lines() {
            if l.contains("_sum") || l.contains("_count") {
                println!("  {l}");
            }
        }
    }

    let burst_frames = shared.frames.load(Ordering::Relaxed);
    shared.latencies.lock().unwrap().clear();
    paced(&load, shared.clone(), BURST_EVENTS, RATE, RATE_SECONDS).await;
    wait_all(&shared, total as i64).await;
    let mut lat = std::mem::take(&mut *shared.latencies.lock().unwrap());
    println!(
        "relay ({label}), {} clients: {eps:>8.0} events/s ({BURST_EVENTS} in {secs:.2} s); at {RATE}/s: p50 {:.2} ms, p99 {:.2} ms ingest-to-client ({} samples)",
        clients(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        lat.len()
    );
    println!("  {}", cpu_line(cpu, secs, BURST_EVENTS, "event"));
    println!(
        "  frames to each client during the burst: {burst_frames} ({:.0} events per frame)",
        BURST_EVENTS as f64 / burst_frames.max(1) as f64
    );
    println!(
        "  on the wire to each client: {:.0} bytes/event, LZ4-compressed ({:.0} bytes/event as text)",
        shared.wire_bytes.load(Ordering::Relaxed) as f64 / total as f64,
        shared.text_bytes.load(Ordering::Relaxed) as f64 / total as f64,
    );
    relay.shutdown().await.unwrap();
}

async fn bench_bare() {
    let app = axum::Router::new().route(
        "/webhook/bench",
        axum::routing::post(|_body: axum::body::Bytes| async { "" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let load = LoadGen::connect(&format!("http://{addr}/webhook/bench")).await;
    let total = BURST_EVENTS + RATE * RATE_SECONDS;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent: (0..total).map(|_| AtomicU64::new(0)).collect(),
        latencies: Default::default(),
        reached: vec![],
        wire_bytes: AtomicU64::new(0),
        text_bytes: AtomicU64::new(0),
        frames: AtomicU64::new(0),
    });
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    burst(&load, shared.clone(), 0, BURST_EVENTS).await;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let mut rtt = paced(&load, shared, BURST_EVENTS, RATE, RATE_SECONDS).await;
    println!(
        "bare axum endpoint:         {:>8.0} requests/s ({BURST_EVENTS} in {secs:.2} s); at {RATE}/s: p50 {:.2} ms, p99 {:.2} ms round trip",
        BURST_EVENTS as f64 / secs,
        pct(&mut rtt, 0.5),
        pct(&mut rtt, 0.99),
    );
    println!("  {}", cpu_line(cpu, secs, BURST_EVENTS, "request"));
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes harness-less benches
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "relay benchmark: 1-event signed webhooks, {CONCURRENCY} connections; {} cores; commit window {} µs",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            commit_window_us()
        );
        bench_bare().await;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("relay.db").display());
        bench_relay("SQLite", &url).await;
        if let Ok(server) = std::env::var("CRMCONNECT_BENCH_POSTGRES") {
            use sqlx::Connection;
            // `postgres://user:pass@host:port` or, for a Unix socket,
            // `postgres://user@localhost?host=/var/run/postgresql`: the database goes before `?`.
            let (server, query) = server.split_once('?').unwrap_or((&server, ""));
            let server = server.trim_end_matches('/');
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            let name = format!("relay_bench_{}", fastrand::u32(..));
            let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres{query}"))
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            let label = if query.contains("host=/") {
                "PostgreSQL, Unix socket"
            } else {
                "PostgreSQL, TCP"
            };
            bench_relay(label, &format!("{server}/{name}{query}")).await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
        }
    });
}
