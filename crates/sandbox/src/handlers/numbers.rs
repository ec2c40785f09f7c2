//! The WABA object, `GET /{version}/{waba-id}/phone_numbers` and `GET /{version}/{phone-number-id}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::{AppState, fields, paginate, query, select};
use crate::engine::Shared;
use crate::error::Refusal;
use crate::store::PhoneNumber;

/// Fields `GET /{phone-number-id}` returns when none are asked for (as Meta's OAS says).
const DEFAULT_FIELDS: &[&str] = &[
    "id",
    "display_phone_number",
    "verified_name",
    "quality_rating",
];
/// Fields the list returns when none are asked for.
const LIST_FIELDS: &[&str] = &[
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "last_onboarded_time",
    "id",
];
const NODE: &str = "WhatsAppBusinessPhoneNumber";

fn number_json(n: &PhoneNumber, webhook: Option<&str>, high: bool) -> Value {
    let mut v = json!({
        "id": n.id,
        "display_phone_number": n.display_phone_number,
        "verified_name": n.verified_name,
        "quality_rating": n.quality_rating,
        "code_verification_status": "VERIFIED",
        "name_status": "APPROVED",
        "new_name_status": "NONE",
        "status": "CONNECTED",
        "throughput": { "level": if high { "HIGH" } else { "STANDARD" } },
        "platform_type": "CLOUD_API",
        "messaging_limit_tier": "TIER_1K",
        "whatsapp_business_manager_messaging_limit": "TIER_1K",
        "account_mode": "SANDBOX",
        "is_official_business_account": false,
        "is_pin_enabled": false,
        "country_code": "US",
        "country_dial_code": "1",
        "last_onboarded_time": crate::clock::iso(n.created_unix),
        "health_status": {
            "can_send_message": "AVAILABLE",
            "entities": [{ "entity_type": "PHONE_NUMBER", "id": n.id, "can_send_message": "AVAILABLE" }]
        },
        "username": Value::Null,
    });
    if let Some(url) = webhook {
        v["webhook_configuration"] = json!({ "application": url });
    }
    v
}

fn shape(full: &Value, q: &HashMap<String, String>, default: &[&str]) -> Result<Value, Refusal> {
    let requested = fields(q).unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
    select(full, &requested, NODE)
}

pub(super) fn get(
    shared: &Shared,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<Json<Value>, Refusal> {
    let webhook = shared.webhooks.target().map(|t| t.url);
    let store = shared.store();
    let n = store
        .number(id)
        .ok_or_else(|| Refusal::unknown_object("get", id))?;
    let high = shared.limits.is_high(&n.id);
    shape(&number_json(n, webhook.as_deref(), high), q, DEFAULT_FIELDS).map(Json)
}

pub(super) async fn list(
    State(shared): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, Refusal> {
    let q = query(&uri);
    let webhook = shared.webhooks.target().map(|t| t.url);
    let items = {
        let store = shared.store();
        if store.waba.id != id {
            return Err(Refusal::unknown_object("get", &id));
        }
        store
            .numbers
            .iter()
            .map(|n| {
                let high = shared.limits.is_high(&n.id);
                shape(&number_json(n, webhook.as_deref(), high), &q, LIST_FIELDS)
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let page_url = format!("{}/{version}/{id}/phone_numbers", shared.base_url);
    paginate(items, &q, &page_url).map(Json)
}

/// `GET /{version}/{waba-id}`.
pub(super) fn waba(shared: &Shared, q: &HashMap<String, String>) -> Result<Json<Value>, Refusal> {
    let store = shared.store();
    let w = &store.waba;
    let full = json!({
        "id": w.id,
        "name": w.name,
        "currency": w.currency,
        "timezone_id": w.timezone_id,
        "message_template_namespace": w.namespace,
        "account_review_status": "APPROVED",
        "business_verification_status": "verified",
        "country": "US",
        "ownership_type": "SELF",
    });
    let requested = fields(q).unwrap_or_else(|| {
        [
            "id",
            "name",
            "currency",
            "timezone_id",
            "message_template_namespace",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    });
    select(&full, &requested, "WhatsAppBusinessAccount").map(Json)
}
