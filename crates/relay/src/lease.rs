//! The automation lease: exactly one runner per workspace runs bots and campaigns (issue 21). A
//! runner asks for the lease (`POST /v1/lease`) and renews it every third of `lease_ttl_ms`; while
//! another holds it, the answer says so and the runner waits as standby, asking again. When the
//! holder stops renewing (killed, its machine gone) the lease expires and the next to ask takes
//! it, with the next epoch. A clean stop lets it go at once (`DELETE /v1/lease`).
//!
//! **Fencing.** What a runner publishes carries the lease it holds (`lease` in the publish
//! request): the relay refuses the request when that is not the workspace's current lease, so a
//! runner that was paused (a VM snapshot, a laptop lid) and wakes up after another took over
//! cannot act twice. The grant is one statement on the shared database, so relay instances on
//! PostgreSQL agree on one holder. The check is made when the request arrives, before its events
//! are stored: a runner that stalls between the two for longer than the lease lasts is not
//! caught by it (see docs/relay.md).
//!
//! **Priority.** A desktop working alone (the sandbox workspace, a one-person team) holds the
//! lease itself, asking with `desktop: true`; a server runner that asks takes it from the desktop
//! at once (the next epoch), and the desktop gets it back only once no runner holds it.
//!
//! Who may hold it: an administrator's token, or one whose permissions include editing bots or
//! campaigns (a service member of staff with automation's role); a desktop working alone takes
//! it with its own token.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::RelayState;
use super::http::{authenticate, read_body, refuse};
use super::store::{LeaseRecord, TokenRecord, now_ms};
use crmconnect_access::permissions::{Action, Permission, Resource};

/// What a runner sends to take or renew the lease.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// The runner's name for itself, unique among the workspace's runners (`runner@host:pid`).
    pub holder: String,
    /// What it is doing, shown on the desktops ("2 bots, 1 campaign sending").
    #[serde(default)]
    pub status: String,
    /// A desktop that runs automation because it works alone: a server runner that asks takes
    /// the lease from it at once, and it takes it back only when no runner holds it.
    #[serde(default)]
    pub desktop: bool,
}

/// The lease a publish request is made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseClaim {
    pub holder: String,
    pub epoch: i64,
}

/// The workspace's lease as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseView {
    /// Whether the lease is held now (not expired).
    pub active: bool,
    /// Whether the asker holds it (only in answers to `POST`).
    #[serde(default)]
    pub granted: bool,
    pub holder: String,
    pub staff: String,
    pub epoch: i64,
    pub since: i64,
    pub heartbeat_at: i64,
    pub expires_at: i64,
    pub status: String,
    /// Held by a desktop working alone rather than a server runner.
    #[serde(default)]
    pub desktop: bool,
    /// How long a lease lasts without renewal, in milliseconds.
    pub ttl_ms: u64,
}

impl LeaseView {
    fn of(lease: LeaseRecord, granted: bool, now: i64, ttl_ms: u64) -> Self {
        LeaseView {
            active: lease.expires_at > now,
            granted,
            holder: lease.holder,
            staff: lease.staff,
            epoch: lease.epoch,
            since: lease.since,
            heartbeat_at: lease.heartbeat_at,
            expires_at: lease.expires_at,
            status: lease.status,
            desktop: lease.desktop,
            ttl_ms,
        }
    }
}

/// Whether token `t` may hold its workspace's lease.
fn may_hold(t: &TokenRecord) -> bool {
    t.is_admin
        || [Resource::WhatsappBot, Resource::WhatsappCampaign]
            .into_iter()
            .any(|r| t.permissions.contains(&Permission::new(r, Action::Edit)))
}

fn holder_problem(holder: &str) -> Option<&'static str> {
    let ok = (1..=128).contains(&holder.len())
        && holder
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    (!ok).then_some("holder is 1 to 128 printable characters, no spaces")
}

/// A lease request's body: `{holder, status?, desktop?}`, or the refusal that says so.
async fn lease_request(s: &RelayState, body: axum::body::Body) -> Result<LeaseRequest, Response> {
    let body = read_body(s, body, 16 * 1024).await?;
    serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("the body must be {{holder, status?, desktop?}}: {e}"),
        )
    })
}

/// `POST /v1/lease`: takes or renews the lease; answers the lease as it is, and `granted`.
pub async fn acquire(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !may_hold(&t) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "{} may not run automation: the lease needs an administrator or whatsapp_bot:edit or whatsapp_campaign:edit",
                t.staff
            ),
        );
    }
    let req = match lease_request(&s, body).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Some(problem) = holder_problem(&req.holder) {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problem);
    }
    let status: String = req.status.chars().take(500).collect();
    let ttl = s.config.limits.lease_ttl_ms;
    let now = now_ms();
    match s
        .log
        .store()
        .acquire_lease(
            &t.workspace,
            &req.holder,
            &t.staff,
            &status,
            if req.desktop { 0 } else { 1 },
            now,
            now + ttl as i64,
        )
        .await
    {
        Ok((lease, granted)) => {
            if granted && lease.since == now {
                tracing::info!(
                    workspace = t.workspace,
                    holder = lease.holder,
                    epoch = lease.epoch,
                    "the automation lease changed hands"
                );
            }
            Json(LeaseView::of(lease, granted, now, ttl)).into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `GET /v1/lease`: who runs the workspace's automation, since when, its last heartbeat; 404
/// when no runner ever has.
pub async fn view(State(s): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match s.log.store().lease(&t.workspace).await {
        Ok(Some(lease)) => Json(LeaseView::of(
            lease,
            false,
            now_ms(),
            s.config.limits.lease_ttl_ms,
        ))
        .into_response(),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            "no runner has held this workspace's automation lease",
        ),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `DELETE /v1/lease` with `{holder}`: the holder lets it go (204); 404 if it does not hold it.
pub async fn release(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let req = match lease_request(&s, body).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match s.log.store().release_lease(&t.workspace, &req.holder).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refuse(
            StatusCode::NOT_FOUND,
            format!("{} does not hold this workspace's lease", req.holder),
        ),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// A publish request made under `claim`: refused (409) unless it is the workspace's lease now.
pub async fn check_claim(
    s: &RelayState,
    t: &TokenRecord,
    claim: &LeaseClaim,
) -> Result<(), Response> {
    let lease = s
        .log
        .store()
        .lease(&t.workspace)
        .await
        .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let now = now_ms();
    match lease {
        Some(l) if l.holder == claim.holder && l.epoch == claim.epoch && l.expires_at > now => {
            Ok(())
        }
        current => {
            s.metrics.reject("stale_lease");
            let who = current
                .map(|l| format!("{} holds epoch {}", l.holder, l.epoch))
                .unwrap_or_else(|| "nobody holds it".into());
            tracing::warn!(
                workspace = t.workspace,
                holder = claim.holder,
                epoch = claim.epoch,
                "a publish under a stale lease was refused"
            );
            Err(refuse(
                StatusCode::CONFLICT,
                format!(
                    "stale lease: {} holds epoch {} no longer ({who}); nothing was stored",
                    claim.holder, claim.epoch
                ),
            ))
        }
    }
}
