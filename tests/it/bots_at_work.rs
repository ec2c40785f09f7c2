//! Bots at work (issue 22) against the sandbox: the desktop that holds the automation lease runs
//! an active bot; a customer triggers it, taps a button, gets that branch's answer, asks for a
//! person; a person writing silences the bot; the thread marks the bot's messages.

use std::time::Duration;

use crate::common::*;
use crmconnect::Workspace;
use crmconnect::bots::{BotInput, BotKind};
use crmconnect::chat::content::MessageContent;
use crmconnect::chat::{ChatMessage, ConversationFilter};
use crmconnect::flow::trigger::Trigger;
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::{CustomerMessage, SandboxConfig};

async fn desktop() -> (TestWorkspace, Runtime) {
    let t = workspace().await;
    let config = SandboxConfig {
        delivery_delay: Duration::from_millis(50),
        read_delay: Duration::from_millis(50),
        template_approval_delay: Duration::ZERO,
        ..SandboxConfig::default()
    };
    let e = Runtime::start(t.ws.clone(), RuntimeOptions { sandbox: config })
        .await
        .expect("embedded sandbox");
    (t, e)
}

/// A menu bot on "price": the starter menu (Prices → a text; Talk to a person → hand-off).
pub(crate) async fn menu_bot(ws: &Workspace) -> i64 {
    let cx = ws.cx();
    let bot = cx
        .create_bot(BotInput {
            name: "Prices".into(),
            kind: BotKind::Menu,
            trigger: Trigger::Contains {
                text: "price".into(),
            },
            number_id: None,
        })
        .await
        .unwrap();
    cx.publish_bot(bot.id).await.unwrap();
    cx.set_bot_active(bot.id, true).await.unwrap();
    bot.id
}

/// [`menu_bot`], once this desktop runs automation.
async fn menu_bot_at_work(ws: &Workspace) {
    menu_bot(ws).await;
    eventually("this desktop runs automation", || async {
        ws.handlers().runs_automation().then_some(())
    })
    .await;
}

/// A bot with this flow (its nodes as stored), published and on; returns once this desktop runs
/// automation.
async fn bot_with_flow(
    ws: &Workspace,
    name: &str,
    kind: BotKind,
    trigger: Trigger,
    nodes: serde_json::Value,
) {
    let cx = ws.cx();
    let bot = cx
        .create_bot(BotInput {
            name: name.into(),
            kind,
            trigger,
            number_id: None,
        })
        .await
        .unwrap();
    let flow: crmconnect::flow::Flow =
        serde_json::from_value(serde_json::json!({ "nodes": nodes })).unwrap();
    let at = crmconnect::flow::drawflow::layout(&flow);
    cx.save_bot_draft(
        bot.id,
        crmconnect::flow::drawflow::export(&flow, |i| at[i]).to_string(),
    )
    .await
    .unwrap();
    cx.publish_bot(bot.id).await.unwrap();
    cx.set_bot_active(bot.id, true).await.unwrap();
    eventually("this desktop runs automation", || async {
        ws.handlers().runs_automation().then_some(())
    })
    .await;
}

async fn thread(ws: &Workspace) -> Vec<ChatMessage> {
    let Some(c) = ws
        .cx()
        .conversations(ConversationFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    ws.cx()
        .thread(c.id, None, Some(500))
        .await
        .unwrap()
        .messages
}

/// The thread as lines: `> text` from the customer, `bot: …` from a bot, `person: …` from a person.
async fn lines(ws: &Workspace) -> Vec<String> {
    thread(ws)
        .await
        .into_iter()
        .map(|m| {
            let text = match &m.content {
                MessageContent::Text { body } => body.clone(),
                MessageContent::Interactive { body, options, .. } => {
                    format!("{body} [{}]", options.join(" | "))
                }
                MessageContent::ButtonReply { title, .. } => format!("tapped {title}"),
                other => other.preview(),
            };
            match (m.outbound, &m.bot) {
                (false, _) => format!("> {text}"),
                (true, Some(bot)) => format!("{bot}: {text}"),
                (true, None) => format!("person: {text}"),
            }
        })
        .collect()
}

async fn until_lines(ws: &Workspace, n: usize) -> Vec<String> {
    eventually(&format!("{n} lines in the thread"), || async {
        let l = lines(ws).await;
        (l.len() >= n).then_some(l)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_triggers_a_menu_bot_picks_a_branch_and_asks_for_a_person() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    menu_bot_at_work(ws).await;
    let sandbox = e.embedded().unwrap().sandbox();

    sandbox
        .customer_sends(
            "ana",
            CustomerMessage::text("Hi, what is the price of a roof check?"),
        )
        .unwrap();
    let l = until_lines(ws, 2).await;
    assert_eq!(
        l[1], "Prices: Hi Ana! How can we help? [Prices | Talk to a person]",
        "{l:#?}"
    );

    sandbox
        .customer_sends(
            "ana",
            CustomerMessage::ButtonReply {
                id: "prices".into(),
                title: "Prices".into(),
            },
        )
        .unwrap();
    let l = until_lines(ws, 4).await;
    assert_eq!(
        l[2..],
        [
            "> tapped Prices".to_owned(),
            "Prices: Our prices start at …".to_owned()
        ],
        "{l:#?}"
    );
    let meta_saw = eventually("Meta accepted the bot's messages", || async {
        let t = thread(ws).await;
        t.iter()
            .filter(|m| m.bot.is_some())
            .all(|m| m.wamid.is_some())
            .then_some(t.len())
    })
    .await;
    assert_eq!(meta_saw, 4);

    // Again: this time the customer asks for a person. The bot hands over and stops.
    let mut notices = ws.chat_notices();
    sandbox
        .customer_sends("ana", CustomerMessage::text("price again please"))
        .unwrap();
    until_lines(ws, 6).await;
    sandbox
        .customer_sends(
            "ana",
            CustomerMessage::ButtonReply {
                id: "person".into(),
                title: "Talk to a person".into(),
            },
        )
        .unwrap();
    let notice = eventually("the hand-off notice", || {
        let n = notices.try_recv().ok();
        async move { n.filter(|n| n.inbound && n.sender.as_deref() == Some("🤖 Prices")) }
    })
    .await;
    assert_eq!(
        notice.preview.as_deref(),
        Some("The customer asks for a person")
    );
    assert!(
        t.log_of("bots.handed_off")
            .await
            .iter()
            .any(|(o, _)| o == "ok")
    );
    assert_eq!(t.log_of("bots.triggered").await.len(), 2, "triggered twice");

    // A message that matches no trigger, with no live session: no bot answers.
    sandbox
        .customer_sends("ana", CustomerMessage::text("hello? anyone?"))
        .unwrap();
    let l = until_lines(ws, 8).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(lines(ws).await, l, "nobody answered “hello?”");
    assert_eq!(l.last().unwrap(), "> hello? anyone?");

    // The figures by node: two sessions went through the question; one took Prices, one a person.
    let bot = ws.cx().bots().await.unwrap().remove(0);
    let f = ws.cx().bot_figures_by_node(bot.id).await.unwrap();
    let row = |id: &str| {
        let n = f.nodes.iter().find(|n| n.node == id).unwrap();
        (n.visits, n.waiting, n.timeouts, n.handoffs, n.messages)
    };
    assert_eq!((f.version, f.sessions), (1, 2));
    assert_eq!(row("2"), (2, 0, 0, 0, 2), "the question");
    assert_eq!(row("3"), (1, 0, 0, 0, 1), "the prices");
    assert_eq!(row("4"), (1, 0, 0, 1, 0), "the hand-off");
    assert!(f.stranded.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_writing_silences_the_bot() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    menu_bot_at_work(ws).await;
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox
        .customer_sends("ana", CustomerMessage::text("price?"))
        .unwrap();
    until_lines(ws, 2).await;
    // The owner answers in person while the bot waits for a button.
    let c = ws
        .cx()
        .conversations(ConversationFilter::default())
        .await
        .unwrap()
        .items
        .remove(0);
    ws.cx()
        .send_text(c.id, text("I'll call you in five minutes, Ana."))
        .await
        .unwrap();
    until_lines(ws, 3).await;
    sandbox
        .customer_sends(
            "ana",
            CustomerMessage::ButtonReply {
                id: "prices".into(),
                title: "Prices".into(),
            },
        )
        .unwrap();
    sandbox
        .customer_sends("ana", CustomerMessage::text("and the price of gutters?"))
        .unwrap();
    let l = until_lines(ws, 5).await;
    // Past the debounce a burst waits out, and a tick of the timers.
    tokio::time::sleep(Duration::from_millis(
        crmconnect::bots::host::DEBOUNCE_MS as u64 + 1_000,
    ))
    .await;
    let l2 = lines(ws).await;
    assert_eq!(l2, l, "the bot stayed silent");
    assert_eq!(
        l2,
        vec![
            "> price?".to_owned(),
            "Prices: Hi Ana! How can we help? [Prices | Talk to a person]".to_owned(),
            "person: I'll call you in five minutes, Ana.".to_owned(),
            "> tapped Prices".to_owned(),
            "> and the price of gutters?".to_owned(),
        ]
    );
}

/// People write in bursts: three messages within the debounce are one turn, so the bot answers
/// once. Without it the menu would go out three times (each follow-up is no choice: asked again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_messages_is_one_turn_and_the_bot_answers_once() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    menu_bot_at_work(ws).await;
    let sandbox = e.embedded().unwrap().sandbox();
    for said in ["price?", "hello?", "anyone there?"] {
        sandbox
            .customer_sends("ana", CustomerMessage::text(said))
            .unwrap();
    }
    let l = until_lines(ws, 4).await;
    tokio::time::sleep(Duration::from_millis(
        crmconnect::bots::host::DEBOUNCE_MS as u64 + 1_000,
    ))
    .await;
    assert_eq!(lines(ws).await, l, "nothing more came");
    assert_eq!(
        l,
        vec![
            "> price?".to_owned(),
            "> hello?".to_owned(),
            "> anyone there?".to_owned(),
            "Prices: Hi Ana! How can we help? [Prices | Talk to a person]".to_owned(),
        ]
    );
    assert_eq!(bot_sends(ws).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_reminds_then_times_out_on_durable_timers() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let cx = ws.cx();
    bot_with_flow(
        ws,
        "Patient",
        BotKind::Menu,
        Trigger::Contains {
                text: "price".into(),
            },
        serde_json::json!([
        { "id": "1", "kind": "start", "next": { "next": "2" } },
        { "id": "2", "kind": "ask_buttons", "text": "Roof or gutters?",
          "buttons": [ { "id": "roof", "title": "Roof" }, { "id": "gutters", "title": "Gutters" } ],
          "wait": { "seconds": 3600, "remind_before": 600, "reminder": "Still there, {{first_name}}?" },
          "next": { "timeout": "3" } },
        { "id": "3", "kind": "send_text", "text": "Bye for now: write “price” any time." }
        ]),
    )
    .await;
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox
        .customer_sends("ana", CustomerMessage::text("price for a roof?"))
        .unwrap();
    until_lines(ws, 2).await;
    sandbox.clock().advance(Duration::from_secs(3001));
    let l = until_lines(ws, 3).await;
    assert_eq!(l[2], "Patient: Still there, Ana?");
    sandbox.clock().advance(Duration::from_secs(601));
    let l = until_lines(ws, 4).await;
    assert_eq!(l[3], "Patient: Bye for now: write “price” any time.");
    // The figures of the list: one conversation, three messages this month.
    // (A message reaches the thread just before its session is stored.)
    let listed = eventually("the list counts the third message", || async {
        let b = cx.bots().await.unwrap().remove(0);
        (b.messages_this_month == 3).then_some(b)
    })
    .await;
    assert_eq!(
        (listed.conversations_this_month, listed.messages_this_month),
        (1, 3)
    );
    assert!(listed.last_active_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ai_bot_answers_from_its_knowledge_text_through_the_sandbox_stand_in() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let cx = ws.cx();
    let settings = cx.ai_settings().await.unwrap();
    assert!(
        settings.sandbox_stand_in && settings.base_url.is_empty(),
        "{settings:?}"
    );
    bot_with_flow(
        ws,
        "Assistant",
        BotKind::Ai,
        Trigger::FirstMessage,
        serde_json::json!([
        { "id": "1", "kind": "start", "next": { "next": "2" } },
        { "id": "2", "kind": "ai_reply", "system": "You answer for Roofs & Co.",
          "knowledge": "We open at 9 and close at 18. Roof checks cost 80 euros. Gutters are cleaned in spring.",
          "only_knowledge": true, "next": { "answered": "3", "person": "4", "unanswered": "5" } },
        { "id": "3", "kind": "ask_input", "text": "Anything else?", "input": "text", "var": "q", "next": { "valid": "2" } },
        { "id": "4", "kind": "hand_off", "to": { "to": "anyone" } },
        { "id": "5", "kind": "send_text", "text": "Let me ask a colleague." }
        ]),
    )
    .await;
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox
        .customer_sends("ana", CustomerMessage::text("Hi! When do you open?"))
        .unwrap();
    let l = until_lines(ws, 3).await;
    assert_eq!(
        l[1..],
        [
            "Assistant: We open at 9 and close at 18.".to_owned(),
            "Assistant: Anything else?".to_owned()
        ],
        "{l:#?}"
    );
    sandbox
        .customer_sends("ana", CustomerMessage::text("How much is a roof check?"))
        .unwrap();
    let l = until_lines(ws, 6).await;
    assert_eq!(
        l[4..],
        [
            "Assistant: Roof checks cost 80 euros.".to_owned(),
            "Assistant: Anything else?".to_owned()
        ],
        "{l:#?}"
    );
    sandbox
        .customer_sends("ana", CustomerMessage::text("Do you sell bikes?"))
        .unwrap();
    let l = until_lines(ws, 8).await;
    assert_eq!(l[7], "Assistant: Let me ask a colleague.", "{l:#?}");

    // Without an endpoint a live workspace's AI node takes its error branch, and the log says why.
    let bad = cx
        .set_ai_settings(crmconnect::bots::AiSettingsInput {
            base_url: "ftp://x".into(),
            model: "m".into(),
            key: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "“ftp://x” is not a web address (https://…/v1)"
    );
    let set = cx
        .set_ai_settings(crmconnect::bots::AiSettingsInput {
            base_url: "http://127.0.0.1:9/v1/".into(),
            model: "llama3.1".into(),
            key: Some("sk-test".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        (set.base_url.as_str(), set.has_key, set.sandbox_stand_in),
        ("http://127.0.0.1:9/v1", true, false)
    );
}

/// A customer's message as Meta's webhook carries it, sent now.
fn inbound_now(wamid: &str, from: &str, text: &str) -> String {
    let now = (crmconnect::now_ms() / 1000).to_string();
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Customer"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": now, "type": "text", "text": {"body": text}}]}}]}]
    })
    .to_string()
}

/// Each desktop's bot messages (its own sends: another desktop's reach it only once Meta took them).
async fn bot_sends(ws: &Workspace) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE bot IS NOT NULL")
        .fetch_one(ws.db())
        .await
        .unwrap()
}

/// `ws` asks `relay` for the automation lease (as a desktop) and runs automation while it holds
/// it: the stop, the lease task and the automation task.
fn automation_through(
    relay: &crate::relay_support::TestRelay,
    ws: std::sync::Arc<Workspace>,
    token: String,
    holder: &'static str,
) -> (
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<()>,
    tokio::task::JoinHandle<()>,
) {
    use crmconnect::runner::{RunnerState, automate, hold_lease};
    let client = crmconnect::sync::relay_client::RelayClient::new(
        &relay.handle.url(),
        crmconnect::sensitive::Sensitive::new(token),
    )
    .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(RunnerState::Starting);
    let stop = tokio_util::sync::CancellationToken::new();
    let auto = automate(ws, rx, stop.clone());
    let s = stop.clone();
    let task = tokio::spawn(async move {
        hold_lease(&client, holder, true, &tx, &s).await;
        if matches!(*tx.borrow(), RunnerState::Active { .. }) {
            let _ = client.release_lease(holder).await;
        }
    });
    (stop, task, auto)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desktops_on_one_relay_answer_once_and_the_other_takes_over() {
    use crate::relay_support::TestRelay;

    let relay = TestRelay::sqlite_with(|c| c.limits.lease_ttl_ms = 1500).await;
    let a = workspace().await;
    let b = workspace().await;
    let (ta, tb) = (
        relay.token_for(OWNER, true, &[]).await,
        relay.token_for("second", true, &[]).await,
    );
    let sync_a = relay.online(&a.ws, &ta).await;
    let sync_b = relay.online(&b.ws, &tb).await;
    menu_bot(&a.ws).await;
    eventually("the bot active on B too", || async {
        b.ws.cx()
            .bots()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.active && x.version == 1)
            .map(|_| ())
    })
    .await;

    // Both desktops ask for the lease; each runs automation only while it holds it.
    let (stop_a, task_a, auto_a) =
        automation_through(&relay, a.ws.clone(), ta.clone(), "desktop@a");
    eventually("A holds the lease", || async {
        a.ws.handlers().runs_automation().then_some(())
    })
    .await;
    let (stop_b, task_b, auto_b) =
        automation_through(&relay, b.ws.clone(), tb.clone(), "desktop@b");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!b.ws.handlers().runs_automation(), "one holder at a time");

    for (i, from) in ["16505550001", "16505550002", "16505550003"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            relay
                .post_signed(&inbound_now(
                    &format!("wamid.q{i}"),
                    from,
                    "what is the price?"
                ))
                .await
                .0,
            200
        );
    }
    eventually("A's bot answered the three", || async {
        (bot_sends(&a.ws).await == 3).then_some(())
    })
    .await;
    eventually("B has the three messages", || async {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE direction = 'in'")
                .fetch_one(b.ws.db())
                .await
                .unwrap();
        (n == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bot_sends(&b.ws).await, 0, "B did not answer too");

    // A stops (its lease let go): B takes over and answers the next one.
    stop_a.cancel();
    let _ = task_a.await;
    let _ = auto_a.await;
    eventually("B holds the lease", || async {
        b.ws.handlers().runs_automation().then_some(())
    })
    .await;
    assert_eq!(
        relay
            .post_signed(&inbound_now("wamid.q9", "16505550009", "a price please"))
            .await
            .0,
        200
    );
    eventually("B's bot answered", || async {
        (bot_sends(&b.ws).await == 1).then_some(())
    })
    .await;
    assert_eq!(bot_sends(&a.ws).await, 3);

    stop_b.cancel();
    let _ = task_b.await;
    let _ = auto_b.await;
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_node_never_reaches_inside_the_network_unless_an_admin_allows_the_host() {
    // The shop's order service, on this machine.
    let app = axum::Router::new().route(
        "/orders/{id}",
        axum::routing::get(
            |axum::extract::Path(id): axum::extract::Path<String>| async move {
                axum::Json(serde_json::json!({ "order": { "id": id, "status": "shipped" } }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (t, e) = desktop().await;
    let ws = &t.ws;
    let cx = ws.cx();
    bot_with_flow(
        ws,
        "Orders",
        BotKind::Keyword,
        Trigger::Regex {
                pattern: r"^A\d+$".into(),
            },
        serde_json::json!([
        { "id": "1", "kind": "start", "next": { "next": "2" } },
        { "id": "2", "kind": "http", "method": "GET", "url": format!("http://127.0.0.1:{port}/orders/{{{{last_message}}}}"),
          "map": [["status", "/order/status"]], "timeout_ms": 2000, "next": { "success": "3", "failure": "4" } },
        { "id": "3", "kind": "send_text", "text": "Your order {{last_message}} is {{status}}." },
        { "id": "4", "kind": "send_text", "text": "Sorry, our shop is not answering." }
        ]),
    )
    .await;
    let sandbox = e.embedded().unwrap().sandbox();

    sandbox
        .customer_sends("ana", CustomerMessage::text("A17"))
        .unwrap();
    let l = until_lines(ws, 2).await;
    assert_eq!(
        l[1], "Orders: Sorry, our shop is not answering.",
        "127.0.0.1 is inside the network: {l:#?}"
    );
    let why: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM activity_log WHERE action = 'bots.http'")
            .fetch_all(ws.db())
            .await
            .unwrap();
    assert!(
        why[0].starts_with("127.0.0.1 is an address inside the network"),
        "{why:?}"
    );

    let hosts = cx
        .set_bot_http_hosts(vec![" 127.0.0.1 ".into()])
        .await
        .unwrap();
    assert_eq!(hosts, ["127.0.0.1"]);
    assert!(
        cx.set_bot_http_hosts(vec!["http://x/".into()])
            .await
            .unwrap_err()
            .to_string()
            .contains("is not a host name")
    );
    sandbox
        .customer_sends("ana", CustomerMessage::text("A18"))
        .unwrap();
    let l = until_lines(ws, 4).await;
    assert_eq!(l[3], "Orders: Your order A18 is shipped.", "{l:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_meta_reports_later_takes_the_nodes_failure_branch() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    bot_with_flow(
        ws,
        "Careful",
        BotKind::Menu,
        Trigger::Contains { text: "price".into() },
        serde_json::json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "send_text", "text": "Hello!", "next": { "next": "3", "failed": "4" } },
            { "id": "3", "kind": "ask_buttons", "text": "Roof or gutters?",
              "buttons": [ { "id": "roof", "title": "Roof" }, { "id": "gutters", "title": "Gutters" } ],
              "next": { "failed": "4" } },
            { "id": "4", "kind": "hand_off", "to": { "to": "anyone" } }
        ]),
    )
    .await;
    let sandbox = e.embedded().unwrap().sandbox();
    // Meta takes every message, then reports it failed (131026) in a status webhook.
    sandbox.set_failure_rate(1.0);
    sandbox
        .customer_sends("ana", CustomerMessage::text("price?"))
        .unwrap();
    until_lines(ws, 3).await;
    eventually("the failure branch's hand-off", || async {
        t.log_of("bots.handed_off")
            .await
            .into_iter()
            .find(|(o, _)| o == "ok")
    })
    .await;
    // The log entry and the session's end are written in turn: wait for the end.
    eventually("the session ended by the hand-off", || async {
        let ended: Vec<Option<String>> = sqlx::query_scalar("SELECT ended FROM bot_sessions")
            .fetch_all(ws.db())
            .await
            .unwrap();
        (ended == [Some(r#"{"end":"handed_off"}"#.to_owned())]).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_goes_on_in_another_bot() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    // "Prices" is published but off: only the router starts it.
    let prices = ws
        .cx()
        .create_bot(BotInput {
            name: "Prices".into(),
            kind: BotKind::Menu,
            trigger: Trigger::Exact {
                text: "menu".into(),
            },
            number_id: None,
        })
        .await
        .unwrap();
    ws.cx().publish_bot(prices.id).await.unwrap();
    bot_with_flow(
        ws,
        "Router",
        BotKind::Keyword,
        Trigger::Contains { text: "help".into() },
        serde_json::json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "send_text", "text": "Let me pass you on.", "next": { "next": "3" } },
            { "id": "3", "kind": "go_to_bot", "bot": "Prices" }
        ]),
    )
    .await;
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox
        .customer_sends("ana", CustomerMessage::text("help with prices"))
        .unwrap();
    let l = until_lines(ws, 3).await;
    assert_eq!(
        l[1..],
        [
            "Router: Let me pass you on.".to_owned(),
            "Prices: Hi Ana! How can we help? [Prices | Talk to a person]".to_owned()
        ],
        "{l:#?}"
    );
    sandbox
        .customer_sends(
            "ana",
            CustomerMessage::ButtonReply {
                id: "prices".into(),
                title: "Prices".into(),
            },
        )
        .unwrap();
    let l = until_lines(ws, 5).await;
    assert_eq!(l[4], "Prices: Our prices start at …");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_publishing_the_sessions_waiting_at_a_removed_node_are_counted() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let id = menu_bot(ws).await;
    eventually("this desktop runs automation", || async {
        ws.handlers().runs_automation().then_some(())
    })
    .await;
    e.embedded()
        .unwrap()
        .sandbox()
        .customer_sends("ana", CustomerMessage::text("price?"))
        .unwrap();
    until_lines(ws, 2).await;
    // A draft without the question the customer is waiting at.
    let flow: crmconnect::flow::Flow = serde_json::from_value(serde_json::json!({ "nodes": [
        { "id": "1", "kind": "start", "next": { "next": "9" } },
        { "id": "9", "kind": "send_text", "text": "Our prices: see the website." }
    ]}))
    .unwrap();
    let at = crmconnect::flow::drawflow::layout(&flow);
    ws.cx()
        .save_bot_draft(
            id,
            crmconnect::flow::drawflow::export(&flow, |i| at[i]).to_string(),
        )
        .await
        .unwrap();
    // The bot's question reaches the thread just before its session is stored.
    let f = eventually("the session waiting at the question", || async {
        let f = ws.cx().bot_figures_by_node(id).await.unwrap();
        (!f.stranded.is_empty()).then_some(f)
    })
    .await;
    assert_eq!(
        f.stranded,
        vec![crmconnect::bots::Stranded {
            node: "2".into(),
            version: 1,
            sessions: 1
        }]
    );
    assert_eq!(f.nodes.iter().find(|n| n.node == "2").unwrap().waiting, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_files_the_customer_in_a_group_and_sets_a_field() {
    // A customer with a real number (the sandbox's are 555 numbers, which no Bulk Contact takes).
    let relay = crate::relay_support::TestRelay::sqlite().await;
    let t = workspace().await;
    let ws = &t.ws;
    let token = relay.token_for(OWNER, true, &[]).await;
    let sync = relay.online(ws, &token).await;
    let (stop, task, auto) = automation_through(&relay, ws.clone(), token, "desktop@filer");
    let vip = ws
        .cx()
        .create_group(crmconnect::contacts::GroupInput {
            name: "VIP".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    bot_with_flow(
        ws,
        "Filer",
        BotKind::Keyword,
        Trigger::Contains { text: "lyon".into() },
        serde_json::json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "update_contact", "change": { "change": "add_to_group", "group": "vip" }, "next": { "next": "3" } },
            { "id": "3", "kind": "update_contact", "change": { "change": "field", "field": "city", "value": "Lyon" }, "next": { "next": "4" } },
            { "id": "4", "kind": "update_contact", "change": { "change": "field", "field": "shoe size", "value": "42" }, "next": { "next": "5" } },
            { "id": "5", "kind": "send_text", "text": "Noted." }
        ]),
    )
    .await;
    let hello = inbound_now("wamid.lyon", "33612345678", "Hello from Lyon");
    assert_eq!(relay.post_signed(&hello).await.0, 200);
    eventually("the bot's answer", || async {
        (bot_sends(ws).await == 1).then_some(())
    })
    .await;
    // The bot's changes are this desktop's own events too: while the first (the contact made,
    // no city yet) comes back from the relay it shows for a moment over the later one (issue 17
    // still has this flicker for Bulk Contacts). What counts is where it settles.
    eventually("the customer filed in VIP, in Lyon", || async {
        let contacts = ws.cx().contacts(Default::default()).await.unwrap().contacts;
        let customer = contacts.into_iter().find(|c| c.phone == "+33612345678")?;
        (customer.group_ids == [vip.id] && customer.city == "Lyon").then_some(())
    })
    .await;
    let why: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM activity_log WHERE action = 'bots.update_contact'")
            .fetch_all(ws.db())
            .await
            .unwrap();
    assert!(
        why.iter()
            .any(|w| w.starts_with("“shoe size” is not a contact field")),
        "{why:?}"
    );
    stop.cancel();
    let _ = task.await;
    let _ = auto.await;
    sync.stop().await;
    relay.stop().await;
}
