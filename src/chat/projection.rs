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

/// The E.164 form of a WhatsApp id (digits), or the user id as it is.
pub(crate) fn customer_key(raw: &str) -> String {
    if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_digit()) {
        format!("+{raw}")
    } else {
        raw.to_owned()
    }
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
            lead = Some(leads::create_from_whatsapp(conn, customer, name, source).await?);
        }
    }
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

/// A new message at the end of a conversation: the list's order and preview follow it.
pub(crate) struct NewMessage<'a> {
    pub conversation_id: i64,
    pub wamid: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub outbound: bool,
    pub content: &'a MessageContent,
    pub reply_to: Option<&'a str>,
    pub staff_name: Option<&'a str>,
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
                reply_to, staff_name, sent_at, local_status, error, marks)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        m.sent_at,
        m.local_status,
        m.error,
        marks
    )
    .fetch_optional(&mut *conn)
    .await?;
    if id.is_some() {
        let preview = m.content.preview();
        let unread = i64::from(!m.outbound);
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
                 WHERE conversation_id = ?1 AND direction = 'in' AND deleted_at IS NULL
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

inventory::submit! { crate::handlers::DefaultHandler { order: 10, make: handler } }

/// Chat's projection of received events (messages in and out, statuses, reactions, assignments,
/// reads), applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(ws.apply_chat_event(e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "chat projection",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

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
        ];
        if !CHAT_KINDS.contains(&e.kind.as_str()) {
            return Ok(());
        }
        let raw: Value = match serde_json::from_str(e.raw.get()) {
            Ok(v) => v,
            Err(_) => return Ok(()),
        };
        let changed = match e.kind.as_str() {
            "message" => self.apply_inbound(e, &raw).await?,
            "status" => self.apply_status(e, &raw).await?,
            "message.sent" => self.apply_sent(e, &raw).await?,
            "message.reacted" => self.apply_reacted(&raw).await?,
            "conversation.assigned" => self.apply_assigned(&raw).await?,
            "conversation.read" => self.apply_read(&raw).await?,
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
        let value = &raw["value"];
        let Some(m) = value["messages"].get(0) else {
            return Ok(None);
        };
        let (Some(wamid), Some(from), Some(pnid)) =
            (&e.message_id, &e.customer, &e.phone_number_id)
        else {
            return Ok(None);
        };
        let customer = customer_key(from);
        let name = value["contacts"]
            .get(0)
            .and_then(|c| c["profile"]["name"].as_str())
            .unwrap_or("")
            .to_owned();
        let at = e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at);
        // An edit or a deletion changes the message it names; it is not a message of its own.
        match m["type"].as_str() {
            Some("edit") => return self.apply_edit(m, at, (&customer, pnid, &name)).await,
            Some("revoke") => return self.apply_revoke(m, at).await,
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
        let source = marks
            .as_ref()
            .and_then(MessageMarks::lead_source)
            .unwrap_or_else(|| "WhatsApp".to_owned());
        let conversation_id =
            ensure_conversation(&mut tx, &customer, pnid, &name, &source, at).await?;
        let reply_to = m["context"]["id"].as_str();
        let inserted = insert_message(
            &mut tx,
            NewMessage {
                conversation_id,
                wamid: Some(wamid),
                client_id: None,
                outbound: false,
                content: &content,
                reply_to,
                staff_name: None,
                sent_at: at,
                local_status: "accepted",
                error: None,
                marks: marks.as_ref(),
            },
        )
        .await?;
        tx.commit().await?;
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

    /// A customer's edit: the message shows the new content, marked edited; what it said before
    /// is kept in its versions. No new bubble, no unread. An edit of a message this desktop never
    /// had (its history starts later) is kept as that message, marked edited.
    async fn apply_edit(
        &self,
        m: &Value,
        at: i64,
        who: (&str, &str, &str),
    ) -> Result<Option<ChatNotice>> {
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
               WHERE wamid = ? AND direction = 'in'"#,
            original
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return self.apply_unknown_edit(who, original, &content, at).await;
        };
        // The same edit applied twice (a replayed event) leaves one version.
        if old.content == json || old.edited_at.is_some_and(|t| t >= at) {
            return Ok(None);
        }
        sqlx::query!(
            "INSERT INTO chat_message_versions (message_id, content, replaced_at) VALUES (?, ?, ?)",
            old.id,
            old.content,
            at
        )
        .execute(&mut *tx)
        .await?;
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
        (customer, pnid, name): (&str, &str, &str),
        original: &str,
        content: &MessageContent,
        at: i64,
    ) -> Result<Option<ChatNotice>> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let conversation_id =
            ensure_conversation(&mut tx, customer, pnid, name, "WhatsApp", at).await?;
        let inserted = insert_message(
            &mut tx,
            NewMessage {
                conversation_id,
                wamid: Some(original),
                client_id: None,
                outbound: false,
                content,
                reply_to: None,
                staff_name: None,
                sent_at: at,
                local_status: "accepted",
                error: None,
                marks: None,
            },
        )
        .await?;
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

    /// A customer deleted a message for everyone: it shows "This message was deleted"; what it
    /// said is kept in its versions, out of search. No bubble, no unread.
    async fn apply_revoke(&self, m: &Value, at: i64) -> Result<Option<ChatNotice>> {
        let Some(original) = m["revoke"]["original_message_id"].as_str() else {
            return Ok(None);
        };
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(old) = sqlx::query!(
            r#"SELECT id AS "id!", conversation_id, content FROM chat_messages
               WHERE wamid = ? AND direction = 'in' AND deleted_at IS NULL"#,
            original
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        sqlx::query!(
            "INSERT INTO chat_message_versions (message_id, content, replaced_at) VALUES (?, ?, ?)",
            old.id,
            old.content,
            at
        )
        .execute(&mut *tx)
        .await?;
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
        let (Some(wamid), Some(status)) = (&e.message_id, &e.status) else {
            return Ok(None);
        };
        let s = &raw["value"]["statuses"][0];
        let error = s["errors"].get(0).map(content::error_text);
        let pricing = s["pricing"]["category"].as_str();
        let at = e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at);
        // A send of ours whose answer was lost (see `settle_send`): its tag names it.
        if let Some(tag) = s["biz_opaque_callback_data"].as_str() {
            self.settle_send(tag, wamid).await?;
        }
        let mut conn = self.db().acquire().await?;
        record_status(&mut conn, wamid, status, error.as_deref(), pricing, at).await?;
        let conversation_id = sqlx::query_scalar!(
            "SELECT conversation_id FROM chat_messages WHERE wamid = ?",
            wamid
        )
        .fetch_optional(&mut *conn)
        .await?;
        Ok(conversation_id.map(ChatNotice::changed))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wa_ids_become_e164_and_user_ids_stay() {
        assert_eq!(customer_key("40721000001"), "+40721000001");
        assert_eq!(
            customer_key("US.13491208655302741918"),
            "US.13491208655302741918"
        );
        assert_eq!(recipient("+40721000001"), "40721000001");
        assert_eq!(recipient("US.1"), "US.1");
    }
}
