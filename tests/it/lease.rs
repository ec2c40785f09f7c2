//! The automation lease (issue 21): one holder per workspace, a standby that takes over when the
//! holder stops renewing, and fencing: what a runner publishes under a lease it no longer holds is
//! refused. On one SQLite relay, and on two relay instances sharing PostgreSQL.

use std::time::{Duration, Instant};

use crate::relay_support::*;
use crmconnect::relay::http::PublishedEvent;
use crmconnect::sync::relay_client::{LeaseClaim, RelayClient, RelayClientError};

const TTL_MS: u64 = 800;

fn event(id: &str) -> PublishedEvent {
    PublishedEvent {
        id: id.into(),
        kind: "conversation.read".into(),
        payload: serde_json::json!({"customer": "16505551234", "phone_number_id": "1", "up_to": id}),
    }
}

/// Asks for the lease as `holder` until it is granted; how long that took.
async fn take_over(client: &RelayClient, holder: &str) -> (i64, Duration) {
    let start = Instant::now();
    loop {
        let lease = client.acquire_lease(holder, "standby").await.unwrap();
        if lease.granted {
            return (lease.epoch, start.elapsed());
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no take-over in 10 s: {lease:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The property, on relays `a` and `b` (the same relay, or two instances on one database).
async fn one_holder_a_take_over_and_fencing(a: &TestRelay, b: &TestRelay) {
    let runner_1 = a.client_for("automation", true, &[]).await;
    let runner_2 = b.client_for("automation", true, &[]).await;

    // The first to ask holds it; the second waits as standby and is told who holds it.
    let first = runner_1
        .acquire_lease("runner@one", "2 bots")
        .await
        .unwrap();
    assert!(first.granted && first.active, "{first:?}");
    let standby = runner_2
        .acquire_lease("runner@two", "standby")
        .await
        .unwrap();
    assert!(!standby.granted, "{standby:?}");
    assert_eq!(
        (standby.holder.as_str(), standby.epoch),
        ("runner@one", first.epoch)
    );
    assert_eq!(standby.status, "2 bots");
    // Renewing keeps the epoch.
    let renewed = runner_1
        .acquire_lease("runner@one", "2 bots")
        .await
        .unwrap();
    assert!(renewed.granted);
    assert_eq!(renewed.epoch, first.epoch);
    let claim_1 = LeaseClaim {
        holder: "runner@one".into(),
        epoch: first.epoch,
    };
    let ok = runner_1
        .publish_under(vec![event("r1-a")], Some(claim_1.clone()))
        .await
        .unwrap();
    assert!(ok[0].refused.is_none() && ok[0].seq > 0, "{ok:?}");

    // Runner one stops renewing (killed, or paused): the standby takes over once it expires.
    let (epoch_2, waited) = take_over(&runner_2, "runner@two").await;
    assert_eq!(epoch_2, first.epoch + 1);
    assert!(waited <= Duration::from_secs(10), "{waited:?}");
    let head = a.store.head(WS).await.unwrap();
    // Runner one wakes up and acts on what it thinks it holds: refused, nothing stored.
    match runner_1
        .publish_under(vec![event("r1-b")], Some(claim_1.clone()))
        .await
    {
        Err(RelayClientError::Refused {
            status: 409,
            message,
        }) => {
            assert!(message.contains("stale lease"), "{message}")
        }
        other => panic!("a stale lease's events were not refused: {other:?}"),
    }
    assert_eq!(a.store.head(WS).await.unwrap(), head, "nothing was stored");
    let again = runner_1
        .acquire_lease("runner@one", "2 bots")
        .await
        .unwrap();
    assert!(
        !again.granted,
        "the old holder does not get it back while the new one lives"
    );
    let claim_2 = LeaseClaim {
        holder: "runner@two".into(),
        epoch: epoch_2,
    };
    let ok = runner_2
        .publish_under(vec![event("r2-a")], Some(claim_2))
        .await
        .unwrap();
    assert!(ok[0].refused.is_none(), "{ok:?}");

    // A clean stop lets it go at once: the next to ask has it, with the next epoch.
    runner_2.release_lease("runner@two").await.unwrap();
    let back = runner_1.acquire_lease("runner@one", "").await.unwrap();
    assert!(back.granted);
    assert_eq!(back.epoch, epoch_2 + 1);
    let seen = runner_2.lease().await.unwrap().expect("a lease");
    assert_eq!((seen.holder.as_str(), seen.active), ("runner@one", true));
}

#[tokio::test]
async fn one_runner_holds_the_lease_a_standby_takes_over_and_a_stale_one_is_refused() {
    let r = TestRelay::sqlite_with(|c| c.limits.lease_ttl_ms = TTL_MS).await;
    one_holder_a_take_over_and_fencing(&r, &r).await;
    r.stop().await;
}

#[tokio::test]
async fn postgres_two_relay_instances_agree_on_one_lease_holder() {
    let db = TestPg::create().await;
    let a = TestRelay::on(&db.url, |c| c.limits.lease_ttl_ms = TTL_MS).await;
    let b = TestRelay::on(&db.url, |c| c.limits.lease_ttl_ms = TTL_MS).await;
    one_holder_a_take_over_and_fencing(&a, &b).await;
    // Runner one lets it go; ten runners ask at once on both instances: exactly one gets it.
    a.client_for("automation", true, &[])
        .await
        .release_lease("runner@one")
        .await
        .unwrap();
    let mut asks = Vec::new();
    for n in 0..10 {
        let relay = if n % 2 == 0 { &a } else { &b };
        let client = relay.client_for("automation", true, &[]).await;
        asks.push(tokio::spawn(async move {
            client
                .acquire_lease(&format!("runner@{n}"), "")
                .await
                .unwrap()
        }));
    }
    let mut granted = 0;
    for ask in asks {
        granted += usize::from(ask.await.unwrap().granted);
    }
    assert_eq!(granted, 1, "exactly one of ten holds it");
    a.stop().await;
    b.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn only_automation_s_roles_may_hold_the_lease() {
    let r = TestRelay::sqlite_with(|c| c.limits.lease_ttl_ms = TTL_MS).await;
    let rep = r.client_for("rick", false, &["whatsapp_chat:send"]).await;
    match rep.acquire_lease("runner@rick", "").await {
        Err(RelayClientError::Forbidden(m)) => assert!(m.contains("whatsapp_bot:edit"), "{m}"),
        other => panic!("a rep's token held the lease: {other:?}"),
    }
    let service = r
        .client_for(
            "automation",
            false,
            &["whatsapp_campaign:edit", "whatsapp_chat:send"],
        )
        .await;
    assert!(
        service
            .acquire_lease("runner@server", "")
            .await
            .unwrap()
            .granted
    );
    assert!(
        matches!(
            service.acquire_lease("has space", "").await,
            Err(RelayClientError::Refused { status: 422, .. })
        ),
        "a holder name is checked"
    );
    r.stop().await;
}

/// A desktop working alone holds the lease; a server runner that asks takes it at once, and the
/// desktop takes it back when the runner lets it go.
#[tokio::test]
async fn a_server_runner_takes_the_lease_from_a_desktop_and_gives_it_back() {
    let r = TestRelay::sqlite_with(|c| c.limits.lease_ttl_ms = TTL_MS).await;
    let desktop = r.client_for("olivia", true, &[]).await;
    let server = r.client_for("automation", true, &[]).await;
    let mine = desktop
        .acquire_lease_as("desktop@laptop", "", true)
        .await
        .unwrap();
    assert!(mine.granted && mine.desktop, "{mine:?}");
    let taken = server.acquire_lease("runner@srv", "").await.unwrap();
    assert!(taken.granted, "a runner comes before a desktop: {taken:?}");
    assert_eq!(taken.epoch, mine.epoch + 1);
    assert!(!taken.desktop);
    let back = desktop
        .acquire_lease_as("desktop@laptop", "", true)
        .await
        .unwrap();
    assert!(!back.granted, "a desktop does not take it from a runner");
    assert_eq!(back.holder, "runner@srv");
    server.release_lease("runner@srv").await.unwrap();
    let back = desktop
        .acquire_lease_as("desktop@laptop", "", true)
        .await
        .unwrap();
    assert!(back.granted);
    assert_eq!(back.epoch, taken.epoch + 1);
    r.stop().await;
}

/// The sandbox workspace's desktop runs its automation itself, through its in-process relay, and
/// says so; a runner-less team workspace says it is paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_desktop_holds_its_own_lease_and_says_so() {
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    let t = crate::common::workspace().await;
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions::default())
        .await
        .unwrap();
    let status = crate::common::eventually("the desktop holds the lease", || async {
        let s = rt.automation_status().await;
        (s.here == "active" && s.running).then_some(s)
    })
    .await;
    assert!(status.desktop);
    assert_eq!(
        status.message,
        "Bots and campaigns run on this desktop while it is open"
    );
    rt.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let live = std::sync::Arc::new(
        crmconnect::Workspaces::new(dir.path())
            .create(WS, "Acme", crmconnect::workspace::WorkspaceKind::Live)
            .await
            .unwrap(),
    );
    let rt = Runtime::start(live, RuntimeOptions::default())
        .await
        .unwrap();
    let off = rt.automation_status().await;
    assert!(!off.running);
    assert_eq!(
        off.message,
        "Bots and campaigns are paused: no runner is connected"
    );
    rt.shutdown().await;
}
