//! Talking to a relay: `whoami`, publishing events, and the WebSocket stream.

use futures::StreamExt;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::relay::events::ReceivedEvent;
use crate::relay::http::{PublishRequest, PublishResponse, PublishResult, PublishedEvent};
pub use crate::relay::lease::{LeaseClaim, LeaseView};
pub use crate::relay::tokens::{IssueRequest, Issued, TokenView};
pub use crate::relay::webhooks::WebhookView;
use crate::sensitive::Sensitive;
use crmconnect_events::kinds::Reader;

#[derive(Debug, thiserror::Error)]
pub enum RelayClientError {
    #[error("the relay address “{0}” is not an http:// or https:// URL")]
    BadUrl(String),
    #[error(
        "the relay address “{0}” is not https://: the token and the team's messages would cross the network unencrypted (plain http:// is for a relay on this computer only)"
    )]
    NotHttps(String),
    #[error("the relay refused the token: {0}")]
    Unauthorized(String),
    #[error("the relay refused: {0}")]
    Forbidden(String),
    #[error("the relay answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("cannot reach the relay: {0}")]
    Unreachable(String),
    #[error("the relay sent something unexpected: {0}")]
    Protocol(String),
    /// The stream cannot go on from this desktop's cursor (`CURSOR_EXPIRED` or `CURSOR_AHEAD` of
    /// [`crate::relay::http::close`]): the engine resumes from where the relay says.
    #[error("the relay cannot resume from this desktop's cursor ({code}): {reason}")]
    Resync { code: u16, reason: String },
}

/// Whether `url` names this computer: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What `GET /v1/whoami` answers.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct WhoAmI {
    pub workspace: String,
    pub staff: String,
    pub is_admin: bool,
    pub head: i64,
    /// The first sequence number the relay still keeps (`head + 1` when none).
    #[serde(default)]
    pub oldest: i64,
    /// What the token was granted (`resource:action`); `None` from a relay too old to say.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

impl WhoAmI {
    /// What this token may read, when the relay says. A grant this version does not know is
    /// left out: it lets nothing more be read here.
    pub fn reader(&self) -> Option<Reader> {
        let permissions = self.permissions.as_ref()?;
        Some(Reader {
            is_admin: self.is_admin,
            permissions: permissions.iter().filter_map(|p| p.parse().ok()).collect(),
        })
    }
}

#[derive(Clone)]
pub struct RelayClient {
    base: String,
    token: Sensitive<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("base", &self.base)
            .finish()
    }
}

async fn refusal(resp: reqwest::Response) -> RelayClientError {
    let status = resp.status().as_u16();
    let message = resp
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
        .unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        401 => RelayClientError::Unauthorized(message),
        403 => RelayClientError::Forbidden(message),
        _ => RelayClientError::Refused { status, message },
    }
}

/// A successful answer's JSON body, or the relay's refusal.
async fn json_of<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, RelayClientError> {
    if !resp.status().is_success() {
        return Err(refusal(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| RelayClientError::Protocol(e.to_string()))
}

impl RelayClient {
    pub fn new(base_url: &str, token: Sensitive<String>) -> Result<RelayClient, RelayClientError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let url =
            reqwest::Url::parse(&base).map_err(|_| RelayClientError::BadUrl(base_url.into()))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(RelayClientError::NotHttps(base_url.into())),
            _ => return Err(RelayClientError::BadUrl(base_url.into())),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(RelayClientError::BadUrl(base_url.into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            // The relay closes a connection that sends no request within its header timeout
            // (10 s by default): an idle pooled one is dropped here first, so a request never
            // races that close.
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        Ok(RelayClient { base, token, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.expose())
    }

    pub async fn whoami(&self) -> Result<WhoAmI, RelayClientError> {
        let resp = self
            .http
            .get(format!("{}/v1/whoami", self.base))
            .header("authorization", self.bearer())
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// What the relay knows of the workspace's webhooks (an admin's token).
    pub async fn webhook(&self) -> Result<WebhookView, RelayClientError> {
        let resp = self
            .http
            .get(format!("{}/v1/webhook", self.base))
            .header("authorization", self.bearer())
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// Gives the relay what the workspace's webhooks are checked with (an admin's token): Meta's
    /// app secret, the verify token, and the account and numbers they may be about.
    pub async fn set_webhook(
        &self,
        app_secret: &Sensitive<String>,
        verify_token: &Sensitive<String>,
        waba_id: &str,
        phone_number_ids: &[String],
    ) -> Result<WebhookView, RelayClientError> {
        let body = serde_json::json!({
            "app_secret": app_secret.expose(),
            "verify_token": verify_token.expose(),
            "waba_id": waba_id,
            "phone_number_ids": phone_number_ids,
        });
        let resp = self
            .http
            .put(format!("{}/v1/webhook", self.base))
            .header("authorization", self.bearer())
            .json(&body)
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// Takes or renews the workspace's automation lease as `holder`; `granted` says whether it
    /// holds it now (otherwise the answer names who does).
    pub async fn acquire_lease(
        &self,
        holder: &str,
        status: &str,
    ) -> Result<LeaseView, RelayClientError> {
        self.acquire_lease_as(holder, status, false).await
    }

    /// [`acquire_lease`](Self::acquire_lease), as a desktop working alone (`desktop`): a server
    /// runner takes the lease from it.
    pub async fn acquire_lease_as(
        &self,
        holder: &str,
        status: &str,
        desktop: bool,
    ) -> Result<LeaseView, RelayClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/lease", self.base))
            .header("authorization", self.bearer())
            .json(&serde_json::json!({ "holder": holder, "status": status, "desktop": desktop }))
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// Who holds the workspace's automation lease; `None` when no runner ever has.
    pub async fn lease(&self) -> Result<Option<LeaseView>, RelayClientError> {
        let resp = self
            .http
            .get(format!("{}/v1/lease", self.base))
            .header("authorization", self.bearer())
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        json_of(resp).await.map(Some)
    }

    /// Lets the lease go (a clean stop): a standby takes it at once.
    pub async fn release_lease(&self, holder: &str) -> Result<(), RelayClientError> {
        let resp = self
            .http
            .delete(format!("{}/v1/lease", self.base))
            .header("authorization", self.bearer())
            .json(&serde_json::json!({ "holder": holder }))
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        Ok(())
    }

    /// The workspace's tokens (an admin's token).
    pub async fn tokens(&self) -> Result<Vec<TokenView>, RelayClientError> {
        let resp = self
            .http
            .get(format!("{}/v1/tokens", self.base))
            .header("authorization", self.bearer())
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// Issues a token of the workspace (an admin's token); the answer holds it, once.
    pub async fn issue_token(&self, request: &IssueRequest) -> Result<Issued, RelayClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/tokens", self.base))
            .header("authorization", self.bearer())
            .json(request)
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        json_of(resp).await
    }

    /// Revokes a token of the workspace (an admin's token).
    pub async fn revoke_token(&self, id: &str) -> Result<(), RelayClientError> {
        let resp = self
            .http
            .delete(format!("{}/v1/tokens/{id}", self.base))
            .header("authorization", self.bearer())
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        Ok(())
    }

    /// Publishes events (idempotent by their ids); returns each one's sequence number.
    pub async fn publish(
        &self,
        events: Vec<PublishedEvent>,
    ) -> Result<Vec<PublishResult>, RelayClientError> {
        self.publish_under(events, None).await
    }

    /// Publishes under the automation lease `lease` (a runner's): the relay refuses the whole
    /// request (409) when it is not the workspace's current lease.
    pub async fn publish_under(
        &self,
        events: Vec<PublishedEvent>,
        lease: Option<LeaseClaim>,
    ) -> Result<Vec<PublishResult>, RelayClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/events", self.base))
            .header("authorization", self.bearer())
            .json(&PublishRequest { events, lease })
            .send()
            .await
            .map_err(|e| RelayClientError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        let body: PublishResponse = resp
            .json()
            .await
            .map_err(|e| RelayClientError::Protocol(e.to_string()))?;
        Ok(body.results)
    }

    /// Opens the stream of the token's workspace after sequence number `after`.
    pub async fn subscribe(&self, after: i64) -> Result<Subscription, RelayClientError> {
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!(
                "ws://{}",
                self.base.strip_prefix("http://").unwrap_or(&self.base)
            )
        };
        // Event frames compressed (LZ4): a fraction of the bytes for the relay to send and for us to
        // read; similar events compress well (570 → 45 bytes an event in the relay benchmark).
        let mut request = format!("{ws_base}/v1/stream?after={after}&compress=lz4")
            .into_client_request()
            .map_err(|e| RelayClientError::BadUrl(e.to_string()))?;
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&self.bearer()).map_err(|_| {
                RelayClientError::Unauthorized("the token has odd characters".into())
            })?,
        );
        // tungstenite zeroes its whole read buffer for every read: keep it small.
        // The relay caps frames so that the largest is below MAX_FRAME_TEXT (see its
        // `Limits::frame_bytes`); tungstenite's own default (64 MiB) would let a broken relay
        // make this desktop buffer more.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .max_message_size(Some(crate::relay::log::MAX_FRAME_TEXT))
            .max_frame_size(Some(crate::relay::log::MAX_FRAME_TEXT));
        let (ws, _) = match tokio_tungstenite::connect_async_with_config(
            request,
            Some(config),
            false,
        )
        .await
        {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let message = resp
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                return Err(if status == 401 {
                    RelayClientError::Unauthorized(message)
                } else {
                    RelayClientError::Refused { status, message }
                });
            }
            Err(e) => return Err(RelayClientError::Unreachable(e.to_string())),
        };
        let mut sub = Subscription { ws, head: 0 };
        match sub.next().await? {
            StreamItem::Hello { head } => sub.head = head,
            other => {
                return Err(RelayClientError::Protocol(format!(
                    "expected hello, got {other:?}"
                )));
            }
        }
        Ok(sub)
    }
}

/// What the stream delivers.
#[derive(Debug)]
pub enum StreamItem {
    Hello {
        head: i64,
    },
    /// Events in log order, and the last sequence number the frame accounts for (after the last
    /// event when the relay left out events this token may not read).
    Events {
        events: Vec<ReceivedEvent>,
        through: i64,
    },
    /// Everything up to `seq` has been delivered; new events follow as they are stored.
    Live {
        seq: i64,
    },
    /// The relay closed the stream (`code` from [`crate::relay::http::close`]).
    Closed {
        code: u16,
        reason: String,
    },
}

/// A frame's JSON (sent as text, or compressed in a binary frame). A plain struct, not a tagged
/// enum: serde buffers tagged enums, and a buffered value cannot be read back as the events' raw
/// JSON.
#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    head: i64,
    #[serde(default)]
    seq: i64,
    #[serde(default)]
    events: Vec<ReceivedEvent>,
    #[serde(default)]
    through: Option<i64>,
}

/// For the fuzz target `stream_frame` (fuzz/): what the stream makes of one WebSocket message,
/// text or (`compressed`) binary.
#[cfg(fuzzing)]
pub fn parse_frame(bytes: &[u8], compressed: bool) -> Result<StreamItem, RelayClientError> {
    if compressed {
        Frame::parse_compressed(bytes)
    } else {
        let text =
            std::str::from_utf8(bytes).map_err(|e| RelayClientError::Protocol(e.to_string()))?;
        Frame::parse(text)
    }
}

impl Frame {
    fn parse_compressed(bytes: &[u8]) -> Result<StreamItem, RelayClientError> {
        let text = crate::relay::log::decompress(bytes).map_err(RelayClientError::Protocol)?;
        Frame::parse(&text)
    }

    fn parse(text: &str) -> Result<StreamItem, RelayClientError> {
        let frame: Frame =
            serde_json::from_str(text).map_err(|e| RelayClientError::Protocol(e.to_string()))?;
        match frame.kind.as_str() {
            "hello" => Ok(StreamItem::Hello { head: frame.head }),
            "events" => {
                let last = frame.events.last().map_or(0, |e| e.seq);
                let through = frame.through.unwrap_or(last).max(last);
                Ok(StreamItem::Events {
                    events: frame.events,
                    through,
                })
            }
            "live" => Ok(StreamItem::Live { seq: frame.seq }),
            other => Err(RelayClientError::Protocol(format!(
                "unknown frame type “{other}”"
            ))),
        }
    }
}

pub struct Subscription {
    ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// The head of the log when the stream opened.
    pub head: i64,
}

impl Subscription {
    pub async fn next(&mut self) -> Result<StreamItem, RelayClientError> {
        loop {
            let Some(msg) = self.ws.next().await else {
                return Ok(StreamItem::Closed {
                    code: 1006,
                    reason: "connection lost".into(),
                });
            };
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    return Ok(StreamItem::Closed {
                        code: 1006,
                        reason: e.to_string(),
                    });
                }
            };
            match msg {
                Message::Text(t) => return Frame::parse(&t),
                Message::Binary(b) => return Frame::parse_compressed(&b),
                Message::Close(frame) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Normal), String::new()));
                    return Ok(StreamItem::Closed { code, reason });
                }
                // Pings are answered by tungstenite on the next read or write.
                _ => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
