//! A change and its event commit together: a desktop that dies after the commit, before its sync
//! engine published the event, publishes it when it runs again, and the rest of the team receives
//! it exactly once.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{self, OWNER, OWNER_PASS, eventually_within, first_conversation};
use crate::relay_support::TestRelay;
use crmconnect::sync::engine::SyncHandle;
use crmconnect::{Workspace, Workspaces};

const CHILD_DIR: &str = "CRMCONNECT_TEST_CHILD_DIR";

async fn online(ws: &Arc<Workspace>, relay: &TestRelay, token: &str) -> SyncHandle {
    relay.online(ws, token).await
}

async fn assigned_events(ws: &Workspace) -> usize {
    ws.synced_events(0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "conversation.assigned")
        .count()
}

/// The desktop process that dies: it assigns the conversation and is aborted right after the
/// commit, before anything is published (`CRMCONNECT_FAULT=after_commit`).
#[tokio::test]
#[ignore = "the child process of a_change_whose_desktop_dies_before_publishing_reaches_the_team_once"]
async fn child_assigns_and_dies_after_the_commit() {
    let dir = std::env::var(CHILD_DIR).expect("run by its parent test, which names the folder");
    let ws = Workspaces::new(dir).open("sandbox").await.unwrap();
    ws.sign_in(OWNER, OWNER_PASS.into()).await.unwrap();
    let c = first_conversation(&ws).await.expect("the conversation");
    let _ = ws.cx().assign_conversation(c.id, Some(OWNER.into())).await;
    panic!("the fault point did not stop the process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_desktop_dies_before_publishing_reaches_the_team_once() {
    let relay = TestRelay::sqlite().await;
    let (alice, bob) = (
        relay.token_for("alice", true, &[]).await,
        relay.token_for("bob", true, &[]).await,
    );
    let a = common::workspace().await;
    let b = common::workspace().await;
    let sync_a = online(&a.ws, &relay, &alice).await;
    let _sync_b = online(&b.ws, &relay, &bob).await;
    relay.post_messages("crash", 1, "hello").await;
    eventually_within(Duration::from_secs(20), "A's conversation", || {
        first_conversation(&a.ws)
    })
    .await;
    eventually_within(Duration::from_secs(20), "B's conversation", || {
        first_conversation(&b.ws)
    })
    .await;

    // A stops; its process assigns the conversation and dies between the commit and publishing.
    sync_a.stop().await;
    a.ws.close().await;
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "outbox::child_assigns_and_dies_after_the_commit",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, a.dir.path())
        .env(crmconnect::fault::ENV, "after_commit")
        .status()
        .expect("the child runs");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(6),
        "the child is aborted at the fault point (SIGABRT), not {status}"
    );

    // A runs again: the change is there, and so is its event, waiting in the outbox.
    let restarted = Arc::new(Workspaces::new(a.dir.path()).open("sandbox").await.unwrap());
    restarted.sign_in(OWNER, OWNER_PASS.into()).await.unwrap();
    let c = first_conversation(&restarted).await.unwrap();
    assert_eq!(c.assigned_username.as_deref(), Some(OWNER));
    assert_eq!(restarted.outbox_len().await.unwrap(), 1);
    assert_eq!(assigned_events(&b.ws).await, 0, "nothing was published yet");

    let sync = online(&restarted, &relay, &alice).await;
    eventually_within(Duration::from_secs(20), "the assignment on B", || async {
        let c = first_conversation(&b.ws).await?;
        (c.assigned_username.as_deref() == Some(OWNER)).then_some(())
    })
    .await;
    assert_eq!(assigned_events(&b.ws).await, 1);

    // Running once more publishes nothing again: the team has it exactly once.
    eventually_within(Duration::from_secs(20), "A's outbox emptied", || async {
        (restarted.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    sync.stop().await;
    let again = online(&restarted, &relay, &alice).await;
    relay.post_messages("after", 1, "still there?").await;
    eventually_within(Duration::from_secs(20), "the next message on B", || async {
        let n = b.ws.synced_events(0, 10_000).await.unwrap().len();
        (n >= 3).then_some(())
    })
    .await;
    assert_eq!(assigned_events(&b.ws).await, 1, "exactly once");
    assert_eq!(assigned_events(&restarted).await, 1);
    again.stop().await;
}
