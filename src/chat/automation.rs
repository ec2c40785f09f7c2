//! What automation (the bots) reads of the chat, after the chat's projection applied an event: a
//! customer's message as a bot sees it, and a person speaking in a conversation (which silences
//! the bot there).

use serde_json::Value;

use super::content::{self, MessageContent};
use crate::Result;
use crate::relay::events::ReceivedEvent;
use crate::workspace::Workspace;

/// A customer's message, for the bots.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CustomerMessage {
    pub conversation_id: i64,
    pub phone_number_id: String,
    pub wamid: String,
    /// What the customer wrote, or the title of what they tapped.
    pub text: String,
    /// The id of the reply button or list row tapped.
    pub reply: Option<String>,
    /// A template's quick-reply payload.
    pub payload: Option<String>,
    /// The click-to-WhatsApp ad the message came from (its source id).
    pub ad: Option<String>,
    /// A phone number the customer shared (a contact card, or the answer to a phone request).
    pub phone: Option<String>,
    /// Whether it is the conversation's first message from the customer.
    pub first: bool,
    /// Whether a person has the conversation (assigned).
    pub assigned: bool,
    pub customer_name: String,
    /// When the customer sent it (Meta's time, ms).
    pub at: i64,
}

/// What a bot did in the chat (see [`Workspace::bot_figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BotFigures {
    pub bot: String,
    pub conversations: i64,
    pub messages: i64,
    pub last_at: i64,
}

/// What automation makes of an event the chat applied.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatActivity {
    Customer(Box<CustomerMessage>),
    /// A person wrote (from a desktop or from the phone) or took the conversation.
    Person {
        conversation_id: i64,
    },
    /// Meta reports that one of a bot's messages failed (our message id, Meta's code and reason).
    BotMessageFailed {
        message_id: i64,
        code: i64,
        reason: String,
    },
}

impl Workspace {
    /// Whether a person has conversation `id` (assigned to someone) now.
    pub async fn conversation_assigned(&self, id: i64) -> Result<bool> {
        let who = sqlx::query_scalar!(
            "SELECT assigned_username FROM chat_conversations WHERE id = ?",
            id
        )
        .fetch_optional(self.db())
        .await?
        .flatten();
        Ok(who.is_some_and(|u| !u.is_empty()))
    }

    /// The chat activity in `e`, once the chat's projection has applied it (handlers run in order).
    pub async fn chat_activity(&self, e: &ReceivedEvent) -> Result<Option<ChatActivity>> {
        if !matches!(
            e.kind.as_str(),
            "message"
                | "message.sent"
                | "conversation.assigned"
                | "message_echo"
                | "status"
                | "standby"
                | "handover"
        ) {
            return Ok(None);
        }
        if e.kind == "status" && e.status.as_deref() != Some("failed") {
            return Ok(None); // only a failure says anything to automation
        }
        let raw: Value = match serde_json::from_str(e.raw.get()) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        let mut conn = self.db().acquire().await?;
        match e.kind.as_str() {
            "message" => {
                let value = &raw["value"];
                let Some(m) = value["messages"].get(0) else {
                    return Ok(None);
                };
                if matches!(
                    m["type"].as_str(),
                    Some("edit" | "revoke" | "system" | "reaction")
                ) {
                    return Ok(None);
                }
                let (Some(wamid), Some(pnid)) = (&e.message_id, &e.phone_number_id) else {
                    return Ok(None);
                };
                let Some(row) = sqlx::query!(
                    r#"SELECT c.id AS "id!", c.customer_name, c.assigned_username,
                              (SELECT count(*) FROM chat_messages i WHERE i.conversation_id = c.id AND i.direction = 'in') AS "inbound!: i64"
                       FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id
                       WHERE m.wamid = ? AND m.direction = 'in'"#,
                    wamid
                )
                .fetch_optional(&mut *conn)
                .await?
                else {
                    return Ok(None);
                };
                let content = content::from_inbound(m);
                let (text, reply, payload) = match &content {
                    MessageContent::ButtonReply { id, title } => {
                        (title.clone(), Some(id.clone()), None)
                    }
                    MessageContent::ListReply { id, title, .. } => {
                        (title.clone(), Some(id.clone()), None)
                    }
                    MessageContent::TemplateButton { payload, text } => {
                        (text.clone(), None, Some(payload.clone()))
                    }
                    other => (other.searchable(), None, None),
                };
                let phone = m["contacts"].get(0).and_then(|card| {
                    let p = card["phones"].get(0)?;
                    p["wa_id"]
                        .as_str()
                        .map(|w| format!("+{w}"))
                        .or_else(|| p["phone"].as_str().map(str::to_owned))
                });
                Ok(Some(ChatActivity::Customer(Box::new(CustomerMessage {
                    conversation_id: row.id,
                    phone_number_id: pnid.clone(),
                    wamid: wamid.clone(),
                    text,
                    reply,
                    payload,
                    ad: m["referral"]["source_id"].as_str().map(str::to_owned),
                    phone,
                    first: row.inbound <= 1,
                    assigned: row.assigned_username.is_some_and(|u| !u.is_empty()),
                    customer_name: row.customer_name,
                    at: e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at),
                }))))
            }
            // A message a desktop sent: a person's, unless a bot sent it.
            "message.sent" if raw["bot"].as_str().is_none_or(str::is_empty) => {
                let Some(client_id) = raw["client_id"].as_str() else {
                    return Ok(None);
                };
                let id = sqlx::query_scalar!(
                    "SELECT conversation_id FROM chat_messages WHERE client_id = ?",
                    client_id
                )
                .fetch_optional(&mut *conn)
                .await?;
                Ok(id.map(|conversation_id| ChatActivity::Person { conversation_id }))
            }
            "conversation.assigned" => {
                let (Some(customer), Some(pnid)) =
                    (raw["customer"].as_str(), raw["phone_number_id"].as_str())
                else {
                    return Ok(None);
                };
                if raw["username"].as_str().is_none_or(str::is_empty) {
                    return Ok(None); // unassigned: nobody took it
                }
                let id = sqlx::query_scalar!(
                    r#"SELECT id AS "id!" FROM chat_conversations WHERE customer = ? AND phone_number_id = ?"#,
                    customer,
                    pnid
                )
                .fetch_optional(&mut *conn)
                .await?;
                Ok(id.map(|conversation_id| ChatActivity::Person { conversation_id }))
            }
            // Someone wrote from the phone (the WhatsApp Business app on the same number), or
            // Meta's AI agent (or another app) answers the customer: a bot of ours stops as it
            // does for a person.
            "message_echo" | "standby" => {
                let value = &raw["value"];
                let Some(wamid) = value["message_echoes"][0]["id"]
                    .as_str()
                    .or(value["messages"][0]["id"].as_str())
                else {
                    return Ok(None);
                };
                let id = sqlx::query_scalar!(
                    "SELECT conversation_id FROM chat_messages WHERE wamid = ?",
                    wamid
                )
                .fetch_optional(&mut *conn)
                .await?;
                Ok(id.map(|conversation_id| ChatActivity::Person { conversation_id }))
            }
            "handover" => {
                let note = format!("handover:{}", e.key);
                let id = sqlx::query_scalar!(
                    "SELECT m.conversation_id FROM chat_messages m
                     JOIN chat_conversations c ON c.id = m.conversation_id
                     WHERE m.wamid = ? AND c.agent_holds_at IS NOT NULL",
                    note
                )
                .fetch_optional(&mut *conn)
                .await?;
                Ok(id.map(|conversation_id| ChatActivity::Person { conversation_id }))
            }
            // A status: only a failure of a bot's message matters here.
            "status" if e.status.as_deref() == Some("failed") => {
                let Some(wamid) = &e.message_id else {
                    return Ok(None);
                };
                let id = sqlx::query_scalar!(
                    r#"SELECT id AS "id!" FROM chat_messages WHERE wamid = ? AND bot IS NOT NULL"#,
                    wamid
                )
                .fetch_optional(&mut *conn)
                .await?;
                let error = &raw["value"]["statuses"][0]["errors"][0];
                let reason = error["title"]
                    .as_str()
                    .or(error["message"].as_str())
                    .unwrap_or("failed")
                    .to_owned();
                Ok(id.map(|message_id| ChatActivity::BotMessageFailed {
                    message_id,
                    code: e.error_codes.first().copied().unwrap_or(0),
                    reason,
                }))
            }
            _ => Ok(None),
        }
    }

    /// The customer's fields a bot's `{{variables}}` and conditions read.
    pub async fn conversation_fields(&self, conversation_id: i64) -> Result<Vec<(String, String)>> {
        let row = sqlx::query!(
            "SELECT customer, customer_name, username, last_inbound_at FROM chat_conversations WHERE id = ?",
            conversation_id
        )
        .fetch_optional(self.db())
        .await?;
        let Some(r) = row else { return Ok(Vec::new()) };
        let first = r
            .customer_name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
        let mut fields = vec![
            ("first_name".to_owned(), first),
            ("name".to_owned(), r.customer_name.clone()),
            (
                "phone".to_owned(),
                if r.customer.starts_with('+') {
                    r.customer.clone()
                } else {
                    String::new()
                },
            ),
            ("username".to_owned(), r.username.unwrap_or_default()),
        ];
        fields.retain(|(_, v)| !v.is_empty());
        Ok(fields)
    }

    /// When a person last wrote to the customer (from a desktop or the phone), if ever.
    pub async fn last_person_message_at(&self, conversation_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar!(
            "SELECT max(sent_at) FROM chat_messages WHERE conversation_id = ? AND direction = 'out' AND bot IS NULL",
            conversation_id
        )
        .fetch_one(self.db())
        .await?)
    }

    /// Per bot (by name): conversations it wrote in, messages it sent (both since `since`), and
    /// when it last wrote. Read from the team's chat, so every desktop shows the same figures.
    pub async fn bot_figures(&self, since: i64) -> Result<Vec<BotFigures>> {
        Ok(sqlx::query_as!(
            BotFigures,
            r#"SELECT bot AS "bot!",
                      count(DISTINCT CASE WHEN sent_at >= ?1 THEN conversation_id END) AS "conversations!: i64",
                      sum(sent_at >= ?1) AS "messages!: i64",
                      max(sent_at) AS "last_at!: i64"
               FROM chat_messages WHERE bot IS NOT NULL GROUP BY bot"#,
            since
        )
        .fetch_all(self.db())
        .await?)
    }

    /// The customers (a conversation's `customer`: digits, or a user id) who asked Meta to stop
    /// marketing messages from this business: campaigns leave them out.
    pub async fn marketing_stopped(&self) -> Result<std::collections::HashSet<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT customer FROM chat_conversations WHERE marketing_stopped_at IS NOT NULL"
        )
        .fetch_all(self.db())
        .await?
        .into_iter()
        .collect())
    }

    /// Whether the customer's 24-hour window is open now.
    pub async fn window_open(&self, conversation_id: i64) -> Result<bool> {
        let last = sqlx::query_scalar!(
            "SELECT last_inbound_at FROM chat_conversations WHERE id = ?",
            conversation_id
        )
        .fetch_optional(self.db())
        .await?
        .flatten();
        Ok(last.is_some_and(|at| self.now_ms() - at < 24 * 3600 * 1000))
    }
}
