//! Quick replies: named snippets a rep inserts with `/name` or the quick-reply icon. Permission
//! `quickreplies` (view, create, edit, delete); every change is in the activity log.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ChatError;
use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;

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
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::QuickReplies, "quick_replies.create", format!("quick reply /{name}")),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let now = crate::now_ms();
                    let r = sqlx::query_as!(
                        QuickReply,
                        r#"INSERT INTO quick_replies (name, message, created_at, updated_at) VALUES (?, ?, ?, ?)
                           RETURNING id AS "id!", name, message, updated_at"#,
                        name,
                        message,
                        now,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| taken(e, &name))?;
                    Ok((r, None))
                })
            }),
        )
        .await
    }

    pub async fn update_quick_reply(&self, id: i64, input: QuickReplyInput) -> Result<QuickReply> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::Quickreplies, Action::Edit);
        let (name, message) = check(&input)?;
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
                    Ok((r, Some(format!("now /{name}"))))
                })
            }),
        )
        .await
    }

    pub async fn delete_quick_reply(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::Quickreplies, Action::Delete);
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
                    let name = sqlx::query_scalar!(
                        "DELETE FROM quick_replies WHERE id = ? RETURNING name",
                        id
                    )
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(ChatError::NoQuickReply(id))?;
                    Ok(((), Some(format!("/{name}"))))
                })
            }),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
