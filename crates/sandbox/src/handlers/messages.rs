//! `POST /{version}/{phone-number-id}/messages`: send a message, or mark one as read.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::{AppState, json_body};
use crate::error::Refusal;
use crate::validate::messages::{SendRequest, parse_send};

pub(super) async fn send(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    if shared.store().number(&id).is_none() {
        return Err(Refusal::unknown_object("post", &id));
    }
    let body = json_body(&body)?;
    match parse_send(&body)? {
        SendRequest::MarkRead {
            message_id,
            typing_indicator,
        } => {
            shared.limits.throughput(&id)?;
            if !message_id.starts_with("wamid.") {
                return Err(Refusal::param(format!(
                    "message_id {message_id:?} is not a WhatsApp message id (wamid.…)"
                )));
            }
            // Ids from before a restart are unknown and accepted; a known one must be this
            // number's.
            if let Some(received) = shared.store().inbound.get(&message_id)
                && received.phone_number_id != id
            {
                return Err(Refusal::param(format!(
                    "message {message_id} was received by another phone number, not {id}"
                )));
            }
            tracing::debug!(phone_number_id = %id, typing_indicator, "marked as read");
            Ok(Json(json!({ "success": true })))
        }
        SendRequest::Message(out) => {
            let accepted = shared.send(&id, *out)?;
            let lose = shared
                .lost_answers
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if lose {
                // Meta took it (its statuses follow) but its answer says something went wrong.
                let mut r = Refusal::new(131000, "");
                r.status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                return Err(r);
            }
            Ok(Json(accepted))
        }
    }
}
