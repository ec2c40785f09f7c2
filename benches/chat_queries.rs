//! Chat at scale: 1,000,000 messages in 50,000 conversations, one of them 100,000 messages long.
//! Times what the Chat screen asks for, through the core's own functions (permission check
//! included): the first page of the conversation list, the newest page of the long thread, an
//! older page deep in it, and a full-text search. Run with `cargo bench --bench chat_queries`.
//!
//! Baseline in the same run: the same search done as a `LIKE '%word%'` scan, which is what the
//! message table would cost without the FTS5 index. Targets: list ≤ 10 ms, thread page ≤ 5 ms,
//! search ≤ 50 ms.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use crmconnect::chat::ConversationFilter;

const CONVERSATIONS: i64 = 50_000;
const MESSAGES: i64 = 1_000_000;
const LONG_THREAD: i64 = 100_000;
const RUNS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn time<F, Fut>(label: &str, runs: usize, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        rows = f().await;
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "{label:<48} rows {rows:>4}   p50 {:>8.3} ms   p99 {:>8.3} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = support::signed_in_workspace(dir.path()).await;

    // Fixture, written straight into the chat's tables (the FTS index is kept by its triggers).
    let t = Instant::now();
    let start = crmconnect::now_ms() - 365 * 86_400_000;
    let mut tx = ws.db().begin().await.expect("tx");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO chat_conversations (id, customer, phone_number_id, customer_name, lead_id,
             assigned_username, assigned_name, last_activity_at, last_preview, unread,
             last_inbound_at, created_at)
         SELECT i, '+40720' || printf('%06d', i), 'PN' || (i % 2), 'Customer ' || i, i,
                CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'owner' ELSE 'maria' END,
                CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'Owner' ELSE 'Maria' END,
                ?2 + i * 600, 'Last message of ' || i, CASE WHEN i % 20 = 0 THEN 1 + i % 4 ELSE 0 END,
                ?2 + i * 600, ?2
         FROM n",
    )
    .bind(CONVERSATIONS)
    .bind(start)
    .execute(&mut *tx)
    .await
    .expect("conversations");
    // Words from a small vocabulary; "invoice" is in one message of 50.
    let words = serde_json::json!([
        "hello",
        "price",
        "delivery",
        "tomorrow",
        "thanks",
        "order",
        "roof",
        "window",
        "kitchen",
        "quote",
        "meeting",
        "address",
        "payment",
        "discount",
        "available",
        "size",
        "colour",
        "warranty",
        "install",
        "schedule",
        "call",
        "email",
        "photo",
        "model",
        "stock",
        "monday",
        "friday",
        "offer",
        "contract",
        "question",
        "problem",
        "repair",
        "service",
        "team",
        "visit",
        "morning",
        "evening",
        "budget",
        "catalogue",
        "sample",
        "material",
        "garden",
        "door",
        "floor",
        "paint",
        "tiles",
        "measure",
        "weekend",
        "urgent",
        "invoice"
    ])
    .to_string();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO chat_messages (id, conversation_id, wamid, direction, kind, body, content,
             sent_at, local_status)
         SELECT i,
                CASE WHEN i <= ?2 THEN 1 ELSE 2 + (i - ?2) % (?3 - 1) END,
                'wamid.B' || i,
                CASE i % 2 WHEN 0 THEN 'in' ELSE 'out' END,
                'text',
                'Message ' || i || ' about the ' || json_extract(?4, '$[' || (i % 50) || ']')
                    || ' and the ' || json_extract(?4, '$[' || ((i / 50) % 49) || ']'),
                json_object('type', 'text', 'body', 'Message ' || i),
                ?5 + i * 30,
                'accepted'
         FROM n",
    )
    .bind(MESSAGES)
    .bind(LONG_THREAD)
    .bind(CONVERSATIONS)
    .bind(&words)
    .bind(start)
    .execute(&mut *tx)
    .await
    .expect("messages");
    sqlx::query(
        "INSERT INTO chat_statuses (wamid, rank, status, at)
         SELECT wamid, 2, 'delivered', sent_at FROM chat_messages WHERE direction = 'out' AND id % 3 = 0",
    )
    .execute(&mut *tx)
    .await
    .expect("statuses");
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE")
        .execute(ws.db())
        .await
        .expect("analyze");
    println!(
        "fixture: {CONVERSATIONS} conversations, {MESSAGES} messages ({LONG_THREAD} in one thread), built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    time("conversation list, first page (50)", RUNS, || async {
        ws.cx()
            .conversations(ConversationFilter::default())
            .await
            .expect("list")
            .items
            .len()
    })
    .await;
    time(
        "conversation list, first page of \"mine\"",
        RUNS,
        || async {
            ws.cx()
                .conversations(ConversationFilter {
                    view: crmconnect::chat::ConversationView::Mine,
                    ..Default::default()
                })
                .await
                .expect("list")
                .items
                .len()
        },
    )
    .await;
    let page = ws
        .cx()
        .conversations(ConversationFilter::default())
        .await
        .expect("list");
    let deep = page.next.expect("more pages");
    time("conversation list, second page (keyset)", RUNS, || async {
        ws.cx()
            .conversations(ConversationFilter {
                after: Some(deep),
                ..Default::default()
            })
            .await
            .expect("list")
            .items
            .len()
    })
    .await;
    time(
        "thread of 100,000 messages, newest page (50)",
        RUNS,
        || async {
            ws.cx()
                .thread(1, None, None)
                .await
                .expect("thread")
                .messages
                .len()
        },
    )
    .await;
    time(
        "thread of 100,000 messages, page at 50,000",
        RUNS,
        || async {
            ws.cx()
                .thread(1, Some(50_000), None)
                .await
                .expect("thread")
                .messages
                .len()
        },
    )
    .await;
    time(
        "FTS search \"invoice\" (newest 50 of 20,000)",
        RUNS,
        || async {
            ws.cx()
                .search_messages("invoice", None)
                .await
                .expect("search")
                .len()
        },
    )
    .await;
    time("FTS search \"roof repair\" (two words)", RUNS, || async {
        ws.cx()
            .search_messages("roof repair", None)
            .await
            .expect("search")
            .len()
    })
    .await;
    time(
        "FTS search \"message 99999\" (rare, prefix)",
        RUNS,
        || async {
            ws.cx()
                .search_messages("message 99999", None)
                .await
                .expect("search")
                .len()
        },
    )
    .await;
    time("baseline: LIKE '%invoice%' scan, newest 50", 20, || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM chat_messages WHERE body LIKE '%invoice%' ORDER BY id DESC LIMIT 50",
        )
        .fetch_all(ws.db())
        .await
        .expect("like")
        .len()
    })
    .await;
    time("baseline: LIKE '%message 99999%' scan (rare)", 20, || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM chat_messages WHERE body LIKE '%message 99999%' ORDER BY id DESC LIMIT 50",
        )
        .fetch_all(ws.db())
        .await
        .expect("like")
        .len()
    })
    .await;
    time(
        "baseline: LIKE '%roof%repair%' scan, newest 50",
        20,
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM chat_messages WHERE body LIKE '%roof%' AND body LIKE '%repair%'
             ORDER BY id DESC LIMIT 50",
            )
            .fetch_all(ws.db())
            .await
            .expect("like")
            .len()
        },
    )
    .await;
}
