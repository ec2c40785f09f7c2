//! Campaigns (the spec's section 3): an approved template to leads, Bulk Contacts, a group, or the
//! failed, unread or deferred of an earlier campaign.
//!
//! A campaign is made and edited as a draft; **planning** freezes its audience: one row per
//! recipient with the number and the template's parameters rendered at that moment, and the
//! plan's figures (no number, opted out, reached only by user id, missing values, the messaging
//! limit). Started, it is sent by the dispatcher ([`dispatch`]), which runs only where automation
//! runs (the active runner, or a desktop working alone); every recipient row then moves through
//! [`RecipientState`] as Meta answers and reports.
//!
//! Campaigns are the team's: every change is a `campaign.*` event written in its transaction and
//! applied on every replica by [`shared::handler`]; the frozen audience travels as
//! `campaign.recipients` parts, the dispatcher's doings as `campaign.progress`, and Meta's
//! statuses (which carry the recipient's tag) reach every replica through the log.
//!
//! Permission `whatsapp_campaign` (view, create, edit, delete); every change in the Activity Log.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::leads::LeadFilter;
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result};
use crmconnect_events::payloads::CampaignState;

pub mod dispatch;
mod plan;
mod report;
pub(crate) mod shared;

pub use dispatch::{DispatchTuning, run_dispatcher};
pub use plan::PlanFigures;
pub use report::{FailureGroup, RecipientFilter, RecipientPage, RecipientRow, TimePoint, Timeline};

#[derive(Debug, thiserror::Error)]
pub enum CampaignsError {
    #[error("campaign {0} does not exist")]
    NotFound(i64),
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("“{name}” is {status}: {what}")]
    WrongStatus {
        name: String,
        status: &'static str,
        what: String,
    },
    #[error("recipient {idx} of “{name}” does not need attention")]
    NoAttention { name: String, idx: i64 },
    #[error("campaign “{0}” is stored in an unreadable form: {1}")]
    Corrupt(String, String),
}

impl crate::error::Coded for CampaignsError {
    fn code(&self) -> ErrorCode {
        match self {
            CampaignsError::NotFound(_) => ErrorCode::NotFound,
            CampaignsError::Invalid { .. } => ErrorCode::Invalid,
            CampaignsError::WrongStatus { .. } | CampaignsError::NoAttention { .. } => {
                ErrorCode::Conflict
            }
            CampaignsError::Corrupt(..) => ErrorCode::Internal,
        }
    }

    fn fields(&self) -> Vec<crate::meta::templates::FieldProblem> {
        match self {
            CampaignsError::Invalid { field, problem } => {
                vec![crate::meta::templates::FieldProblem {
                    field: (*field).to_owned(),
                    message: problem.clone(),
                }]
            }
            _ => Vec::new(),
        }
    }
}

/// Who a campaign goes to, as the person chose it (planning freezes who that is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "CampaignAudience")]
pub enum Audience {
    /// Every lead the filter matches (its paging ignored).
    Leads { filter: LeadFilter },
    /// A group's members, and/or Bulk Contacts picked one by one.
    Contacts {
        #[serde(default)]
        #[ts(optional)]
        group_id: Option<i64>,
        #[serde(default)]
        ids: Vec<i64>,
    },
    /// Recipients of an earlier campaign (same template, as they were planned then).
    Retarget {
        campaign_uid: String,
        which: Retarget,
    },
}

/// Which recipients of an earlier campaign a retargeted one goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "CampaignRetarget")]
pub enum Retarget {
    /// Meta refused or failed them.
    Failed,
    /// Sent or delivered, never read.
    Unread,
    /// Deferred by Meta's per-user marketing limit.
    Deferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CampaignStatus {
    /// Being made: nothing frozen yet.
    Draft,
    /// Its audience is frozen; not started.
    Planned,
    /// Started, to begin at its time.
    Scheduled,
    Running,
    /// Paused by a person, or by Meta (the reason says).
    Paused,
    /// Every recipient was sent to (or left out, failed or needs attention).
    Completed,
    /// Stopped for good, by a person or because Meta refused the template.
    Stopped,
}

impl CampaignStatus {
    pub fn key(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Planned => "planned",
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Running => "running",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
            CampaignStatus::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use CampaignStatus::*;
        [
            Draft, Planned, Scheduled, Running, Paused, Completed, Stopped,
        ]
        .into_iter()
        .find(|c| c.key() == s)
    }
}

/// Where one recipient's message is. `rank` orders them: a report from Meta never moves a
/// recipient back (a late "sent" after "read" changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "CampaignRecipientState")]
pub enum RecipientState {
    /// Frozen, waiting its turn.
    Planned,
    /// The attempt is written; Meta is being asked.
    Sending,
    /// Left in `sending` by a crash and never reported by Meta within the grace period: maybe
    /// sent, maybe not. A person decides (Retry, or Mark as sent); never resent blindly.
    Attention,
    /// Meta took it (it has a message id).
    Accepted,
    Sent,
    Delivered,
    Read,
    /// The recipient answered.
    Replied,
    /// Meta refused or failed it (its code and reason say why).
    Failed,
    /// Meta's per-user marketing limit (131049): tried again later.
    Deferred,
    /// Left out when planned (the reason says why).
    Skipped,
    /// Held by Meta's template pacing while it assesses the template's quality.
    Held,
}

impl RecipientState {
    pub const ALL: [RecipientState; 12] = [
        RecipientState::Planned,
        RecipientState::Sending,
        RecipientState::Attention,
        RecipientState::Accepted,
        RecipientState::Sent,
        RecipientState::Delivered,
        RecipientState::Read,
        RecipientState::Replied,
        RecipientState::Failed,
        RecipientState::Deferred,
        RecipientState::Skipped,
        RecipientState::Held,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RecipientState::Planned => "planned",
            RecipientState::Sending => "sending",
            RecipientState::Attention => "attention",
            RecipientState::Accepted => "accepted",
            RecipientState::Sent => "sent",
            RecipientState::Delivered => "delivered",
            RecipientState::Read => "read",
            RecipientState::Replied => "replied",
            RecipientState::Failed => "failed",
            RecipientState::Deferred => "deferred",
            RecipientState::Skipped => "skipped",
            RecipientState::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == s)
    }

    /// How far along: a change applies only to a recipient behind it (see the handler).
    pub fn rank(self) -> i64 {
        match self {
            RecipientState::Planned | RecipientState::Deferred => 0,
            RecipientState::Sending | RecipientState::Attention => 1,
            RecipientState::Accepted => 2,
            RecipientState::Sent | RecipientState::Held => 3,
            RecipientState::Failed => 4,
            RecipientState::Delivered => 5,
            RecipientState::Read => 6,
            RecipientState::Replied => 7,
            RecipientState::Skipped => 9,
        }
    }
}

/// The report's figures. `sent`, `delivered` and `read` count every recipient that got that far
/// (a read message was delivered), whatever came after.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
#[ts(export, rename = "CampaignFigures")]
pub struct Figures {
    /// Rows frozen in all (skipped included).
    pub total: i64,
    /// The recipients it goes to: the rows not skipped.
    pub recipients: i64,
    pub waiting: i64,
    pub sending: i64,
    pub attention: i64,
    /// Meta took the message (has an id), whatever came after.
    pub accepted: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
    pub deferred: i64,
    pub skipped: i64,
    pub held: i64,
    /// Delivered, of the recipients (%).
    pub delivered_pct: f64,
    /// Read, of the delivered (%).
    pub read_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Campaign {
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// The number that sends; null: the connection's.
    pub number_id: Option<String>,
    pub template_name: String,
    pub template_language: String,
    pub template_category: String,
    /// The template's id here, when this desktop has it.
    pub template_id: Option<i64>,
    pub audience: Audience,
    pub start_at: Option<i64>,
    pub status: CampaignStatus,
    /// Why it is paused or stopped, in plain words; null when a person paused it.
    pub reason: Option<String>,
    pub plan: Option<PlanFigures>,
    pub figures: Figures,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The first this many recipients go out, then the campaign pauses for a look at the report.
    pub pilot: Option<u32>,
    /// The pilot went out and a person resumed the campaign for the rest.
    pub pilot_passed: bool,
    /// Spread over days: at most this many recipients tried in any 24 hours.
    pub daily_cap: Option<u32>,
    /// Spread over days and today's share tried: when the next recipients may go (ms).
    pub next_batch_at: Option<i64>,
}

/// How the reason of a campaign paused after its pilot begins.
pub const PILOT_SENT: &str = "The pilot went out";

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct CampaignInput {
    pub name: String,
    #[serde(default)]
    #[ts(optional)]
    pub number_id: Option<String>,
    /// An approved template, by its id here.
    pub template_id: i64,
    pub audience: Audience,
    /// When it starts (ms); absent: when it is started.
    #[serde(default)]
    #[ts(optional)]
    pub start_at: Option<i64>,
    /// A pilot of this many recipients first: the campaign pauses after them until resumed.
    #[serde(default)]
    #[ts(optional)]
    pub pilot: Option<u32>,
}

impl Ctx<'_> {
    /// Every campaign, newest first, with its figures.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::View)?;
        let now = self.workspace().now_ms();
        let mut conn = self.db().acquire().await?;
        let stored = shared::all(&mut conn).await?;
        let mut out = Vec::with_capacity(stored.len());
        for s in stored {
            out.push(shared::view(&mut conn, s, now).await?);
        }
        Ok(out)
    }

    pub async fn campaign(&self, id: i64) -> Result<Campaign> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::View)?;
        let now = self.workspace().now_ms();
        let mut conn = self.db().acquire().await?;
        let s = shared::load(&mut conn, id).await?;
        shared::view(&mut conn, s, now).await
    }

    /// A new draft.
    pub async fn create_campaign(&self, input: CampaignInput) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Create);
        let template = if allowed.is_ok() {
            Some(self.check_input(&input).await?)
        } else {
            None
        };
        self.change_campaign(
            "campaigns.create",
            format!("campaign “{}”", input.name.trim()),
            allowed,
            None,
            "campaign.created",
            move |s| {
                let t = template.expect("checked when allowed");
                let audience =
                    serde_json::to_value(&input.audience).expect("an audience serialises");
                Ok((
                    CampaignState {
                        uid: uuid::Uuid::now_v7().simple().to_string(),
                        name: input.name.trim().to_owned(),
                        number_id: input.number_id.filter(|n| !n.trim().is_empty()),
                        template_name: t.name,
                        template_language: t.language,
                        template_category: t.category,
                        audience,
                        start_at: input.start_at,
                        pilot: input.pilot,
                        status: "draft".into(),
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(0).into())
    }

    /// Changes a draft or a planned campaign (a planned one becomes a draft again: its frozen
    /// audience is let go, to be planned anew).
    pub async fn update_campaign(&self, id: i64, input: CampaignInput) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let template = if allowed.is_ok() {
            Some(self.check_input(&input).await?)
        } else {
            None
        };
        self.change_campaign(
            "campaigns.edit",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            move |s| {
                only_in(
                    &s,
                    &[CampaignStatus::Draft, CampaignStatus::Planned],
                    "only a draft or a planned campaign can be changed",
                )?;
                let t = template.expect("checked when allowed");
                if let Audience::Retarget { .. } = &input.audience
                    && (t.name != s.template_name || t.language != s.template_language)
                {
                    return Err(CampaignsError::Invalid {
                        field: "template_id",
                        problem:
                            "a retargeted campaign sends the template of the campaign it retargets"
                                .into(),
                    }
                    .into());
                }
                let audience =
                    serde_json::to_value(&input.audience).expect("an audience serialises");
                Ok((
                    CampaignState {
                        name: input.name.trim().to_owned(),
                        number_id: input.number_id.filter(|n| !n.trim().is_empty()),
                        template_name: t.name,
                        template_language: t.language,
                        template_category: t.category,
                        audience,
                        start_at: input.start_at,
                        pilot: input.pilot,
                        pilot_passed: false,
                        status: "draft".into(),
                        plan: None,
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Starts a planned campaign: now, or at its time.
    pub async fn start_campaign(&self, id: i64) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let now = self.workspace().now_ms();
        self.change_campaign(
            "campaigns.start",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            move |s| {
                only_in(
                    &s,
                    &[CampaignStatus::Planned],
                    "plan it first (its audience is frozen when planned)",
                )?;
                let later = s.start_at.is_some_and(|at| at > now);
                let detail = if later { "scheduled" } else { "started" };
                Ok((
                    CampaignState {
                        status: if later { "scheduled" } else { "running" }.into(),
                        started_at: (!later).then_some(now),
                        reason: None,
                        version: s.version + 1,
                        ..s
                    },
                    Some(detail.into()),
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Pauses a running or scheduled campaign: no new send starts (those already with Meta are
    /// accounted for as they answer).
    pub async fn pause_campaign(&self, id: i64) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        self.change_campaign(
            "campaigns.pause",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            |s| {
                only_in(
                    &s,
                    &[CampaignStatus::Running, CampaignStatus::Scheduled],
                    "only a running or scheduled campaign can be paused",
                )?;
                Ok((
                    CampaignState {
                        status: "paused".into(),
                        reason: None,
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Resumes a paused campaign (or sends again what needs attention of a completed one, once
    /// a person chose Retry).
    pub async fn resume_campaign(&self, id: i64) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let now = self.workspace().now_ms();
        self.change_campaign(
            "campaigns.resume",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            move |s| {
                only_in(
                    &s,
                    &[CampaignStatus::Paused],
                    "only a paused campaign can be resumed",
                )?;
                let later = s.start_at.is_some_and(|at| at > now) && s.started_at.is_none();
                // Resumed after its pilot: the rest goes out.
                let pilot_passed = s.pilot_passed
                    || s.reason
                        .as_deref()
                        .is_some_and(|r| r.starts_with(PILOT_SENT));
                Ok((
                    CampaignState {
                        status: if later { "scheduled" } else { "running" }.into(),
                        started_at: s.started_at.or((!later).then_some(now)),
                        pilot_passed,
                        reason: None,
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Spreads a campaign over days: at most `per_day` recipients tried in any 24 hours (Meta's
    /// messaging limit, when it does not fit in one); `None` sends at full pace again.
    pub async fn spread_campaign(&self, id: i64, per_day: Option<u32>) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        if per_day == Some(0) {
            return Err(CampaignsError::Invalid {
                field: "per_day",
                problem: "a campaign spread over days sends to at least 1 recipient a day".into(),
            }
            .into());
        }
        let detail = match per_day {
            Some(n) => format!("at most {n} recipients a day"),
            None => "at full pace".to_owned(),
        };
        self.change_campaign(
            "campaigns.spread",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            move |s| {
                only_in(
                    &s,
                    &[
                        CampaignStatus::Draft,
                        CampaignStatus::Planned,
                        CampaignStatus::Scheduled,
                        CampaignStatus::Running,
                        CampaignStatus::Paused,
                    ],
                    "a finished campaign sends nothing more",
                )?;
                Ok((
                    CampaignState {
                        daily_cap: per_day,
                        version: s.version + 1,
                        ..s
                    },
                    Some(detail),
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Stops a campaign for good: who was not sent to yet is not.
    pub async fn stop_campaign(&self, id: i64) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let now = self.workspace().now_ms();
        self.change_campaign(
            "campaigns.stop",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.updated",
            move |s| {
                only_in(
                    &s,
                    &[
                        CampaignStatus::Running,
                        CampaignStatus::Scheduled,
                        CampaignStatus::Paused,
                    ],
                    "only a campaign on its way can be stopped",
                )?;
                Ok((
                    CampaignState {
                        status: "stopped".into(),
                        reason: Some("Stopped by a person".into()),
                        finished_at: Some(now),
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// Deletes a campaign that is not sending (pause or stop it first) with its report.
    pub async fn delete_campaign(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Delete);
        self.change_campaign(
            "campaigns.delete",
            format!("campaign #{id}"),
            allowed,
            Some(id),
            "campaign.deleted",
            |s| {
                if matches!(
                    status_of(&s),
                    CampaignStatus::Running | CampaignStatus::Scheduled
                ) {
                    return Err(CampaignsError::WrongStatus {
                        name: s.name.clone(),
                        status: status_of(&s).key(),
                        what: "pause or stop it before deleting it".into(),
                    }
                    .into());
                }
                Ok((
                    CampaignState {
                        deleted: true,
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await
        .map(drop)
    }

    /// A new draft to the failed, unread or deferred recipients of campaign `id`, with its
    /// template.
    pub async fn retarget_campaign(&self, id: i64, which: Retarget) -> Result<Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Create);
        let source = match &allowed {
            Ok(()) => Some(
                shared::load(&mut *self.db().acquire().await?, id)
                    .await?
                    .state,
            ),
            Err(_) => None,
        };
        let label = match which {
            Retarget::Failed => "failed",
            Retarget::Unread => "unread",
            Retarget::Deferred => "deferred",
        };
        self.change_campaign(
            "campaigns.retarget",
            format!("campaign #{id} ({label})"),
            allowed,
            None,
            "campaign.created",
            move |s| {
                let src = source.expect("loaded when allowed");
                let audience = Audience::Retarget {
                    campaign_uid: src.uid.clone(),
                    which,
                };
                let mut name = format!("{} · {label}", src.name);
                if name.chars().count() > 120 {
                    name = name.chars().take(120).collect();
                }
                Ok((
                    CampaignState {
                        uid: uuid::Uuid::now_v7().simple().to_string(),
                        name,
                        number_id: src.number_id,
                        template_name: src.template_name,
                        template_language: src.template_language,
                        template_category: src.template_category,
                        audience: serde_json::to_value(&audience).expect("an audience serialises"),
                        status: "draft".into(),
                        version: s.version + 1,
                        ..s
                    },
                    None,
                ))
            },
        )
        .await?
        .ok_or_else(|| CampaignsError::NotFound(id).into())
    }

    /// The STOP keyword: a recipient who writes it is left out of later campaigns.
    pub async fn campaign_stop_word(&self) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::View)?;
        shared::stop_word(&mut *self.db().acquire().await?).await
    }

    /// Sets the STOP keyword (empty: none). Administrators only: it changes every campaign.
    pub async fn set_campaign_stop_word(&self, word: String) -> Result<String> {
        let actor = self.actor().await?;
        let word = word.trim().to_owned();
        let allowed = actor.require_admin("the STOP keyword");
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Campaigns,
                "campaigns.stop_word",
                format!("“{word}”"),
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    if word.chars().count() > 30 || word.contains(char::is_whitespace) {
                        return Err(CampaignsError::Invalid {
                            field: "stop_word",
                            problem: "one word of at most 30 characters".into(),
                        }
                        .into());
                    }
                    sqlx::query!(
                        "UPDATE campaign_settings SET stop_word = ? WHERE id = 1",
                        word
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok((word, None))
                })
            }),
        )
        .await
    }

    /// The template a campaign input names, checked: it exists here and is approved.
    async fn check_input(&self, input: &CampaignInput) -> Result<crate::templates::TemplateView> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(CampaignsError::Invalid {
                field: "name",
                problem: "a campaign's name has 1 to 120 characters".into(),
            }
            .into());
        }
        if input.pilot == Some(0) {
            return Err(CampaignsError::Invalid {
                field: "pilot",
                problem: "a pilot goes to at least 1 recipient (leave it out for none)".into(),
            }
            .into());
        }
        let t = self
            .workspace()
            .template_unchecked(input.template_id)
            .await
            .map_err(|_| CampaignsError::Invalid {
                field: "template_id",
                problem: format!("template {} does not exist", input.template_id),
            })?;
        if t.status != "APPROVED" {
            return Err(CampaignsError::Invalid {
                field: "template_id",
                problem: format!(
                    "“{}” is {}: only an approved template can be sent",
                    t.name, t.status
                ),
            }
            .into());
        }
        if let Audience::Contacts {
            group_id: None,
            ids,
        } = &input.audience
            && ids.is_empty()
        {
            return Err(CampaignsError::Invalid {
                field: "audience",
                problem: "choose a group or at least one contact".into(),
            }
            .into());
        }
        Ok(t)
    }

    /// One change of a campaign: the permission, the change on the stored state, the event and
    /// the Activity Log entry, in one transaction.
    async fn change_campaign(
        &self,
        action: &'static str,
        target: String,
        allowed: std::result::Result<(), crmconnect_access::permissions::PermissionError>,
        id: Option<i64>,
        kind: &'static str,
        change: impl FnOnce(CampaignState) -> Result<(CampaignState, Option<String>)> + Send + 'static,
    ) -> Result<Option<Campaign>> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let by = actor.name.clone();
        let now = self.workspace().now_ms();
        let campaign = audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Campaigns, action, target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let before = match id {
                        Some(id) => shared::load(tx, id).await?.state,
                        None => shared::blank(),
                    };
                    let (state, detail) = change(before)?;
                    let stored = shared::write(tx, &state, &by, now).await?;
                    crate::outbox::emit(
                        tx,
                        &publisher,
                        kind,
                        &serde_json::to_value(&state).expect("a campaign serialises"),
                    )
                    .await?;
                    let view = match stored {
                        Some(s) => Some(shared::view(tx, s, now).await?),
                        None => None,
                    };
                    Ok((view, detail))
                })
            }),
        )
        .await?;
        self.workspace().outbox_written();
        self.workspace().records_changed(Screen::Campaigns);
        self.workspace().campaigns_wake();
        Ok(campaign)
    }
}

pub(crate) fn status_of(s: &CampaignState) -> CampaignStatus {
    CampaignStatus::parse(&s.status).unwrap_or(CampaignStatus::Draft)
}

fn only_in(s: &CampaignState, allowed: &[CampaignStatus], what: &str) -> Result<()> {
    let status = status_of(s);
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(CampaignsError::WrongStatus {
            name: s.name.clone(),
            status: status.key(),
            what: what.to_owned(),
        }
        .into())
    }
}

impl crate::workspace::Workspace {
    /// The names of the campaigns sending now, for the top bar's word on automation.
    pub async fn running_campaign_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT name FROM campaigns WHERE status = 'running' ORDER BY name COLLATE NOCASE"
        )
        .fetch_all(self.db())
        .await?)
    }
}
