//! Chat (the spec's "Interaction"): conversations between a customer and one of our business
//! numbers, linked to a lead, a client contact or a bulk contact; their messages and the statuses
//! Meta reports; sends through an outbox; quick replies; the template per CRM action.
//!
//! Conversations are a projection of the event log ([`projection`]): an inbound message, a status,
//! another desktop's send or assignment all arrive as events and are applied idempotently, so every
//! desktop of a team shows the same threads. This desktop's own changes are applied at once and
//! published as events for the others.
//!
//! Tables: `chat_conversations`, `chat_messages` (+ `chat_messages_fts`), `chat_statuses`,
//! `chat_sends`, `chat_preferences`, `chat_action_templates`, `quick_replies`.

pub mod automation;
pub mod content;
pub(crate) mod projection;
pub use projection::PHONE_SENDER;
pub mod quick_replies;
mod send;

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result, clients, contacts, leads, sync};
use std::sync::Arc;

pub use content::{
    AdReferral, ContactCard, FlowAnswer, MediaRef, MessageContent, MessageMarks, OrderItem,
    ProductRef,
};
pub use send::{
    ActionTemplate, DocumentSend, FillValue, MediaFile, MergeTarget, REPEAT_WINDOW_MS, SendMedia,
    SendTemplate, SendText, TemplateFill, run_sender, start_sender,
};

/// The customer-service window: free-form messages only within 24 hours of the customer's last
/// message.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("conversation #{0} does not exist")]
    NoConversation(i64),
    #[error("message #{0} does not exist")]
    NoMessage(i64),
    #[error(
        "the 24-hour window is closed: the customer last wrote more than 24 hours ago, so only an approved template can be sent"
    )]
    WindowClosed,
    #[error("the message is empty")]
    Empty,
    #[error("the message is {len} characters long; WhatsApp allows at most {max}")]
    TooLong { len: usize, max: usize },
    #[error("{0}")]
    Invalid(String),
    #[error("template #{id} cannot be sent: {reason}")]
    Template { id: i64, reason: String },
    #[error("no staff member is called “{0}”")]
    NoStaff(String),
    #[error("this conversation is not linked to a lead, so it has no lead status")]
    NotALead,
    #[error("no template is set for “{0}” in Settings → WhatsApp → Template per action")]
    NoActionTemplate(String),
    #[error("{what} has no phone number to send to")]
    NoPhone { what: String },
    #[error(
        "“{template}” is an authentication template, and Meta sends those only to phone numbers (error 131062); this customer is known only by username"
    )]
    AuthenticationNeedsPhone { template: String },
    #[error("the media could not be fetched: {0}")]
    Media(String),
    #[error("a quick reply is already called “{0}”")]
    QuickReplyTaken(String),
    #[error("quick reply #{0} does not exist")]
    NoQuickReply(i64),
    #[error("stored message content is unreadable: {0}")]
    Corrupt(String),
    #[error("the template cannot be sent yet: {0}")]
    Missing(String),
    #[error(
        "the same message went to this customer {seconds} s ago; send it again only if you mean to"
    )]
    Repeat { seconds: i64 },
}

impl crate::error::Coded for ChatError {
    fn code(&self) -> ErrorCode {
        ChatError::code(self)
    }
}

impl ChatError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::NoConversation(_) | ChatError::NoMessage(_) | ChatError::NoQuickReply(_) => {
                ErrorCode::NotFound
            }
            ChatError::QuickReplyTaken(_) | ChatError::Repeat { .. } => ErrorCode::Conflict,
            ChatError::Corrupt(_) | ChatError::Media(_) => ErrorCode::Internal,
            _ => ErrorCode::Invalid,
        }
    }
}

/// What the desktop hears about chat changes: to refresh screens and raise notifications.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChatNotice {
    pub conversation_id: i64,
    /// A new inbound message (`sender` and `preview` are set), or any other change.
    pub inbound: bool,
    pub sender: Option<String>,
    pub preview: Option<String>,
}

impl ChatNotice {
    /// Anything but a new inbound message: the screens refresh, nobody is notified.
    pub fn changed(conversation_id: i64) -> Self {
        ChatNotice {
            conversation_id,
            inbound: false,
            sender: None,
            preview: None,
        }
    }
}

/// The chat's per-workspace runtime: change notices, the send locks.
pub struct ChatRuntime {
    notices: broadcast::Sender<ChatNotice>,
    /// One drain at a time in each lane: people's sends, and automated ones (bots), which wait
    /// for the number's automation budget without holding people's up.
    sending: tokio::sync::Mutex<()>,
    sending_automated: tokio::sync::Mutex<()>,
    /// Held while a template send is checked against a repeat and queued.
    queueing: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
    wake_automated: tokio::sync::Notify,
    /// Sends left in flight by an earlier run were looked for (once per open workspace, before
    /// either lane sends anything).
    orphans_checked: tokio::sync::OnceCell<()>,
}

impl Default for ChatRuntime {
    fn default() -> Self {
        ChatRuntime {
            notices: broadcast::channel(1024).0,
            sending: tokio::sync::Mutex::new(()),
            sending_automated: tokio::sync::Mutex::new(()),
            queueing: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            wake_automated: tokio::sync::Notify::new(),
            orphans_checked: tokio::sync::OnceCell::new(),
        }
    }
}

// ---- views -------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConversationView {
    #[default]
    All,
    Mine,
    Unassigned,
}

/// Where the next page starts: after this conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationCursor {
    pub last_activity_at: i64,
    pub id: i64,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ConversationFilter {
    #[serde(default)]
    pub view: ConversationView,
    /// One business number, or all.
    #[ts(optional)]
    pub phone_number_id: Option<String>,
    /// Matches the customer's name or number.
    #[ts(optional)]
    pub search: Option<String>,
    #[ts(optional)]
    pub after: Option<ConversationCursor>,
    /// 50 by default, at most 500.
    #[ts(optional)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LinkKind {
    Lead,
    ClientContact,
    Contact,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Conversation {
    pub id: i64,
    /// E.164 number, or the user id of a username-only customer.
    pub customer: String,
    pub customer_name: String,
    pub phone_number_id: String,
    pub link_kind: Option<LinkKind>,
    pub link_id: Option<i64>,
    pub assigned_username: Option<String>,
    pub assigned_name: Option<String>,
    pub last_activity_at: i64,
    pub last_preview: String,
    pub last_direction: String,
    pub unread: i64,
    /// When the 24-hour window closes (or closed); null when the customer never wrote.
    pub window_closes_at: Option<i64>,
    /// The customer's business-scoped user id and WhatsApp username, when Meta sent them.
    pub user_id: Option<String>,
    pub username: Option<String>,
    /// When the customer asked to stop marketing messages (null: they did not, or resumed).
    pub marketing_stopped_at: Option<i64>,
    /// Since when Meta's AI agent (or another app on the number) answers this customer: our
    /// bots stay silent; a person who writes takes the conversation back. Null: this app holds it.
    pub agent_holds_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    pub next: Option<ConversationCursor>,
    /// Unread messages in every conversation of the view.
    pub unread_total: i64,
}

/// What is unread in the whole chat: the sidebar's badge, the window title and the taskbar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct UnreadCount {
    /// Unread inbound messages.
    pub messages: i64,
    /// Conversations with at least one of them.
    pub conversations: i64,
}

/// The record a conversation is linked to, as the header shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum LinkedRecord {
    Lead(leads::LeadBrief),
    ClientContact(clients::ContactPersonBrief),
    Contact(contacts::ContactBrief),
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub linked: Option<LinkedRecord>,
    /// Meta's time now, as this workspace sees it (the sandbox's clock in a sandbox workspace).
    pub now: i64,
    pub window_open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MessageStatus {
    /// In this desktop's outbox, waiting for the connection.
    Queued,
    /// Meta accepted it; no status yet.
    Accepted,
    Sent,
    Delivered,
    Read,
    /// A voice message the customer listened to.
    Played,
    Failed,
    /// Meta (or our own check) refused it: `error` says why. It was not sent.
    Refused,
    /// This desktop does not know whether Meta took it (it stopped between sending and hearing
    /// back, or Meta's answer was ambiguous): it is not sent again by itself. A status from Meta
    /// settles it; until then the person who sent it decides.
    Uncertain,
    /// Inbound messages have no ticks.
    Received,
}

impl MessageStatus {
    /// The order statuses move in; a lower rank never replaces a higher one.
    pub(crate) fn rank(status: &str) -> Option<i64> {
        Some(match status {
            "sent" => 1,
            "delivered" => 2,
            "read" => 3,
            "played" => 4,
            "failed" => 5,
            _ => return None,
        })
    }

    fn parse(s: &str) -> MessageStatus {
        match s {
            "queued" => MessageStatus::Queued,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "played" => MessageStatus::Played,
            "failed" => MessageStatus::Failed,
            "refused" => MessageStatus::Refused,
            _ => MessageStatus::Accepted,
        }
    }
}

/// The message a reply quotes.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Quoted {
    pub wamid: String,
    /// Null when the quoted message is not in this desktop's history.
    pub preview: Option<String>,
    pub outbound: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChatMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub wamid: Option<String>,
    pub outbound: bool,
    pub content: MessageContent,
    pub reply_to: Option<Quoted>,
    pub their_reaction: Option<String>,
    pub our_reaction: Option<String>,
    pub staff_name: Option<String>,
    /// The bot that sent it, by name: the thread marks it as the bot's.
    pub bot: Option<String>,
    pub sent_at: i64,
    pub status: MessageStatus,
    /// Why it failed or was refused (Meta's reason).
    pub error: Option<String>,
    /// Forwarded marks, and the ad or product the customer wrote from.
    pub marks: Option<MessageMarks>,
    /// When the customer last edited it; `original` is what it said first.
    pub edited_at: Option<i64>,
    pub original: Option<String>,
    /// When the customer deleted it for everyone: it shows "This message was deleted".
    pub deleted_at: Option<i64>,
    /// The category Meta priced it under (`marketing`, `utility`, `service`…), once known.
    pub pricing_category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ThreadPage {
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
    /// Pass as `before` for the older page; null at the start of the conversation.
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SearchHit {
    pub message_id: i64,
    pub conversation_id: i64,
    pub customer_name: String,
    pub customer: String,
    /// The matching text with the matched words between \u{1} and \u{2}.
    pub snippet: String,
    pub sent_at: i64,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum LinkInput {
    Lead {
        id: i64,
    },
    ClientContact {
        id: i64,
    },
    Contact {
        id: i64,
    },
    /// A new lead from the conversation's number and name.
    NewLead,
    /// The customer's Bulk Contact: the one with their number or WhatsApp user id, or a new one
    /// (by user id alone for a customer who writes by username).
    NewContact,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatPreferences {
    pub muted: bool,
}

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: i64,
    customer: String,
    customer_name: String,
    phone_number_id: String,
    lead_id: Option<i64>,
    client_contact_id: Option<i64>,
    contact_id: Option<i64>,
    assigned_username: Option<String>,
    assigned_name: Option<String>,
    last_activity_at: i64,
    last_preview: String,
    last_direction: String,
    unread: i64,
    last_inbound_at: Option<i64>,
    user_id: Option<String>,
    username: Option<String>,
    marketing_stopped_at: Option<i64>,
    agent_holds_at: Option<i64>,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        let (link_kind, link_id) = match (r.lead_id, r.client_contact_id, r.contact_id) {
            (Some(id), _, _) => (Some(LinkKind::Lead), Some(id)),
            (_, Some(id), _) => (Some(LinkKind::ClientContact), Some(id)),
            (_, _, Some(id)) => (Some(LinkKind::Contact), Some(id)),
            _ => (None, None),
        };
        Conversation {
            id: r.id,
            customer: r.customer,
            customer_name: r.customer_name,
            phone_number_id: r.phone_number_id,
            link_kind,
            link_id,
            assigned_username: r.assigned_username,
            assigned_name: r.assigned_name,
            last_activity_at: r.last_activity_at,
            last_preview: r.last_preview,
            last_direction: r.last_direction,
            unread: r.unread,
            window_closes_at: r.last_inbound_at.map(|t| t + WINDOW_MS),
            user_id: r.user_id,
            username: r.username,
            marketing_stopped_at: r.marketing_stopped_at,
            agent_holds_at: r.agent_holds_at,
        }
    }
}

const CONVERSATION_COLUMNS: &str = "id, customer, customer_name, phone_number_id, lead_id, \
    client_contact_id, contact_id, assigned_username, assigned_name, last_activity_at, \
    last_preview, last_direction, unread, last_inbound_at, user_id, username, marketing_stopped_at, \
    agent_holds_at";

/// Turns what a person typed into an FTS5 query: every word must appear, the last one as a prefix.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    // Control characters (a pasted NUL, an escape sequence) are not words: they would make FTS5
    // refuse the query instead of finding what the rest of it says.
    let cleaned: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<String> = cleaned
        .split_whitespace()
        .map(|w| w.replace('"', "\"\""))
        .filter(|w| !w.is_empty())
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Workspace {
    // ---- notices -----------------------------------------------------------------------------

    /// Chat's state in this workspace (notices, the send lock, the sender's wake-up).
    pub(crate) fn chat_runtime(&self) -> Arc<ChatRuntime> {
        self.ext()
    }

    /// Chat changes as they are applied: new inbound messages, statuses, assignments…
    pub fn chat_notices(&self) -> broadcast::Receiver<ChatNotice> {
        self.chat_runtime().notices.subscribe()
    }

    pub(crate) fn chat_notice(&self, notice: ChatNotice) {
        let _ = self.chat_runtime().notices.send(notice);
    }

    async fn conversation_row(&self, id: i64) -> Result<ConversationRow> {
        let row: Option<ConversationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM chat_conversations WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(self.db())
        .await?;
        Ok(row.ok_or(ChatError::NoConversation(id))?)
    }

    async fn linked_record(&self, c: &Conversation) -> Result<Option<LinkedRecord>> {
        let mut conn = self.db().acquire().await?;
        Ok(match (c.link_kind, c.link_id) {
            (Some(LinkKind::Lead), Some(id)) => {
                leads::brief(&mut conn, id).await?.map(LinkedRecord::Lead)
            }
            (Some(LinkKind::ClientContact), Some(id)) => clients::person_brief(&mut conn, id)
                .await?
                .map(LinkedRecord::ClientContact),
            (Some(LinkKind::Contact), Some(id)) => contacts::brief(&mut conn, id)
                .await?
                .map(LinkedRecord::Contact),
            _ => None,
        })
    }

    pub(crate) async fn thread_page(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<ThreadPage> {
        let limit = limit.unwrap_or(50).clamp(1, 500);
        let before = before.unwrap_or(i64::MAX);
        let rows = sqlx::query!(
            r#"SELECT m.id AS "id!", m.conversation_id, m.wamid, m.direction, m.content, m.reply_to,
                      m.their_reaction, m.our_reaction, m.staff_name, m.bot, m.sent_at, m.local_status,
                      COALESCE(st.error, m.error) AS error, st.status AS "status?",
                      q.content AS "quoted?", q.direction AS "quoted_direction?",
                      s.uncertain_at AS "uncertain_at?", s.last_error AS "send_error?",
                      q.deleted_at AS "quoted_deleted_at?", m.marks, m.edited_at, m.deleted_at,
                      st.pricing_category AS "pricing_category?",
                      (SELECT v.content FROM chat_message_versions v WHERE v.message_id = m.id
                       ORDER BY v.id LIMIT 1) AS "original?"
               FROM chat_messages m
               LEFT JOIN chat_statuses st ON st.wamid = m.wamid
               LEFT JOIN chat_sends s ON s.message_id = m.id
               LEFT JOIN chat_messages q ON q.wamid = m.reply_to
               WHERE m.conversation_id = ? AND m.id < ?
               ORDER BY m.id DESC LIMIT ?"#,
            conversation_id,
            before,
            limit
        )
        .fetch_all(self.db())
        .await?;
        let more = rows.len() as i64 == limit;
        let mut messages = Vec::with_capacity(rows.len());
        for r in rows.into_iter().rev() {
            let content: MessageContent = serde_json::from_str(&r.content)
                .map_err(|e| ChatError::Corrupt(format!("message #{}: {e}", r.id)))?;
            let outbound = r.direction == "out";
            let status = if !outbound {
                MessageStatus::Received
            } else if r.local_status == "refused" {
                MessageStatus::Refused
            } else if r.wamid.is_none() && r.uncertain_at.is_some() {
                MessageStatus::Uncertain
            } else if let Some(s) = &r.status {
                MessageStatus::parse(s)
            } else {
                MessageStatus::parse(&r.local_status)
            };
            let quoted_deleted = r.quoted_deleted_at.is_some();
            let reply_to = r.reply_to.map(|wamid| Quoted {
                preview: r
                    .quoted
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<MessageContent>(c).ok())
                    .map(|c| {
                        if quoted_deleted {
                            projection::DELETED.to_owned()
                        } else {
                            c.preview()
                        }
                    }),
                outbound: r.quoted_direction.as_deref() == Some("out"),
                wamid,
            });
            messages.push(ChatMessage {
                id: r.id,
                conversation_id: r.conversation_id,
                wamid: r.wamid,
                outbound,
                content,
                reply_to,
                their_reaction: r.their_reaction,
                our_reaction: r.our_reaction,
                staff_name: r.staff_name,
                bot: r.bot,
                sent_at: r.sent_at,
                error: if status == MessageStatus::Uncertain {
                    Some(r.send_error.unwrap_or_else(|| {
                        "This desktop stopped before Meta's answer reached it: it may have been sent. Its status will say; send it again only if the customer did not get it.".to_owned()
                    }))
                } else {
                    r.error
                },
                status,
                marks: r.marks.as_deref().and_then(|k| serde_json::from_str(k).ok()),
                original: r.edited_at.and(
                    r.original
                        .as_deref()
                        .and_then(|c| serde_json::from_str::<MessageContent>(c).ok())
                        .map(|c| c.preview()),
                ),
                edited_at: r.edited_at,
                deleted_at: r.deleted_at,
                pricing_category: r.pricing_category,
            });
        }
        Ok(ThreadPage {
            before: if more {
                messages.first().map(|m| m.id)
            } else {
                None
            },
            messages,
        })
    }
}

impl Ctx<'_> {
    // ---- reading -----------------------------------------------------------------------------

    /// A page of conversations, most recent activity first.
    pub async fn conversations(&self, filter: ConversationFilter) -> Result<ConversationPage> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::View)?;
        let me = match filter.view {
            ConversationView::Mine => self.me().await?.username,
            _ => String::new(),
        };
        let limit = filter.limit.unwrap_or(50).clamp(1, 500);
        let search = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());

        let push_where = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE 1 = 1");
            match filter.view {
                ConversationView::All => {}
                ConversationView::Mine => {
                    q.push(" AND assigned_username = ").push_bind(me.clone());
                }
                ConversationView::Unassigned => {
                    q.push(" AND assigned_username IS NULL");
                }
            }
            if let Some(n) = &filter.phone_number_id {
                q.push(" AND phone_number_id = ").push_bind(n.clone());
            }
            if let Some(s) = search {
                let like = format!(
                    "%{}%",
                    s.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                // A username is found with or without its "@".
                let handle = format!(
                    "%{}%",
                    s.trim_start_matches('@')
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                q.push(" AND (customer_name LIKE ")
                    .push_bind(like.clone())
                    .push(" ESCAPE '\\' OR customer LIKE ")
                    .push_bind(like)
                    .push(" ESCAPE '\\' OR username LIKE ")
                    .push_bind(handle)
                    .push(" ESCAPE '\\'");
                if let Some(digits) = crate::contacts::phone::search_digits(s) {
                    q.push(" OR customer LIKE ")
                        .push_bind(format!("%{digits}%"));
                }
                q.push(")");
            }
        };

        let mut q = QueryBuilder::<Sqlite>::new("SELECT ");
        q.push(CONVERSATION_COLUMNS);
        q.push(" FROM chat_conversations");
        push_where(&mut q);
        if let Some(c) = filter.after {
            q.push(" AND (last_activity_at, id) < (")
                .push_bind(c.last_activity_at)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(limit + 1);
        let mut rows: Vec<ConversationRow> = q.build_query_as().fetch_all(self.db()).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = more.then(|| {
            let last = rows.last().expect("more than limit");
            ConversationCursor {
                last_activity_at: last.last_activity_at,
                id: last.id,
            }
        });

        let mut q =
            QueryBuilder::<Sqlite>::new("SELECT COALESCE(SUM(unread), 0) FROM chat_conversations");
        push_where(&mut q);
        q.push(" AND unread > 0");
        let unread_total: i64 = q.build_query_scalar().fetch_one(self.db()).await?;

        Ok(ConversationPage {
            items: rows.into_iter().map(Conversation::from).collect(),
            next,
            unread_total,
        })
    }

    /// Unread messages and conversations across the whole chat (every number, every assignee):
    /// what a rep working on another screen must not miss.
    pub async fn unread(&self) -> Result<UnreadCount> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let row = sqlx::query!(
            r#"SELECT COALESCE(SUM(unread), 0) AS "messages!: i64", COUNT(*) AS "conversations!: i64"
               FROM chat_conversations WHERE unread > 0"#
        )
        .fetch_one(self.db())
        .await?;
        Ok(UnreadCount {
            messages: row.messages,
            conversations: row.conversations,
        })
    }

    /// One conversation with its linked record and the window.
    pub async fn conversation(&self, id: i64) -> Result<ConversationDetail> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let row = self.conversation_row(id).await?;
        let conversation = Conversation::from(row);
        let linked = self.linked_record(&conversation).await?;
        let now = self.now_ms();
        let window_open = conversation.window_closes_at.is_some_and(|t| t > now);
        Ok(ConversationDetail {
            conversation,
            linked,
            now,
            window_open,
        })
    }

    /// A page of a thread, newest page first: `before` a message id, or the latest.
    pub async fn thread(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<ThreadPage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        self.thread_page(conversation_id, before, limit).await
    }

    /// Full-text search over every message, newest first.
    pub async fn search_messages(&self, query: &str, limit: Option<i64>) -> Result<Vec<SearchHit>> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let Some(fts) = fts_query(query) else {
            return Ok(vec![]);
        };
        let limit = limit.unwrap_or(50).clamp(1, 200);
        Ok(sqlx::query_as!(
            SearchHit,
            r#"SELECT m.id AS "message_id!", m.conversation_id, c.customer_name, c.customer,
                      snippet(chat_messages_fts, 0, char(1), char(2), '…', 16) AS "snippet!: String",
                      m.sent_at
               FROM chat_messages_fts
               JOIN chat_messages m ON m.id = chat_messages_fts.rowid
               JOIN chat_conversations c ON c.id = m.conversation_id
               WHERE chat_messages_fts MATCH ?
               ORDER BY chat_messages_fts.rowid DESC LIMIT ?"#,
            fts,
            limit
        )
        .fetch_all(self.db())
        .await?)
    }

    // ---- changing ------------------------------------------------------------------------------

    /// Opening a conversation: its inbound messages are marked read, here and at Meta.
    pub async fn mark_conversation_read(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::View)?;
        let row = self.conversation_row(id).await?;
        let last_in = sqlx::query!(
            r#"SELECT id AS "id!", wamid FROM chat_messages
               WHERE conversation_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1"#,
            id
        )
        .fetch_optional(self.db())
        .await?;
        let Some(last_in) = last_in else {
            return Ok(());
        };
        if row.unread == 0 {
            return Ok(());
        }
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        projection::set_read_up_to(&mut tx, id, last_in.id).await?;
        if let Some(wamid) = &last_in.wamid {
            let read = serde_json::json!({
                "customer": row.customer,
                "phone_number_id": row.phone_number_id,
                "up_to": wamid,
            });
            sync::emit(&mut tx, &actor, "conversation.read", &read).await?;
        }
        tx.commit().await?;
        self.outbox_written();
        self.chat_notice(ChatNotice::changed(id));
        if let Some(wamid) = &last_in.wamid {
            // Blue ticks for the customer; best effort (the unread count is ours either way).
            match self.graph_client().await {
                Ok((client, _)) => {
                    if let Err(e) = client.mark_read(&row.phone_number_id, wamid, false).await {
                        tracing::warn!(error = %e, "could not mark a message read at Meta");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no connection to mark a message read"),
            }
        }
        Ok(())
    }

    /// Assigns a conversation to a staff member (by username), or to nobody.
    pub async fn assign_conversation(
        &self,
        id: i64,
        username: Option<String>,
    ) -> Result<Conversation> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappChat, Action::Send);
        let row = self.conversation_row(id).await?;
        let assignee = match username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let staff = self.staff_directory().await?;
                let found = staff
                    .into_iter()
                    .find(|s| s.username.eq_ignore_ascii_case(u))
                    .ok_or_else(|| ChatError::NoStaff(u.into()))?;
                Some((found.username, found.name))
            }
        };
        let target = format!("conversation with {}", display(&row));
        let (user, name) = assignee.unzip();
        let event = serde_json::json!({
            "customer": row.customer,
            "phone_number_id": row.phone_number_id,
            "username": user,
            "name": name,
        });
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Chat, "chat.assign", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    sqlx::query!(
                        "UPDATE chat_conversations SET assigned_username = ?, assigned_name = ? WHERE id = ?",
                        user,
                        name,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    sync::emit(tx, &publisher, "conversation.assigned", &event).await?;
                    let detail = match &name {
                        Some(n) => format!("assigned to {n}"),
                        None => "unassigned".to_owned(),
                    };
                    Ok(((), Some(detail)))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.chat_notice(ChatNotice::changed(id));
        Ok(Conversation::from(self.conversation_row(id).await?))
    }

    /// Changes the linked lead's status from the chat.
    pub async fn set_conversation_lead_status(
        &self,
        id: i64,
        status_id: i64,
    ) -> Result<ConversationDetail> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappChat, Action::Send);
        let row = self.conversation_row(id).await?;
        let lead_id = row.lead_id.ok_or(ChatError::NotALead)?;
        let target = format!(
            "lead #{lead_id} from the conversation with {}",
            display(&row)
        );
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Chat, "chat.lead_status", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = leads::set_status(tx, lead_id, status_id).await?;
                    let phone = leads::brief(tx, lead_id).await?.and_then(|l| l.phone);
                    if let Some(phone) = phone {
                        let event = serde_json::json!({ "phone": phone, "status": name });
                        sync::emit(tx, &publisher, "lead.status_changed", &event).await?;
                    }
                    Ok(((), Some(format!("status {name}"))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.conversation(id).await
    }

    /// Links a conversation to a record by hand (or to a new lead).
    pub async fn link_conversation(&self, id: i64, link: LinkInput) -> Result<ConversationDetail> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappChat, Action::Send);
        let row = self.conversation_row(id).await?;
        let target = format!("conversation with {}", display(&row));
        let customer = row.customer.clone();
        let name = row.customer_name.clone();
        let (user_id, username) = (row.user_id.clone(), row.username.clone());
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Chat, "chat.link", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let (lead, person, contact) = match link {
                        LinkInput::Lead { id } => {
                            leads::brief(tx, id)
                                .await?
                                .ok_or(leads::LeadsError::NoLead(id))?;
                            (Some(id), None, None)
                        }
                        LinkInput::ClientContact { id } => {
                            clients::person_brief(tx, id).await?.ok_or_else(|| {
                                ChatError::Invalid(format!("client contact #{id} does not exist"))
                            })?;
                            (None, Some(id), None)
                        }
                        LinkInput::Contact { id } => {
                            contacts::brief(tx, id).await?.ok_or_else(|| {
                                ChatError::Invalid(format!("contact #{id} does not exist"))
                            })?;
                            (None, None, Some(id))
                        }
                        LinkInput::NewLead => {
                            // A username-only customer is a lead by their user id.
                            let who = if customer.starts_with('+') {
                                leads::Reached::Phone(&customer)
                            } else {
                                leads::Reached::UserId(&customer)
                            };
                            let lead =
                                leads::create_from_whatsapp(tx, who, &name, "WhatsApp").await?;
                            (Some(lead), None, None)
                        }
                        LinkInput::NewContact => {
                            let phone = customer.starts_with('+').then_some(customer.as_str());
                            let user_id = user_id
                                .as_deref()
                                .or((!customer.starts_with('+')).then_some(customer.as_str()))
                                .filter(|u| !u.is_empty());
                            let who = contacts::WhatsappCustomer {
                                phone,
                                user_id,
                                name: &name,
                                username: username.as_deref().unwrap_or_default(),
                            };
                            let contact = contacts::from_whatsapp(tx, &publisher, who).await?;
                            (None, None, Some(contact))
                        }
                    };
                    sqlx::query!(
                        "UPDATE chat_conversations SET lead_id = ?, client_contact_id = ?, contact_id = ?
                         WHERE id = ?",
                        lead,
                        person,
                        contact,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok(((), None))
                })
            }),
        )
        .await?;
        self.outbox_written(); // a new contact's event
        self.conversation(id).await
    }

    /// The Bulk Contact of a conversation's customer, made when there is none (by WhatsApp user
    /// id alone for a customer who writes by username); the conversation's link is left as it is.
    pub async fn customer_contact(&self, conversation_id: i64) -> Result<i64> {
        let actor = self.actor().await?;
        let row = self.conversation_row(conversation_id).await?;
        let phone = row
            .customer
            .starts_with('+')
            .then_some(row.customer.clone());
        let user_id = row
            .user_id
            .clone()
            .or((!row.customer.starts_with('+')).then(|| row.customer.clone()))
            .filter(|u| !u.is_empty());
        let (name, username) = (row.customer_name.clone(), row.username.clone());
        let publisher = actor.clone();
        let id = audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::BulkContacts,
                "contacts.create",
                format!("contact for the {}", display(&row)),
            ),
            actor.require(Resource::WhatsappContacts, Action::View),
            Box::new(move |tx| {
                Box::pin(async move {
                    let who = contacts::WhatsappCustomer {
                        phone: phone.as_deref(),
                        user_id: user_id.as_deref(),
                        name: &name,
                        username: username.as_deref().unwrap_or_default(),
                    };
                    Ok((contacts::from_whatsapp(tx, &publisher, who).await?, None))
                })
            }),
        )
        .await?;
        self.outbox_written();
        Ok(id)
    }

    pub async fn chat_preferences(&self) -> Result<ChatPreferences> {
        let staff_id = self.actor().await?.require_person("Chat preferences")?;
        let muted = sqlx::query_scalar!(
            r#"SELECT muted AS "muted: bool" FROM chat_preferences WHERE staff_id = ?"#,
            staff_id
        )
        .fetch_optional(self.db())
        .await?
        .unwrap_or(false);
        Ok(ChatPreferences { muted })
    }

    pub async fn set_chat_preferences(&self, prefs: ChatPreferences) -> Result<ChatPreferences> {
        let staff_id = self.actor().await?.require_person("Chat preferences")?;
        sqlx::query!(
            "INSERT INTO chat_preferences (staff_id, muted) VALUES (?, ?)
             ON CONFLICT (staff_id) DO UPDATE SET muted = excluded.muted",
            staff_id,
            prefs.muted
        )
        .execute(self.db())
        .await?;
        self.chat_preferences().await
    }
}

/// A conversation as the activity log names it: the name and number.
fn display(row: &ConversationRow) -> String {
    if row.customer_name.is_empty() {
        row.customer.clone()
    } else {
        format!("{} ({})", row.customer_name, row.customer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_safe_fts_query() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("roof repair").unwrap(), "\"roof\" \"repair\"*");
        assert_eq!(fts_query("say \"hi\"").unwrap(), "\"say\" \"\"\"hi\"\"\"*");
        assert_eq!(fts_query("AND OR").unwrap(), "\"AND\" \"OR\"*");
    }

    #[test]
    fn statuses_only_move_forward() {
        let r = |s| MessageStatus::rank(s).unwrap();
        assert!(r("sent") < r("delivered") && r("delivered") < r("read"));
        assert!(r("read") < r("failed"));
        assert_eq!(MessageStatus::rank("accepted"), None);
    }
}
