//! `GET|POST /{version}/{phone-number-id}/whatsapp_business_profile`, and the profile picture
//! (`/sandbox/lookaside/profile/{id}.png`), which answers only with the token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppState, bearer, fields, json_body, query};
use crate::error::Refusal;
use crate::validate::media::rule_for;
use crate::validate::profile::{FIELDS, parse_update};

const NODE: &str = "WhatsAppBusinessProfile";

pub(super) async fn get(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, Refusal> {
    let q = query(&uri);
    let requested = fields(&q).unwrap_or_else(|| FIELDS.iter().map(|s| s.to_string()).collect());
    if let Some(unknown) = requested.iter().find(|f| !FIELDS.contains(&f.as_str())) {
        return Err(Refusal::nonexisting_field(unknown, NODE));
    }
    let store = shared.store();
    let n = store
        .number(&id)
        .ok_or_else(|| Refusal::unknown_object("get", &id))?;
    let p = &n.profile;
    let full = json!({
        "about": p.about,
        "address": p.address,
        "description": p.description,
        "email": p.email,
        "profile_picture_url": shared.picture_url(&n.id),
        "websites": p.websites,
        "vertical": p.vertical,
        "messaging_product": "whatsapp",
    });
    let mut out = serde_json::Map::new();
    for f in &requested {
        out.insert(f.clone(), full[f].clone());
    }
    out.insert("messaging_product".into(), json!("whatsapp"));
    Ok(Json(json!({ "data": [Value::Object(out)] })))
}

pub(super) async fn update(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    if shared.store().number(&id).is_none() {
        return Err(Refusal::unknown_object("post", &id));
    }
    let u = parse_update(&json_body(&body)?)?;
    let mut store = shared.store();
    let picture = match &u.profile_picture_handle {
        None => None,
        Some(handle) => {
            let media = store
                .media
                .get(handle)
                .filter(|m| rule_for(&m.mime_type).is_some_and(|r| r.kind == "image"))
                .ok_or_else(|| {
                    Refusal::param(format!(
                        "profile_picture_handle {handle:?} is not a handle the sandbox knows: upload a JPEG or PNG with POST /{{phone-number-id}}/media and pass its id"
                    ))
                })?;
            Some(media.bytes.clone())
        }
    };
    let n = store
        .number_mut(&id)
        .ok_or_else(|| Refusal::unknown_object("post", &id))?;
    let p = &mut n.profile;
    if let Some(v) = u.about {
        p.about = v;
    }
    if let Some(v) = u.address {
        p.address = v;
    }
    if let Some(v) = u.description {
        p.description = v;
    }
    if let Some(v) = u.email {
        p.email = v;
    }
    if let Some(v) = u.websites {
        p.websites = v;
    }
    if let Some(v) = u.vertical {
        p.vertical = v;
    }
    if let Some(bytes) = picture {
        n.picture_png = bytes;
    }
    Ok(Json(json!({ "success": true })))
}

/// The profile picture: a real image, only with the token.
pub(super) async fn picture(
    State(shared): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    shared.check_token(bearer(&headers).as_deref())?;
    let id = file.strip_suffix(".png").unwrap_or(&file);
    let bytes = shared
        .store()
        .number(id)
        .map(|n| n.picture_png.clone())
        .ok_or_else(|| {
            Refusal::param(format!("no profile picture for {id}"))
                .with_status(StatusCode::NOT_FOUND)
        })?;
    let mime = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, mime)],
        bytes.as_ref().clone(),
    )
        .into_response())
}
