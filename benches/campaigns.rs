//! Campaigns (issue 23), against the embedded sandbox: planning 100,000 recipients (the group's
//! members read, each one's template rendered, the rows and their events written) — target
//! ≤ 0.5 s; and the dispatcher sending 20,000 of them at a budget of 1,000 messages/s — target:
//! it sustains it — with the CPU the whole process (app, relay and sandbox together) spends per
//! message, and what the sandbox's meter saw (the most in any one second, calls over the rate).
//! The second plan of the same audience shows the cost with the pages already cached.
//! Run with `cargo bench --bench campaigns` (BENCH_PLAN, BENCH_SEND to change the sizes).

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crmconnect::Workspaces;
use crmconnect::campaigns::{Audience, CampaignInput, CampaignStatus, DispatchTuning};
use crmconnect::contacts::GroupInput;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::SandboxConfig;
use crmconnect::staff::NewStaff;
use crmconnect::templates::{Binding, Source};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time this process has used (user + system), from /proc/self/stat.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

async fn group_of(
    ws: &crmconnect::Workspace,
    root: &std::path::Path,
    name: &str,
    n: usize,
    base: usize,
) -> i64 {
    let cx = ws.cx();
    let g = cx
        .create_group(GroupInput {
            name: name.into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let mut csv = String::from("name,phonenumber\n");
    for i in 0..n {
        csv.push_str(&format!("Client{i} Ionescu,+4072{:07}\n", base + i));
    }
    let file = root.join(format!("{name}.csv"));
    std::fs::write(&file, csv).unwrap();
    let report = cx
        .import_contacts(
            &file,
            ImportOptions {
                group_ids: vec![g.id],
                columns: Some(vec!["name".into(), "phonenumber".into()]),
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.imported, n as u64);
    g.id
}

fn main() {
    let plan_n = env("BENCH_PLAN", 100_000);
    let send_n = env("BENCH_SEND", 20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let ws = Arc::new(
            Workspaces::new(dir.path())
                .open_or_create_sandbox(None)
                .await
                .unwrap(),
        );
        ws.create_owner(NewStaff {
            name: "Owner".into(),
            username: "owner".into(),
            role_id: 0,
            passphrase: "bench passphrase".into(),
        })
        .await
        .unwrap();
        ws.sign_in("owner", "bench passphrase".into()).await.unwrap();
        let runtime = Runtime::start(
            ws.clone(),
            RuntimeOptions {
                sandbox: SandboxConfig {
                    throughput_mps: 2000,
                    pair_burst: 1_000_000,
                    delivery_delay: Duration::from_millis(20),
                    read_delay: Duration::from_millis(20),
                    template_approval_delay: Duration::ZERO,
                    ..SandboxConfig::default()
                },
            },
        )
        .await
        .unwrap();
        let cx = ws.cx();
        let template = cx
            .sync_templates()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == "sample_issue_resolution")
            .unwrap();
        let bindings = template
            .variables
            .iter()
            .map(|v| Binding {
                variable: v.clone(),
                source: Source::Field {
                    key: "contact.first_name".into(),
                },
            })
            .collect();
        cx.set_template_mapping(template.id, bindings).await.unwrap();
        let input = |name: &str, group: i64| CampaignInput {
            name: name.into(),
            number_id: None,
            template_id: template.id,
            audience: Audience::Contacts {
                group_id: Some(group),
                ids: vec![],
            },
            start_at: None,
            pilot: None,
        };

        // Planning.
        let big = group_of(&ws, dir.path(), "big", plan_n, 0).await;
        let c = cx.create_campaign(input("Big", big)).await.unwrap();
        let t = Instant::now();
        let planned = cx.plan_campaign(c.id).await.unwrap();
        let plan_time = t.elapsed();
        assert_eq!(planned.plan.unwrap().recipients, plan_n as i64);
        // The same audience again, its pages cached.
        let c2 = cx.create_campaign(input("Big again", big)).await.unwrap();
        let t = Instant::now();
        let preview = cx.plan_campaign(c2.id).await.unwrap();
        let second = t.elapsed();
        assert_eq!(preview.plan.unwrap().recipients, plan_n as i64);
        println!("campaigns bench");
        println!(
            "  plan {plan_n} recipients (read, render, insert, events): {:>7.1} ms   target ≤ 500 ms   {}",
            plan_time.as_secs_f64() * 1000.0,
            if plan_time <= Duration::from_millis(500) { "MET" } else { "NOT MET" }
        );
        println!(
            "  plan again (a second campaign, same audience):      {:>7.1} ms",
            second.as_secs_f64() * 1000.0
        );
        cx.delete_campaign(c.id).await.unwrap();
        cx.delete_campaign(c2.id).await.unwrap();

        // Dispatch at a budget of 1,000/s: first with Meta's statuses going nowhere (the
        // dispatcher and the sandbox's API alone), then with every status flowing back through
        // the relay into this replica (three per message: sent, delivered, read).
        ws.set_dispatch_tuning(DispatchTuning {
            budget_per_sec: Some(1000),
            ..DispatchTuning::default()
        });
        let sandbox = runtime.embedded().unwrap().sandbox();
        let number = sandbox.phone_numbers()[0].id.clone();
        let target = sandbox.webhook_target().expect("the embedded sandbox's target");
        for (round, statuses) in [(0usize, false), (1, true)] {
            if statuses {
                sandbox
                    .set_webhook_target(&target.url, target.app_secret.expose())
                    .unwrap();
            } else {
                sandbox.clear_webhook_target();
            }
            let group = group_of(
                &ws,
                dir.path(),
                &format!("send{round}"),
                send_n,
                plan_n + round * send_n,
            )
            .await;
            let c = cx
                .create_campaign(input(&format!("Send {round}"), group))
                .await
                .unwrap();
            cx.plan_campaign(c.id).await.unwrap();
            let before = sandbox.send_rate(&number).accepted;
            let cpu0 = cpu();
            let t = Instant::now();
            cx.start_campaign(c.id).await.unwrap();
            loop {
                let accepted = sandbox.send_rate(&number).accepted - before;
                if accepted >= send_n as u64 {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(600), "stalled at {accepted}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let took = t.elapsed();
            let cpu_used = cpu() - cpu0;
            let rate = send_n as f64 / took.as_secs_f64();
            let done = loop {
                let c = cx.campaign(c.id).await.unwrap();
                if c.status == CampaignStatus::Completed || t.elapsed() > Duration::from_secs(600)
                {
                    break c;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let m = sandbox.send_rate(&number);
            let label = if statuses {
                "with statuses back"
            } else {
                "dispatcher alone "
            };
            println!(
                "  dispatch {send_n}, {label}: {:>6.0} msg/s   target ≥ 1,000 at a 1,000/s budget   {}",
                rate,
                if rate >= 950.0 { "MET" } else { "NOT MET" }
            );
            println!(
                "    CPU per message (the whole process: app, relay, sandbox): {:.3} ms   ({:.1} s CPU over {:.1} s)",
                cpu_used.as_secs_f64() * 1000.0 / send_n as f64,
                cpu_used.as_secs_f64(),
                took.as_secs_f64()
            );
            println!(
                "    the sandbox's meter: most in one second {}, over the rate {}, refused {}; campaign {:?}",
                m.max_in_one_second, m.over_rate, m.refused, done.status
            );
        }
        let sent = sandbox.sent_per_recipient();
        let twice = sent.values().filter(|n| **n > 1).count();
        println!("  recipients sent twice: {twice}");
        runtime.shutdown().await;
    });
}
