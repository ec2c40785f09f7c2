//! The relay's HTTP surface: Meta's webhook endpoint, the desktops' publish endpoint and stream,
//! `/healthz` and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::RelayState;
use super::events::{Fields, NewEvent, Source, split_webhook};
use super::log::{Fetch, LogError, events_frame, take_frame};
use super::store::TokenRecord;
use super::tokens;
use crmconnect_access::permissions::Permission;
use crmconnect_events::kinds::{Read, Reader};
use crmconnect_events::{kinds, payloads};
use crmconnect_meta::signature;

/// WebSocket close codes the desktop understands.
pub mod close {
    /// The token was revoked or has expired.
    pub const REVOKED: u16 = 4001;
    /// The client did not take a frame in time; reconnect and resume from the cursor.
    pub const TOO_SLOW: u16 = 4008;
    /// Events after the cursor were deleted by the retention policy; resynchronise.
    pub const CURSOR_EXPIRED: u16 = 4010;
    /// The cursor is ahead of the log's head: the relay's database was restored from an older
    /// backup or replaced. Resume from the head (`whoami`), not from the cursor, or every event
    /// up to the cursor would be skipped.
    pub const CURSOR_AHEAD: u16 = 4011;
    /// The relay is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The relay cannot do its checks now (its database does not answer); reconnect later.
    pub const UNAVAILABLE: u16 = 1011;
}

pub fn router(state: Arc<RelayState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/webhook/{workspace}",
            get(verify_subscription).post(receive_webhook),
        )
        .route("/v1/events", post(publish))
        .route("/v1/stream", get(stream))
        .route("/v1/whoami", get(whoami))
        .route(
            "/v1/webhook",
            get(webhook_settings).put(set_webhook_settings),
        )
        .route("/v1/tokens", get(list_tokens).post(issue_token))
        .route("/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route(
            "/v1/lease",
            get(super::lease::view)
                .post(super::lease::acquire)
                .delete(super::lease::release),
        )
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    database: &'static str,
}

async fn healthz(State(s): State<Arc<RelayState>>) -> Response {
    let database = if s.log.store().is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    match s.log.store().head("").await {
        Ok(_) => Json(Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            database,
        })
        .into_response(),
        Err(e) => {
            // The reason goes to the log, not to whoever asks: it may name hosts and users.
            tracing::warn!(error = %e, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database unavailable"})),
            )
                .into_response()
        }
    }
}

/// The metrics name workspaces and token ids: they answer the metrics token, or, without one,
/// this machine only.
async fn metrics(
    State(s): State<Arc<RelayState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let allowed = match &s.config.metrics_token {
        Some(token) => bearer(&headers).is_some_and(|given| {
            signature::constant_time_eq(given.as_bytes(), token.expose().as_bytes())
        }),
        None => peer.ip().is_loopback(),
    };
    if !allowed {
        s.metrics.reject("metrics_refused");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the metrics need the relay's metrics token (metrics_token)",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's GET handshake when the callback URL is set up.
async fn verify_subscription(
    State(s): State<Arc<RelayState>>,
    Path(workspace): Path<String>,
    Query(q): Query<Handshake>,
) -> Response {
    let ws = match s.webhook_config(&workspace).await {
        Ok(ws) => ws,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    // An unknown workspace is answered like a wrong verify token: the relay does not say which
    // workspaces it serves.
    let ok = q.mode.as_deref() == Some("subscribe")
        && ws.is_some_and(|ws| {
            q.verify_token.as_deref().is_some_and(|t| {
                signature::constant_time_eq(t.as_bytes(), ws.verify_token.expose().as_bytes())
            })
        });
    match (ok, q.challenge) {
        (true, Some(challenge)) => {
            tracing::info!(workspace, "webhook subscription verified");
            ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response()
        }
        _ => {
            s.metrics.reject("bad_verify_token");
            refuse(
                StatusCode::FORBIDDEN,
                "hub.mode must be subscribe and hub.verify_token must match",
            )
        }
    }
}

/// The account or number a webhook event is about when it is not `ws`'s (when `ws` names its
/// own).
fn foreign_account(ws: &super::config::WorkspaceConfig, f: &Fields) -> Option<String> {
    if let (Some(own), Some(theirs)) = (&ws.waba_id, &f.waba_id)
        && own != theirs
    {
        return Some(format!("WhatsApp Business Account {theirs}"));
    }
    match &f.phone_number_id {
        Some(n) if !ws.phone_number_ids.is_empty() && !ws.phone_number_ids.contains(n) => {
            Some(format!("phone number {n}"))
        }
        _ => None,
    }
}

/// Meta's POST: verified over the raw bytes before anything is parsed, answered 200 only once
/// its events are durable.
async fn receive_webhook(
    State(s): State<Arc<RelayState>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    s.metrics.webhooks.inc();
    let body = match read_body(&s, body, s.config.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let sig = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    // An unknown workspace is checked against a key no signature matches: the same work and the
    // same answer as a wrong signature, so the relay does not say which workspaces it serves.
    let ws = match s.webhook_config(&workspace).await {
        Ok(ws) => ws,
        // Meta retries what is not answered 200.
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let ws = ws.as_ref();
    let secret = ws.map_or(&b"no workspace has this key"[..], |w| {
        w.app_secret.expose().as_bytes()
    });
    let verified = signature::verify(secret, &body, sig).and_then(|()| {
        ws.map(drop)
            .ok_or(crmconnect_meta::signature::SignatureError::Mismatch)
    });
    let ws = match (ws, verified) {
        (Some(ws), Ok(())) => ws,
        (_, r) => {
            let e = r
                .err()
                .unwrap_or(crmconnect_meta::signature::SignatureError::Mismatch);
            s.metrics.reject("bad_signature");
            tracing::warn!(workspace, error = %e, "webhook refused");
            return refuse(StatusCode::UNAUTHORIZED, e.to_string());
        }
    };
    let mut events = match split_webhook(&body) {
        Ok(e) => e,
        Err(e) => {
            s.metrics.reject("malformed_json");
            return refuse(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    if let Some(foreign) = events.iter().find_map(|e| foreign_account(ws, &e.fields)) {
        s.metrics.reject("foreign_account");
        tracing::warn!(workspace, foreign, "webhook for another account refused");
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "this webhook is about {foreign}, which is not this workspace's: nothing was stored"
            ),
        );
    }
    // Events older than the retention are not stored: their idempotency keys may be gone with
    // the events they repeat, and storing them again would deliver them twice.
    if s.config.retention.days > 0 {
        let oldest = super::store::now_ms() / 1000 - i64::from(s.config.retention.days) * 86_400;
        let before = events.len();
        events.retain(|e| e.fields.timestamp.is_none_or(|t| t >= oldest));
        let dropped = before - events.len();
        if dropped > 0 {
            s.metrics
                .rejections
                .get_or_create(&super::metrics::Reason { reason: "too_old" })
                .inc_by(dropped as u64);
            tracing::info!(
                workspace,
                events = dropped,
                "webhook events older than the retention ignored"
            );
        }
    }
    match s.log.append(&workspace, events).await {
        Ok(appended) => {
            tracing::debug!(workspace, events = appended.len(), "webhook stored");
            StatusCode::OK.into_response()
        }
        Err(LogError::ShuttingDown) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the relay is shutting down; Meta will retry",
        ),
        Err(e) => {
            s.metrics.reject("storage");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub(crate) async fn authenticate(
    s: &RelayState,
    headers: &HeaderMap,
) -> Result<TokenRecord, Response> {
    let token = bearer(headers);
    let Some(token) = token else {
        s.metrics.reject("no_token");
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "send the desktop's token as Authorization: Bearer <token>",
        ));
    };
    match tokens::authenticate(s.log.store(), token).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => {
            s.metrics.reject("bad_token");
            Err(refuse(
                StatusCode::UNAUTHORIZED,
                "this token is unknown, was revoked or has expired",
            ))
        }
        Err(e) => Err(refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

#[derive(Serialize)]
struct WhoAmI {
    workspace: String,
    staff: String,
    is_admin: bool,
    head: i64,
    /// The first sequence number still kept, or `head + 1` when retention kept none: where a
    /// desktop resumes after [`close::CURSOR_EXPIRED`].
    oldest: i64,
    /// What the token was granted (`resource:action`; empty for an administrator, who reads
    /// everything): the desktop applies only the kinds these let it read.
    permissions: Vec<String>,
}

/// Lets a desktop test its relay settings.
async fn whoami(State(s): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let store = s.log.store();
    match tokio::try_join!(store.head(&t.workspace), store.oldest(&t.workspace)) {
        Ok((head, oldest)) => Json(WhoAmI {
            workspace: t.workspace,
            staff: t.staff,
            is_admin: t.is_admin,
            head,
            oldest: oldest.unwrap_or(head + 1),
            permissions: t
                .permissions
                .iter()
                .map(|p| format!("{}:{}", p.resource.key(), p.action.key()))
                .collect(),
        })
        .into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// What the relay knows of the token's workspace's webhooks (never a secret): its admin's, to see
/// whether the workspace is set up.
async fn webhook_settings(State(s): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let t = match authenticate_admin(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match s
        .webhooks
        .view(&s.config, s.log.store(), &t.workspace)
        .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The workspace's admin gives the relay Meta's app secret and a verify token when the workspace
/// goes live, so that no one edits the relay's configuration by hand. Answers what
/// [`webhook_settings`] answers.
async fn set_webhook_settings(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (t, input) = match admin_json::<super::webhooks::WebhookInput>(
        &s,
        &headers,
        body,
        "{app_secret, verify_token, waba_id?, phone_number_ids?}",
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let by = format!("{} (token {})", t.staff, t.id);
    use super::webhooks::SetError;
    match s
        .webhooks
        .set(&s.config, s.log.store(), &t.workspace, input, &by)
        .await
    {
        Ok(()) => {
            tracing::info!(
                workspace = t.workspace,
                token = t.id,
                "webhook settings set from the app"
            );
            match s
                .webhooks
                .view(&s.config, s.log.store(), &t.workspace)
                .await
            {
                Ok(v) => Json(v).into_response(),
                Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            }
        }
        Err(e @ SetError::InConfig) => refuse(StatusCode::CONFLICT, e.to_string()),
        Err(e @ SetError::Invalid(_)) => refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(SetError::Store(e)) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The tokens of the admin's workspace (never the tokens themselves), for Settings → Team.
async fn list_tokens(State(s): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let t = match authenticate_admin(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match s.log.store().list_tokens(Some(&t.workspace)).await {
        Ok(list) => Json(
            list.into_iter()
                .map(tokens::TokenView::from)
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// An administrator issues a token of their own workspace: shown once in the answer, stored
/// hashed, as `relay token issue` does.
async fn issue_token(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (t, request) = match admin_json::<tokens::IssueRequest>(
        &s,
        &headers,
        body,
        "{staff, is_admin?, permissions?, label?, expires_in_days?}",
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let spec = match request.spec(&t.workspace) {
        Ok(spec) => spec,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    match tokens::issue(s.log.store(), spec).await {
        Ok((record, secret)) => {
            tracing::info!(
                workspace = t.workspace,
                by = t.id,
                token = record.id,
                staff = record.staff,
                "token issued from the app"
            );
            (
                StatusCode::CREATED,
                Json(tokens::Issued {
                    token: record.into(),
                    secret,
                }),
            )
                .into_response()
        }
        Err(tokens::TokenError::Store(e)) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// An administrator revokes a token of their own workspace: its desktop is cut off within the
/// poll interval and what it publishes afterwards is refused.
async fn revoke_token(
    State(s): State<Arc<RelayState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = match authenticate_admin(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let store = s.log.store();
    let mine = match store.list_tokens(Some(&t.workspace)).await {
        Ok(list) => list
            .into_iter()
            .any(|x| x.id == id && x.revoked_at.is_none()),
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    // Another workspace's token is answered like an unknown one.
    if !mine {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("this workspace has no active token {id}"),
        );
    }
    match store.revoke_token(&id).await {
        Ok(_) => {
            tracing::info!(
                workspace = t.workspace,
                by = t.id,
                token = id,
                "token revoked from the app"
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// An administrator's request with a JSON body of `shape` (named in the refusal), at most 64 KiB.
async fn admin_json<T: serde::de::DeserializeOwned>(
    s: &RelayState,
    headers: &HeaderMap,
    body: axum::body::Body,
    shape: &str,
) -> Result<(TokenRecord, T), Response> {
    let t = authenticate_admin(s, headers).await?;
    let body = read_body(s, body, 64 * 1024).await?;
    let value = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("the body must be {shape}: {e}"),
        )
    })?;
    Ok((t, value))
}

/// The token, which must be an administrator's.
async fn authenticate_admin(s: &RelayState, headers: &HeaderMap) -> Result<TokenRecord, Response> {
    let t = authenticate(s, headers).await?;
    if !t.is_admin {
        s.metrics.reject("not_admin");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "only an administrator's token may do this; {}'s token is not one",
                t.staff
            ),
        ));
    }
    Ok(t)
}

/// One event a desktop publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishedEvent {
    /// The client's event id: publishing it again is harmless.
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PublishRequest {
    pub events: Vec<PublishedEvent>,
    /// Automation publishes under the lease it holds: the relay refuses the whole request when
    /// that lease is not the workspace's current one (409, `stale lease`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<super::lease::LeaseClaim>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PublishResult {
    pub id: String,
    /// Where it is in the log (0 when refused).
    pub seq: i64,
    pub duplicate: bool,
    /// Why the relay refused this event for good (publishing it again will not help); the other
    /// events of the request are stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PublishResponse {
    pub results: Vec<PublishResult>,
}

pub const MAX_PUBLISH: usize = 1000;

/// How long a request body may take to arrive.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A request's body, at most `max` bytes and within [`BODY_TIMEOUT`]: a client that sends its
/// body slowly (or never) is answered 408 instead of holding the connection.
pub(crate) async fn read_body(
    s: &RelayState,
    body: axum::body::Body,
    max: usize,
) -> Result<Bytes, Response> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, max)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => {
            s.metrics.reject("too_large");
            Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than the {max} bytes accepted"),
            ))
        }
        Err(_) => {
            s.metrics.reject("slow_body");
            Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            ))
        }
    }
}

async fn publish(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    // The token first: a request without one is answered before its body is read.
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let body = match read_body(&s, body, s.config.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req: PublishRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            s.metrics.reject("malformed_json");
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("not a publish request: {e}"),
            );
        }
    };
    if let Some(claim) = &req.lease
        && let Err(r) = super::lease::check_claim(&s, &t, claim).await
    {
        return r;
    }
    if req.events.len() > MAX_PUBLISH {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_PUBLISH} events per request"),
        );
    }
    if let Some(bad) = req
        .events
        .iter()
        .find(|e| e.id.is_empty() || e.id.len() > 128)
    {
        s.metrics.reject("malformed_json");
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "every event needs an id of 1 to 128 characters; “{}” has {}: nothing was stored",
                bad.id.chars().take(40).collect::<String>(),
                bad.id.len()
            ),
        );
    }
    // Each event is judged on its own: one the token may not publish, or whose payload is not
    // its kind's, is refused with its reason and the others are stored.
    let mut events = Vec::with_capacity(req.events.len());
    let mut verdicts: Vec<Result<usize, String>> = Vec::with_capacity(req.events.len());
    for e in &req.events {
        match check_event(&t, e) {
            Ok(raw) => {
                if e.kind == "staff.changed"
                    && let Err(why) = staff_tokens(&s, &t, &e.payload).await
                {
                    verdicts.push(Err(why));
                    continue;
                }
                verdicts.push(Ok(events.len()));
                events.push(NewEvent {
                    key: format!("desktop:{}:{}", t.staff, e.id),
                    kind: e.kind.clone(),
                    source: Source::Desktop,
                    staff: Some(t.staff.clone()),
                    fields: Fields::default(),
                    raw,
                });
            }
            Err((reason, why)) => {
                s.metrics.reject(reason);
                tracing::warn!(
                    token = t.id,
                    kind = e.kind,
                    reason,
                    "published event refused"
                );
                verdicts.push(Err(why));
            }
        }
    }
    s.metrics.published.inc_by(events.len() as u64);
    let appended = if events.is_empty() {
        Vec::new()
    } else {
        match s.log.append(&t.workspace, events).await {
            Ok(a) => a,
            Err(LogError::ShuttingDown) => {
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay is shutting down; publish again",
                );
            }
            Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    };
    Json(PublishResponse {
        results: req
            .events
            .into_iter()
            .zip(verdicts)
            .map(|(e, v)| match v {
                Ok(i) => PublishResult {
                    id: e.id,
                    seq: appended[i].seq,
                    duplicate: appended[i].duplicate,
                    refused: None,
                },
                Err(why) => PublishResult {
                    id: e.id,
                    seq: 0,
                    duplicate: false,
                    refused: Some(why),
                },
            })
            .collect(),
    })
    .into_response()
}

/// An administrator's `staff.changed` (already checked): the member's tokens take the access it
/// gives, or are revoked when it deactivates or deletes them. Done before the event is stored,
/// so that a failure here refuses the event and the desktop publishes it again.
async fn staff_tokens(
    s: &RelayState,
    t: &TokenRecord,
    payload: &serde_json::Value,
) -> Result<(), String> {
    let staff: payloads::StaffState =
        serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
    let store = s.log.store();
    let changed = if staff.deleted || !staff.active {
        store
            .revoke_staff_tokens(&t.workspace, &staff.username)
            .await
    } else {
        let permissions: Vec<Permission> = staff
            .access
            .permissions
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect();
        store
            .set_staff_access(
                &t.workspace,
                &staff.username,
                staff.access.is_admin,
                &permissions,
            )
            .await
    }
    .map_err(|e| {
        format!(
            "the relay could not update {}'s tokens: {e}",
            staff.username
        )
    })?;
    tracing::info!(
        workspace = t.workspace,
        by = t.staff,
        staff = staff.username,
        tokens = changed,
        revoked = staff.deleted || !staff.active,
        "a staff member's tokens follow their role"
    );
    Ok(())
}

/// Whether `t` may publish `e` as it is: its kind is one desktops publish, the token holds the
/// permission it needs, and its payload is its kind's. The payload's JSON to store, or the
/// metric's reason and the refusal's words.
fn check_event(t: &TokenRecord, e: &PublishedEvent) -> Result<String, (&'static str, String)> {
    let Some(required) = kinds::required(&e.kind) else {
        return Err((
            "unknown_kind",
            format!("“{}” is not an event kind desktops publish", e.kind),
        ));
    };
    if !t.allows(required) {
        return Err((
            "forbidden",
            format!(
                "{} may not publish {}: it needs {required}",
                t.staff, e.kind
            ),
        ));
    }
    let raw = e.payload.to_string();
    payloads::check(&e.kind, &e.payload, raw.len())
        .map_err(|err| ("bad_payload", err.to_string()))?;
    Ok(raw)
}

#[derive(Deserialize)]
struct StreamQuery {
    after: Option<i64>,
    /// `lz4`: event frames are sent as binary frames, compressed (see docs/relay.md).
    compress: Option<String>,
}

/// Frames the stream sends (JSON; `events` frames LZ4-compressed in binary frames for a client
/// that asked with `compress=lz4`). `events` carries a batch in log order; `live` says the client
/// has everything up to `seq`.
pub mod frames {
    pub const HELLO: &str = "hello";
    pub const EVENTS: &str = "events";
    pub const LIVE: &str = "live";
}

async fn stream(
    State(s): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let t = match authenticate(&s, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let Some(slot) = StreamSlot::take(&s, &t.id) else {
        s.metrics.reject("too_many_streams");
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this token already has {} streams open; close one first",
                s.config.limits.streams_per_token
            ),
        );
    };
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return refuse(StatusCode::BAD_REQUEST, "after must be 0 or more");
    }
    let lz4 = match q.compress.as_deref() {
        None => false,
        Some("lz4") => true,
        Some(other) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("compress=“{other}” is not offered; the relay compresses with lz4 only"),
            );
        }
    };
    // Desktops send nothing but control frames; tungstenite zeroes its whole read buffer on
    // every read, so a small one saves a memset of 128 KiB each time a stream is polled.
    // Frames are capped in bytes (see `Limits::frame_bytes`), so one always fits the write
    // buffer; the desktop's read limit (`MAX_FRAME_TEXT`) is above the largest. Desktops send
    // only control frames: anything larger than a close frame's worth is refused.
    ws.read_buffer_size(4 * 1024)
        .max_write_buffer_size(super::log::MAX_FRAME_TEXT + (1 << 20))
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            run_stream(s, t, after, lz4, socket).await
        })
}

/// One of a token's open streams (see `Limits::streams_per_token`), given back when dropped.
struct StreamSlot {
    s: Arc<RelayState>,
    token: String,
}

impl StreamSlot {
    fn take(s: &Arc<RelayState>, token: &str) -> Option<StreamSlot> {
        let mut open = s.streams.lock().expect("streams lock");
        let n = open.entry(token.to_owned()).or_default();
        if *n >= s.config.limits.streams_per_token.max(1) {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            s: s.clone(),
            token: token.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.s.streams.lock().expect("streams lock");
        if let Some(n) = open.get_mut(&self.token) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.token);
            }
        }
    }
}

struct ClientGuard {
    s: Arc<RelayState>,
    label: super::metrics::Client,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.s.metrics.clients.dec();
        self.s.metrics.client_lag.remove(&self.label);
    }
}

async fn run_stream(
    s: Arc<RelayState>,
    t: TokenRecord,
    mut cursor: i64,
    lz4: bool,
    socket: WebSocket,
) {
    let (mut sink, mut incoming) = socket.split();
    let label = super::metrics::Client {
        workspace: t.workspace.clone(),
        token: t.id.clone(),
    };
    s.metrics.clients.inc();
    let _guard = ClientGuard {
        s: s.clone(),
        label: label.clone(),
    };
    let lag = s.metrics.client_lag.get_or_create(&label).clone();
    let tail = s.log.tail(&t.workspace);
    let mut head_rx = tail.subscribe();
    // What this token may read: an event it may not is left out of its frames (the frame's
    // `through` still moves its cursor past it). A token that reads everything shares frames.
    let reader = Reader {
        is_admin: t.is_admin,
        permissions: t.permissions.clone(),
    };
    let may_read = |r: Read| reader.may_read(r);
    // Only an administrator reads every kind (`security` is theirs alone).
    let reads_all = t.is_admin;
    let limits = s.config.limits.clone();
    let stop = s.stop.clone();
    while tail.head() < 0 {
        tokio::select! {
            r = head_rx.changed() => if r.is_err() { return },
            _ = stop.cancelled() => return,
        }
    }
    let close = |code: u16, reason: String| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let hello = json!({"type": frames::HELLO, "workspace": t.workspace, "staff": t.staff, "head": tail.head(), "after": cursor});
    if sink
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    if cursor > tail.head() {
        // The tail may not have heard of another instance's newest events yet: ask the database.
        let head = match s.log.store().head(&t.workspace).await {
            Ok(h) => h,
            Err(_) => tail.head(),
        };
        if cursor > head {
            s.metrics.reject("cursor_ahead");
            tracing::warn!(
                token = t.id,
                cursor,
                head,
                "a desktop is ahead of the log; the database went back"
            );
            let _ = sink
                .send(close(
                    close::CURSOR_AHEAD,
                    format!(
                        "this desktop has read up to {cursor} but the log ends at {head}: the relay's database went back; resume from the head"
                    ),
                ))
                .await;
            return;
        }
    }
    tracing::info!(
        token = t.id,
        workspace = t.workspace,
        after = cursor,
        "desktop connected"
    );
    let mut last_check = Instant::now();
    let mut announced_live = false;
    let mut ping = tokio::time::interval(std::time::Duration::from_secs(20));
    ping.reset();
    // Idle streams look again at this pace (another instance's events on PostgreSQL), without a
    // timer made and dropped at every wait.
    let mut poll = tokio::time::interval(limits.poll_interval());
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.reset();
    loop {
        if stop.is_cancelled() {
            let _ = sink
                .send(close(close::GOING_AWAY, "the relay is restarting".into()))
                .await;
            return;
        }
        if last_check.elapsed() >= limits.poll_interval() {
            last_check = Instant::now();
            match s.log.store().token_active(&t.id).await {
                Ok(true) => {}
                Ok(false) => {
                    s.metrics.reject("revoked");
                    tracing::info!(token = t.id, "token revoked; disconnecting");
                    let _ = sink
                        .send(close(
                            close::REVOKED,
                            "this token was revoked or has expired".into(),
                        ))
                        .await;
                    return;
                }
                // Fails closed: a token that cannot be checked is not trusted to stay connected.
                Err(e) => {
                    tracing::warn!(token = t.id, error = %e, "cannot check the token; disconnecting");
                    let _ = sink
                        .send(close(
                            close::UNAVAILABLE,
                            "the relay cannot check this token now; reconnect".into(),
                        ))
                        .await;
                    return;
                }
            }
        }
        // Let the tasks already woken run first (webhooks whose events are about to commit): on a
        // busy relay the frame then carries their events too, instead of a frame each, and on an
        // idle one this returns at once. Measured with 100 desktops: 13,700–16,200 → 15,800–17,500
        // events/s, p50 at 5,000/s 2.3–2.7 → 2.0–2.3 ms.
        tokio::task::yield_now().await;
        let head = tail.head();
        let batch = match tail.fetch(cursor, limits.frame_cap(), reads_all, &may_read) {
            Fetch::Frame(b) if lz4 => Some((b.last, Message::Binary(b.lz4()))),
            Fetch::Frame(b) => Some((b.last, Message::Text(b.text.clone()))),
            Fetch::TooOld => {
                match s
                    .log
                    .store()
                    .read_after(&t.workspace, cursor, limits.frame_events as i64)
                    .await
                {
                    // Retention deleted every event after the cursor: the head says whether
                    // there were any.
                    Ok(events) if events.is_empty() && cursor >= head => None,
                    Ok(events) if events.first().is_none_or(|e| e.seq != cursor + 1) => {
                        s.metrics.reject("cursor_expired");
                        let _ = sink
                            .send(close(
                                close::CURSOR_EXPIRED,
                                format!(
                                    "events after {cursor} were deleted by the retention policy; resynchronise"
                                ),
                            ))
                            .await;
                        return;
                    }
                    Ok(events) => {
                        let frames: Vec<super::log::Frame> =
                            events.iter().map(super::log::Frame::of).collect();
                        let (frames, last, _) =
                            take_frame(frames.iter(), limits.frame_cap(), &may_read);
                        let last = last.unwrap_or(cursor);
                        let text = events_frame(frames.iter().map(|f| &*f.json), last);
                        Some((
                            last,
                            if lz4 {
                                Message::Binary(super::log::compress(&text))
                            } else {
                                Message::Text(text.into())
                            },
                        ))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the log for a client");
                        tokio::time::sleep(limits.poll_interval()).await;
                        continue;
                    }
                }
            }
            Fetch::UpToDate => None,
        };
        let Some((last, frame)) = batch else {
            if !announced_live {
                announced_live = true;
                lag.set(0);
                let live = json!({"type": frames::LIVE, "seq": cursor});
                if sink
                    .send(Message::Text(live.to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            tokio::select! {
                r = head_rx.changed() => if r.is_err() { return },
                _ = poll.tick() => {},
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() { return }
                },
                m = incoming.next() => match m {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                },
                _ = stop.cancelled() => {},
            }
            continue;
        };
        // A frame that stops short of the head is catch-up: `live` follows once the client is at
        // the head again. A live client is told once, not after every frame (that doubled the
        // frames a busy relay sends).
        announced_live &= last >= head;
        match tokio::time::timeout(limits.send_timeout(), sink.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                s.metrics.reject("slow_client");
                tracing::info!(
                    token = t.id,
                    cursor,
                    "client too slow; disconnecting so it resumes"
                );
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    sink.send(close(
                        close::TOO_SLOW,
                        format!("too far behind: reconnect with after={cursor}"),
                    )),
                )
                .await;
                return;
            }
        }
        cursor = last;
        lag.set((tail.head() - cursor).max(0));
    }
}
