//! Every kind Meta sends, shown as it is: payloads shaped as Meta's webhook reference documents
//! them, split by the relay's own splitter, stored and sent on as the relay does, applied by the
//! desktop's sync into what the chat shows.

use crate::common::{eventually, first_conversation, workspace};
use crmconnect::Workspace;
use crmconnect::chat::{ChatMessage, MessageContent, MessageStatus};
use crmconnect::relay::events::{ReceivedEvent, StoredEvent, split_webhook};
use serde_json::{Value, json};

const CUSTOMER: &str = "16505551234";

/// A `messages` webhook as Meta posts it, around `items` (messages or statuses).
fn webhook(list: &str, items: Value) -> Value {
    envelope(
        json!({"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}),
        list,
        items,
    )
}

/// The same, naming the customer as `contact`.
fn envelope(contact: Value, list: &str, items: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [contact],
            list: items
        }
    }]}]})
}

fn message(id: &str, ts: i64, rest: Value) -> Value {
    from_customer(id, ts, Some(CUSTOMER), None, None, rest)
}

/// What the relay would stream for this body: its splitter, its stored shape, the wire.
fn through_relay(seq: &mut i64, body: &Value) -> Vec<ReceivedEvent> {
    split_webhook(body.to_string().as_bytes())
        .unwrap()
        .into_iter()
        .map(|event| {
            *seq += 1;
            let stored = StoredEvent {
                seq: *seq,
                received_at: 1_750_000_000_000 + *seq,
                event,
            };
            serde_json::from_str(&stored.to_json()).unwrap()
        })
        .collect()
}

struct Feed<'a> {
    ws: &'a Workspace,
    seq: i64,
}

impl Feed<'_> {
    async fn post(&mut self, body: Value) {
        let events = through_relay(&mut self.seq, &body);
        self.ws.apply_synced(&events).await.unwrap();
    }

    async fn thread(&self) -> Vec<ChatMessage> {
        let c = first_conversation(self.ws).await.unwrap();
        self.ws
            .cx()
            .thread(c.id, None, None)
            .await
            .unwrap()
            .messages
    }

    async fn by_wamid(&self, wamid: &str) -> ChatMessage {
        self.thread()
            .await
            .into_iter()
            .find(|m| m.wamid.as_deref() == Some(wamid))
            .unwrap_or_else(|| panic!("{wamid} is not in the thread"))
    }
}

#[tokio::test]
async fn orders_ads_products_flows_calls_and_forwards_are_shown_as_they_are() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };

    // The first message comes from a click-to-WhatsApp ad: the new lead records it.
    feed.post(message("wamid.AD", 1_750_000_000, json!({
        "type": "text", "text": {"body": "Is the roof offer still on?"},
        "referral": {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120212345678", "source_type": "ad",
            "headline": "Roof repair, 20% off", "body": "Book an inspection this week",
            "media_type": "image", "image_url": "https://example.com/ad.jpg", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ"}
    }))).await;
    let ad = feed.by_wamid("wamid.AD").await;
    let marks = ad.marks.clone().expect("the ad is kept");
    let referral = marks.ad.unwrap();
    assert_eq!(referral.headline.as_deref(), Some("Roof repair, 20% off"));
    assert_eq!(
        referral.source_url.as_deref(),
        Some("https://fb.me/3cr4Wqqkv")
    );
    assert_eq!(
        referral.media_url.as_deref(),
        Some("https://example.com/ad.jpg")
    );
    assert_eq!(referral.click_id.as_deref(), Some("ARAkLkA8rmlFeiCktEJQ"));
    let c = first_conversation(&t.ws).await.unwrap();
    let lead = t.ws.cx().lead(c.link_id.unwrap()).await.unwrap();
    assert_eq!(lead.source, "WhatsApp ad: Roof repair, 20% off");

    // A question about a catalog product.
    feed.post(message("wamid.PRODUCT", 1_750_000_010, json!({
        "type": "text", "text": {"body": "Does this come in grey?"},
        "context": {"from": "15550783881", "id": "wamid.CATALOG",
            "referred_product": {"catalog_id": "194836987003835", "product_retailer_id": "di9ozbzfi4"}}
    }))).await;
    let product = feed
        .by_wamid("wamid.PRODUCT")
        .await
        .marks
        .unwrap()
        .product
        .unwrap();
    assert_eq!(
        (product.catalog_id.as_str(), product.product_id.as_str()),
        ("194836987003835", "di9ozbzfi4")
    );

    // An order: items with quantity and price, and the customer's note.
    feed.post(message("wamid.ORDER", 1_750_000_020, json!({
        "type": "order",
        "order": {"catalog_id": "194836987003835", "text": "Deliver after 5 pm please",
            "product_items": [
                {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30.5, "currency": "USD"},
                {"product_retailer_id": "nqryix03ez", "quantity": "1", "item_price": "12", "currency": "USD"}]}
    }))).await;
    let order = feed.by_wamid("wamid.ORDER").await;
    let MessageContent::Order {
        catalog_id,
        items,
        note,
    } = &order.content
    else {
        panic!("{:?}", order.content)
    };
    assert_eq!(catalog_id, "194836987003835");
    assert_eq!(note.as_deref(), Some("Deliver after 5 pm please"));
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].quantity, items[0].unit_price), (2, Some(30.5)));
    assert_eq!((items[1].quantity, items[1].unit_price), (1, Some(12.0)));
    assert_eq!(order.content.preview(), "🛒 Order: 3 items");

    // A Flow the customer filled in: its answers, readable; Meta's token left out.
    feed.post(message("wamid.FLOW", 1_750_000_030, json!({
        "context": {"from": "15550783881", "id": "wamid.FLOWSENT"},
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent",
            "response_json": "{\"flow_token\": \"AQAAAAACS5FpgQ_cAAAAAD0QI3s.\", \"preferred_date\": \"2026-12-10\", \"services\": [\"roof\", \"gutters\"]}"}}
    }))).await;
    let MessageContent::FlowReply { answers, .. } = feed.by_wamid("wamid.FLOW").await.content
    else {
        panic!("not a flow reply")
    };
    let answers: Vec<(String, String)> = answers.into_iter().map(|a| (a.key, a.value)).collect();
    assert_eq!(
        answers,
        vec![
            ("preferred date".to_owned(), "2026-12-10".to_owned()),
            ("services".to_owned(), "roof, gutters".to_owned()),
        ]
    );

    // Permission to call: accepted until a time.
    feed.post(message(
        "wamid.CALL",
        1_750_000_040,
        json!({
            "type": "interactive",
            "interactive": {"type": "call_permission_reply", "call_permission_reply": {
                "response": "accept", "is_permanent": false, "expiration_timestamp": 1_750_604_800,
                "response_source": "user_action"}}
        }),
    ))
    .await;
    assert_eq!(
        feed.by_wamid("wamid.CALL").await.content,
        MessageContent::CallPermission {
            accepted: true,
            expires_at: Some(1_750_604_800_000),
            source: Some("user_action".into())
        }
    );

    // Forwarded marks, a named place with its link, a full contact card.
    feed.post(message("wamid.FWD", 1_750_000_050, json!({
        "type": "text", "text": {"body": "look at this"}, "context": {"frequently_forwarded": true}
    }))).await;
    let fwd = feed.by_wamid("wamid.FWD").await.marks.unwrap();
    assert!(fwd.forwarded && fwd.frequently_forwarded);
    feed.post(message("wamid.LOC", 1_750_000_060, json!({
        "type": "location", "location": {"latitude": 37.4837, "longitude": -122.1481,
            "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301", "url": "https://philzcoffee.com"}
    }))).await;
    let MessageContent::Location {
        name, address, url, ..
    } = feed.by_wamid("wamid.LOC").await.content
    else {
        panic!("not a location")
    };
    assert_eq!(
        (name.as_deref(), url.as_deref()),
        (Some("Philz Coffee"), Some("https://philzcoffee.com"))
    );
    assert!(address.unwrap().contains("Palo Alto"));
    feed.post(message("wamid.CARD", 1_750_000_070, json!({
        "type": "contacts", "contacts": [{
            "addresses": [{"street": "1 Hacker Way", "city": "Menlo Park", "state": "CA", "zip": "94025", "country": "United States", "country_code": "us", "type": "WORK"}],
            "birthday": "1999-01-23",
            "emails": [{"email": "ana@example.com", "type": "WORK"}],
            "name": {"first_name": "Ana", "last_name": "Pop", "formatted_name": "Ana Pop"},
            "org": {"company": "Roofs SRL", "department": "Sales", "title": "Manager"},
            "phones": [{"phone": "+40 721 000 009", "wa_id": "40721000009", "type": "CELL"}],
            "urls": [{"url": "https://roofs.example", "type": "WORK"}]}]
    }))).await;
    let MessageContent::Contacts { cards } = feed.by_wamid("wamid.CARD").await.content else {
        panic!("not a card")
    };
    let card = &cards[0];
    assert_eq!(card.name, "Ana Pop");
    assert_eq!(
        (card.department.as_deref(), card.title.as_deref()),
        (Some("Sales"), Some("Manager"))
    );
    assert_eq!(
        card.addresses,
        vec!["1 Hacker Way, Menlo Park, CA, 94025, United States (work)".to_owned()]
    );
    assert_eq!(card.urls, vec!["https://roofs.example".to_owned()]);
    assert_eq!(card.birthday.as_deref(), Some("1999-01-23"));

    // Unsupported: Meta's code and words are shown.
    feed.post(message("wamid.UNSUP", 1_750_000_080, json!({
        "type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."}}]
    }))).await;
    let MessageContent::Unsupported { detail, .. } = feed.by_wamid("wamid.UNSUP").await.content
    else {
        panic!("not unsupported")
    };
    assert_eq!(
        detail.as_deref(),
        Some("Message type unknown (131051): Message type is currently not supported.")
    );

    // Nothing was lost on the way: one bubble per message, each unread.
    assert_eq!(feed.thread().await.len(), 9);
    assert_eq!(first_conversation(&t.ws).await.unwrap().unread, 9);
}

#[tokio::test]
async fn edits_and_deletions_change_the_message_they_name_without_a_new_bubble() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };
    feed.post(message(
        "wamid.A",
        1_750_000_000,
        json!({"type": "text", "text": {"body": "See you at 5"}}),
    ))
    .await;
    feed.post(message(
        "wamid.B",
        1_750_000_010,
        json!({"type": "text", "text": {"body": "Bring the quote"}}),
    ))
    .await;
    let c = first_conversation(&t.ws).await.unwrap();
    t.ws.cx().mark_conversation_read(c.id).await.unwrap();

    // The customer edits the first: its text changes, marked edited, the original kept.
    let edit = message(
        "wamid.E1",
        1_750_000_100,
        json!({
            "type": "edit", "edit": {"original_message_id": "wamid.A",
                "message": {"type": "text", "text": {"body": "See you at 6"}}}
        }),
    );
    feed.post(edit.clone()).await;
    feed.post(edit).await; // replayed: no second version
    let a = feed.by_wamid("wamid.A").await;
    assert_eq!(
        a.content,
        MessageContent::Text {
            body: "See you at 6".into()
        }
    );
    assert_eq!(a.edited_at, Some(1_750_000_100_000));
    assert_eq!(a.original.as_deref(), Some("See you at 5"));
    assert_eq!(feed.thread().await.len(), 2, "no new bubble");
    assert_eq!(
        first_conversation(&t.ws).await.unwrap().unread,
        0,
        "no unread"
    );
    let hits = t.ws.cx().search_messages("6", None).await.unwrap();
    assert_eq!(hits.len(), 1, "search finds the new words");
    assert!(
        t.ws.cx()
            .search_messages("5", None)
            .await
            .unwrap()
            .is_empty(),
        "and not the old ones"
    );

    // The customer deletes the latest: it says so, in the thread and the list.
    feed.post(message(
        "wamid.R1",
        1_750_000_200,
        json!({
            "type": "revoke", "revoke": {"original_message_id": "wamid.B"}
        }),
    ))
    .await;
    let b = feed.by_wamid("wamid.B").await;
    assert!(b.deleted_at.is_some());
    let c = first_conversation(&t.ws).await.unwrap();
    assert_eq!(c.last_preview, "This message was deleted");
    assert_eq!(c.unread, 0);
    // Deleted before anyone read it: nothing is left to read.
    feed.post(message(
        "wamid.C",
        1_750_000_210,
        json!({"type": "text", "text": {"body": "one"}}),
    ))
    .await;
    feed.post(message(
        "wamid.D",
        1_750_000_220,
        json!({"type": "text", "text": {"body": "two"}}),
    ))
    .await;
    assert_eq!(first_conversation(&t.ws).await.unwrap().unread, 2);
    feed.post(message(
        "wamid.R2",
        1_750_000_230,
        json!({
            "type": "revoke", "revoke": {"original_message_id": "wamid.D"}
        }),
    ))
    .await;
    assert_eq!(first_conversation(&t.ws).await.unwrap().unread, 1);
    assert_eq!(
        feed.thread().await.len(),
        4,
        "A, B (deleted), C, D (deleted)"
    );
    assert!(
        t.ws.cx()
            .search_messages("quote", None)
            .await
            .unwrap()
            .is_empty()
    );

    // An edit of a message this desktop never had is that message, marked edited.
    feed.post(message(
        "wamid.E2",
        1_750_000_300,
        json!({
            "type": "edit", "edit": {"original_message_id": "wamid.OLD",
                "message": {"type": "text", "text": {"body": "corrected"}}}
        }),
    ))
    .await;
    let old = feed.by_wamid("wamid.OLD").await;
    assert_eq!(feed.thread().await.len(), 5);
    assert_eq!(
        old.content,
        MessageContent::Text {
            body: "corrected".into()
        }
    );
    assert!(old.edited_at.is_some());

    // A reaction taken back from a message this desktop does not have changes nothing.
    feed.post(message(
        "wamid.X",
        1_750_000_400,
        json!({
            "type": "reaction", "reaction": {"message_id": "wamid.NOTHERE"}
        }),
    ))
    .await;
    assert_eq!(feed.thread().await.len(), 5);
}

#[tokio::test]
async fn played_statuses_errors_and_pricing_are_kept() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };
    feed.post(message(
        "wamid.IN",
        1_750_000_000,
        json!({"type": "text", "text": {"body": "hi"}}),
    ))
    .await;
    let c = first_conversation(&t.ws).await.unwrap();
    // Two replies of a teammate, as their desktop published them.
    for (client, wamid) in [("c1", "wamid.VOICE"), ("c2", "wamid.PROMO")] {
        feed.seq += 1;
        let e: ReceivedEvent = serde_json::from_value(json!({
            "seq": feed.seq, "key": format!("desktop:bob:{client}"),
            "kind": "message.sent", "source": "desktop", "staff": "bob", "received_at": 1_750_000_100_000i64,
            "raw": {"client_id": client, "wamid": wamid, "customer": c.customer, "phone_number_id": "106540352242922",
                    "content": {"type": "text", "body": "reply"}, "sent_at": 1_750_000_050_000i64}
        })).unwrap();
        t.ws.apply_synced(&[e]).await.unwrap();
    }
    let status = |id: &str, status: &str, ts: i64, extra: Value| {
        let mut s = json!({"id": id, "status": status, "timestamp": ts.to_string(), "recipient_id": CUSTOMER});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        webhook("statuses", json!([s]))
    };
    let pricing = json!({"pricing": {"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"}});
    feed.post(status(
        "wamid.VOICE",
        "sent",
        1_750_000_101,
        pricing.clone(),
    ))
    .await;
    feed.post(status("wamid.VOICE", "read", 1_750_000_102, json!({})))
        .await;
    feed.post(status("wamid.VOICE", "played", 1_750_000_103, json!({})))
        .await;
    feed.post(status("wamid.VOICE", "delivered", 1_750_000_104, json!({})))
        .await;
    let voice = feed.by_wamid("wamid.VOICE").await;
    assert_eq!(
        voice.status,
        MessageStatus::Played,
        "played after read, and a late delivered does not undo it"
    );
    assert_eq!(
        voice.pricing_category.as_deref(),
        Some("utility"),
        "pricing kept from an earlier status"
    );

    feed.post(status("wamid.PROMO", "failed", 1_750_000_105, json!({"errors": [{
        "code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.",
        "message": "This message was not delivered to maintain healthy ecosystem engagement.",
        "error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}}]}))).await;
    let promo = feed.by_wamid("wamid.PROMO").await;
    assert_eq!(promo.status, MessageStatus::Failed);
    assert_eq!(
        promo.error.as_deref(),
        Some(
            "This message was not delivered to maintain healthy ecosystem engagement. (131049): In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
        )
    );
}

/// The sandbox plays each of these: Eve's script (an ad, an edit, an order, a form, a call
/// permission, a deletion) goes through the sandbox's webhooks, the in-process relay and sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_plays_ads_edits_orders_forms_calls_and_deletions() {
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    use crmconnect::sandbox::SandboxConfig;
    use std::time::Duration;

    let t = workspace().await;
    let rt = Runtime::start(
        t.ws.clone(),
        RuntimeOptions {
            sandbox: SandboxConfig::default(),
        },
    )
    .await
    .unwrap();
    let sandbox = rt.embedded().unwrap().sandbox();
    let ws = &t.ws;
    let thread = || async {
        let c = first_conversation(ws).await?;
        Some(ws.cx().thread(c.id, None, None).await.unwrap().messages)
    };
    // Each step, then what the thread shows once it arrived.
    let mut seen = 0;
    let mut step = async |expect_new: bool| {
        sandbox.customer_sends_next("eve").unwrap();
        let want = if expect_new { seen + 1 } else { seen };
        let messages =
            crate::common::eventually_within(Duration::from_secs(30), "Eve's step", || async {
                let m = thread().await?;
                let changed = m.len() == want
                    && m.last().is_some_and(|l| {
                        l.edited_at.is_some() || l.deleted_at.is_some() || expect_new
                    });
                changed.then_some(m)
            })
            .await;
        seen = messages.len();
        messages
    };
    let m = step(true).await;
    assert_eq!(
        m[0].marks
            .as_ref()
            .unwrap()
            .ad
            .as_ref()
            .unwrap()
            .headline
            .as_deref(),
        Some("Spring offer: 20% off (sandbox ad)")
    );
    let c = first_conversation(ws).await.unwrap();
    assert_eq!(
        ws.cx().lead(c.link_id.unwrap()).await.unwrap().source,
        "WhatsApp ad: Spring offer: 20% off (sandbox ad)"
    );
    let m = step(false).await;
    assert_eq!(
        m[0].content,
        MessageContent::Text {
            body: "Hi, I saw your ad. Is the 20% offer still on? (sandbox customer)".into()
        }
    );
    assert!(matches!(
        step(true).await.last().unwrap().content,
        MessageContent::Order { .. }
    ));
    assert!(matches!(
        step(true).await.last().unwrap().content,
        MessageContent::FlowReply { .. }
    ));
    assert!(matches!(
        step(true).await.last().unwrap().content,
        MessageContent::CallPermission { accepted: true, .. }
    ));
    step(true).await;
    let m = step(false).await;
    assert!(m.last().unwrap().deleted_at.is_some(), "Oops, deleted");
    assert_eq!(
        first_conversation(ws).await.unwrap().last_preview,
        "This message was deleted"
    );
    rt.shutdown().await;
}

/// A message webhook from a customer, with only the identifiers given (`phone`, `user_id`, `username`).
fn from_customer(
    id: &str,
    ts: i64,
    phone: Option<&str>,
    user_id: Option<&str>,
    username: Option<&str>,
    rest: Value,
) -> Value {
    let mut contact = json!({"profile": {"name": "Sheena Nelson"}});
    let mut m = json!({"id": id, "timestamp": ts.to_string()});
    if let Some(p) = phone {
        contact["wa_id"] = json!(p);
        m["from"] = json!(p);
    }
    if let Some(u) = user_id {
        contact["user_id"] = json!(u);
        m["from_user_id"] = json!(u);
    }
    if let Some(n) = username {
        contact["profile"]["username"] = json!(n);
    }
    m.as_object_mut()
        .unwrap()
        .extend(rest.as_object().unwrap().clone());
    envelope(contact, "messages", json!([m]))
}

fn said(body: &str) -> Value {
    json!({"type": "text", "text": {"body": body}})
}

#[tokio::test]
async fn one_person_is_one_conversation_whichever_identifiers_a_webhook_carries() {
    let t = workspace().await;
    let ws = &t.ws;
    let mut feed = Feed { ws, seq: 0 };
    let all = || async {
        ws.cx()
            .conversations(crmconnect::chat::ConversationFilter::default())
            .await
            .unwrap()
            .items
    };
    const UID: &str = "US.13491208655302741918";

    // First by username only: a conversation keyed by the user id, the username shown.
    feed.post(from_customer(
        "wamid.U1",
        1_750_000_000,
        None,
        Some(UID),
        Some("sheena.n"),
        said("hi, no number here"),
    ))
    .await;
    let list = all().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].customer, UID);
    assert_eq!(list[0].username.as_deref(), Some("sheena.n"));
    // Found by the username, with or without "@".
    for q in ["sheena.n", "@sheena"] {
        let found = ws
            .cx()
            .conversations(crmconnect::chat::ConversationFilter {
                search: Some(q.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1, "{q}");
    }

    // Another conversation by phone only (an older kind of webhook, or our own send).
    feed.post(from_customer(
        "wamid.P1",
        1_750_000_100,
        Some("16505551234"),
        None,
        None,
        said("from my phone"),
    ))
    .await;
    assert_eq!(
        all().await.len(),
        2,
        "nothing yet says these are one person"
    );

    // A webhook with both: the two become one conversation, keyed by the number.
    feed.post(from_customer(
        "wamid.B1",
        1_750_000_200,
        Some("16505551234"),
        Some(UID),
        Some("sheena.n"),
        said("both now"),
    ))
    .await;
    let list = all().await;
    assert_eq!(list.len(), 1, "one person, one conversation: {list:?}");
    let c = &list[0];
    assert_eq!(c.customer, "+16505551234");
    assert_eq!(c.user_id.as_deref(), Some(UID));
    assert_eq!(c.username.as_deref(), Some("sheena.n"));
    let thread = ws.cx().thread(c.id, None, None).await.unwrap().messages;
    let wamids: Vec<_> = thread.iter().filter_map(|m| m.wamid.clone()).collect();
    assert_eq!(
        wamids,
        vec!["wamid.U1", "wamid.P1", "wamid.B1"],
        "every message kept, in order"
    );
    assert_eq!(c.unread, 3);
    assert_eq!(
        c.link_kind,
        Some(crmconnect::chat::LinkKind::Lead),
        "linked by the number"
    );

    // Later by user id only (Meta leaves the number out): the same conversation.
    feed.post(from_customer(
        "wamid.U2",
        1_750_000_300,
        None,
        Some(UID),
        None,
        said("username again"),
    ))
    .await;
    assert_eq!(all().await.len(), 1);

    // The customer changes their number: the conversation follows, and the thread says so.
    feed.post(from_customer("wamid.S1", 1_750_000_400, Some("16505551234"), Some(UID), None, json!({
        "type": "system",
        "system": {"body": "Sheena changed from 16505551234 to 16505559999", "new_wa_id": "16505559999", "type": "user_changed_number"}
    }))).await;
    let list = all().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].customer, "+16505559999");
    assert_eq!(list[0].unread, 4, "Meta's note is not a message to read");
    let last = ws
        .cx()
        .thread(list[0].id, None, None)
        .await
        .unwrap()
        .messages
        .pop()
        .unwrap();
    assert_eq!(
        last.content,
        MessageContent::System {
            kind: "user_changed_number".into(),
            body: "Sheena changed from 16505551234 to 16505559999".into()
        }
    );
    feed.post(from_customer(
        "wamid.N1",
        1_750_000_500,
        Some("16505559999"),
        None,
        None,
        said("new phone"),
    ))
    .await;
    assert_eq!(
        all().await.len(),
        1,
        "the new number writes into the same conversation"
    );
}

#[tokio::test]
async fn a_customer_stopping_marketing_is_marked_said_in_the_thread_and_logged_once() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };
    feed.post(message(
        "wamid.IN",
        1_750_000_000,
        json!({"type": "text", "text": {"body": "hi"}}),
    ))
    .await;
    let preference = |value: &str, ts: i64| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "time": ts, "changes": [{
            "field": "user_preferences",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"wa_id": CUSTOMER, "profile": {"name": "Sheena Nelson"}}],
                "user_preferences": [{"wa_id": CUSTOMER, "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages", "value": value, "timestamp": ts}]
            }
        }]}]})
    };
    let stop = preference("stop", 1_750_000_100);
    feed.post(stop.clone()).await;
    feed.post(stop).await; // Meta retried it
    let c = first_conversation(&t.ws).await.unwrap();
    assert_eq!(c.marketing_stopped_at, Some(1_750_000_100_000));
    assert_eq!(c.unread, 1, "Meta's note is not a message to read");
    let notes: Vec<_> = feed
        .thread()
        .await
        .into_iter()
        .filter(|m| matches!(m.content, MessageContent::System { .. }))
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        t.log_of("chat.marketing_stopped").await.len(),
        1,
        "logged once"
    );

    feed.post(preference("resume", 1_750_000_200)).await;
    assert_eq!(
        first_conversation(&t.ws)
            .await
            .unwrap()
            .marketing_stopped_at,
        None
    );
    assert_eq!(t.log_of("chat.marketing_resumed").await.len(), 1);
}

/// A reply to a customer known only by username goes out as Meta's `recipient` and is delivered
/// (an id in `to` would be dropped by Meta, and the sandbox drops it too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_a_username_only_customer_is_delivered() {
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    use crmconnect::sandbox::{CustomerMessage, SandboxConfig};
    use std::time::Duration;

    let t = workspace().await;
    let config = SandboxConfig {
        delivery_delay: Duration::from_millis(50),
        read_receipts: false,
        ..SandboxConfig::default()
    };
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions { sandbox: config })
        .await
        .unwrap();
    let sandbox = rt.embedded().unwrap().sandbox();
    sandbox
        .customer_sends("dara", CustomerMessage::text("hello from a username"))
        .unwrap();
    let ws = &t.ws;
    let c = crate::common::eventually_within(
        Duration::from_secs(30),
        "Dara's conversation",
        || async { first_conversation(ws).await },
    )
    .await;
    assert!(c.customer.starts_with("US."), "{c:?}");
    assert_eq!(c.username.as_deref(), Some("dara.sandbox"));
    let sent = ws
        .cx()
        .send_text(c.id, crate::common::text("Hi Dara"))
        .await
        .unwrap();
    crate::common::eventually_within(Duration::from_secs(30), "the reply delivered", || async {
        let m = ws
            .cx()
            .thread(c.id, None, None)
            .await
            .unwrap()
            .messages
            .into_iter()
            .find(|m| m.id == sent.id)?;
        (m.status == MessageStatus::Delivered).then_some(())
    })
    .await;
    rt.shutdown().await;
}

/// A customer who writes by username, with no phone, is a Bulk Contact by their WhatsApp user
/// id: made from the conversation by hand (once, however often asked), listed with their
/// username, found by it, edited without a number, exported with the user id, and given the
/// number later like any contact.
#[tokio::test]
async fn a_username_only_customer_is_a_bulk_contact_listed_found_edited_and_exported() {
    use crmconnect::chat::LinkInput;
    use crmconnect::contacts::{ContactFilter, ContactInput};
    let t = workspace().await;
    let ws = &t.ws;
    let mut feed = Feed { ws, seq: 0 };
    feed.post(from_customer(
        "wamid.U1",
        1_750_000_000,
        None,
        Some("US.13491208655302741918"),
        Some("sheena.n"),
        said("hello, by username"),
    ))
    .await;
    let c = first_conversation(ws).await.unwrap();
    let linked = ws
        .cx()
        .link_conversation(c.id, LinkInput::NewContact)
        .await
        .unwrap();
    let contact_id = match linked.linked {
        Some(crmconnect::chat::LinkedRecord::Contact(b)) => b.id,
        other => panic!("linked to {other:?}"),
    };
    // Asked again (a bot filing the customer, the button twice): the same contact.
    assert_eq!(ws.cx().customer_contact(c.id).await.unwrap(), contact_id);
    ws.cx()
        .link_conversation(c.id, LinkInput::NewContact)
        .await
        .unwrap();

    let listed = ws.cx().contacts(ContactFilter::default()).await.unwrap();
    assert_eq!(listed.total, 1);
    let sheena = &listed.contacts[0];
    assert_eq!(
        (
            sheena.phone.as_str(),
            sheena.wa_user_id.as_deref(),
            sheena.username.as_str(),
            sheena.name.as_str()
        ),
        (
            "",
            Some("US.13491208655302741918"),
            "sheena.n",
            "Sheena Nelson"
        )
    );
    let found = ws
        .cx()
        .contacts(ContactFilter {
            search: Some("sheena.n".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1, "found by username");

    // Edited without a number: kept by user id. A contact typed by hand still needs one.
    let edited = ws
        .cx()
        .update_contact(
            contact_id,
            ContactInput {
                name: "Sheena Nelson".into(),
                city: "Austin".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (edited.phone.as_str(), edited.city.as_str()),
        ("", "Austin")
    );
    let typed = ws
        .cx()
        .create_contact(ContactInput {
            name: "No number".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        typed.to_string().contains("no phone number given"),
        "{typed}"
    );

    let folder = t.dir.path().join("exports");
    let path = ws
        .cx()
        .export_contacts_csv(ContactFilter::default(), &folder)
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "phone,name,company,address,city,state,country,description,whatsapp_user_id,username,groups",
            ",Sheena Nelson,,,Austin,,,,US.13491208655302741918,sheena.n,"
        ]
    );

    // The number, once known, is the contact's like any other's.
    let numbered = ws
        .cx()
        .update_contact(
            contact_id,
            ContactInput {
                phone: "+12015550123".into(),
                name: "Sheena Nelson".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (numbered.phone.as_str(), numbered.wa_user_id.as_deref()),
        ("+12015550123", Some("US.13491208655302741918"))
    );

    // The lead made for the customer when they first wrote is exported with its user id too.
    let path = ws
        .cx()
        .export_leads_csv(Default::default(), &folder)
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(
        lines[0],
        "name,company,phone,email,whatsapp_user_id,source,status,assigned_to,created_at"
    );
    assert!(
        lines[1].starts_with("Sheena Nelson,,,,US.13491208655302741918,WhatsApp,"),
        "{}",
        lines[1]
    );
}

/// An account-level webhook (`field`) as Meta posts it.
fn account_webhook(field: &str, time: i64, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "time": time,
        "changes": [{"field": field, "value": value}]}]})
}

#[tokio::test]
async fn the_account_s_own_state_is_shown_logged_once_and_applied_to_numbers_and_templates() {
    let t = workspace().await;
    // A cached number and a synced template, as the Numbers and Templates screens keep them.
    sqlx::query("INSERT INTO numbers (phone_number_id, display_phone_number, verified_name, messaging_limit, fetched_at) VALUES ('106540352242922', '+1 555-078-3881', 'Sandbox Sales', 'TIER_10K', 0)")
        .execute(t.ws.db()).await.unwrap();
    sqlx::query("INSERT INTO templates (meta_id, name, language, status, category, parameter_format, definition, updated_at) VALUES ('12345', 'order_ready', 'en_US', 'APPROVED', 'UTILITY', 'POSITIONAL', '{\"name\":\"order_ready\",\"language\":\"en_US\",\"category\":\"UTILITY\",\"components\":[]}', 0)")
        .execute(t.ws.db()).await.unwrap();
    let mut feed = Feed { ws: &t.ws, seq: 0 };

    let restriction = account_webhook(
        "account_update",
        1_750_000_000,
        json!({"phone_number": "15550783881", "event": "ACCOUNT_RESTRICTION",
               "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                     "expiration": "2026-12-19T13:59:20+0000"}]}),
    );
    feed.post(restriction.clone()).await;
    feed.post(restriction).await; // Meta retried it
    feed.post(account_webhook(
        "phone_number_quality_update",
        1_750_000_010,
        json!({"display_phone_number": "15550783881", "event": "DOWNGRADE",
               "old_limit": "TIER_10K", "max_daily_conversations_per_business": "TIER_2K"}),
    ))
    .await;
    feed.post(account_webhook(
        "template_category_update",
        1_750_000_020,
        json!({"message_template_id": 12345, "message_template_name": "order_ready",
               "message_template_language": "en_US", "previous_category": "UTILITY",
               "new_category": "MARKETING"}),
    ))
    .await;
    feed.post(account_webhook(
        "message_template_quality_update",
        1_750_000_030,
        json!({"previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
               "message_template_id": 12345, "message_template_name": "order_ready",
               "message_template_language": "en_US"}),
    ))
    .await;
    feed.post(account_webhook(
        "business_capability_update",
        1_750_000_040,
        json!({"max_daily_conversations_per_business": "TIER_2K", "max_phone_numbers_per_business": 2}),
    ))
    .await;

    let notices = t.ws.cx().account_notices().await.unwrap();
    let titles: Vec<&str> = notices.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "Meta restricted the WhatsApp Business Account",
            "Template “order_ready”'s quality is yellow",
            "Meta re-categorised template “order_ready” as marketing",
            "Meta lowered +15550783881's messaging limit",
        ],
        "critical first, then newest; the capability change is news, not a warning"
    );
    assert!(
        notices[0]
            .detail
            .contains("starting conversations (templates) until 2026-12-19")
    );
    for action in [
        "meta.account_update",
        "meta.phone_quality",
        "meta.template_category",
        "meta.template_quality",
        "meta.business_capability",
    ] {
        assert_eq!(t.log_of(action).await.len(), 1, "{action} logged once");
    }
    let limit: String = sqlx::query_scalar("SELECT messaging_limit FROM numbers")
        .fetch_one(t.ws.db())
        .await
        .unwrap();
    assert_eq!(limit, "TIER_2K");
    let (category, quality): (String, Option<String>) =
        sqlx::query_as("SELECT category, quality_score FROM templates")
            .fetch_one(t.ws.db())
            .await
            .unwrap();
    assert_eq!(
        (category.as_str(), quality.as_deref()),
        ("MARKETING", Some("YELLOW"))
    );

    // The reinstatement ends the restriction's banner; a dismissed notice stays in the log only.
    feed.post(account_webhook(
        "account_update",
        1_750_000_050,
        json!({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "REINSTATE"}}),
    ))
    .await;
    let notices = t.ws.cx().account_notices().await.unwrap();
    assert!(
        notices.iter().all(|n| n.kind != "account_update"),
        "{notices:?}"
    );
    let first = notices[0].id;
    t.ws.cx().dismiss_account_notice(first).await.unwrap();
    assert_eq!(
        t.ws.cx().account_notices().await.unwrap().len(),
        notices.len() - 1
    );
    assert_eq!(t.log_of("meta.account_update").await.len(), 2);
}

/// The sandbox plays Meta's account notices: through its relay into the banner of the sandbox
/// workspace, and the number's quality follows.
#[tokio::test]
async fn the_sandbox_plays_restrictions_flags_and_reinstatements() {
    use crate::common::eventually;
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    use crmconnect::sandbox::AccountEvent;

    let t = workspace().await;
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions::default())
        .await
        .unwrap();
    let embedded = rt.embedded().unwrap();
    embedded.account_event(AccountEvent::Restrict).unwrap();
    embedded.account_event(AccountEvent::FlagNumber).unwrap();
    let ws = &t.ws;
    let titles = eventually("both notices in the banner", || async {
        let n = ws.cx().account_notices().await.unwrap();
        (n.len() == 2).then(|| n.into_iter().map(|n| n.title).collect::<Vec<_>>())
    })
    .await;
    assert_eq!(titles[0], "Meta restricted the WhatsApp Business Account");
    assert!(
        titles[1].ends_with("'s quality is low: Meta flagged it"),
        "{titles:?}"
    );
    embedded.account_event(AccountEvent::Reinstate).unwrap();
    embedded.account_event(AccountEvent::UnflagNumber).unwrap();
    eventually("the banner empties", || async {
        ws.cx()
            .account_notices()
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(t.log_of("meta.account_update").await.len(), 2);
    assert_eq!(t.log_of("meta.phone_quality").await.len(), 2);
    rt.shutdown().await;
}

/// What the business sends from the WhatsApp Business app on the same number (coexistence) is in
/// the thread as sent by the phone, without an unread; its edit and its deletion change it.
#[tokio::test]
async fn the_phone_s_messages_are_in_the_thread_as_sent_by_the_phone() {
    use crate::common::eventually;
    use crmconnect::chat::PHONE_SENDER;
    use crmconnect::embedded::SandboxWrite;
    use crmconnect::runtime::{Runtime, RuntimeOptions};

    let t = workspace().await;
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions::default())
        .await
        .unwrap();
    let embedded = rt.embedded().unwrap();
    let ws = &t.ws;
    let thread = || async {
        let c = first_conversation(ws).await?;
        Some((
            c.unread,
            ws.cx().thread(c.id, None, None).await.unwrap().messages,
        ))
    };
    embedded
        .customer_writes(
            "ben",
            SandboxWrite::Text {
                body: "Is the shop open?".into(),
            },
            false,
        )
        .unwrap();
    let wamid = embedded
        .customer_writes(
            "ben",
            SandboxWrite::PhoneWrites {
                body: "Yes, until 6 pm".into(),
            },
            false,
        )
        .unwrap();
    let (unread, messages) = eventually("the phone's reply", || async {
        thread().await.filter(|(_, m)| m.len() == 2)
    })
    .await;
    assert_eq!(unread, 1, "the phone's message is not one to read");
    let echo = &messages[1];
    assert!(echo.outbound);
    assert_eq!(echo.wamid.as_deref(), Some(wamid.as_str()));
    assert_eq!(echo.staff_name.as_deref(), Some(PHONE_SENDER));
    assert!(matches!(&echo.content, MessageContent::Text { body } if body == "Yes, until 6 pm"));

    embedded
        .customer_writes(
            "ben",
            SandboxWrite::PhoneEditsLast {
                body: "Yes, until 7 pm".into(),
            },
            false,
        )
        .unwrap();
    eventually("the edit", || async {
        let (_, m) = thread().await?;
        (m.len() == 2
            && m[1].edited_at.is_some()
            && matches!(&m[1].content, MessageContent::Text { body } if body == "Yes, until 7 pm"))
        .then_some(())
    })
    .await;
    embedded
        .customer_writes("ben", SandboxWrite::PhoneDeletesLast, false)
        .unwrap();
    eventually("the deletion", || async {
        let (_, m) = thread().await?;
        (m.len() == 2 && m[1].deleted_at.is_some()).then_some(())
    })
    .await;
    rt.shutdown().await;
}

/// Meta's reference payload of `smb_message_echoes` (the number written with a plus) joins the
/// customer's conversation.
#[tokio::test]
async fn an_echo_shaped_as_meta_s_reference_joins_the_customer_s_conversation() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };
    feed.post(message(
        "wamid.IN1",
        1_750_000_000,
        json!({"type": "text", "text": {"body": "Do you have the Quest 3?"}}),
    ))
    .await;
    let echo = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "smb_message_echoes",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "message_echoes": [{"from": "15550783881", "to": "+16505551234",
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
                "timestamp": "1750000060", "type": "text",
                "text": {"body": "Here's the info you requested! https://www.meta.com/quest/quest-3/"}}]
        }
    }]}]});
    feed.post(echo.clone()).await;
    feed.post(echo).await; // Meta retried it
    let thread = feed.thread().await;
    assert_eq!(thread.len(), 2, "one conversation, one echo");
    assert!(thread[1].outbound);
    assert_eq!(thread[1].sent_at, 1_750_000_060_000);
    assert_eq!(
        thread[1].staff_name.as_deref(),
        Some(crmconnect::chat::PHONE_SENDER)
    );
}

/// Catching up applies a run of messages in batches; the result is exactly what applying them
/// one by one gives: customers interleaved, times out of order, a retried message, a reaction to
/// an earlier one, an edit, a username-only customer, statuses of messages this desktop never had.
#[tokio::test]
async fn a_run_of_messages_applies_as_one_by_one_does() {
    let batched = workspace().await;
    let single = workspace().await;
    let customers = ["16505551234", "16505551235", "16505551236"];
    let mut bodies = Vec::new();
    for i in 0..40i64 {
        let c = customers[(i % 3) as usize];
        let ts = 1_750_000_000 + (i * 7) % 40;
        bodies.push(from_customer(
            &format!("wamid.R{i}"),
            ts,
            Some(c),
            None,
            None,
            json!({"type": "text", "text": {"body": format!("message {i}")}}),
        ));
        if i == 5 {
            bodies.push(bodies[4].clone()); // Meta retried one
        }
        if i == 12 {
            bodies.push(from_customer(
                "wamid.RX",
                ts,
                Some(customers[0]),
                None,
                None,
                json!({"type": "reaction", "reaction": {"message_id": "wamid.R3", "emoji": "👍"}}),
            ));
            bodies.push(from_customer(
                "wamid.RU",
                ts,
                None,
                Some("US.13491208655302741918"),
                Some("dara.b"),
                json!({"type": "text", "text": {"body": "username only"}}),
            ));
        }
        if i == 20 {
            bodies.push(from_customer(
                "wamid.RE",
                ts + 100,
                Some(customers[1]),
                None,
                None,
                json!({"type": "edit", "edit": {"original_message_id": "wamid.R1",
                       "message": {"type": "text", "text": {"body": "message 1, edited"}}}}),
            ));
        }
        if i == 25 {
            // The username-only customer now shows their number too: one conversation.
            bodies.push(from_customer(
                "wamid.RB",
                ts,
                Some("16505551299"),
                Some("US.13491208655302741918"),
                Some("dara.b"),
                json!({"type": "text", "text": {"body": "now with my number"}}),
            ));
        }
        if i == 30 {
            bodies.push(webhook(
                "statuses",
                json!([{"id": "wamid.NOT-HERE", "status": "delivered", "timestamp": "1750000050",
                        "recipient_id": CUSTOMER}]),
            ));
        }
    }
    let mut seq = 0;
    let events: Vec<ReceivedEvent> = bodies
        .iter()
        .flat_map(|b| through_relay(&mut seq, b))
        .collect();
    batched.ws.apply_synced(&events).await.unwrap();
    for e in &events {
        single
            .ws
            .apply_synced(std::slice::from_ref(e))
            .await
            .unwrap();
    }
    type Conv = (String, i64, String, String, i64, Option<i64>);
    type Msg = (String, String, String, Option<String>, i64, Option<i64>);
    async fn dump(ws: &crmconnect::Workspace) -> (Vec<Conv>, Vec<Msg>) {
        let c: Vec<Conv> = sqlx::query_as(
            "SELECT customer, unread, last_preview, last_direction, last_activity_at, last_inbound_at
             FROM chat_conversations ORDER BY customer",
        )
        .fetch_all(ws.db())
        .await
        .unwrap();
        let m: Vec<Msg> = sqlx::query_as(
            "SELECT m.wamid, c.customer, m.content, m.their_reaction, m.sent_at, m.edited_at
             FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id ORDER BY m.wamid",
        )
        .fetch_all(ws.db())
        .await
        .unwrap();
        (c, m)
    }
    let (bc, bm) = dump(&batched.ws).await;
    let (sc, sm) = dump(&single.ws).await;
    assert_eq!(bc.len(), 4, "{bc:?}");
    assert_eq!(
        bm.len(),
        42,
        "40 messages and the username-only customer's two"
    );
    assert_eq!(bc, sc);
    assert_eq!(bm, sm);
    let leads = |ws: &crmconnect::Workspace| {
        let db = ws.db().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM leads")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(leads(&batched.ws).await, leads(&single.ws).await);
}

/// Meta's Calling API events (`calls`): a customer's call that was answered, one that was
/// missed, and one the business placed, each a note in the customer's thread (once, however often
/// Meta sends it), none an unread.
#[tokio::test]
async fn calls_are_notes_in_the_customer_s_thread() {
    let t = workspace().await;
    let mut feed = Feed { ws: &t.ws, seq: 0 };
    feed.post(message(
        "wamid.IN",
        1_750_000_000,
        json!({"type": "text", "text": {"body": "Can I call you?"}}),
    ))
    .await;
    let call = |c: Value| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "calls",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"wa_id": CUSTOMER, "profile": {"name": "Sheena Nelson"}}],
                "calls": [c]
            }
        }]}]})
    };
    let connect = call(
        json!({"id": "wacid.A", "from": CUSTOMER, "to": "15550783881",
        "event": "connect", "timestamp": "1750000100", "direction": "USER_INITIATED",
        "session": {"sdp_type": "offer", "sdp": "v=0"}}),
    );
    feed.post(connect.clone()).await;
    feed.post(connect).await; // Meta retried it
    feed.post(call(json!({"id": "wacid.A", "from": CUSTOMER, "to": "15550783881",
        "event": "terminate", "timestamp": "1750000225", "direction": "USER_INITIATED",
        "status": "COMPLETED", "start_time": "1750000100", "end_time": "1750000225", "duration": 125})))
        .await;
    feed.post(call(
        json!({"id": "wacid.B", "from": CUSTOMER, "to": "15550783881",
        "event": "terminate", "timestamp": "1750000300", "direction": "USER_INITIATED",
        "status": "FAILED", "duration": 0}),
    ))
    .await;
    feed.post(call(json!({"id": "wacid.C", "from": "15550783881", "to": CUSTOMER,
        "event": "terminate", "timestamp": "1750000400", "direction": "BUSINESS_INITIATED",
        "status": "COMPLETED", "start_time": "1750000390", "end_time": "1750000400", "duration": 10})))
        .await;
    let notes: Vec<String> = feed
        .thread()
        .await
        .into_iter()
        .filter_map(|m| match m.content {
            MessageContent::System { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        [
            "The customer is calling on WhatsApp",
            "Call from the customer ended after 2 min 5 s",
            "Missed call from the customer",
            "Call to the customer ended after 10 s",
        ]
    );
    let c = first_conversation(&t.ws).await.unwrap();
    assert_eq!(c.unread, 1, "calls are not messages to read");
}

/// The sandbox plays a customer's call, answered and missed, into the sandbox workspace's chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_plays_a_customer_s_calls() {
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    use crmconnect::sandbox::SandboxConfig;
    let t = workspace().await;
    let e = Runtime::start(
        t.ws.clone(),
        RuntimeOptions {
            sandbox: SandboxConfig::default(),
        },
    )
    .await
    .unwrap();
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox.customer_calls("ana", Some(61)).unwrap();
    sandbox.customer_calls("ana", None).unwrap();
    let notes = eventually("the calls are in Ana's thread", || async {
        let c = first_conversation(&t.ws).await?;
        let notes: Vec<String> =
            t.ws.cx()
                .thread(c.id, None, None)
                .await
                .unwrap()
                .messages
                .into_iter()
                .filter_map(|m| match m.content {
                    MessageContent::System { body, .. } => Some(body),
                    _ => None,
                })
                .collect();
        (notes.len() == 4).then_some(notes)
    })
    .await;
    assert!(
        notes.contains(&"Call from the customer ended after 1 min 1 s".to_owned()),
        "{notes:?}"
    );
    assert!(
        notes.contains(&"Missed call from the customer".to_owned()),
        "{notes:?}"
    );
    e.shutdown().await;
}

/// A customer known only by username is a lead all the same (no phone, no email): listed,
/// linked, editable. When the same person writes from their number (a second conversation, a
/// second lead) and then with both, the two become one conversation and one lead, with the phone.
#[tokio::test]
async fn a_username_only_customer_becomes_a_lead_and_one_with_their_number() {
    use crmconnect::chat::LinkedRecord;
    use crmconnect::leads::{LeadFilter, LeadInput};
    let t = workspace().await;
    let ws = &t.ws;
    let mut feed = Feed { ws, seq: 0 };
    let leads = || async { ws.cx().leads(LeadFilter::default()).await.unwrap().leads };

    feed.post(from_customer(
        "wamid.U1",
        1_750_000_000,
        None,
        Some("US.13491208655302741918"),
        Some("sheena.n"),
        said("Hi, I only show my username"),
    ))
    .await;
    let c = first_conversation(ws).await.unwrap();
    let linked = ws.cx().conversation(c.id).await.unwrap().linked;
    let Some(LinkedRecord::Lead(lead)) = linked else {
        panic!("the username-only conversation is linked to a lead: {linked:?}");
    };
    assert_eq!(lead.phone, None);
    let all = leads().await;
    assert_eq!(all.len(), 1, "listed: {all:?}");
    assert_eq!(
        (
            all[0].name.as_str(),
            all[0].phone.as_deref(),
            all[0].email.as_str()
        ),
        ("Sheena Nelson", None, "")
    );
    assert_eq!(all[0].source, "WhatsApp");
    // The same person from their number alone: Meta shows no link, so a second conversation and lead.
    feed.post(from_customer(
        "wamid.U2",
        1_750_000_100,
        Some(CUSTOMER),
        None,
        None,
        said("From my phone"),
    ))
    .await;
    assert_eq!(leads().await.len(), 2);
    // Then with both: one conversation, one lead, which has the phone and keeps the person.
    feed.post(from_customer(
        "wamid.U3",
        1_750_000_200,
        Some(CUSTOMER),
        Some("US.13491208655302741918"),
        Some("sheena.n"),
        said("Both now"),
    ))
    .await;
    let page = ws
        .cx()
        .conversations(crmconnect::chat::ConversationFilter::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let all = leads().await;
    assert_eq!(all.len(), 1, "one person, one lead: {all:?}");
    assert_eq!(all[0].phone.as_deref(), Some("+16505551234"));
    let linked = ws.cx().conversation(page.items[0].id).await.unwrap().linked;
    assert!(
        matches!(&linked, Some(LinkedRecord::Lead(l)) if l.id == all[0].id),
        "{linked:?}"
    );
    // Another username-only customer's lead is editable with neither phone nor email (WhatsApp
    // reaches them); a lead typed in still needs a way to reach it.
    feed.post(from_customer(
        "wamid.V1",
        1_750_000_300,
        None,
        Some("US.2"),
        Some("omar.k"),
        said("Hello"),
    ))
    .await;
    let all = leads().await;
    let omar = all.iter().find(|l| l.phone.is_none()).expect("Omar's lead");
    let edited = ws
        .cx()
        .update_lead(
            omar.id,
            LeadInput {
                name: "Omar K.".into(),
                status_id: Some(omar.status_id),
                ..LeadInput::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.name, "Omar K.");
    assert!(
        ws.cx()
            .create_lead(LeadInput {
                name: "Nobody".into(),
                ..LeadInput::default()
            })
            .await
            .is_err()
    );
}

/// Meta's own AI agent on the number (Conversation Routing, 2026): `messaging_handovers` says
/// who took the conversation, `standby` carries what the customer and the agent say while this
/// app only listens. Both are shown in the thread (the agent's replies as its own); while the
/// agent holds the conversation automation treats it as a person's (a bot stops); a message on
/// `messages` again, or the conversation handed back, and this app holds it once more.
#[tokio::test]
async fn meta_s_ai_agent_taking_a_conversation_is_shown_and_keeps_bots_silent() {
    let t = workspace().await;
    let ws = &t.ws;
    let mut feed = Feed { ws, seq: 0 };
    feed.post(message("wamid.H1", 1_750_000_000, said("I need help")))
        .await;
    let held = || async { first_conversation(ws).await.unwrap().agent_holds_at };
    assert_eq!(held().await, None);

    // Meta's agent takes the thread from this app: delivered to the previous owner.
    let handover = |kind: &str, detail: Value| {
        let mut value = json!({
            "messaging_product": "whatsapp",
            "recipient": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "sender": {"phone_number": CUSTOMER},
            "timestamp": "1750000060",
            "type": kind,
        });
        value[kind] = detail;
        account_webhook("messaging_handovers", 1_750_000_060, value)
    };
    let taken = handover(
        "control_taken",
        json!({"previous_owner": "app", "new_owner": "ai_agent", "metadata": "escalated"}),
    );
    let events = through_relay(&mut feed.seq, &taken);
    assert_eq!(events[0].kind, "handover");
    ws.apply_synced(&events).await.unwrap();
    assert_eq!(held().await, Some(1_750_000_060_000));
    let c = first_conversation(ws).await.unwrap();
    assert_eq!(
        ws.chat_activity(&events[0]).await.unwrap(),
        Some(crmconnect::chat::automation::ChatActivity::Person {
            conversation_id: c.id
        }),
        "a bot stops as for a person"
    );
    // The same notification twice leaves one note.
    ws.apply_synced(&events).await.unwrap();

    // While it holds the thread, the customer's words and the agent's replies come on standby.
    let standby = account_webhook(
        "standby",
        1_750_000_070,
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
            "messages": [{"from": CUSTOMER, "id": "wamid.S1", "timestamp": "1750000070",
                          "type": "text", "text": {"body": "where is my order?"}}],
            "message_echoes": [{"from": "15550783881", "to": CUSTOMER, "id": "wamid.A1",
                                "timestamp": "1750000071", "type": "text",
                                "text": {"body": "It ships tomorrow."}}]
        }),
    );
    let events = through_relay(&mut feed.seq, &standby);
    assert_eq!(events[0].kind, "standby");
    ws.apply_synced(&events).await.unwrap();
    let thread = feed.thread().await;
    let shown: Vec<(String, Option<String>, String)> = thread
        .iter()
        .map(|m| {
            (
                if m.outbound { "Out" } else { "In" }.to_owned(),
                m.staff_name.clone(),
                m.content.searchable(),
            )
        })
        .collect();
    assert_eq!(
        &shown[1..],
        [
            (
                "In".to_owned(),
                None,
                "Meta's AI agent took this conversation over: bots here stay silent until it comes back".to_owned()
            ),
            ("In".to_owned(), None, "where is my order?".to_owned()),
            (
                "Out".to_owned(),
                Some("Meta's AI agent".to_owned()),
                "It ships tomorrow.".to_owned()
            ),
        ],
        "{shown:?}"
    );
    assert_eq!(held().await, Some(1_750_000_060_000));
    assert!(matches!(
        ws.chat_activity(&events[0]).await.unwrap(),
        Some(crmconnect::chat::automation::ChatActivity::Person { .. })
    ));

    // The agent released it (no notification): the next message comes on `messages` again.
    feed.post(message("wamid.H2", 1_750_000_200, said("thanks!")))
        .await;
    assert_eq!(held().await, None);

    // Handed back explicitly: a note, and this app holds it.
    feed.post(handover("control_taken", json!({"new_owner": "ai_agent"})))
        .await;
    assert!(held().await.is_some());
    feed.post(handover(
        "control_passed",
        json!({"previous_owner": "ai_agent"}),
    ))
    .await;
    assert_eq!(held().await, None);
    let last = feed.thread().await.pop().unwrap();
    assert_eq!(
        last.content.searchable(),
        "Meta's AI agent handed this conversation to this app"
    );
}

/// The sandbox plays Meta's own AI agent taking a customer's conversation and answering it, as
/// Meta tells a listening app (`messaging_handovers`, then `standby`), so the sandbox workspace
/// shows it; the app's own reply takes the conversation back.
#[tokio::test]
async fn the_sandbox_plays_meta_s_agent_taking_a_conversation() {
    use crmconnect::runtime::{Runtime, RuntimeOptions};
    use crmconnect::sandbox::SandboxConfig;
    let t = workspace().await;
    let e = Runtime::start(
        t.ws.clone(),
        RuntimeOptions {
            sandbox: SandboxConfig::default(),
        },
    )
    .await
    .unwrap();
    let sandbox = e.embedded().unwrap().sandbox();
    sandbox
        .meta_agent_answers("ana", "Is my order on its way?")
        .unwrap();
    let c = eventually("the agent's reply in Ana's thread", || async {
        let c = first_conversation(&t.ws).await?;
        let thread = t.ws.cx().thread(c.id, None, None).await.unwrap().messages;
        let replied = thread
            .iter()
            .any(|m| m.outbound && m.staff_name.as_deref() == Some("Meta's AI agent"));
        (replied && c.agent_holds_at.is_some()).then_some(c)
    })
    .await;
    t.ws.cx()
        .send_text(
            c.id,
            crate::common::text("Hi Ana, a person here: it left today."),
        )
        .await
        .unwrap();
    eventually("the conversation back with this app", || async {
        let c = first_conversation(&t.ws).await?;
        c.agent_holds_at.is_none().then_some(())
    })
    .await;
    e.shutdown().await;
}
