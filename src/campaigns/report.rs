//! The report beyond the figures: the per-recipient log (paged, filtered by state, exportable as
//! CSV), failures grouped by Meta's code, sends, deliveries and reads over time, and what a person
//! does with a recipient that needs attention.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{CampaignsError, RecipientState, shared};
use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crmconnect_events::payloads::{CampaignProgress, ProgressRow};

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export, rename = "CampaignRecipientFilter")]
pub struct RecipientFilter {
    #[serde(default)]
    #[ts(optional)]
    pub state: Option<RecipientState>,
    /// Matches name or number.
    #[serde(default)]
    #[ts(optional)]
    pub search: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub offset: Option<u32>,
    /// 1 to 500; 200 when absent.
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "CampaignRecipient")]
pub struct RecipientRow {
    pub idx: i64,
    /// E.164 with `+`, or a user id.
    pub phone: String,
    pub name: String,
    pub record: Option<String>,
    pub state: RecipientState,
    pub code: Option<i64>,
    /// Why it failed, was skipped or deferred, in plain words.
    pub reason: Option<String>,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, rename = "CampaignRecipientPage")]
pub struct RecipientPage {
    pub total: i64,
    pub offset: u32,
    pub rows: Vec<RecipientRow>,
}

/// Failures with one code, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "CampaignFailure")]
pub struct FailureGroup {
    pub code: Option<i64>,
    pub reason: String,
    pub recipients: i64,
}

/// Sends, deliveries and reads per period (cumulative), for the report's chart.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "CampaignTimeline")]
pub struct Timeline {
    pub bucket_ms: i64,
    pub points: Vec<TimePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "CampaignTimePoint")]
pub struct TimePoint {
    pub at: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
}

fn shown_phone(p: &str) -> String {
    if crate::meta::messages::is_user_id(p) || p.is_empty() {
        p.to_owned()
    } else {
        format!("+{p}")
    }
}

impl Ctx<'_> {
    async fn campaign_uid(&self, id: i64) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::View)?;
        Ok(shared::load(&mut *self.db().acquire().await?, id)
            .await?
            .state
            .uid)
    }

    /// A page of the per-recipient log, in the audience's order.
    pub async fn campaign_recipients(
        &self,
        id: i64,
        filter: RecipientFilter,
    ) -> Result<RecipientPage> {
        let uid = self.campaign_uid(id).await?;
        let limit = filter.limit.unwrap_or(200).clamp(1, 500) as i64;
        let offset = filter.offset.unwrap_or(0);
        let state = filter.state.map(|s| s.key());
        let search = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", s.trim_start_matches('+')));
        let off = offset as i64;
        let total = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!: i64" FROM campaign_recipients
               WHERE campaign_uid = ?1 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR name LIKE ?3 OR phone LIKE ?3)"#,
            uid,
            state,
            search
        )
        .fetch_one(self.db())
        .await?;
        let rows = sqlx::query!(
            r#"SELECT idx, phone, name, record, state, code, reason, attempts, sent_at, delivered_at, read_at, updated_at
               FROM campaign_recipients
               WHERE campaign_uid = ?1 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR name LIKE ?3 OR phone LIKE ?3)
               ORDER BY idx LIMIT ?4 OFFSET ?5"#,
            uid,
            state,
            search,
            limit,
            off
        )
        .fetch_all(self.db())
        .await?;
        Ok(RecipientPage {
            total,
            offset,
            rows: rows
                .into_iter()
                .map(|r| RecipientRow {
                    idx: r.idx,
                    phone: shown_phone(&r.phone),
                    name: r.name,
                    record: r.record,
                    state: RecipientState::parse(&r.state).unwrap_or(RecipientState::Planned),
                    code: r.code,
                    reason: r.reason,
                    attempts: r.attempts,
                    sent_at: r.sent_at,
                    delivered_at: r.delivered_at,
                    read_at: r.read_at,
                    updated_at: r.updated_at,
                })
                .collect(),
        })
    }

    /// Failures grouped by Meta's code, most frequent first.
    pub async fn campaign_failures(&self, id: i64) -> Result<Vec<FailureGroup>> {
        let uid = self.campaign_uid(id).await?;
        let rows = sqlx::query!(
            r#"SELECT code, min(reason) AS reason, count(*) AS "n!: i64" FROM campaign_recipients
               WHERE campaign_uid = ? AND state = 'failed' GROUP BY code ORDER BY count(*) DESC"#,
            uid
        )
        .fetch_all(self.db())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| FailureGroup {
                code: r.code,
                reason: r.reason.unwrap_or_else(|| "Meta gave no reason".into()),
                recipients: r.n,
            })
            .collect())
    }

    /// Cumulative sends, deliveries and reads in (at most) 60 periods from the first send.
    pub async fn campaign_timeline(&self, id: i64) -> Result<Timeline> {
        let uid = self.campaign_uid(id).await?;
        let span = sqlx::query!(
            r#"SELECT min(sent_at) AS "first: i64", max(max(coalesce(sent_at, 0), coalesce(delivered_at, 0), coalesce(read_at, 0))) AS "last: i64"
               FROM campaign_recipients WHERE campaign_uid = ? AND sent_at IS NOT NULL"#,
            uid
        )
        .fetch_one(self.db())
        .await?;
        let (Some(first), Some(last)) = (span.first, span.last) else {
            return Ok(Timeline {
                bucket_ms: 0,
                points: Vec::new(),
            });
        };
        let bucket = ((last - first) / 59).max(1000);
        let rows = sqlx::query!(
            r#"SELECT sent_at, delivered_at, read_at FROM campaign_recipients
               WHERE campaign_uid = ? AND sent_at IS NOT NULL"#,
            uid
        )
        .fetch_all(self.db())
        .await?;
        let n = ((last - first) / bucket + 1) as usize;
        let mut sent = vec![0i64; n];
        let mut delivered = vec![0i64; n];
        let mut read = vec![0i64; n];
        let slot = |at: i64| (((at - first).max(0)) / bucket) as usize;
        for r in rows {
            if let Some(a) = r.sent_at {
                sent[slot(a).min(n - 1)] += 1;
            }
            if let Some(a) = r.delivered_at {
                delivered[slot(a).min(n - 1)] += 1;
            }
            if let Some(a) = r.read_at {
                read[slot(a).min(n - 1)] += 1;
            }
        }
        let mut points = Vec::with_capacity(n);
        let (mut s, mut d, mut rd) = (0, 0, 0);
        for i in 0..n {
            s += sent[i];
            d += delivered[i];
            rd += read[i];
            points.push(TimePoint {
                at: first + i as i64 * bucket,
                sent: s,
                delivered: d,
                read: rd,
            });
        }
        Ok(Timeline {
            bucket_ms: bucket,
            points,
        })
    }

    /// Saves the per-recipient log (all of it, or one state) as a CSV file in `folder`, named
    /// after the campaign; returns its path.
    pub async fn export_campaign_csv(
        &self,
        id: i64,
        state: Option<RecipientState>,
        folder: &std::path::Path,
    ) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::View)?;
        let c = shared::load(&mut *self.db().acquire().await?, id)
            .await?
            .state;
        let uid = c.uid;
        let safe: String = c
            .name
            .chars()
            .map(|ch| {
                if ch.is_alphanumeric() || ch == ' ' || ch == '-' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        let name = match state {
            Some(s) => format!("{} - {}.csv", safe.trim(), s.key()),
            None => format!("{} - recipients.csv", safe.trim()),
        };
        let key = state.map(|s| s.key());
        let rows = sqlx::query!(
            r#"SELECT idx, phone, name, record, state, code, reason, attempts, sent_at, delivered_at, read_at
               FROM campaign_recipients WHERE campaign_uid = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY idx"#,
            uid,
            key
        )
        .fetch_all(self.db())
        .await?;
        let problem = |e: &dyn std::fmt::Display| CampaignsError::Invalid {
            field: "folder",
            problem: format!("{} cannot be written: {e}", folder.display()),
        };
        let (file, path) =
            crate::uploads::create_new_file(folder, &name).map_err(|e| problem(&e))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record([
            "#",
            "phone",
            "name",
            "record",
            "state",
            "code",
            "reason",
            "attempts",
            "sent_at",
            "delivered_at",
            "read_at",
        ])
        .map_err(|e| problem(&e))?;
        let iso = |t: Option<i64>| {
            t.and_then(|ms| {
                time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
            })
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
        };
        for r in rows {
            w.write_record([
                (r.idx + 1).to_string(),
                shown_phone(&r.phone),
                r.name,
                r.record.unwrap_or_default(),
                r.state,
                r.code.map(|c| c.to_string()).unwrap_or_default(),
                r.reason.unwrap_or_default(),
                r.attempts.to_string(),
                iso(r.sent_at),
                iso(r.delivered_at),
                iso(r.read_at),
            ])
            .map_err(|e| problem(&e))?;
        }
        w.flush().map_err(|e| problem(&e))?;
        Ok(path.display().to_string())
    }

    /// A recipient that needs attention: `retry` sends it again (the person checked that it did
    /// not arrive), otherwise it is marked as sent.
    pub async fn resolve_campaign_recipient(&self, id: i64, idx: i64, retry: bool) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let publisher = actor.clone();
        let now = self.workspace().now_ms();
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Campaigns,
                if retry {
                    "campaigns.retry_recipient"
                } else {
                    "campaigns.mark_sent"
                },
                format!("campaign #{id}, recipient {}", idx + 1),
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let c = shared::load(tx, id).await?.state;
                    let row = sqlx::query!(
                        "SELECT attempts FROM campaign_recipients WHERE campaign_uid = ? AND idx = ? AND state = 'attention'",
                        c.uid,
                        idx
                    )
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| CampaignsError::NoAttention {
                        name: c.name.clone(),
                        idx,
                    })?;
                    let step = ProgressRow {
                        idx,
                        state: if retry { "planned" } else { "sent" }.into(),
                        attempt: row.attempts,
                        at: now,
                        code: None,
                        reason: None,
                        wamid: None,
                        next_at: None,
                    };
                    shared::apply_progress(tx, &c.uid, &step).await?;
                    let progress = CampaignProgress {
                        campaign: c.uid.clone(),
                        rows: vec![step],
                    };
                    crate::outbox::emit(
                        tx,
                        &publisher,
                        "campaign.progress",
                        &serde_json::to_value(&progress).expect("progress serialises"),
                    )
                    .await?;
                    // A completed campaign sends again what a person chose to retry.
                    if retry && super::status_of(&c) == super::CampaignStatus::Completed {
                        let again = crmconnect_events::payloads::CampaignState {
                            status: "running".into(),
                            finished_at: None,
                            version: c.version + 1,
                            ..c
                        };
                        shared::write(tx, &again, &publisher.name, now).await?;
                        crate::outbox::emit(
                            tx,
                            &publisher,
                            "campaign.updated",
                            &serde_json::to_value(&again).expect("a campaign serialises"),
                        )
                        .await?;
                    }
                    Ok(((), None))
                })
            }),
        )
        .await?;
        self.workspace().outbox_written();
        self.workspace().records_changed(Screen::Campaigns);
        Ok(())
    }
}
