//! The dispatcher: sends running campaigns, only where automation runs (the active runner, or a
//! desktop working alone), so a campaign goes out once however many desktops are open.
//!
//! Each recipient's attempt is written (state `sending`, and a `campaign.progress` event for the
//! team) before Meta is asked; Meta's answer is written after. The send carries the recipient's
//! tag in `biz_opaque_callback_data`, which Meta echoes in the message's statuses, so a recipient
//! left in `sending` by a crash is settled by its status when it comes, and needs a person's
//! attention when none came within the grace period: it is never sent again blindly.
//!
//! Pacing: a budget per business number (its throughput minus a reserve for people chatting),
//! evenly spaced, with a bounded number of sends in flight, not sleeps; a 130429 from Meta halves
//! it for a while. The campaign's own state decides the rest: a pause is seen before the next
//! group of sends (within a second), 132015 pauses it until Meta approves the template again,
//! 132016 and 132000 stop it and say why, 131049 defers the recipient a day (never a US number's
//! marketing message), 131056 tries the recipient again a minute later.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{CampaignStatus, PILOT_SENT, shared, status_of};
use crate::Result;
use crate::audit::{self, Change, Outcome as Logged};
use crate::connection::{AutomationPacer, AutomationShare};
use crate::meta::ClientError;
use crate::meta::client::GraphClient;
use crate::meta::messages::{Body, Component, Language, Outbound, Template};
use crate::permissions::{Principal, SystemTask};
use crate::screens::Screen;
use crate::workspace::Workspace;
use crmconnect_events::payloads::{
    CampaignProgress, CampaignState, MAX_PROGRESS_ROWS, ProgressRow,
};

/// A recipient deferred by Meta's per-user marketing limit (131049) is tried again this much later.
pub const DEFER_MS: i64 = 24 * 3600 * 1000;
/// A campaign's deferred recipients are tried for at most this long after it started.
pub const DEFER_LIMIT_MS: i64 = 7 * 24 * 3600 * 1000;
/// A recipient refused for the pair rate (131056) is tried again this much later.
const PAIR_RETRY_MS: i64 = 60 * 1000;
/// Most sends waiting for their answer on the outbox before the dispatcher stops taking more: a
/// runner cut off from the relay stops sending (a standby could not know what it took).
const MAX_UNPUBLISHED: i64 = 5_000;
/// How long one campaign sends before the others get a turn and the states are looked at again
/// (a pause is seen sooner: before each group is taken).
const SLICE: Duration = Duration::from_secs(10);
/// How long taken recipients wait for the relay to take their attempts before they are taken back.
const PUBLISH_WITHIN: Duration = Duration::from_secs(5);

/// How the dispatcher runs; the defaults suit a real number.
#[derive(Debug, Clone, Copy)]
pub struct DispatchTuning {
    /// How long a send left in `sending` by an earlier run waits for Meta's status before it
    /// needs a person's attention.
    pub grace: Duration,
    /// Share of the number's throughput left to people chatting, in percent.
    pub chat_reserve_pct: u32,
    /// Messages per second for campaigns; none: the number's throughput minus the reserve.
    pub budget_per_sec: Option<u32>,
    /// How often it looks for work when there is none.
    pub idle: Duration,
}

impl Default for DispatchTuning {
    fn default() -> Self {
        DispatchTuning {
            grace: Duration::from_secs(120),
            chat_reserve_pct: 10,
            budget_per_sec: None,
            idle: Duration::from_millis(250),
        }
    }
}

#[derive(Default)]
struct Dispatch {
    tuning: Mutex<DispatchTuning>,
    /// This process's sends with Meta now, by (campaign, idx): never "needs attention".
    in_flight: Mutex<HashSet<(String, i64)>>,
    /// Campaigns spread over days that used this 24 hours' share: at which version of the
    /// campaign, and when the next may go (ms). A change of the campaign ends the rest.
    resting: Mutex<std::collections::HashMap<String, (i64, i64)>>,
    wake: tokio::sync::Notify,
}

impl Workspace {
    fn dispatch(&self) -> Arc<Dispatch> {
        self.ext()
    }

    /// Sets how the dispatcher runs (tests, the runner's configuration).
    pub fn set_dispatch_tuning(&self, tuning: DispatchTuning) {
        self.set_automation_share(AutomationShare {
            chat_reserve_pct: tuning.chat_reserve_pct,
            per_sec: tuning.budget_per_sec,
        });
        *self
            .dispatch()
            .tuning
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = tuning;
        self.dispatch().wake.notify_one();
    }

    fn dispatch_tuning(&self) -> DispatchTuning {
        *self
            .dispatch()
            .tuning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the dispatcher (a campaign was started or resumed here).
    pub fn campaigns_wake(&self) {
        self.dispatch().wake.notify_one();
    }
}

/// Runs the dispatcher until `stop`; it sends only while this replica runs automation.
pub async fn run_dispatcher(ws: Arc<Workspace>, stop: CancellationToken) {
    let dispatch = ws.dispatch();
    loop {
        if stop.is_cancelled() {
            break;
        }
        let idle = ws.dispatch_tuning().idle;
        let worked = if ws.handlers().runs_automation() {
            match tick(&ws, &stop).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "the campaign dispatcher stumbled; it tries again");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    false
                }
            }
        } else {
            false
        };
        if !worked {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = dispatch.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }
}

/// Rows taken at a time: 100 ms of sending at the budget. Taking a group (the relay has its
/// attempts before any is sent) takes a few milliseconds: each must bring enough to keep the pace.
/// At most two groups are taken and not yet sent, which is what a crash can leave needing a
/// person.
fn group_size(budget: u32) -> usize {
    (budget as usize / 10).clamp(1, 200)
}

/// One look at every campaign: schedules due, paused ones Meta allows again, running ones sent
/// for a while. Whether it did anything.
async fn tick(ws: &Arc<Workspace>, stop: &CancellationToken) -> Result<bool> {
    let now = ws.now_ms();
    let campaigns = shared::all(&mut *ws.db().acquire().await?).await?;
    let mut worked = false;
    for c in campaigns {
        let s = &c.state;
        match status_of(s) {
            CampaignStatus::Scheduled if s.start_at.is_none_or(|at| at <= now) => {
                change(ws, &s.uid, "campaigns.begin", |s| {
                    (status_of(&s) == CampaignStatus::Scheduled).then(|| CampaignState {
                        status: "running".into(),
                        started_at: Some(now),
                        version: s.version + 1,
                        ..s
                    })
                })
                .await?;
                worked = true;
            }
            CampaignStatus::Paused
                if s.reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with(META_PAUSED)) =>
            {
                let status = ws
                    .template_status_of(&s.template_name, &s.template_language)
                    .await?;
                if status.as_deref() == Some("APPROVED") {
                    change(ws, &s.uid, "campaigns.resume", |s| {
                        (status_of(&s) == CampaignStatus::Paused).then(|| CampaignState {
                            status: "running".into(),
                            reason: None,
                            version: s.version + 1,
                            ..s
                        })
                    })
                    .await?;
                    worked = true;
                }
            }
            // A person chose Retry for recipients of a finished campaign (their change may have
            // crossed the campaign's completion in the log): it sends them.
            CampaignStatus::Completed => {
                let waiting = sqlx::query_scalar!(
                    "SELECT count(*) FROM campaign_recipients INDEXED BY campaign_recipients_waiting
                     WHERE campaign_uid = ? AND state IN ('planned', 'deferred', 'sending') AND state = 'planned'",
                    s.uid
                )
                .fetch_one(ws.db())
                .await?;
                if waiting > 0 {
                    change(ws, &s.uid, "campaigns.resume", |s| {
                        (status_of(&s) == CampaignStatus::Completed).then(|| CampaignState {
                            status: "running".into(),
                            finished_at: None,
                            version: s.version + 1,
                            ..s
                        })
                    })
                    .await?;
                    worked = true;
                }
            }
            CampaignStatus::Running => {
                // Meta's template webhook said it first (PAUSED for quality, DISABLED): the
                // campaign stops taking recipients before a send is refused for it.
                let status = ws
                    .template_status_of(&s.template_name, &s.template_language)
                    .await?;
                if let Some(verdict) = template_verdict(s, status.as_deref()) {
                    settle_verdict(ws, s, verdict).await?;
                    worked = true;
                    continue;
                }
                worked |= reconcile(ws, s).await?;
                worked |= send(ws, s, stop).await?;
                let left = sqlx::query_scalar!(
                    "SELECT count(*) FROM campaign_recipients INDEXED BY campaign_recipients_waiting
                     WHERE campaign_uid = ? AND state IN ('planned', 'deferred', 'sending')",
                    s.uid
                )
                .fetch_one(ws.db())
                .await?;
                if left == 0 {
                    let at = ws.now_ms();
                    change(ws, &s.uid, "campaigns.complete", |s| {
                        (status_of(&s) == CampaignStatus::Running).then(|| CampaignState {
                            status: "completed".into(),
                            finished_at: Some(at),
                            version: s.version + 1,
                            ..s
                        })
                    })
                    .await?;
                    worked = true;
                }
            }
            _ => {}
        }
    }
    Ok(worked)
}

const META_PAUSED: &str = "Meta paused the template";

/// What the template's status at Meta means for a running campaign, if anything.
fn template_verdict(s: &CampaignState, status: Option<&str>) -> Option<Verdict> {
    match status {
        Some("PAUSED") => Some(Verdict::Pause(format!(
            "{META_PAUSED} “{}” for its quality: the campaign resumes by itself when Meta approves it again",
            s.template_name
        ))),
        Some("DISABLED") => Some(Verdict::Stop(format!(
            "Meta disabled the template “{}”: the campaign cannot go on",
            s.template_name
        ))),
        _ => None,
    }
}

/// Rows left in `sending` by an earlier run with no status within the grace period need
/// attention; deferred ones past the campaign's limit fail.
async fn reconcile(ws: &Workspace, s: &CampaignState) -> Result<bool> {
    let now = ws.now_ms();
    let grace = ws.dispatch_tuning().grace.as_millis() as i64;
    let before = now - grace;
    let stale = sqlx::query!(
        "SELECT idx, attempts FROM campaign_recipients INDEXED BY campaign_recipients_waiting
         WHERE campaign_uid = ? AND state IN ('planned', 'deferred', 'sending') AND state = 'sending' AND attempt_at < ?",
        s.uid,
        before
    )
    .fetch_all(ws.db())
    .await?;
    let mut rows = Vec::new();
    {
        let flying = ws
            .dispatch()
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for r in stale {
            if !flying.contains(&(s.uid.clone(), r.idx)) {
                rows.push(ProgressRow {
                    idx: r.idx,
                    state: "attention".into(),
                    attempt: r.attempts,
                    at: now,
                    code: None,
                    reason: None,
                    wamid: None,
                    next_at: None,
                });
            }
        }
    }
    let expired = s.started_at.is_some_and(|at| now - at > DEFER_LIMIT_MS);
    if expired {
        let late = sqlx::query!(
            "SELECT idx, attempts FROM campaign_recipients INDEXED BY campaign_recipients_waiting
             WHERE campaign_uid = ? AND state IN ('planned', 'deferred', 'sending') AND state = 'deferred' AND next_at <= ?",
            s.uid,
            now
        )
        .fetch_all(ws.db())
        .await?;
        rows.extend(late.into_iter().map(|r| ProgressRow {
            idx: r.idx,
            state: "failed".into(),
            attempt: r.attempts,
            at: now,
            code: Some(131049),
            reason: Some(
                "Deferred by Meta's per-user marketing limit for the campaign's 7 days".into(),
            ),
            wamid: None,
            next_at: None,
        }));
    }
    if rows.is_empty() {
        return Ok(false);
    }
    tracing::warn!(campaign = %s.uid, rows = rows.len(), "campaign recipients settled by the dispatcher (attention or expired)");
    record(ws, &s.uid, &rows).await?;
    Ok(true)
}

/// Writes progress rows here and for the team, in one transaction; returns the events' ids.
async fn record(ws: &Workspace, campaign: &str, rows: &[ProgressRow]) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let sender = Principal::system(SystemTask::CampaignDispatcher);
    for chunk in rows.chunks(MAX_PROGRESS_ROWS) {
        for r in chunk {
            shared::apply_progress(&mut tx, campaign, r).await?;
        }
        let p = CampaignProgress {
            campaign: campaign.to_owned(),
            rows: chunk.to_vec(),
        };
        ids.push(
            crate::outbox::emit(
                &mut tx,
                &sender,
                "campaign.progress",
                &serde_json::to_value(&p).expect("progress serialises"),
            )
            .await?,
        );
    }
    tx.commit().await?;
    ws.outbox_written();
    ws.records_changed(Screen::Campaigns);
    Ok(ids)
}

/// A change of a campaign's state made by the dispatcher, in the Activity Log as the system.
async fn change(
    ws: &Workspace,
    uid: &str,
    action: &'static str,
    f: impl FnOnce(CampaignState) -> Option<CampaignState>,
) -> Result<()> {
    let sender = Principal::system(SystemTask::CampaignDispatcher);
    let now = ws.now_ms();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let Some(current) = shared::load_uid(&mut tx, uid).await? else {
        return Ok(());
    };
    let name = current.state.name.clone();
    let Some(next) = f(current.state) else {
        return Ok(());
    };
    let detail = next.reason.clone();
    shared::write(&mut tx, &next, &sender.name, now).await?;
    crate::outbox::emit(
        &mut tx,
        &sender,
        "campaign.updated",
        &serde_json::to_value(&next).expect("a campaign serialises"),
    )
    .await?;
    audit::insert(
        &mut tx,
        &sender,
        &Change::new(Screen::Campaigns, action, format!("campaign “{name}”")),
        Logged::Ok,
        detail.as_deref(),
    )
    .await?;
    tx.commit().await?;
    ws.outbox_written();
    ws.records_changed(Screen::Campaigns);
    Ok(())
}

/// A recipient taken for sending.
struct Taken {
    idx: i64,
    attempt: i64,
    phone: String,
    components: Vec<Component>,
}

/// What Meta answered for one recipient.
struct Answer {
    idx: i64,
    attempt: i64,
    phone: String,
    result: std::result::Result<String, ClientError>,
}

/// What an answer means for the campaign as a whole.
enum Verdict {
    Go,
    SlowDown,
    Pause(String),
    /// The pilot went out: paused for a person (never resumed by itself).
    Pilot(String),
    Stop(String),
    /// Meta cannot be reached (why): stop for now, try later.
    Unreachable(String),
}

/// Sends the campaign's next recipients for up to [`SLICE`]. Whether it sent anything.
async fn send(ws: &Arc<Workspace>, s: &CampaignState, stop: &CancellationToken) -> Result<bool> {
    let (client, ids) = match ws.graph_client().await {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(error = %e, "campaigns wait for a connection to Meta");
            return Ok(false);
        }
    };
    if ws
        .template_def_of(&s.template_name, &s.template_language)
        .await?
        .is_none()
    {
        let reason = format!(
            "The template “{}” ({}) is not known where the campaign runs: sync the templates, then resume",
            s.template_name, s.template_language
        );
        change(ws, &s.uid, "campaigns.paused_no_template", |c| {
            (status_of(&c) == CampaignStatus::Running).then(|| CampaignState {
                status: "paused".into(),
                reason: Some(reason),
                version: c.version + 1,
                ..c
            })
        })
        .await?;
        return Ok(false);
    }
    let number = s.number_id.clone().unwrap_or(ids.phone_number_id);
    let deadline = Instant::now() + SLICE;
    // A pilot not yet passed: only its first recipients are taken, then the campaign pauses.
    let mut pilot_left: Option<usize> = match s.pilot {
        Some(n) if !s.pilot_passed => {
            let tried = sqlx::query_scalar!(
                "SELECT count(*) FROM campaign_recipients WHERE campaign_uid = ? AND attempts > 0",
                s.uid
            )
            .fetch_one(ws.db())
            .await?;
            Some((n as usize).saturating_sub(tried as usize))
        }
        _ => None,
    };
    let mut pilot_done = false;
    // Spread over days: what is left of this 24 hours' share; none left, it rests until the
    // oldest attempt of the day is a day old.
    let now = ws.now_ms();
    let resting = |uid: &str| {
        ws.dispatch()
            .resting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(uid)
            .copied()
    };
    if s.daily_cap.is_some()
        && resting(&s.uid).is_some_and(|(version, until)| version == s.version && until > now)
    {
        return Ok(false);
    }
    let mut day_left: Option<usize> = match s.daily_cap {
        Some(cap) => {
            let mut conn = ws.db().acquire().await?;
            let left = shared::left_today(&mut conn, &s.uid, cap, now).await?;
            if left == 0 {
                let until = shared::next_batch_at(&mut conn, &s.uid, cap, now)
                    .await?
                    .unwrap_or(now + 60_000);
                ws.dispatch()
                    .resting
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(s.uid.clone(), (s.version, until));
                return Ok(false);
            }
            Some(left)
        }
        None => None,
    };
    let mut flying = tokio::task::JoinSet::new();
    let mut answers: Vec<Answer> = Vec::new();
    let mut last_flush = Instant::now();
    let mut taking = true;
    let mut worked = false;
    let mut verdict = Verdict::Go;
    loop {
        if taking && (Instant::now() > deadline || stop.is_cancelled()) {
            taking = false;
        }
        // The budget may change while sending (Meta raised the number's throughput).
        let pacer = ws.automation_pacer(&number);
        let group = group_size(pacer.budget());
        if taking && pilot_left == Some(0) {
            taking = false;
            pilot_done = true;
        }
        if taking && day_left == Some(0) {
            taking = false;
        }
        if taking && flying.len() + group <= (group * 2).max(8) {
            if !still_running(ws, &s.uid).await? {
                taking = false;
            } else if let Some(v) = template_verdict(
                s,
                ws.template_status_of(&s.template_name, &s.template_language)
                    .await?
                    .as_deref(),
            ) {
                // Meta's webhook paused or disabled the template meanwhile.
                verdict = v;
                taking = false;
            } else {
                let want = [pilot_left, day_left]
                    .into_iter()
                    .flatten()
                    .fold(group, usize::min);
                let taken = take(ws, s, want).await?;
                if taken.is_empty() {
                    taking = false;
                }
                for left in [pilot_left.as_mut(), day_left.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    *left = left.saturating_sub(taken.len());
                }
                for t in taken {
                    worked = true;
                    flying.spawn(send_one(
                        client.clone(),
                        number.clone(),
                        s,
                        t,
                        pacer.clone(),
                    ));
                }
            }
        }
        if flying.is_empty() {
            if !taking {
                break;
            }
            continue;
        }
        if let Some(joined) = flying.join_next().await {
            match joined {
                Ok(a) => answers.push(a),
                Err(e) => tracing::error!(error = %e, "a campaign send task failed"),
            }
        }
        if answers.len() >= 500 || last_flush.elapsed() > Duration::from_millis(100) {
            let v = settle(ws, s, std::mem::take(&mut answers)).await?;
            last_flush = Instant::now();
            match v {
                Verdict::Go => {}
                Verdict::SlowDown => ws.automation_pacer(&number).slow_down(),
                other => {
                    verdict = other;
                    taking = false;
                }
            }
        }
    }
    if !answers.is_empty() {
        match settle(ws, s, answers).await? {
            Verdict::Go => {}
            Verdict::SlowDown => ws.automation_pacer(&number).slow_down(),
            other => verdict = other,
        }
    }
    if pilot_done && matches!(verdict, Verdict::Go | Verdict::SlowDown) {
        let rest = sqlx::query_scalar!(
            "SELECT count(*) FROM campaign_recipients INDEXED BY campaign_recipients_waiting
             WHERE campaign_uid = ? AND state IN ('planned', 'deferred', 'sending') AND state = 'planned'",
            s.uid
        )
        .fetch_one(ws.db())
        .await?;
        if rest > 0 {
            verdict = Verdict::Pilot(format!(
                "{PILOT_SENT} to {} recipients: look at the report, then resume to send the other {rest}",
                s.pilot.unwrap_or(0)
            ));
        }
    }
    let unreachable = matches!(verdict, Verdict::Unreachable(_));
    settle_verdict(ws, s, verdict).await?;
    if unreachable {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
    Ok(worked)
}

/// Carries out what Meta's answers or the template's status mean for the campaign: paused
/// (resumed by itself when Meta approves the template again) or stopped, with the reason.
async fn settle_verdict(ws: &Workspace, s: &CampaignState, verdict: Verdict) -> Result<()> {
    match verdict {
        Verdict::Pilot(reason) | Verdict::Pause(reason) => {
            let action = if reason.starts_with(PILOT_SENT) {
                "campaigns.pilot_sent"
            } else {
                "campaigns.paused_by_meta"
            };
            change(ws, &s.uid, action, |c| {
                (status_of(&c) == CampaignStatus::Running).then(|| CampaignState {
                    status: "paused".into(),
                    reason: Some(reason),
                    version: c.version + 1,
                    ..c
                })
            })
            .await?
        }
        Verdict::Stop(reason) => {
            let at = ws.now_ms();
            change(ws, &s.uid, "campaigns.stopped_by_meta", |c| {
                (matches!(
                    status_of(&c),
                    CampaignStatus::Running | CampaignStatus::Paused
                ))
                .then(|| CampaignState {
                    status: "stopped".into(),
                    reason: Some(reason),
                    finished_at: Some(at),
                    version: c.version + 1,
                    ..c
                })
            })
            .await?
        }
        Verdict::Unreachable(why) => {
            tracing::warn!(error = %why, "campaigns cannot reach Meta: they try again shortly");
        }
        Verdict::Go | Verdict::SlowDown => {}
    }
    Ok(())
}

async fn still_running(ws: &Workspace, uid: &str) -> Result<bool> {
    if !ws.handlers().runs_automation() {
        return Ok(false);
    }
    let status = sqlx::query_scalar!("SELECT status FROM campaigns WHERE uid = ?", uid)
        .fetch_optional(ws.db())
        .await?;
    Ok(status.as_deref() == Some("running"))
}

/// Takes the next `n` recipients: their attempts are written (here and for the team) before any
/// is sent.
async fn take(ws: &Workspace, s: &CampaignState, n: usize) -> Result<Vec<Taken>> {
    let unpublished = sqlx::query_scalar!("SELECT count(*) FROM sync_outbox")
        .fetch_one(ws.db())
        .await?;
    if unpublished > MAX_UNPUBLISHED {
        tracing::warn!(
            unpublished,
            "campaigns wait: the team has not heard of the last sends yet"
        );
        return Ok(Vec::new());
    }
    let Some(def) = ws
        .template_def_of(&s.template_name, &s.template_language)
        .await?
    else {
        return Err(super::CampaignsError::Invalid {
            field: "template_id",
            problem: format!(
                "the template “{}” ({}) is not on this replica yet",
                s.template_name, s.template_language
            ),
        }
        .into());
    };
    let now = ws.now_ms();
    let limit = n as i64;
    let rows = sqlx::query!(
        r#"SELECT idx, phone, params AS "params!", attempts FROM campaign_recipients INDEXED BY campaign_recipients_waiting
           WHERE campaign_uid = ?1 AND state IN ('planned', 'deferred', 'sending')
             AND (state = 'planned' OR (state = 'deferred' AND next_at <= ?2)) AND params IS NOT NULL
           ORDER BY idx LIMIT ?3"#,
        s.uid,
        now,
        limit
    )
    .fetch_all(ws.db())
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut taken = Vec::with_capacity(rows.len());
    let mut progress = Vec::with_capacity(rows.len());
    for r in rows {
        let components = serde_json::from_str::<Vec<String>>(&r.params)
            .map_err(|e| e.to_string())
            .and_then(|values| {
                crate::templates::fill_values(&def, &values).map_err(|e| e.to_string())
            });
        let components: Vec<Component> = match components {
            Ok(c) => c,
            Err(e) => {
                progress.push(ProgressRow {
                    idx: r.idx,
                    state: "failed".into(),
                    attempt: r.attempts,
                    at: now,
                    code: None,
                    reason: Some(format!("its values do not fit the template: {e}")),
                    wamid: None,
                    next_at: None,
                });
                continue;
            }
        };
        progress.push(ProgressRow {
            idx: r.idx,
            state: "sending".into(),
            attempt: r.attempts + 1,
            at: now,
            code: None,
            reason: None,
            wamid: None,
            next_at: None,
        });
        taken.push(Taken {
            idx: r.idx,
            attempt: r.attempts + 1,
            phone: r.phone,
            components,
        });
    }
    {
        let dispatch = ws.dispatch();
        let mut flying = dispatch.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for t in &taken {
            flying.insert((s.uid.clone(), t.idx));
        }
    }
    let events = record(ws, &s.uid, &progress).await?;
    crate::fault::point("campaign_after_take");
    // Sent only once the team's log has the attempts: a standby taking over after a crash
    // knows these recipients may have been sent, and a runner whose lease is stale is refused
    // here, before it sends anything.
    let deadline = Instant::now() + PUBLISH_WITHIN;
    let published = loop {
        match crate::outbox::published(&mut *ws.db().acquire().await?, &events).await? {
            Some(ok) => break ok,
            None if Instant::now() > deadline => break false,
            None => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    if !published {
        tracing::warn!(campaign = %s.uid, "the relay did not take the campaign's next attempts: they are taken back, not sent");
        let back: Vec<ProgressRow> = taken
            .iter()
            .map(|t| ProgressRow {
                idx: t.idx,
                state: "planned".into(),
                attempt: t.attempt,
                at: now,
                code: None,
                reason: None,
                wamid: None,
                next_at: None,
            })
            .collect();
        record(ws, &s.uid, &back).await?;
        let dispatch = ws.dispatch();
        let mut flying = dispatch.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for t in &taken {
            flying.remove(&(s.uid.clone(), t.idx));
        }
        return Ok(Vec::new());
    }
    Ok(taken)
}

fn send_one(
    client: GraphClient,
    number: String,
    s: &CampaignState,
    t: Taken,
    pacer: Arc<AutomationPacer>,
) -> impl std::future::Future<Output = Answer> + use<> {
    let message = Outbound {
        to: t.phone.clone(),
        body: Body::Template {
            template: Template {
                name: s.template_name.clone(),
                language: Language {
                    code: s.template_language.clone(),
                    policy: None,
                },
                components: t.components,
            },
        },
        context: None,
        biz_opaque_callback_data: Some(shared::tag(&s.uid, t.idx, t.attempt)),
    };
    async move {
        pacer.until_ready().await;
        let result = client.send(&number, &message).await.and_then(|r| {
            r.messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| ClientError::Decode {
                    url: "messages".into(),
                    reason: "Meta's answer has no message id".into(),
                })
        });
        Answer {
            idx: t.idx,
            attempt: t.attempt,
            phone: t.phone,
            result,
        }
    }
}

/// Writes Meta's answers (accepted, refused, deferred…) and says what they mean for the campaign.
async fn settle(ws: &Workspace, s: &CampaignState, answers: Vec<Answer>) -> Result<Verdict> {
    let now = ws.now_ms();
    let marketing = s.template_category.eq_ignore_ascii_case("MARKETING");
    let mut verdict = Verdict::Go;
    let mut rows = Vec::with_capacity(answers.len());
    for a in &answers {
        let row = |state: &str| ProgressRow {
            idx: a.idx,
            state: state.into(),
            attempt: a.attempt,
            at: now,
            code: None,
            reason: None,
            wamid: None,
            next_at: None,
        };
        match &a.result {
            Ok(wamid) => rows.push(ProgressRow {
                wamid: Some(wamid.clone()),
                ..row("accepted")
            }),
            Err(e) => {
                let code = e.graph_code();
                let reason = e.to_string();
                match code {
                    Some(131049) if !(marketing && a.phone.starts_with('1')) => {
                        rows.push(ProgressRow {
                            code,
                            reason: Some(reason),
                            next_at: Some(now + DEFER_MS),
                            ..row("deferred")
                        })
                    }
                    Some(131056) => rows.push(ProgressRow {
                        code,
                        reason: Some(reason),
                        next_at: Some(now + PAIR_RETRY_MS),
                        ..row("deferred")
                    }),
                    Some(130429) => {
                        rows.push(row("planned"));
                        if matches!(verdict, Verdict::Go) {
                            verdict = Verdict::SlowDown;
                        }
                    }
                    Some(c @ (132015 | 132016)) => {
                        rows.push(row("planned"));
                        let status = if c == 132015 { "PAUSED" } else { "DISABLED" };
                        if let Some(v) = template_verdict(s, Some(status)) {
                            verdict = v;
                        }
                    }
                    Some(c @ (132000 | 132001 | 132005 | 132007 | 132012)) => {
                        rows.push(ProgressRow {
                            code,
                            reason: Some(reason.clone()),
                            ..row("failed")
                        });
                        verdict = Verdict::Stop(format!(
                            "Meta refused the template (code {c}): {reason}"
                        ));
                    }
                    _ if e.maybe_sent() => {
                        // Left in `sending`: its status settles it, or a person does.
                        tracing::warn!(error = %e, "a campaign send may have gone out; its status will say");
                    }
                    _ if e.certainly_not_sent() => {
                        rows.push(row("planned"));
                        if matches!(e, ClientError::Transport { .. }) {
                            verdict = Verdict::Unreachable(e.to_string());
                        }
                    }
                    _ => rows.push(ProgressRow {
                        code,
                        reason: Some(reason),
                        ..row("failed")
                    }),
                }
            }
        }
    }
    record(ws, &s.uid, &rows).await?;
    {
        let dispatch = ws.dispatch();
        let mut flying = dispatch.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for a in &answers {
            flying.remove(&(s.uid.clone(), a.idx));
        }
    }
    Ok(verdict)
}
