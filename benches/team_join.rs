//! A new desktop joining a team whose relay holds 100,000 contacts in 50 groups (50 imports of
//! 2,000 rows, each into its group, published by an admin desktop), and 1,000,000 customer
//! messages from 10,000 customers (each unknown number becomes a lead on apply: 10,000 leads).
//!
//! The relay runs as its own process (the `relay` binary on the prepared log), and the joining
//! desktop in a fresh process of its own, so the memory printed is the desktop's alone: it
//! connects with a token, catches up through the sync engine (the stream, frames, handlers) and
//! prints the time until it is usable (live at the log's head), events and rows per second, and its
//! peak memory. Issue 17's target: usable in ≤ 60 s on this machine, ≤ 300 MB.
//!
//! `cargo bench --bench team_join` (`TEAM_JOIN_MESSAGES=100000` for a shorter run)

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use crmconnect::contacts::GroupInput;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::relay::RelayConfig;
use crmconnect::relay::events::split_webhook;
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::engine::{SyncState, start_configured};
use support::{CONTACTS_HEADER, number, peak_rss_mb, signed_in_workspace};

const WS: &str = "team";
const GROUPS: u64 = 50;
const PER_GROUP: u64 = 2_000;
const CUSTOMERS: u64 = 10_000;

fn messages() -> u64 {
    std::env::var("TEAM_JOIN_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--join") {
        return join(&args[i + 1], &args[i + 2], &args[i + 3]).await;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("relay.db").display());
    let (token, head) = prepare(dir.path(), &db).await;

    // The relay, as its own process on the prepared log.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut relay = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["serve", "--database-url", &db, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the relay binary starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{url}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("the log: {head} events; the joining desktop, in a fresh process:");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--join")
        .arg(&url)
        .arg(&token)
        .arg(dir.path().join("joiner"))
        .output()
        .expect("the joining desktop runs");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let _ = relay.kill();
    let _ = relay.wait();
}

/// The relay's log: the admin desktop's groups and imports (published through an in-process
/// relay), then the customers' messages appended as Meta's webhooks are. Returns a token for the
/// joining desktop and the log's head.
async fn prepare(dir: &std::path::Path, db: &str) -> (String, i64) {
    let t = Instant::now();
    let config = RelayConfig {
        database_url: db.to_owned(),
        ..RelayConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = crmconnect::relay::start(config, listener).await.unwrap();
    let store = relay.state.log.store().clone();
    let issue = |staff: &str| {
        let store = store.clone();
        let staff = staff.to_owned();
        async move {
            tokens::issue(
                &store,
                TokenSpec {
                    workspace: WS.into(),
                    staff,
                    is_admin: true,
                    permissions: vec![],
                    label: "team_join bench".into(),
                    expires_at: None,
                },
            )
            .await
            .unwrap()
            .1
        }
    };
    let admin = Arc::new(signed_in_workspace(&dir.join("admin")).await);
    admin
        .cx()
        .set_relay(&relay.url(), Some(Sensitive::new(issue("admin").await)))
        .await
        .unwrap();
    let sync = start_configured(admin.clone()).await.unwrap().unwrap();
    for g in 0..GROUPS {
        let group = admin
            .cx()
            .create_group(GroupInput {
                name: format!("Group {g}"),
                description: String::new(),
            })
            .await
            .unwrap();
        let csv = dir.join(format!("group-{g}.csv"));
        {
            let mut w = BufWriter::new(std::fs::File::create(&csv).unwrap());
            writeln!(w, "{CONTACTS_HEADER}").unwrap();
            for i in g * PER_GROUP..(g + 1) * PER_GROUP {
                writeln!(
                    w,
                    "Person {i},{},Company {},\"{} Main St\",Springfield,NJ,US,joined in the benchmark",
                    number(i),
                    i % 997,
                    i % 1000
                )
                .unwrap();
            }
        }
        admin
            .cx()
            .import_contacts(
                &csv,
                ImportOptions {
                    group_ids: vec![group.id],
                    columns: None,
                },
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap();
    }
    while admin.outbox_len().await.unwrap() > 0 {
        sync.kick();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sync.stop().await;
    let contacts_head = store.head(WS).await.unwrap();

    // The customers' messages, 100 per webhook, as the relay splits and stores Meta's.
    let total = messages();
    let per_customer = total.div_ceil(CUSTOMERS);
    let mut n = 0u64;
    'customers: for c in 0..CUSTOMERS {
        let wa_id = number(900_000 + c).trim_start_matches('+').to_owned();
        let mut sent = 0;
        while sent < per_customer {
            let batch = (per_customer - sent).min(100);
            let msgs: Vec<serde_json::Value> = (0..batch)
                .map(|k| {
                    let id = format!("wamid.bench{c}x{}", sent + k);
                    serde_json::json!({"from": wa_id, "id": id, "timestamp": (1_765_000_000 + n + k).to_string(),
                        "type": "text", "text": {"body": format!("Message {} from customer {c}: is the offer still on?", sent + k)}})
                })
                .collect();
            let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
                "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": format!("Customer {c}")}, "wa_id": wa_id}],
                    "messages": msgs}}]}]});
            let events = split_webhook(body.to_string().as_bytes()).unwrap();
            relay.state.log.append(WS, events).await.unwrap();
            sent += batch;
            n += batch;
            if n >= total {
                break 'customers;
            }
        }
    }
    let head = store.head(WS).await.unwrap();
    let token = issue("joiner").await;
    relay.shutdown().await.unwrap();
    println!(
        "prepared in {:.0} s: {} contact and group events, {n} messages from {} customers",
        t.elapsed().as_secs_f64(),
        contacts_head,
        CUSTOMERS.min(n.div_ceil(per_customer))
    );
    (token, head)
}

/// The joining desktop: a fresh workspace, the relay's address and a token, then sync until it
/// is live at the log's head.
async fn join(url: &str, token: &str, dir: &str) {
    let ws = Arc::new(signed_in_workspace(std::path::Path::new(dir)).await);
    ws.cx()
        .set_relay(url, Some(Sensitive::new(token.to_owned())))
        .await
        .unwrap();
    let t = Instant::now();
    let sync = start_configured(ws.clone()).await.unwrap().unwrap();
    let mut first_live = None;
    loop {
        let s = sync.status();
        if s.state == SyncState::Live && s.head > 0 && s.cursor >= s.head {
            first_live.get_or_insert(t.elapsed());
            break;
        }
        if s.state == SyncState::Refused {
            eprintln!("refused: {:?}", s.last_error);
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let usable = first_live.unwrap();
    let head = sync.status().head;
    sync.stop().await;
    let contacts = ws.cx().contacts(Default::default()).await.unwrap().total;
    let groups = ws.cx().groups().await.unwrap().len();
    let leads = ws
        .cx()
        .leads(Default::default())
        .await
        .map(|p| p.total)
        .unwrap_or(-1);
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_conversations")
        .fetch_one(ws.db())
        .await
        .unwrap();
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_messages")
        .fetch_one(ws.db())
        .await
        .unwrap();
    let rows = contacts + messages + leads.max(0);
    println!(
        "  usable (live at event {head}) after {:.1} s: {:.0} events/s, {:.0} rows/s applied",
        usable.as_secs_f64(),
        head as f64 / usable.as_secs_f64(),
        rows as f64 / usable.as_secs_f64()
    );
    println!(
        "  holds {contacts} contacts in {groups} groups, {leads} leads, {conversations} conversations, {messages} messages"
    );
    println!(
        "  peak memory {:.0} MB (target: usable in ≤ 60 s, ≤ 300 MB)",
        peak_rss_mb()
    );
}
