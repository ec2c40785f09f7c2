//! Contacts, groups and memberships are the team's: a change on one desktop reaches the others
//! through the relay, changes made offline on several desktops converge to identical tables, and
//! a clash (one number created twice, one group name taken twice) is merged the same way
//! everywhere, with the losing author told in the Activity Log.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use crate::common::{self, TestWorkspace, eventually_within};
use crate::relay_support::TestRelay;
use crmconnect::Workspace;
use crmconnect::contacts::import::{Cancel, ImportOptions};
use crmconnect::contacts::{ContactFilter, ContactInput, GroupInput};
use crmconnect::sync::engine::SyncHandle;

async fn online(ws: &Arc<Workspace>, relay: &TestRelay, token: &str) -> SyncHandle {
    relay.online(ws, token).await
}

fn contact(phone: &str, name: &str, groups: Vec<i64>) -> ContactInput {
    ContactInput {
        phone: phone.into(),
        name: name.into(),
        group_ids: groups,
        ..Default::default()
    }
}

/// Everything the team shares of the directory, by uid and with nothing local: what every
/// desktop must agree on.
async fn dump(ws: &Workspace) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT u.uid, coalesce(c.phone, '') || coalesce(' ' || c.wa_user_id, '') || ' @' || c.username,
                c.name, c.company
         FROM contacts c JOIN contact_uids u ON u.id = c.id ORDER BY 1",
    )
    .fetch_all(ws.db())
    .await
    .unwrap()
    .into_iter()
    .map(|(u, p, n, c)| format!("contact {u} {p} {n:?} {c:?}"))
    .collect();
    out.extend(
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT uid, name, description FROM contact_groups ORDER BY uid",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n, d)| format!("group {u} {n:?} {d:?}")),
    );
    out.extend(
        sqlx::query_as::<_, (String, String)>(
            "SELECT c.uid, g.uid FROM contact_group_members m
             JOIN contact_uids c ON c.id = m.contact_id JOIN contact_groups g ON g.id = m.group_id
             ORDER BY 1, 2",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(c, g)| format!("member {c} {g}")),
    );
    // The team's quick replies and roles, which the property's desktops change too.
    out.extend(
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT uid, name, message FROM quick_replies ORDER BY uid",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n, m)| format!("quick reply {u} /{n} {m:?}")),
    );
    out.extend(
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT r.uid, r.name, group_concat(p.resource || ':' || p.action, ',')
             FROM roles r LEFT JOIN (SELECT * FROM role_permissions ORDER BY resource, action) p
               ON p.role_id = r.id
             GROUP BY r.id ORDER BY r.uid",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n, p)| format!("role {u} {n:?} {}", p.unwrap_or_default())),
    );
    out
}

/// Until every desktop has published all it made and applied all the others did.
async fn settled(desktops: &[&Arc<Workspace>]) {
    eventually_within(
        Duration::from_secs(60),
        "the desktops to settle",
        || async {
            let mut cursors = Vec::new();
            for ws in desktops {
                if ws.outbox_len().await.ok()? != 0 {
                    return None;
                }
                cursors.push(ws.sync_cursor().await.ok()?);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            for (ws, c) in desktops.iter().zip(&cursors) {
                if ws.sync_cursor().await.ok()? != *c || ws.outbox_len().await.ok()? != 0 {
                    return None;
                }
            }
            cursors.windows(2).all(|w| w[0] == w[1]).then_some(())
        },
    )
    .await;
}

/// Two fresh desktops on `relay`, as alice and bob (administrators), each with its token.
async fn two_desktops(relay: &TestRelay) -> [(TestWorkspace, String); 2] {
    [
        (
            common::workspace().await,
            relay.token_for("alice", true, &[]).await,
        ),
        (
            common::workspace().await,
            relay.token_for("bob", true, &[]).await,
        ),
    ]
}

async fn group_id(ws: &Workspace, name: &str) -> Option<i64> {
    ws.cx()
        .groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == name)
        .map(|g| g.id)
}

async fn by_phone(ws: &Workspace, phone: &str) -> Option<crmconnect::contacts::Contact> {
    ws.cx()
        .contacts(ContactFilter {
            search: Some(phone.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .contacts
        .into_iter()
        .find(|c| c.phone == phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_or_group_changed_on_one_desktop_changes_on_the_other() {
    let relay = TestRelay::sqlite().await;
    let (a, b) = (common::workspace().await, common::workspace().await);
    let _sa = online(&a.ws, &relay, &relay.token_for("alice", true, &[]).await).await;
    let _sb = online(&b.ws, &relay, &relay.token_for("bob", true, &[]).await).await;

    let vip =
        a.ws.cx()
            .create_group(GroupInput {
                name: "VIP".into(),
                description: "best customers".into(),
            })
            .await
            .unwrap();
    let ana =
        a.ws.cx()
            .create_contact(contact("+12015550101", "Ana", vec![vip.id]))
            .await
            .unwrap();
    let on_b = eventually_within(Duration::from_secs(20), "Ana on B", || {
        by_phone(&b.ws, "+12015550101")
    })
    .await;
    assert_eq!(on_b.name, "Ana");
    let vip_b = group_id(&b.ws, "VIP").await.expect("the group on B");
    assert_eq!(on_b.group_ids, vec![vip_b], "in the group on B too");

    // B edits her; A sees it.
    b.ws.cx()
        .update_contact(on_b.id, contact("+12015550101", "Ana Lima", vec![]))
        .await
        .unwrap();
    eventually_within(Duration::from_secs(20), "the edit on A", || async {
        let c = by_phone(&a.ws, "+12015550101").await?;
        (c.name == "Ana Lima" && c.group_ids.is_empty()).then_some(())
    })
    .await;

    // A groups her again, renames the group; then deletes her; B follows each step.
    a.ws.cx()
        .assign_groups(vec![ana.id], vec![vip.id])
        .await
        .unwrap();
    a.ws.cx()
        .update_group(
            vip.id,
            GroupInput {
                name: "Gold".into(),
                description: "renamed".into(),
            },
        )
        .await
        .unwrap();
    eventually_within(
        Duration::from_secs(20),
        "the group renamed on B",
        || async {
            let id = group_id(&b.ws, "Gold").await?;
            let c = by_phone(&b.ws, "+12015550101").await?;
            (c.group_ids == vec![id]).then_some(())
        },
    )
    .await;
    a.ws.cx().delete_contacts(vec![ana.id]).await.unwrap();
    a.ws.cx().delete_group(vip.id).await.unwrap();
    eventually_within(Duration::from_secs(20), "the deletions on B", || async {
        (by_phone(&b.ws, "+12015550101").await.is_none() && group_id(&b.ws, "Gold").await.is_none())
            .then_some(())
    })
    .await;
    settled(&[&a.ws, &b.ws]).await;
    assert_eq!(dump(&a.ws).await, dump(&b.ws).await);
}

/// A contact changed here twice in a row never shows the first change for a moment: while the
/// second is on its way, the first coming back from the log is applied for the log's sake only
/// (its place, its phone), and the contact keeps showing the second; the second then settles it.
#[tokio::test]
async fn an_earlier_change_coming_back_does_not_undo_a_later_one_even_for_a_moment() {
    let t = common::workspace().await;
    let ws = &t.ws;
    let vip = ws
        .cx()
        .create_group(GroupInput {
            name: "VIP".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let ana = ws
        .cx()
        .create_contact(contact("+33612345678", "Ana", vec![]))
        .await
        .unwrap();
    let mut later = contact("+33612345679", "Ana", vec![vip.id]);
    later.city = "Lyon".into();
    ws.cx().update_contact(ana.id, later).await.unwrap();
    // The relay gives back this desktop's own events in order, each keyed by its event id.
    let own: Vec<crmconnect::relay::events::ReceivedEvent> =
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT event_id, kind, payload FROM sync_outbox ORDER BY id",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, (id, kind, payload))| {
            serde_json::from_value(serde_json::json!({
                "seq": i + 1, "key": format!("desktop:{}:{id}", common::OWNER), "kind": kind,
                "source": "desktop", "staff": common::OWNER, "received_at": 1_800_000_000_000i64,
                "raw": serde_json::from_str::<serde_json::Value>(&payload).unwrap(),
            }))
            .unwrap()
        })
        .collect();
    let kinds: Vec<&str> = own.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["group.created", "contact.created", "contact.updated"]
    );
    let shown = |c: crmconnect::contacts::Contact| (c.phone, c.city, c.group_ids);
    let second = ("+33612345679".to_owned(), "Lyon".to_owned(), vec![vip.id]);

    ws.apply_synced(&own[..2]).await.unwrap();
    let now = ws.cx().contact(ana.id).await.unwrap();
    assert_eq!(
        shown(now),
        second,
        "the first change came back over the second"
    );
    // The log's phone is still the first's until the second arrives: a teammate's contact with
    // the new number in between would be the one to keep it.
    let log_phone: Option<String> =
        sqlx::query_scalar("SELECT log_phone FROM contacts WHERE id = ?")
            .bind(ana.id)
            .fetch_one(ws.db())
            .await
            .unwrap();
    assert_eq!(log_phone.as_deref(), Some("+33612345678"));

    ws.apply_synced(&own[2..]).await.unwrap();
    let now = ws.cx().contact(ana.id).await.unwrap();
    assert_eq!(shown(now), second);
    let (log_phone, seq): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT log_phone, seq FROM contacts WHERE id = ?")
            .bind(ana.id)
            .fetch_one(ws.db())
            .await
            .unwrap();
    assert_eq!((log_phone, seq), (None, Some(3)));
}

/// A contact reached only by WhatsApp user id (a customer who writes by username) is the team's
/// like any other: made on A from a conversation, it shows on B with its user id and username,
/// never hidden for having no number; edited on B, the change comes back to A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_without_a_phone_reaches_the_other_desktop_and_back() {
    let relay = TestRelay::sqlite().await;
    let [(a, ta), (b, tb)] = two_desktops(&relay).await;
    let _sa = online(&a.ws, &relay, &ta).await;
    let _sb = online(&b.ws, &relay, &tb).await;
    let payload = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100100", "phone_number_id": "PN1"},
            "contacts": [{"user_id": "US.99887766554433221100", "profile": {"name": "Dara", "username": "dara.k"}}],
            "messages": [{"from_user_id": "US.99887766554433221100", "id": "wamid.D1",
                          "timestamp": "1750000000", "type": "text", "text": {"body": "hi"}}]}}]}]});
    let (status, body) = relay.post_signed(&payload.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let conversation = eventually_within(Duration::from_secs(20), "Dara writes", || {
        common::first_conversation(&a.ws)
    })
    .await;
    let id = a.ws.cx().customer_contact(conversation.id).await.unwrap();

    let on_b = eventually_within(Duration::from_secs(20), "Dara on B", || async {
        let page = b.ws.cx().contacts(ContactFilter::default()).await.unwrap();
        page.contacts.into_iter().find(|c| c.username == "dara.k")
    })
    .await;
    assert_eq!(
        (
            on_b.phone.as_str(),
            on_b.wa_user_id.as_deref(),
            on_b.name.as_str()
        ),
        ("", Some("US.99887766554433221100"), "Dara")
    );
    b.ws.cx()
        .update_contact(
            on_b.id,
            ContactInput {
                name: "Dara K.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    eventually_within(Duration::from_secs(20), "B's edit on A", || async {
        let c = a.ws.cx().contact(id).await.unwrap();
        (c.name == "Dara K." && c.wa_user_id.is_some()).then_some(())
    })
    .await;
    settled(&[&a.ws, &b.ws]).await;
    assert_eq!(dump(&a.ws).await, dump(&b.ws).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_changes_on_two_desktops_converge_and_a_clash_is_merged_into_the_first() {
    let relay = TestRelay::sqlite().await;
    let [(a, ta), (b, tb)] = two_desktops(&relay).await;
    // A shared starting point: one contact in one group, known to both.
    let sa = online(&a.ws, &relay, &ta).await;
    let sb = online(&b.ws, &relay, &tb).await;
    let old =
        a.ws.cx()
            .create_group(GroupInput {
                name: "Old".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    a.ws.cx()
        .create_contact(contact("+12015550200", "Zed", vec![]))
        .await
        .unwrap();
    settled(&[&a.ws, &b.ws]).await;
    sa.stop().await;
    sb.stop().await;

    // Offline, both create the same number and the same group name, edit Zed, and A deletes
    // the group that B assigns Zed to.
    a.ws.cx()
        .create_contact(contact("+12015550300", "Carla (A)", vec![]))
        .await
        .unwrap();
    let vip_a =
        a.ws.cx()
            .create_group(GroupInput {
                name: "VIP".into(),
                description: "from A".into(),
            })
            .await
            .unwrap();
    let zed_a = by_phone(&a.ws, "+12015550200").await.unwrap();
    a.ws.cx()
        .update_contact(
            zed_a.id,
            contact("+12015550200", "Zed by A", vec![vip_a.id]),
        )
        .await
        .unwrap();
    a.ws.cx().delete_group(old.id).await.unwrap();

    let vip_b =
        b.ws.cx()
            .create_group(GroupInput {
                name: "vip".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    let carla_b =
        b.ws.cx()
            .create_contact(contact("+12015550300", "Carla (B)", vec![vip_b.id]))
            .await
            .unwrap();
    let zed_b = by_phone(&b.ws, "+12015550200").await.unwrap();
    let old_b = group_id(&b.ws, "Old").await.unwrap();
    b.ws.cx()
        .update_contact(zed_b.id, contact("+12015550201", "Zed by B", vec![]))
        .await
        .unwrap();
    b.ws.cx()
        .assign_groups(vec![zed_b.id, carla_b.id], vec![old_b])
        .await
        .unwrap();

    // A publishes first, then B.
    let sa = online(&a.ws, &relay, &ta).await;
    settled(&[&a.ws]).await;
    let sb = online(&b.ws, &relay, &tb).await;
    settled(&[&a.ws, &b.ws]).await;

    let (da, db) = (dump(&a.ws).await, dump(&b.ws).await);
    assert_eq!(da, db, "both desktops hold the same directory");
    for ws in [&a.ws, &b.ws] {
        // One Carla: A's, which came first, with B's group added.
        let carla = by_phone(ws, "+12015550300").await.unwrap();
        assert_eq!(carla.name, "Carla (A)");
        let vip = group_id(ws, "VIP").await.expect("one VIP group, A's name");
        assert_eq!(carla.group_ids, vec![vip]);
        assert!(group_id(ws, "vip").await.is_none());
        // Zed: B's edit came last and wins whole (number included); the deleted group is gone
        // with B's assignment to it.
        let zed = by_phone(ws, "+12015550201").await.unwrap();
        assert_eq!(zed.name, "Zed by B");
        assert!(zed.group_ids.is_empty(), "{:?}", zed.group_ids);
        assert!(group_id(ws, "Old").await.is_none());
    }
    // B learns that its Carla and its group were merged, on both desktops.
    for t in [&a, &b] {
        let merged = t.log_of("contacts.merged").await;
        assert_eq!(merged.len(), 1, "{merged:?}");
        let detail: String =
            sqlx::query_scalar("SELECT detail FROM activity_log WHERE action = 'contacts.merged'")
                .fetch_one(t.ws.db())
                .await
                .unwrap();
        assert!(
            detail.starts_with("bob's new contact +12015550300 was merged into “Carla (A)”"),
            "{detail}"
        );
        assert_eq!(t.log_of("groups.merged").await.len(), 1);
    }
    sa.stop().await;
    sb.stop().await;
}

/// A CSV of `n` contacts, numbers +1201560nnnn upwards.
fn csv(n: usize) -> String {
    let mut out =
        String::from("name,phonenumber,company_name,address,city,state,country,description\n");
    for i in 0..n {
        out.push_str(&format!("Person {i},+1201{:07},Acme,,,,,\n", 5_600_000 + i));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_on_one_desktop_reaches_the_other_in_a_few_events_and_a_clash_merges() {
    let relay = TestRelay::sqlite().await;
    let [(a, ta), (b, tb)] = two_desktops(&relay).await;
    let sa = online(&a.ws, &relay, &ta).await;
    let sb = online(&b.ws, &relay, &tb).await;
    let vip =
        a.ws.cx()
            .create_group(GroupInput {
                name: "Imported".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    // While A is offline, B adds one of the file's numbers, and A imports the file: B's comes
    // first in the log, A's row for that number is merged into it.
    settled(&[&a.ws, &b.ws]).await;
    sa.stop().await;
    b.ws.cx()
        .create_contact(contact("+12015600007", "Bea (B)", vec![]))
        .await
        .unwrap();
    settled(&[&b.ws]).await;
    let path = a.dir.path().join("people.csv");
    std::fs::write(&path, csv(25_000)).unwrap();
    let report =
        a.ws.cx()
            .import_contacts(
                &path,
                ImportOptions {
                    group_ids: vec![vip.id],
                    columns: None,
                },
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap();
    assert_eq!(report.imported, 25_000);
    let parts = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM sync_outbox WHERE kind = 'contacts.imported'",
    )
    .fetch_one(a.ws.db())
    .await
    .unwrap();
    assert!((2..=6).contains(&parts), "25,000 rows in {parts} events");

    let sa = online(&a.ws, &relay, &ta).await;
    settled(&[&a.ws, &b.ws]).await;
    assert_eq!(dump(&a.ws).await, dump(&b.ws).await);
    for ws in [&a.ws, &b.ws] {
        let page = ws
            .cx()
            .contacts(ContactFilter {
                group_id: group_id(ws, "Imported").await,
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 25_000, "every row in the group");
        // B's Bea came first: the file's row was merged into her, with the group.
        let bea = by_phone(ws, "+12015600007").await.unwrap();
        assert_eq!(bea.name, "Bea (B)");
        assert_eq!(bea.group_ids.len(), 1);
        let person = by_phone(ws, "+12015600008").await.unwrap();
        assert_eq!(
            (person.name.as_str(), person.company.as_str()),
            ("Person 8", "Acme")
        );
    }
    sa.stop().await;
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_desktops_contact_events_are_refused_by_the_relay_and_skipped_on_apply() {
    use crmconnect::relay::http::PublishedEvent;
    let relay = TestRelay::sqlite().await;
    let b = common::workspace().await;
    let _sb = online(&b.ws, &relay, &relay.token_for("bob", true, &[]).await).await;
    let publish = |id: &str, kind: &str, payload: serde_json::Value| PublishedEvent {
        id: id.into(),
        kind: kind.into(),
        payload,
    };
    let ana = serde_json::json!({"uid": "u-ana", "phone": "+12015550777", "name": "Ana"});

    // A rep who may only view contacts publishes a new one: refused, nothing stored.
    let viewer = relay
        .client_for("rita", false, &["whatsapp_contacts:view"])
        .await;
    let answer = viewer
        .publish(vec![publish("t1", "contact.created", ana.clone())])
        .await
        .unwrap();
    let why = answer[0].refused.as_deref().expect("refused");
    assert!(why.contains("whatsapp_contacts:create"), "{why}");

    // One who may create, with a field no desktop sends: refused by its shape.
    let creator = relay
        .client_for("carl", false, &["whatsapp_contacts:create"])
        .await;
    let mut extra = ana.clone();
    extra["role"] = serde_json::json!("admin");
    let answer = creator
        .publish(vec![publish("t2", "contact.created", extra)])
        .await
        .unwrap();
    let why = answer[0].refused.as_deref().expect("refused");
    assert!(why.contains("unknown field `role`"), "{why}");

    // The right shape with a number no desktop of ours would store: stored by the relay (it
    // checks shapes), skipped by every desktop; the good event after it is applied.
    let mut bad = ana.clone();
    bad["phone"] = serde_json::json!("not a number");
    bad["uid"] = serde_json::json!("u-bad");
    let answer = creator
        .publish(vec![
            publish("t3", "contact.created", bad),
            publish("t4", "contact.created", ana),
        ])
        .await
        .unwrap();
    assert!(answer.iter().all(|a| a.refused.is_none()), "{answer:?}");
    let ana = eventually_within(Duration::from_secs(20), "Ana on B", || {
        by_phone(&b.ws, "+12015550777")
    })
    .await;
    assert_eq!(ana.name, "Ana");
    let all = b.ws.cx().contacts(ContactFilter::default()).await.unwrap();
    assert_eq!(all.total, 1, "{:?}", all.contacts);
}

// ---- the property: random work on three desktops with random disconnects converges ----------

#[derive(Debug, Clone)]
enum Op {
    /// Desktop, a number from a small pool (so that clashes happen), a name.
    Create(usize, u8, u8),
    /// Desktop, which of its contacts (modulo), a new number, a new name.
    Edit(usize, u8, u8, u8),
    Delete(usize, u8),
    CreateGroup(usize, u8),
    RenameGroup(usize, u8, u8),
    DeleteGroup(usize, u8),
    Assign(usize, u8, u8),
    /// A desktop's sync stops or starts again.
    Toggle(usize),
    /// Desktop, a CSV of three numbers from the pool (from the first), into its first group if
    /// it has one.
    Import(usize, u8, bool),
    /// Desktop, a name from a small pool, a message.
    QuickReply(usize, u8, u8),
    /// Desktop, which of its quick replies, a new name, a new message.
    EditQuickReply(usize, u8, u8, u8),
    DeleteQuickReply(usize, u8),
    /// Desktop, a role name from a small pool, which permissions (a bit each of three).
    Role(usize, u8, u8),
    /// Desktop, which of its roles (not the administrator's), a new name, new permissions.
    EditRole(usize, u8, u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0usize..3;
    prop_oneof![
        3 => (d.clone(), 0u8..8, any::<u8>()).prop_map(|(d, p, n)| Op::Create(d, p, n)),
        2 => (d.clone(), any::<u8>(), 0u8..8, any::<u8>()).prop_map(|(d, c, p, n)| Op::Edit(d, c, p, n)),
        1 => (d.clone(), any::<u8>()).prop_map(|(d, c)| Op::Delete(d, c)),
        2 => (d.clone(), 0u8..4).prop_map(|(d, n)| Op::CreateGroup(d, n)),
        1 => (d.clone(), any::<u8>(), 0u8..4).prop_map(|(d, g, n)| Op::RenameGroup(d, g, n)),
        1 => (d.clone(), any::<u8>()).prop_map(|(d, g)| Op::DeleteGroup(d, g)),
        2 => (d.clone(), any::<u8>(), any::<u8>()).prop_map(|(d, c, g)| Op::Assign(d, c, g)),
        2 => d.clone().prop_map(Op::Toggle),
        1 => (d.clone(), 0u8..8, any::<bool>()).prop_map(|(d, p, g)| Op::Import(d, p, g)),
        1 => (d.clone(), 0u8..4, any::<u8>()).prop_map(|(d, n, m)| Op::QuickReply(d, n, m)),
        1 => (d.clone(), any::<u8>(), 0u8..4, any::<u8>()).prop_map(|(d, q, n, m)| Op::EditQuickReply(d, q, n, m)),
        1 => (d.clone(), any::<u8>()).prop_map(|(d, q)| Op::DeleteQuickReply(d, q)),
        1 => (d.clone(), 0u8..3, 1u8..8).prop_map(|(d, n, p)| Op::Role(d, n, p)),
        1 => (d, any::<u8>(), 0u8..3, 1u8..8).prop_map(|(d, r, n, p)| Op::EditRole(d, r, n, p)),
    ]
}

fn reply(n: u8, m: u8) -> crmconnect::chat::quick_replies::QuickReplyInput {
    crmconnect::chat::quick_replies::QuickReplyInput {
        name: format!("q{n}"),
        message: format!("message {m}"),
    }
}

fn role(n: u8, bits: u8) -> crmconnect::permissions::RoleInput {
    use crmconnect::permissions::{Action, Permission, Resource};
    let all = [
        Permission::new(Resource::WhatsappChat, Action::View),
        Permission::new(Resource::Leads, Action::View),
        Permission::new(Resource::Quickreplies, Action::View),
    ];
    crmconnect::permissions::RoleInput {
        name: format!("role {n}"),
        permissions: all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, p)| p)
            .collect(),
    }
}

async fn run_ops(ops: Vec<Op>) {
    let relay = TestRelay::sqlite().await;
    let mut desktops: Vec<TestWorkspace> = Vec::new();
    let mut tokens = Vec::new();
    // The same administrator on three computers: each desktop's own staff member is the one its
    // token names, as going live and joining make it.
    for _ in 0..3 {
        desktops.push(common::workspace().await);
        tokens.push(relay.token_for(common::OWNER, true, &[]).await);
    }
    let mut syncs: Vec<Option<SyncHandle>> = Vec::new();
    for (t, token) in desktops.iter().zip(&tokens) {
        syncs.push(Some(online(&t.ws, &relay, token).await));
    }
    let phone = |p: u8| format!("+1201555{:04}", 100 + p as u32);
    for op in ops {
        let d = match op {
            Op::Create(d, ..)
            | Op::Edit(d, ..)
            | Op::Delete(d, _)
            | Op::CreateGroup(d, _)
            | Op::RenameGroup(d, ..)
            | Op::DeleteGroup(d, _)
            | Op::Assign(d, ..)
            | Op::Import(d, ..)
            | Op::QuickReply(d, ..)
            | Op::EditQuickReply(d, ..)
            | Op::DeleteQuickReply(d, _)
            | Op::Role(d, ..)
            | Op::EditRole(d, ..)
            | Op::Toggle(d) => d,
        };
        let ws = desktops[d].ws.clone();
        let cx = ws.cx();
        let contacts = cx
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .contacts;
        let groups = cx.groups().await.unwrap();
        // Refusals (a number or name taken here) are part of the game: ignored.
        match op {
            Op::Create(_, p, n) => {
                let _ = cx
                    .create_contact(contact(&phone(p), &format!("c{n}"), vec![]))
                    .await;
            }
            Op::Edit(_, c, p, n) if !contacts.is_empty() => {
                let c = &contacts[c as usize % contacts.len()];
                let groups = c.group_ids.iter().copied().take(1).collect();
                let _ = cx
                    .update_contact(c.id, contact(&phone(p), &format!("e{n}"), groups))
                    .await;
            }
            Op::Delete(_, c) if !contacts.is_empty() => {
                let c = &contacts[c as usize % contacts.len()];
                let _ = cx.delete_contacts(vec![c.id]).await;
            }
            Op::CreateGroup(_, n) => {
                let _ = cx
                    .create_group(GroupInput {
                        name: format!("g{n}"),
                        description: format!("by {d}"),
                    })
                    .await;
            }
            Op::RenameGroup(_, g, n) if !groups.is_empty() => {
                let g = &groups[g as usize % groups.len()];
                let _ = cx
                    .update_group(
                        g.id,
                        GroupInput {
                            name: format!("g{n}"),
                            description: String::new(),
                        },
                    )
                    .await;
            }
            Op::DeleteGroup(_, g) if !groups.is_empty() => {
                let g = &groups[g as usize % groups.len()];
                let _ = cx.delete_group(g.id).await;
            }
            Op::Assign(_, c, g) if !contacts.is_empty() && !groups.is_empty() => {
                let c = &contacts[c as usize % contacts.len()];
                let g = &groups[g as usize % groups.len()];
                let _ = cx.assign_groups(vec![c.id], vec![g.id]).await;
            }
            Op::Import(_, p, into_group) => {
                let mut csv = String::from(
                    "name,phonenumber,company_name,address,city,state,country,description\n",
                );
                for k in 0..3 {
                    csv.push_str(&format!("i{p}-{k},{},,,,,,\n", phone((p + k) % 8)));
                }
                let path = desktops[d].dir.path().join("random.csv");
                std::fs::write(&path, csv).unwrap();
                let group_ids = match groups.first() {
                    Some(g) if into_group => vec![g.id],
                    _ => vec![],
                };
                let options = ImportOptions {
                    group_ids,
                    columns: None,
                };
                let _ = cx
                    .import_contacts(&path, options, Cancel::default(), |_| {})
                    .await;
            }
            Op::QuickReply(_, n, m) => {
                let _ = cx.create_quick_reply(reply(n, m)).await;
            }
            Op::EditQuickReply(_, q, n, m) => {
                let replies = cx.quick_replies().await.unwrap();
                if !replies.is_empty() {
                    let q = &replies[q as usize % replies.len()];
                    let _ = cx.update_quick_reply(q.id, reply(n, m)).await;
                }
            }
            Op::DeleteQuickReply(_, q) => {
                let replies = cx.quick_replies().await.unwrap();
                if !replies.is_empty() {
                    let q = &replies[q as usize % replies.len()];
                    let _ = cx.delete_quick_reply(q.id).await;
                }
            }
            Op::Role(_, n, p) => {
                let _ = cx.create_role(role(n, p)).await;
            }
            Op::EditRole(_, r, n, p) => {
                let roles: Vec<_> = cx
                    .list_roles()
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| !r.is_admin)
                    .collect();
                if !roles.is_empty() {
                    let r = &roles[r as usize % roles.len()];
                    let _ = cx.update_role(r.id, role(n, p)).await;
                }
            }
            Op::Toggle(_) => match syncs[d].take() {
                Some(s) => s.stop().await,
                None => syncs[d] = Some(online(&ws, &relay, &tokens[d]).await),
            },
            _ => {}
        }
    }
    for (d, s) in syncs.iter_mut().enumerate() {
        if s.is_none() {
            *s = Some(online(&desktops[d].ws, &relay, &tokens[d]).await);
        }
    }
    let all: Vec<&Arc<Workspace>> = desktops.iter().map(|t| &t.ws).collect();
    settled(&all).await;
    let first = dump(&desktops[0].ws).await;
    for t in &desktops[1..] {
        if dump(&t.ws).await != first {
            // The log, to read how they came apart.
            let log: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
                "SELECT seq, kind, staff, raw FROM sync_events WHERE kind NOT IN ('message', 'status') ORDER BY seq",
            )
            .fetch_all(desktops[0].ws.db())
            .await
            .unwrap();
            for (seq, kind, staff, raw) in log {
                eprintln!("{seq} {kind} {staff:?} {raw}");
            }
        }
        assert_eq!(dump(&t.ws).await, first, "the desktops diverged");
    }
    for s in syncs.into_iter().flatten() {
        s.stop().await;
    }
}

proptest! {
    // Six cases a run (each is three desktops and a relay); PROPTEST_CASES asks for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(6),
        max_shrink_iters: 20,
        ..ProptestConfig::default()
    })]
    #[test]
    fn random_work_on_three_desktops_with_disconnects_converges(ops in prop::collection::vec(op(), 10..40)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run_ops(ops));
    }
}
