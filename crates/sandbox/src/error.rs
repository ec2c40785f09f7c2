//! The sandbox's two kinds of error: [`SandboxError`] for its own Rust API, and [`Refusal`], a
//! refusal in Meta's error object that a Graph endpoint answers with.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crmconnect_meta::error::{ErrorData, GraphError, GraphErrorEnvelope};

/// What can go wrong when driving the sandbox from Rust (not a Graph API refusal).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox could not listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the sandbox's HTTP client could not be built: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("no simulated customer is called or numbered {0:?}")]
    UnknownCustomer(String),
    #[error("no sandbox phone number has the id {0:?}")]
    UnknownPhoneNumber(String),
    #[error("no template has the id {0:?}")]
    UnknownTemplate(String),
    #[error("{0:?} is not a template status the sandbox can set")]
    InvalidTemplateStatus(String),
    #[error("the customer has no earlier message from the business to react or reply to")]
    NothingToReplyTo,
    #[error(
        "the customer has not written to this number yet: there is no message of theirs to edit or delete"
    )]
    NothingToChange,
    #[error("customer {0:?} has no scripted messages")]
    EmptyScript(String),
    #[error("the webhook URL {0:?} is not an absolute http(s) URL")]
    InvalidWebhookUrl(String),
    #[error("no webhook target is set")]
    NoWebhookTarget,
    #[error("the webhook target failed the verification handshake: {0}")]
    Verification(String),
    #[error("could not draw the profile picture: {0}")]
    Picture(#[from] png::EncodingError),
    #[error("the sandbox server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
}

/// A refusal in Meta's error object, with the HTTP status it is sent with. (Boxed: handlers
/// return it in every `Result`.)
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: Box<GraphError>,
}

/// Meta's short titles, used as the start of `message` (`"(#131009) Parameter value is not valid"`).
fn title(code: i64) -> &'static str {
    match code {
        100 => "Invalid parameter",
        190 => "Invalid OAuth access token",
        2200 => "Callback verification failed",
        130429 => "Rate limit hit",
        131008 => "Required parameter is missing",
        131009 => "Parameter value is not valid",
        131026 => "Message undeliverable",
        131047 => "Re-engagement message",
        131053 => "Media upload error",
        131056 => "(Business Account, Consumer Account) pair rate limit hit",
        132000 => "Number of parameters does not match the expected number of params",
        132001 => "Template name does not exist in the translation",
        132005 => "Translated text too long",
        132012 => "Parameter format does not match format in the created template",
        132015 => "Template is Paused",
        132016 => "Template is Disabled",
        _ => "Meta refused the request",
    }
}

impl Refusal {
    /// A refusal with Meta's title for `code` followed by `details`, which names the problem.
    pub fn new(code: i64, details: impl Into<String>) -> Self {
        let details = details.into();
        let status = match code {
            190 => StatusCode::UNAUTHORIZED,
            130429 => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        let message = if details.is_empty() {
            format!("(#{code}) {}", title(code))
        } else {
            format!("(#{code}) {}: {details}", title(code))
        };
        Refusal {
            status,
            error: Box::new(GraphError {
                code,
                error_subcode: None,
                message,
                kind: Some("OAuthException".to_owned()),
                error_data: Some(ErrorData {
                    messaging_product: Some("whatsapp".to_owned()),
                    details,
                }),
                error_user_title: None,
                error_user_msg: None,
                is_transient: Some(matches!(code, 130429 | 131056)),
                fbtrace_id: Some(fbtrace_id()),
            }),
        }
    }

    /// Error 100, the Graph API's "invalid parameter".
    pub fn param(details: impl Into<String>) -> Self {
        Self::new(100, details)
    }

    /// Error 100 for a required top-level parameter, worded as Meta does.
    pub fn param_required(name: &str) -> Self {
        let mut r = Self::param(format!("the parameter {name} is required"));
        r.error.message = format!("(#100) The parameter {name} is required.");
        r
    }

    /// Error 131008: a required field is missing.
    pub fn missing(path: &str) -> Self {
        Self::new(131008, format!("{path} is required"))
    }

    /// Error 131009: a field has a value Meta would not accept.
    pub fn invalid(details: impl Into<String>) -> Self {
        Self::new(131009, details)
    }

    /// Error 100 with a Graph `error_subcode` and the user-facing title and message Meta adds
    /// to template-management refusals.
    pub fn template(subcode: Option<i64>, user_title: &str, details: impl Into<String>) -> Self {
        let mut r = Self::param(details);
        r.error.error_subcode = subcode;
        r.error.error_user_title = Some(user_title.to_owned());
        r.error.error_user_msg = r.error.error_data.as_ref().map(|d| d.details.clone());
        r
    }

    /// Error 100 (subcode 33) for an id that names nothing the token can see, as the Graph API
    /// words it.
    pub fn unknown_object(method: &str, id: &str) -> Self {
        let mut r = Self::param(format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded \
             due to missing permissions, or does not support this operation"
        ));
        r.error.error_subcode = Some(33);
        r.error.kind = Some("GraphMethodException".to_owned());
        r.error.message = format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due \
             to missing permissions, or does not support this operation. Please read the Graph API \
             documentation at https://developers.facebook.com/docs/graph-api"
        );
        r
    }

    /// Error 100 for a `fields=` entry the node does not have, worded as the Graph API does.
    pub fn nonexisting_field(field: &str, node: &str) -> Self {
        let mut r = Self::param(format!(
            "Tried accessing nonexisting field ({field}) on node type ({node})"
        ));
        r.error.message =
            format!("(#100) Tried accessing nonexisting field ({field}) on node type ({node})");
        r
    }

    /// Error 100 for a path the Graph API does not have.
    pub fn unknown_path(path: &str) -> Self {
        let mut r = Self::param(format!("Unknown path components: {path}"));
        r.error.message = format!("(#100) Unknown path components: {path}");
        r
    }

    /// Error 190: no token, or not the sandbox's token.
    pub fn bad_token(details: &str) -> Self {
        let mut r = Self::new(190, details);
        r.error.message = format!("Invalid OAuth access token - {details}");
        r
    }

    /// Error 190 subcode 463: the token has expired.
    pub fn expired_token(expired_at_unix: u64) -> Self {
        let mut r = Self::new(
            190,
            format!("Session has expired at unix time {expired_at_unix}"),
        );
        r.error.message = format!(
            "Error validating access token: Session has expired at unix time {expired_at_unix}."
        );
        r.error.error_subcode = Some(463);
        r
    }

    /// Changes the HTTP status (for example 404 for an expired media URL).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn code(&self) -> i64 {
        self.error.code
    }

    pub fn envelope(&self) -> GraphErrorEnvelope {
        GraphErrorEnvelope {
            error: (*self.error).clone(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let trace = self.error.fbtrace_id.clone().unwrap_or_default();
        let mut response = (self.status, Json(self.envelope())).into_response();
        if let Ok(value) = trace.parse() {
            response.headers_mut().insert("x-fb-trace-id", value);
        }
        response
    }
}

/// A trace id shaped like Meta's (`A` + 22 url-safe characters); unique per refusal.
fn fbtrace_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0x5EED);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    bytes[8..].copy_from_slice(&n.rotate_left(29).to_le_bytes());
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("A{}", &encoded[..22])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_meta_error_objects() {
        let r = Refusal::invalid("interactive.action.buttons has 4 buttons; at most 3 are allowed");
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let json = serde_json::to_value(r.envelope()).unwrap();
        assert_eq!(json["error"]["code"], 131009);
        assert_eq!(json["error"]["type"], "OAuthException");
        assert_eq!(json["error"]["error_data"]["messaging_product"], "whatsapp");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("(#131009) Parameter value is not valid: interactive.action.buttons")
        );
        assert_eq!(json["error"]["fbtrace_id"].as_str().unwrap().len(), 23);
        assert_eq!(Refusal::bad_token("x").status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            Refusal::new(130429, "").status,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(Refusal::expired_token(5).error.error_subcode, Some(463));
    }

    #[test]
    fn trace_ids_differ() {
        assert_ne!(fbtrace_id(), fbtrace_id());
    }
}
