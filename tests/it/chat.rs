//! Chat against the sandbox and the in-process relay: a customer writes, the rep answers, ticks
//! move, the window closes, templates go out, sends made offline go out once, two desktops of a
//! team see each other's replies and assignments, and "Send on WhatsApp" from an invoice.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{OWNER, TestWorkspace, code, eventually, invoice_for, workspace};
use crmconnect::chat::quick_replies::QuickReplyInput;
use crmconnect::chat::{
    ChatMessage, ConversationFilter, ConversationView, LinkKind, MessageContent, MessageStatus,
    SendTemplate, SendText,
};
use crmconnect::documents::DocumentKind;
use crmconnect::leads::LeadInput;
use crmconnect::permissions::Permission;
use crmconnect::relay::events::ReceivedEvent;
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::CustomerMessage;
use crmconnect::sandbox::SandboxConfig;
use crmconnect::sensitive::Sensitive;
use crmconnect::templates::{TemplateFilter, TemplateModel};
use crmconnect::{ErrorCode, Workspace};
use serde_json::json;

fn config() -> SandboxConfig {
    SandboxConfig {
        delivery_delay: Duration::from_millis(50),
        read_delay: Duration::from_millis(50),
        template_approval_delay: Duration::ZERO,
        ..SandboxConfig::default()
    }
}

/// A sandbox workspace with its runtime: the embedded sandbox and relay, sync and the sender.
async fn desktop() -> (TestWorkspace, Runtime) {
    let t = workspace().await;
    let e = Runtime::start(t.ws.clone(), RuntimeOptions { sandbox: config() })
        .await
        .expect("embedded sandbox");
    (t, e)
}

/// The sandbox workspace's sandbox and relay, for the scenarios below.
trait Embedded {
    fn sandbox(&self) -> &crmconnect::sandbox::SandboxHandle;
    fn relay(&self) -> &crmconnect::relay::RelayHandle;
}

impl Embedded for Runtime {
    fn sandbox(&self) -> &crmconnect::sandbox::SandboxHandle {
        self.embedded().expect("a sandbox workspace").sandbox()
    }
    fn relay(&self) -> &crmconnect::relay::RelayHandle {
        self.embedded().expect("a sandbox workspace").relay()
    }
}

fn customer_key(e: &Runtime, key: &str) -> String {
    let c = e
        .sandbox()
        .customers()
        .into_iter()
        .find(|c| c.key == key)
        .expect("sandbox customer");
    format!("+{}", c.wa_id.expect("a number"))
}

async fn first_conversation(ws: &Workspace) -> crmconnect::chat::Conversation {
    eventually("the conversation", || async {
        ws.cx()
            .conversations(ConversationFilter::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await
}

async fn last_message(ws: &Workspace, conversation: i64) -> ChatMessage {
    ws.cx()
        .thread(conversation, None, None)
        .await
        .unwrap()
        .messages
        .pop()
        .expect("a message")
}

async fn status_of(ws: &Workspace, conversation: i64, id: i64) -> MessageStatus {
    ws.cx()
        .thread(conversation, None, Some(500))
        .await
        .unwrap()
        .messages
        .into_iter()
        .find(|m| m.id == id)
        .expect("the message")
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_writes_the_rep_replies_and_after_the_window_only_templates_go_out() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let mut notices = ws.chat_notices();
    e.sandbox()
        .customer_sends(
            "ana",
            CustomerMessage::text("Hello! Is the roof repair offer still valid?"),
        )
        .unwrap();

    // The conversation appears with an unread count, linked to a new lead from WhatsApp.
    let c = first_conversation(ws).await;
    assert_eq!(c.customer, customer_key(&e, "ana"));
    assert_eq!(c.unread, 1);
    assert_eq!(c.customer_name, "Ana Ruiz (sandbox)");
    assert!(c.last_preview.contains("roof repair"));
    assert_eq!(c.link_kind, Some(LinkKind::Lead));
    let lead = ws.cx().lead(c.link_id.unwrap()).await.unwrap();
    assert_eq!(lead.source, "WhatsApp");
    assert_eq!(lead.phone.as_deref(), Some(c.customer.as_str()));
    let notice = eventually("the inbound notice", || {
        let n = notices.try_recv().ok();
        async move { n.filter(|n| n.inbound) }
    })
    .await;
    assert_eq!(notice.conversation_id, c.id);
    assert_eq!(notice.sender.as_deref(), Some("Ana Ruiz (sandbox)"));
    assert!(notice.preview.unwrap().contains("roof repair"));

    // Opening it marks it read.
    ws.cx().mark_conversation_read(c.id).await.unwrap();
    let c = first_conversation(ws).await;
    assert_eq!(c.unread, 0);

    // A quick reply goes out; the ticks follow the sandbox: sent, delivered, read.
    let qr = ws
        .cx()
        .create_quick_reply(QuickReplyInput {
            name: "valid".into(),
            message: "Yes, the offer is valid until the end of the month.".into(),
        })
        .await
        .unwrap();
    let sent = ws
        .cx()
        .send_text(
            c.id,
            SendText {
                text: qr.message.clone(),
                reply_to: None,
            },
        )
        .await
        .unwrap();
    assert!(sent.outbound && sent.wamid.is_some(), "{sent:?}");
    eventually("the read tick", || async {
        (status_of(ws, c.id, sent.id).await == MessageStatus::Read).then_some(())
    })
    .await;
    assert_eq!(
        t.log_of("chat.send").await.len(),
        1,
        "the send is in the activity log"
    );

    // Search finds both sides of the conversation.
    let hits = ws.cx().search_messages("roof rep", None).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].conversation_id, c.id);
    assert!(
        hits[0].snippet.contains("\u{1}roof\u{2}"),
        "{:?}",
        hits[0].snippet
    );
    assert_eq!(
        ws.cx().search_messages("offer", None).await.unwrap().len(),
        2
    );

    // A day later the window is closed: free text is refused, a template goes out.
    e.sandbox().clock().advance(Duration::from_secs(25 * 3600));
    let detail = ws.cx().conversation(c.id).await.unwrap();
    assert!(!detail.window_open);
    let refused = ws
        .cx()
        .send_text(
            c.id,
            SendText {
                text: "Are you there?".into(),
                reply_to: None,
            },
        )
        .await;
    let err = refused.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert!(
        err.to_string().contains("24-hour window is closed"),
        "{err}"
    );
    ws.cx().sync_templates().await.unwrap();
    let hello = ws
        .cx()
        .templates(TemplateFilter {
            search: Some("hello_world".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let template = ws
        .cx()
        .send_template(
            c.id,
            SendTemplate {
                template_id: hello.id,
                document_id: None,
                values: None,
                again: None,
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(template.content, MessageContent::Template { ref name, .. } if name == "hello_world")
    );
    eventually("the template delivered", || async {
        matches!(
            status_of(ws, c.id, template.id).await,
            MessageStatus::Delivered | MessageStatus::Read
        )
        .then_some(())
    })
    .await;
    let thread = ws.cx().thread(c.id, None, None).await.unwrap();
    assert_eq!(
        thread.messages.len(),
        3,
        "nothing refused was stored as sent"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_made_offline_goes_out_exactly_once_when_the_connection_is_back() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    e.sandbox()
        .customer_sends("ben", CustomerMessage::text("Can you call me?"))
        .unwrap();
    let c = first_conversation(ws).await;

    // Meta cannot be reached: a port nobody listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let good = crmconnect::connection::SandboxConnection {
        graph_base_url: e.sandbox().base_url().to_owned(),
        graph_version: "v23.0".into(),
        phone_number_id: c.phone_number_id.clone(),
        waba_id: e.sandbox().waba_id(),
        access_token: Sensitive::new(e.sandbox().access_token()),
    };
    let mut offline = good.clone();
    offline.graph_base_url = format!("http://{dead}");
    ws.configure_sandbox_connection(offline).await.unwrap();

    let queued = ws
        .cx()
        .send_text(
            c.id,
            SendText {
                text: "Sure, in five minutes.".into(),
                reply_to: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(queued.status, MessageStatus::Queued);
    assert_eq!(ws.chat_outbox_len().await.unwrap(), 1);

    // Back online: it goes out once, however often the outbox is drained.
    ws.configure_sandbox_connection(good).await.unwrap();
    ws.chat_retry_now();
    let wamid = eventually("the queued send accepted", || async {
        let m = last_message(ws, c.id).await;
        m.wamid.filter(|_| m.id == queued.id)
    })
    .await;
    assert_eq!(ws.drain_chat_sends().await.unwrap(), 0);
    assert_eq!(ws.chat_outbox_len().await.unwrap(), 0);
    eventually("the delivered tick", || async {
        matches!(
            status_of(ws, c.id, queued.id).await,
            MessageStatus::Delivered | MessageStatus::Read
        )
        .then_some(())
    })
    .await;
    let sent_statuses = e
        .sandbox()
        .deliveries()
        .into_iter()
        .filter(|d| format!("{d:?}").contains(&format!("status sent {wamid}")))
        .count();
    assert_eq!(sent_statuses, 1, "Meta got the message once");
    let outbound: Vec<_> = ws
        .cx()
        .thread(c.id, None, None)
        .await
        .unwrap()
        .messages
        .into_iter()
        .filter(|m| m.outbound)
        .collect();
    assert_eq!(outbound.len(), 1);
    e.shutdown().await;
}

fn event(seq: i64, key: &str, kind: &str, source: &str, raw: serde_json::Value) -> ReceivedEvent {
    // Received by the relay after anything these tests send (2027); a desktop's event names
    // who published it as the relay stamped it.
    let mut fields = json!({
        "seq": seq, "key": key, "kind": kind, "source": source, "received_at": 1_800_000_000_000i64,
        "raw": raw,
    });
    if source == "desktop" {
        fields["staff"] = json!(key.split(':').nth(1));
    }
    if kind == "message" || kind == "status" {
        let v = &raw["value"];
        let item = if kind == "message" {
            &v["messages"][0]
        } else {
            &v["statuses"][0]
        };
        fields["phone_number_id"] = v["metadata"]["phone_number_id"].clone();
        fields["message_id"] = item["id"].clone();
        fields["customer"] = item
            .get("from")
            .or_else(|| item.get("recipient_id"))
            .cloned()
            .unwrap_or_default();
        fields["status"] = item.get("status").cloned().unwrap_or_default();
        fields["timestamp"] = json!(item["timestamp"].as_str().unwrap().parse::<i64>().unwrap());
    }
    serde_json::from_value(fields).unwrap()
}

fn status(seq: i64, wamid: &str, status: &str, ts: i64) -> ReceivedEvent {
    event(
        seq,
        &format!("status:{wamid}:{status}"),
        "status",
        "meta",
        json!({"field": "messages", "value": {"metadata": {"phone_number_id": "PN1"},
            "statuses": [{"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "40721000001"}]}}),
    )
}

/// A read event that arrives late (this desktop's own, echoed by the relay after it had read
/// further, or a teammate's older one) never makes read messages unread again.
#[tokio::test]
async fn a_late_read_event_never_marks_read_messages_unread() {
    let t = workspace().await;
    let ws = &t.ws;
    let inbound = |seq: i64, wamid: &str| {
        event(
            seq,
            &format!("message:{wamid}"),
            "message",
            "meta",
            json!({"field": "messages", "value": {"metadata": {"phone_number_id": "PN1"},
                "messages": [{"from": "40721000005", "id": wamid, "timestamp": "1700000000",
                              "type": "text", "text": {"body": "hi"}}]}}),
        )
    };
    ws.apply_synced(&[inbound(1, "wamid.R1"), inbound(2, "wamid.R2")])
        .await
        .unwrap();
    let c = first_conversation(ws).await;
    assert_eq!(c.unread, 2);
    ws.cx().mark_conversation_read(c.id).await.unwrap();
    assert_eq!(first_conversation(ws).await.unread, 0);
    // A read up to the first message only, arriving now.
    let late = event(
        3,
        "desktop:bob:r1",
        "conversation.read",
        "desktop",
        json!({"customer": c.customer, "phone_number_id": "PN1", "up_to": "wamid.R1"}),
    );
    ws.apply_synced(&[late]).await.unwrap();
    assert_eq!(first_conversation(ws).await.unread, 0, "still read");
    // A new message after that counts as one unread.
    ws.apply_synced(&[inbound(4, "wamid.R3")]).await.unwrap();
    assert_eq!(first_conversation(ws).await.unread, 1);
}

#[tokio::test]
async fn the_unread_count_covers_every_conversation_and_needs_chat_view() {
    let t = workspace().await;
    let ws = &t.ws;
    let inbound = |seq: i64, from: &str, wamid: &str| {
        event(
            seq,
            &format!("message:{wamid}"),
            "message",
            "meta",
            json!({"field": "messages", "value": {"metadata": {"phone_number_id": "PN1"},
                "messages": [{"from": from, "id": wamid, "timestamp": "1700000000",
                              "type": "text", "text": {"body": "hi"}}]}}),
        )
    };
    let none = crmconnect::chat::UnreadCount::default();
    assert_eq!(ws.cx().unread().await.unwrap(), none);
    ws.apply_synced(&[
        inbound(1, "40721000005", "wamid.U1"),
        inbound(2, "40721000005", "wamid.U2"),
        inbound(3, "40721000006", "wamid.U3"),
    ])
    .await
    .unwrap();
    let count = ws.cx().unread().await.unwrap();
    assert_eq!((count.messages, count.conversations), (3, 2));

    // Assigned to someone else, on another number: still counted (the badge is the whole chat).
    let page = ws
        .cx()
        .conversations(ConversationFilter::default())
        .await
        .unwrap();
    let first = page
        .items
        .iter()
        .find(|c| c.unread == 2)
        .expect("the conversation with two");
    ws.cx().mark_conversation_read(first.id).await.unwrap();
    let count = ws.cx().unread().await.unwrap();
    assert_eq!((count.messages, count.conversations), (1, 1));

    let chat = |a: &str| format!("whatsapp_chat:{a}").parse::<Permission>().unwrap();
    t.staff_with("viewer", vec![chat("view")]).await;
    t.sign_in("viewer").await;
    assert_eq!(ws.cx().unread().await.unwrap().messages, 1);
    t.staff_with("nobody", vec![]).await;
    t.sign_in("nobody").await;
    assert_eq!(code(ws.cx().unread().await), ErrorCode::PermissionDenied);
}

#[tokio::test]
async fn statuses_never_go_backwards_and_replayed_events_change_nothing() {
    let t = workspace().await;
    let ws = &t.ws;
    let inbound = event(
        1,
        "message:wamid.IN1",
        "message",
        "meta",
        json!({"field": "messages", "value": {"metadata": {"phone_number_id": "PN1"},
            "contacts": [{"profile": {"name": "Radu"}, "wa_id": "40721000001"}],
            "messages": [{"from": "40721000001", "id": "wamid.IN1", "timestamp": "1700000000",
                          "type": "text", "text": {"body": "Salut"}}]}}),
    );
    // Another desktop's reply; its statuses arrive out of order, one before the reply itself.
    let sent = event(
        3,
        "desktop:bob:c1",
        "message.sent",
        "desktop",
        json!({"client_id": "c1", "wamid": "wamid.OUT1", "customer": "+40721000001",
               "phone_number_id": "PN1", "content": {"type": "text", "body": "Buna!"},
               "staff_name": "Bob", "sent_at": 1_700_000_100_000_i64}),
    );
    let batch = vec![
        inbound,
        status(2, "wamid.OUT1", "delivered", 1700000102),
        sent,
        status(4, "wamid.OUT1", "read", 1700000103),
        status(5, "wamid.OUT1", "sent", 1700000101),
    ];
    ws.apply_synced(&batch).await.unwrap();
    let c = first_conversation(ws).await;
    assert_eq!(c.customer, "+40721000001");
    assert_eq!(c.customer_name, "Radu");
    let thread = ws.cx().thread(c.id, None, None).await.unwrap();
    assert_eq!(thread.messages.len(), 2);
    let reply = &thread.messages[1];
    assert_eq!(
        reply.status,
        MessageStatus::Read,
        "a late `sent` does not undo `read`"
    );
    // Who sent it is who the relay says published it ("bob"), not the payload's "Bob".
    assert_eq!(reply.staff_name.as_deref(), Some("bob"));
    assert_eq!(c.last_preview, "Buna!");
    assert_eq!(c.unread, 1);

    // The same events again (a crash before the cursor moved): nothing changes.
    let mut replay = batch.clone();
    for e in &mut replay {
        e.seq += 100;
    }
    ws.apply_synced(&replay).await.unwrap();
    let again = first_conversation(ws).await;
    assert_eq!(again.unread, 1);
    assert_eq!(
        ws.cx()
            .thread(c.id, None, None)
            .await
            .unwrap()
            .messages
            .len(),
        2
    );
    let page = ws
        .cx()
        .conversations(ConversationFilter::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.unread_total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desktops_on_one_relay_see_each_others_replies_and_assignments() {
    let (a, e) = desktop().await;
    // Desktop B: another workspace of the team, syncing from A's relay with its own token.
    let b = workspace().await;
    let store = e.relay().state.log.store().clone();
    let (_, token) = tokens::issue(
        &store,
        TokenSpec {
            workspace: a.ws.info().slug.clone(),
            staff: "desktop b".into(),
            is_admin: true,
            permissions: vec![],
            label: "test".into(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    b.ws.cx()
        .set_relay(&e.relay().url(), Some(Sensitive::new(token)))
        .await
        .unwrap();
    let (_, ids) = a.ws.graph_client().await.unwrap();
    b.ws.configure_sandbox_connection(crmconnect::connection::SandboxConnection {
        graph_base_url: e.sandbox().base_url().to_owned(),
        graph_version: "v23.0".into(),
        phone_number_id: ids.phone_number_id,
        waba_id: e.sandbox().waba_id(),
        access_token: Sensitive::new(e.sandbox().access_token()),
    })
    .await
    .unwrap();
    let sync_b = crmconnect::sync::engine::start_configured(b.ws.clone())
        .await
        .unwrap()
        .expect("B syncs");

    e.sandbox()
        .customer_sends("chen", CustomerMessage::text("Do you have the invoice?"))
        .unwrap();
    let ca = first_conversation(&a.ws).await;
    let cb = first_conversation(&b.ws).await;
    assert_eq!(ca.customer, cb.customer);

    // A replies and assigns the conversation to the owner; B sees both.
    let reply =
        a.ws.cx()
            .send_text(
                ca.id,
                SendText {
                    text: "Yes, sending it now.".into(),
                    reply_to: None,
                },
            )
            .await
            .unwrap();
    a.ws.cx()
        .assign_conversation(ca.id, Some(OWNER.into()))
        .await
        .unwrap();
    let on_b = eventually("A's reply on B", || async {
        b.ws.cx()
            .thread(cb.id, None, None)
            .await
            .unwrap()
            .messages
            .into_iter()
            .find(|m| m.outbound)
    })
    .await;
    assert_eq!(on_b.wamid, reply.wamid);
    assert!(
        matches!(on_b.content, MessageContent::Text { ref body } if body == "Yes, sending it now.")
    );
    eventually("A's ticks on B", || async {
        (status_of(&b.ws, cb.id, on_b.id).await == MessageStatus::Read).then_some(())
    })
    .await;
    let assigned = eventually("the assignment on B", || async {
        b.ws.cx()
            .conversations(ConversationFilter {
                view: ConversationView::Mine,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(assigned.assigned_username.as_deref(), Some(OWNER));

    // And B's reply reaches A.
    b.ws.cx()
        .send_text(
            cb.id,
            SendText {
                text: "(from B) Attached below.".into(),
                reply_to: None,
            },
        )
        .await
        .unwrap();
    eventually("B's reply on A", || async {
        a.ws.cx().thread(ca.id, None, None)
            .await
            .unwrap()
            .messages
            .into_iter()
            .find(|m| matches!(&m.content, MessageContent::Text { body } if body.starts_with("(from B)")))
    })
    .await;
    sync_b.stop().await;
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_on_whatsapp_from_an_invoice_sends_the_action_template_with_the_pdf() {
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let invoice_template = ws
        .cx()
        .load_template_model(TemplateModel::Invoice)
        .await
        .unwrap();
    let approved = eventually("the invoice template approved", || async {
        let v = ws.cx().template(invoice_template.id).await.unwrap();
        (v.status == "APPROVED").then_some(v)
    })
    .await;
    assert!(approved.sendable, "the model comes with its mapping");

    let lead = ws
        .cx()
        .create_lead(LeadInput {
            name: "Dara Nolan".into(),
            phone: "+40 721 000 003".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let doc = ws
        .cx()
        .create_document(invoice_for(lead.id), None)
        .await
        .unwrap();

    // Without a configured template the action says what is missing.
    let missing = ws
        .cx()
        .send_document_on_whatsapp(doc.id, None, false)
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("Template per action"),
        "{missing}"
    );
    ws.cx()
        .set_action_template(DocumentKind::Invoice, Some(approved.id))
        .await
        .unwrap();
    // Before sending: to whom, and the template filled as it will go.
    let preview = ws.cx().document_send_preview(doc.id, None).await.unwrap();
    assert_eq!(preview.to_name, "Dara Nolan");
    assert_eq!(preview.to_phone, "+40721000003");
    assert!(
        preview.fill.missing.is_empty(),
        "{:?}",
        preview.fill.missing
    );
    assert!(
        preview.fill.body.contains(&doc.number) && !preview.fill.body.contains("{{"),
        "{}",
        preview.fill.body
    );

    // A due date the form calls optional, which the template needs: said in plain words, and
    // typed for this send instead.
    let undated = ws
        .cx()
        .create_document(
            crmconnect::documents::DocumentInput {
                due_date: None,
                ..invoice_for(lead.id)
            },
            None,
        )
        .await
        .unwrap();
    let preview = ws
        .cx()
        .document_send_preview(undated.id, None)
        .await
        .unwrap();
    assert_eq!(preview.fill.missing.len(), 1, "{:?}", preview.fill.missing);
    let said = &preview.fill.missing[0];
    assert!(
        said.contains("{{due_date}} in the body")
            && said.contains("document due date")
            && said.contains(&undated.number)
            && !said.contains("document.due_date"),
        "{said}"
    );
    assert!(preview.fill.body.contains("due on {{due_date}}"));
    let refused = ws
        .cx()
        .send_document_on_whatsapp(undated.id, None, false)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Invalid);
    assert!(
        refused.to_string().contains("type it for this send"),
        "{refused}"
    );
    let typed: std::collections::BTreeMap<String, String> =
        [("body:due_date".to_owned(), "receipt".to_owned())].into();
    let preview = ws
        .cx()
        .document_send_preview(undated.id, Some(typed.clone()))
        .await
        .unwrap();
    assert!(preview.fill.missing.is_empty());
    assert!(
        preview.fill.body.contains("It is due on receipt;"),
        "{}",
        preview.fill.body
    );
    let due = preview
        .fill
        .values
        .iter()
        .find(|v| v.id == "body:due_date")
        .unwrap();
    assert!(due.typed);
    assert_eq!(due.field.as_deref(), Some("Document due date"));

    let m = ws
        .cx()
        .send_document_on_whatsapp(doc.id, None, false)
        .await
        .unwrap();
    // A double click: the same invoice again moments later asks first, and goes when confirmed.
    let twice = ws
        .cx()
        .send_document_on_whatsapp(doc.id, None, false)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), ErrorCode::Conflict, "{twice}");
    assert!(twice.to_string().contains("s ago"), "{twice}");
    let again = ws
        .cx()
        .send_document_on_whatsapp(doc.id, None, true)
        .await
        .unwrap();
    assert_ne!(again.id, m.id);
    // Another document to the same customer is not a repeat.
    let other = ws
        .cx()
        .send_document_on_whatsapp(undated.id, Some(typed), false)
        .await
        .unwrap();
    assert!(
        matches!(&other.content, MessageContent::Template { body, .. } if body.contains("due on receipt"))
    );
    let MessageContent::Template {
        name,
        body,
        header_document,
        ..
    } = &m.content
    else {
        panic!("a template: {m:?}")
    };
    assert_eq!(name, "crmconnect_invoice");
    assert!(body.contains(&doc.number), "{body}");
    let pdf = header_document.as_ref().expect("the PDF header");
    assert!(pdf.media_id.is_some(), "the PDF was uploaded to Meta");
    assert_eq!(
        pdf.filename.as_deref(),
        Some(format!("{}.pdf", doc.number).as_str())
    );
    assert!(m.wamid.is_some(), "Meta accepted it: {m:?}");
    eventually("the invoice delivered", || async {
        matches!(
            status_of(ws, m.conversation_id, m.id).await,
            MessageStatus::Delivered | MessageStatus::Read
        )
        .then_some(())
    })
    .await;
    let c = ws.cx().conversation(m.conversation_id).await.unwrap();
    assert_eq!(c.conversation.link_kind, Some(LinkKind::Lead));
    assert_eq!(c.conversation.link_id, Some(lead.id));
    // The PDF opens from the thread through the core.
    let file = ws.cx().chat_media(m.id).await.unwrap();
    assert_eq!(file.mime_type, "application/pdf");
    // Saved into the downloads twice: two files, the second never over the first.
    let downloads = tempfile::tempdir().unwrap();
    let first = ws
        .cx()
        .save_chat_media(m.id, downloads.path())
        .await
        .unwrap();
    let second = ws
        .cx()
        .save_chat_media(m.id, downloads.path())
        .await
        .unwrap();
    assert_ne!(first, second);
    assert!(
        first.ends_with(".pdf") && second.ends_with(" (2).pdf"),
        "{first} {second}"
    );
    for path in [&first, &second] {
        assert!(std::fs::read(path).unwrap().starts_with(b"%PDF-"), "{path}");
    }
    // A message that is not there is named.
    let missing = m.id + 1000;
    let text = ws
        .cx()
        .save_chat_media(missing, downloads.path())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(text, format!("message #{missing} does not exist"));
    e.shutdown().await;
}

#[tokio::test]
async fn quick_replies_and_chat_need_their_permissions() {
    let t = workspace().await;
    let ws = &t.ws;
    let qr = ws
        .cx()
        .create_quick_reply(QuickReplyInput {
            name: "/hours".into(),
            message: "We are open 9–17, Monday to Friday.".into(),
        })
        .await
        .unwrap();
    assert_eq!(qr.name, "hours");
    let dup = ws
        .cx()
        .create_quick_reply(QuickReplyInput {
            name: "HOURS".into(),
            message: "x".into(),
        })
        .await;
    assert_eq!(code(dup), ErrorCode::Conflict);
    let edited = ws
        .cx()
        .update_quick_reply(
            qr.id,
            QuickReplyInput {
                name: "hours".into(),
                message: "We are open 9–18.".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.message, "We are open 9–18.");
    assert_eq!(t.log_of("quick_replies.update").await.len(), 1);

    // A rep who may chat uses quick replies but cannot change them.
    let chat = |a: &str| format!("whatsapp_chat:{a}").parse::<Permission>().unwrap();
    t.staff_with("rep", vec![chat("view"), chat("send")]).await;
    t.sign_in("rep").await;
    assert_eq!(ws.cx().quick_replies().await.unwrap().len(), 1);
    assert_eq!(
        code(ws.cx().delete_quick_reply(qr.id).await),
        ErrorCode::PermissionDenied
    );
    assert!(
        ws.cx()
            .conversations(ConversationFilter::default())
            .await
            .is_ok()
    );

    // Someone who may only view the chat cannot send or assign.
    t.staff_with("viewer", vec![chat("view")]).await;
    t.sign_in("viewer").await;
    assert_eq!(
        code(
            ws.cx()
                .send_text(
                    1,
                    SendText {
                        text: "hi".into(),
                        reply_to: None
                    }
                )
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        code(ws.cx().assign_conversation(1, None).await),
        ErrorCode::NotFound,
        "the missing conversation is named before the permission is logged as refused"
    );
    t.staff_with("nobody", vec![]).await;
    t.sign_in("nobody").await;
    assert_eq!(
        code(ws.cx().conversations(ConversationFilter::default()).await),
        ErrorCode::PermissionDenied
    );
    t.as_owner().await;
    // Notifications are per staff member: muting them here does not mute the rep.
    assert!(!ws.cx().chat_preferences().await.unwrap().muted);
    ws.cx()
        .set_chat_preferences(crmconnect::chat::ChatPreferences { muted: true })
        .await
        .unwrap();
    assert!(ws.cx().chat_preferences().await.unwrap().muted);
    t.sign_in("rep").await;
    assert!(!ws.cx().chat_preferences().await.unwrap().muted);
    t.as_owner().await;
    ws.cx().delete_quick_reply(qr.id).await.unwrap();
    assert!(ws.cx().quick_replies().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_conversation_from_a_client_contact_or_bulk_contact_links_to_it() {
    let t = workspace().await;
    let ws = &t.ws;
    let contact = ws
        .cx()
        .create_contact(crmconnect::contacts::ContactInput {
            name: "Bulk Person".into(),
            phone: "+40 721 000 002".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let inbound = event(
        1,
        "message:wamid.B1",
        "message",
        "meta",
        json!({"field": "messages", "value": {"metadata": {"phone_number_id": "PN1"},
            "messages": [{"from": "40721000002", "id": "wamid.B1", "timestamp": "1700000000",
                          "type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}}]}}),
    );
    ws.apply_synced(&[inbound]).await.unwrap();
    let c = first_conversation(ws).await;
    assert_eq!(c.link_kind, Some(LinkKind::Contact));
    assert_eq!(c.link_id, Some(contact.id));
    // The header opens it by id.
    assert_eq!(
        ws.cx().contact(contact.id).await.unwrap().name,
        "Bulk Person"
    );
    assert!(ws.cx().contact(contact.id + 1000).await.is_err());
    assert_eq!(c.last_preview, "📷 Photo");
    assert!(
        ws.cx()
            .leads(Default::default())
            .await
            .unwrap()
            .leads
            .is_empty(),
        "a known number creates no lead"
    );
    // Linked by hand to a new lead instead.
    let detail = ws
        .cx()
        .link_conversation(c.id, crmconnect::chat::LinkInput::NewLead)
        .await
        .unwrap();
    assert!(matches!(
        detail.linked,
        Some(crmconnect::chat::LinkedRecord::Lead(_))
    ));
    let statuses = ws.cx().lead_statuses().await.unwrap();
    let won = statuses.iter().find(|s| s.name == "Won").unwrap();
    let detail = ws
        .cx()
        .set_conversation_lead_status(c.id, won.id)
        .await
        .unwrap();
    let Some(crmconnect::chat::LinkedRecord::Lead(lead)) = detail.linked else {
        panic!("a lead")
    };
    assert_eq!(lead.status_name, "Won");
    assert_eq!(t.log_of("chat.lead_status").await.len(), 1);
    let _ = Arc::clone(ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_panel_makes_customers_write_moves_the_clock_and_fails_sends() {
    use crmconnect::embedded::SandboxWrite;
    let (t, e) = desktop().await;
    let ws = &t.ws;
    let panel = e.embedded().unwrap().panel();
    assert!(
        panel
            .customers
            .iter()
            .any(|c| c.key == "ana" && c.phone.is_some())
    );
    assert!(
        panel
            .customers
            .iter()
            .any(|c| c.phone.is_none() && c.username.is_some()),
        "a customer known only by username"
    );
    assert_eq!(panel.failure_rate, 0.0);

    let sandbox = e.embedded().unwrap();
    sandbox
        .customer_writes(
            "ana",
            SandboxWrite::Text {
                body: "Written from the panel".into(),
            },
            false,
        )
        .unwrap();
    let c = first_conversation(ws).await;
    assert!(c.last_preview.contains("Written from the panel"));
    let empty = sandbox
        .customer_writes("ana", SandboxWrite::Text { body: "  ".into() }, false)
        .unwrap_err();
    assert_eq!(empty.code(), ErrorCode::Invalid);
    assert!(empty.to_string().contains("empty"), "{empty}");
    let nobody = sandbox
        .customer_writes("zed", SandboxWrite::Sticker, false)
        .unwrap_err();
    assert_eq!(nobody.code(), ErrorCode::NotFound);

    // Every send fails once the rate is 100 %.
    assert_eq!(
        code(sandbox.set_failure_rate(1.5).map(|_| ())),
        ErrorCode::Invalid
    );
    assert_eq!(sandbox.set_failure_rate(1.0).unwrap().failure_rate, 1.0);
    let sent = ws
        .cx()
        .send_text(
            c.id,
            SendText {
                text: "This one fails".into(),
                reply_to: None,
            },
        )
        .await
        .unwrap();
    eventually("the send failed", || async {
        (status_of(ws, c.id, sent.id).await == MessageStatus::Failed).then_some(())
    })
    .await;

    // 25 hours later the window is closed.
    assert!(ws.cx().conversation(c.id).await.unwrap().window_open);
    let later = sandbox.advance_clock(25.0).unwrap();
    assert!(later.clock_ahead_hours >= 25.0);
    assert!(!ws.cx().conversation(c.id).await.unwrap().window_open);
    assert_eq!(
        code(sandbox.advance_clock(-1.0).map(|_| ())),
        ErrorCode::Invalid
    );
    e.shutdown().await;
}
