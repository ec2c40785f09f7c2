//! One pacer per business number, whichever path sends: chat replies, read receipts and
//! "Send on WhatsApp" share the workspace's one Graph client, so together they never go faster
//! than the number's rate, as the sandbox (Meta's stand-in) measures it.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{self, eventually_within, invoice_for};
use crmconnect::Workspace;
use crmconnect::chat::{ConversationFilter, SendText};
use crmconnect::documents::DocumentKind;
use crmconnect::leads::LeadInput;
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::{CustomerMessage, JITTER_BURST, SandboxConfig};
use crmconnect::templates::TemplateModel;

const RATE: u32 = 40;
const CHAT: usize = 550;
const READS: usize = 150;
const SEND_ON_WHATSAPP: usize = 300;

async fn conversation_of(ws: &Workspace, customer: &str) -> Option<crmconnect::chat::Conversation> {
    ws.cx()
        .conversations(ConversationFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.customer == customer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_read_receipts_and_send_on_whatsapp_share_one_pacer() {
    let t = common::workspace().await;
    let config = SandboxConfig {
        throughput_mps: RATE,
        pair_burst: 100_000,
        delivery_delay: Duration::from_millis(50),
        read_delay: Duration::from_millis(50),
        template_approval_delay: Duration::ZERO,
        ..SandboxConfig::default()
    };
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions { sandbox: config })
        .await
        .unwrap();
    let sandbox = rt.embedded().unwrap().sandbox();
    let ws = &t.ws;
    let number = ws.graph_client().await.unwrap().1.phone_number_id;

    // Two customers write: their windows are open for chat replies and read receipts.
    let keys: Vec<String> = sandbox
        .customers()
        .into_iter()
        .take(2)
        .map(|c| c.key)
        .collect();
    let mut chats = vec![];
    for key in &keys {
        sandbox
            .customer_sends(key, CustomerMessage::text("Hello"))
            .unwrap();
        let wa = sandbox
            .customers()
            .into_iter()
            .find(|c| &c.key == key)
            .and_then(|c| c.wa_id)
            .unwrap();
        let customer = format!("+{wa}");
        let c = eventually_within(Duration::from_secs(60), "the conversation", || {
            conversation_of(ws, &customer)
        })
        .await;
        chats.push(c.id);
    }
    // An invoice to a lead, with the action's template approved.
    let model = ws
        .cx()
        .load_template_model(TemplateModel::Invoice)
        .await
        .unwrap();
    eventually_within(Duration::from_secs(60), "the template approved", || async {
        (ws.cx().template(model.id).await.unwrap().status == "APPROVED").then_some(())
    })
    .await;
    ws.cx()
        .set_action_template(DocumentKind::Invoice, Some(model.id))
        .await
        .unwrap();
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
    let before = sandbox.send_rate(&number).accepted;

    // The three paths at once, each as fast as it can.
    let ws: Arc<Workspace> = t.ws.clone();
    let chat = {
        let ws = ws.clone();
        let chats = chats.clone();
        tokio::spawn(async move {
            for i in 0..CHAT {
                let text = SendText {
                    text: format!("reply {i}"),
                    reply_to: None,
                };
                ws.cx()
                    .send_text(chats[i % chats.len()], text)
                    .await
                    .unwrap();
            }
        })
    };
    let send_on_whatsapp = {
        let ws = ws.clone();
        tokio::spawn(async move {
            for _ in 0..SEND_ON_WHATSAPP {
                let m = ws
                    .cx()
                    .send_document_on_whatsapp(doc.id, None, true)
                    .await
                    .unwrap();
                assert!(m.error.is_none(), "{m:?}");
            }
        })
    };
    for i in 0..READS {
        let key = &keys[i % keys.len()];
        let id = chats[i % chats.len()];
        sandbox
            .customer_sends(key, CustomerMessage::text(format!("question {i}")))
            .unwrap();
        eventually_within(Duration::from_secs(60), "an unread message", || async {
            let c = ws.cx().conversation(id).await.unwrap();
            (c.conversation.unread > 0).then_some(())
        })
        .await;
        ws.cx().mark_conversation_read(id).await.unwrap();
    }
    chat.await.unwrap();
    send_on_whatsapp.await.unwrap();
    eventually_within(Duration::from_secs(60), "every chat reply sent", || async {
        (ws.chat_outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;

    let rate = sandbox.send_rate(&number);
    println!("the sandbox measured: {rate:?} at a rate of {RATE}/s");
    assert!(
        rate.accepted - before >= (CHAT + READS + SEND_ON_WHATSAPP) as u64,
        "{rate:?}"
    );
    assert_eq!(rate.refused, 0, "Meta never had to refuse one: {rate:?}");
    assert_eq!(
        rate.over_rate, 0,
        "no call above {RATE}/s beyond a jitter of {JITTER_BURST}: {rate:?}"
    );
    assert!(
        rate.max_in_one_second <= u64::from(RATE + JITTER_BURST),
        "{rate:?}"
    );
    rt.shutdown().await;
}
