//! CSV import at scale: a generated 1,000,000-row file (10% numbers already in the directory,
//! 2% invalid) imported into a fresh workspace, with two groups chosen. Prints rows/s, the
//! process's peak memory, and — in the same run — the time the `sqlite3` shell's `.import` takes
//! for the same file into a bare table without any checks (the baseline).
//!
//! `cargo bench --bench csv_import` (needs the `sqlite3` shell; scripts/test installs it).

use std::io::{BufWriter, Write};
use std::time::Instant;

use crmconnect::Workspaces;
use crmconnect::contacts::GroupInput;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::staff::NewStaff;
use crmconnect::workspace::WorkspaceKind;

const ROWS: u64 = 1_000_000;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system, all threads) the process has used so far.
fn cpu_seconds() -> f64 {
    // /proc/self/stat: fields 14 and 15 (utime, stime) in clock ticks of 1/100 s; the name in
    // field 2 is in parentheses and may hold spaces, so count from after it.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn number(i: u64) -> String {
    // Valid US numbers: 201-555-0100 … spread over area codes that exist.
    let area = [201, 212, 305, 312, 415, 503, 617, 702, 808, 917][(i % 10) as usize];
    format!("+1{area}{:07}", 2_000_000 + i / 10)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv_path = dir.path().join("contacts.csv");
    {
        let mut w = BufWriter::new(std::fs::File::create(&csv_path).expect("csv"));
        writeln!(
            w,
            "name,phonenumber,company_name,address,city,state,country,description"
        )
        .unwrap();
        for i in 0..ROWS {
            let phone = if i % 50 == 7 {
                format!("12{i}x")
            } else {
                number(i)
            }; // 2% invalid
            writeln!(
                w,
                "Person {i},{phone},Company {},\"{} Main St, Suite {}\",Springfield,NJ,US,imported in the benchmark",
                i % 997,
                i % 1000,
                i % 50
            )
            .unwrap();
        }
    }
    let size_mb = std::fs::metadata(&csv_path).unwrap().len() as f64 / 1e6;

    let ws = Workspaces::new(dir.path().join("data"))
        .create("bench", "Bench", WorkspaceKind::Sandbox)
        .await
        .expect("workspace");
    ws.create_owner(NewStaff {
        name: "Owner".into(),
        username: "owner".into(),
        role_id: 0,
        passphrase: "bench passphrase".into(),
    })
    .await
    .unwrap();
    ws.sign_in("owner", "bench passphrase".into())
        .await
        .unwrap();
    let g1 = ws
        .create_group(GroupInput {
            name: "Fair".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let g2 = ws
        .create_group(GroupInput {
            name: "Newsletter".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    // 10% of the file's numbers are already in the directory: rows i with i % 10 == 3, whose
    // number is +1 312 (2,000,000 + i/10) — built by SQLite itself, so the set-up adds no memory.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 10 FROM n WHERE i + 10 < ?1)
         INSERT INTO contacts (phone, name, created_at, updated_at)
         SELECT '+1312' || printf('%07d', 2000000 + i / 10), 'Existing ' || i, 0, 0 FROM n",
    )
    .bind(ROWS as i64)
    .execute(ws.db())
    .await
    .unwrap();
    let rss_before = peak_rss_mb();

    let cpu = cpu_seconds();
    let t = Instant::now();
    let report = ws
        .import_contacts(
            &csv_path,
            ImportOptions {
                group_ids: vec![g1.id, g2.id],
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .expect("import");
    let ours = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;

    // Baseline: sqlite3's own .import of the same file into a bare table, no checks.
    let bare = dir.path().join("bare.db");
    let t = Instant::now();
    let status = std::process::Command::new("sqlite3")
        .arg(&bare)
        .arg("-cmd")
        .arg("CREATE TABLE c (name, phonenumber, company_name, address, city, state, country, description)")
        .arg(format!(".import --csv --skip 1 {} c", csv_path.display()))
        .status();
    let baseline = t.elapsed().as_secs_f64();

    println!("file: {ROWS} rows, {size_mb:.0} MB (10% existing numbers, 2% invalid)");
    println!(
        "import: {ours:.2} s, {:.0} rows/s — {} new, {} existing given 2 groups, {} refused",
        ROWS as f64 / ours,
        report.imported,
        report.existing,
        report.refused
    );
    println!(
        "CPU time of the import: {cpu:.2} s on all threads ({:.1} cores busy)",
        cpu / ours
    );
    println!(
        "peak memory of the process: {:.0} MB (before the import: {rss_before:.0} MB)",
        peak_rss_mb()
    );
    match status {
        Ok(s) if s.success() => println!(
            "baseline sqlite3 .import (bare table, no checks): {baseline:.2} s — ours is {:.2}× that",
            ours / baseline
        ),
        other => println!("baseline sqlite3 .import could not run: {other:?}"),
    }
}
