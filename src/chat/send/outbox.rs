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
    /// A status from Meta names a send by its tag (`biz_opaque_callback_data`, the message's
    /// client id) that this desktop has no answer for (it "may have been sent"): Meta did take
    /// it. The message gets its id, leaves the outbox, and the team hears of it. A send still in
    /// the sender's hands is left to the sender, which has Meta's answer on its way. `false` when
    /// there is no such send.
    pub(crate) async fn settle_send(&self, client_id: &str, wamid: &str) -> Result<bool> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let Some(row) = sqlx::query!(
            r#"UPDATE chat_messages SET wamid = ?, local_status = 'accepted', error = NULL
               WHERE client_id = ? AND wamid IS NULL AND direction = 'out'
                 AND id IN (SELECT message_id FROM chat_sends WHERE uncertain_at IS NOT NULL)
               RETURNING id AS "id!", conversation_id"#,
            wamid,
            client_id
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(false);
        };
        sqlx::query!("DELETE FROM chat_sends WHERE message_id = ?", row.id)
            .execute(&mut *tx)
            .await?;
        let event = sent_event(&mut tx, row.id).await?;
        let sender = Principal::system(SystemTask::ChatSender);
        sync::emit(&mut tx, &sender, "message.sent", &event).await?;
        tx.commit().await?;
        tracing::info!(
            message = row.id,
            "a send whose answer was lost is settled by Meta's status"
        );
        self.outbox_written();
        self.chat_notice(ChatNotice::changed(row.conversation_id));
        Ok(true)
    }

    /// How many sends wait in the outbox.
    pub async fn chat_outbox_len(&self) -> Result<i64> {
        Ok(sqlx::query_scalar!("SELECT count(*) FROM chat_sends")
            .fetch_one(self.db())
            .await?)
    }
    /// Makes the outbox due now (the connection is back) and wakes the sender.
    pub fn chat_retry_now(&self) {
        let chat = self.chat_runtime();
        chat.wake.notify_one();
        chat.wake_automated.notify_one();
    }

    /// Sends people's messages waiting in the outbox, oldest first, until none is left or Meta
    /// cannot be reached. Returns how many went out.
    ///
    /// Each attempt is committed as in flight before Meta is called. Only one drain runs at a
    /// time in each lane of a process, and only one process opens a workspace folder, so an
    /// attempt in flight when this run's first drain starts was left by a run that died before
    /// learning Meta's answer: it is marked "may have been sent", never sent again by itself (a
    /// status webhook settles it).
    pub async fn drain_chat_sends(&self) -> Result<usize> {
        self.drain_lane(Lane::People).await
    }

    /// Sends bots' messages waiting in the outbox, each at its turn in the number's automation
    /// budget (shared with campaigns). Returns how many went out.
    pub async fn drain_automated_sends(&self) -> Result<usize> {
        self.drain_lane(Lane::Automated).await
    }

    /// Marks the attempts an earlier run left in flight, once per open workspace, before either
    /// lane sends: later attempts in flight are this run's own, settled by it.
    async fn orphans_once(&self) -> Result<()> {
        let chat = self.chat_runtime();
        chat.orphans_checked
            .get_or_try_init(|| async {
                let now = self.now_ms();
                let orphaned = sqlx::query!(
                    "UPDATE chat_sends SET uncertain_at = ? WHERE in_flight_at IS NOT NULL AND uncertain_at IS NULL",
                    now
                )
                .execute(self.db())
                .await?
                .rows_affected();
                if orphaned > 0 {
                    tracing::warn!(
                        sends = orphaned,
                        "sends left in flight by an earlier run: waiting for Meta's status, not sending again"
                    );
                }
                Ok::<(), crate::Error>(())
            })
            .await?;
        Ok(())
    }

    async fn drain_lane(&self, lane: Lane) -> Result<usize> {
        let chat = self.chat_runtime();
        let _one_at_a_time = match lane {
            Lane::People => chat.sending.lock().await,
            Lane::Automated => chat.sending_automated.lock().await,
        };
        self.orphans_once().await?;
        let sender = Principal::system(SystemTask::ChatSender);
        let automated = lane == Lane::Automated;
        let mut sent = 0;
        loop {
            let now = self.now_ms();
            let Some(row) = sqlx::query!(
                r#"SELECT s.id AS "id!", s.message_id, s.request, s.attempts, m.conversation_id, m.content,
                          m.client_id, m.sent_at, m.reply_to, c.customer_name
                   FROM chat_sends s JOIN chat_messages m ON m.id = s.message_id
                   JOIN chat_conversations c ON c.id = m.conversation_id
                   WHERE s.next_at <= ? AND s.in_flight_at IS NULL AND (m.bot IS NOT NULL) = ?
                   ORDER BY s.id LIMIT 1"#,
                now,
                automated
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
            // The attempt is on disk before Meta hears of it.
            sqlx::query!(
                "UPDATE chat_sends SET in_flight_at = ? WHERE id = ?",
                now,
                row.id
            )
            .execute(self.db())
            .await?;
            let tag = row.client_id.clone().unwrap_or_default();
            // A bot's reply is automated sending: it takes its turn in the number's automation
            // budget with campaigns, leaving the reserve to people chatting.
            let automated = automated.then(|| self.automation_pacer(&request.phone_number_id));
            if let Some(pacer) = &automated {
                pacer.until_ready().await;
            }
            let outcome = deliver(&client, &request, &mut content, &tag).await;
            if let (Some(pacer), Err(e)) = (&automated, &outcome)
                && e.graph_code() == Some(130429)
            {
                pacer.slow_down();
            }
            if outcome.is_ok() {
                crate::fault::point("after_meta_accepted");
            }
            match outcome {
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
                    sqlx::query!(
                        "DELETE FROM chat_sends WHERE message_id = ?",
                        row.message_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    let event = sent_event(&mut tx, row.message_id).await?;
                    sync::emit(&mut tx, &sender, "message.sent", &event).await?;
                    tx.commit().await?;
                    self.outbox_written();
                    sent += 1;
                }
                Err(e) if e.certainly_not_sent() => {
                    tracing::info!(error = %e, "send kept in the outbox");
                    sqlx::query!(
                        "UPDATE chat_sends SET in_flight_at = NULL WHERE id = ?",
                        row.id
                    )
                    .execute(self.db())
                    .await?;
                    self.send_later(row.id, row.attempts, &e.to_string())
                        .await?;
                    self.chat_notice(ChatNotice::changed(row.conversation_id));
                    return Ok(sent);
                }
                Err(e) if e.maybe_sent() => {
                    // Meta may have acted on it: sending again could reach the customer twice.
                    tracing::warn!(error = %e, "ambiguous answer to a send; not retried");
                    let reason = format!(
                        "Meta's answer was unclear ({e}): it may have been sent. Its status will say; send it again only if the customer did not get it."
                    );
                    let now = self.now_ms();
                    sqlx::query!(
                        "UPDATE chat_sends SET uncertain_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?",
                        now,
                        reason,
                        row.id
                    )
                    .execute(self.db())
                    .await?;
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
    /// Sends again a message that "may have been sent" ([`MessageStatus::Uncertain`]), once the
    /// person who sees it has decided the customer did not get it. If Meta did take the first
    /// attempt, the customer gets it twice: the UI asks before calling this.
    pub async fn send_again(&self, message_id: i64) -> Result<ChatMessage> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappChat, Action::Send);
        let m = self.chat_message(message_id).await?;
        if allowed.is_ok() && m.status != MessageStatus::Uncertain {
            return Err(ChatError::Invalid(format!(
                "message #{message_id} is not waiting for a decision: only a message that may have been sent can be sent again"
            ))
            .into());
        }
        let now = self.now_ms();
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Chat,
                "chat.send_again",
                format!("message #{message_id}"),
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    sqlx::query!(
                        "UPDATE chat_sends SET in_flight_at = NULL, uncertain_at = NULL, last_error = NULL, next_at = ?
                         WHERE message_id = ? AND uncertain_at IS NOT NULL",
                        now,
                        message_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok(((), Some("sent again after it may have been sent".to_owned())))
                })
            }),
        )
        .await?;
        self.chat_notice(ChatNotice::changed(m.conversation_id));
        self.chat_runtime().wake_automated.notify_one();
        self.drain_chat_sends().await?;
        self.chat_message(message_id).await
    }

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
        let bot = match &actor.actor {
            crate::permissions::Actor::Bot { name, .. } => Some(name.clone()),
            _ => None,
        };
        let is_bot = bot.is_some();
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
                            bot: bot.as_deref(),
                            sent_at: at,
                            local_status: "queued",
                            error: None,
                            marks: None,
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
        if is_bot {
            // A bot's message waits its turn in the automation budget on the sender's own lane:
            // the bot goes on with the next conversation meanwhile.
            self.chat_runtime().wake_automated.notify_one();
        } else {
            self.drain_chat_sends().await?;
        }
        self.chat_message(message_id).await
    }
}

/// The `message.sent` event of a message Meta accepted, as the rest of the team applies it: no
/// path of this desktop, no sender's name (the relay stamps who published).
async fn sent_event(
    conn: &mut sqlx::SqliteConnection,
    message_id: i64,
) -> Result<serde_json::Value> {
    let m = sqlx::query!(
        r#"SELECT m.client_id, m.wamid, m.content, m.reply_to, m.sent_at, m.bot,
                  c.customer, c.customer_name, c.phone_number_id
           FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id
           WHERE m.id = ?"#,
        message_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let content: MessageContent = serde_json::from_str(&m.content)
        .map_err(|e| ChatError::Corrupt(format!("message #{message_id}: {e}")))?;
    Ok(json!({
        "client_id": m.client_id,
        "wamid": m.wamid,
        "customer": m.customer,
        "customer_name": m.customer_name,
        "phone_number_id": m.phone_number_id,
        "content": content.without_local_path(),
        "reply_to": m.reply_to,
        "sent_at": m.sent_at,
        "bot": m.bot,
    }))
}

/// Uploads what needs uploading and sends; returns Meta's message id.
/// `tag` goes to Meta as `biz_opaque_callback_data`, which it echoes in the message's status
/// webhooks: a send whose answer was lost is recognised by it.
pub(super) async fn deliver(
    client: &crate::meta::client::GraphClient,
    request: &SendRequest,
    content: &mut MessageContent,
    tag: &str,
) -> std::result::Result<String, ClientError> {
    let pnid = &request.phone_number_id;
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| ClientError::Decode {
            url: path.display().to_string(),
            reason: format!("the file to send cannot be read: {e}"),
        })
    };
    let body = match &request.body {
        RequestBody::Prepared { body } => body.clone(),
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
        biz_opaque_callback_data: (!tag.is_empty()).then(|| tag.to_owned()),
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

/// A lane of the outbox: people's sends, or automated ones paced by the automation budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    People,
    Automated,
}

/// The sender's loops, one per lane: each drains its sends when woken and every few seconds,
/// forever.
pub async fn run_sender(ws: Arc<Workspace>) {
    tokio::join!(
        run_lane(ws.clone(), Lane::People),
        run_lane(ws, Lane::Automated)
    );
}

async fn run_lane(ws: Arc<Workspace>, lane: Lane) {
    loop {
        let clock = ws.clock();
        let chat = ws.chat_runtime();
        if let Err(e) = ws.drain_lane(lane).await {
            tracing::warn!(error = %e, ?lane, "the chat outbox could not be drained");
        }
        let wake = match lane {
            Lane::People => &chat.wake,
            Lane::Automated => &chat.wake_automated,
        };
        tokio::select! {
            _ = wake.notified() => {
                let now = ws.now_ms();
                let _ = sqlx::query!("UPDATE chat_sends SET next_at = ?", now)
                    .execute(ws.db())
                    .await;
            }
            _ = clock.sleep(Duration::from_secs(3)) => {}
        }
    }
}
