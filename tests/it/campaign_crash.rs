//! A campaign survives its runner's crashes (issue 23): a 10,000-recipient campaign against a
//! sandbox playing Meta, sent by a real `crmconnect-runner` process on a real `relay serve`
//! process, `kill -9`ed at random points twenty times and started again. The campaign finishes;
//! the sandbox's own log shows every recipient sent exactly once. Recipients whose attempt was
//! written when the runner died but never reached Meta are not resent blindly: they need a
//! person's attention, and the sandbox shows that none of them got the message; Retry sends them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::runner::{Relay, Runner, wait_until};
use crmconnect::Workspaces;
use crmconnect::campaigns::{
    Audience, CampaignInput, CampaignStatus, RecipientFilter, RecipientState,
};
use crmconnect::contacts::GroupInput;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::live::{GoLive, MetaAccess, RelayAccess};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::{Sandbox, SandboxConfig, SandboxHandle, WABA_ID};
use crmconnect::sensitive::Sensitive;
use crmconnect::templates::{Binding, Source};

const RECIPIENTS: usize = 10_000;
const KILLS: usize = 20;
const META_SECRET: &str = "crash-sandbox-app-secret-0123456789";
const META_TOKEN: &str = "crash-sandbox-access-token";

/// A small deterministic random source (the seed is printed, so a failing run can be replayed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_survives_twenty_kill_9s_of_its_runner_and_reaches_everyone_once() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("campaign crash test: CRASH_SEED={seed}");
    let mut random = Lcg(seed);
    let root = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(root.path());
    let meta = Sandbox::start(SandboxConfig {
        app_secret: Sensitive::new(META_SECRET.into()),
        access_token: Sensitive::new(META_TOKEN.into()),
        throughput_mps: 1000,
        pair_burst: 1_000_000,
        delivery_delay: Duration::from_millis(20),
        read_delay: Duration::from_millis(20),
        template_approval_delay: Duration::ZERO,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();

    // The admin's desktop takes the workspace live and has Meta send its webhooks to the relay.
    let workspaces = Workspaces::new(root.path().join("desktop"));
    let live = Arc::new(
        workspaces
            .create_live(GoLive {
                name: "Crash Test".into(),
                meta: MetaAccess {
                    phone_number_id: meta.phone_numbers()[0].id.clone(),
                    waba_id: WABA_ID.into(),
                    access_token: Sensitive::new(META_TOKEN.into()),
                    graph_base_url: Some(meta.base_url().to_owned()),
                },
                relay: RelayAccess {
                    relay_url: relay.url.clone(),
                    token: Sensitive::new(relay.issue("olivia")),
                },
                owner_name: "Olivia Admin".into(),
                passphrase: Sensitive::new("olivia's local passphrase".into()),
            })
            .await
            .unwrap(),
    );
    let hooks = live
        .cx()
        .connect_webhooks(Sensitive::new(META_SECRET.into()))
        .await
        .unwrap();
    assert!(hooks.ok, "{hooks:?}");

    // The runner holds the lease before anything is planned (the desktop would take it else).
    let runner_token = relay.issue("automation");
    let config = format!(
        "throughput_per_sec = 400\ncampaign_grace_secs = 3\ngraph_base_url = \"{}\"\n",
        meta.base_url()
    );
    let start_runner = |relay: &Relay| {
        Runner::start_with(
            root.path(),
            1,
            relay,
            &runner_token,
            Some(META_TOKEN),
            &config,
            "info",
        )
    };
    let mut runner = start_runner(&relay);
    wait_until(
        Duration::from_secs(30),
        "the runner holds the lease",
        || async { runner.said("holds the lease").then_some(()) },
    )
    .await;
    let desktop = Runtime::start(live.clone(), RuntimeOptions::default())
        .await
        .unwrap();

    // 10,000 contacts in a group, a template mapped, a campaign planned and started.
    let cx = live.cx();
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
    cx.set_template_mapping(template.id, bindings)
        .await
        .unwrap();
    let group = cx
        .create_group(GroupInput {
            name: "Everyone".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let mut csv = String::from("name,phonenumber\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("Client{i} Ionescu,+4072{i:07}\n"));
    }
    let file = root.path().join("everyone.csv");
    std::fs::write(&file, csv).unwrap();
    let imported = cx
        .import_contacts(
            &file,
            ImportOptions {
                group_ids: vec![group.id],
                columns: Some(vec!["name".into(), "phonenumber".into()]),
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(imported.imported, RECIPIENTS as u64, "{imported:?}");
    let campaign = cx
        .create_campaign(CampaignInput {
            name: "Everyone, once".into(),
            number_id: None,
            template_id: template.id,
            audience: Audience::Contacts {
                group_id: Some(group.id),
                ids: vec![],
            },
            start_at: None,
            pilot: None,
        })
        .await
        .unwrap();
    let planned = cx.plan_campaign(campaign.id).await.unwrap();
    assert_eq!(planned.plan.unwrap().recipients, RECIPIENTS as i64);
    cx.start_campaign(campaign.id).await.unwrap();
    let started = Instant::now();

    // Twenty times: let the runner send a little, kill -9 it at a random point, start it again.
    let sent = |meta: &SandboxHandle| meta.sent_per_recipient().values().sum::<u64>();
    for kill in 0..KILLS {
        let before = sent(&meta);
        let (_, _) = wait_until(
            Duration::from_secs(60),
            "the runner sends again",
            || async { (sent(&meta) > before + 20).then_some(()) },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(random.next(400))).await;
        runner.child.kill().unwrap();
        runner.child.wait().unwrap();
        eprintln!("kill -9 #{}: {} sent so far", kill + 1, sent(&meta));
        if sent(&meta) >= RECIPIENTS as u64 - 200 {
            break;
        }
        runner = start_runner(&relay);
    }
    if runner.child.try_wait().unwrap().is_some() {
        runner = start_runner(&relay);
    }

    // The campaign completes; those left in `sending` by a kill before Meta heard of them need
    // attention, and Meta indeed never got them.
    let done = eventually_within(
        Duration::from_secs(240),
        "the campaign completes",
        || async {
            let c = live.cx().campaign(campaign.id).await.unwrap();
            (c.status == CampaignStatus::Completed).then_some(c)
        },
    )
    .await;
    eprintln!(
        "completed after {:?}: {:?}",
        started.elapsed(),
        done.figures
    );
    let counts = meta.sent_per_recipient();
    assert!(counts.values().all(|n| *n == 1), "someone got it twice");
    let mut attention = Vec::new();
    loop {
        let page = live
            .cx()
            .campaign_recipients(
                campaign.id,
                RecipientFilter {
                    state: Some(RecipientState::Attention),
                    offset: Some(attention.len() as u32),
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if page.rows.is_empty() {
            break;
        }
        attention.extend(page.rows);
    }
    assert_eq!(attention.len() as i64, done.figures.attention);
    for r in &attention {
        assert!(
            !counts.contains_key(r.phone.trim_start_matches('+')),
            "{} needs attention but Meta has it",
            r.phone
        );
    }
    assert_eq!(
        counts.len() + attention.len(),
        RECIPIENTS,
        "everybody is sent to or needs attention"
    );
    // A person checked: they did not get it. Retry sends them, once.
    for r in &attention {
        live.cx()
            .resolve_campaign_recipient(campaign.id, r.idx, true)
            .await
            .unwrap();
    }
    eventually_within(
        Duration::from_secs(120),
        "every recipient reached",
        || async {
            let c = live.cx().campaign(campaign.id).await.unwrap();
            (c.status == CampaignStatus::Completed
                && c.figures.attention == 0
                && meta.sent_per_recipient().len() == RECIPIENTS)
                .then_some(())
        },
    )
    .await;
    let counts = meta.sent_per_recipient();
    assert_eq!(counts.len(), RECIPIENTS);
    assert!(counts.values().all(|n| *n == 1), "someone got it twice");
    let f = live.cx().campaign(campaign.id).await.unwrap().figures;
    eprintln!("final figures: {f:?}");

    let _ = runner.child.kill();
    let _ = runner.child.wait();
    desktop.shutdown().await;
    live.close().await;
    meta.shutdown().await;
    let _ = relay.child.kill();
    let _ = relay.child.wait();
}
