//! Bots (issue 22): settings, drafts that must compile, numbered versions, activation that refuses
//! an overlapping trigger, the simulator; and bots as the team's (the log decides clashes).

use crate::common::*;
use crate::relay_support::TestRelay;
use crmconnect::ErrorCode;
use crmconnect::bots::{BotInput, BotKind, SimInput, SimRequest};
use crmconnect::flow::engine::AiResult;
use crmconnect::flow::trigger::Trigger;
use crmconnect::permissions::{Action, Permission, Resource};
use serde_json::json;

fn input(name: &str, kind: BotKind, trigger: Trigger) -> BotInput {
    BotInput {
        name: name.into(),
        kind,
        trigger,
        number_id: None,
    }
}

fn contains(t: &str) -> Trigger {
    Trigger::Contains { text: t.into() }
}

/// A menu flow as the editor exports it: a question with two buttons, an answer and a hand-off.
fn menu_export(title: &str) -> String {
    let flow: crmconnect::flow::Flow = serde_json::from_value(json!({ "nodes": [
        { "id": "1", "kind": "start", "next": { "next": "2" } },
        { "id": "2", "kind": "ask_buttons", "text": "Prices or a person?",
          "buttons": [ { "id": "prices", "title": title }, { "id": "person", "title": "A person" } ],
          "next": { "prices": "3", "person": "4" } },
        { "id": "3", "kind": "send_text", "text": "From 10 € a month, {{first_name}}." },
        { "id": "4", "kind": "hand_off", "to": { "to": "anyone" } }
    ]}))
    .unwrap();
    crmconnect::flow::drawflow::export(&flow, |i| (i as f64 * 250.0, 100.0)).to_string()
}

#[tokio::test]
async fn a_bot_is_made_drawn_published_and_activated() {
    let t = workspace().await;
    let cx = t.ws.cx();
    let bot = cx
        .create_bot(input("Prices", BotKind::Menu, contains("price")))
        .await
        .unwrap();
    assert_eq!(
        (bot.version, bot.active, bot.trigger_text.as_str()),
        (0, false, "contains “price”")
    );
    // A new bot opens on its kind's starter flow, which compiles.
    let draft = cx.bot(bot.id).await.unwrap();
    assert!(draft.drawflow.contains("ask_buttons"), "{}", draft.drawflow);

    // Never published: it cannot be activated.
    let refused = cx.set_bot_active(bot.id, true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict);
    assert_eq!(
        refused.to_string(),
        "“Prices” has no published version yet: publish it first"
    );

    // A title over WhatsApp's 20 characters is refused with its node, never cut.
    let refused = cx
        .save_bot_draft(bot.id, menu_export("Prices and packages 2027"))
        .await
        .unwrap_err();
    let api: crmconnect::ApiError = refused.into();
    assert_eq!(api.code, ErrorCode::Invalid);
    assert_eq!(api.fields.len(), 1);
    assert_eq!(api.fields[0].field, "node:2");
    assert!(
        api.fields[0]
            .message
            .contains("24 characters long; WhatsApp allows at most 20"),
        "{}",
        api.fields[0].message
    );
    assert_eq!(
        cx.bot(bot.id).await.unwrap().drawflow,
        draft.drawflow,
        "nothing stored was lost"
    );

    let saved = cx
        .save_bot_draft(bot.id, menu_export("Prices"))
        .await
        .unwrap();
    assert!(saved.unpublished_changes);
    let published = cx.publish_bot(bot.id).await.unwrap();
    assert_eq!(
        (published.version, published.unpublished_changes),
        (1, false)
    );
    let active = cx.set_bot_active(bot.id, true).await.unwrap();
    assert!(active.active);

    // A second version, then the first restored as the draft.
    cx.save_bot_draft(bot.id, menu_export("Our prices"))
        .await
        .unwrap();
    cx.publish_bot(bot.id).await.unwrap();
    let restored = cx.restore_bot_version(bot.id, 1).await.unwrap();
    assert_eq!((restored.version, restored.unpublished_changes), (2, true));
    let draft = cx.bot(bot.id).await.unwrap();
    assert_eq!(draft.drawflow, menu_export("Prices"));
    assert_eq!(
        draft
            .versions
            .iter()
            .map(|v| (v.version, v.nodes))
            .collect::<Vec<_>>(),
        vec![(2, 4), (1, 4)]
    );
    assert_eq!(
        cx.restore_bot_version(bot.id, 9).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    // Every change is in the Activity Log.
    for action in [
        "bots.create",
        "bots.save_draft",
        "bots.publish",
        "bots.activate",
        "bots.restore",
    ] {
        assert!(
            t.log_of(action).await.iter().any(|(o, _)| o == "ok"),
            "{action}"
        );
    }
    assert_eq!(
        t.log_of("bots.save_draft").await.len(),
        2,
        "the refused save is not a change"
    );
}

#[tokio::test]
async fn an_overlapping_trigger_is_refused_naming_both_bots() {
    let t = workspace().await;
    let cx = t.ws.cx();
    let mut ids = Vec::new();
    for (name, trigger) in [
        ("Prices", contains("price")),
        (
            "Price list",
            Trigger::Exact {
                text: "price list".into(),
            },
        ),
        ("Hours", contains("open")),
    ] {
        let bot = cx
            .create_bot(input(name, BotKind::Keyword, trigger))
            .await
            .unwrap();
        cx.publish_bot(bot.id).await.unwrap();
        ids.push(bot.id);
    }
    cx.set_bot_active(ids[0], true).await.unwrap();
    let refused = cx.set_bot_active(ids[1], true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict);
    assert_eq!(
        refused.to_string(),
        "“Price list” would answer the same messages as “Prices”, which is active (is “price list” / contains “price”): deactivate one, or change a trigger or a number"
    );
    cx.set_bot_active(ids[2], true).await.unwrap();
    // On another number it does not overlap.
    let mut other = input(
        "Price list",
        BotKind::Keyword,
        Trigger::Exact {
            text: "price list".into(),
        },
    );
    other.number_id = Some("1234567890".into());
    let elsewhere = cx
        .create_bot(BotInput {
            name: "Price list 2".into(),
            ..other.clone()
        })
        .await
        .unwrap();
    cx.update_bot(
        ids[0],
        BotInput {
            number_id: Some("1111".into()),
            ..input("Prices", BotKind::Keyword, contains("price"))
        },
    )
    .await
    .unwrap();
    cx.publish_bot(elsewhere.id).await.unwrap();
    cx.set_bot_active(elsewhere.id, true).await.unwrap();
    // Bad settings are named.
    let bad = cx
        .create_bot(input(
            "Orders",
            BotKind::Keyword,
            Trigger::Regex {
                pattern: "order (".into(),
            },
        ))
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("the pattern is not a regular expression"),
        "{bad}"
    );
    assert_eq!(
        cx.create_bot(input(" ", BotKind::Keyword, contains("x")))
            .await
            .unwrap_err()
            .to_string(),
        "the bot's name is empty"
    );
    let taken = cx
        .create_bot(input("hours", BotKind::Keyword, contains("x")))
        .await
        .unwrap_err();
    assert_eq!(
        (taken.code(), taken.to_string()),
        (
            ErrorCode::Conflict,
            "a bot named “hours” exists already".into()
        )
    );
}

#[tokio::test]
async fn duplicate_and_delete() {
    let t = workspace().await;
    let cx = t.ws.cx();
    let bot = cx
        .create_bot(input("Welcome", BotKind::Fallback, Trigger::FirstMessage))
        .await
        .unwrap();
    cx.publish_bot(bot.id).await.unwrap();
    cx.set_bot_active(bot.id, true).await.unwrap();
    let copy = cx.duplicate_bot(bot.id).await.unwrap();
    assert_eq!(
        (copy.name.as_str(), copy.active, copy.version),
        ("Welcome (copy)", false, 0)
    );
    assert_eq!(
        cx.bot(copy.id).await.unwrap().drawflow,
        cx.bot(bot.id).await.unwrap().drawflow
    );
    assert_eq!(
        cx.duplicate_bot(bot.id).await.unwrap().name,
        "Welcome (copy 2)"
    );
    // Two fallbacks on the same numbers overlap.
    cx.publish_bot(copy.id).await.unwrap();
    assert!(
        cx.set_bot_active(copy.id, true)
            .await
            .unwrap_err()
            .to_string()
            .contains("both are the fallback")
    );
    cx.delete_bot(bot.id).await.unwrap();
    assert_eq!(
        cx.bot(bot.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    cx.set_bot_active(copy.id, true).await.unwrap();
    assert_eq!(cx.bots().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_role_without_bots_is_refused_and_logged() {
    let t = workspace().await;
    let bot =
        t.ws.cx()
            .create_bot(input("Prices", BotKind::Keyword, contains("price")))
            .await
            .unwrap();
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::WhatsappBot, Action::View)],
    )
    .await;
    t.sign_in("viewer").await;
    assert_eq!(t.ws.cx().bots().await.unwrap().len(), 1);
    assert_eq!(
        code(t.ws.cx().publish_bot(bot.id).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        code(t.ws.cx().delete_bot(bot.id).await),
        ErrorCode::PermissionDenied
    );
    assert!(
        t.log_of("bots.delete")
            .await
            .iter()
            .any(|(o, _)| o == "denied")
    );
    t.staff_with("nobody", vec![]).await;
    t.sign_in("nobody").await;
    assert_eq!(code(t.ws.cx().bots().await), ErrorCode::PermissionDenied);
}

#[tokio::test]
async fn the_simulator_runs_a_draft_as_whatsapp_would_show_it() {
    let t = workspace().await;
    let cx = t.ws.cx();
    let turn = |session: Option<serde_json::Value>, input: SimInput| SimRequest {
        drawflow: menu_export("Prices"),
        session,
        input,
        window_open: true,
        business_hours: true,
        first_name: "Sam".into(),
    };
    let first = cx
        .simulate_bot(turn(
            None,
            SimInput::Begin {
                text: "price?".into(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        (first.at.as_deref(), first.waiting.as_str()),
        (Some("2"), "reply")
    );
    let shown = serde_json::to_value(&first.actions).unwrap();
    assert_eq!(shown[0]["message"]["type"], "buttons");
    assert_eq!(
        shown[0]["message"]["buttons"][0],
        json!(["prices", "Prices"])
    );
    let next = cx
        .simulate_bot(turn(
            Some(first.session.clone()),
            SimInput::Reply {
                id: "prices".into(),
                title: "Prices".into(),
            },
        ))
        .await
        .unwrap();
    let shown = serde_json::to_value(&next.actions).unwrap();
    assert_eq!(shown[0]["message"]["body"], "From 10 € a month, Sam.");
    assert_eq!(next.waiting, "ended");
    // A timeout fired at once: no timeout branch is drawn, so the session ends timed out.
    let timed = cx
        .simulate_bot(turn(Some(first.session.clone()), SimInput::Timer))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&timed.ended).unwrap(),
        json!({ "end": "timed_out" })
    );
    // AI results are the person's choice in the simulator.
    let ai = cx
        .simulate_bot(turn(
            Some(first.session),
            SimInput::Ai {
                result: AiResult::Error,
            },
        ))
        .await
        .unwrap();
    assert!(
        ai.actions.is_empty(),
        "not waiting for the AI: nothing happens"
    );
    // A draft that does not compile is named by node, as on save.
    let mut bad = turn(None, SimInput::Begin { text: "hi".into() });
    bad.drawflow = menu_export("A title that is far too long");
    let api: crmconnect::ApiError = cx.simulate_bot(bad).await.unwrap_err().into();
    assert_eq!(api.fields[0].field, "node:2");
}

#[tokio::test]
async fn bots_are_the_teams_and_the_log_decides_overlaps() {
    let relay = TestRelay::sqlite().await;
    let a = workspace().await;
    let b = workspace().await;
    let (ta, tb) = (
        relay.token_for(OWNER, true, &[]).await,
        relay.token_for("second", true, &[]).await,
    );
    // Offline, each makes and activates a bot on "price".
    let on_a =
        a.ws.cx()
            .create_bot(input("Prices", BotKind::Keyword, contains("price")))
            .await
            .unwrap();
    a.ws.cx()
        .save_bot_draft(on_a.id, menu_export("Prices"))
        .await
        .unwrap();
    a.ws.cx().publish_bot(on_a.id).await.unwrap();
    a.ws.cx().set_bot_active(on_a.id, true).await.unwrap();
    let on_b =
        b.ws.cx()
            .create_bot(input(
                "Prices",
                BotKind::Keyword,
                Trigger::Exact {
                    text: "price".into(),
                },
            ))
            .await
            .unwrap();
    b.ws.cx().publish_bot(on_b.id).await.unwrap();
    b.ws.cx().set_bot_active(on_b.id, true).await.unwrap();

    let sync_a = relay.online(&a.ws, &ta).await;
    eventually("A's published", || async {
        (a.ws.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    let sync_b = relay.online(&b.ws, &tb).await;
    let dump = |ws: std::sync::Arc<crmconnect::Workspace>| async move {
        let mut rows: Vec<String> = ws
            .cx()
            .bots()
            .await
            .unwrap()
            .into_iter()
            .map(|b| format!("{} {} v{} active={}", b.uid, b.name, b.version, b.active))
            .collect();
        rows.sort();
        rows
    };
    let same = eventually("the same bots on both", || async {
        let (x, y) = (dump(a.ws.clone()).await, dump(b.ws.clone()).await);
        (b.ws.outbox_len().await.unwrap() == 0 && x == y && x.len() == 2).then_some(x)
    })
    .await;
    let a_row = same.iter().find(|r| r.starts_with(&on_a.uid)).unwrap();
    let b_row = same.iter().find(|r| r.starts_with(&on_b.uid)).unwrap();
    assert!(
        a_row.ends_with(" Prices v1 active=true"),
        "the first in the log keeps its name and stays on: {same:#?}"
    );
    assert!(
        b_row.contains(&format!("Prices ({})", &on_b.uid[on_b.uid.len() - 8..]))
            && b_row.ends_with("active=false"),
        "{same:#?}"
    );
    // The draft and the version travelled.
    let seen = eventually("A's version on B", || async {
        let bot =
            b.ws.cx()
                .bots()
                .await
                .unwrap()
                .into_iter()
                .find(|x| x.uid == on_a.uid)?;
        let draft = b.ws.cx().bot(bot.id).await.unwrap();
        (draft.versions.len() == 1).then_some(draft)
    })
    .await;
    assert_eq!(seen.drawflow, menu_export("Prices"));
    // B's own row says it stayed inactive and why.
    let clash: Vec<(String, String)> = sqlx::query_as(
        "SELECT outcome, target FROM activity_log WHERE action = 'team.clash' ORDER BY id",
    )
    .fetch_all(b.ws.db())
    .await
    .unwrap();
    assert!(
        clash
            .iter()
            .any(|(_, target)| target.contains("stays inactive: “Prices” was active first")),
        "{clash:#?}"
    );
    // A deletes A's bot: gone on B.
    a.ws.cx().delete_bot(on_a.id).await.unwrap();
    eventually("the deletion on B", || async {
        (!b.ws
            .cx()
            .bots()
            .await
            .unwrap()
            .iter()
            .any(|x| x.uid == on_a.uid))
        .then_some(())
    })
    .await;
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
}

/// Business hours (Settings → Bots) are the team's: set by an administrator on one desktop,
/// the runner's replica reads the same hours in the same time zone; a bad time zone or a day
/// closing before it opens is refused by name, and someone not an administrator cannot set them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_hours_are_the_teams_and_read_in_their_time_zone() {
    use crmconnect::bots::{BusinessHours, DayHours};
    let relay = TestRelay::sqlite().await;
    let (a, b) = (workspace().await, workspace().await);
    let _sa = relay
        .online(&a.ws, &relay.token_for(OWNER, true, &[]).await)
        .await;
    let _sb = relay
        .online(&b.ws, &relay.token_for("second", true, &[]).await)
        .await;
    let before = b.ws.cx().business_hours().await.unwrap();
    assert!(before.default && before.time_zone == "UTC", "{before:?}");

    let open = Some(DayHours {
        opens: 8 * 60,
        closes: 20 * 60,
    });
    let hours = BusinessHours {
        time_zone: "Europe/Bucharest".into(),
        days: vec![open, open, open, open, open, open, None],
        default: false,
    };
    let mut bad = hours.clone();
    bad.time_zone = "Europe/Atlantis".into();
    let e = a.ws.cx().set_business_hours(bad).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("“Europe/Atlantis” is not a time zone"),
        "{e}"
    );
    let mut bad = hours.clone();
    bad.days[5] = Some(DayHours {
        opens: 600,
        closes: 600,
    });
    let e = a.ws.cx().set_business_hours(bad).await.unwrap_err();
    assert!(
        e.to_string().contains("Saturday closes before it opens"),
        "{e}"
    );

    a.ws.cx().set_business_hours(hours.clone()).await.unwrap();
    let on_b = eventually("A's hours on B", || async {
        let h = b.ws.cx().business_hours().await.unwrap();
        (!h.default).then_some(h)
    })
    .await;
    assert_eq!(on_b, hours);
    // Saturday 2026-12-12 at 7:30 UTC is 9:30 in Bucharest: open there, not in UTC's default.
    let saturday = (1_797_058_800 + 30 * 60) * 1000;
    assert!(on_b.open_at(saturday) && !before.open_at(saturday));
    assert_eq!(t_log(&a, "settings.business_hours").await, 1);

    a.staff_with(
        "viewer",
        vec![Permission::new(Resource::WhatsappBot, Action::View)],
    )
    .await;
    a.sign_in("viewer").await;
    let refused = a.ws.cx().set_business_hours(hours).await;
    assert_eq!(code(refused), ErrorCode::PermissionDenied);
}

async fn t_log(t: &TestWorkspace, action: &str) -> usize {
    t.log_of(action).await.len()
}
