//! Quick replies: named snippets a rep inserts with `/name` or the quick-reply icon. Permission
//! `quickreplies` (view, create, edit, delete); every change is in the activity log.
//!
//! They are the team's: every change is a `quick_reply.*` event written in its transaction, and
//! [`handler`] applies the log's on every desktop, checking the author's permission again. Names
//! are unique: the quick reply the log gave a name first keeps it; a later one with the same name
//! takes it with its uid's first eight characters (`prices-0193ab4c`), the same on every desktop;
//! one made here and not back from the relay yet gives way until its own event places it. A
//! deletion wins over an edit the log puts after it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ChatError;
use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crmconnect_events::payloads::QuickReplyState;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct QuickReply {
    pub id: i64,
    /// The shortcut: typed after `/` in the composer.
    pub name: String,
    pub message: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct QuickReplyInput {
    pub name: String,
    pub message: String,
}

/// The name is a shortcut: one word of letters, digits, `-` and `_`, at most 40 characters.
fn check(input: &QuickReplyInput) -> std::result::Result<(String, String), ChatError> {
    let name = input.name.trim().trim_start_matches('/').to_owned();
    if name.is_empty() {
        return Err(ChatError::Invalid(
            "the name (the shortcut) is empty".into(),
        ));
    }
    if name.chars().count() > 40
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ChatError::Invalid(format!(
            "the name “{name}” must be one word of letters, digits, - and _ (at most 40), because it is typed after /"
        )));
    }
    let message = input.message.trim().to_owned();
    if message.is_empty() {
        return Err(ChatError::Invalid("the message text is empty".into()));
    }
    let len = message.chars().count();
    if len > crate::meta::messages::limits::TEXT_BODY {
        return Err(ChatError::TooLong {
            len,
            max: crate::meta::messages::limits::TEXT_BODY,
        });
    }
    Ok((name, message))
}

fn taken(e: sqlx::Error, name: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ChatError::QuickReplyTaken(name.to_owned()).into()
        }
        _ => e.into(),
    }
}

impl Ctx<'_> {
    /// Every quick reply, by name; the composer filters them as the rep types.
    pub async fn quick_replies(&self) -> Result<Vec<QuickReply>> {
        let actor = self.actor().await?;
        // Reps who may chat use quick replies even without managing them.
        if actor.require(Resource::Quickreplies, Action::View).is_err() {
            actor.require(Resource::WhatsappChat, Action::Send)?;
        }
        Ok(sqlx::query_as!(
            QuickReply,
            r#"SELECT id AS "id!", name, message, updated_at FROM quick_replies ORDER BY name COLLATE NOCASE"#
        )
        .fetch_all(self.db())
        .await?)
    }

    pub async fn create_quick_reply(&self, input: QuickReplyInput) -> Result<QuickReply> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::Quickreplies, Action::Create);
        let (name, message) = check(&input)?;
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::QuickReplies, "quick_replies.create", format!("quick reply /{name}")),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let now = crate::now_ms();
                    let uid = uuid::Uuid::now_v7().simple().to_string();
                    let r = sqlx::query_as!(
                        QuickReply,
                        r#"INSERT INTO quick_replies (uid, name, message, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                           RETURNING id AS "id!", name, message, updated_at"#,
                        uid,
                        name,
                        message,
                        now,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| taken(e, &name))?;
                    emit(tx, &publisher, "quick_reply.created", uid, &r, false).await?;
                    Ok((r, None))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn update_quick_reply(&self, id: i64, input: QuickReplyInput) -> Result<QuickReply> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::Quickreplies, Action::Edit);
        let (name, message) = check(&input)?;
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::QuickReplies, "quick_replies.update", format!("quick reply #{id}")),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let now = crate::now_ms();
                    let r = sqlx::query_as!(
                        QuickReply,
                        r#"UPDATE quick_replies SET name = ?, message = ?, updated_at = ? WHERE id = ?
                           RETURNING id AS "id!", name, message, updated_at"#,
                        name,
                        message,
                        now,
                        id
                    )
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| taken(e, &name))?
                    .ok_or(ChatError::NoQuickReply(id))?;
                    let uid = uid_of(tx, id).await?;
                    emit(tx, &publisher, "quick_reply.updated", uid, &r, false).await?;
                    Ok((r, Some(format!("now /{name}"))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn delete_quick_reply(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::Quickreplies, Action::Delete);
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::QuickReplies,
                "quick_replies.delete",
                format!("quick reply #{id}"),
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let uid = uid_of(tx, id).await?;
                    let r = sqlx::query_as!(
                        QuickReply,
                        r#"DELETE FROM quick_replies WHERE id = ? RETURNING id AS "id!", name, message, updated_at"#,
                        id
                    )
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(ChatError::NoQuickReply(id))?;
                    emit(tx, &publisher, "quick_reply.deleted", uid, &r, true).await?;
                    Ok(((), Some(format!("/{}", r.name))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }
}

// ---- the team's log -----------------------------------------------------------------------------

async fn uid_of(conn: &mut sqlx::SqliteConnection, id: i64) -> Result<String> {
    let uid = sqlx::query_scalar!("SELECT uid FROM quick_replies WHERE id = ?", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(ChatError::NoQuickReply(id))?;
    // Every row has one since the migration; a row without would be named by its name.
    Ok(uid.unwrap_or_else(|| format!("name:{id}")))
}

async fn emit(
    tx: &mut sqlx::SqliteConnection,
    actor: &crate::permissions::Principal,
    kind: &str,
    uid: String,
    r: &QuickReply,
    deleted: bool,
) -> Result<()> {
    let state = QuickReplyState {
        uid,
        name: r.name.clone(),
        message: r.message.clone(),
        deleted,
    };
    let payload = serde_json::to_value(&state).expect("a quick reply serialises");
    crate::outbox::emit(tx, actor, kind, &payload).await?;
    Ok(())
}

/// `name` with `tag`'s last eight characters after a `-`, still a shortcut of at most 40 (a
/// UUIDv7's first ones are its time, alike for shortcuts made the same minute).
fn suffixed(name: &str, tag: &str) -> String {
    let tail = tag.rsplit(':').next().unwrap_or(tag);
    let tail: Vec<char> = tail.chars().filter(|c| c.is_alphanumeric()).collect();
    let tail: String = tail[tail.len().saturating_sub(8)..].iter().collect();
    let head: String = name.chars().take(40 - 1 - tail.chars().count()).collect();
    format!("{head}-{tail}")
}

inventory::submit! { crate::handlers::DefaultHandler { order: 12, make: handler } }

/// The team's quick replies, applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "quick replies",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

async fn apply_event(ws: &Workspace, e: &crate::relay::events::ReceivedEvent) -> Result<()> {
    if !e.kind.starts_with("quick_reply.") {
        return Ok(());
    }
    let Some(q) = crate::handlers::read_payload::<QuickReplyState>(e, QuickReplyState::problem)
    else {
        return Ok(());
    };
    let author = e.staff.clone().unwrap_or_default();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let what = format!("quick reply /{}", q.name);
    if !crate::staff::shared::author_allowed(&mut tx, e, Screen::QuickReplies, what).await? {
        tx.commit().await?;
        return Ok(());
    }
    apply_state(&mut tx, e.seq, &author, q).await?;
    tx.commit().await?;
    ws.records_changed(Screen::QuickReplies);
    Ok(())
}

async fn apply_state(
    conn: &mut sqlx::SqliteConnection,
    seq: i64,
    author: &str,
    q: QuickReplyState,
) -> Result<()> {
    let gone = sqlx::query_scalar!(
        "SELECT count(*) FROM quick_reply_tombstones WHERE uid = ?",
        q.uid
    )
    .fetch_one(&mut *conn)
    .await?;
    if gone > 0 {
        return Ok(()); // deleted earlier in the log: a later edit does not bring it back
    }
    let existing = sqlx::query_scalar!("SELECT id FROM quick_replies WHERE uid = ?", q.uid)
        .fetch_optional(&mut *conn)
        .await?;
    if q.deleted {
        sqlx::query!("DELETE FROM quick_replies WHERE uid = ?", q.uid)
            .execute(&mut *conn)
            .await?;
        sqlx::query!(
            "INSERT OR IGNORE INTO quick_reply_tombstones (uid) VALUES (?)",
            q.uid
        )
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    // The log decides who has a name: the quick reply it gave the name to keeps it.
    let log_holder = sqlx::query_scalar!(
        "SELECT id FROM quick_replies WHERE log_name = ? AND uid IS NOT ?",
        q.name,
        q.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut name = q.name.clone();
    if log_holder.is_some() {
        name = suffixed(&q.name, &q.uid);
        let detail = format!("{author}'s change came later in the team's log");
        audit::insert(
            conn,
            &crate::permissions::Principal::system(crate::permissions::SystemTask::Sync),
            &Change::new(
                Screen::QuickReplies,
                "team.clash",
                format!("quick reply /{} is /{name} here", q.name),
            ),
            audit::Outcome::Ok,
            Some(&detail),
        )
        .await?;
    }
    // One that has the name here only (made or renamed here, not back yet) gives way until its
    // own event places it.
    let local = sqlx::query_scalar!(
        "SELECT id FROM quick_replies WHERE name = ? AND uid IS NOT ?",
        name,
        q.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = local {
        let moved = suffixed(&name, &format!("local{id}"));
        sqlx::query!("UPDATE quick_replies SET name = ? WHERE id = ?", moved, id)
            .execute(&mut *conn)
            .await?;
    }
    let now = crate::now_ms();
    match existing {
        Some(id) => {
            sqlx::query!(
                "UPDATE quick_replies SET name = ?, log_name = ?, message = ?, updated_at = ?, seq = ? WHERE id = ?",
                name,
                name,
                q.message,
                now,
                seq,
                id
            )
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query!(
                "INSERT INTO quick_replies (uid, name, log_name, message, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                q.uid,
                name,
                name,
                q.message,
                now,
                now,
                seq
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_name_stays_a_shortcut() {
        assert_eq!(suffixed("prices", "0193ab4c77aa"), "prices-ab4c77aa");
        assert_eq!(suffixed("prices", "name:7072696365"), "prices-72696365");
        let long = "a".repeat(40);
        let moved = suffixed(&long, "local12");
        assert_eq!(moved.chars().count(), 40);
        assert!(QuickReplyState::is_shortcut(&moved), "{moved}");
    }

    #[test]
    fn a_name_is_a_shortcut_word() {
        let ok = |n: &str| {
            check(&QuickReplyInput {
                name: n.into(),
                message: "Hello".into(),
            })
        };
        assert_eq!(ok("/prices").unwrap().0, "prices");
        assert_eq!(ok("opening-hours").unwrap().0, "opening-hours");
        assert!(
            ok("two words")
                .unwrap_err()
                .to_string()
                .contains("one word")
        );
        assert!(ok("").unwrap_err().to_string().contains("empty"));
        let empty = check(&QuickReplyInput {
            name: "x".into(),
            message: "  ".into(),
        });
        assert!(
            empty
                .unwrap_err()
                .to_string()
                .contains("message text is empty")
        );
    }
}
