//! Bots (the spec's section 2): keyword, menu, AI-assisted and fallback bots. A bot has settings
//! (name, kind, trigger, the number it answers on), a draft flow drawn in the editor (its Drawflow
//! export), and numbered published versions; it runs its latest version while active.
//!
//! Permission `whatsapp_bot` (view, create, edit, delete); every change is in the Activity Log.
//! Bots are the team's: every change is a `bot.*` event written in its transaction, applied on
//! every desktop by [`shared::handler`]. The flows themselves are `crmconnect_flow`'s: imported,
//! compiled and run there; [`simulate`] runs a draft against a pretend customer.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result};
use crmconnect_events::payloads::{BotState, BotVersionState};
use crmconnect_flow::trigger::Trigger;
use crmconnect_flow::{CompileError, drawflow};

mod ai;
mod figures;
pub mod host;
pub mod hours;
mod http;
pub(crate) mod shared;
mod simulate;

pub use ai::{AI_TIMEOUT, AiSettings, AiSettingsInput};
pub use figures::{BotFiguresByNode, NodeFigures, Stranded};
pub use hours::{BusinessHours, DayHours};
pub use http::internal as internal_address;

pub use simulate::{SimInput, SimRequest, SimTurn};

#[derive(Debug, thiserror::Error)]
pub enum BotsError {
    #[error("bot {0} does not exist")]
    NotFound(i64),
    #[error("a bot named “{0}” exists already")]
    NameTaken(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the flow cannot be saved: {}", .0.first().map(ToString::to_string).unwrap_or_default())]
    DoesNotCompile(Vec<CompileError>),
    #[error("“{name}” has no published version yet: publish it first")]
    NotPublished { name: String },
    #[error(
        "“{name}” would answer the same messages as “{other}”, which is active ({why}): deactivate one, or change a trigger or a number"
    )]
    Overlap {
        name: String,
        other: String,
        why: String,
    },
    #[error("bot {bot} has no version {version}")]
    NoVersion { bot: i64, version: i64 },
    #[error("bot {0} is stored in an unreadable form: {1}")]
    Corrupt(String, String),
}

impl crate::error::Coded for BotsError {
    fn code(&self) -> ErrorCode {
        match self {
            BotsError::NotFound(_) | BotsError::NoVersion { .. } => ErrorCode::NotFound,
            BotsError::NameTaken(_)
            | BotsError::Overlap { .. }
            | BotsError::NotPublished { .. } => ErrorCode::Conflict,
            BotsError::Corrupt(..) => ErrorCode::Internal,
            BotsError::Invalid(_) | BotsError::DoesNotCompile(_) => ErrorCode::Invalid,
        }
    }

    /// A flow's problems by node (`node:<id>`), or `flow` for the flow as a whole: the editor
    /// highlights each.
    fn fields(&self) -> Vec<crate::meta::templates::FieldProblem> {
        match self {
            BotsError::DoesNotCompile(errors) => errors
                .iter()
                .map(|e| crate::meta::templates::FieldProblem {
                    field: e
                        .node
                        .as_ref()
                        .map(|n| format!("node:{n}"))
                        .unwrap_or_else(|| "flow".into()),
                    message: e.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BotKind {
    Keyword,
    Menu,
    Ai,
    /// Answers what no other bot does.
    Fallback,
}

impl BotKind {
    pub fn key(self) -> &'static str {
        match self {
            BotKind::Keyword => "keyword",
            BotKind::Menu => "menu",
            BotKind::Ai => "ai",
            BotKind::Fallback => "fallback",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "keyword" => BotKind::Keyword,
            "menu" => BotKind::Menu,
            "ai" => BotKind::Ai,
            "fallback" => BotKind::Fallback,
            _ => return None,
        })
    }
}

/// A bot as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Bot {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub kind: BotKind,
    pub trigger: Trigger,
    /// The trigger as a person reads it (`contains “price”`).
    pub trigger_text: String,
    /// The business number it answers on (Meta's phone number id); none: every number.
    pub number_id: Option<String>,
    pub active: bool,
    /// The version it runs (0: never published).
    pub version: i64,
    /// Whether the draft differs from the published version.
    pub unpublished_changes: bool,
    pub updated_at: i64,
    /// When it last wrote to a customer (none: never).
    pub last_active_at: Option<i64>,
    /// Conversations it wrote in this month (UTC), and the messages it sent.
    pub conversations_this_month: i64,
    pub messages_this_month: i64,
}

/// A bot with its draft and its versions: what the editor opens.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BotDraft {
    pub bot: Bot,
    /// The editor's Drawflow export.
    pub drawflow: String,
    pub versions: Vec<BotVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BotVersion {
    pub version: i64,
    pub published_at: i64,
    pub published_by: String,
    pub nodes: u32,
}

/// A bot's settings, as the create and edit form sends them.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct BotInput {
    pub name: String,
    pub kind: BotKind,
    pub trigger: Trigger,
    pub number_id: Option<String>,
}

/// A stored bot (the row, its JSON read).
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub id: i64,
    pub state: BotState,
    pub updated_at: i64,
}

impl Stored {
    fn view(&self, published_drawflow: Option<&str>) -> Result<Bot> {
        let s = &self.state;
        let trigger: Trigger = serde_json::from_value(s.trigger.clone())
            .map_err(|e| BotsError::Corrupt(s.name.clone(), e.to_string()))?;
        Ok(Bot {
            id: self.id,
            uid: s.uid.clone(),
            name: s.name.clone(),
            kind: BotKind::parse(&s.kind)
                .ok_or_else(|| BotsError::Corrupt(s.name.clone(), format!("kind {}", s.kind)))?,
            trigger_text: trigger.describe(),
            trigger,
            number_id: s.number_id.clone(),
            active: s.active,
            version: s.version,
            unpublished_changes: published_drawflow.is_none_or(|p| p != s.draft),
            updated_at: self.updated_at,
            last_active_at: None,
            conversations_this_month: 0,
            messages_this_month: 0,
        })
    }
}

const MAX_NAME: usize = 80;

fn check_input(input: &BotInput) -> std::result::Result<(String, Option<String>), BotsError> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(BotsError::Invalid("the bot's name is empty".into()));
    }
    if name.chars().count() > MAX_NAME {
        return Err(BotsError::Invalid(format!(
            "the bot's name is longer than {MAX_NAME} characters"
        )));
    }
    if input.kind != BotKind::Fallback {
        input.trigger.check().map_err(BotsError::Invalid)?;
    }
    let number = input
        .number_id
        .as_ref()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if number
        .as_ref()
        .is_some_and(|n| n.len() > 64 || !n.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(BotsError::Invalid(
            "the number is not one of the business's phone number ids".into(),
        ));
    }
    Ok((name, number))
}

/// Reads and compiles an editor export: refused with every problem by node.
pub fn compile_draft(drawflow: &str) -> std::result::Result<crmconnect_flow::Program, BotsError> {
    let flow = drawflow::import(drawflow).map_err(|e| match e {
        drawflow::ImportError::Node { node, problem } => {
            BotsError::DoesNotCompile(vec![CompileError {
                node: Some(node),
                message: problem,
            }])
        }
        other => BotsError::DoesNotCompile(vec![CompileError {
            node: None,
            message: other.to_string(),
        }]),
    })?;
    crmconnect_flow::compile(&flow).map_err(BotsError::DoesNotCompile)
}

fn flow_of(drawflow: &str) -> std::result::Result<crmconnect_flow::Flow, BotsError> {
    compile_draft(drawflow)?;
    Ok(drawflow::import(drawflow).expect("it compiled, so it imports"))
}

/// Whether two bots could answer the same message, and why.
pub(crate) fn overlap(a: &BotState, b: &BotState) -> Option<String> {
    let same_scope = match (&a.number_id, &b.number_id) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    if !same_scope {
        return None;
    }
    let (fa, fb) = (a.kind == "fallback", b.kind == "fallback");
    if fa || fb {
        return (fa && fb).then(|| "both are the fallback".to_string());
    }
    let ta: Trigger = serde_json::from_value(a.trigger.clone()).ok()?;
    let tb: Trigger = serde_json::from_value(b.trigger.clone()).ok()?;
    ta.overlaps(&tb)
        .then(|| format!("{} / {}", ta.describe(), tb.describe()))
}

impl Ctx<'_> {
    /// Every bot, by name.
    pub async fn bots(&self) -> Result<Vec<Bot>> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        let figures = self.bot_figures(month_start(self.now_ms())).await?;
        let mut conn = self.db().acquire().await?;
        let mut out = Vec::new();
        for stored in shared::all(&mut conn).await? {
            let published =
                shared::version_drawflow(&mut conn, &stored.state.uid, stored.state.version)
                    .await?;
            let mut bot = stored.view(published.as_deref())?;
            if let Some(f) = figures.iter().find(|f| f.bot == bot.name) {
                bot.last_active_at = Some(f.last_at);
                bot.conversations_this_month = f.conversations;
                bot.messages_this_month = f.messages;
            }
            out.push(bot);
        }
        Ok(out)
    }

    /// A bot with its draft and versions, for the editor.
    pub async fn bot(&self, id: i64) -> Result<BotDraft> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        let mut conn = self.db().acquire().await?;
        let stored = shared::load(&mut conn, id).await?;
        let published =
            shared::version_drawflow(&mut conn, &stored.state.uid, stored.state.version).await?;
        let versions = shared::versions(&mut conn, &stored.state.uid).await?;
        Ok(BotDraft {
            bot: stored.view(published.as_deref())?,
            drawflow: stored.state.draft.clone(),
            versions,
        })
    }

    pub async fn create_bot(&self, input: BotInput) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Create);
        let (name, number_id) = check_input(&input)?;
        let state = BotState {
            uid: uuid::Uuid::now_v7().simple().to_string(),
            name: name.clone(),
            kind: input.kind.key().into(),
            trigger: serde_json::to_value(&input.trigger).expect("a trigger serialises"),
            number_id,
            binding: None,
            media: None,
            active: false,
            draft: starter(input.kind).to_string(),
            version: 0,
            published: None,
            deleted: false,
        };
        self.change_bot(
            "bots.create",
            format!("bot “{name}”"),
            allowed,
            None,
            move |_| Ok((state, None)),
            "bot.created",
        )
        .await
    }

    /// Changes a bot's settings; an active bot's new trigger must not overlap another's.
    pub async fn update_bot(&self, id: i64, input: BotInput) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Edit);
        let (name, number_id) = check_input(&input)?;
        self.change_bot(
            "bots.update",
            format!("bot #{id}"),
            allowed,
            Some(id),
            move |mut s| {
                let detail = (s.name != name).then(|| format!("now “{name}”"));
                s.name = name;
                s.kind = input.kind.key().into();
                s.trigger = serde_json::to_value(&input.trigger).expect("a trigger serialises");
                s.number_id = number_id;
                Ok((s, detail))
            },
            "bot.updated",
        )
        .await
    }

    /// Saves the editor's draft: it must compile (every problem named by node).
    pub async fn save_bot_draft(&self, id: i64, drawflow: String) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Edit);
        if allowed.is_ok() {
            compile_draft(&drawflow)?;
        }
        self.change_bot(
            "bots.save_draft",
            format!("bot #{id}"),
            allowed,
            Some(id),
            move |mut s| {
                s.draft = drawflow;
                Ok((s, None))
            },
            "bot.updated",
        )
        .await
    }

    /// Publishes the draft as the next version; the bot runs it from now on.
    pub async fn publish_bot(&self, id: i64) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Edit);
        self.change_bot(
            "bots.publish",
            format!("bot #{id}"),
            allowed,
            Some(id),
            |mut s| {
                let flow = flow_of(&s.draft)?;
                s.version += 1;
                s.published = Some(BotVersionState {
                    version: s.version,
                    drawflow: s.draft.clone(),
                    flow: serde_json::to_value(&flow).expect("a flow serialises"),
                    published_at: crate::now_ms(),
                });
                let detail = format!("version {}", s.version);
                Ok((s, Some(detail)))
            },
            "bot.updated",
        )
        .await
    }

    /// Makes an earlier version the draft again (publish it to run it).
    pub async fn restore_bot_version(&self, id: i64, version: i64) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Edit);
        let mut conn = self.db().acquire().await?;
        let uid = shared::load(&mut conn, id).await?.state.uid;
        let drawflow = shared::version_drawflow(&mut conn, &uid, version)
            .await?
            .ok_or(BotsError::NoVersion { bot: id, version })?;
        drop(conn);
        self.change_bot(
            "bots.restore",
            format!("bot #{id}"),
            allowed,
            Some(id),
            move |mut s| {
                s.draft = drawflow;
                Ok((s, Some(format!("draft from version {version}"))))
            },
            "bot.updated",
        )
        .await
    }

    /// Turns a bot on or off. On: it must be published, and no active bot may answer the same
    /// messages on the same number.
    pub async fn set_bot_active(&self, id: i64, active: bool) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Edit);
        let mut conn = self.db().acquire().await?;
        let others = shared::all(&mut conn).await?;
        drop(conn);
        let action = if active {
            "bots.activate"
        } else {
            "bots.deactivate"
        };
        self.change_bot(
            action,
            format!("bot #{id}"),
            allowed,
            Some(id),
            move |mut s| {
                if active {
                    if s.version == 0 {
                        return Err(BotsError::NotPublished {
                            name: s.name.clone(),
                        }
                        .into());
                    }
                    if let Some((other, why)) = others
                        .iter()
                        .filter(|o| o.state.active && o.state.uid != s.uid)
                        .find_map(|o| overlap(&s, &o.state).map(|why| (o.state.name.clone(), why)))
                    {
                        return Err(BotsError::Overlap {
                            name: s.name.clone(),
                            other,
                            why,
                        }
                        .into());
                    }
                }
                s.active = active;
                Ok((s, None))
            },
            "bot.updated",
        )
        .await
    }

    /// A copy of a bot's settings and draft, inactive and unpublished.
    pub async fn duplicate_bot(&self, id: i64) -> Result<Bot> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Create);
        let mut conn = self.db().acquire().await?;
        let original = shared::load(&mut conn, id).await?.state;
        let names: Vec<String> = shared::all(&mut conn)
            .await?
            .into_iter()
            .map(|b| b.state.name.to_lowercase())
            .collect();
        drop(conn);
        let mut name = format!("{} (copy)", original.name);
        let mut n = 2;
        while names.contains(&name.to_lowercase()) {
            name = format!("{} (copy {n})", original.name);
            n += 1;
        }
        let name: String = name.chars().take(MAX_NAME).collect();
        let state = BotState {
            uid: uuid::Uuid::now_v7().simple().to_string(),
            name: name.clone(),
            active: false,
            version: 0,
            published: None,
            deleted: false,
            ..original
        };
        self.change_bot(
            "bots.duplicate",
            format!("bot “{name}”"),
            allowed,
            None,
            move |_| Ok((state, Some(format!("copy of bot #{id}")))),
            "bot.created",
        )
        .await
    }

    pub async fn delete_bot(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappBot, Action::Delete);
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Bots, "bots.delete", format!("bot #{id}")),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let stored = shared::load(tx, id).await?;
                    shared::delete(tx, &stored.state.uid).await?;
                    let state = BotState {
                        deleted: true,
                        active: false,
                        published: None,
                        ..stored.state
                    };
                    shared::emit(tx, &publisher, "bot.deleted", &state).await?;
                    Ok(((), Some(format!("“{}”", state.name))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Runs a draft one turn against a pretend customer: nothing is sent, nothing is stored.
    pub async fn simulate_bot(&self, request: SimRequest) -> Result<SimTurn> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        simulate::run(request)
    }

    /// One change of a bot: `change` gets its state (a new bot's is made by `change` itself),
    /// the result is stored and published as `kind`, in one transaction with its Activity Log
    /// entry.
    async fn change_bot(
        &self,
        action: &'static str,
        target: String,
        allowed: std::result::Result<(), crmconnect_access::permissions::PermissionError>,
        id: Option<i64>,
        change: impl FnOnce(BotState) -> Result<(BotState, Option<String>)> + Send + 'static,
        kind: &'static str,
    ) -> Result<Bot> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let by = actor.name.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Bots, action, target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let before = match id {
                        Some(id) => shared::load(tx, id).await?.state,
                        None => BotState {
                            uid: String::new(),
                            name: String::new(),
                            kind: String::new(),
                            trigger: serde_json::Value::Null,
                            number_id: None,
                            binding: None,
                            media: None,
                            active: false,
                            draft: String::new(),
                            version: 0,
                            published: None,
                            deleted: false,
                        },
                    };
                    let (state, detail) = change(before)?;
                    let stored =
                        shared::write(tx, &state, None, &by)
                            .await
                            .map_err(|e| match e {
                                shared::WriteError::NameTaken => {
                                    BotsError::NameTaken(state.name.clone()).into()
                                }
                                shared::WriteError::Other(e) => e,
                            })?;
                    shared::emit(tx, &publisher, kind, &state).await?;
                    let published =
                        shared::version_drawflow(tx, &stored.state.uid, stored.state.version)
                            .await?;
                    Ok((stored.view(published.as_deref())?, detail))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }
}

/// The first millisecond of the month (UTC) that `now_ms` is in.
pub fn month_start(now_ms: i64) -> i64 {
    let days = now_ms.div_euclid(86_400_000);
    // Civil from days (Howard Hinnant's algorithm), then back to the 1st of that month.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day_of_month = doy - (153 * mp + 2) / 5; // 0-based
    (days - day_of_month) * 86_400_000
}

/// What a new bot of each kind starts with, so the editor never opens empty.
pub fn starter(kind: BotKind) -> serde_json::Value {
    use serde_json::json;
    let nodes = match kind {
        BotKind::Keyword => json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "send_text", "text": "Hi {{first_name}}! Thanks for writing to us." }
        ]),
        BotKind::Menu => json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "ask_buttons", "text": "Hi {{first_name}}! How can we help?",
              "buttons": [ { "id": "prices", "title": "Prices" }, { "id": "person", "title": "Talk to a person" } ],
              "next": { "prices": "3", "person": "4" } },
            { "id": "3", "kind": "send_text", "text": "Our prices start at …" },
            { "id": "4", "kind": "hand_off", "to": { "to": "anyone" } }
        ]),
        BotKind::Ai => json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "ai_reply", "system": "You answer our customers' questions briefly and kindly.",
              "knowledge": "", "only_knowledge": true, "next": { "person": "3", "unanswered": "3" } },
            { "id": "3", "kind": "hand_off", "to": { "to": "anyone" } }
        ]),
        BotKind::Fallback => json!([
            { "id": "1", "kind": "start", "next": { "next": "2" } },
            { "id": "2", "kind": "send_text", "text": "Thanks for your message! Someone will answer soon." }
        ]),
    };
    let flow: crmconnect_flow::Flow =
        serde_json::from_value(json!({ "nodes": nodes })).expect("the starters are flows");
    let at = drawflow::layout(&flow);
    drawflow::export(&flow, |i| at[i])
}

impl crate::workspace::Workspace {
    /// The names of the bots that are on, for the top bar's word on automation (no permission:
    /// it names what runs, as the lease does).
    pub async fn active_bot_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT name FROM bots WHERE active = 1 ORDER BY name COLLATE NOCASE"
        )
        .fetch_all(self.db())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_starts_on_the_first() {
        // 2026-12-07 11:00 UTC → 2026-12-01; 2024-03-01 00:00 → itself; 2024-02-29 → 2024-02-01.
        assert_eq!(month_start(1_796_641_200_000), 1_796_083_200_000);
        assert_eq!(month_start(1_709_251_200_000), 1_709_251_200_000);
        assert_eq!(month_start(1_709_164_800_000), 1_706_745_600_000);
    }

    #[test]
    fn every_starter_compiles() {
        for kind in [
            BotKind::Keyword,
            BotKind::Menu,
            BotKind::Ai,
            BotKind::Fallback,
        ] {
            compile_draft(&starter(kind).to_string()).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        }
    }
}
