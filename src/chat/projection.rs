//! The chat's projection of the event log. Every function here is idempotent: the sync engine may
//! apply an event twice (a crash between the effect and the cursor), and this desktop's own events
//! come back from the relay after they were applied locally.

use serde_json::Value;
use sqlx::SqliteConnection;

use super::content::{self, MessageContent, MessageMarks};
use super::{ChatNotice, MessageStatus};
use crate::relay::events::ReceivedEvent;
use crate::workspace::Workspace;
use crate::{Result, clients, contacts, leads};

/// Inbound messages older than this (Meta time) are history being caught up: no notification.
const NOTIFY_RECENT_MS: i64 = 10 * 60 * 1000;

/// When a teammate's message was sent, as its event says, but never after the relay received it
/// (a desktop's clock, or a tampered one, cannot put it in the future: `2100` would pin it to the
/// top of every list) and never before 2020.
pub(crate) fn sent_at_of(raw: &Value, received_at: i64) -> i64 {
    const EARLIEST: i64 = 1_577_836_800_000; // 2020-01-01
    raw["sent_at"].as_i64().map_or(received_at, |t| {
        t.clamp(EARLIEST.min(received_at), received_at)
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// What goes to Meta's `to` for a stored customer: digits for a number, the user id otherwise.
pub(crate) fn recipient(customer: &str) -> String {
    customer.strip_prefix('+').unwrap_or(customer).to_owned()
}

/// The conversation of (customer, business number), made and linked when new: a lead, a client
/// contact or a bulk contact with this number, else a new lead with `source` (WhatsApp, or the ad
/// the customer came from). A
/// username-only customer (no number) is left for a person to link.
pub(crate) async fn ensure_conversation(
    conn: &mut SqliteConnection,
    customer: &str,
    phone_number_id: &str,
    name: &str,
    source: &str,
    at: i64,
) -> Result<i64> {
    if let Some(id) = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM chat_conversations WHERE customer = ? AND phone_number_id = ?"#,
        customer,
        phone_number_id
    )
    .fetch_optional(&mut *conn)
    .await?
    {
        if !name.is_empty() {
            sqlx::query!(
                "UPDATE chat_conversations SET customer_name = ? WHERE id = ? AND customer_name = ''",
                name,
                id
            )
            .execute(&mut *conn)
            .await?;
        }
        return Ok(id);
    }
    let (lead, person, contact) = link_for(conn, customer, name, source).await?;
    let now = crate::now_ms();
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO chat_conversations (customer, phone_number_id, customer_name, lead_id,
                client_contact_id, contact_id, last_activity_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        customer,
        phone_number_id,
        name,
        lead,
        person,
        contact,
        at,
        now
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The record a customer with this key links to: a lead, a client contact or a bulk contact with
/// the number, else a new lead with `source`. A key that is not a number links to nothing yet.
async fn link_for(
    conn: &mut SqliteConnection,
    customer: &str,
    name: &str,
    source: &str,
) -> Result<(Option<i64>, Option<i64>, Option<i64>)> {
    let (mut lead, mut person, mut contact) = (None, None, None);
    if customer.starts_with('+') {
        lead = leads::id_by_phone(conn, customer).await?;
        if lead.is_none() {
            person = clients::person_by_phone(conn, customer).await?;
        }
        if lead.is_none() && person.is_none() {
            contact = contacts::id_by_phone(conn, customer).await?;
        }
        if lead.is_none() && person.is_none() && contact.is_none() {
            lead = Some(
                leads::create_from_whatsapp(conn, leads::Reached::Phone(customer), name, source)
                    .await?,
            );
        }
    } else if !customer.is_empty() {
        // Known only by their WhatsApp user id (a username, no phone): a lead all the same.
        lead = match leads::id_by_user(conn, customer).await? {
            Some(id) => Some(id),
            None => Some(
                leads::create_from_whatsapp(conn, leads::Reached::UserId(customer), name, source)
                    .await?,
            ),
        };
    }
    Ok((lead, person, contact))
}

/// Who wrote, as Meta names them in a webhook: a phone number, a business-scoped user id (and
/// its parent across linked portfolios) and a username. Any of them may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Identity {
    /// E.164 (`+1555…`).
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub parent_user_id: Option<String>,
    pub username: Option<String>,
}

impl Identity {
    /// The sender of inbound message `m` in webhook value `value`.
    pub fn of_inbound(value: &Value, m: &Value) -> Identity {
        let contact = value["contacts"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|c| c["wa_id"] == m["from"] || c["user_id"] == m["from_user_id"])
                    .or(all.first())
            })
            .cloned()
            .unwrap_or(Value::Null);
        let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let phone = text(&m["from"])
            .or_else(|| text(&contact["wa_id"]))
            .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
            .map(|p| format!("+{p}"));
        Identity {
            phone,
            user_id: text(&m["from_user_id"]).or_else(|| text(&contact["user_id"])),
            parent_user_id: text(&contact["parent_user_id"]),
            username: text(&contact["profile"]["username"]),
        }
    }

    /// The conversation's key: the number when known, else the user id.
    pub fn key(&self) -> Option<&str> {
        self.phone.as_deref().or(self.user_id.as_deref())
    }
}

/// The one conversation of this person on this number, whichever identifiers the webhook
/// carries: found by number or by user id; when both name different conversations (the same
/// person wrote once with a number and once without) they become one; a conversation known by
/// user id follows the number once Meta tells it. Made and linked when new.
pub(crate) async fn conversation_for(
    conn: &mut SqliteConnection,
    who: &Identity,
    phone_number_id: &str,
    name: &str,
    source: &str,
    at: i64,
) -> Result<Option<i64>> {
    let Some(key) = who.key() else {
        return Ok(None);
    };
    let by_phone = match &who.phone {
        Some(phone) => conversation_of(conn, phone, phone_number_id).await?,
        None => None,
    };
    let by_user = match &who.user_id {
        Some(uid) => {
            sqlx::query_scalar!(
                r#"SELECT id AS "id!" FROM chat_conversations
               WHERE (user_id = ?1 OR customer = ?1) AND phone_number_id = ?2
               ORDER BY id LIMIT 1"#,
                uid,
                phone_number_id
            )
            .fetch_optional(&mut *conn)
            .await?
        }
        None => None,
    };
    let id = match (by_phone, by_user) {
        (Some(keep), Some(gone)) if keep != gone => {
            merge_conversations(conn, keep, gone).await?;
            if let Some(phone) = &who.phone {
                lead_takes_phone(conn, keep, phone).await?;
            }
            keep
        }
        (Some(id), _) => id,
        (None, Some(id)) => {
            if let Some(phone) = &who.phone {
                follow_number(conn, id, phone, name, source).await?;
            }
            id
        }
        (None, None) => ensure_conversation(conn, key, phone_number_id, name, source, at).await?,
    };
    sqlx::query!(
        "UPDATE chat_conversations SET user_id = COALESCE(?, user_id),
             parent_user_id = COALESCE(?, parent_user_id), username = COALESCE(?, username),
             customer_name = CASE WHEN customer_name = '' THEN ? ELSE customer_name END
         WHERE id = ?",
        who.user_id,
        who.parent_user_id,
        who.username,
        name,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(Some(id))
}

/// A conversation known by user id (or an old number) is now keyed by `phone`, and linked by it
/// if it was linked to nothing.
async fn follow_number(
    conn: &mut SqliteConnection,
    id: i64,
    phone: &str,
    name: &str,
    source: &str,
) -> Result<()> {
    sqlx::query!(
        "UPDATE chat_conversations SET customer = ? WHERE id = ?",
        phone,
        id
    )
    .execute(&mut *conn)
    .await?;
    let linked = sqlx::query_scalar!(
        r#"SELECT (lead_id IS NOT NULL OR client_contact_id IS NOT NULL OR contact_id IS NOT NULL) AS "linked!: bool"
           FROM chat_conversations WHERE id = ?"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if !linked {
        let (lead, person, contact) = link_for(conn, phone, name, source).await?;
        sqlx::query!(
            "UPDATE chat_conversations SET lead_id = ?, client_contact_id = ?, contact_id = ? WHERE id = ?",
            lead,
            person,
            contact,
            id
        )
        .execute(&mut *conn)
        .await?;
    } else {
        lead_takes_phone(conn, id, phone).await?;
    }
    Ok(())
}

/// The conversation's lead, made when the customer was known only by user id, takes the number
/// now known (unless another lead has it).
async fn lead_takes_phone(
    conn: &mut SqliteConnection,
    conversation: i64,
    phone: &str,
) -> Result<()> {
    let lead = sqlx::query_scalar!(
        "SELECT lead_id FROM chat_conversations WHERE id = ?",
        conversation
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(lead) = lead {
        leads::give_phone(conn, lead, phone).await?;
    }
    Ok(())
}

/// Two conversations of one person become `keep`: every message moves over, the link and the
/// assignment of `keep` win (else `gone`'s are taken), and `gone` is removed.
async fn merge_conversations(conn: &mut SqliteConnection, keep: i64, gone: i64) -> Result<()> {
    let leads_of = sqlx::query!(
        "SELECT k.lead_id AS keep_lead, g.lead_id AS gone_lead
         FROM chat_conversations k, chat_conversations g WHERE k.id = ? AND g.id = ?",
        keep,
        gone
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE chat_messages SET conversation_id = ? WHERE conversation_id = ?",
        keep,
        gone
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE chat_conversations AS k SET
             lead_id = CASE WHEN k.lead_id IS NULL AND k.client_contact_id IS NULL AND k.contact_id IS NULL
                            THEN g.lead_id ELSE k.lead_id END,
             client_contact_id = CASE WHEN k.lead_id IS NULL AND k.client_contact_id IS NULL AND k.contact_id IS NULL
                            THEN g.client_contact_id ELSE k.client_contact_id END,
             contact_id = CASE WHEN k.lead_id IS NULL AND k.client_contact_id IS NULL AND k.contact_id IS NULL
                            THEN g.contact_id ELSE k.contact_id END,
             assigned_username = COALESCE(k.assigned_username, g.assigned_username),
             assigned_name = CASE WHEN k.assigned_username IS NULL THEN g.assigned_name ELSE k.assigned_name END,
             customer_name = CASE WHEN k.customer_name = '' THEN g.customer_name ELSE k.customer_name END,
             user_id = COALESCE(k.user_id, g.user_id),
             username = COALESCE(k.username, g.username),
             last_activity_at = MAX(k.last_activity_at, g.last_activity_at),
             last_inbound_at = MAX(COALESCE(k.last_inbound_at, 0), COALESCE(g.last_inbound_at, 0))
         FROM (SELECT * FROM chat_conversations WHERE id = ?) AS g
         WHERE k.id = ?",
        gone,
        keep
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM chat_conversations WHERE id = ?", gone)
        .execute(&mut *conn)
        .await?;
    // The lead made for the user id alone, when the number had its own: one person, one lead
    // (a lead with documents, or anything typed into it, stays).
    if let (Some(k), Some(g)) = (leads_of.keep_lead, leads_of.gone_lead)
        && k != g
        && crate::documents::count_for_lead(conn, g).await? == 0
        && sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!: i64" FROM chat_conversations WHERE lead_id = ?"#,
            g
        )
        .fetch_one(&mut *conn)
        .await?
            == 0
    {
        leads::absorb_bare(conn, k, g).await?;
    }
    refresh_preview(conn, keep).await?;
    set_read_up_to(conn, keep, 0).await?;
    Ok(())
}

/// A new message at the end of a conversation: the list's order and preview follow it.
pub(crate) struct NewMessage<'a> {
    pub conversation_id: i64,
    pub wamid: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub outbound: bool,
    pub content: &'a MessageContent,
    pub reply_to: Option<&'a str>,
    pub staff_name: Option<&'a str>,
    /// The bot that sent it, by name (none: a person, or the customer).
    pub bot: Option<&'a str>,
    pub sent_at: i64,
    pub local_status: &'a str,
    pub error: Option<&'a str>,
    pub marks: Option<&'a MessageMarks>,
}

/// Inserts a message unless its wamid or client id is already there; returns its id when new.
pub(crate) async fn insert_message(
    conn: &mut SqliteConnection,
    m: NewMessage<'_>,
) -> Result<Option<i64>> {
    let direction = if m.outbound { "out" } else { "in" };
    let kind = m.content.kind().to_owned();
    let body = m.content.searchable();
    let json = serde_json::to_string(m.content).expect("content serialises");
    let marks = m
        .marks
        .map(|k| serde_json::to_string(k).expect("marks serialise"));
    let id = sqlx::query_scalar!(
        r#"INSERT INTO chat_messages (conversation_id, wamid, client_id, direction, kind, body, content,
                reply_to, staff_name, bot, sent_at, local_status, error, marks)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING RETURNING id AS "id!""#,
        m.conversation_id,
        m.wamid,
        m.client_id,
        direction,
        kind,
        body,
        json,
        m.reply_to,
        m.staff_name,
        m.bot,
        m.sent_at,
        m.local_status,
        m.error,
        marks
    )
    .fetch_optional(&mut *conn)
    .await?;
    if id.is_some() {
        let preview = m.content.preview();
        let unread = i64::from(!m.outbound && !m.content.is_system());
        let inbound_at = (!m.outbound).then_some(m.sent_at);
        sqlx::query!(
            "UPDATE chat_conversations SET
                 last_activity_at = MAX(last_activity_at, ?1),
                 last_preview = CASE WHEN ?1 >= last_activity_at THEN ?2 ELSE last_preview END,
                 last_direction = CASE WHEN ?1 >= last_activity_at THEN ?3 ELSE last_direction END,
                 unread = unread + ?4,
                 last_inbound_at = CASE WHEN ?5 IS NULL THEN last_inbound_at
                                        ELSE MAX(COALESCE(last_inbound_at, 0), ?5) END
             WHERE id = ?6",
            m.sent_at,
            preview,
            direction,
            unread,
            inbound_at,
            m.conversation_id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// What a message said before an edit or a deletion, kept in its versions.
async fn keep_version(
    conn: &mut SqliteConnection,
    message_id: i64,
    content: &str,
    at: i64,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO chat_message_versions (message_id, content, replaced_at) VALUES (?, ?, ?)",
        message_id,
        content,
        at
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A received message with nothing around it (no quote, no marks) — an edit of a message this
/// desktop never had, or Meta's note about the customer — once per `id`; its row id when new.
async fn insert_received(
    conn: &mut SqliteConnection,
    conversation_id: i64,
    id: Option<&str>,
    content: &MessageContent,
    at: i64,
) -> Result<Option<i64>> {
    insert_message(
        conn,
        NewMessage {
            conversation_id,
            wamid: id,
            client_id: None,
            outbound: false,
            content,
            reply_to: None,
            staff_name: None,
            bot: None,
            sent_at: at,
            local_status: "accepted",
            error: None,
            marks: None,
        },
    )
    .await
}

/// The conversation list's preview follows an edit or a deletion of its latest message.
async fn refresh_preview(conn: &mut SqliteConnection, conversation_id: i64) -> Result<()> {
    let Some(last) = sqlx::query!(
        "SELECT content, deleted_at FROM chat_messages WHERE conversation_id = ?
         ORDER BY sent_at DESC, id DESC LIMIT 1",
        conversation_id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    let preview = if last.deleted_at.is_some() {
        DELETED.to_owned()
    } else {
        serde_json::from_str::<MessageContent>(&last.content)
            .map(|c| c.preview())
            .unwrap_or_default()
    };
    sqlx::query!(
        "UPDATE chat_conversations SET last_preview = ? WHERE id = ?",
        preview,
        conversation_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a deleted message shows, in the thread and the list.
pub(crate) const DELETED: &str = "This message was deleted";

/// Everything up to message `up_to` has been read: unread counts what came after it. The mark
/// only moves forward: a read event that arrives late (this desktop's own, echoed by the relay
/// after it read further, or a teammate's older one) never makes read messages unread again.
pub(crate) async fn set_read_up_to(
    conn: &mut SqliteConnection,
    conversation_id: i64,
    up_to: i64,
) -> Result<()> {
    sqlx::query!(
        "UPDATE chat_conversations SET read_up_to = MAX(read_up_to, ?2),
             unread = (SELECT count(*) FROM chat_messages
                 WHERE conversation_id = ?1 AND direction = 'in' AND deleted_at IS NULL AND kind <> 'system'
                   AND id > MAX(chat_conversations.read_up_to, ?2))
         WHERE id = ?1",
        conversation_id,
        up_to
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a status unless a later one is already known.
pub(crate) async fn record_status(
    conn: &mut SqliteConnection,
    wamid: &str,
    status: &str,
    error: Option<&str>,
    pricing_category: Option<&str>,
    at: i64,
) -> Result<()> {
    let Some(rank) = MessageStatus::rank(status) else {
        return Ok(());
    };
    sqlx::query!(
        "INSERT INTO chat_statuses (wamid, rank, status, error, at, pricing_category) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (wamid) DO UPDATE SET
             rank = CASE WHEN excluded.rank > chat_statuses.rank THEN excluded.rank ELSE chat_statuses.rank END,
             status = CASE WHEN excluded.rank > chat_statuses.rank THEN excluded.status ELSE chat_statuses.status END,
             error = CASE WHEN excluded.rank > chat_statuses.rank THEN excluded.error ELSE chat_statuses.error END,
             at = CASE WHEN excluded.rank > chat_statuses.rank THEN excluded.at ELSE chat_statuses.at END,
             pricing_category = COALESCE(excluded.pricing_category, chat_statuses.pricing_category)",
        wamid,
        rank,
        status,
        error,
        at,
        pricing_category
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn conversation_of(
    conn: &mut SqliteConnection,
    customer: &str,
    phone_number_id: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM chat_conversations WHERE customer = ? AND phone_number_id = ?"#,
        customer,
        phone_number_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// An inbound message that is not an edit, a deletion, a system note or a reaction: the kind the
/// batch path applies inside one transaction.
fn plain_inbound(raw: &Value) -> bool {
    !matches!(
        raw["value"]["messages"][0]["type"].as_str(),
        Some("edit" | "revoke" | "system" | "reaction")
    )
}

/// What every inbound message says of itself and its sender.
struct InboundParts<'a> {
    m: &'a Value,
    wamid: &'a str,
    pnid: &'a str,
    who: Identity,
    customer: String,
    name: String,
    at: i64,
}

impl<'a> InboundParts<'a> {
    fn of(e: &'a ReceivedEvent, raw: &'a Value) -> Option<InboundParts<'a>> {
        let value = &raw["value"];
        let m = value["messages"].get(0)?;
        let (Some(wamid), Some(pnid)) = (&e.message_id, &e.phone_number_id) else {
            return None;
        };
        let who = Identity::of_inbound(value, m);
        let customer = who.key()?.to_owned();
        let name = value["contacts"]
            .get(0)
            .and_then(|c| c["profile"]["name"].as_str())
            .unwrap_or("")
            .to_owned();
        Some(InboundParts {
            m,
            wamid,
            pnid,
            who,
            customer,
            name,
            at: e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at),
        })
    }
}

/// Plain inbound messages of a run waiting to be inserted together (see
/// [`Workspace::apply_chat_run`]).
#[derive(Default)]
struct InboundBatch {
    /// Each sender's conversation, found (or made, with its lead) once per run.
    conversations: std::collections::HashMap<String, Option<i64>>,
    rows: Vec<Value>,
    notices: Vec<ChatNotice>,
}

impl InboundBatch {
    const MAX: usize = 500;

    async fn add(
        &mut self,
        tx: &mut SqliteConnection,
        ws: &Workspace,
        notices: &mut Vec<ChatNotice>,
        e: &ReceivedEvent,
        raw: &Value,
    ) -> Result<()> {
        let Some(p) = InboundParts::of(e, raw) else {
            return Ok(());
        };
        let content = content::from_inbound(p.m);
        let marks = MessageMarks::from_inbound(p.m);
        let source = marks
            .as_ref()
            .and_then(MessageMarks::lead_source)
            .unwrap_or_else(|| "WhatsApp".to_owned());
        // The same identifiers, name and source find the same conversation: ask once.
        let key = serde_json::json!([
            p.who.phone,
            p.who.user_id,
            p.who.parent_user_id,
            p.who.username,
            p.pnid,
            p.name,
            source
        ])
        .to_string();
        let conversation_id = match self.conversations.get(&key) {
            Some(id) => *id,
            None => {
                // Finding a sender's conversation may merge two (a customer seen by number and by
                // user id): what waits is inserted first, so no row names a merged conversation.
                self.flush(tx, ws, notices).await?;
                let id = conversation_for(tx, &p.who, p.pnid, &p.name, &source, p.at).await?;
                self.conversations.insert(key, id);
                id
            }
        };
        let Some(conversation_id) = conversation_id else {
            return Ok(());
        };
        let unread = i64::from(!content.is_system());
        self.rows.push(serde_json::json!({
            "conversation_id": conversation_id,
            "wamid": p.wamid,
            "kind": content.kind(),
            "body": content.searchable(),
            "content": serde_json::to_string(&content).expect("content serialises"),
            "reply_to": p.m["context"]["id"].as_str(),
            "sent_at": p.at,
            "marks": marks.map(|k| serde_json::to_string(&k).expect("marks serialise")),
            "preview": content.preview(),
            "unread": unread,
        }));
        self.notices.push(ChatNotice {
            conversation_id,
            inbound: false,
            sender: Some(if p.name.is_empty() {
                p.customer
            } else {
                p.name
            }),
            preview: Some(content.preview()),
        });
        Ok(())
    }

    /// Inserts what waits (a message already here is skipped, as one by one), then updates each
    /// conversation once as the messages one by one would have: the newest becomes its preview.
    async fn flush(
        &mut self,
        tx: &mut SqliteConnection,
        ws: &Workspace,
        notices: &mut Vec<ChatNotice>,
    ) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = serde_json::to_string(&self.rows).expect("rows serialise");
        let mut inserted: std::collections::HashSet<String> = sqlx::query_scalar!(
            r#"INSERT INTO chat_messages (conversation_id, wamid, direction, kind, body, content,
                   reply_to, sent_at, local_status, marks)
               SELECT value ->> '$.conversation_id', value ->> '$.wamid', 'in', value ->> '$.kind',
                      value ->> '$.body', value ->> '$.content', value ->> '$.reply_to',
                      value ->> '$.sent_at', 'accepted', value ->> '$.marks'
               FROM json_each(?) WHERE true
               ON CONFLICT DO NOTHING
               RETURNING wamid AS "wamid!""#,
            rows
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        // Per conversation: the newest inserted message (the later one on a tie), how many.
        let mut per: std::collections::BTreeMap<i64, (i64, String, i64)> = Default::default();
        let now = ws.now_ms();
        for (row, notice) in self.rows.drain(..).zip(self.notices.drain(..)) {
            // A message twice in the batch (Meta retried it) was inserted once: count it once.
            if !row["wamid"].as_str().is_some_and(|w| inserted.remove(w)) {
                continue;
            }
            let id = row["conversation_id"].as_i64().unwrap_or_default();
            let at = row["sent_at"].as_i64().unwrap_or_default();
            let preview = row["preview"].as_str().unwrap_or("").to_owned();
            let unread = row["unread"].as_i64().unwrap_or_default();
            let e = per.entry(id).or_insert((at, preview.clone(), 0));
            if at >= e.0 {
                e.0 = at;
                e.1 = preview;
            }
            e.2 += unread;
            notices.push(ChatNotice {
                inbound: now - at < NOTIFY_RECENT_MS,
                ..notice
            });
        }
        // Messages on `messages` reach this app: it holds these conversations (what arrives on
        // `standby` in Meta's agent's time is never batched: see `apply_standby`).
        for (id, (at, preview, unread)) in per {
            sqlx::query!(
                "UPDATE chat_conversations SET
                     last_activity_at = MAX(last_activity_at, ?1),
                     last_preview = CASE WHEN ?1 >= last_activity_at THEN ?2 ELSE last_preview END,
                     last_direction = CASE WHEN ?1 >= last_activity_at THEN 'in' ELSE last_direction END,
                     unread = unread + ?3,
                     last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?1),
                     agent_holds_at = NULL
                 WHERE id = ?4",
                at,
                preview,
                unread,
                id
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// Whether `tag` (a status's `biz_opaque_callback_data`) is a chat message's client id (32 hex
/// digits): other modules tag their messages otherwise.
fn chat_tag(tag: &str) -> bool {
    tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A status of one of our messages, on `conn` (alone or inside a run's transaction).
async fn status_in(
    conn: &mut SqliteConnection,
    e: &ReceivedEvent,
    raw: &Value,
) -> Result<Option<ChatNotice>> {
    let (Some(wamid), Some(status)) = (&e.message_id, &e.status) else {
        return Ok(None);
    };
    let s = &raw["value"]["statuses"][0];
    let error = s["errors"].get(0).map(content::error_text);
    let pricing = s["pricing"]["category"].as_str();
    let at = e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at);
    record_status(conn, wamid, status, error.as_deref(), pricing, at).await?;
    let conversation_id = sqlx::query_scalar!(
        "SELECT conversation_id FROM chat_messages WHERE wamid = ?",
        wamid
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(conversation_id.map(ChatNotice::changed))
}

/// Commits a run's transaction, then tells the windows what changed (once per conversation).
async fn commit_run(
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    notices: &mut Vec<ChatNotice>,
    ws: &Workspace,
) -> Result<()> {
    tx.commit().await?;
    let mut seen = std::collections::HashSet::new();
    for n in notices.drain(..).rev() {
        // The newest notice of a conversation says all that its older ones would.
        if n.inbound || seen.insert(n.conversation_id) {
            ws.chat_notice(n);
        }
    }
    Ok(())
}

inventory::submit! { crate::handlers::DefaultHandler { order: 10, make: handler } }

/// Chat's projection of received events (messages in and out, statuses, reactions, assignments,
/// reads), applied on every replica; a run of messages or statuses (catching up) in one
/// transaction.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    std::sync::Arc::new(ChatProjection)
}

struct ChatProjection;

impl crate::handlers::Handler for ChatProjection {
    fn name(&self) -> &'static str {
        "chat projection"
    }

    fn scope(&self) -> crate::handlers::Scope {
        crate::handlers::Scope::EveryReplica
    }

    fn apply<'a>(
        &'a self,
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(ws.apply_chat_event(e))
    }

    fn apply_run<'a>(
        &'a self,
        ws: &'a Workspace,
        run: &'a [&'a ReceivedEvent],
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(ws.apply_chat_run(run))
    }
}

/// Whose message an edit or a deletion changes: the customer's, or what the business sent from
/// the WhatsApp Business app (an echo).
#[derive(Clone, Copy)]
enum Side {
    Customer,
    Phone,
}

impl Side {
    fn direction(self) -> &'static str {
        match self {
            Side::Customer => "in",
            Side::Phone => "out",
        }
    }
}

/// Who sent what the business wrote from the WhatsApp Business app on the same number.
pub const PHONE_SENDER: &str = "the phone (WhatsApp Business app)";

/// Who wrote a message that Meta's own AI agent (Meta Business Agent) sent on the number.
pub const META_AGENT_SENDER: &str = "Meta's AI agent";

impl Workspace {
    /// Applies one event of the log to the chat, if it is a chat event.
    pub(crate) async fn apply_chat_event(&self, e: &ReceivedEvent) -> Result<()> {
        const CHAT_KINDS: &[&str] = &[
            "message",
            "status",
            "message.sent",
            "message.reacted",
            "conversation.assigned",
            "conversation.read",
            "lead.status_changed",
            "user_preferences",
            "message_echo",
            "calls",
            "standby",
            "handover",
        ];
        if !CHAT_KINDS.contains(&e.kind.as_str()) {
            return Ok(());
        }
        let raw: Value = match serde_json::from_str(e.raw.get()) {
            Ok(v) => v,
            Err(_) => return Ok(()),
        };
        let changed = match e.kind.as_str() {
            "message" => {
                let notice = self.apply_inbound(e, &raw).await?;
                // A message on `messages` reaches this app: it holds the conversation again
                // (Meta's agent released it, or never had it).
                if let Some(wamid) = &e.message_id {
                    sqlx::query!(
                        "UPDATE chat_conversations SET agent_holds_at = NULL
                         WHERE agent_holds_at IS NOT NULL AND id =
                           (SELECT conversation_id FROM chat_messages WHERE wamid = ? AND direction = 'in')",
                        wamid
                    )
                    .execute(self.db())
                    .await?;
                }
                notice
            }
            "standby" => self.apply_standby(e, &raw).await?,
            "handover" => self.apply_handover(e, &raw).await?,
            "status" => self.apply_status(e, &raw).await?,
            "message.sent" => {
                let notice = self.apply_sent(e, &raw).await?;
                // A person's message takes the conversation back from Meta's agent (as Meta has
                // it: a service message by the listening app takes control).
                if raw["bot"].as_str().is_none_or(str::is_empty)
                    && let Some(client_id) = raw["client_id"].as_str()
                {
                    sqlx::query!(
                        "UPDATE chat_conversations SET agent_holds_at = NULL
                         WHERE agent_holds_at IS NOT NULL AND id =
                           (SELECT conversation_id FROM chat_messages WHERE client_id = ?)",
                        client_id
                    )
                    .execute(self.db())
                    .await?;
                }
                notice
            }
            "message.reacted" => self.apply_reacted(&raw).await?,
            "conversation.assigned" => self.apply_assigned(&raw).await?,
            "conversation.read" => self.apply_read(&raw).await?,
            "user_preferences" => self.apply_preferences(e, &raw).await?,
            "message_echo" => self.apply_echo(e, &raw).await?,
            "calls" => self.apply_calls(e, &raw).await?,
            "lead.status_changed" => {
                if let (Some(phone), Some(status)) = (str_of(&raw, "phone"), str_of(&raw, "status"))
                {
                    let mut conn = self.db().acquire().await?;
                    leads::set_status_by_name(&mut conn, phone, status).await?;
                }
                None
            }
            _ => None,
        };
        if let Some(notice) = changed {
            self.chat_notice(notice);
        }
        Ok(())
    }

    async fn apply_inbound(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        if plain_inbound(raw) {
            let mut tx = crate::db::write_tx_in(self.db()).await?;
            let notice = self.inbound_in(&mut tx, e, raw).await?;
            tx.commit().await?;
            return Ok(notice);
        }
        let Some(InboundParts {
            m,
            wamid,
            pnid,
            who,
            customer,
            name,
            at,
        }) = InboundParts::of(e, raw)
        else {
            return Ok(None);
        };
        // An edit or a deletion changes the message it names; it is not a message of its own.
        match m["type"].as_str() {
            Some("edit") => {
                return self
                    .apply_edit(m, at, (&who, pnid, &name), Side::Customer)
                    .await;
            }
            Some("revoke") => return self.apply_revoke(m, at, Side::Customer).await,
            _ => {}
        }
        let content = content::from_inbound(m);
        let marks = MessageMarks::from_inbound(m);
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        // A reaction decorates the message it reacts to, when we have it.
        if let MessageContent::Reaction { message_id, emoji } = &content {
            let emoji = (!emoji.is_empty()).then_some(emoji.as_str());
            let hit = sqlx::query_scalar!(
                r#"UPDATE chat_messages SET their_reaction = ? WHERE wamid = ?
                   RETURNING conversation_id AS "conversation_id!""#,
                emoji,
                message_id
            )
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(conversation_id) = hit {
                tx.commit().await?;
                return Ok(Some(ChatNotice::changed(conversation_id)));
            }
            // Taking back a reaction from a message this desktop never had changes nothing.
            if emoji.is_none() {
                return Ok(None);
            }
        }
        if m["type"] == "system" {
            return self.apply_system(tx, m, &who, pnid, &name, at).await;
        }
        // A reaction to a message this desktop never had is kept as a message of its own.
        let notice = self
            .insert_inbound(
                &mut tx,
                wamid,
                m,
                &content,
                marks.as_ref(),
                (&who, pnid, name, customer, at),
            )
            .await?;
        tx.commit().await?;
        Ok(notice)
    }

    /// A plain inbound message (see [`plain_inbound`]) inside `tx`: its conversation (a new one,
    /// and a lead, for a new customer) and the message. What the batch path applies, many to one
    /// transaction.
    async fn inbound_in(
        &self,
        tx: &mut SqliteConnection,
        e: &ReceivedEvent,
        raw: &Value,
    ) -> Result<Option<ChatNotice>> {
        let Some(InboundParts {
            m,
            wamid,
            pnid,
            who,
            customer,
            name,
            at,
        }) = InboundParts::of(e, raw)
        else {
            return Ok(None);
        };
        let content = content::from_inbound(m);
        let marks = MessageMarks::from_inbound(m);
        self.insert_inbound(
            tx,
            wamid,
            m,
            &content,
            marks.as_ref(),
            (&who, pnid, name, customer, at),
        )
        .await
    }

    /// The conversation of the message's sender (found or made), then the message; the notice
    /// when it is new.
    async fn insert_inbound(
        &self,
        tx: &mut SqliteConnection,
        wamid: &str,
        m: &Value,
        content: &MessageContent,
        marks: Option<&MessageMarks>,
        (who, pnid, name, customer, at): (&Identity, &str, String, String, i64),
    ) -> Result<Option<ChatNotice>> {
        let source = marks
            .and_then(MessageMarks::lead_source)
            .unwrap_or_else(|| "WhatsApp".to_owned());
        let Some(conversation_id) = conversation_for(tx, who, pnid, &name, &source, at).await?
        else {
            return Ok(None);
        };
        let inserted = insert_message(
            tx,
            NewMessage {
                conversation_id,
                wamid: Some(wamid),
                client_id: None,
                outbound: false,
                content,
                reply_to: m["context"]["id"].as_str(),
                staff_name: None,
                bot: None,
                sent_at: at,
                local_status: "accepted",
                error: None,
                marks,
            },
        )
        .await?;
        if inserted.is_none() {
            return Ok(None);
        }
        let recent = self.now_ms() - at < NOTIFY_RECENT_MS;
        Ok(Some(ChatNotice {
            conversation_id,
            inbound: recent,
            sender: Some(if name.is_empty() { customer } else { name }),
            preview: Some(content.preview()),
        }))
    }

    /// A run of consecutive events of one kind, from catching up: plain inbound messages go in
    /// batches (each sender's conversation found once, the messages inserted by one statement,
    /// each conversation updated once) and statuses one by one, all in one transaction — a
    /// query costs a round trip to SQLite's thread, a commit a flush to disk. Everything else as
    /// [`Workspace::apply_chat_event`] does, in order. The notices go out after the commit.
    pub(crate) async fn apply_chat_run(&self, run: &[&ReceivedEvent]) -> Result<()> {
        let mut notices = Vec::new();
        let mut tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>> = None;
        let mut batch = InboundBatch::default();
        for e in run {
            let raw: Value = match serde_json::from_str(e.raw.get()) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let tag = raw["value"]["statuses"][0]["biz_opaque_callback_data"].as_str();
            if e.kind == "status" && tag.is_some_and(|t| !chat_tag(t)) {
                continue; // another module's message (a campaign's)
            }
            let batchable = match e.kind.as_str() {
                "message" => plain_inbound(&raw),
                "status" => tag.is_none(),
                _ => false,
            };
            if !batchable {
                if let Some(mut t) = tx.take() {
                    batch.flush(&mut t, self, &mut notices).await?;
                    commit_run(t, &mut notices, self).await?;
                }
                self.apply_chat_event(e).await?;
                continue;
            }
            if tx.is_none() {
                tx = Some(crate::db::write_tx_in(self.db()).await?);
            }
            let t: &mut SqliteConnection = tx.as_mut().expect("begun above");
            if e.kind == "message" {
                batch.add(t, self, &mut notices, e, &raw).await?;
                if batch.rows.len() >= InboundBatch::MAX {
                    batch.flush(t, self, &mut notices).await?;
                }
            } else {
                batch.flush(t, self, &mut notices).await?;
                notices.extend(status_in(t, e, &raw).await?);
            }
        }
        if let Some(mut t) = tx {
            batch.flush(&mut t, self, &mut notices).await?;
            commit_run(t, &mut notices, self).await?;
        }
        Ok(())
    }

    /// What the business sent from the WhatsApp Business app on the same number (coexistence,
    /// `smb_message_echoes`): an outbound message of the thread, sent by [`PHONE_SENDER`], with
    /// no unread; its edits and deletions change it as a customer's do.
    async fn apply_echo(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        self.apply_echo_as(e, raw, PHONE_SENDER).await
    }

    /// `standby`: Meta's AI agent (or another app on the number) holds the conversation, and this
    /// app listens. The customer's messages (`messages`, shaped as on the `messages` field) and
    /// the agent's replies (`message_echoes`) are shown in the thread, the replies as sent by the
    /// agent; the conversation is marked as held by it. Automation reads only `messages`, so no
    /// bot of ours answers what arrives here.
    async fn apply_standby(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        let value = &raw["value"];
        let Some(fields) = value.as_object() else {
            return Ok(None);
        };
        let part = |keep: &[&str], drop: &[&str]| {
            let mut v = fields.clone();
            v.retain(|k, _| !drop.contains(&k.as_str()));
            keep.iter()
                .any(|k| v.get(*k).is_some_and(Value::is_array))
                .then_some(Value::Object(v))
        };
        let mut changes = Vec::new();
        if let Some(v) = part(&["messages", "statuses"], &["message_echoes"]) {
            changes.push(serde_json::json!({ "field": "messages", "value": v }));
        }
        if let Some(v) = part(&["message_echoes"], &["messages", "statuses"]) {
            changes.push(serde_json::json!({ "field": "smb_message_echoes", "value": v }));
        }
        // Split as the relay splits Meta's `messages`, then applied as those are.
        let body = serde_json::json!({ "entry": [{ "changes": changes }] });
        let inner =
            crate::relay::events::split_webhook(body.to_string().as_bytes()).unwrap_or_default();
        let mut last = None;
        for event in inner {
            let stored = crate::relay::events::StoredEvent {
                seq: e.seq,
                received_at: e.received_at,
                event,
            };
            let Ok(inner) = serde_json::from_str::<ReceivedEvent>(&stored.to_json()) else {
                continue;
            };
            let Ok(raw) = serde_json::from_str::<Value>(inner.raw.get()) else {
                continue;
            };
            let (notice, wamid) = match inner.kind.as_str() {
                "message" => (
                    self.apply_inbound(&inner, &raw).await?,
                    inner.message_id.clone(),
                ),
                "status" => (self.apply_status(&inner, &raw).await?, None),
                "message_echo" => (
                    self.apply_echo_as(&inner, &raw, META_AGENT_SENDER).await?,
                    raw["value"]["message_echoes"][0]["id"]
                        .as_str()
                        .map(str::to_owned),
                ),
                _ => (None, None),
            };
            if let Some(wamid) = wamid {
                let at = inner.timestamp.map_or(inner.received_at, |t| t * 1000);
                sqlx::query!(
                    "UPDATE chat_conversations SET agent_holds_at = coalesce(agent_holds_at, ?)
                     WHERE id = (SELECT conversation_id FROM chat_messages WHERE wamid = ?)",
                    at,
                    wamid
                )
                .execute(self.db())
                .await?;
            }
            last = notice.or(last);
        }
        Ok(last)
    }

    /// `messaging_handovers`: the owner of the conversation changed under Meta's Conversation
    /// Routing. `control_passed` reaches the new owner (this app holds it now); `control_taken`
    /// reaches the previous one (Meta's AI agent, or the escalation partner, took it from this
    /// app). A note in the thread says which; while another holds it no bot of ours answers.
    async fn apply_handover(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        let value = &raw["value"];
        let kind = value["type"].as_str();
        let passed = kind == Some("control_passed") || value.get("control_passed").is_some();
        let taken = kind == Some("control_taken") || value.get("control_taken").is_some();
        if passed == taken {
            return Ok(None); // neither (or both): nothing this app can read into it
        }
        let detail = if passed {
            &value["control_passed"]
        } else {
            &value["control_taken"]
        };
        let Some(pnid) = value["recipient"]["phone_number_id"]
            .as_str()
            .or(value["metadata"]["phone_number_id"].as_str())
        else {
            return Ok(None);
        };
        let sender = &value["sender"];
        let phone = sender["phone_number"]
            .as_str()
            .or(sender["wa_id"].as_str())
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>());
        let customer = serde_json::json!({
            "from": phone,
            "from_user_id": sender["user_id"].as_str(),
        });
        let who = Identity::of_inbound(value, &customer);
        if who.key().is_none() {
            return Ok(None);
        }
        let at = value["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<i64>().ok())
            .or(value["timestamp"].as_i64())
            .map_or(e.received_at, |t| t * 1000);
        let role = |r: &Value| match r.as_str() {
            Some("ai_agent") => Some("Meta's AI agent"),
            Some("app") => Some("this app"),
            Some(_) => Some("another app"),
            None => None,
        };
        let body = if passed {
            match role(&detail["previous_owner"]).or(role(&value["previous_owner"])) {
                Some(from) => format!("{from} handed this conversation to this app"),
                None => "This conversation was handed to this app".to_owned(),
            }
        } else {
            let by = role(&detail["new_owner"])
                .or(role(&value["new_owner"]))
                .or(role(&detail["owner"]))
                .unwrap_or("Another responder");
            let by = if by == "this app" {
                "Another responder"
            } else {
                by
            };
            format!("{by} took this conversation over: bots here stay silent until it comes back")
        };
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(id) = conversation_for(&mut tx, &who, pnid, "", "WhatsApp", at).await? else {
            return Ok(None);
        };
        let held = taken.then_some(at);
        sqlx::query!(
            "UPDATE chat_conversations SET agent_holds_at = ? WHERE id = ?",
            held,
            id
        )
        .execute(&mut *tx)
        .await?;
        let content = MessageContent::System {
            kind: if passed {
                "control_passed"
            } else {
                "control_taken"
            }
            .to_owned(),
            body,
        };
        insert_received(
            &mut tx,
            id,
            Some(&format!("handover:{}", e.key)),
            &content,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(ChatNotice::changed(id)))
    }

    async fn apply_echo_as(
        &self,
        e: &ReceivedEvent,
        raw: &Value,
        sender: &'static str,
    ) -> Result<Option<ChatNotice>> {
        let value = &raw["value"];
        let Some(m) = value["message_echoes"].get(0) else {
            return Ok(None);
        };
        let (Some(wamid), Some(pnid)) = (
            m["id"].as_str(),
            value["metadata"]["phone_number_id"].as_str(),
        ) else {
            return Ok(None);
        };
        // The customer is whom it went to: their number (Meta may write it with a plus), or
        // their user id when they have only a username.
        let to: String = m["to"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let recipient = serde_json::json!({
            "from": to,
            "from_user_id": m["recipient_user_id"].as_str().or(m["to_user_id"].as_str()),
        });
        let who = Identity::of_inbound(value, &recipient);
        if who.key().is_none() {
            return Ok(None);
        }
        let at = m["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<i64>().ok())
            .or(m["timestamp"].as_i64())
            .map_or(e.received_at, |t| t * 1000);
        match m["type"].as_str() {
            Some("edit") => return self.apply_edit(m, at, (&who, pnid, ""), Side::Phone).await,
            Some("revoke") => return self.apply_revoke(m, at, Side::Phone).await,
            _ => {}
        }
        let content = content::from_inbound(m);
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(conversation_id) =
            conversation_for(&mut tx, &who, pnid, "", "WhatsApp", at).await?
        else {
            return Ok(None);
        };
        let inserted = insert_message(
            &mut tx,
            NewMessage {
                conversation_id,
                wamid: Some(wamid),
                client_id: None,
                outbound: true,
                content: &content,
                reply_to: m["context"]["id"].as_str(),
                staff_name: Some(sender),
                bot: None,
                sent_at: at,
                local_status: "accepted",
                error: None,
                marks: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(inserted.map(|_| ChatNotice::changed(conversation_id)))
    }

    /// A customer's edit: the message shows the new content, marked edited; what it said before
    /// is kept in its versions. No new bubble, no unread. An edit of a message this desktop never
    /// had (its history starts later) is kept as that message, marked edited.
    async fn apply_edit(
        &self,
        m: &Value,
        at: i64,
        who: (&Identity, &str, &str),
        side: Side,
    ) -> Result<Option<ChatNotice>> {
        let direction = side.direction();
        let edit = &m["edit"];
        let Some(original) = edit["original_message_id"].as_str() else {
            return Ok(None);
        };
        let content = content::from_inbound(&edit["message"]);
        let json = serde_json::to_string(&content).expect("content serialises");
        let body = content.searchable();
        let kind = content.kind().to_owned();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(old) = sqlx::query!(
            r#"SELECT id AS "id!", conversation_id, content, edited_at FROM chat_messages
               WHERE wamid = ? AND direction = ?"#,
            original,
            direction
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return match side {
                Side::Customer => self.apply_unknown_edit(who, original, &content, at).await,
                // The phone's message is not here (its history starts later): nothing to edit.
                Side::Phone => Ok(None),
            };
        };
        // The same edit applied twice (a replayed event) leaves one version.
        if old.content == json || old.edited_at.is_some_and(|t| t >= at) {
            return Ok(None);
        }
        keep_version(&mut tx, old.id, &old.content, at).await?;
        sqlx::query!(
            "UPDATE chat_messages SET content = ?, body = ?, kind = ?, edited_at = ? WHERE id = ?",
            json,
            body,
            kind,
            at,
            old.id
        )
        .execute(&mut *tx)
        .await?;
        refresh_preview(&mut tx, old.conversation_id).await?;
        tx.commit().await?;
        Ok(Some(ChatNotice::changed(old.conversation_id)))
    }

    async fn apply_unknown_edit(
        &self,
        (who, pnid, name): (&Identity, &str, &str),
        original: &str,
        content: &MessageContent,
        at: i64,
    ) -> Result<Option<ChatNotice>> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(conversation_id) =
            conversation_for(&mut tx, who, pnid, name, "WhatsApp", at).await?
        else {
            return Ok(None);
        };
        let inserted =
            insert_received(&mut tx, conversation_id, Some(original), content, at).await?;
        if let Some(id) = inserted {
            sqlx::query!(
                "UPDATE chat_messages SET edited_at = ? WHERE id = ?",
                at,
                id
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(inserted.map(|_| ChatNotice::changed(conversation_id)))
    }

    /// Meta's note that a customer changed their number (or user id): the conversation follows
    /// them, merging with one they already had under the new identity, and the thread says what
    /// changed. It is not a message to read: no unread.
    async fn apply_system(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        m: &Value,
        who: &Identity,
        pnid: &str,
        name: &str,
        at: i64,
    ) -> Result<Option<ChatNotice>> {
        let system = &m["system"];
        let kind = system["type"].as_str().unwrap_or("system").to_owned();
        let text = |k: &str| {
            system[k]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut new_id = who.clone();
        match kind.as_str() {
            "user_changed_number" => {
                if let Some(n) = text("new_wa_id").or_else(|| text("wa_id")) {
                    new_id.phone = Some(format!("+{}", n.trim_start_matches('+')));
                }
            }
            "user_changed_user_id" => {
                if let Some(u) = text("new_user_id").or_else(|| text("user_id")) {
                    new_id.user_id = Some(u);
                }
            }
            _ => {}
        }
        // Where they were: found by their old identity.
        let Some(old) = conversation_for(&mut tx, who, pnid, name, "WhatsApp", at).await? else {
            return Ok(None);
        };
        if new_id.phone != who.phone {
            let phone = new_id.phone.clone().unwrap_or_default();
            match conversation_of(&mut tx, &phone, pnid).await? {
                Some(existing) if existing != old => {
                    merge_conversations(&mut tx, existing, old).await?;
                }
                Some(_) => {}
                None => follow_number(&mut tx, old, &phone, name, "WhatsApp").await?,
            }
        }
        let Some(id) = conversation_for(&mut tx, &new_id, pnid, name, "WhatsApp", at).await? else {
            return Ok(None);
        };
        if new_id.user_id != who.user_id {
            sqlx::query!(
                "UPDATE chat_conversations SET user_id = ? WHERE id = ?",
                new_id.user_id,
                id
            )
            .execute(&mut *tx)
            .await?;
        }
        let body = text("body").unwrap_or_else(|| match kind.as_str() {
            "user_changed_number" => format!(
                "The customer changed their number to {}",
                new_id.phone.as_deref().unwrap_or("a new one")
            ),
            "user_changed_user_id" => "The customer's WhatsApp account changed".to_owned(),
            other => format!("WhatsApp: {other}"),
        });
        let content = MessageContent::System { kind, body };
        insert_received(&mut tx, id, m["id"].as_str(), &content, at).await?;
        tx.commit().await?;
        Ok(Some(ChatNotice::changed(id)))
    }

    /// The customer asked Meta to stop (or resume) marketing messages from this business: the
    /// conversation is marked, the thread and the Activity Log say so.
    async fn apply_preferences(
        &self,
        e: &ReceivedEvent,
        raw: &Value,
    ) -> Result<Option<ChatNotice>> {
        let value = &raw["value"];
        let Some(pnid) = value["metadata"]["phone_number_id"].as_str() else {
            return Ok(None);
        };
        let mut last = None;
        for p in value["user_preferences"].as_array().into_iter().flatten() {
            if p["category"].as_str() != Some("marketing_messages") {
                continue;
            }
            let stop = match p["value"].as_str() {
                Some("stop") => true,
                Some("resume") => false,
                _ => continue,
            };
            let contact = value["contacts"]
                .as_array()
                .and_then(|all| {
                    all.iter()
                        .find(|c| c["wa_id"] == p["wa_id"] || c["user_id"] == p["user_id"])
                })
                .cloned()
                .unwrap_or(Value::Null);
            let who = Identity::of_inbound(
                &serde_json::json!({ "contacts": [contact] }),
                &serde_json::json!({ "from": p["wa_id"], "from_user_id": p["user_id"] }),
            );
            let at = p["timestamp"]
                .as_i64()
                .or_else(|| p["timestamp"].as_str().and_then(|t| t.parse().ok()))
                .map_or(e.received_at, |t| t * 1000);
            let name = contact["profile"]["name"].as_str().unwrap_or("");
            let mut tx = crate::db::write_tx_in(self.db()).await?;
            let Some(id) = conversation_for(&mut tx, &who, pnid, name, "WhatsApp", at).await?
            else {
                continue;
            };
            let stopped = stop.then_some(at);
            sqlx::query!(
                "UPDATE chat_conversations SET marketing_stopped_at = ? WHERE id = ?",
                stopped,
                id
            )
            .execute(&mut *tx)
            .await?;
            let (kind, body, action) = if stop {
                (
                    "marketing_stopped",
                    "The customer asked to stop marketing messages: campaigns leave them out",
                    "chat.marketing_stopped",
                )
            } else {
                (
                    "marketing_resumed",
                    "The customer resumed marketing messages",
                    "chat.marketing_resumed",
                )
            };
            let content = MessageContent::System {
                kind: kind.into(),
                body: body.into(),
            };
            let note_id = format!("{}:{kind}:{at}", e.key);
            let inserted = insert_received(&mut tx, id, Some(&note_id), &content, at).await?;
            // Once per webhook, however often the event is applied.
            if inserted.is_some() {
                let target = who.key().unwrap_or_default().to_owned();
                crate::audit::insert(
                    &mut tx,
                    &crate::permissions::Principal::system(crate::permissions::SystemTask::Sync),
                    &crate::audit::Change::new(crate::screens::Screen::Chat, action, target),
                    crate::audit::Outcome::Ok,
                    p["detail"].as_str(),
                )
                .await?;
            }
            tx.commit().await?;
            last = Some(ChatNotice::changed(id));
        }
        Ok(last)
    }

    /// Meta's Calling API: a call's start (`connect`) and end (`terminate`, with its status and
    /// duration) become notes in the customer's thread, without an unread. A call the business
    /// placed is the customer's by its `to`.
    async fn apply_calls(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        let value = &raw["value"];
        let Some(pnid) = value["metadata"]["phone_number_id"].as_str() else {
            return Ok(None);
        };
        let mut last = None;
        for call in value["calls"].as_array().into_iter().flatten() {
            let Some(call_id) = call["id"].as_str() else {
                continue;
            };
            let event = call["event"].as_str().unwrap_or("");
            let ours = call["direction"].as_str() == Some("BUSINESS_INITIATED");
            // The customer's side of the call, in the shape of an inbound message.
            let customer = if ours {
                serde_json::json!({ "from": call["to"], "from_user_id": call["to_user_id"] })
            } else {
                serde_json::json!({ "from": call["from"], "from_user_id": call["from_user_id"] })
            };
            let who = Identity::of_inbound(value, &customer);
            let number = |k: &str| {
                call[k]
                    .as_i64()
                    .or_else(|| call[k].as_str().and_then(|t| t.parse().ok()))
            };
            let at = number("timestamp")
                .or_else(|| number("end_time"))
                .map_or(e.received_at, |t| t * 1000);
            let body = call_words(event, call["status"].as_str(), number("duration"), ours);
            let Some(body) = body else {
                continue;
            };
            let name = value["contacts"][0]["profile"]["name"]
                .as_str()
                .unwrap_or("");
            let mut tx = crate::db::write_tx_in(self.db()).await?;
            let Some(id) = conversation_for(&mut tx, &who, pnid, name, "WhatsApp call", at).await?
            else {
                continue;
            };
            let content = MessageContent::System {
                kind: format!("call_{event}"),
                body,
            };
            let note_id = format!("call:{call_id}:{event}");
            insert_received(&mut tx, id, Some(&note_id), &content, at).await?;
            tx.commit().await?;
            last = Some(ChatNotice::changed(id));
        }
        Ok(last)
    }

    /// A customer deleted a message for everyone: it shows "This message was deleted"; what it
    /// said is kept in its versions, out of search. No bubble, no unread.
    async fn apply_revoke(&self, m: &Value, at: i64, side: Side) -> Result<Option<ChatNotice>> {
        let Some(original) = m["revoke"]["original_message_id"].as_str() else {
            return Ok(None);
        };
        let direction = side.direction();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(old) = sqlx::query!(
            r#"SELECT id AS "id!", conversation_id, content FROM chat_messages
               WHERE wamid = ? AND direction = ? AND deleted_at IS NULL"#,
            original,
            direction
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        keep_version(&mut tx, old.id, &old.content, at).await?;
        sqlx::query!(
            "UPDATE chat_messages SET body = '', deleted_at = ? WHERE id = ?",
            at,
            old.id
        )
        .execute(&mut *tx)
        .await?;
        refresh_preview(&mut tx, old.conversation_id).await?;
        // A deleted message is nothing left to read.
        set_read_up_to(&mut tx, old.conversation_id, 0).await?;
        tx.commit().await?;
        Ok(Some(ChatNotice::changed(old.conversation_id)))
    }

    async fn apply_status(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        let (Some(wamid), Some(_)) = (&e.message_id, &e.status) else {
            return Ok(None);
        };
        // A send of ours whose answer was lost (see `settle_send`): its tag names it. A tag that
        // is not a chat message's is another module's message (a campaign's): not the chat's.
        if let Some(tag) = raw["value"]["statuses"][0]["biz_opaque_callback_data"].as_str() {
            if !chat_tag(tag) {
                return Ok(None);
            }
            self.settle_send(tag, wamid).await?;
        }
        let mut conn = self.db().acquire().await?;
        status_in(&mut conn, e, raw).await
    }

    async fn apply_sent(&self, e: &ReceivedEvent, raw: &Value) -> Result<Option<ChatNotice>> {
        let (Some(client_id), Some(customer), Some(pnid)) = (
            str_of(raw, "client_id"),
            str_of(raw, "customer"),
            str_of(raw, "phone_number_id"),
        ) else {
            return Ok(None);
        };
        let Ok(content) = serde_json::from_value::<MessageContent>(raw["content"].clone()) else {
            return Ok(None);
        };
        // Nothing of this desktop is taken from the wire: no path (see `without_local_path`),
        // no sender's name (the relay stamps who published), no time after the relay had it.
        let content = content.without_local_path();
        let wamid = str_of(raw, "wamid");
        let at = sent_at_of(raw, e.received_at);
        let name = str_of(raw, "customer_name").unwrap_or("");
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let staff_name = match e.staff.as_deref() {
            Some(username) => Some(
                crate::staff::name_by_username(&mut tx, username)
                    .await?
                    .unwrap_or_else(|| username.to_owned()),
            ),
            None => None,
        };
        let conversation_id =
            ensure_conversation(&mut tx, customer, pnid, name, "WhatsApp", at).await?;
        let inserted = insert_message(
            &mut tx,
            NewMessage {
                conversation_id,
                wamid,
                client_id: Some(client_id),
                outbound: true,
                content: &content,
                reply_to: str_of(raw, "reply_to"),
                staff_name: staff_name.as_deref(),
                bot: str_of(raw, "bot").filter(|b| !b.is_empty()),
                sent_at: at,
                local_status: "accepted",
                error: None,
                marks: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(inserted.map(|_| ChatNotice::changed(conversation_id)))
    }

    async fn apply_reacted(&self, raw: &Value) -> Result<Option<ChatNotice>> {
        let Some(wamid) = str_of(raw, "wamid") else {
            return Ok(None);
        };
        let emoji = str_of(raw, "emoji").filter(|e| !e.is_empty());
        let conversation_id = sqlx::query_scalar!(
            r#"UPDATE chat_messages SET our_reaction = ? WHERE wamid = ?
               RETURNING conversation_id AS "conversation_id!""#,
            emoji,
            wamid
        )
        .fetch_optional(self.db())
        .await?;
        Ok(conversation_id.map(ChatNotice::changed))
    }

    async fn apply_assigned(&self, raw: &Value) -> Result<Option<ChatNotice>> {
        let (Some(customer), Some(pnid)) =
            (str_of(raw, "customer"), str_of(raw, "phone_number_id"))
        else {
            return Ok(None);
        };
        let mut conn = self.db().acquire().await?;
        let Some(id) = conversation_of(&mut conn, customer, pnid).await? else {
            return Ok(None);
        };
        let user = str_of(raw, "username");
        let name = str_of(raw, "name");
        sqlx::query!(
            "UPDATE chat_conversations SET assigned_username = ?, assigned_name = ? WHERE id = ?",
            user,
            name,
            id
        )
        .execute(&mut *conn)
        .await?;
        Ok(Some(ChatNotice::changed(id)))
    }

    async fn apply_read(&self, raw: &Value) -> Result<Option<ChatNotice>> {
        let (Some(customer), Some(pnid), Some(up_to)) = (
            str_of(raw, "customer"),
            str_of(raw, "phone_number_id"),
            str_of(raw, "up_to"),
        ) else {
            return Ok(None);
        };
        let mut conn = self.db().acquire().await?;
        let Some(id) = conversation_of(&mut conn, customer, pnid).await? else {
            return Ok(None);
        };
        let Some(message) = sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM chat_messages WHERE wamid = ?"#,
            up_to
        )
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        drop(conn);
        set_read_up_to(&mut *self.db().acquire().await?, id, message).await?;
        Ok(Some(ChatNotice::changed(id)))
    }
}

/// What a call event says in the thread; none for an event that says nothing to a person.
fn call_words(
    event: &str,
    status: Option<&str>,
    duration: Option<i64>,
    ours: bool,
) -> Option<String> {
    let who = if ours {
        "Call to the customer"
    } else {
        "Call from the customer"
    };
    let length = |secs: i64| match (secs / 60, secs % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    };
    match event {
        "connect" => Some(if ours {
            "Calling the customer on WhatsApp…".to_owned()
        } else {
            "The customer is calling on WhatsApp".to_owned()
        }),
        "terminate" => Some(match (status, duration) {
            (Some("COMPLETED"), Some(d)) if d > 0 => format!("{who} ended after {}", length(d)),
            (Some("COMPLETED"), _) => format!("{who} ended"),
            _ if ours => "Call to the customer not answered".to_owned(),
            _ => "Missed call from the customer".to_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wa_ids_become_e164_and_user_ids_stay() {
        let value = serde_json::json!({"contacts": [{"wa_id": "40721000001", "user_id": "US.1",
            "profile": {"name": "A", "username": "a.b"}}]});
        let who = Identity::of_inbound(&value, &serde_json::json!({"from": "40721000001"}));
        assert_eq!(who.key(), Some("+40721000001"));
        assert_eq!(who.username.as_deref(), Some("a.b"));
        let only_id = Identity::of_inbound(
            &serde_json::json!({"contacts": [{"user_id": "US.13491208655302741918"}]}),
            &serde_json::json!({"from_user_id": "US.13491208655302741918"}),
        );
        assert_eq!(only_id.key(), Some("US.13491208655302741918"));
        assert_eq!(only_id.phone, None);
        assert_eq!(recipient("+40721000001"), "40721000001");
        assert_eq!(recipient("US.1"), "US.1");
    }
}
