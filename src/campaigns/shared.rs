//! Campaigns are the team's: storage of the `campaigns` and `campaign_recipients` tables, and the
//! handler that applies, on every replica, the `campaign.*` events (a campaign's state, its frozen
//! audience in parts, the dispatcher's progress) and what Meta reports of campaign messages (their
//! statuses carry the recipient's tag), and the customers' replies and STOP keyword.

use serde_json::Value;
use sqlx::SqliteConnection;

use super::{
    Audience, Campaign, CampaignStatus, CampaignsError, Figures, PlanFigures, RecipientState,
    status_of,
};
use crate::Result;
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;
use crmconnect_events::payloads::{
    CampaignProgress, CampaignRecipients, CampaignState, RecipientEntry,
};

/// A campaign as stored here.
pub(crate) struct Stored {
    pub id: i64,
    pub state: CampaignState,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

struct Row {
    id: i64,
    uid: String,
    name: String,
    number_id: Option<String>,
    template_name: String,
    template_language: String,
    template_category: String,
    audience: String,
    start_at: Option<i64>,
    status: String,
    reason: Option<String>,
    plan: Option<String>,
    version: i64,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    pilot: Option<i64>,
    pilot_passed: bool,
    daily_cap: Option<i64>,
}

impl Row {
    fn stored(self) -> Result<Stored> {
        let json = |what: &str, text: &str| {
            serde_json::from_str::<Value>(text)
                .map_err(|e| CampaignsError::Corrupt(self.name.clone(), format!("{what}: {e}")))
        };
        let audience = json("audience", &self.audience)?;
        let plan = self.plan.as_deref().map(|p| json("plan", p)).transpose()?;
        Ok(Stored {
            id: self.id,
            state: CampaignState {
                uid: self.uid,
                name: self.name,
                number_id: self.number_id,
                template_name: self.template_name,
                template_language: self.template_language,
                template_category: self.template_category,
                audience,
                start_at: self.start_at,
                status: self.status,
                reason: self.reason,
                plan,
                version: self.version,
                started_at: self.started_at,
                finished_at: self.finished_at,
                deleted: false,
                pilot: self.pilot.and_then(|n| u32::try_from(n).ok()),
                pilot_passed: self.pilot_passed,
                daily_cap: self.daily_cap.and_then(|n| u32::try_from(n).ok()),
            },
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A state to build a new campaign from.
pub(crate) fn blank() -> CampaignState {
    CampaignState {
        uid: String::new(),
        name: String::new(),
        number_id: None,
        template_name: String::new(),
        template_language: String::new(),
        template_category: String::new(),
        audience: Value::Null,
        start_at: None,
        status: "draft".into(),
        reason: None,
        plan: None,
        version: 0,
        started_at: None,
        finished_at: None,
        deleted: false,
        pilot: None,
        pilot_passed: false,
        daily_cap: None,
    }
}

pub(crate) async fn all(conn: &mut SqliteConnection) -> Result<Vec<Stored>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", uid, name, number_id, template_name, template_language, template_category,
                  audience, start_at, status, reason, plan, version, created_by, created_at, updated_at,
                  started_at, finished_at, pilot, pilot_passed AS "pilot_passed: bool", daily_cap
           FROM campaigns ORDER BY created_at DESC, id DESC"#
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(Row::stored).collect()
}

pub(crate) async fn load(conn: &mut SqliteConnection, id: i64) -> Result<Stored> {
    sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", uid, name, number_id, template_name, template_language, template_category,
                  audience, start_at, status, reason, plan, version, created_by, created_at, updated_at,
                  started_at, finished_at, pilot, pilot_passed AS "pilot_passed: bool", daily_cap
           FROM campaigns WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(CampaignsError::NotFound(id))?
    .stored()
}

pub(crate) async fn load_uid(conn: &mut SqliteConnection, uid: &str) -> Result<Option<Stored>> {
    sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", uid, name, number_id, template_name, template_language, template_category,
                  audience, start_at, status, reason, plan, version, created_by, created_at, updated_at,
                  started_at, finished_at, pilot, pilot_passed AS "pilot_passed: bool", daily_cap
           FROM campaigns WHERE uid = ?"#,
        uid
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(Row::stored)
    .transpose()
}

/// Stores `state` (made, replaced, or deleted with its recipients); `None` once deleted. A
/// campaign made a draft again lets its frozen audience go.
pub(crate) async fn write(
    conn: &mut SqliteConnection,
    state: &CampaignState,
    by: &str,
    now: i64,
) -> Result<Option<Stored>> {
    if state.deleted {
        sqlx::query!("DELETE FROM campaigns WHERE uid = ?", state.uid)
            .execute(&mut *conn)
            .await?;
        sqlx::query!(
            "DELETE FROM campaign_recipients WHERE campaign_uid = ?",
            state.uid
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT OR IGNORE INTO campaign_tombstones (uid) VALUES (?)",
            state.uid
        )
        .execute(&mut *conn)
        .await?;
        return Ok(None);
    }
    let audience = state.audience.to_string();
    let plan = state.plan.as_ref().map(Value::to_string);
    let id = sqlx::query_scalar!(
        r#"INSERT INTO campaigns (uid, name, number_id, template_name, template_language, template_category,
                                 audience, start_at, status, reason, plan, version, created_by, created_at,
                                 updated_at, started_at, finished_at, pilot, pilot_passed, daily_cap)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16, ?17, ?18, ?19)
           ON CONFLICT (uid) DO UPDATE SET name = excluded.name, number_id = excluded.number_id,
               template_name = excluded.template_name, template_language = excluded.template_language,
               template_category = excluded.template_category, audience = excluded.audience,
               start_at = excluded.start_at, status = excluded.status, reason = excluded.reason,
               plan = excluded.plan, version = excluded.version, updated_at = excluded.updated_at,
               started_at = excluded.started_at, finished_at = excluded.finished_at,
               pilot = excluded.pilot, pilot_passed = excluded.pilot_passed,
               daily_cap = excluded.daily_cap
           RETURNING id AS "id!""#,
        state.uid,
        state.name,
        state.number_id,
        state.template_name,
        state.template_language,
        state.template_category,
        audience,
        state.start_at,
        state.status,
        state.reason,
        plan,
        state.version,
        by,
        now,
        state.started_at,
        state.finished_at,
        state.pilot,
        state.pilot_passed,
        state.daily_cap
    )
    .fetch_one(&mut *conn)
    .await?;
    if status_of(state) == CampaignStatus::Draft {
        sqlx::query!(
            "DELETE FROM campaign_recipients WHERE campaign_uid = ?",
            state.uid
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(load(conn, id).await?))
}

/// What the screens see of a stored campaign.
pub(crate) async fn view(conn: &mut SqliteConnection, s: Stored, now: i64) -> Result<Campaign> {
    let audience: Audience = serde_json::from_value(s.state.audience.clone())
        .map_err(|e| CampaignsError::Corrupt(s.state.name.clone(), format!("audience: {e}")))?;
    let plan: Option<PlanFigures> = s
        .state
        .plan
        .clone()
        .and_then(|p| serde_json::from_value(p).ok());
    let template_id = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM templates WHERE name = ? AND language = ?"#,
        s.state.template_name,
        s.state.template_language
    )
    .fetch_optional(&mut *conn)
    .await?;
    let figures = figures(conn, &s.state.uid).await?;
    let next_batch_at = match s.state.daily_cap {
        Some(cap) => next_batch_at(conn, &s.state.uid, cap, now).await?,
        None => None,
    };
    Ok(Campaign {
        id: s.id,
        uid: s.state.uid,
        name: s.state.name,
        number_id: s.state.number_id,
        template_name: s.state.template_name,
        template_language: s.state.template_language,
        template_category: s.state.template_category,
        template_id,
        audience,
        start_at: s.state.start_at,
        status: CampaignStatus::parse(&s.state.status).unwrap_or(CampaignStatus::Draft),
        reason: s.state.reason,
        plan,
        figures,
        created_by: s.created_by,
        created_at: s.created_at,
        updated_at: s.updated_at,
        started_at: s.state.started_at,
        finished_at: s.state.finished_at,
        pilot: s.state.pilot,
        pilot_passed: s.state.pilot_passed,
        daily_cap: s.state.daily_cap,
        next_batch_at,
    })
}

/// A campaign spread over days that has tried `cap` recipients in the last 24 hours: when the
/// oldest of those attempts is a day old, and the next may go. None while it may send now.
pub(crate) async fn next_batch_at(
    conn: &mut SqliteConnection,
    uid: &str,
    cap: u32,
    now: i64,
) -> Result<Option<i64>> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let since = now - DAY_MS;
    let row = sqlx::query!(
        r#"SELECT count(*) AS "n!: i64", min(attempt_at) AS "oldest: i64" FROM campaign_recipients
           WHERE campaign_uid = ? AND attempt_at > ?"#,
        uid,
        since
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.n >= i64::from(cap))
        .then_some(row.oldest)
        .flatten()
        .map(|t| t + DAY_MS))
}

/// How many recipients a campaign spread over days may still try in this 24 hours.
pub(crate) async fn left_today(
    conn: &mut SqliteConnection,
    uid: &str,
    cap: u32,
    now: i64,
) -> Result<usize> {
    let since = now - 24 * 3600 * 1000;
    let tried = sqlx::query_scalar!(
        "SELECT count(*) FROM campaign_recipients WHERE campaign_uid = ? AND attempt_at > ?",
        uid,
        since
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((cap as usize).saturating_sub(tried as usize))
}

/// The report's figures of one campaign (one pass over its rows, by the state index).
pub(crate) async fn figures(conn: &mut SqliteConnection, uid: &str) -> Result<Figures> {
    let rows = sqlx::query!(
        r#"SELECT state, count(*) AS "n!: i64",
                  sum(sent_at IS NOT NULL) AS "sent!: i64",
                  sum(delivered_at IS NOT NULL) AS "delivered!: i64",
                  sum(read_at IS NOT NULL) AS "read!: i64",
                  sum(wamid IS NOT NULL) AS "accepted!: i64"
           FROM campaign_recipients WHERE campaign_uid = ? GROUP BY state"#,
        uid
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut f = Figures::default();
    for r in rows {
        f.total += r.n;
        f.sent += r.sent;
        f.delivered += r.delivered;
        f.read += r.read;
        f.accepted += r.accepted;
        match RecipientState::parse(&r.state) {
            Some(RecipientState::Planned) => f.waiting += r.n,
            Some(RecipientState::Sending) => f.sending += r.n,
            Some(RecipientState::Attention) => f.attention += r.n,
            Some(RecipientState::Replied) => f.replied += r.n,
            Some(RecipientState::Failed) => f.failed += r.n,
            Some(RecipientState::Deferred) => f.deferred += r.n,
            Some(RecipientState::Skipped) => f.skipped += r.n,
            Some(RecipientState::Held) => f.held += r.n,
            _ => {}
        }
    }
    f.recipients = f.total - f.skipped;
    f.delivered_pct = percent(f.delivered, f.recipients);
    f.read_pct = percent(f.read, f.delivered);
    Ok(f)
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

pub(crate) async fn stop_word(conn: &mut SqliteConnection) -> Result<String> {
    Ok(
        sqlx::query_scalar!("SELECT stop_word FROM campaign_settings WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_default(),
    )
}

/// Inserts planned rows from `first` on (a part of a frozen audience); rows already here stay
/// as they are.
pub(crate) async fn insert_recipients(
    conn: &mut SqliteConnection,
    campaign: &str,
    first: i64,
    rows: &[RecipientEntry],
    now: i64,
) -> Result<()> {
    // One statement over the rows as JSON (SQLite's json_each): a 100,000-recipient plan binds
    // one text, not a million values.
    let json = serde_json::to_string(rows).expect("rows serialise");
    let planned = RecipientState::Planned.key();
    let skipped = RecipientState::Skipped.key();
    let planned_rank = RecipientState::Planned.rank();
    let skipped_rank = RecipientState::Skipped.rank();
    sqlx::query!(
        r#"INSERT OR IGNORE INTO campaign_recipients
             (campaign_uid, idx, phone, name, record, params, state, rank, reason, updated_at)
           SELECT ?1, ?2 + j.key, j.value ->> 'phone', j.value ->> 'name', j.value ->> 'record',
                  CASE json_type(j.value, '$.params') WHEN 'array' THEN j.value -> 'params' END,
                  CASE WHEN j.value ->> 'skipped' IS NULL THEN ?3 ELSE ?4 END,
                  CASE WHEN j.value ->> 'skipped' IS NULL THEN ?5 ELSE ?6 END,
                  j.value ->> 'skipped', ?7
           FROM json_each(?8) AS j"#,
        campaign,
        first,
        planned,
        skipped,
        planned_rank,
        skipped_rank,
        now,
        json
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One step of a recipient, from the dispatcher's progress or from a person.
pub(crate) async fn apply_progress(
    conn: &mut SqliteConnection,
    campaign: &str,
    row: &crmconnect_events::payloads::ProgressRow,
) -> Result<()> {
    let Some(state) = RecipientState::parse(&row.state) else {
        return Ok(());
    };
    let key = state.key();
    match state {
        // A new attempt: from planned or deferred (or attention, when a person chose Retry).
        RecipientState::Sending => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = ?, rank = 1, attempts = ?, attempt_at = ?, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND rank = 0 AND attempts < ?",
                key,
                row.attempt,
                row.at,
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        RecipientState::Accepted => {
            sqlx::query!(
                "UPDATE campaign_recipients SET wamid = ?, state = CASE WHEN rank < 2 THEN 'accepted' ELSE state END,
                        rank = max(rank, 2), updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ?",
                row.wamid,
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        RecipientState::Failed => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = 'failed', rank = 4, code = ?, reason = ?, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND rank < 4",
                row.code,
                row.reason,
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        RecipientState::Deferred => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = 'deferred', rank = 0, code = ?, reason = ?, next_at = ?, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND rank < 5",
                row.code,
                row.reason,
                row.next_at,
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        RecipientState::Attention => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = 'attention', updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND state = 'sending'",
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        // A person chose Retry for a recipient that needs attention, or the dispatcher took
        // back a send that certainly did not leave.
        RecipientState::Planned => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = 'planned', rank = 0, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND state IN ('attention', 'sending')",
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        // A person marked a recipient that needs attention as sent.
        RecipientState::Sent => {
            sqlx::query!(
                "UPDATE campaign_recipients SET state = 'sent', rank = 3, sent_at = ?, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND state = 'attention'",
                row.at,
                row.at,
                campaign,
                row.idx,
                row.attempt
            )
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// The tag a campaign message carries in `biz_opaque_callback_data`: Meta echoes it in the
/// message's statuses.
pub(crate) fn tag(campaign: &str, idx: i64, attempt: i64) -> String {
    format!("cr:{campaign}:{idx}:{attempt}")
}

fn parse_tag(tag: &str) -> Option<(&str, i64, i64)> {
    let rest = tag.strip_prefix("cr:")?;
    let mut parts = rest.rsplitn(3, ':');
    let attempt = parts.next()?.parse().ok()?;
    let idx = parts.next()?.parse().ok()?;
    let campaign = parts.next()?;
    Some((campaign, idx, attempt))
}

/// A Meta status of a campaign message, on every replica.
async fn apply_status(tx: &mut SqliteConnection, e: &ReceivedEvent, raw: &Value) -> Result<bool> {
    let s = &raw["value"]["statuses"][0];
    let Some((campaign, idx, attempt)) = s["biz_opaque_callback_data"].as_str().and_then(parse_tag)
    else {
        return Ok(false);
    };
    let Some(status) = e.status.as_deref() else {
        return Ok(false);
    };
    let at = e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at);
    let wamid = e.message_id.as_deref();
    match status {
        // A later step stands for the earlier ones (read was delivered and sent); a step never
        // moves a recipient back.
        "sent" | "delivered" | "read" => {
            let reached = match status {
                "sent" => RecipientState::Sent,
                "delivered" => RecipientState::Delivered,
                _ => RecipientState::Read,
            };
            let (key, rank) = (reached.key(), reached.rank());
            sqlx::query!(
                "UPDATE campaign_recipients SET wamid = coalesce(wamid, ?1), sent_at = coalesce(sent_at, ?2),
                        delivered_at = CASE WHEN ?3 >= 5 THEN coalesce(delivered_at, ?2) ELSE delivered_at END,
                        read_at = CASE WHEN ?3 >= 6 THEN coalesce(read_at, ?2) ELSE read_at END,
                        state = CASE WHEN rank < ?3 THEN ?4 ELSE state END, rank = max(rank, ?3), updated_at = ?2
                 WHERE campaign_uid = ?5 AND idx = ?6 AND attempts <= ?7 AND state <> 'skipped'",
                wamid,
                at,
                rank,
                key,
                campaign,
                idx,
                attempt
            )
            .execute(&mut *tx)
            .await?;
        }
        "held_for_quality_assessment" => {
            sqlx::query!(
                "UPDATE campaign_recipients SET wamid = coalesce(wamid, ?), state = 'held', rank = 3, updated_at = ?
                 WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND rank < 3",
                wamid,
                at,
                campaign,
                idx,
                attempt
            )
            .execute(&mut *tx)
            .await?;
        }
        "failed" => {
            let code = s["errors"][0]["code"].as_i64();
            let reason = crate::chat::content::error_text(&s["errors"][0]);
            let row = sqlx::query!(
                "SELECT r.phone, c.template_category FROM campaign_recipients r JOIN campaigns c ON c.uid = r.campaign_uid
                 WHERE r.campaign_uid = ? AND r.idx = ?",
                campaign,
                idx
            )
            .fetch_optional(&mut *tx)
            .await?;
            let us_marketing = row.as_ref().is_some_and(|r| {
                r.phone.starts_with('1') && r.template_category.eq_ignore_ascii_case("MARKETING")
            });
            if code == Some(131049) && !us_marketing {
                // Meta's per-user marketing limit: this recipient is tried again a day later.
                let next = at + super::dispatch::DEFER_MS;
                sqlx::query!(
                    "UPDATE campaign_recipients SET wamid = coalesce(wamid, ?), state = 'deferred', rank = 0, code = ?,
                            reason = ?, next_at = ?, updated_at = ?
                     WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND rank < 5",
                    wamid,
                    code,
                    reason,
                    next,
                    at,
                    campaign,
                    idx,
                    attempt
                )
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query!(
                    "UPDATE campaign_recipients SET wamid = coalesce(wamid, ?), state = 'failed', rank = 4, code = ?,
                            reason = ?, updated_at = ?
                     WHERE campaign_uid = ? AND idx = ? AND attempts = ? AND rank < 5",
                    wamid,
                    code,
                    reason,
                    at,
                    campaign,
                    idx,
                    attempt
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        _ => {}
    }
    Ok(true)
}

/// A customer's message: it answers the campaign messages they had (replied), and the STOP
/// keyword leaves them out of later campaigns.
async fn apply_inbound(tx: &mut SqliteConnection, e: &ReceivedEvent, raw: &Value) -> Result<bool> {
    let Some(customer) = e.customer.as_deref() else {
        return Ok(false);
    };
    let m = &raw["value"]["messages"][0];
    let text = m["text"]["body"]
        .as_str()
        .or_else(|| m["button"]["text"].as_str())
        .or_else(|| m["button"]["payload"].as_str())
        .unwrap_or_default()
        .trim();
    let at = e.timestamp.map(|t| t * 1000).unwrap_or(e.received_at);
    let word = stop_word(tx).await?;
    if !word.is_empty() && text.eq_ignore_ascii_case(&word) {
        sqlx::query!(
            "INSERT OR IGNORE INTO campaign_optouts (phone, at) VALUES (?, ?)",
            customer,
            at
        )
        .execute(&mut *tx)
        .await?;
    }
    let replied = sqlx::query!(
        "UPDATE campaign_recipients SET state = 'replied', rank = 7, updated_at = ?
         WHERE phone = ? AND rank BETWEEN 2 AND 6",
        at,
        customer
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(replied > 0)
}

/// A `campaign.*` event.
async fn apply_campaign(tx: &mut SqliteConnection, e: &ReceivedEvent, now: i64) -> Result<bool> {
    match e.kind.as_str() {
        "campaign.created" | "campaign.updated" | "campaign.deleted" => {
            let Some(c) = crate::handlers::read_payload::<CampaignState>(e, CampaignState::problem)
            else {
                return Ok(false);
            };
            let gone = sqlx::query_scalar!(
                "SELECT count(*) FROM campaign_tombstones WHERE uid = ?",
                c.uid
            )
            .fetch_one(&mut *tx)
            .await?;
            let here = sqlx::query_scalar!("SELECT version FROM campaigns WHERE uid = ?", c.uid)
                .fetch_optional(&mut *tx)
                .await?;
            // Deleted earlier in the log, or an earlier change of ours coming back after a later
            // one: nothing to do.
            if gone > 0 || here.is_some_and(|v| v > c.version) {
                return Ok(false);
            }
            let by = e.staff.clone().unwrap_or_else(|| "System".into());
            write(tx, &c, &by, now).await?;
        }
        "campaign.recipients" => {
            let Some(part) = crate::handlers::read_payload::<CampaignRecipients>(e, |_| None)
            else {
                return Ok(false);
            };
            let Ok(rows) = crmconnect_events::payloads::unpack_rows::<RecipientEntry>(&part.data)
            else {
                tracing::warn!(
                    seq = e.seq,
                    "a campaign's recipients that do not unpack are skipped"
                );
                return Ok(false);
            };
            let planned = load_uid(tx, &part.campaign).await?;
            // The part of the plan the campaign has here (a later re-plan or edit replaced it).
            // (Planning anew passes through a draft, which lets the old rows go; our own plan
            // coming back finds its rows here and changes none.)
            if planned.is_some_and(|c| status_of(&c.state) != CampaignStatus::Draft) {
                insert_recipients(tx, &part.campaign, part.first, &rows, now).await?;
            }
        }
        "campaign.progress" => {
            let Some(p) = crate::handlers::read_payload::<CampaignProgress>(e, |_| None) else {
                return Ok(false);
            };
            for row in &p.rows {
                apply_progress(tx, &p.campaign, row).await?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// One event on `tx`; whether it changed anything of the campaigns.
async fn apply_on(tx: &mut SqliteConnection, e: &ReceivedEvent, now: i64) -> Result<bool> {
    if e.kind.starts_with("campaign.") {
        return apply_campaign(tx, e, now).await;
    }
    if !matches!(e.kind.as_str(), "status" | "message") {
        return Ok(false);
    }
    let raw: Value = serde_json::from_str(e.raw.get()).unwrap_or(Value::Null);
    if e.kind == "status" {
        apply_status(tx, e, &raw).await
    } else {
        apply_inbound(tx, e, &raw).await
    }
}

/// Events in one transaction (a run of them when catching up or when Meta's statuses pour in).
async fn apply_all(ws: &Workspace, events: &[&ReceivedEvent]) -> Result<()> {
    if !events
        .iter()
        .any(|e| e.kind.starts_with("campaign.") || matches!(e.kind.as_str(), "status" | "message"))
    {
        return Ok(());
    }
    let now = ws.now_ms();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let mut changed = false;
    for e in events {
        changed |= apply_on(&mut tx, e, now).await?;
    }
    tx.commit().await?;
    if changed {
        ws.records_changed(Screen::Campaigns);
    }
    Ok(())
}

inventory::submit! { crate::handlers::DefaultHandler { order: 16, make: handler } }

/// The team's campaigns, applied on every replica; a run of events in one transaction.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    std::sync::Arc::new(CampaignsHandler)
}

struct CampaignsHandler;

impl crate::handlers::Handler for CampaignsHandler {
    fn name(&self) -> &'static str {
        "campaigns"
    }

    fn scope(&self) -> crate::handlers::Scope {
        crate::handlers::Scope::EveryReplica
    }

    fn apply<'a>(
        &'a self,
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move { apply_all(ws, &[e]).await })
    }

    fn apply_run<'a>(
        &'a self,
        ws: &'a Workspace,
        run: &'a [&'a ReceivedEvent],
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_all(ws, run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_its_campaign_recipient_and_attempt() {
        let t = tag("0193abc", 41, 2);
        assert_eq!(parse_tag(&t), Some(("0193abc", 41, 2)));
        assert_eq!(parse_tag("m-123"), None);
        assert_eq!(parse_tag("cr:x:y:1"), None);
    }
}
