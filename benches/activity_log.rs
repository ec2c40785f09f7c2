//! Activity log at scale: fills a workspace with 1,000,000 entries, then times the pages the
//! Activity Log screen asks for. Run with `cargo bench --bench activity_log`; prints its figures.
//!
//! Baseline in the same run: the same first and deep pages fetched the naive way
//! (`ORDER BY id DESC LIMIT … OFFSET …`), which is what a list without keyset paging would do.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use crmconnect::audit::{LogCursor, LogFilter};
use crmconnect::screens::Screen;

const ENTRIES: i64 = 1_000_000;
const RUNS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn time<F, Fut>(label: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut samples = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        rows = f().await;
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "{label:<44} rows {rows:>4}   p50 {:>8.3} ms   p99 {:>8.3} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = support::signed_in_workspace(dir.path()).await;

    // Fixture: 1M entries over 400 days, 50 staff, every sub-module, 1% denied.
    let t = Instant::now();
    let start = crmconnect::now_ms() - 400 * 86_400_000;
    let modules = serde_json::to_string(&Screen::ALL.map(|s| s.key())).expect("json");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO activity_log (at, staff_id, staff_name, module, action, target, outcome, detail)
         SELECT ?2 + i * 34560, 100 + i % 50, 'Staff ' || (i % 50),
                json_extract(?3, '$[' || (i % ?4) || ']'),
                'thing.update', 'thing #' || i, CASE WHEN i % 100 = 0 THEN 'denied' ELSE 'ok' END, NULL
         FROM n",
    )
    .bind(ENTRIES)
    .bind(start)
    .bind(&modules)
    .bind(Screen::ALL.len() as i64)
    .execute(ws.db())
    .await
    .expect("fill");
    sqlx::query("ANALYZE")
        .execute(ws.db())
        .await
        .expect("analyze");
    println!(
        "filled {ENTRIES} entries in {:.1} s\n",
        t.elapsed().as_secs_f64()
    );

    let page = |f: LogFilter| {
        let ws = &ws;
        async move { ws.cx().activity_log(f).await.expect("page").entries.len() }
    };
    let mid = start + (ENTRIES / 2) * 34560;
    time("first page, no filter", || page(LogFilter::default())).await;
    time("first page, one staff member (2% of rows)", || {
        page(LogFilter {
            staff_id: Some(117),
            ..Default::default()
        })
    })
    .await;
    time("first page, one sub-module", || {
        page(LogFilter {
            module: Some(Screen::Campaigns),
            ..Default::default()
        })
    })
    .await;
    time("first page, a one-day range 200 days back", || {
        page(LogFilter {
            from_ms: Some(mid),
            to_ms: Some(mid + 86_400_000),
            ..Default::default()
        })
    })
    .await;
    time("staff + sub-module + 30-day range", || {
        page(LogFilter {
            staff_id: Some(117),
            module: Some(Screen::Campaigns),
            from_ms: Some(mid - 30 * 86_400_000),
            to_ms: Some(mid),
            ..Default::default()
        })
    })
    .await;
    time("page at entry 500,000 (keyset cursor)", || {
        page(LogFilter {
            after: Some(LogCursor {
                at: mid,
                id: ENTRIES / 2,
            }),
            ..Default::default()
        })
    })
    .await;

    println!("\nbaseline (OFFSET paging):");
    let db = ws.db();
    for (label, offset) in [("first page", 0), ("page at entry 500,000", ENTRIES / 2)] {
        time(
            &format!("  {label}, ORDER BY id DESC OFFSET"),
            || async move {
                sqlx::query("SELECT * FROM activity_log ORDER BY id DESC LIMIT 100 OFFSET ?")
                    .bind(offset)
                    .fetch_all(db)
                    .await
                    .expect("offset page")
                    .len()
            },
        )
        .await;
    }
}
