//! A teammate's import reaching this desktop: a 1,000,000-row CSV imported on desktop A (one
//! group for every row) becomes a few dozen `contacts.imported` events; desktop B, fresh, applies
//! them through the same path the sync engine uses (`apply_synced`, in frames of 100 events), and
//! A applies them again as they come back from the relay (its own rows confirmed). Prints the
//! events and their bytes, rows/s of each apply, and the process's peak memory during B's, with A's
//! own import in the same run as the baseline. Issue 17's target: B applies ≥ 200,000 rows/s.
//!
//! `cargo bench --bench team_import`

use std::io::{BufWriter, Write};
use std::time::Instant;

#[path = "support/mod.rs"]
mod support;

use crmconnect::contacts::GroupInput;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::relay::events::{ReceivedEvent, Source};
use support::{CONTACTS_HEADER, number, peak_rss_mb, signed_in_workspace};

const ROWS: u64 = 1_000_000;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv_path = dir.path().join("contacts.csv");
    {
        let mut w = BufWriter::new(std::fs::File::create(&csv_path).expect("csv"));
        writeln!(w, "{CONTACTS_HEADER}").unwrap();
        for i in 0..ROWS {
            writeln!(
                w,
                "Person {i},{},Company {},\"{} Main St\",Springfield,NJ,US,imported in the benchmark",
                number(i),
                i % 997,
                i % 1000,
            )
            .unwrap();
        }
    }

    let a = signed_in_workspace(&dir.path().join("a")).await;
    let group = a
        .cx()
        .create_group(GroupInput {
            name: "Fair".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let t = Instant::now();
    let report = a
        .cx()
        .import_contacts(
            &csv_path,
            ImportOptions {
                group_ids: vec![group.id],
                columns: None,
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .expect("import");
    let import_s = t.elapsed().as_secs_f64();
    assert_eq!(report.imported, ROWS);

    // What A's sync engine would publish, as the relay would stream it back.
    let outbox = a.outbox(100_000).await.unwrap();
    let now = crmconnect::now_ms();
    let mut bytes = 0;
    let events: Vec<ReceivedEvent> = outbox
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let payload = e.event.payload.to_string();
            bytes += payload.len();
            ReceivedEvent {
                seq: i as i64 + 1,
                key: format!("desktop:{}", e.event.id),
                kind: e.event.kind.clone(),
                source: Source::Desktop,
                staff: Some("alice".into()),
                received_at: now,
                field: None,
                waba_id: None,
                phone_number_id: None,
                message_id: None,
                customer: None,
                message_type: None,
                status: None,
                template_id: None,
                error_codes: Vec::new(),
                timestamp: None,
                raw: serde_json::value::RawValue::from_string(payload).unwrap(),
            }
        })
        .collect();
    let parts = events
        .iter()
        .filter(|e| e.kind == "contacts.imported")
        .count();
    println!(
        "A imported {ROWS} rows with 1 group in {import_s:.2} s ({:.0} rows/s): {parts} contacts.imported events, \
         {:.1} MB of payloads in all ({} events with the group's)",
        ROWS as f64 / import_s,
        bytes as f64 / 1e6,
        events.len()
    );

    let b = signed_in_workspace(&dir.path().join("b")).await;
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = peak_rss_mb();
    let t = Instant::now();
    for frame in events.chunks(100) {
        b.apply_synced(frame).await.expect("B applies");
    }
    let b_s = t.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let count = b.cx().contacts(Default::default()).await.unwrap().total;
    assert_eq!(count as u64, ROWS, "B has every row");

    let t = Instant::now();
    for frame in events.chunks(100) {
        a.apply_synced(frame).await.expect("A applies its own");
    }
    let a_s = t.elapsed().as_secs_f64();
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE seq IS NULL")
        .fetch_one(a.db())
        .await
        .unwrap();
    assert_eq!(pending, 0, "A's rows are all confirmed");

    println!(
        "B (a teammate) applied them in {b_s:.2} s: {:.0} rows/s (target ≥ 200,000); peak memory \
         {peak:.0} MB ({before:.0} MB before)",
        ROWS as f64 / b_s
    );
    println!(
        "A (the importer) applied its own back in {a_s:.2} s: {:.0} rows/s; its import took \
         {import_s:.2} s in the same run",
        ROWS as f64 / a_s
    );
}
