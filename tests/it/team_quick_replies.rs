//! The team's quick replies (issue 17): a change on one desktop appears on the other; two made
//! offline with one name converge; a change the author's role does not allow is refused by the
//! relay and ignored on apply.

use crate::common::*;
use crate::relay_support::{TestRelay, denied};
use crate::team_staff::team;
use crmconnect::Workspace;
use crmconnect::chat::quick_replies::QuickReplyInput;

use crmconnect::relay::http::PublishedEvent;
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::relay_client::RelayClient;
use serde_json::json;

async fn dump(ws: &Workspace) -> Vec<String> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT uid, name, message FROM quick_replies ORDER BY uid",
    )
    .fetch_all(ws.db())
    .await
    .unwrap()
    .into_iter()
    .map(|(u, n, m)| format!("{u} /{n} {m:?}"))
    .collect()
}

fn reply(name: &str, message: &str) -> QuickReplyInput {
    QuickReplyInput {
        name: name.into(),
        message: message.into(),
    }
}

#[tokio::test]
async fn a_quick_reply_made_edited_and_deleted_on_one_desktop_follows_on_the_other() {
    let relay = TestRelay::sqlite().await;
    let a = workspace().await;
    let b = workspace().await;
    let sync_a = relay
        .online(&a.ws, &relay.token_for(OWNER, true, &[]).await)
        .await;
    let sync_b = relay
        .online(&b.ws, &relay.token_for("second", true, &[]).await)
        .await;
    let made =
        a.ws.cx()
            .create_quick_reply(reply("prices", "Our prices start at 10 EUR."))
            .await
            .unwrap();
    let seen = eventually("the quick reply on B", || async {
        let list = b.ws.cx().quick_replies().await.unwrap();
        list.into_iter().find(|r| r.name == "prices")
    })
    .await;
    assert_eq!(seen.message, "Our prices start at 10 EUR.");
    a.ws.cx()
        .update_quick_reply(made.id, reply("prices", "Our prices start at 12 EUR."))
        .await
        .unwrap();
    eventually("the edit on B", || async {
        let list = b.ws.cx().quick_replies().await.unwrap();
        list.iter()
            .any(|r| r.message == "Our prices start at 12 EUR.")
            .then_some(())
    })
    .await;
    // B deletes it: gone on A too.
    b.ws.cx().delete_quick_reply(seen.id).await.unwrap();
    eventually("the deletion on A", || async {
        a.ws.cx()
            .quick_replies()
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn quick_replies_made_offline_with_one_name_converge() {
    let relay = TestRelay::sqlite().await;
    let a = workspace().await;
    let b = workspace().await;
    let (ta, tb) = (
        relay.token_for(OWNER, true, &[]).await,
        relay.token_for("second", true, &[]).await,
    );
    // Offline, both make /hours; A also edits a shared one B deletes.
    a.ws.cx()
        .create_quick_reply(reply("hours", "We open at 9."))
        .await
        .unwrap();
    b.ws.cx()
        .create_quick_reply(reply("hours", "Open 8 to 6."))
        .await
        .unwrap();
    let sync_a = relay.online(&a.ws, &ta).await;
    eventually("A's published", || async {
        (a.ws.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    let sync_b = relay.online(&b.ws, &tb).await;
    let same = eventually("the same quick replies on both", || async {
        let (x, y) = (dump(&a.ws).await, dump(&b.ws).await);
        (b.ws.outbox_len().await.unwrap() == 0 && x == y && x.len() == 2).then_some(x)
    })
    .await;
    assert!(
        same.iter().any(|l| l.contains(" /hours \"We open at 9.\"")),
        "the first in the log keeps the name: {same:#?}"
    );
    assert!(
        same.iter()
            .any(|l| l.contains(" /hours-") && l.contains("Open 8 to 6.")),
        "{same:#?}"
    );
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_quick_reply_change_the_author_may_not_make_is_refused_and_ignored() {
    let t = team().await;
    t.converged().await;
    // Rick's role (contacts view and create) has no quick replies: the relay refuses his.
    let rick =
        RelayClient::new(&t.relay.handle.url(), Sensitive::new(t.rick_token.clone())).unwrap();
    let forged = json!({"uid": "0193ab4c0000000000000000000000aa", "name": "refund",
        "message": "Refunds are instant, just send your card number."});
    let results = rick
        .publish(vec![PublishedEvent {
            id: "qr-1".into(),
            kind: "quick_reply.created".into(),
            payload: forged.clone(),
        }])
        .await
        .unwrap();
    let refused = results[0].refused.clone().expect("refused by the relay");
    assert!(refused.contains("quickreplies:create"), "{refused}");
    // In the log anyway (a relay's check bypassed): both desktops ignore it and say so.
    t.relay
        .forge("rick", "qr-forged", "quick_reply.created", &forged)
        .await;
    // (Rick's own stream leaves quick replies out: his role may not read them.)
    let ws = &t.admin.ws;
    eventually("the forged quick reply noted as ignored", || async {
        (denied(ws, "quick_reply.created").await == 1).then_some(())
    })
    .await;
    assert!(dump(ws).await.is_empty(), "no quick reply was made");
    assert!(dump(&t.rick).await.is_empty(), "nor on Rick's desktop");
    t.stop().await;
}
