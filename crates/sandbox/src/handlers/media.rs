//! Media: `POST /{version}/{phone-number-id}/media` (multipart), `GET|DELETE /{version}/{media-id}`,
//! and the download URL (`/sandbox/lookaside/media/{id}`), which answers only with the token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppState, bearer, query};
use crate::engine::{Shared, sha256_hex};
use crate::error::Refusal;
use crate::store::{MEDIA_LIFETIME, Media};
use crate::validate::media::{MAX_UPLOAD, check_upload, limit_for, too_large, unsupported};

pub(super) async fn upload(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, Refusal> {
    if shared.store().number(&id).is_none() {
        return Err(Refusal::unknown_object("post", &id));
    }
    let mut multipart = multipart.map_err(|e| {
        Refusal::param(format!(
            "the upload must be multipart/form-data with the parts file, type and messaging_product ({e})"
        ))
    })?;
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut mime: Option<String> = None;
    let mut product: Option<String> = None;
    let bad_part = |e: axum::extract::multipart::MultipartError| {
        Refusal::param(format!("the multipart body could not be read: {e}"))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad_part)? {
        match field.name().unwrap_or("") {
            "file" => {
                let declared = field.content_type().map(str::to_owned);
                let hint = mime.clone().or_else(|| declared.clone());
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad_part)? {
                    bytes.extend_from_slice(&chunk);
                    // Stop reading as soon as the file is over the limit of its type (or of any).
                    let limit = hint
                        .as_deref()
                        .and_then(|m| limit_for(m, &bytes))
                        .unwrap_or(MAX_UPLOAD);
                    if bytes.len() as u64 > limit {
                        let m = hint.as_deref().unwrap_or("application/octet-stream");
                        return Err(too_large(m, bytes.len() as u64, limit));
                    }
                }
                file = Some((declared, bytes));
            }
            "type" => mime = Some(field.text().await.map_err(bad_part)?),
            "messaging_product" => product = Some(field.text().await.map_err(bad_part)?),
            _ => {}
        }
    }
    match product.as_deref() {
        None => return Err(Refusal::param_required("messaging_product")),
        Some("whatsapp") => {}
        Some(other) => {
            return Err(Refusal::param(format!(
                "messaging_product must be \"whatsapp\", got {other:?}"
            )));
        }
    }
    let (declared, bytes) = file.ok_or_else(|| Refusal::param_required("file"))?;
    let mime = mime
        .filter(|m| !m.trim().is_empty())
        .or(declared)
        .ok_or_else(|| unsupported(""))?
        .trim()
        .to_owned();
    check_upload(&mime, &bytes)?;
    let media_id = {
        let mut store = shared.store();
        let media_id = store.numeric_id();
        store.media.insert(
            media_id.clone(),
            Media {
                id: media_id.clone(),
                phone_number_id: id.clone(),
                sha256: sha256_hex(&bytes),
                mime_type: mime,
                bytes: Arc::new(bytes),
                created: shared.clock.now(),
            },
        );
        media_id
    };
    tracing::info!(phone_number_id = %id, media_id = %media_id, "media uploaded");
    Ok(Json(json!({ "id": media_id })))
}

fn owned_media<'a>(
    store: &'a crate::store::Store,
    shared: &Shared,
    id: &str,
    method: &str,
    q: &HashMap<String, String>,
) -> Result<&'a Media, Refusal> {
    let m = store
        .media
        .get(id)
        .ok_or_else(|| Refusal::unknown_object(method, id))?;
    let expired = shared
        .clock
        .now()
        .duration_since(m.created)
        .is_ok_and(|age| age >= MEDIA_LIFETIME);
    let wrong_number = q
        .get("phone_number_id")
        .is_some_and(|p| !p.is_empty() && *p != m.phone_number_id);
    if expired || wrong_number {
        return Err(Refusal::unknown_object(method, id));
    }
    Ok(m)
}

/// `GET /{media-id}`: the URL and facts of an uploaded or received file.
pub(super) fn get(
    shared: &Shared,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<Json<Value>, Refusal> {
    let store = shared.store();
    let m = owned_media(&store, shared, id, "get", q)?;
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "url": shared.media_url(&m.id),
        "mime_type": m.mime_type,
        "sha256": m.sha256,
        "file_size": m.bytes.len(),
        "id": m.id,
    })))
}

pub(super) fn delete(
    shared: &Shared,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<Json<Value>, Refusal> {
    let mut store = shared.store();
    owned_media(&store, shared, id, "delete", q)?;
    store.media.remove(id);
    Ok(Json(json!({ "success": true })))
}

/// The download URL: the bytes, only with the token, only before the URL expires.
pub(super) async fn download(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Refusal> {
    shared.check_token(bearer(&headers).as_deref())?;
    let q = query(&uri);
    let valid = shared.media_url_valid(
        &id,
        q.get("ext").map(String::as_str).unwrap_or(""),
        q.get("hash").map(String::as_str).unwrap_or(""),
    );
    let media = {
        let store = shared.store();
        store
            .media
            .get(&id)
            .map(|m| (m.mime_type.clone(), m.bytes.clone()))
    };
    match media {
        Some((mime, bytes)) if valid => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, mime)],
            bytes.as_ref().clone(),
        )
            .into_response()),
        _ => Err(Refusal::param(format!(
            "the media URL for {id} is unknown or has expired (URLs last 5 minutes); call GET /{{media-id}} for a fresh one"
        ))
        .with_status(StatusCode::NOT_FOUND)),
    }
}
