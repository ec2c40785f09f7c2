//! Webhooks as Meta sends them: envelopes (`object`, `entry[].id` = WABA, `changes[].field`),
//! signed with `X-Hub-Signature-256` over the raw body, POSTed in order by one worker, retried
//! with exponential backoff on a non-2xx answer or a connection failure (at-least-once), and
//! kept in a short log for debugging (`GET /sandbox/webhooks/deliveries`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::config::SandboxConfig;
use super::error::SandboxError;
use crmconnect_base::sensitive::Sensitive;
use crmconnect_meta::signature;

/// How many deliveries the debugging log keeps.
pub const LOG_CAPACITY: usize = 500;

/// Where webhooks go and the secret they are signed with.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub url: String,
    pub app_secret: Sensitive<String>,
}

impl WebhookTarget {
    /// A target, if `url` is an absolute http(s) URL.
    pub fn new(url: &str, app_secret: &str) -> Result<Self, SandboxError> {
        if !super::validate::is_http_url(url) {
            return Err(SandboxError::InvalidWebhookUrl(url.to_owned()));
        }
        Ok(WebhookTarget {
            url: url.to_owned(),
            app_secret: Sensitive::new(app_secret.to_owned()),
        })
    }
}

/// One webhook and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Order in which the sandbox queued it (deliveries go out in this order).
    pub id: u64,
    /// `changes[].field`: `messages` or `message_template_status_update`.
    pub field: String,
    /// What it carries, e.g. `status delivered wamid.…` or `message text from ana`.
    pub summary: String,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    /// The envelope exactly as POSTed.
    pub payload: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its turn, or for a target to be set.
    Queued,
    /// Failed at least once; the next attempt is scheduled.
    Retrying,
    Delivered,
    /// Retried for `webhook_retry_for` without success.
    GaveUp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Real time of the attempt, ms since the Unix epoch.
    pub at_ms: i64,
    /// The HTTP status the receiver answered, if it answered.
    pub status: Option<u16>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
}

pub(crate) struct Queued {
    id: u64,
    /// Whether a WABA's alternate callback URL takes it (see [`OVERRIDABLE`]).
    overridable: bool,
    body: Vec<u8>,
}

/// The webhook fields a WABA's alternate callback URL (`POST /{waba}/subscribed_apps` with
/// `override_callback_uri`) takes, as Meta's "Webhook overrides" page lists them. Template and
/// account webhooks always go to the app's callback URL.
pub const OVERRIDABLE: &[&str] = &[
    "messages",
    "message_echoes",
    "calls",
    "consumer_profile",
    "messaging_handovers",
    "group_lifecycle_update",
    "group_participants_update",
    "group_settings_update",
    "group_status_update",
    "smb_message_echoes",
    "smb_app_state_sync",
    "history",
    "account_settings_update",
];

/// Where webhooks go: the app's callback URL (with the secret they are signed with) and the
/// WABA's alternate callback URL, if one was set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    app: Option<WebhookTarget>,
    waba_override: Option<String>,
}

impl Routes {
    /// Where a webhook goes now, signed with what; `None` while it has nowhere to go.
    fn destination(
        &self,
        overridable: bool,
        app_secret: &Sensitive<String>,
    ) -> Option<WebhookTarget> {
        match (&self.waba_override, overridable) {
            (Some(url), true) => Some(WebhookTarget {
                url: url.clone(),
                app_secret: self
                    .app
                    .as_ref()
                    .map_or_else(|| app_secret.clone(), |a| a.app_secret.clone()),
            }),
            _ => self.app.clone(),
        }
    }
}

pub(crate) struct Webhooks {
    tx: mpsc::UnboundedSender<Queued>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Queued>>>,
    target: watch::Sender<Routes>,
    log: Mutex<VecDeque<Delivery>>,
    next_id: AtomicU64,
}

impl Webhooks {
    pub fn new(target: Option<WebhookTarget>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Webhooks {
            tx,
            rx: Mutex::new(Some(rx)),
            target: watch::Sender::new(Routes {
                app: target,
                waba_override: None,
            }),
            log: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Queues `envelope` for delivery; returns its delivery id.
    pub fn enqueue(&self, field: &str, summary: String, envelope: Value) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::to_vec(&envelope).unwrap_or_default();
        {
            let mut log = lock(&self.log);
            if log.len() == LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(Delivery {
                id,
                field: field.to_owned(),
                summary,
                state: DeliveryState::Queued,
                attempts: Vec::new(),
                payload: envelope,
            });
        }
        // The receiver lives as long as the worker; after shutdown the send fails, harmlessly.
        let _ = self.tx.send(Queued {
            id,
            overridable: OVERRIDABLE.contains(&field),
            body,
        });
        id
    }

    pub fn set_target(&self, target: Option<WebhookTarget>) {
        self.target.send_modify(|r| r.app = target);
    }

    pub fn target(&self) -> Option<WebhookTarget> {
        self.target.borrow().app.clone()
    }

    /// The WABA's alternate callback URL for [`OVERRIDABLE`] fields (`None` removes it).
    pub fn set_override(&self, url: Option<String>) {
        self.target.send_modify(|r| r.waba_override = url);
    }

    pub fn override_url(&self) -> Option<String> {
        self.target.borrow().waba_override.clone()
    }

    /// The last deliveries, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.log).iter().cloned().collect()
    }

    /// How many deliveries are not delivered yet.
    pub fn undelivered(&self) -> usize {
        lock(&self.log)
            .iter()
            .filter(|d| matches!(d.state, DeliveryState::Queued | DeliveryState::Retrying))
            .count()
    }

    fn record(&self, id: u64, attempt: Option<Attempt>, state: DeliveryState) {
        let mut log = lock(&self.log);
        if let Some(d) = log.iter_mut().find(|d| d.id == id) {
            if let Some(a) = attempt {
                d.attempts.push(a);
            }
            d.state = state;
        }
    }

    pub(crate) fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Queued>> {
        lock(&self.rx).take()
    }
}

/// The worker: delivers queued webhooks one at a time, in order, until cancelled.
pub(crate) async fn run_worker(
    hooks: std::sync::Arc<Webhooks>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    client: reqwest::Client,
    config: SandboxConfig,
    cancel: CancellationToken,
) {
    let mut target_rx = hooks.target.subscribe();
    loop {
        let item = tokio::select! {
            _ = cancel.cancelled() => return,
            item = rx.recv() => match item { Some(i) => i, None => return },
        };
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            // Wait for a target; deliveries queue up until there is one.
            let target = loop {
                if let Some(t) = target_rx
                    .borrow_and_update()
                    .destination(item.overridable, &config.app_secret)
                {
                    break t;
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    changed = target_rx.changed() => if changed.is_err() { return },
                }
            };
            attempt += 1;
            let (status, error) = match post(&client, &target, &item.body).await {
                Ok(s) if (200..300).contains(&s) => (Some(s), None),
                Ok(s) => (Some(s), Some(format!("the receiver answered HTTP {s}"))),
                Err(e) => (None, Some(e)),
            };
            let record = Attempt {
                at_ms: crmconnect_base::now_ms(),
                status,
                error: error.clone(),
            };
            if error.is_none() {
                hooks.record(item.id, Some(record), DeliveryState::Delivered);
                tracing::debug!(delivery = item.id, attempt, "webhook delivered");
                break;
            }
            if started.elapsed() >= config.webhook_retry_for {
                hooks.record(item.id, Some(record), DeliveryState::GaveUp);
                tracing::warn!(
                    delivery = item.id,
                    attempt,
                    "webhook given up after retrying"
                );
                break;
            }
            hooks.record(item.id, Some(record), DeliveryState::Retrying);
            let delay = backoff(&config, attempt);
            tracing::info!(
                delivery = item.id,
                attempt,
                retry_in_ms = delay.as_millis() as u64,
                error = error.as_deref().unwrap_or(""),
                "webhook failed; retrying"
            );
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(delay) => {},
                // A new target is tried at once.
                changed = target_rx.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// `base × 2^(attempt-1)`, at most `webhook_retry_max_delay`.
pub(crate) fn backoff(config: &SandboxConfig, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
    config
        .webhook_retry_base
        .saturating_mul(factor)
        .min(config.webhook_retry_max_delay)
}

async fn post(
    client: &reqwest::Client,
    target: &WebhookTarget,
    body: &[u8],
) -> Result<u16, String> {
    let sig = signature::sign(target.app_secret.expose().as_bytes(), body);
    client
        .post(&target.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signature::HEADER, sig)
        .body(body.to_vec())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("could not reach the receiver: {e}"))
}

/// Meta's subscription handshake: `GET url?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
/// must answer 200 with the challenge as its body.
pub(crate) async fn verify_target(
    client: &reqwest::Client,
    url: &str,
    verify_token: &str,
    challenge: u64,
) -> Result<(), SandboxError> {
    let challenge = challenge.to_string();
    let mut u =
        reqwest::Url::parse(url).map_err(|_| SandboxError::InvalidWebhookUrl(url.into()))?;
    u.query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", verify_token)
        .append_pair("hub.challenge", &challenge);
    let response = client
        .get(u)
        .send()
        .await
        .map_err(|e| SandboxError::Verification(format!("could not reach it: {e}")))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| SandboxError::Verification(format!("could not read its answer: {e}")))?;
    if !status.is_success() {
        return Err(SandboxError::Verification(format!(
            "it answered HTTP {} (wrong verify token?)",
            status.as_u16()
        )));
    }
    if body.trim() != challenge {
        return Err(SandboxError::Verification(
            "it did not echo hub.challenge".into(),
        ));
    }
    Ok(())
}

/// A `messages` envelope for one sandbox number.
pub(crate) fn messages_envelope(
    waba_id: &str,
    display_digits: &str,
    phone_number_id: &str,
    value: Value,
) -> Value {
    let mut v = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": display_digits, "phone_number_id": phone_number_id }
    });
    if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), value) {
        o.extend(extra);
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": waba_id, "changes": [{ "value": v, "field": "messages" }] }]
    })
}

/// An envelope for a WABA-level field (`message_template_status_update`, …).
pub(crate) fn account_envelope(waba_id: &str, time: u64, field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": waba_id, "time": time, "changes": [{ "value": value, "field": field }] }]
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = SandboxConfig {
            webhook_retry_base: Duration::from_millis(200),
            webhook_retry_max_delay: Duration::from_secs(1),
            ..SandboxConfig::default()
        };
        let delays: Vec<u128> = (1..=5).map(|a| backoff(&config, a).as_millis()).collect();
        assert_eq!(delays, vec![200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(&config, 200).as_millis(), 1000);
    }

    #[test]
    fn envelopes_have_meta_shape() {
        let e = messages_envelope("W", "15555550101", "P", json!({"statuses": []}));
        assert_eq!(e["object"], "whatsapp_business_account");
        assert_eq!(e["entry"][0]["id"], "W");
        let change = &e["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        assert_eq!(change["value"]["messaging_product"], "whatsapp");
        assert_eq!(change["value"]["metadata"]["phone_number_id"], "P");
        assert!(change["value"]["statuses"].is_array());
        let t = account_envelope(
            "W",
            5,
            "message_template_status_update",
            json!({"event":"APPROVED"}),
        );
        assert_eq!(t["entry"][0]["time"], 5);
        assert_eq!(t["entry"][0]["changes"][0]["value"]["event"], "APPROVED");
    }

    #[test]
    fn the_log_keeps_the_last_deliveries() {
        let hooks = Webhooks::new(None);
        for i in 0..(LOG_CAPACITY + 3) {
            hooks.enqueue("messages", format!("n{i}"), json!({}));
        }
        let log = hooks.deliveries();
        assert_eq!(log.len(), LOG_CAPACITY);
        assert_eq!(log[0].id, 4);
        assert_eq!(hooks.undelivered(), LOG_CAPACITY);
    }
}
