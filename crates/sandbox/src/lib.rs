//! The sandbox: a local stand-in for Meta's Graph API (WhatsApp Cloud API), so that the product
//! and every test work without Meta. It answers Meta's endpoints in Meta's shapes, validates as
//! Meta does (every refusal is Meta's error object with Meta's code), and sends signed webhooks —
//! statuses `sent → delivered → read`, template reviews, and messages from simulated customers.
//! Everything it holds is clearly sandbox data and lives in memory.
//!
//! # Using it
//! In-process: [`Sandbox::start`] with a [`SandboxConfig`] gives a [`SandboxHandle`]
//! (base and Graph URLs, the token, seeded ids, the [`SandboxClock`], customers, webhook target,
//! [`shutdown`](SandboxHandle::shutdown)). On its own: `relay sandbox --listen 127.0.0.1:8788
//! --webhook-url http://127.0.0.1:8787/webhook --app-secret …`.
//!
//! # Graph API (under `/{version}/…`, any `vNN.N`; `Authorization: Bearer <token>`)
//! | endpoint | does |
//! |---|---|
//! | `POST /{phone-number-id}/messages` | every message type, replies (`context`), mark-as-read (+ typing indicator) |
//! | `GET /{waba-id}/message_templates` | paging (`limit`, `after`/`before`), filters `name`, `status`, `category`, `language`, `fields`, `summary` |
//! | `POST /{waba-id}/message_templates` | create: PENDING, then APPROVED or REJECTED after the review delay (sandbox time) |
//! | `DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]` | delete every language, or one template |
//! | `GET` / `POST /{template-id}` | one template / edit it (back to PENDING) |
//! | `GET /{waba-id}/phone_numbers`, `GET /{phone-number-id}` | numbers, with `fields=` |
//! | `GET` / `POST /{phone-number-id}/whatsapp_business_profile` | the profile; picture URL needs the token |
//! | `POST /{phone-number-id}/media` | multipart upload with Meta's types and sizes |
//! | `GET` / `DELETE /{media-id}` | URL (5 min, needs the token to download) / delete |
//! | `GET /{waba-id}` | the WABA |
//!
//! Anything else under a version is error 100 (HTTP 400). Errors: 100 / 131008 / 131009 for bad
//! requests, 132000 / 132001 / 132005 / 132012 / 132015 / 132016 for template sends, 131047
//! outside the 24-hour window (as a `failed` status like Meta, or synchronously with
//! [`WindowEnforcement::Refuse`]), 130429 throughput, 131056 pair rate, 190 token (HTTP 401),
//! 131053 media; template creation is 100 with Meta's `error_subcode` (2388299 for a variable at
//! the start or end of the body, 2388047, 2388040, 2388073, 2388024, 2388019).
//!
//! # Control endpoints (JSON, no token; the sandbox listens on loopback)
//! | endpoint | does |
//! |---|---|
//! | `GET /sandbox` | overview: ids, numbers, customers, clock, webhook target |
//! | `GET /sandbox/clock` | `{now, offset_seconds, frozen, pending_jobs}` |
//! | `POST /sandbox/clock/advance` | `{"seconds":…}` (or `minutes`, `hours`, `days`): move sandbox time on |
//! | `GET /sandbox/customers` | the simulated customers |
//! | `POST /sandbox/customers/{who}/messages` | a customer writes: `{"type":"text","body":"Hi"}`, `{"type":"image","caption":…}`, `{"type":"button_reply","id":…,"title":…}`, `{"type":"reaction","emoji":"👍"}`… plus optional `phone_number_id`, `reply_to`, `reply_to_last` |
//! | `POST /sandbox/customers/{who}/next` | the customer's next scripted message |
//! | `GET /sandbox/webhooks/deliveries?limit=&field=` | recent webhook deliveries, newest first, with attempts and payloads |
//! | `GET` / `PUT /sandbox/webhooks/target` | where webhooks go: `{"url":…, "app_secret":…}` |
//! | `POST /sandbox/webhooks/verify` | Meta's `hub.challenge` handshake against the target |
//! | `POST /sandbox/templates/{id}/status` | `{"status":"PAUSED"|"DISABLED"|…, "reason":…}`, with the webhook |
//!
//! `{who}` is a customer's key (`ana`, `ben`, `chen`, `dara`), phone number or user id.
//! Media download URLs and profile pictures are served under `/sandbox/lookaside/…` (token needed).

mod clock;
mod config;
mod customers;
mod engine;
mod error;
mod handlers;

/// Where the knowledge text starts in an AI bot's system message: the sandbox's stand-in model
/// answers from what follows it.
pub use handlers::ai::KNOWLEDGE_MARK as AI_KNOWLEDGE_MARK;
mod limits;
pub use limits::{JITTER_BURST, SendRate};
mod picture;
mod scheduler;
mod seed;
mod store;
mod validate;
mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use clock::SandboxClock;
pub use config::{SandboxConfig, WindowEnforcement};
pub use customers::{CustomerInfo, CustomerMessage, Inbound, OrderLine, Shown};
pub use error::{Refusal, SandboxError};
pub use seed::{SALES_PHONE_NUMBER_ID, SUPPORT_PHONE_NUMBER_ID, WABA_ID};

/// What the business does from the WhatsApp Business app on the same number (coexistence): Meta
/// sends each as an `smb_message_echoes` webhook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Echo {
    /// A text to the customer.
    Text { body: String },
    /// Edits the business's last message to the customer.
    EditLast { body: String },
    /// Deletes the business's last message to the customer for everyone.
    DeleteLast,
}

/// One of Meta's notices about the account the sandbox can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountEvent {
    /// `account_update` ACCOUNT_RESTRICTION: no business-initiated messages for 7 days.
    Restrict,
    /// `account_update` DISABLED_UPDATE with REINSTATE.
    Reinstate,
    /// `account_update` ACCOUNT_VIOLATION.
    Violation,
    /// `phone_number_quality_update` FLAGGED for the first number (its rating turns RED).
    FlagNumber,
    /// `phone_number_quality_update` UNFLAGGED (GREEN again).
    UnflagNumber,
    /// `phone_number_quality_update` DOWNGRADE from 10K to 2K customers a day.
    LowerLimit,
    /// `phone_number_quality_update` THROUGHPUT_UPGRADE for the first number: from then on it
    /// may send at the high level (`high_throughput_mps`, 1,000 a second by default).
    UpgradeThroughput,
}
pub use webhooks::{Attempt, Delivery, DeliveryState, WebhookTarget};

use engine::Shared;

/// Starts sandboxes.
pub struct Sandbox;

/// A sandbox phone number, as the handle lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SandboxNumber {
    pub id: String,
    pub display_phone_number: String,
    pub verified_name: String,
}

impl Sandbox {
    /// Seeds the state, binds `config.listen` and serves until the handle shuts it down.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let clock = if config.frozen_clock {
            SandboxClock::frozen_at(std::time::SystemTime::now())
        } else {
            SandboxClock::new()
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let shown_ip = if addr.ip().is_unspecified() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            addr.ip()
        };
        let base_url = format!("http://{}", SocketAddr::new(shown_ip, addr.port()));
        let client = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            // A relay closes connections that send nothing for its header timeout (10 s by
            // default): idle pooled ones are dropped here first, so no webhook races that close.
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .user_agent("facebookexternalua")
            .build()
            .map_err(SandboxError::HttpClient)?;
        let target = match &config.webhook_url {
            Some(url) => Some(WebhookTarget::new(url, config.app_secret.expose())?),
            None => None,
        };
        let store = seed::store(config.seed, clock.unix_secs())?;
        let hooks = Arc::new(webhooks::Webhooks::new(target));
        let shared = Arc::new(Shared::new(
            config.clone(),
            clock,
            store,
            hooks.clone(),
            client.clone(),
            base_url.clone(),
        ));
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        let app = handlers::router(shared.clone());
        let stop = cancel.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        }));
        tasks.push(tokio::spawn(engine::run_scheduler(
            shared.clone(),
            cancel.clone(),
        )));
        if let Some(rx) = hooks.take_receiver() {
            tasks.push(tokio::spawn(webhooks::run_worker(
                hooks,
                rx,
                client,
                config.clone(),
                cancel.clone(),
            )));
        }
        tracing::info!(%base_url, "sandbox listening");
        let handle = SandboxHandle {
            shared,
            addr,
            base_url,
            cancel,
            tasks,
        };
        if config.greet_on_start {
            for c in handle.customers() {
                if let Err(e) = handle.customer_sends_next(&c.key) {
                    tracing::warn!(customer = %c.key, error = %e, "greeting not sent");
                }
            }
        }
        Ok(handle)
    }
}

/// A running sandbox. Dropping it stops the sandbox too; [`shutdown`](Self::shutdown) also
/// waits for the server to finish the requests in flight.
pub struct SandboxHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl SandboxHandle {
    /// `http://127.0.0.1:<port>`: where Meta's `https://graph.facebook.com` would be.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How fast `phone_number_id`'s messages and read receipts came, as Meta would count them.
    pub fn send_rate(&self, phone_number_id: &str) -> SendRate {
        self.shared.limits.rate(phone_number_id)
    }

    /// The base URL plus the configured version, e.g. `http://127.0.0.1:41234/v23.0`.
    pub fn graph_url(&self) -> String {
        format!("{}/{}", self.base_url, self.shared.config.graph_version)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn clock(&self) -> &SandboxClock {
        &self.shared.clock
    }

    /// The valid access token (send as `Authorization: Bearer …`).
    pub fn access_token(&self) -> String {
        self.shared.access_token()
    }

    /// Replaces the valid token: the old one then gets error 190.
    pub fn set_access_token(&self, token: impl Into<String>) {
        self.shared.set_access_token(token.into());
    }

    /// The token the `hub.challenge` handshake sends.
    pub fn verify_token(&self) -> String {
        self.shared.config.verify_token.expose().clone()
    }

    pub fn waba_id(&self) -> String {
        self.shared.store().waba.id.clone()
    }

    /// The two sandbox numbers: "Sandbox Sales" then "Sandbox Support".
    pub fn phone_numbers(&self) -> Vec<SandboxNumber> {
        self.shared
            .store()
            .numbers
            .iter()
            .map(|n| SandboxNumber {
                id: n.id.clone(),
                display_phone_number: n.display_phone_number.clone(),
                verified_name: n.verified_name.clone(),
            })
            .collect()
    }

    /// How many messages the business sent each recipient (by wa_id, or user id), from the
    /// sandbox's own log of what it accepted: what a test checks "sent exactly once" against.
    pub fn sent_per_recipient(&self) -> std::collections::BTreeMap<String, u64> {
        let mut out = std::collections::BTreeMap::new();
        for o in self.shared.store().outbound.values() {
            *out.entry(o.recipient.key()).or_insert(0) += 1;
        }
        out
    }

    /// The simulated customers (one of them username-only).
    pub fn customers(&self) -> Vec<CustomerInfo> {
        self.shared
            .store()
            .customers
            .iter()
            .map(|c| c.info())
            .collect()
    }

    /// The id of template `name` in `language`, if it exists.
    pub fn template_id(&self, name: &str, language: &str) -> Option<String> {
        self.shared
            .store()
            .templates
            .iter()
            .find(|t| t.name == name && t.language == language)
            .map(|t| t.id.clone())
    }

    /// The review status of template `id` (`PENDING`, `APPROVED`…), if it exists.
    pub fn template_status(&self, id: &str) -> Option<String> {
        self.shared.store().template(id).map(|t| t.status.clone())
    }

    /// A simulated customer (`"ana"`, a phone number or a user id) sends a message; returns its
    /// `wamid`. It opens or refreshes the customer's 24-hour window with that number.
    pub fn customer_sends(
        &self,
        customer: &str,
        message: impl Into<Inbound>,
    ) -> Result<String, SandboxError> {
        self.shared.customer_sends(customer, message.into())
    }

    /// The share of accepted sends that fail later with error 131026, 0 to 1 (starts as the
    /// config's `failure_rate`).
    pub fn failure_rate(&self) -> f64 {
        self.shared.failure_rate()
    }

    /// The business writes to `customer` from the WhatsApp Business app on the first number
    /// (coexistence); returns the message's id. Meta tells the Cloud API side with an
    /// `smb_message_echoes` webhook.
    pub fn business_app_sends(&self, customer: &str, echo: Echo) -> Result<String, SandboxError> {
        self.shared.business_app_sends(customer, echo)
    }

    /// `customer` calls the first number on WhatsApp: Meta's `calls` webhooks for the call's
    /// start and end, answered and `talked` seconds long, or missed when `None`.
    pub fn customer_calls(
        &self,
        customer: &str,
        talked: Option<u64>,
    ) -> Result<String, SandboxError> {
        self.shared.customer_calls(customer, talked)
    }

    /// Meta's own AI agent takes `customer`'s conversation and answers what they write: see
    /// the engine's `meta_agent_answers`.
    pub fn meta_agent_answers(&self, customer: &str, body: &str) -> Result<String, SandboxError> {
        self.shared.meta_agent_answers(customer, body)
    }

    /// Plays one of Meta's notices about the account or its first number (a restriction, a
    /// reinstatement, a flagged number, a lowered limit, a policy violation), as Meta would send
    /// it, and changes the number's quality rating to match.
    pub fn account_event(&self, event: AccountEvent) {
        self.shared.account_event(event)
    }

    /// Changes the failure rate from now on (clamped to 0–1).
    pub fn set_failure_rate(&self, rate: f64) {
        self.shared.set_failure_rate(rate);
    }

    /// The customer's next scripted message.
    pub fn customer_sends_next(&self, customer: &str) -> Result<String, SandboxError> {
        self.shared.customer_sends_next(customer)
    }

    /// Where webhooks go from now on, and the app secret they are signed with.
    pub fn set_webhook_target(&self, url: &str, app_secret: &str) -> Result<(), SandboxError> {
        self.shared
            .webhooks
            .set_target(Some(WebhookTarget::new(url, app_secret)?));
        Ok(())
    }

    /// Stops sending webhooks (they wait in the queue until a target is set again).
    pub fn clear_webhook_target(&self) {
        self.shared.webhooks.set_target(None);
    }

    pub fn webhook_target(&self) -> Option<WebhookTarget> {
        self.shared.webhooks.target()
    }

    /// Meta's subscription handshake against the current target: `GET ?hub.mode=subscribe&
    /// hub.verify_token=…&hub.challenge=…` must answer 200 with the challenge.
    pub async fn verify_webhook_target(&self) -> Result<(), SandboxError> {
        let url = self
            .webhook_target()
            .map(|t| t.url)
            .ok_or(SandboxError::NoWebhookTarget)?;
        let challenge = self.shared.store().numeric_id().parse().unwrap_or(1);
        webhooks::verify_target(
            &self.shared.client,
            &url,
            self.shared.config.verify_token.expose(),
            challenge,
        )
        .await
    }

    /// The last webhook deliveries, oldest first.
    /// The next `n` messages sent are accepted (delivered, their statuses sent as usual) but
    /// answered with error 131000 ("something went wrong"), as Meta's API sometimes answers: the
    /// caller cannot tell whether they went out.
    pub fn lose_next_answers(&self, n: u32) {
        self.shared
            .lost_answers
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.webhooks.deliveries()
    }

    /// Sets a template's status as Meta's review or quality checks would (APPROVED, REJECTED,
    /// PAUSED, DISABLED, FLAGGED, PENDING) and sends `message_template_status_update`.
    pub fn set_template_status(
        &self,
        template_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(), SandboxError> {
        self.shared.set_template_status(template_id, status, reason)
    }

    /// Stops serving (finishing requests in flight), the scheduler and webhook delivery.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        tracing::info!("sandbox stopped");
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Runs a sandbox until Ctrl-C or SIGTERM (the `relay sandbox` command). When a webhook URL is
/// configured, runs Meta's verification handshake first and warns if it fails.
pub async fn serve(config: SandboxConfig) -> Result<(), SandboxError> {
    let handle = Sandbox::start(config).await?;
    println!(
        "sandbox: Graph API at {}  (token: see --access-token; control: {}/sandbox)",
        handle.graph_url(),
        handle.base_url()
    );
    if handle.webhook_target().is_some()
        && let Err(e) = handle.verify_webhook_target().await
    {
        tracing::warn!(error = %e, "webhook target did not pass verification; webhooks are sent anyway");
    }
    shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
