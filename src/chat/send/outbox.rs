//! The chat outbox: a send is a message row plus an outbox entry, written together; the sender
//! drains the outbox at once when Meta can be reached, and later when it could not. A send is
//! retried only when Meta certainly did not get it, so a send made offline goes out exactly once.

use super::*;

impl Workspace {
    pub(super) async fn send_later(&self, id: i64, attempts: i64, error: &str) -> Result<()> {
        let wait = (2_i64.saturating_pow(attempts.clamp(0, 8) as u32) * 1000).min(60_000);
        let next = self.now_ms() + wait;
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
    /// Sends what waits in the outbox, oldest first, until it is empty or Meta cannot be reached.
    /// Returns how many went out.
    pub async fn drain_chat_sends(&self) -> Result<usize> {
        let chat = self.chat_runtime();
        let _one_at_a_time = chat.sending.lock().await;
        let sender = Principal::system(SystemTask::ChatSender);
        let mut sent = 0;
        loop {
            let now = self.now_ms();
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
                        "content": content.clone().without_local_path(),
                        "reply_to": row.reply_to,
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
    /// The message row and its outbox entry, in one transaction with the activity log; then an
    /// attempt to send at once.
    pub(super) async fn queue_send(
        &self,
        c: &crate::chat::Conversation,
        content: MessageContent,
        request: SendRequest,
    ) -> Result<ChatMessage> {
        let actor = self.actor().await?;
        let conversation_id = c.id;
        let at = self.now_ms();
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
                    sqlx::query!(
                        "INSERT INTO chat_sends (message_id, request, next_at) VALUES (?, ?, ?)",
                        id,
                        json,
                        at
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
}

/// Meta certainly did not act on the request: it can be sent again without a duplicate.
pub(super) fn certainly_not_sent(e: &ClientError) -> bool {
    match e {
        ClientError::Transport { connect, .. } => *connect,
        ClientError::Graph { .. } => matches!(e.retry(), Retry::Soon | Retry::Later),
        ClientError::Http { status, .. } => *status == 429 || *status == 503,
        _ => false,
    }
}

/// Uploads what needs uploading and sends; returns Meta's message id.
pub(super) async fn deliver(
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
        let clock = ws.clock();
        let chat = ws.chat_runtime();
        if let Err(e) = ws.drain_chat_sends().await {
            tracing::warn!(error = %e, "the chat outbox could not be drained");
        }
        tokio::select! {
            _ = chat.wake.notified() => {
                let now = ws.now_ms();
                let _ = sqlx::query!("UPDATE chat_sends SET next_at = ?", now)
                    .execute(ws.db())
                    .await;
            }
            _ = clock.sleep(Duration::from_secs(3)) => {}
        }
    }
}
