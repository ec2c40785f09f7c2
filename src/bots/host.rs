//! Bots at work: the automation handler. It runs only on the replica that holds the workspace's
//! automation lease (the runner, or a desktop working alone), so five desktops that receive one
//! message answer it once.
//!
//! For each customer message the chat applied: the conversation's live session takes it, or the
//! first active bot whose trigger matches starts one (pinned to its published version), or the
//! fallback bot when nothing else answers. The engine's actions are carried out here: messages go
//! through the chat as the bot, timers are stored (and fired by [`run_timers`]), a hand-off
//! assigns or notifies and stops the bot. A person writing (from a desktop or the phone) or taking
//! the conversation ends its session: a bot never talks over a person.

use std::sync::Arc;
use std::time::Duration;

use sqlx::SqliteConnection;

use super::{BotsError, shared};
use crate::Result;
use crate::audit::{self, Change, Outcome};
use crate::chat::ChatNotice;
use crate::chat::automation::{ChatActivity, CustomerMessage};
use crate::meta::messages::{Body, Interactive, Language, Media, Template, Text};
use crate::permissions::{Actor, Principal, SystemTask};
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;
use crmconnect_flow::engine::{self, End, Inbound, Input, Limits, Message, Session};
use crmconnect_flow::model::{ContactChange, HandOffTarget, MediaKind};
use crmconnect_flow::trigger::Incoming;
use crmconnect_flow::{Action, Program, World};

/// Customer messages older than this (a replica catching up) are history: no bot answers them.
const ANSWER_WITHIN_MS: i64 = 10 * 60 * 1000;
/// After a person wrote to the customer, no bot starts for this long.
const PERSON_QUIET_MS: i64 = 24 * 3600 * 1000;

/// A customer's messages within this long of their first are one turn (people write in bursts:
/// "hi", "I have a question", "about my order"), so a bot answers once, not three times.
pub const DEBOUNCE_MS: i64 = 1_500;

inventory::submit! { crate::handlers::DefaultHandler { order: 90, make: handler } }

/// The bots' handler: automation only, after the chat's projection.
pub fn handler() -> Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    Arc::new(crate::handlers::FnHandler {
        name: "bot host",
        scope: crate::handlers::Scope::AutomationOnly,
        apply,
    })
}

/// A live session as stored.
struct Live {
    id: i64,
    bot_uid: String,
    version: i64,
    session: Session,
    conversation_id: i64,
    started_at: i64,
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    let Some(activity) = ws.chat_activity(e).await? else {
        return Ok(());
    };
    let _turn = ws.ext::<TurnLock>().0.clone().lock_owned().await;
    match activity {
        ChatActivity::Person { conversation_id } => {
            if let Some(live) = live_session(ws, conversation_id).await? {
                run(ws, live, Input::PersonActive).await?;
            }
        }
        ChatActivity::Customer(m) => burst(ws, *m).await?,
        ChatActivity::BotMessageFailed {
            message_id,
            code,
            reason,
        } => {
            let sent = sqlx::query!(
                "SELECT session_id, send, node FROM bot_sends WHERE message_id = ?",
                message_id
            )
            .fetch_optional(ws.db())
            .await?;
            if let Some(s) = sent
                && let Some(live) = session_by_id(ws, s.session_id).await?
            {
                let input = Input::SendFailed {
                    send: s.send as u32,
                    node: s.node as u16,
                    code: code as u32,
                    reason,
                };
                run(ws, live, input).await?;
            }
        }
    }
    Ok(())
}

/// One turn at a time in the workspace (the handler, timers and results take turns).
#[derive(Default)]
struct TurnLock(Arc<tokio::sync::Mutex<()>>);

/// A customer's message joins their conversation's burst, which is answered as one turn once
/// [`DEBOUNCE_MS`] have passed since its first message ([`fire_due`]).
async fn burst(ws: &Workspace, m: CustomerMessage) -> Result<()> {
    if ws.now_ms() - m.at > ANSWER_WITHIN_MS {
        return Ok(());
    }
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let waiting = sqlx::query_scalar!(
        "SELECT messages FROM bot_bursts WHERE conversation_id = ?",
        m.conversation_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let mut messages: Vec<CustomerMessage> = waiting
        .and_then(|w| serde_json::from_str(&w).ok())
        .unwrap_or_default();
    // The same message applied twice (a replayed event) is in the burst once.
    if !messages.iter().any(|x| x.wamid == m.wamid) {
        messages.push(m.clone());
    }
    let json = serde_json::to_string(&messages).expect("messages serialise");
    let due = ws.now_ms() + DEBOUNCE_MS;
    sqlx::query!(
        "INSERT INTO bot_bursts (conversation_id, messages, due_at) VALUES (?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET messages = excluded.messages",
        m.conversation_id,
        json,
        due
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Answers the bursts that are due, each as one turn.
async fn fire_bursts(ws: &Workspace) -> Result<usize> {
    let now = ws.now_ms();
    let due = sqlx::query!(
        r#"SELECT conversation_id AS "conversation_id!", messages FROM bot_bursts
           WHERE due_at <= ? ORDER BY due_at LIMIT 200"#,
        now
    )
    .fetch_all(ws.db())
    .await?;
    for b in &due {
        sqlx::query!(
            "DELETE FROM bot_bursts WHERE conversation_id = ?",
            b.conversation_id
        )
        .execute(ws.db())
        .await?;
        let messages: Vec<CustomerMessage> = serde_json::from_str(&b.messages).unwrap_or_default();
        if !messages.is_empty() {
            customer(ws, messages).await?;
        }
    }
    Ok(due.len())
}

/// A customer's burst of messages (one or more, in order), as one turn.
async fn customer(ws: &Workspace, burst: Vec<CustomerMessage>) -> Result<()> {
    let m = burst[0].clone();
    let live = live_session(ws, m.conversation_id).await?;
    if burst.iter().any(|x| x.assigned) || ws.conversation_assigned(m.conversation_id).await? {
        // A person has the conversation: the bot stays silent (and stops, if it was on).
        if let Some(live) = live {
            run(ws, live, Input::PersonActive).await?;
        }
        return Ok(());
    }
    let person_at = ws.last_person_message_at(m.conversation_id).await?;
    let inbound: Vec<Inbound> = burst
        .iter()
        .map(|m| Inbound {
            id: m.wamid.clone(),
            text: m.text.clone(),
            reply: m.reply.clone(),
            phone: m.phone.clone(),
        })
        .collect();
    if let Some(live) = live {
        // A person wrote since the bot started (their message may not be in the log yet).
        if person_at.is_some_and(|at| at >= live.started_at) {
            return run(ws, live, Input::PersonActive).await;
        }
        return run(ws, live, Input::Inbound(&inbound)).await;
    }
    // A person spoke here lately: no bot starts over them (until a day of quiet).
    if person_at.is_some_and(|at| ws.now_ms() - at < PERSON_QUIET_MS) {
        return Ok(());
    }
    // The first message of the burst that triggers a bot picks it ("hi", then "price?").
    let mut bot = None;
    for x in &burst {
        bot = pick(ws, x, false).await?;
        if bot.is_some() {
            break;
        }
    }
    let bot = match bot {
        Some(b) => Some(b),
        None => pick(ws, &m, true).await?,
    };
    let Some(bot) = bot else {
        return Ok(());
    };
    let live = start(ws, &bot, m.conversation_id).await?;
    run(ws, live, Input::Begin(&inbound)).await
}

/// The bot that answers `m`: the first active one (by name) whose trigger matches on its number,
/// else (`fallback`) the fallback.
async fn pick(
    ws: &Workspace,
    m: &CustomerMessage,
    fallback: bool,
) -> Result<Option<shared::ActiveBot>> {
    let mut conn = ws.db().acquire().await?;
    let bots = shared::active_on(&mut conn, &m.phone_number_id).await?;
    drop(conn);
    let incoming = Incoming {
        text: &m.text,
        payload: m.payload.as_deref(),
        ad: m.ad.as_deref(),
        first: m.first,
    };
    for b in bots.iter().filter(|b| b.kind != "fallback") {
        let Ok(trigger) = serde_json::from_str::<crmconnect_flow::trigger::Trigger>(&b.trigger)
        else {
            continue;
        };
        if trigger.matcher().is_ok_and(|t| t.matches(&incoming)) {
            return Ok(Some(b.clone()));
        }
    }
    Ok(bots.into_iter().find(|b| fallback && b.kind == "fallback"))
}

async fn start(ws: &Workspace, bot: &shared::ActiveBot, conversation_id: i64) -> Result<Live> {
    let now = ws.now_ms();
    let session = Session::new();
    let state = serde_json::to_string(&session).expect("a session serialises");
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO bot_sessions (conversation_id, bot_uid, version, state, started_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        conversation_id,
        bot.uid,
        bot.version,
        state,
        now,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::insert(
        &mut tx,
        &Principal::bot(bot.id, &bot.name),
        &Change::new(
            Screen::Bots,
            "bots.triggered",
            format!("bot “{}”", bot.name),
        ),
        Outcome::Ok,
        Some(&format!(
            "conversation #{conversation_id}, version {}",
            bot.version
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(Live {
        id,
        bot_uid: bot.uid.clone(),
        version: bot.version,
        session,
        conversation_id,
        started_at: now,
    })
}

async fn live_session(ws: &Workspace, conversation_id: i64) -> Result<Option<Live>> {
    let row = sqlx::query!(
        r#"SELECT id AS "id!", bot_uid, version, state, started_at FROM bot_sessions WHERE conversation_id = ? AND ended IS NULL"#,
        conversation_id
    )
    .fetch_optional(ws.db())
    .await?;
    Ok(row.and_then(|r| {
        let session = serde_json::from_str(&r.state).ok()?;
        Some(Live {
            id: r.id,
            bot_uid: r.bot_uid,
            version: r.version,
            session,
            conversation_id,
            started_at: r.started_at,
        })
    }))
}

async fn session_by_id(ws: &Workspace, id: i64) -> Result<Option<Live>> {
    let row = sqlx::query!(
        r#"SELECT conversation_id, bot_uid, version, state, started_at FROM bot_sessions WHERE id = ? AND ended IS NULL"#,
        id
    )
    .fetch_optional(ws.db())
    .await?;
    Ok(row.and_then(|r| {
        let session = serde_json::from_str(&r.state).ok()?;
        Some(Live {
            id,
            bot_uid: r.bot_uid,
            version: r.version,
            session,
            conversation_id: r.conversation_id,
            started_at: r.started_at,
        })
    }))
}

/// The program of a bot's published version, and the bot (by uid) as stored now.
async fn program_of(
    conn: &mut SqliteConnection,
    uid: &str,
    version: i64,
) -> Result<Option<(Program, i64, String)>> {
    let Some(row) = sqlx::query!(
        r#"SELECT b.id AS "id!", b.name, v.flow FROM bot_versions v JOIN bots b ON b.uid = v.bot_uid
           WHERE v.bot_uid = ? AND v.version = ?"#,
        uid,
        version
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let Ok(flow) = serde_json::from_str::<crmconnect_flow::Flow>(&row.flow) else {
        return Ok(None);
    };
    Ok(crmconnect_flow::compile(&flow)
        .ok()
        .map(|p| (p, row.id, row.name)))
}

/// What the engine reads of the conversation.
struct Conversation {
    now: u64,
    window_open: bool,
    hours: super::BusinessHours,
    fields: Vec<(String, String)>,
}

impl World for Conversation {
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn window_open(&self) -> bool {
        self.window_open
    }
    fn business_hours(&self) -> bool {
        // The workspace's hours (Settings → Bots), in its time zone.
        self.hours.open_at(self.now as i64)
    }
    fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Runs `input` on the session, carries out the actions (feeding back what they answer at once),
/// and stores the session.
async fn run(ws: &Workspace, mut live: Live, input: Input<'_>) -> Result<()> {
    let mut conn = ws.db().acquire().await?;
    let Some((program, bot_id, bot_name)) =
        program_of(&mut conn, &live.bot_uid, live.version).await?
    else {
        // The bot or its version is gone (deleted by a teammate): the session ends quietly.
        end_row(&mut conn, live.id, &End::Finished, 0).await?;
        return Ok(());
    };
    drop(conn);
    let limits = Limits::default();
    let mut sent = 0i64;
    let mut go_to: Option<String> = None;
    let mut pending: Vec<Input<'static>> = Vec::new();
    let mut first = Some(input);
    let hours = super::hours::load(&mut *ws.db().acquire().await?).await?;
    loop {
        let world = Conversation {
            now: ws.now_ms().max(0) as u64,
            window_open: ws.window_open(live.conversation_id).await?,
            hours: hours.clone(),
            fields: ws.conversation_fields(live.conversation_id).await?,
        };
        let actions = match first.take() {
            Some(input) => engine::turn(&program, &limits, &mut live.session, input, &world),
            None => match pending.pop() {
                Some(input) => engine::turn(&program, &limits, &mut live.session, input, &world),
                None => break,
            },
        };
        let bot = ws.as_actor(Actor::Bot {
            id: bot_id,
            name: bot_name.clone(),
        });
        for action in actions {
            match action {
                Action::Send {
                    send,
                    node,
                    message,
                } => match bot
                    .send_prepared(live.conversation_id, body_of(message))
                    .await
                {
                    Ok(m) => {
                        sent += 1;
                        sqlx::query!(
                            "INSERT OR IGNORE INTO bot_sends (message_id, session_id, send, node) VALUES (?, ?, ?, ?)",
                            m.id,
                            live.id,
                            send,
                            node
                        )
                        .execute(ws.db())
                        .await?;
                    }
                    Err(e) => {
                        tracing::info!(bot = %bot_name, error = %e, "a bot's message was refused");
                        let code = if e.to_string().contains("24-hour") {
                            131047
                        } else {
                            0
                        };
                        pending.push(Input::SendFailed {
                            send,
                            node,
                            code,
                            reason: e.to_string(),
                        });
                    }
                },
                Action::Timer { token, at_ms } => {
                    let due = at_ms as i64;
                    sqlx::query!("INSERT OR REPLACE INTO bot_timers (session_id, token, due_at) VALUES (?, ?, ?)", live.id, token, due)
                        .execute(ws.db())
                        .await?;
                }
                Action::Http {
                    token,
                    method,
                    url,
                    headers,
                    body,
                    map,
                    timeout_ms,
                } => {
                    let request = super::http::Request {
                        method: &method,
                        url: &url,
                        headers: &headers,
                        body: &body,
                        map: &map,
                        timeout_ms,
                    };
                    let (ok, values, problem) = ws.bot_http(request).await;
                    if let Some(problem) = problem {
                        note(ws, bot_id, &bot_name, "bots.http", &problem).await?;
                    }
                    pending.push(Input::Http { token, ok, values });
                }
                Action::Ai {
                    token,
                    system,
                    knowledge,
                    only_knowledge,
                    question,
                } => {
                    let (result, problem) = ws
                        .ask_ai(&system, &knowledge, only_knowledge, &question)
                        .await;
                    if let Some(problem) = problem {
                        note(ws, bot_id, &bot_name, "bots.ai", &problem).await?;
                    }
                    pending.push(Input::Ai { token, result });
                }
                Action::HandOff { to } => {
                    hand_off(ws, &bot, &bot_name, live.conversation_id, &to).await?
                }
                Action::UpdateContact { change } => {
                    update_contact(ws, &bot, bot_id, &bot_name, live.conversation_id, change)
                        .await?
                }
                Action::GoToBot { bot: other } => go_to = Some(other),
                Action::Ended { .. } => {}
            }
        }
    }
    let state = serde_json::to_string(&live.session).expect("a session serialises");
    let now = ws.now_ms();
    let ended = match &live.session.state {
        engine::State::Ended { why } => {
            Some(serde_json::to_string(why).expect("an end serialises"))
        }
        _ => None,
    };
    sqlx::query!(
        "UPDATE bot_sessions SET state = ?, ended = ?, messages = messages + ?, updated_at = ? WHERE id = ?",
        state,
        ended,
        sent,
        now,
        live.id
    )
    .execute(ws.db())
    .await?;
    if ended.is_some() {
        sqlx::query!("DELETE FROM bot_timers WHERE session_id = ?", live.id)
            .execute(ws.db())
            .await?;
    }
    if let Some(target) = go_to {
        let last = live
            .session
            .var(engine::LAST_MESSAGE)
            .unwrap_or_default()
            .to_owned();
        Box::pin(go_to_bot(ws, bot_id, &bot_name, &live, &target, last)).await?;
    }
    Ok(())
}

/// How many bots one message may pass through (a go-to chain that loops stops here).
const GO_TO_DEPTH: usize = 3;

/// The flow went on in another bot: its published version starts on the same message.
async fn go_to_bot(
    ws: &Workspace,
    from_id: i64,
    from: &str,
    live: &Live,
    target: &str,
    last: String,
) -> Result<()> {
    let mut conn = ws.db().acquire().await?;
    let Some(bot) = shared::published(&mut conn, target).await? else {
        drop(conn);
        return note(
            ws,
            from_id,
            from,
            "bots.go_to_bot",
            &format!("there is no published bot “{target}” to go on in"),
        )
        .await;
    };
    drop(conn);
    let depth = ws.ext::<GoToDepth>();
    if depth.0.load(std::sync::atomic::Ordering::SeqCst) >= GO_TO_DEPTH {
        return note(
            ws,
            from_id,
            from,
            "bots.go_to_bot",
            &format!(
                "not going on in “{}”: {GO_TO_DEPTH} bots in a row already",
                bot.name
            ),
        )
        .await;
    }
    depth.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    note(
        ws,
        from_id,
        from,
        "bots.go_to_bot",
        &format!("went on in bot “{}”", bot.name),
    )
    .await?;
    let next = start(ws, &bot, live.conversation_id).await?;
    let inbound = [Inbound {
        id: format!("go-to.{}.{}", live.id, bot.uid),
        text: last,
        reply: None,
        phone: None,
    }];
    let result = run(ws, next, Input::Begin(&inbound)).await;
    depth.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    result
}

#[derive(Default)]
struct GoToDepth(std::sync::atomic::AtomicUsize);

async fn end_row(conn: &mut SqliteConnection, id: i64, why: &End, sent: i64) -> Result<()> {
    let why = serde_json::to_string(why).expect("an end serialises");
    let now = crate::now_ms();
    sqlx::query!(
        "UPDATE bot_sessions SET ended = ?, messages = messages + ?, updated_at = ? WHERE id = ?",
        why,
        sent,
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM bot_timers WHERE session_id = ?", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn note(
    ws: &Workspace,
    bot_id: i64,
    bot_name: &str,
    action: &'static str,
    detail: &str,
) -> Result<()> {
    let mut conn = ws.db().acquire().await?;
    audit::insert(
        &mut conn,
        &Principal::bot(bot_id, bot_name),
        &Change::new(Screen::Bots, action, format!("bot “{bot_name}”")),
        Outcome::Ok,
        Some(detail),
    )
    .await
}

async fn hand_off(
    ws: &Workspace,
    bot: &crate::workspace::Ctx<'_>,
    bot_name: &str,
    conversation_id: i64,
    to: &HandOffTarget,
) -> Result<()> {
    if let HandOffTarget::Staff(username) = to
        && bot
            .assign_conversation(conversation_id, Some(username.clone()))
            .await
            .is_ok()
    {
        return Ok(());
    }
    // Whoever picks it up: every desktop's list shows the bot's last words; this one notifies.
    ws.chat_notice(ChatNotice {
        conversation_id,
        inbound: true,
        sender: Some(format!("🤖 {bot_name}")),
        preview: Some("The customer asks for a person".into()),
    });
    let mut conn = ws.db().acquire().await?;
    audit::insert(
        &mut conn,
        &Principal::system(SystemTask::Sync),
        &Change::new(
            Screen::Chat,
            "bots.handed_off",
            format!("conversation #{conversation_id}"),
        ),
        Outcome::Ok,
        Some(&format!(
            "bot “{bot_name}” handed the conversation to a person"
        )),
    )
    .await
}

async fn update_contact(
    ws: &Workspace,
    bot: &crate::workspace::Ctx<'_>,
    bot_id: i64,
    bot_name: &str,
    conversation_id: i64,
    change: ContactChange,
) -> Result<()> {
    match change {
        ContactChange::LeadStatus { status } => {
            let statuses = ws.as_system(SystemTask::Sync).lead_statuses().await?;
            match statuses
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&status))
            {
                Some(s) => {
                    if let Err(e) = bot
                        .set_conversation_lead_status(conversation_id, s.id)
                        .await
                    {
                        note(
                            ws,
                            bot_id,
                            bot_name,
                            "bots.update_contact",
                            &format!("the lead status was not set: {e}"),
                        )
                        .await?;
                    }
                }
                None => {
                    note(
                        ws,
                        bot_id,
                        bot_name,
                        "bots.update_contact",
                        &format!("there is no lead status “{status}”"),
                    )
                    .await?
                }
            }
        }
        other => {
            if let Err(e) = change_bulk_contact(ws, bot, conversation_id, other).await {
                note(ws, bot_id, bot_name, "bots.update_contact", &e.to_string()).await?;
            }
        }
    }
    Ok(())
}

/// A group or a field of the customer's Bulk Contact (made with the customer's number when there
/// is none yet).
async fn change_bulk_contact(
    ws: &Workspace,
    bot: &crate::workspace::Ctx<'_>,
    conversation_id: i64,
    change: ContactChange,
) -> Result<()> {
    use crate::contacts::ContactInput;
    let fields = ws.conversation_fields(conversation_id).await?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let phone = field("phone");
    let group_id = |name: &str| {
        let name = name.to_owned();
        async move {
            let groups = bot.groups().await?;
            groups
                .into_iter()
                .find(|g| g.name.eq_ignore_ascii_case(&name))
                .map(|g| g.id)
                .ok_or_else(|| {
                    crate::Error::from(BotsError::Invalid(format!("there is no group “{name}”")))
                })
        }
    };
    let Some(phone) = phone else {
        // A customer who writes by username: their contact is by WhatsApp user id.
        let id = bot.customer_contact(conversation_id).await?;
        return change_contact(bot, id, change, group_id).await;
    };
    let existing = {
        let mut conn = ws.db().acquire().await?;
        crate::contacts::id_by_phone(&mut conn, &phone).await?
    };
    let Some(id) = existing else {
        let mut input = ContactInput {
            phone,
            name: field("name").unwrap_or_default(),
            ..Default::default()
        };
        match change {
            ContactChange::AddToGroup { group } => input.group_ids = vec![group_id(&group).await?],
            ContactChange::Field { field, value } => set_field(&mut input, &field, value)?,
            _ => return Ok(()), // not in a group it is not in
        }
        bot.create_contact(input).await?;
        return Ok(());
    };
    change_contact(bot, id, change, group_id).await
}

/// A change of the customer's existing contact `id`.
async fn change_contact<F, Fut>(
    bot: &crate::workspace::Ctx<'_>,
    id: i64,
    change: ContactChange,
    group_id: F,
) -> Result<()>
where
    F: Fn(&str) -> Fut,
    Fut: std::future::Future<Output = Result<i64>>,
{
    use crate::contacts::ContactInput;
    if let ContactChange::AddToGroup { group } = &change {
        bot.assign_groups(vec![id], vec![group_id(group).await?])
            .await?;
        return Ok(());
    }
    let c = bot.contact(id).await?;
    let mut input = ContactInput {
        phone: c.phone,
        name: c.name,
        company: c.company,
        address: c.address,
        city: c.city,
        state: c.state,
        country: c.country,
        description: c.description,
        group_ids: c.group_ids,
    };
    match change {
        ContactChange::RemoveFromGroup { group } => {
            let gid = group_id(&group).await?;
            input.group_ids.retain(|g| *g != gid);
        }
        ContactChange::Field { field, value } => set_field(&mut input, &field, value)?,
        _ => {}
    }
    bot.update_contact(id, input).await?;
    Ok(())
}

fn set_field(input: &mut crate::contacts::ContactInput, field: &str, value: String) -> Result<()> {
    let slot = match field.trim().to_lowercase().as_str() {
        "name" => &mut input.name,
        "company" => &mut input.company,
        "address" => &mut input.address,
        "city" => &mut input.city,
        "state" => &mut input.state,
        "country" => &mut input.country,
        "description" | "notes" => &mut input.description,
        other => {
            return Err(BotsError::Invalid(format!(
                "“{other}” is not a contact field a bot may set (name, company, address, city, state, country, description)"
            ))
            .into());
        }
    };
    *slot = value;
    Ok(())
}

/// The engine's message in Meta's shape.
fn body_of(message: Message) -> Body {
    match message {
        Message::Text { body } => Body::Text {
            text: Text {
                preview_url: body.contains("https://"),
                body,
            },
        },
        Message::Buttons { body, buttons } => Body::Interactive {
            interactive: Interactive::Button {
                header: None,
                body: crate::meta::messages::TextObject { text: body },
                footer: None,
                action: crate::meta::messages::ButtonAction {
                    buttons: buttons
                        .into_iter()
                        .map(|(id, title)| crate::meta::messages::ReplyButton::new(id, title))
                        .collect(),
                },
            },
        },
        Message::List { body, button, rows } => Body::Interactive {
            interactive: Interactive::List {
                header: None,
                body: crate::meta::messages::TextObject { text: body },
                footer: None,
                action: crate::meta::messages::ListAction {
                    button,
                    sections: vec![crate::meta::messages::Section {
                        title: None,
                        rows: rows
                            .into_iter()
                            .map(|(id, title, description)| crate::meta::messages::Row {
                                id,
                                title,
                                description: (!description.is_empty()).then_some(description),
                            })
                            .collect(),
                    }],
                },
            },
        },
        Message::CtaUrl { body, display, url } => Body::Interactive {
            interactive: Interactive::cta_url(body, display, url),
        },
        Message::RequestPhone { body } => Body::Interactive {
            interactive: Interactive::request_contact_info(body),
        },
        Message::Template {
            name,
            language,
            params,
        } => Body::Template {
            template: Template {
                name,
                language: Language {
                    code: language,
                    policy: None,
                },
                components: if params.is_empty() {
                    Vec::new()
                } else {
                    vec![crate::meta::messages::Component {
                        kind: crate::meta::messages::ComponentKind::Body,
                        sub_type: None,
                        index: None,
                        parameters: params
                            .into_iter()
                            .map(crate::meta::messages::Parameter::text)
                            .collect(),
                    }]
                },
            },
        },
        Message::Media {
            media,
            source,
            caption,
        } => {
            let mut m = if source.starts_with("https://") || source.starts_with("http://") {
                Media::link(source)
            } else {
                Media::id(source)
            };
            m.caption = (!caption.is_empty() && media != MediaKind::Audio).then_some(caption);
            match media {
                MediaKind::Image => Body::Image { image: m },
                MediaKind::Video => Body::Video { video: m },
                MediaKind::Audio => Body::Audio { audio: m },
                MediaKind::Document => Body::Document { document: m },
            }
        }
    }
}

/// Fires the sessions' due timers, on the replica that runs automation, until `stop`.
pub async fn run_timers(ws: Arc<Workspace>, stop: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        if !ws.handlers().runs_automation() {
            continue;
        }
        if let Err(e) = fire_due(&ws).await {
            tracing::warn!(error = %e, "the bots' timers could not be fired");
        }
    }
}

/// Fires every timer due now, and answers the customers' bursts that are due; returns how many.
pub async fn fire_due(ws: &Workspace) -> Result<usize> {
    let now = ws.now_ms();
    let due = sqlx::query!(r#"SELECT session_id AS "session_id!", token AS "token!" FROM bot_timers WHERE due_at <= ? ORDER BY due_at LIMIT 200"#, now)
        .fetch_all(ws.db())
        .await?;
    let _turn = ws.ext::<TurnLock>().0.clone().lock_owned().await;
    for t in &due {
        sqlx::query!(
            "DELETE FROM bot_timers WHERE session_id = ? AND token = ?",
            t.session_id,
            t.token
        )
        .execute(ws.db())
        .await?;
        if let Some(live) = session_by_id(ws, t.session_id).await? {
            run(
                ws,
                live,
                Input::Timer {
                    token: t.token as u32,
                },
            )
            .await?;
        }
    }
    let bursts = fire_bursts(ws).await?;
    Ok(due.len() + bursts)
}
