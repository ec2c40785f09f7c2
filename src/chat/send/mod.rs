//! Sending, split by concern: [`outbox`] (the message row and its outbox entry, the sender),
//! [`merge`] (merge fields for any lead, client or contact), [`media`] (uploads, received media).
//!
//! Every send is a message row plus an outbox entry, written together; the outbox is
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
use super::{ChatError, ChatMessage, ChatNotice, MessageStatus};
use crate::audit::{self, Change};
use crate::documents::DocumentKind;
use crate::meta::client::ClientError;
use crate::meta::messages::{self, Body, Context, Language, Media, Outbound, Template, Text};
use crate::meta::templates::{ComponentDef, TemplateDef, VariablePlace};
use crate::permissions::{Action, Principal, Resource, SystemTask};
use crate::screens::Screen;
use crate::templates::{Binding, Value_};
use crate::workspace::{Ctx, Workspace};
use crate::{Result, sync, uploads};
use crmconnect_events::payloads::{ActionTemplateSet, TemplateRef};

mod fill;
mod media;
mod merge;
mod outbox;

pub use fill::{FillValue, REPEAT_WINDOW_MS, TemplateFill};
pub use merge::MergeTarget;
use merge::lookup;
pub use outbox::{run_sender, start_sender};

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
    /// Values typed for this send, by variable id (`body:1`: [`FillValue::id`]); they win over
    /// the template's mapping, and fill variables it leaves unmapped.
    #[serde(default)]
    #[ts(optional)]
    pub values: Option<BTreeMap<String, String>>,
    /// Send even though the same message went to this customer moments ago.
    #[serde(default)]
    #[ts(optional)]
    pub again: Option<bool>,
}

/// "Send on WhatsApp" from a document, before it is sent: to whom, and the template as it will go.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DocumentSend {
    /// "Invoice INV-2026-001".
    pub document: String,
    pub to_name: String,
    pub to_phone: String,
    pub fill: TemplateFill,
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
    /// A message made whole by its author (a bot): sent as it is.
    Prepared {
        body: Body,
    },
}

impl Workspace {
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
}

impl Ctx<'_> {
    async fn open_window_or_refuse(&self, conversation_id: i64) -> Result<super::Conversation> {
        let detail = self.conversation(conversation_id).await?;
        if !detail.window_open {
            return Err(ChatError::WindowClosed.into());
        }
        Ok(detail.conversation)
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

    /// Sends a message made whole by its author (a bot's question, link button or template), after
    /// checking Meta's limits; free-form messages only while the window is open.
    pub async fn send_prepared(&self, conversation_id: i64, body: Body) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let c = match &body {
            Body::Template { .. } => self.conversation(conversation_id).await?.conversation,
            _ => self.open_window_or_refuse(conversation_id).await?,
        };
        let to = projection::recipient(&c.customer);
        Outbound {
            to: to.clone(),
            body: body.clone(),
            context: None,
            biz_opaque_callback_data: None,
        }
        .validate()
        .map_err(|e| ChatError::Invalid(e.to_string()))?;
        let content = prepared_content(&body);
        let request = SendRequest {
            to,
            phone_number_id: c.phone_number_id.clone(),
            reply_to: None,
            body: RequestBody::Prepared { body },
        };
        self.queue_send(&c, content, request).await
    }

    /// Sends a file the webview handed over, after checking Meta's type and size limits.
    pub async fn send_media(&self, conversation_id: i64, input: SendMedia) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let upload = uploads::path(self, &input.upload, uploads::UploadPurpose::ChatMedia)?;
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
        let target = MergeTarget::of(&detail);
        let fill::Prepared {
            def,
            bindings,
            texts,
            pdf,
            fill,
        } = self.prepare_template(target, &actor.name, &input).await?;
        if !fill.missing.is_empty() {
            return Err(ChatError::Missing(fill.missing.join("; ")).into());
        }
        if def.category.eq_ignore_ascii_case("AUTHENTICATION")
            && crate::meta::messages::is_user_id(&detail.conversation.customer)
        {
            return Err(ChatError::AuthenticationNeedsPhone {
                template: fill.name,
            }
            .into());
        }
        crate::templates::fill(&def, &bindings, |key| lookup(&texts, &pdf, key, "pending"))?;
        let body =
            crate::templates::render_body(&def, &bindings, |k| texts.get(k).map(String::as_str));
        let header_document = pdf.as_ref().map(|(path, name)| MediaRef {
            media_id: None,
            mime_type: Some("application/pdf".into()),
            filename: Some(name.clone()),
            caption: None,
            local_path: Some(path.display().to_string()),
        });
        let content = MessageContent::Template {
            name: fill.name,
            language: fill.language,
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
                bindings,
                texts,
                pdf,
            },
        };
        // One check-and-queue at a time, so a double click cannot pass the check twice.
        let chat = self.chat_runtime();
        let _one_at_a_time = chat.queueing.lock().await;
        if input.again != Some(true)
            && let Some(ago) = self.sent_moments_ago(c.id, &content).await?
        {
            return Err(ChatError::Repeat {
                seconds: ago / 1000,
            }
            .into());
        }
        self.queue_send(&c, content, request).await
    }

    /// A template as it would go in this conversation, with `input`'s typed values: the filled
    /// body, each value and where it comes from, and what is missing. Nothing is sent.
    pub async fn template_fill(
        &self,
        conversation_id: i64,
        input: SendTemplate,
    ) -> Result<TemplateFill> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::Send)?;
        let detail = self.conversation(conversation_id).await?;
        let target = MergeTarget::of(&detail);
        Ok(self
            .prepare_template(target, &actor.name, &input)
            .await?
            .fill)
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
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Settings, "chat.action_template", action.label()),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    // The team's setting: every desktop names the template by name and language.
                    let template = match template_id {
                        Some(t) => {
                            let state = crate::templates::shared::state(tx, t).await?;
                            Some(TemplateRef {
                                name: state.name,
                                language: state.language,
                            })
                        }
                        None => None,
                    };
                    let event = ActionTemplateSet {
                        action: key.to_owned(),
                        template,
                    };
                    let payload = serde_json::to_value(&event).expect("a setting serialises");
                    crate::outbox::emit(tx, &publisher, "action_template.set", &payload).await?;
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
        self.outbox_written();
        self.action_templates().await
    }

    /// Whom "Send on WhatsApp" sends a document to: the lead, or the client's contact person
    /// with a phone (the primary one first); with their record for the merge fields.
    async fn document_recipient(
        &self,
        doc: &crate::documents::Document,
    ) -> Result<(String, String, Option<super::LinkedRecord>)> {
        let mut conn = self.db().acquire().await?;
        if let Some(lead_id) = doc.lead_id {
            let lead = self.lead(lead_id).await?;
            let phone = lead.phone.ok_or_else(|| ChatError::NoPhone {
                what: format!("the lead “{}”", lead.name),
            })?;
            let record = crate::leads::brief(&mut conn, lead_id)
                .await?
                .map(super::LinkedRecord::Lead);
            Ok((phone, lead.name, record))
        } else if let Some(client_id) = doc.client_id {
            let client = self.client(client_id).await?;
            let person = client
                .contacts
                .iter()
                .filter(|p| p.phone.is_some())
                .max_by_key(|p| p.is_primary)
                .ok_or_else(|| ChatError::NoPhone {
                    what: format!(
                        "the client “{}” (none of its contact persons)",
                        client.company
                    ),
                })?;
            let record = crate::clients::person_brief(&mut conn, person.id)
                .await?
                .map(super::LinkedRecord::ClientContact);
            Ok((
                person.phone.clone().unwrap_or_default(),
                person.name.clone(),
                record,
            ))
        } else {
            Err(ChatError::NoPhone {
                what: format!(
                    "{} {} (it has no lead or client)",
                    doc.kind.label(),
                    doc.number
                ),
            }
            .into())
        }
    }

    async fn action_template_of(&self, doc: &crate::documents::Document) -> Result<i64> {
        Ok(sqlx::query_scalar!(
            "SELECT template_id FROM chat_action_templates WHERE action = ?",
            doc.kind.key().to_owned()
        )
        .fetch_optional(self.db())
        .await?
        .ok_or_else(|| ChatError::NoActionTemplate(doc.kind.label().into()))?)
    }

    /// "Send on WhatsApp" from a document, before anything is sent: to whom, and the action's
    /// template as it will go (with `values` typed for this send).
    pub async fn document_send_preview(
        &self,
        document_id: i64,
        values: Option<BTreeMap<String, String>>,
    ) -> Result<DocumentSend> {
        let actor = self.actor().await?;
        actor.require(Resource::WhatsappChat, Action::Send)?;
        let doc = self.document(document_id).await?;
        let template_id = self.action_template_of(&doc).await?;
        let (phone, name, record) = self.document_recipient(&doc).await?;
        let target = MergeTarget {
            phone: &phone,
            profile_name: &name,
            record: record.as_ref(),
        };
        let input = SendTemplate {
            template_id,
            document_id: Some(document_id),
            values,
            again: None,
        };
        let fill = self
            .prepare_template(target, &actor.name, &input)
            .await?
            .fill;
        Ok(DocumentSend {
            document: format!("{} {}", doc.kind.label(), doc.number),
            to_name: name,
            to_phone: phone,
            fill,
        })
    }

    /// "Send on WhatsApp" from a document: opens (or creates) the conversation with the
    /// document's lead or client and sends the action's template with the PDF. The same document
    /// again within [`REPEAT_WINDOW_MS`] is refused unless `again`.
    pub async fn send_document_on_whatsapp(
        &self,
        document_id: i64,
        values: Option<BTreeMap<String, String>>,
        again: bool,
    ) -> Result<ChatMessage> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::Send)?;
        let doc = self.document(document_id).await?;
        let template_id = self.action_template_of(&doc).await?;
        let (customer, name, _) = self.document_recipient(&doc).await?;
        let (_, ids) = self.graph_client().await?;
        let at = self.now_ms();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let conversation_id = projection::ensure_conversation(
            &mut tx,
            &customer,
            &ids.phone_number_id,
            &name,
            "WhatsApp",
            at,
        )
        .await?;
        tx.commit().await?;
        self.send_template(
            conversation_id,
            SendTemplate {
                template_id,
                document_id: Some(document_id),
                values,
                again: Some(again),
            },
        )
        .await
    }
}

inventory::submit! { crate::handlers::DefaultHandler { order: 23, make: action_templates_handler } }

/// An administrator's template per action, set on another desktop of the team (or this one, back
/// from the log): the same template, found here by its name and language. A template this desktop
/// does not have (deleted since) leaves the action without one, as on every other desktop.
pub fn action_templates_handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a crate::workspace::Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if e.kind != "action_template.set" {
                return Ok(());
            }
            let Some(set) =
                crate::handlers::read_payload::<ActionTemplateSet>(e, ActionTemplateSet::problem)
            else {
                return Ok(());
            };
            let mut tx = crate::db::write_tx_in(ws.db()).await?;
            let what = format!("template for {}", set.action);
            if !crate::staff::shared::author_allowed(&mut tx, e, Screen::Settings, what).await? {
                tx.commit().await?;
                return Ok(());
            }
            let template_id = match &set.template {
                Some(t) => {
                    crate::templates::shared::id_by_name(&mut tx, &t.name, &t.language).await?
                }
                None => None,
            };
            match template_id {
                Some(t) => {
                    sqlx::query!(
                        "INSERT INTO chat_action_templates (action, template_id) VALUES (?, ?)
                         ON CONFLICT (action) DO UPDATE SET template_id = excluded.template_id",
                        set.action,
                        t
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query!(
                        "DELETE FROM chat_action_templates WHERE action = ?",
                        set.action
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            ws.records_changed(Screen::Settings);
            Ok(())
        })
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "template per action",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

/// How a prepared message reads in the thread.
fn prepared_content(body: &Body) -> MessageContent {
    use messages::Interactive;
    let media = |m: &Media| MediaRef {
        media_id: m.id.clone(),
        mime_type: None,
        filename: m.filename.clone().or_else(|| m.link.clone()),
        caption: m.caption.clone(),
        local_path: None,
    };
    match body {
        Body::Text { text } => MessageContent::Text {
            body: text.body.clone(),
        },
        Body::Image { image } => MessageContent::Image {
            media: media(image),
        },
        Body::Video { video } => MessageContent::Video {
            media: media(video),
        },
        Body::Audio { audio } => MessageContent::Audio {
            media: media(audio),
            voice: false,
        },
        Body::Document { document } => MessageContent::Document {
            media: media(document),
        },
        Body::Template { template } => MessageContent::Template {
            name: template.name.clone(),
            language: template.language.code.clone(),
            body: template
                .components
                .iter()
                .flat_map(|c| c.parameters.iter())
                .filter_map(|p| {
                    serde_json::to_value(p).ok()?["text"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect::<Vec<_>>()
                .join(" · "),
            header_document: None,
        },
        Body::Interactive { interactive } => {
            let (style, body, options, url) = match interactive {
                Interactive::Button { body, action, .. } => (
                    "buttons",
                    body.text.clone(),
                    action
                        .buttons
                        .iter()
                        .map(|b| b.reply.title.clone())
                        .collect(),
                    None,
                ),
                Interactive::List { body, action, .. } => (
                    "list",
                    body.text.clone(),
                    action
                        .sections
                        .iter()
                        .flat_map(|s| s.rows.iter().map(|r| r.title.clone()))
                        .collect(),
                    None,
                ),
                Interactive::CtaUrl { body, action, .. } => (
                    "cta_url",
                    body.text.clone(),
                    vec![action.parameters.display_text.clone()],
                    Some(action.parameters.url.clone()),
                ),
                Interactive::RequestContactInfo { body, .. } => {
                    ("request_contact_info", body.text.clone(), Vec::new(), None)
                }
            };
            MessageContent::Interactive {
                style: style.into(),
                body,
                options,
                url,
            }
        }
        other => MessageContent::Unsupported {
            kind: serde_json::to_value(other)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            detail: None,
        },
    }
}
