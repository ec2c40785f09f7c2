//! `/{version}/{waba-id}/subscribed_apps`: which apps receive the WABA's webhooks, and the WABA's
//! alternate callback URL (Meta's "Webhook overrides").
//!
//! `POST` with `override_callback_uri` and `verify_token` first runs Meta's handshake against
//! that URL (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`); only when it answers
//! the challenge is the override kept. From then on the fields Meta lets a WABA override
//! ([`crate::webhooks::OVERRIDABLE`]: messages, echoes, calls…) go there, signed with the app's
//! secret; template and account webhooks keep going to the app's callback URL.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{AppState, json_body};
use crate::error::Refusal;

/// The sandbox app's id and name, as the subscription list names the app.
const APP_ID: &str = "670843887433847";
const APP_NAME: &str = "CRMConnect Sandbox";
/// Meta's limit on an alternate callback URL.
const MAX_URI: usize = 200;

fn own_waba(shared: &AppState, method: &str, id: &str) -> Result<(), Refusal> {
    if shared.store().waba.id != id {
        return Err(Refusal::unknown_object(method, id));
    }
    Ok(())
}

pub(super) async fn list(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
) -> Result<Json<Value>, Refusal> {
    own_waba(&shared, "get", &id)?;
    let mut app = json!({
        "whatsapp_business_api_data": {
            "id": APP_ID,
            "link": format!("https://www.facebook.com/games/?app_id={APP_ID}"),
            "name": APP_NAME,
        }
    });
    if let Some(url) = shared.webhooks.override_url() {
        app["override_callback_uri"] = json!(url);
    }
    Ok(Json(json!({ "data": [app] })))
}

pub(super) async fn subscribe(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    own_waba(&shared, "post", &id)?;
    // Without a body, Meta subscribes the app with no override.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        json_body(&body)?
    };
    let text = |k: &str| match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(Refusal::param(format!("{k} must be a string"))),
    };
    let Some(uri) = text("override_callback_uri")? else {
        return Ok(Json(json!({ "success": true })));
    };
    let Some(verify) = text("verify_token")?.filter(|t| !t.is_empty()) else {
        return Err(Refusal::param_required("verify_token"));
    };
    if uri.chars().count() > MAX_URI || !crate::validate::is_http_url(&uri) {
        return Err(Refusal::param(format!(
            "override_callback_uri must be an http(s) URL of at most {MAX_URI} characters"
        )));
    }
    let challenge = shared.store().numeric_id().parse().unwrap_or(1);
    crate::webhooks::verify_target(&shared.client, &uri, &verify, challenge)
        .await
        .map_err(|e| Refusal::new(2200, format!("{uri}: {e}")))?;
    tracing::info!(url = %uri, "sandbox: WABA alternate callback URL set");
    shared.webhooks.set_override(Some(uri));
    Ok(Json(json!({ "success": true })))
}

pub(super) async fn unsubscribe(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
) -> Result<Json<Value>, Refusal> {
    own_waba(&shared, "delete", &id)?;
    shared.webhooks.set_override(None);
    Ok(Json(json!({ "success": true })))
}
