//! Control endpoints under `/sandbox/…` (JSON, no token: the sandbox listens on loopback). They
//! play the world around the Graph API: time, customers, webhook plumbing, template reviewers.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, query};
use crate::customers::Inbound;
use crate::error::{Refusal, SandboxError};
use crate::webhooks::{WebhookTarget, verify_target};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox", get(overview))
        .route("/sandbox/clock", get(clock))
        .route("/sandbox/clock/advance", post(advance))
        .route("/sandbox/customers", get(customers))
        .route("/sandbox/customers/{who}/messages", post(customer_message))
        .route("/sandbox/customers/{who}/next", post(customer_next))
        .route("/sandbox/webhooks/deliveries", get(deliveries))
        .route("/sandbox/webhooks/target", get(target).put(set_target))
        .route("/sandbox/webhooks/verify", post(verify))
        .route("/sandbox/templates/{id}/status", post(template_status))
        .route("/sandbox/account/events", post(account_event))
}

pub(crate) fn refusal(e: SandboxError) -> Refusal {
    let status = match e {
        SandboxError::UnknownCustomer(_)
        | SandboxError::UnknownPhoneNumber(_)
        | SandboxError::UnknownTemplate(_) => StatusCode::NOT_FOUND,
        SandboxError::Verification(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    Refusal::param(e.to_string()).with_status(status)
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, Refusal> {
    json.map(|Json(v)| v).map_err(|e| {
        Refusal::param(format!(
            "the request body is not what this endpoint takes: {}",
            e.body_text()
        ))
    })
}

fn clock_json(shared: &AppState) -> Value {
    json!({
        "now": shared.clock.unix_secs(),
        "offset_seconds": shared.clock.offset().as_secs_f64(),
        "frozen": shared.clock.is_frozen(),
        "pending_jobs": shared.scheduler.pending(),
    })
}

async fn overview(State(shared): State<AppState>) -> Json<Value> {
    let store = shared.store();
    let numbers: Vec<Value> = store
        .numbers
        .iter()
        .map(|n| json!({"id": n.id, "display_phone_number": n.display_phone_number, "verified_name": n.verified_name}))
        .collect();
    let customers: Vec<Value> = store
        .customers
        .iter()
        .map(|c| serde_json::to_value(c.info()).unwrap_or_default())
        .collect();
    Json(json!({
        "sandbox": "CRMConnect WhatsApp sandbox: a local stand-in for Meta's Graph API. Nothing here reaches Meta or a real phone.",
        "graph_url": format!("{}/{}", shared.base_url, shared.config.graph_version),
        "waba_id": store.waba.id,
        "phone_numbers": numbers,
        "customers": customers,
        "templates": store.templates.len(),
        "clock": clock_json(&shared),
        "webhook": {
            "url": shared.webhooks.target().map(|t| t.url),
            "undelivered": shared.webhooks.undelivered(),
        },
    }))
}

async fn clock(State(shared): State<AppState>) -> Json<Value> {
    Json(clock_json(&shared))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    minutes: f64,
    #[serde(default)]
    hours: f64,
    #[serde(default)]
    days: f64,
}

/// `POST /sandbox/clock/advance` `{"seconds":…, "minutes":…, "hours":…, "days":…}`.
async fn advance(
    State(shared): State<AppState>,
    json: Result<Json<Advance>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let a = body(json)?;
    let secs = a.seconds + a.minutes * 60.0 + a.hours * 3600.0 + a.days * 86_400.0;
    let by = Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| *d <= Duration::from_secs(10 * 365 * 86_400))
        .ok_or_else(|| Refusal::param("advance by a positive amount of at most ten years"))?;
    shared.clock.advance(by);
    Ok(Json(clock_json(&shared)))
}

async fn customers(State(shared): State<AppState>) -> Json<Value> {
    let data: Vec<Value> = shared
        .store()
        .customers
        .iter()
        .map(|c| serde_json::to_value(c.info()).unwrap_or_default())
        .collect();
    Json(json!({ "data": data }))
}

/// `POST /sandbox/customers/{who}/messages` with a [`Inbound`] (`{"type":"text","body":"Hi"}`).
async fn customer_message(
    State(shared): State<AppState>,
    Path(who): Path<String>,
    json: Result<Json<Inbound>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let inbound = body(json)?;
    let id = shared.customer_sends(&who, inbound).map_err(refusal)?;
    Ok(Json(json!({ "id": id })))
}

/// `POST /sandbox/account/events` with `{"event": "restrict"}` (see [`crate::AccountEvent`]):
/// Meta tells the account something.
async fn account_event(
    State(shared): State<AppState>,
    json: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(v) = json.map_err(|e| Refusal::param(format!("the body is not JSON: {e}")))?;
    let event: crate::AccountEvent = serde_json::from_value(v["event"].clone()).map_err(|_| {
        Refusal::param(
            "event must be one of restrict, reinstate, violation, flag_number, unflag_number, lower_limit",
        )
    })?;
    shared.account_event(event);
    Ok(Json(json!({ "success": true })))
}

/// `POST /sandbox/customers/{who}/next`: the customer's next scripted message.
async fn customer_next(
    State(shared): State<AppState>,
    Path(who): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let id = shared.customer_sends_next(&who).map_err(refusal)?;
    Ok(Json(json!({ "id": id })))
}

/// `GET /sandbox/webhooks/deliveries?limit=50&field=messages`: newest first.
async fn deliveries(State(shared): State<AppState>, uri: Uri) -> Json<Value> {
    let q = query(&uri);
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50usize);
    let data: Vec<Value> = shared
        .webhooks
        .deliveries()
        .into_iter()
        .rev()
        .filter(|d| q.get("field").is_none_or(|f| *f == d.field))
        .take(limit)
        .map(|d| serde_json::to_value(d).unwrap_or_default())
        .collect();
    Json(json!({ "data": data }))
}

async fn target(State(shared): State<AppState>) -> Json<Value> {
    Json(json!({ "url": shared.webhooks.target().map(|t| t.url) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetTarget {
    url: String,
    #[serde(default)]
    app_secret: Option<String>,
}

/// `PUT /sandbox/webhooks/target` `{"url":…, "app_secret":…}` (the secret is kept when absent).
async fn set_target(
    State(shared): State<AppState>,
    json: Result<Json<SetTarget>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let t = body(json)?;
    let secret = match t.app_secret {
        Some(s) => s,
        None => shared
            .webhooks
            .target()
            .map(|t| t.app_secret.expose().clone())
            .unwrap_or_else(|| shared.config.app_secret.expose().clone()),
    };
    let target = WebhookTarget::new(&t.url, &secret).map_err(refusal)?;
    shared.webhooks.set_target(Some(target));
    Ok(Json(json!({ "success": true })))
}

/// `POST /sandbox/webhooks/verify`: Meta's `hub.challenge` handshake against the target.
async fn verify(State(shared): State<AppState>) -> Result<Json<Value>, Refusal> {
    let url = shared
        .webhooks
        .target()
        .map(|t| t.url)
        .ok_or_else(|| refusal(SandboxError::NoWebhookTarget))?;
    let challenge = shared.store().numeric_id().parse().unwrap_or(1_158_201_444);
    verify_target(
        &shared.client,
        &url,
        shared.config.verify_token.expose(),
        challenge,
    )
    .await
    .map_err(refusal)?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetStatus {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /sandbox/templates/{id}/status` `{"status":"PAUSED"}`: what Meta's reviewers or quality
/// checks would do; sends `message_template_status_update`.
async fn template_status(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    json: Result<Json<SetStatus>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let s = body(json)?;
    shared
        .set_template_status(&id, &s.status, s.reason.as_deref())
        .map_err(refusal)?;
    Ok(Json(json!({ "success": true })))
}
