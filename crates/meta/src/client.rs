//! The Graph API client: every call the product makes to Meta (or to the sandbox — the base URL
//! and version are configuration). Sends are paced per sender number (throughput) and per
//! recipient (pair rate); transient refusals are retried with exponential backoff and jitter.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::{GraphError, GraphErrorEnvelope, Retry};
use super::media::{self, MediaError, MediaInfo, UploadResponse};
use super::messages::{Invalid, Outbound, SendResponse};
use super::numbers::{BusinessProfile, PHONE_FIELDS, PROFILE_FIELDS, PhoneNumber, ProfileEnvelope};
use super::templates::{CreatedTemplate, FieldProblem, Page, TemplateDef};
use crmconnect_base::sensitive::Sensitive;

#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `https://graph.facebook.com`, or the sandbox's address.
    pub base_url: String,
    /// `v23.0` by default.
    pub version: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Messages per second per sender number (Meta: 80 by default, 1,000 after the upgrade;
    /// [`GraphClient::set_throughput`] sets one number's own).
    pub throughput_per_sec: u32,
    /// Pair rate to one recipient: a burst, then one message per `pair_period`.
    pub pair_burst: u32,
    pub pair_period: Duration,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            base_url: super::META_BASE_URL.into(),
            version: super::DEFAULT_GRAPH_VERSION.into(),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            throughput_per_sec: 80,
            pair_burst: 45,
            pair_period: Duration::from_secs(6),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1`: exponential (4^n for the pair rate limit, as Meta
    /// suggests; 2^n otherwise), capped, with full jitter.
    pub fn backoff(&self, attempt: u32, error: &ClientError) -> Duration {
        let factor: u32 = if error.graph_code() == Some(131056) {
            4
        } else {
            2
        };
        let exp = self
            .base
            .saturating_mul(factor.saturating_pow(attempt.saturating_sub(1)));
        let cap = exp.min(self.max);
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Meta refused, with its error object.
    #[error("{}", .error.explain())]
    Graph { status: u16, error: Box<GraphError> },
    #[error("Meta answered HTTP {status} without an error object: {body}")]
    Http { status: u16, body: String },
    #[error("could not reach {url}: {reason}")]
    Transport {
        url: String,
        reason: String,
        connect: bool,
    },
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
    #[error("the message is not valid: {0}")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("the template breaks Meta's rules: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Template(Vec<FieldProblem>),
}

impl ClientError {
    pub fn graph_code(&self) -> Option<i64> {
        match self {
            ClientError::Graph { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn retry(&self) -> Retry {
        match self {
            ClientError::Graph { error, .. } => error.class().retry,
            ClientError::Http { status, .. } if *status >= 500 || *status == 429 => Retry::Soon,
            ClientError::Http { .. } => Retry::Never,
            ClientError::Transport { .. } => Retry::Soon,
            ClientError::Decode { .. }
            | ClientError::Invalid(_)
            | ClientError::Media(_)
            | ClientError::Template(_) => Retry::Never,
        }
    }

    /// Meta answered with an error that does not say whether it acted: 131000 ("something went
    /// wrong"), 1 (unknown) and 2 (service). A send that got one may have gone out.
    pub fn ambiguous(&self) -> bool {
        matches!(self, ClientError::Graph { error, .. } if matches!(error.code, 1 | 2 | 131000))
    }

    /// Meta certainly did not act on the request: it can be sent again without a duplicate.
    pub fn certainly_not_sent(&self) -> bool {
        if self.ambiguous() {
            return false;
        }
        match self {
            ClientError::Transport { connect, .. } => *connect,
            ClientError::Graph { .. } => matches!(self.retry(), Retry::Soon | Retry::Later),
            ClientError::Http { status, .. } => *status == 429 || *status == 503,
            _ => false,
        }
    }

    /// Meta may have acted on the request though it answered with an error (131000 "something
    /// went wrong", the unknown and service errors 1 and 2, a 5xx, a connection cut after the
    /// request left): such a send is neither retried nor called refused.
    pub fn maybe_sent(&self) -> bool {
        self.ambiguous()
            || matches!(self, ClientError::Transport { connect: false, .. })
            || matches!(self, ClientError::Http { status, .. } if *status >= 500 && *status != 503)
    }

    /// Whether trying again cannot send a message twice: Meta refused it, or it never left.
    fn safe_to_repeat(&self) -> bool {
        match self {
            ClientError::Graph { .. } => !self.ambiguous(),
            ClientError::Http { status, .. } => *status == 429 || *status == 503,
            ClientError::Transport { connect, .. } => *connect,
            _ => false,
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// The most pages of 100 templates read from one WABA: Meta allows at most 6,000 templates.
pub const MAX_TEMPLATE_PAGES: usize = 100;

struct Pacing {
    /// Each sender number's limiter, made at its rate when it first sends.
    per_sender: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
    /// A number's rate when none was set for it.
    default_rate: u32,
    /// Rates set for numbers (Meta's throughput level of each).
    rates: Mutex<HashMap<String, u32>>,
    per_pair: DefaultKeyedRateLimiter<(String, String)>,
}

impl Pacing {
    /// The number's limiter: evenly spaced, no burst, so a number never sends more than its rate
    /// in any second.
    fn sender(&self, phone_number_id: &str) -> Arc<DefaultDirectRateLimiter> {
        let rate = self
            .rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(phone_number_id)
            .copied()
            .unwrap_or(self.default_rate)
            .max(1);
        let mut senders = self.per_sender.lock().unwrap_or_else(|e| e.into_inner());
        match senders.get(phone_number_id) {
            Some((r, limiter)) if *r == rate => limiter.clone(),
            _ => {
                let period = Duration::from_secs(1) / rate;
                let limiter = Arc::new(RateLimiter::direct(
                    Quota::with_period(period).expect("non-zero period"),
                ));
                senders.insert(phone_number_id.to_owned(), (rate, limiter.clone()));
                limiter
            }
        }
    }
}

/// A client for one set of credentials. Cheap to clone; clones share their pacing.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    root: String,
    graph: String,
    token: Arc<Sensitive<String>>,
    retry: RetryPolicy,
    pacing: Arc<Pacing>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("graph", &self.graph)
            .field("token", &self.token)
            .finish()
    }
}

/// Optional filters of the template list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl GraphClient {
    pub fn new(config: &GraphConfig, token: Sensitive<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("CRMConnect-WhatsApp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Transport {
                url: config.base_url.clone(),
                reason: e.to_string(),
                connect: false,
            })?;
        let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("max(1) is non-zero");
        let pair = Quota::with_period(config.pair_period.max(Duration::from_millis(1)))
            .expect("non-zero period")
            .allow_burst(nz(config.pair_burst));
        let root = config.base_url.trim_end_matches('/').to_owned();
        Ok(GraphClient {
            http,
            graph: format!("{root}/{}", config.version.trim_matches('/')),
            root,
            token: Arc::new(token),
            retry: config.retry,
            pacing: Arc::new(Pacing {
                per_sender: Mutex::default(),
                default_rate: nz(config.throughput_per_sec).get(),
                rates: Mutex::default(),
                per_pair: RateLimiter::keyed(pair),
            }),
        })
    }

    /// Sets one sender number's messages per second (Meta raised its throughput level, or the
    /// number is a coexistence number); the clients sharing this one's pacing follow.
    pub fn set_throughput(&self, phone_number_id: &str, per_sec: u32) {
        self.pacing
            .rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(phone_number_id.to_owned(), per_sec.max(1));
    }

    /// The messages per second one sender number sends at.
    pub fn throughput(&self, phone_number_id: &str) -> u32 {
        self.pacing
            .rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(phone_number_id)
            .copied()
            .unwrap_or(self.pacing.default_rate)
    }

    /// `https://graph.facebook.com/v23.0` (or the sandbox's equivalent).
    pub fn graph_url(&self) -> &str {
        &self.graph
    }

    // ---- transport ----------------------------------------------------------------------------

    async fn once(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), url)
            .bearer_auth(self.token.expose())
            .query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        tracing::debug!(%method, url, "graph call");
        let resp = req.send().await.map_err(|e| ClientError::Transport {
            url: url.into(),
            reason: e.to_string(),
            connect: e.is_connect(),
        })?;
        Self::decode(url, resp).await
    }

    async fn decode(url: &str, resp: reqwest::Response) -> Result<Value> {
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Transport {
            url: url.into(),
            reason: e.to_string(),
            connect: false,
        })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                url: url.into(),
                reason: e.to_string(),
            });
        }
        match serde_json::from_slice::<GraphErrorEnvelope>(&bytes) {
            Ok(env) => Err(ClientError::Graph {
                status: status.as_u16(),
                error: Box::new(env.error),
            }),
            Err(_) => Err(ClientError::Http {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            }),
        }
    }

    /// One call with retries for transient refusals that cannot duplicate anything.
    async fn call(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut attempt = 1;
        loop {
            match self.once(method.clone(), url, query, body).await {
                Err(e)
                    if attempt < self.retry.attempts
                        && e.retry() == Retry::Soon
                        && e.safe_to_repeat() =>
                {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(code = ?e.graph_code(), attempt, wait_ms = wait.as_millis() as u64, "retrying graph call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let url = format!("{}/{path}", self.graph);
        let v = self.call(Method::GET, &url, query, None).await?;
        from_value(&url, v)
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        let url = format!("{}/{path}", self.graph);
        let v = self.call(Method::POST, &url, &[], Some(body)).await?;
        from_value(&url, v)
    }

    // ---- messages -----------------------------------------------------------------------------

    /// Sends one message from `phone_number_id`, paced for the number and the recipient.
    pub async fn send(&self, phone_number_id: &str, message: &Outbound) -> Result<SendResponse> {
        message.validate()?;
        self.pacing.sender(phone_number_id).until_ready().await;
        self.pacing
            .per_pair
            .until_key_ready(&(phone_number_id.to_owned(), message.to.clone()))
            .await;
        let mut body = serde_json::to_value(message).map_err(|e| ClientError::Decode {
            url: "message".into(),
            reason: e.to_string(),
        })?;
        body["messaging_product"] = json!("whatsapp");
        body["recipient_type"] = json!("individual");
        if crate::messages::is_user_id(&message.to)
            && let Some(o) = body.as_object_mut()
            && let Some(id) = o.remove("to")
        {
            o.insert("recipient".into(), id);
        }
        self.post(&format!("{phone_number_id}/messages"), &body)
            .await
    }

    /// Marks an inbound message read (blue ticks), optionally showing "typing…".
    pub async fn mark_read(
        &self,
        phone_number_id: &str,
        message_id: &str,
        typing: bool,
    ) -> Result<()> {
        // A read receipt is a call on the number's messages endpoint: Meta counts it against the
        // number's throughput like a message.
        self.pacing.sender(phone_number_id).until_ready().await;
        let mut body =
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id});
        if typing {
            body["typing_indicator"] = json!({"type": "text"});
        }
        let _: Value = self
            .post(&format!("{phone_number_id}/messages"), &body)
            .await?;
        Ok(())
    }

    // ---- media --------------------------------------------------------------------------------

    /// Uploads a file after checking Meta's type and size limits; returns its media id.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        file_name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<String> {
        media::check_upload(file_name, mime, bytes.len() as u64)?;
        let url = format!("{}/{phone_number_id}/media", self.graph);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .map_err(|_| MediaError::UnsupportedType { mime: mime.into() })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime.to_owned())
            .part("file", part);
        let resp = self
            .http
            .post(&url)
            .bearer_auth(self.token.expose())
            .multipart(form)
            .send()
            .await
            .map_err(|e| ClientError::Transport {
                url: url.clone(),
                reason: e.to_string(),
                connect: e.is_connect(),
            })?;
        let v = Self::decode(&url, resp).await?;
        Ok(from_value::<UploadResponse>(&url, v)?.id)
    }

    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo> {
        self.get(media_id, &[]).await
    }

    /// Downloads a media URL with the bearer token (the URL alone does not give the file).
    pub async fn download(&self, url: &str) -> Result<Vec<u8>> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| ClientError::Transport {
                url: url.into(),
                reason: e.to_string(),
                connect: e.is_connect(),
            })?;
        let status = resp.status();
        if status != StatusCode::OK {
            // An error object when Meta sent one, else the bare status.
            Self::decode(url, resp).await?;
            return Err(ClientError::Http {
                status: status.as_u16(),
                body: String::new(),
            });
        }
        Ok(resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport {
                url: url.into(),
                reason: e.to_string(),
                connect: false,
            })?
            .to_vec())
    }

    pub async fn delete_media(&self, media_id: &str) -> Result<()> {
        let url = format!("{}/{media_id}", self.graph);
        self.call(Method::DELETE, &url, &[], None).await.map(|_| ())
    }

    // ---- templates ----------------------------------------------------------------------------

    pub async fn list_templates(
        &self,
        waba_id: &str,
        q: &TemplateQuery,
    ) -> Result<Page<TemplateDef>> {
        let limit = q.limit.map(|l| l.to_string());
        let mut query: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("name", q.name.as_deref()),
            ("status", q.status.as_deref()),
            ("category", q.category.as_deref()),
            ("language", q.language.as_deref()),
            ("limit", limit.as_deref()),
            ("after", q.after.as_deref()),
        ] {
            if let Some(v) = v {
                query.push((k, v));
            }
        }
        self.get(&format!("{waba_id}/message_templates"), &query)
            .await
    }

    /// Every template of the WABA, following Meta's paging to the end: at most
    /// [`MAX_TEMPLATE_PAGES`] pages, and never the same cursor twice, so a server whose paging
    /// never ends (broken, or not Meta) is refused by name instead of looping forever.
    pub async fn all_templates(&self, waba_id: &str) -> Result<Vec<TemplateDef>> {
        let mut out = Vec::new();
        let mut q = TemplateQuery {
            limit: Some(100),
            ..Default::default()
        };
        let url = format!("{}/{waba_id}/message_templates", self.graph);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_TEMPLATE_PAGES {
            let page = self.list_templates(waba_id, &q).await?;
            let next = page.next_cursor().map(str::to_owned);
            out.extend(page.data);
            match next {
                Some(after) if !seen.insert(after.clone()) => {
                    return Err(ClientError::Decode {
                        url,
                        reason: format!("the template list's paging came back to cursor “{after}”"),
                    });
                }
                Some(after) => q.after = Some(after),
                None => return Ok(out),
            }
        }
        Err(ClientError::Decode {
            url,
            reason: format!(
                "the template list did not end after {MAX_TEMPLATE_PAGES} pages of 100 (Meta allows far fewer templates)"
            ),
        })
    }

    pub async fn get_template(&self, template_id: &str) -> Result<TemplateDef> {
        self.get(template_id, &[]).await
    }

    /// Submits a new template after checking Meta's rules; it starts PENDING.
    pub async fn create_template(
        &self,
        waba_id: &str,
        template: &TemplateDef,
    ) -> Result<CreatedTemplate> {
        let problems = template.check();
        if !problems.is_empty() {
            return Err(ClientError::Template(problems));
        }
        let mut body = serde_json::to_value(template).map_err(|e| ClientError::Decode {
            url: "template".into(),
            reason: e.to_string(),
        })?;
        if let Some(o) = body.as_object_mut() {
            o.remove("id");
            o.remove("status");
        }
        self.post(&format!("{waba_id}/message_templates"), &body)
            .await
    }

    /// Edits a template's category and components; Meta reviews it again.
    pub async fn edit_template(&self, template_id: &str, template: &TemplateDef) -> Result<()> {
        let problems = template.check();
        if !problems.is_empty() {
            return Err(ClientError::Template(problems));
        }
        let body = json!({"category": template.category, "components": template.components});
        let _: Value = self.post(template_id, &body).await?;
        Ok(())
    }

    /// Deletes a template: every language of `name`, or exactly one when `template_id` is given.
    pub async fn delete_template(
        &self,
        waba_id: &str,
        name: &str,
        template_id: Option<&str>,
    ) -> Result<()> {
        let url = format!("{}/{waba_id}/message_templates", self.graph);
        let mut query = vec![("name", name)];
        if let Some(id) = template_id {
            query.push(("hsm_id", id));
        }
        self.call(Method::DELETE, &url, &query, None)
            .await
            .map(|_| ())
    }

    // ---- webhook subscription ----------------------------------------------------------------

    /// Subscribes the token's app to the WABA's webhooks (`POST /{waba}/subscribed_apps`). With
    /// `alternate` (callback URL, verify token), the WABA's webhooks go to that URL instead of
    /// the app's: Meta first checks it with the `hub.challenge` handshake, and refuses (error
    /// 2200) when it does not answer. Template and account webhooks still go to the app's URL.
    pub async fn subscribe_app(
        &self,
        waba_id: &str,
        alternate: Option<(&str, &str)>,
    ) -> Result<()> {
        let body = match alternate {
            Some((uri, verify_token)) => {
                serde_json::json!({ "override_callback_uri": uri, "verify_token": verify_token })
            }
            None => serde_json::json!({}),
        };
        let _: Value = self
            .post(&format!("{waba_id}/subscribed_apps"), &body)
            .await?;
        Ok(())
    }

    /// The apps subscribed to the WABA's webhooks, with the alternate callback URL when one is set.
    pub async fn subscribed_apps(&self, waba_id: &str) -> Result<Vec<SubscribedApp>> {
        let page: Page<SubscribedApp> =
            self.get(&format!("{waba_id}/subscribed_apps"), &[]).await?;
        Ok(page.data)
    }

    // ---- numbers and profiles -----------------------------------------------------------------

    pub async fn phone_numbers(&self, waba_id: &str) -> Result<Vec<PhoneNumber>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("fields", PHONE_FIELDS)];
            if let Some(a) = after.as_deref() {
                query.push(("after", a));
            }
            let page: Page<PhoneNumber> = self
                .get(&format!("{waba_id}/phone_numbers"), &query)
                .await?;
            let next = page.next_cursor().map(str::to_owned);
            out.extend(page.data);
            match next {
                Some(a) => after = Some(a),
                None => return Ok(out),
            }
        }
    }

    pub async fn phone_number(&self, phone_number_id: &str) -> Result<PhoneNumber> {
        self.get(phone_number_id, &[("fields", PHONE_FIELDS)]).await
    }

    pub async fn business_profile(&self, phone_number_id: &str) -> Result<BusinessProfile> {
        let env: ProfileEnvelope = self
            .get(
                &format!("{phone_number_id}/whatsapp_business_profile"),
                &[("fields", PROFILE_FIELDS)],
            )
            .await?;
        Ok(env.data.into_iter().next().unwrap_or_default())
    }

    /// Fetches a profile picture with the token; only Rust ever sees the URL and the token.
    pub async fn profile_picture(&self, url: &str) -> Result<Vec<u8>> {
        self.download(url).await
    }

    /// The root the client was configured with (for the sandbox's own endpoints in tests).
    pub fn root_url(&self) -> &str {
        &self.root
    }
}

fn from_value<T: DeserializeOwned>(url: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| ClientError::Decode {
        url: url.into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorData;

    fn graph(code: i64) -> ClientError {
        ClientError::Graph {
            status: 400,
            error: Box::new(GraphError {
                code,
                error_subcode: None,
                message: String::new(),
                kind: None,
                error_data: Some(ErrorData {
                    messaging_product: None,
                    details: String::new(),
                }),
                error_user_title: None,
                error_user_msg: None,
                is_transient: None,
                fbtrace_id: None,
            }),
        }
    }

    #[test]
    fn a_number_raised_to_a_higher_throughput_sends_at_its_own_rate() {
        let config = GraphConfig {
            throughput_per_sec: 1,
            ..GraphConfig::default()
        };
        let client = GraphClient::new(&config, Sensitive::new("t".into())).unwrap();
        let standard = client.pacing.sender("p1");
        assert!(standard.check().is_ok());
        assert!(
            standard.check().is_err(),
            "one a second at the default rate"
        );
        client.set_throughput("p1", 1000);
        assert_eq!(client.throughput("p1"), 1000);
        assert_eq!(client.throughput("p2"), 1, "the other numbers keep theirs");
        let raised = client.pacing.sender("p1");
        let mut passed = 0;
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(2));
            passed += usize::from(raised.check().is_ok());
        }
        assert_eq!(passed, 20, "a send every 2 ms passes at 1,000 a second");
        assert!(client.pacing.sender("p2").check().is_ok());
        assert!(client.pacing.sender("p2").check().is_err());
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let first = p.backoff(1, &graph(130429));
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = p.backoff(3, &graph(130429));
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            let pair = p.backoff(2, &graph(131056));
            assert!(
                pair >= Duration::from_millis(200) && pair <= Duration::from_millis(400),
                "{pair:?}"
            );
            assert!(p.backoff(10, &graph(130429)) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn only_transient_refusals_that_cannot_duplicate_are_repeated() {
        assert!(graph(130429).retry() == Retry::Soon && graph(130429).safe_to_repeat());
        assert_eq!(graph(131047).retry(), Retry::Never);
        let timeout = ClientError::Transport {
            url: "u".into(),
            reason: "timed out".into(),
            connect: false,
        };
        assert!(
            !timeout.safe_to_repeat(),
            "a timed-out send may have reached Meta"
        );
    }
}

/// One app of `GET /{waba}/subscribed_apps`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq, Eq)]
pub struct SubscribedApp {
    pub whatsapp_business_api_data: SubscribedAppData,
    /// The WABA's alternate callback URL, when set.
    #[serde(default)]
    pub override_callback_uri: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize, PartialEq, Eq)]
pub struct SubscribedAppData {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
}
