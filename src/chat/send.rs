//! Sending: every send is a message row plus an outbox entry, written together; the outbox is
//! drained at once when Meta can be reached, and later (by [`start_sender`]) when it could not.
//! A send is retried only when Meta certainly did not get it (the connection was refused, or Meta
//! refused it for a rate limit), so a send made offline goes out exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::content::{MediaRef, MessageContent};
use super::projection::{self, NewMessage};
use super::{ChatError, ChatMessage, ChatNotice};
use crate::audit::{self, Change};
use crate::documents::DocumentKind;
use crate::meta::client::ClientError;
use crate::meta::error::Retry;
use crate::meta::messages::{self, Body, Context, Language, Media, Outbound, Template, Text};
use crate::meta::templates::{ComponentDef, TemplateDef, VariablePlace};
use crate::permissions::{Action, Principal, Resource, SystemTask};
use crate::screens::Screen;
use crate::templates::{Binding, Value_};
use crate::workspace::{Ctx, Workspace};
use crate::{Result, sync, uploads};

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct SendText {
    pub text: String,
    /// The message (our id) this one replies to.
    #[ts(optional)]
    pub reply_to: Option<i64>,
}

/// A file handed over by the webview (an upload id), sent as image, video, audio or document.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct SendMedia {
    pub upload: String,
    pub filename: String,
    pub mime_type: String,
    #[ts(optional)]
    pub caption: Option<String>,
    #[ts(optional)]
    pub reply_to: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct SendTemplate {
    pub template_id: i64,
    /// A document whose fields (and PDF) fill the template's document variables.
    #[ts(optional)]
    pub document_id: Option<i64>,
}

/// A cached media file for the webview.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MediaFile {
    pub mime_type: String,
    pub filename: Option<String>,
    /// Base64 of the bytes.
    pub data: String,
}

/// Settings → WhatsApp → template per action.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionTemplate {
    pub action: DocumentKind,
    pub template_id: Option<i64>,
}

/// What waits in `chat_sends`: enough to build Meta's request when the connection is there.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SendRequest {
    to: String,
    phone_number_id: String,
    reply_to: Option<String>,
    body: RequestBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RequestBody {
    Text {
        body: String,
    },
    Media {
        kind: String,
        path: PathBuf,
        mime_type: String,
        filename: String,
        caption: Option<String>,
    },
    Template {
        definition: TemplateDef,
        bindings: Vec<Binding>,
        texts: BTreeMap<String, String>,
        pdf: Option<(PathBuf, String)>,
    },
}

impl Workspace {
    fn chat_media_dir(&self) -> PathBuf {
        Path::new(&self.info().path)
            .parent()
            .map(|p| p.join("media"))
            .unwrap_or_else(|| PathBuf::from("media"))
    }

    async fn wamid_of(&self, message_id: i64) -> Result<String> {
        sqlx::query_scalar!("SELECT wamid FROM chat_messages WHERE id = ?", message_id)
            .fetch_optional(self.db())
            .await?
            .ok_or(ChatError::NoMessage(message_id))?
            .ok_or_else(|| {
                ChatError::Invalid(format!("message #{message_id} has not reached Meta yet")).into()
            })
    }

    pub(crate) async fn chat_message(&self, id: i64) -> Result<ChatMessage> {
        let conversation_id =
            sqlx::query_scalar!("SELECT conversation_id FROM chat_messages WHERE id = ?", id)
                .fetch_optional(self.db())
                .await?
                .ok_or(ChatError::NoMessage(id))?;
        let page = self
            .thread_page(conversation_id, Some(id + 1), Some(1))
            .await?;
        page.messages
            .into_iter()
            .next()
            .ok_or_else(|| ChatError::NoMessage(id).into())
    }

    async fn send_later(&self, id: i64, attempts: i64, error: &str) -> Result<()> {
        let wait = (2_i64.saturating_pow(attempts.clamp(0, 8) as u32) * 1000).min(60_000);
        let next = crate::now_ms() + wait;
        sqlx::query!(
            "UPDATE chat_sends SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?",
            error,
            next,
            id
        )
        .execute(self.db())
        .await?;
        Ok(())
    }

    /// How many sends wait in the outbox.
    pub async fn chat_outbox_len(&self) -> Result<i64> {
        Ok(sqlx::query_scalar!("SELECT count(*) FROM chat_sends")
            .fetch_one(self.db())
            .await?)
    }

    /// Makes the outbox due now (the connection is back) and wakes the sender.
    pub fn chat_retry_now(&self) {
        self.chat_runtime().wake.notify_one();
    }

    async fn template_for_send(&self, id: i64) -> Result<crate::templates::TemplateView> {
        let t = self.template_unchecked(id).await?;
        if t.status != "APPROVED" {
            return Err(ChatError::Template {
                id,
                reason: format!(
                    "“{}” is {}, and only approved templates can be sent",
                    t.name, t.status
                ),
            }
            .into());
        }
        if !t.sendable {
            return Err(ChatError::Template {
                id,
                reason: format!(
                    "“{}” has variables without a mapping; map them on the Templates screen",
                    t.name
                ),
            }
            .into());
        }
        Ok(t)
    }

    /// Sends what waits in the outbox, oldest first, until it is empty or Meta cannot be reached.
    /// Returns how many went out.
    pub async fn drain_chat_sends(&self) -> Result<usize> {
        let _one_at_a_time = self.chat_runtime().sending.lock().await;
        let sender = Principal::system(SystemTask::ChatSender);
        let mut sent = 0;
        loop {
            let now = crate::now_ms();
            let Some(row) = sqlx::query!(
                r#"SELECT s.id AS "id!", s.message_id, s.request, s.attempts, m.conversation_id, m.content,
                          m.client_id, m.sent_at, m.reply_to, m.staff_name, c.customer_name
                   FROM chat_sends s JOIN chat_messages m ON m.id = s.message_id
                   JOIN chat_conversations c ON c.id = m.conversation_id
                   WHERE s.next_at <= ? ORDER BY s.id LIMIT 1"#,
                now
            )
            .fetch_optional(self.db())
            .await?
            else {
                return Ok(sent);
            };
            let request: SendRequest = serde_json::from_str(&row.request)
                .map_err(|e| ChatError::Corrupt(format!("send #{}: {e}", row.id)))?;
            let mut content: MessageContent = serde_json::from_str(&row.content)
                .map_err(|e| ChatError::Corrupt(format!("message #{}: {e}", row.message_id)))?;
            let (client, _) = match self.graph_client().await {
                Ok(c) => c,
                Err(e) => {
                    self.send_later(row.id, row.attempts, &e.to_string())
                        .await?;
                    return Ok(sent);
                }
            };
            match deliver(&client, &request, &mut content).await {
                Ok(wamid) => {
                    let json = serde_json::to_string(&content).expect("content serialises");
                    let mut tx = crate::db::write_tx_in(self.db()).await?;
                    sqlx::query!(
                        "UPDATE chat_messages SET wamid = ?, local_status = 'accepted', content = ?, error = NULL
                         WHERE id = ?",
                        wamid,
                        json,
                        row.message_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query!("DELETE FROM chat_sends WHERE id = ?", row.id)
                        .execute(&mut *tx)
                        .await?;
                    let event = json!({
                        "client_id": row.client_id,
                        "wamid": wamid,
                        "customer": projection::customer_key(&request.to),
                        "customer_name": row.customer_name,
                        "phone_number_id": request.phone_number_id,
                        "content": content,
                        "reply_to": row.reply_to,
                        "staff_name": row.staff_name,
                        "sent_at": row.sent_at,
                    });
                    sync::emit(&mut tx, &sender, "message.sent", &event).await?;
                    tx.commit().await?;
                    self.outbox_written();
                    sent += 1;
                }
                Err(e) if certainly_not_sent(&e) => {
                    tracing::info!(error = %e, "send kept in the outbox");
                    self.send_later(row.id, row.attempts, &e.to_string())
                        .await?;
                    self.chat_notice(ChatNotice::changed(row.conversation_id));
                    return Ok(sent);
                }
                Err(e) => {
                    let reason = e.to_string();
                    let mut tx = crate::db::write_tx_in(self.db()).await?;
                    sqlx::query!(
                        "UPDATE chat_messages SET local_status = 'refused', error = ? WHERE id = ?",
                        reason,
                        row.message_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query!("DELETE FROM chat_sends WHERE id = ?", row.id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
            }
            self.chat_notice(ChatNotice::changed(row.conversation_id));
        }
    }
}

impl Ctx<'_> {
    async fn open_window_or_refuse(&self, conversation_id: i64) -> Result<super::Conversation> {
        let detail = self.conversation(conversation_id).await?;
        if !detail.window_open {
            return Err(ChatError::WindowClosed.into());
        }
        Ok(detail.conversation)
    }

    /// The text merge fields for a conversation's linked record and the sending staff member.
    async fn merge_values(
        &self,
        detail: &super::ConversationDetail,
        staff_name: &str,
    ) -> Result<Vec<(String, String)>> {
        let c = &detail.conversation;
        let mut out = vec![
            ("staff.name".to_owned(), staff_name.to_owned()),
            ("business.name".to_owned(), self.info().name.clone()),
            ("contact.phone".to_owned(), c.customer.clone()),
        ];
        let mut name = c.customer_name.clone();
        let mut company = String::new();
        match &detail.linked {
            Some(super::LinkedRecord::Lead(l)) => {
                name = l.name.clone();
                company = l.company.clone();
                out.push(("lead.name".into(), l.name.clone()));
                out.push(("lead.company".into(), l.company.clone()));
                out.push(("lead.status".into(), l.status_name.clone()));
                if let Ok(lead) = self.lead(l.id).await {
                    out.push(("lead.email".into(), lead.email));
                }
            }
            Some(super::LinkedRecord::ClientContact(p)) => {
                name = p.name.clone();
                company = p.company.clone();
                out.push(("client.company".into(), p.company.clone()));
            }
            Some(super::LinkedRecord::Contact(k)) => {
                name = k.name.clone();
                company = k.company.clone();
            }
            None => {}
        }
        if !name.is_empty() {
            let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
            out.push(("contact.name".into(), name));
            out.push(("contact.first_name".into(), first));
        }
        if !company.is_empty() {
            out.push(("contact.company".into(), company));
        }
        Ok(out.into_iter().filter(|(_, v)| !v.is_empty()).collect())
    }

    /// Fetches an inbound (or sent) message's media with the token, cached on disk.
    pub async fn chat_media(&self, message_id: i64) -> Result<MediaFile> {
        let (media, bytes) = self.media_bytes(message_id).await?;
        use base64::Engine as _;
        Ok(MediaFile {
            mime_type: media
                .mime_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            filename: media.filename,
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    }

    /// Saves a message's media into `folder` (the user's downloads) under its own file name,
    /// never over an existing file; returns the new path.
    pub async fn save_chat_media(&self, message_id: i64, folder: &Path) -> Result<String> {
        let (media, bytes) = self.media_bytes(message_id).await?;
        let name = save_name(&media, message_id);
        let io = |e: std::io::Error| {
            ChatError::Media(format!("cannot save into {}: {e}", folder.display()))
        };
        std::fs::create_dir_all(folder).map_err(io)?;
        let (stem, ext) = match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
            _ => (name.clone(), String::new()),
        };
        for n in 1.. {
            let candidate = if n == 1 {
                folder.join(&name)
            } else {
                folder.join(format!("{stem} ({n}){ext}"))
            };
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&candidate)
            {
                Ok(mut f) => {
                    use std::io::Write as _;
                    f.write_all(&bytes).map_err(io)?;
                    return Ok(candidate.display().to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(e).into()),
            }
        }
        unreachable!("1.. never ends")
    }
}

impl Ctx<'_> {
    /// Sends free text within the window.
    pub async fn send_text(&self, conversation_id: i64, input: SendText) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let text = input.text.trim().to_owned();
        if text.is_empty() {
            return Err(ChatError::Empty.into());
        }
        let len = text.chars().count();
        if len > messages::limits::TEXT_BODY {
            return Err(ChatError::TooLong {
                len,
                max: messages::limits::TEXT_BODY,
            }
            .into());
        }
        let c = self.open_window_or_refuse(conversation_id).await?;
        let reply_to = match input.reply_to {
            Some(id) => Some(self.wamid_of(id).await?),
            None => None,
        };
        let content = MessageContent::Text { body: text.clone() };
        let request = SendRequest {
            to: projection::recipient(&c.customer),
            phone_number_id: c.phone_number_id.clone(),
            reply_to,
            body: RequestBody::Text { body: text },
        };
        self.queue_send(&c, content, request).await
    }

    /// Starts receiving a file to send (the webview hands it over piece by piece).
    pub async fn begin_media_upload(&self) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        Ok(uploads::begin(self)?)
    }

    /// A piece of the file; refused past Meta's largest media size (100 MB, documents).
    pub async fn append_media_upload(&self, upload: &str, bytes: &[u8]) -> Result<u64> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        Ok(uploads::append(self, upload, bytes, 100 * 1024 * 1024)?)
    }

    /// Sends a file the webview handed over, after checking Meta's type and size limits.
    pub async fn send_media(&self, conversation_id: i64, input: SendMedia) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let upload = uploads::path(self, &input.upload)?;
        let size = std::fs::metadata(&upload).map(|m| m.len()).unwrap_or(0);
        let kind = crate::meta::media::check_upload(&input.filename, &input.mime_type, size)
            .map_err(|e| ChatError::Invalid(e.to_string()))?;
        use crate::meta::media::MediaKind;
        let kind = match kind {
            MediaKind::Image | MediaKind::Sticker => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
        }
        .to_owned();
        let c = self.open_window_or_refuse(conversation_id).await?;
        let reply_to = match input.reply_to {
            Some(id) => Some(self.wamid_of(id).await?),
            None => None,
        };
        // Keep the file: the thread shows it, and the outbox may send it later.
        let dir = self.chat_media_dir().join("sent");
        std::fs::create_dir_all(&dir).map_err(|e| ChatError::Media(e.to_string()))?;
        let name: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(16)
            .collect();
        let ext = Path::new(&input.filename)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("bin");
        let kept = dir.join(format!("{name}.{ext}"));
        std::fs::copy(&upload, &kept).map_err(|e| ChatError::Media(e.to_string()))?;
        uploads::finish(&upload);
        let caption = input.caption.filter(|c| !c.trim().is_empty());
        let media = MediaRef {
            media_id: None,
            mime_type: Some(input.mime_type.clone()),
            filename: Some(input.filename.clone()),
            caption: caption.clone(),
            local_path: Some(kept.display().to_string()),
        };
        let content = match kind.as_str() {
            "image" => MessageContent::Image { media },
            "video" => MessageContent::Video { media },
            "audio" => MessageContent::Audio {
                media,
                voice: false,
            },
            _ => MessageContent::Document { media },
        };
        let request = SendRequest {
            to: projection::recipient(&c.customer),
            phone_number_id: c.phone_number_id.clone(),
            reply_to,
            body: RequestBody::Media {
                kind,
                path: kept,
                mime_type: input.mime_type,
                filename: input.filename,
                caption,
            },
        };
        self.queue_send(&c, content, request).await
    }

    /// Sends an approved template: the only thing allowed when the window is closed. Its
    /// variables are filled from the template's mapping and the linked record (and the document).
    pub async fn send_template(
        &self,
        conversation_id: i64,
        input: SendTemplate,
    ) -> Result<ChatMessage> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::Send)?;
        let detail = self.conversation(conversation_id).await?;
        let t = self.template_for_send(input.template_id).await?;
        let def: TemplateDef = serde_json::from_value(t.definition.clone())
            .map_err(|e| ChatError::Corrupt(e.to_string()))?;
        let mut texts = BTreeMap::new();
        let mut pdf = None;
        for (k, v) in self.merge_values(&detail, &actor.name).await? {
            texts.insert(k, v);
        }
        if let Some(doc_id) = input.document_id {
            let doc = self.document(doc_id).await?;
            texts.insert("document.number".into(), doc.number.clone());
            texts.insert("document.date".into(), doc.date.clone());
            if let Some(due) = &doc.due_date {
                texts.insert("document.due_date".into(), due.clone());
            }
            texts.insert(
                "document.total".into(),
                format!(
                    "{} {}",
                    crate::documents::currency::format(doc.total, doc.currency_digits),
                    doc.currency
                ),
            );
            texts.insert("document.currency".into(), doc.currency.clone());
            let path = self.document_pdf(doc_id).await?;
            pdf = Some((path, format!("{}.pdf", doc.number)));
        }
        // Everything the mapping needs must be there now, not fail later in the outbox.
        crate::templates::fill(&def, &t.mapping, |key| lookup(&texts, &pdf, key, "pending"))?;
        let body = render_body(&def, &t.mapping, &texts);
        let header_document = pdf.as_ref().map(|(path, name)| MediaRef {
            media_id: None,
            mime_type: Some("application/pdf".into()),
            filename: Some(name.clone()),
            caption: None,
            local_path: Some(path.display().to_string()),
        });
        let content = MessageContent::Template {
            name: t.name.clone(),
            language: t.language.clone(),
            body,
            header_document,
        };
        let c = detail.conversation;
        let request = SendRequest {
            to: projection::recipient(&c.customer),
            phone_number_id: c.phone_number_id.clone(),
            reply_to: None,
            body: RequestBody::Template {
                definition: def,
                bindings: t.mapping.clone(),
                texts,
                pdf,
            },
        };
        self.queue_send(&c, content, request).await
    }

    /// Reacts to a message (an empty emoji removes our reaction).
    pub async fn react(&self, message_id: i64, emoji: &str) -> Result<()> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::Send)?;
        let wamid = self.wamid_of(message_id).await?;
        let conversation_id = sqlx::query_scalar!(
            "SELECT conversation_id FROM chat_messages WHERE id = ?",
            message_id
        )
        .fetch_one(self.db())
        .await?;
        let c = self.open_window_or_refuse(conversation_id).await?;
        let (client, _) = self.graph_client().await?;
        let out = Outbound {
            to: projection::recipient(&c.customer),
            body: Body::Reaction {
                reaction: messages::Reaction {
                    message_id: wamid.clone(),
                    emoji: emoji.to_owned(),
                },
            },
            context: None,
            biz_opaque_callback_data: None,
        };
        client
            .send(&c.phone_number_id, &out)
            .await
            .map_err(|e| ChatError::Invalid(format!("Meta refused the reaction: {e}")))?;
        let stored = (!emoji.is_empty()).then_some(emoji);
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        sqlx::query!(
            "UPDATE chat_messages SET our_reaction = ? WHERE id = ?",
            stored,
            message_id
        )
        .execute(&mut *tx)
        .await?;
        let event = json!({ "wamid": wamid, "emoji": emoji });
        sync::emit(&mut tx, &actor, "message.reacted", &event).await?;
        tx.commit().await?;
        self.outbox_written();
        self.chat_notice(ChatNotice::changed(conversation_id));
        Ok(())
    }

    /// The message row and its outbox entry, in one transaction with the activity log; then an
    /// attempt to send at once.
    async fn queue_send(
        &self,
        c: &super::Conversation,
        content: MessageContent,
        request: SendRequest,
    ) -> Result<ChatMessage> {
        let actor = self.actor().await?;
        let conversation_id = c.id;
        let at = self.meta_now_ms();
        let client_id = {
            let mut id = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
            hex::encode(id)
        };
        let json = serde_json::to_string(&request).expect("request serialises");
        let kind = content.kind().to_owned();
        let staff = actor.name.clone();
        let target = if c.customer_name.is_empty() {
            format!("conversation with {}", c.customer)
        } else {
            format!("conversation with {} ({})", c.customer_name, c.customer)
        };
        let reply_to = request.reply_to.clone();
        let message_id = audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Chat, "chat.send", target),
            Ok(()),
            Box::new(move |tx| {
                Box::pin(async move {
                    let id = projection::insert_message(
                        tx,
                        NewMessage {
                            conversation_id,
                            wamid: None,
                            client_id: Some(&client_id),
                            outbound: true,
                            content: &content,
                            reply_to: reply_to.as_deref(),
                            staff_name: Some(&staff),
                            sent_at: at,
                            local_status: "queued",
                            error: None,
                        },
                    )
                    .await?
                    .expect("a fresh client id");
                    let now = crate::now_ms();
                    sqlx::query!(
                        "INSERT INTO chat_sends (message_id, request, next_at) VALUES (?, ?, ?)",
                        id,
                        json,
                        now
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok((id, Some(format!("{kind} message #{id}"))))
                })
            }),
        )
        .await?;
        self.chat_notice(ChatNotice::changed(conversation_id));
        self.drain_chat_sends().await?;
        self.chat_message(message_id).await
    }

    /// A message's media and its bytes: the local copy, the cache, or Meta (with the token).
    async fn media_bytes(&self, message_id: i64) -> Result<(MediaRef, Vec<u8>)> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let content =
            sqlx::query_scalar!("SELECT content FROM chat_messages WHERE id = ?", message_id)
                .fetch_optional(self.db())
                .await?
                .ok_or(ChatError::NoMessage(message_id))?;
        let content: MessageContent =
            serde_json::from_str(&content).map_err(|e| ChatError::Corrupt(e.to_string()))?;
        let media = match content {
            MessageContent::Image { media }
            | MessageContent::Video { media }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media }
            | MessageContent::Sticker { media, .. } => media,
            MessageContent::Template {
                header_document: Some(media),
                ..
            } => media,
            _ => {
                return Err(
                    ChatError::Invalid(format!("message #{message_id} has no media")).into(),
                );
            }
        };
        if let Some(path) = &media.local_path
            && let Ok(bytes) = std::fs::read(path)
        {
            return Ok((media, bytes));
        }
        let id = media
            .media_id
            .clone()
            .ok_or_else(|| ChatError::Media("Meta has no copy of this file".into()))?;
        if id.contains(['/', '\\', '.']) {
            return Err(ChatError::Media(format!("“{id}” is not a media id")).into());
        }
        let cache = self.chat_media_dir().join("cache").join(&id);
        if let Ok(bytes) = std::fs::read(&cache) {
            return Ok((media, bytes));
        }
        let (client, _) = self.graph_client().await?;
        let info = client
            .media_info(&id)
            .await
            .map_err(|e| ChatError::Media(e.to_string()))?;
        let bytes = client
            .download(&info.url)
            .await
            .map_err(|e| ChatError::Media(e.to_string()))?;
        if let Some(dir) = cache.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&cache, &bytes);
        Ok((media, bytes))
    }

    // ---- Send on WhatsApp ------------------------------------------------------------------------

    pub async fn action_templates(&self) -> Result<Vec<ActionTemplate>> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let rows = sqlx::query!("SELECT action, template_id FROM chat_action_templates")
            .fetch_all(self.db())
            .await?;
        Ok(DocumentKind::ALL
            .into_iter()
            .map(|k| ActionTemplate {
                action: k,
                template_id: rows
                    .iter()
                    .find(|r| r.action == k.key())
                    .map(|r| r.template_id),
            })
            .collect())
    }

    /// Sets (or clears) the template an action sends. Administrators only, like the connection.
    pub async fn set_action_template(
        &self,
        action: DocumentKind,
        template_id: Option<i64>,
    ) -> Result<Vec<ActionTemplate>> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("Setting the template per action");
        if let Some(id) = template_id {
            self.template_unchecked(id).await?;
        }
        let key = action.key();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Settings, "chat.action_template", action.label()),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    match template_id {
                        Some(t) => {
                            sqlx::query!(
                                "INSERT INTO chat_action_templates (action, template_id) VALUES (?, ?)
                                 ON CONFLICT (action) DO UPDATE SET template_id = excluded.template_id",
                                key,
                                t
                            )
                            .execute(&mut *tx)
                            .await?;
                        }
                        None => {
                            sqlx::query!("DELETE FROM chat_action_templates WHERE action = ?", key)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    Ok(((), template_id.map(|t| format!("template #{t}"))))
                })
            }),
        )
        .await?;
        self.action_templates().await
    }

    /// "Send on WhatsApp" from a document: opens (or creates) the conversation with the
    /// document's lead or client and sends the action's template with the PDF.
    pub async fn send_document_on_whatsapp(&self, document_id: i64) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let doc = self.document(document_id).await?;
        let template_id = sqlx::query_scalar!(
            "SELECT template_id FROM chat_action_templates WHERE action = ?",
            doc.kind.key().to_owned()
        )
        .fetch_optional(self.db())
        .await?
        .ok_or_else(|| ChatError::NoActionTemplate(doc.kind.label().into()))?;
        let (customer, name) = if let Some(lead_id) = doc.lead_id {
            let lead = self.lead(lead_id).await?;
            let phone = lead.phone.ok_or_else(|| ChatError::NoPhone {
                what: format!("lead “{}”", lead.name),
            })?;
            (phone, lead.name)
        } else if let Some(client_id) = doc.client_id {
            let client = self.client(client_id).await?;
            let person = client
                .contacts
                .iter()
                .filter(|p| p.phone.is_some())
                .max_by_key(|p| p.is_primary)
                .ok_or_else(|| ChatError::NoPhone {
                    what: format!("client “{}” (none of its contact persons)", client.company),
                })?;
            (
                person.phone.clone().unwrap_or_default(),
                person.name.clone(),
            )
        } else {
            return Err(ChatError::NoPhone {
                what: format!("document {}", doc.number),
            }
            .into());
        };
        let (_, ids) = self.graph_client().await?;
        let at = self.meta_now_ms();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let conversation_id =
            projection::ensure_conversation(&mut tx, &customer, &ids.phone_number_id, &name, at)
                .await?;
        tx.commit().await?;
        self.send_template(
            conversation_id,
            SendTemplate {
                template_id,
                document_id: Some(document_id),
            },
        )
        .await
    }
}

/// Meta certainly did not act on the request: it can be sent again without a duplicate.
fn certainly_not_sent(e: &ClientError) -> bool {
    match e {
        ClientError::Transport { connect, .. } => *connect,
        ClientError::Graph { .. } => matches!(e.retry(), Retry::Soon | Retry::Later),
        ClientError::Http { status, .. } => *status == 429 || *status == 503,
        _ => false,
    }
}

fn lookup(
    texts: &BTreeMap<String, String>,
    pdf: &Option<(PathBuf, String)>,
    key: &str,
    media_id: &str,
) -> Option<Value_> {
    if key == "document.pdf" {
        return pdf.as_ref().map(|(_, name)| Value_::Media {
            id: media_id.to_owned(),
            filename: Some(name.clone()),
        });
    }
    texts.get(key).map(|v| Value_::Text(v.clone()))
}

/// The template's body as the customer reads it, with the values in place.
fn render_body(
    def: &TemplateDef,
    bindings: &[Binding],
    texts: &BTreeMap<String, String>,
) -> String {
    let Some(mut body) = def.components.iter().find_map(|c| match c {
        ComponentDef::Body { text, .. } => Some(text.clone()),
        _ => None,
    }) else {
        return String::new();
    };
    for b in bindings {
        if b.variable.place != VariablePlace::Body {
            continue;
        }
        let value = match &b.source {
            crate::templates::Source::Text { value } => value.clone(),
            crate::templates::Source::Field { key } => texts.get(key).cloned().unwrap_or_default(),
        };
        body = body.replace(&format!("{{{{{}}}}}", b.variable.key), &value);
    }
    body
}

/// Uploads what needs uploading and sends; returns Meta's message id.
async fn deliver(
    client: &crate::meta::client::GraphClient,
    request: &SendRequest,
    content: &mut MessageContent,
) -> std::result::Result<String, ClientError> {
    let pnid = &request.phone_number_id;
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| ClientError::Decode {
            url: path.display().to_string(),
            reason: format!("the file to send cannot be read: {e}"),
        })
    };
    let body = match &request.body {
        RequestBody::Text { body } => Body::Text {
            text: Text {
                body: body.clone(),
                preview_url: body.contains("https://"),
            },
        },
        RequestBody::Media {
            kind,
            path,
            mime_type,
            filename,
            caption,
        } => {
            let id = client
                .upload_media(pnid, filename, mime_type, read(path)?)
                .await?;
            if let MessageContent::Image { media }
            | MessageContent::Video { media }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media } = content
            {
                media.media_id = Some(id.clone());
            }
            let media = Media {
                id: Some(id),
                caption: caption.clone().filter(|_| kind != "audio"),
                filename: (kind == "document").then(|| filename.clone()),
                ..Default::default()
            };
            match kind.as_str() {
                "image" => Body::Image { image: media },
                "video" => Body::Video { video: media },
                "audio" => Body::Audio { audio: media },
                _ => Body::Document { document: media },
            }
        }
        RequestBody::Template {
            definition,
            bindings,
            texts,
            pdf,
        } => {
            let media_id = match pdf {
                Some((path, name)) => {
                    let id = client
                        .upload_media(pnid, name, "application/pdf", read(path)?)
                        .await?;
                    if let MessageContent::Template {
                        header_document: Some(media),
                        ..
                    } = content
                    {
                        media.media_id = Some(id.clone());
                    }
                    id
                }
                None => String::new(),
            };
            let components = crate::templates::fill(definition, bindings, |key| {
                lookup(texts, pdf, key, &media_id)
            })
            .map_err(|e| ClientError::Decode {
                url: "template".into(),
                reason: e.to_string(),
            })?;
            Body::Template {
                template: Template {
                    name: definition.name.clone(),
                    language: Language {
                        code: definition.language.clone(),
                        policy: None,
                    },
                    components,
                },
            }
        }
    };
    let out = Outbound {
        to: request.to.clone(),
        body,
        context: request
            .reply_to
            .clone()
            .map(|message_id| Context { message_id }),
        biz_opaque_callback_data: None,
    };
    let response = client.send(pnid, &out).await?;
    response
        .messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .ok_or_else(|| ClientError::Decode {
            url: "messages".into(),
            reason: "Meta accepted the message but returned no message id".into(),
        })
}

/// Drains the outbox when woken and every few seconds, on a task of its own.
pub fn start_sender(ws: Arc<Workspace>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run_sender(ws))
}

/// The sender's loop: drains the outbox when woken and every few seconds, forever.
pub async fn run_sender(ws: Arc<Workspace>) {
    loop {
        if let Err(e) = ws.drain_chat_sends().await {
            tracing::warn!(error = %e, "the chat outbox could not be drained");
        }
        tokio::select! {
            _ = ws.chat_runtime().wake.notified() => {
                let now = crate::now_ms();
                let _ = sqlx::query!("UPDATE chat_sends SET next_at = ?", now)
                    .execute(ws.db())
                    .await;
            }
            _ = tokio::time::sleep(Duration::from_secs(3)) => {}
        }
    }
}

/// The file name a saved media gets: the sender's name without any folder, or one made from the
/// message id and the MIME type.
fn save_name(media: &MediaRef, message_id: i64) -> String {
    let given = media
        .filename
        .as_deref()
        .and_then(|f| Path::new(f).file_name())
        .and_then(|f| f.to_str())
        .map(|f| f.trim().trim_start_matches('.'))
        .filter(|f| !f.is_empty());
    match given {
        Some(f) => f.to_string(),
        None => {
            let ext = media
                .mime_type
                .as_deref()
                .and_then(|m| m.split(';').next())
                .and_then(|m| m.split('/').nth(1))
                .map(|e| match e {
                    "jpeg" => "jpg",
                    "mpeg" => "mp3",
                    "vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
                    "vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
                    "plain" => "txt",
                    other if other.chars().all(|c| c.is_ascii_alphanumeric()) => other,
                    _ => "bin",
                })
                .unwrap_or("bin");
            format!("whatsapp-{message_id}.{ext}")
        }
    }
}
