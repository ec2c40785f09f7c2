//! What the sandbox *does*, behind the HTTP handlers and the handle: accept a message (limits,
//! window, template matching, async failures) and play out its statuses, let a simulated
//! customer write, review templates, and check tokens and signed media URLs.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::clock::{SandboxClock, later, unix_secs};
use super::config::{SandboxConfig, WindowEnforcement};
use super::customers::{CustomerMessage, Inbound, payload_json, sample_media};
use super::error::{Refusal, SandboxError};
use super::limits::Limits;
use super::scheduler::{Job, Scheduler, Stage};
use super::store::{Media, Outbound, ReplyHint, Store};
use super::validate::media::rule_for;
use super::validate::messages::{MediaSource, Outgoing, Part};
use super::validate::templates::check_send;
use super::webhooks::{Webhooks, account_envelope, messages_envelope};
use crmconnect_meta::signature;

/// A media URL stays valid this long (sandbox time), as Meta's do.
pub const MEDIA_URL_LIFETIME: Duration = Duration::from_secs(300);

const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub clock: SandboxClock,
    store: Mutex<Store>,
    pub limits: Limits,
    pub scheduler: Scheduler,
    pub webhooks: Arc<Webhooks>,
    pub client: reqwest::Client,
    pub base_url: String,
    token: RwLock<String>,
    token_expires: Option<SystemTime>,
    url_key: Vec<u8>,
    /// Sends still to be accepted and then answered with error 131000, as Meta sometimes does:
    /// the message goes out, the caller cannot know.
    pub lost_answers: std::sync::atomic::AtomicU32,
    /// The share of accepted sends that fail later (`f64` bits): the config's, until changed.
    failure_rate: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn new(
        config: SandboxConfig,
        clock: SandboxClock,
        mut store: Store,
        webhooks: Arc<Webhooks>,
        client: reqwest::Client,
        base_url: String,
    ) -> Self {
        let url_key = store.hex(32).into_bytes();
        let config_failure_rate = config.failure_rate;
        let token_expires = config.token_lifetime.map(|l| later(clock.now(), l));
        Shared {
            limits: Limits::new(&config, clock.clone()),
            token: RwLock::new(config.access_token.expose().clone()),
            config,
            clock,
            store: Mutex::new(store),
            scheduler: Scheduler::default(),
            webhooks,
            client,
            base_url,
            token_expires,
            url_key,
            lost_answers: Default::default(),
            failure_rate: std::sync::atomic::AtomicU64::new(config_failure_rate.to_bits()),
        }
    }

    /// The share of accepted sends that fail later (error 131026), 0 to 1.
    pub fn failure_rate(&self) -> f64 {
        f64::from_bits(self.failure_rate.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn set_failure_rate(&self, rate: f64) {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.failure_rate
            .store(rate.to_bits(), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn access_token(&self) -> String {
        self.token.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_access_token(&self, token: String) {
        *self.token.write().unwrap_or_else(|p| p.into_inner()) = token;
    }

    /// 190 unless `presented` is the sandbox's token and it has not expired.
    pub fn check_token(&self, presented: Option<&str>) -> Result<(), Refusal> {
        let Some(token) = presented.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(Refusal::bad_token(
                "An access token is required to request this resource",
            ));
        };
        if token != self.access_token() {
            return Err(Refusal::bad_token("Cannot parse access token"));
        }
        if let Some(expires) = self.token_expires
            && self.clock.now() >= expires
        {
            return Err(Refusal::expired_token(unix_secs(expires)));
        }
        Ok(())
    }

    fn url_hash(&self, id: &str, expires: u64) -> String {
        let sig = signature::sign(&self.url_key, format!("{id}:{expires}").as_bytes());
        sig.trim_start_matches("sha256=")[..32].to_owned()
    }

    /// A download URL for media `id`, valid for five minutes of sandbox time.
    pub fn media_url(&self, id: &str) -> String {
        let expires = unix_secs(later(self.clock.now(), MEDIA_URL_LIFETIME));
        format!(
            "{}/sandbox/lookaside/media/{id}?ext={expires}&hash={}",
            self.base_url,
            self.url_hash(id, expires)
        )
    }

    /// Whether a media URL's `ext` and `hash` are the sandbox's and have not expired.
    pub fn media_url_valid(&self, id: &str, ext: &str, hash: &str) -> bool {
        let Ok(expires) = ext.parse::<u64>() else {
            return false;
        };
        let sig = format!("sha256={hash}");
        let full = signature::sign(&self.url_key, format!("{id}:{expires}").as_bytes());
        hash.len() == 32 && full.starts_with(&sig) && self.clock.unix_secs() < expires
    }

    pub fn picture_url(&self, phone_number_id: &str) -> String {
        format!(
            "{}/sandbox/lookaside/profile/{phone_number_id}.png",
            self.base_url
        )
    }

    /// Accepts a message from `phone_number_id` (which exists) and starts its statuses.
    pub fn send(&self, phone_number_id: &str, out: Outgoing) -> Result<Value, Refusal> {
        self.limits.throughput(phone_number_id)?;
        let now = self.clock.now();
        let mut store = self.store();
        let key = out.recipient.key();
        let in_window = store.window_open(phone_number_id, &out.recipient, now);
        let mut category = "service".to_owned();
        let mut reply_hint = out.reply_hint.clone();
        let mut failure = None;
        if let Some(call) = &out.template {
            let template = store
                .templates
                .iter()
                .find(|t| t.name == call.name && t.language == call.language)
                .ok_or_else(|| {
                    Refusal::new(
                        132001,
                        format!(
                            "template name ({}) does not exist in {}",
                            call.name, call.language
                        ),
                    )
                })?;
            match template.status.as_str() {
                "APPROVED" => {}
                "PAUSED" => {
                    return Err(Refusal::new(
                        132015,
                        format!("template {} ({}) is paused", call.name, call.language),
                    ));
                }
                "DISABLED" => {
                    return Err(Refusal::new(
                        132016,
                        format!("template {} ({}) is disabled", call.name, call.language),
                    ));
                }
                other => {
                    return Err(Refusal::new(
                        132001,
                        format!(
                            "template {} ({}) is not approved (its status is {other})",
                            call.name, call.language
                        ),
                    ));
                }
            }
            check_send(&template.spec, call)?;
            if template.category.eq_ignore_ascii_case("AUTHENTICATION")
                && out.recipient.wa_id.is_none()
                && !out.dropped
            {
                return Err(Refusal::new(
                    131062,
                    "Business-scoped User ID recipients are not supported for this message: authentication templates need a phone number",
                ));
            }
            category = template.category.to_ascii_lowercase();
            reply_hint = template
                .spec
                .buttons
                .iter()
                .position(|b| b.kind == "QUICK_REPLY")
                .map(|i| {
                    let text = template.spec.buttons[i].text.clone();
                    let payload = call
                        .components
                        .iter()
                        .find(|c| matches!(&c.part, Part::Button { index, .. } if *index == i))
                        .and_then(|c| c.params.first())
                        .and_then(|p| p.shown.clone())
                        .unwrap_or_else(|| text.clone());
                    ReplyHint::QuickReply { payload, text }
                })
                .unwrap_or(ReplyHint::Nothing);
        } else if !in_window {
            let details = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
            match self.config.window_enforcement {
                WindowEnforcement::Refuse => return Err(Refusal::new(131047, details)),
                WindowEnforcement::Webhook => failure = Some((131047, details.to_owned())),
            }
        }
        self.limits.pair(phone_number_id, &key)?;
        if failure.is_none()
            && let Some(media) = &out.media
            && let MediaSource::Id(id) = &media.source
        {
            let usable = store.media.get(id).is_some_and(|m| {
                media.kind == "document"
                    || rule_for(&m.mime_type).is_some_and(|r| r.kind == media.kind)
            });
            if !usable {
                failure = Some((
                    131053,
                    format!(
                        "the media id {id} is not an uploaded {} (unknown, deleted, or of another type)",
                        media.kind
                    ),
                ));
            }
        }
        let random_failure = failure.is_none() && store.chance(self.failure_rate());
        if random_failure {
            failure = Some((131026, "Unable to deliver message: the recipient may not be a WhatsApp user or may need to update WhatsApp (simulated by the sandbox's failure_rate).".to_owned()));
        }
        let wamid = store.wamid(&key);
        if out.dropped {
            // A user id in `to`: Meta answers as if it took it, then nothing ever happens.
            drop(store);
            tracing::info!(phone_number_id, wamid = %wamid, "sandbox dropped a message addressed to a user id in `to`");
            return Ok(json!({
                "messaging_product": "whatsapp",
                "contacts": [{ "input": out.to_input }],
                "messages": [{ "id": wamid, "message_status": "accepted" }]
            }));
        }
        let conversation_id = store.hex(16);
        let immediate_failure = failure.is_some() && !random_failure;
        store.outbound.insert(
            wamid.clone(),
            Outbound {
                phone_number_id: phone_number_id.to_owned(),
                recipient: out.recipient.clone(),
                category,
                in_window,
                biz_opaque_callback_data: out.biz_opaque_callback_data.clone(),
                conversation_id,
                reply_hint,
                failure,
            },
        );
        store
            .last_outbound
            .insert((phone_number_id.to_owned(), key), wamid.clone());
        drop(store);
        tracing::info!(phone_number_id, kind = %out.kind, wamid = %wamid, "sandbox accepted a message");

        if immediate_failure {
            self.emit_status(&wamid, "failed");
        } else {
            self.emit_status(&wamid, "sent");
            let stage = if random_failure {
                Stage::Failed(131026)
            } else {
                Stage::Delivered
            };
            self.scheduler.at(
                later(now, self.config.delivery_delay),
                Job::Status {
                    wamid: wamid.clone(),
                    stage,
                },
            );
        }

        let mut contact = json!({ "input": out.to_input });
        if let Some(wa_id) = &out.recipient.wa_id {
            contact["wa_id"] = json!(wa_id);
        }
        if let Some(user_id) = &out.recipient.user_id {
            contact["user_id"] = json!(user_id);
        }
        Ok(json!({
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{ "id": wamid, "message_status": "accepted" }]
        }))
    }

    /// Posts the status webhook `status` for a message the business sent.
    fn emit_status(&self, wamid: &str, status: &str) {
        let store = self.store();
        let Some(o) = store.outbound.get(wamid) else {
            return;
        };
        let Some(number) = store.number(&o.phone_number_id) else {
            return;
        };
        let now = self.clock.unix_secs();
        let mut s = json!({ "id": wamid, "status": status, "timestamp": now.to_string() });
        if let Some(wa_id) = &o.recipient.wa_id {
            s["recipient_id"] = json!(wa_id);
        }
        let user_id = o
            .recipient
            .user_id
            .clone()
            .or_else(|| store.customer_for(&o.recipient).map(|c| c.user_id.clone()));
        if let Some(user_id) = user_id {
            s["recipient_user_id"] = json!(user_id);
        }
        if let Some(data) = &o.biz_opaque_callback_data {
            s["biz_opaque_callback_data"] = json!(data);
        }
        if status == "failed" {
            let (code, details) = o.failure.clone().unwrap_or((131000, String::new()));
            let title = Refusal::new(code, "").error.message;
            let title = title.split_once(") ").map(|(_, t)| t).unwrap_or(&title);
            s["errors"] = json!([{
                "code": code,
                "title": title,
                "message": title,
                "error_data": { "details": details },
                "href": ERROR_HREF
            }]);
        } else {
            let free = o.in_window && matches!(o.category.as_str(), "service" | "utility");
            s["pricing"] = json!({
                "billable": !free,
                "pricing_model": "PMP",
                "type": if free { "free_customer_service" } else { "regular" },
                "category": o.category
            });
            if status != "read" {
                s["conversation"] = json!({
                    "id": o.conversation_id,
                    "expiration_timestamp": (now + 24 * 3600).to_string(),
                    "origin": { "type": o.category }
                });
            }
        }
        let envelope = messages_envelope(
            &store.waba.id,
            &number.digits(),
            &o.phone_number_id,
            json!({ "statuses": [s] }),
        );
        drop(store);
        self.webhooks
            .enqueue("messages", format!("status {status} {wamid}"), envelope);
    }

    /// Runs one scheduled job.
    pub fn run_job(&self, job: Job) {
        let now = self.clock.now();
        match job {
            Job::Status { wamid, stage } => match stage {
                Stage::Delivered => {
                    self.emit_status(&wamid, "delivered");
                    if self.config.read_receipts {
                        self.scheduler.at(
                            later(now, self.config.read_delay),
                            Job::Status {
                                wamid,
                                stage: Stage::Read,
                            },
                        );
                    }
                }
                Stage::Read => {
                    self.emit_status(&wamid, "read");
                    if self.config.auto_reply {
                        self.scheduler.at(now, Job::AutoReply { wamid });
                    }
                }
                Stage::Failed(_) => self.emit_status(&wamid, "failed"),
            },
            Job::Review {
                template_id,
                revision,
            } => self.review(&template_id, revision),
            Job::AutoReply { wamid } => {
                if let Err(e) = self.auto_reply(&wamid) {
                    tracing::debug!(error = %e, "no automatic customer reply");
                }
            }
        }
    }

    fn auto_reply(&self, wamid: &str) -> Result<(), SandboxError> {
        let (who, phone, hint) = {
            let store = self.store();
            let Some(o) = store.outbound.get(wamid) else {
                return Ok(());
            };
            let Some(customer) = store.customer_for(&o.recipient) else {
                return Ok(());
            };
            (
                customer.key.clone(),
                o.phone_number_id.clone(),
                o.reply_hint.clone(),
            )
        };
        // Only choices are answered automatically: answering plain text could ping-pong
        // forever with a bot on the other side.
        let message = match hint {
            ReplyHint::Button { id, title } => CustomerMessage::ButtonReply { id, title },
            ReplyHint::ListRow {
                id,
                title,
                description,
            } => CustomerMessage::ListReply {
                id,
                title,
                description,
            },
            ReplyHint::QuickReply { payload, text } => {
                CustomerMessage::TemplateButton { payload, text }
            }
            ReplyHint::Text | ReplyHint::Nothing => return Ok(()),
        };
        self.customer_sends(
            &who,
            Inbound::from(message).to_number(phone).replying_to(wamid),
        )
        .map(|_| ())
    }

    /// A simulated customer sends `inbound`; returns the new message's id.
    pub fn customer_sends(&self, who: &str, inbound: Inbound) -> Result<String, SandboxError> {
        let now = self.clock.now();
        let mut store = self.store();
        let customer = store
            .customer(who)
            .ok_or_else(|| SandboxError::UnknownCustomer(who.to_owned()))?;
        let (wa_id, user_id, contact) = customer.shown(inbound.shown);
        let key = customer
            .wa_id
            .clone()
            .unwrap_or_else(|| customer.user_id.clone());
        // The number behind a username, when this webhook shows it: its window opens too.
        let also_key = wa_id.clone().filter(|w| *w != key);
        let customer_key = customer.key.clone();
        let phone_number_id = match &inbound.phone_number_id {
            Some(id) => id.clone(),
            None => store
                .numbers
                .first()
                .map(|n| n.id.clone())
                .ok_or_else(|| SandboxError::UnknownPhoneNumber(String::new()))?,
        };
        let digits = store
            .number(&phone_number_id)
            .ok_or_else(|| SandboxError::UnknownPhoneNumber(phone_number_id.clone()))?
            .digits();
        let last = store
            .last_outbound
            .get(&(phone_number_id.clone(), key.clone()))
            .cloned();
        let context = match (&inbound.reply_to, inbound.reply_to_last) {
            (Some(id), _) => Some(id.clone()),
            (None, true) => Some(last.clone().ok_or(SandboxError::NothingToReplyTo)?),
            (None, false) => match inbound.message {
                // Taps on buttons and lists quote the message they belong to.
                CustomerMessage::ButtonReply { .. }
                | CustomerMessage::ListReply { .. }
                | CustomerMessage::TemplateButton { .. } => last.clone(),
                _ => None,
            },
        };
        let target = match &inbound.message {
            CustomerMessage::Reaction { .. } => Some(
                inbound
                    .message
                    .names()
                    .map(str::to_owned)
                    .or(last)
                    .ok_or(SandboxError::NothingToReplyTo)?,
            ),
            m if m.changes_another() => Some(
                m.names()
                    .map(str::to_owned)
                    .or_else(|| {
                        store
                            .last_inbound
                            .get(&(phone_number_id.clone(), key.clone()))
                            .cloned()
                    })
                    .ok_or(SandboxError::NothingToChange)?,
            ),
            _ => None,
        };
        let media = match sample_media(&inbound.message) {
            Some((mime, bytes)) => {
                let id = store.numeric_id();
                let sha256 = sha256_hex(&bytes);
                store.media.insert(
                    id.clone(),
                    Media {
                        id: id.clone(),
                        phone_number_id: phone_number_id.clone(),
                        mime_type: mime.clone(),
                        sha256: sha256.clone(),
                        bytes: Arc::new(bytes),
                        created: now,
                    },
                );
                Some((id, mime, sha256))
            }
            None => None,
        };
        let wamid = store.wamid(&key);
        let kind = inbound.message.kind();
        let mut message = json!({
            "id": wamid,
            "timestamp": unix_secs(now).to_string(),
            "type": kind,
        });
        if let Some(user_id) = &user_id {
            message["from_user_id"] = json!(user_id);
        }
        if let Some(wa_id) = &wa_id {
            message["from"] = json!(wa_id);
        }
        message[kind] = payload_json(
            &inbound.message,
            media
                .as_ref()
                .map(|(id, mime, sha)| (id.as_str(), mime.as_str(), sha.as_str())),
            target.as_deref(),
        );
        if let Some(ctx) = &context {
            message["context"] = json!({ "from": digits, "id": ctx });
        }
        if let Some(referral) = inbound.message.referral() {
            message["referral"] = referral;
        }
        if !inbound.message.changes_another() {
            store
                .last_inbound
                .insert((phone_number_id.clone(), key.clone()), wamid.clone());
        }
        store.inbound.insert(
            wamid.clone(),
            super::store::InboundRecord {
                phone_number_id: phone_number_id.clone(),
            },
        );
        if let Some(k) = also_key {
            store.windows.insert((phone_number_id.clone(), k), now);
        }
        store.windows.insert((phone_number_id.clone(), key), now);
        let envelope = messages_envelope(
            &store.waba.id,
            &digits,
            &phone_number_id,
            json!({ "contacts": [contact], "messages": [message] }),
        );
        drop(store);
        tracing::info!(customer = %customer_key, phone_number_id = %phone_number_id, kind, wamid = %wamid, "simulated customer wrote");
        self.webhooks.enqueue(
            "messages",
            format!("message {kind} from {customer_key}"),
            envelope,
        );
        Ok(wamid)
    }

    /// The customer's next scripted message (the script wraps around). An entry that reacts or
    /// replies to the business is skipped while the business has not written to them yet.
    pub fn customer_sends_next(&self, who: &str) -> Result<String, SandboxError> {
        let (key, len) = {
            let store = self.store();
            let c = store
                .customer(who)
                .ok_or_else(|| SandboxError::UnknownCustomer(who.to_owned()))?;
            if c.script.is_empty() {
                return Err(SandboxError::EmptyScript(c.key.clone()));
            }
            (c.key.clone(), c.script.len())
        };
        let mut last_error = SandboxError::EmptyScript(key.clone());
        for _ in 0..len {
            let inbound = {
                let mut store = self.store();
                let pos = store.script_pos.get(&key).copied().unwrap_or(0);
                *store.script_pos.entry(key.clone()).or_insert(0) += 1;
                let script = &store
                    .customer(&key)
                    .ok_or_else(|| SandboxError::UnknownCustomer(key.clone()))?
                    .script;
                script[pos % script.len()].clone()
            };
            match self.customer_sends(&key, inbound) {
                Err(e @ SandboxError::NothingToReplyTo) => last_error = e,
                other => return other,
            }
        }
        Err(last_error)
    }

    /// Approves or rejects a PENDING template, unless it was edited since the review began.
    fn review(&self, template_id: &str, revision: u64) {
        let reject_prefix = self
            .config
            .template_reject_prefix
            .as_deref()
            .filter(|p| !p.is_empty());
        let value = {
            let mut store = self.store();
            let Some(t) = store.template_mut(template_id) else {
                return;
            };
            if t.revision != revision || t.status != "PENDING" {
                return;
            }
            if reject_prefix.is_some_and(|p| t.name.starts_with(p)) {
                t.status = "REJECTED".to_owned();
                t.rejected_reason = Some(self.config.template_reject_reason.clone());
            } else {
                t.status = "APPROVED".to_owned();
                t.rejected_reason = None;
            }
            template_status_value(t, &t.status, t.rejected_reason.as_deref())
        };
        self.emit_template_update(value);
    }

    fn emit_template_update(&self, value: Value) {
        let waba = self.store().waba.id.clone();
        let summary = format!(
            "template {} {}",
            value["message_template_name"].as_str().unwrap_or(""),
            value["event"].as_str().unwrap_or("")
        );
        let envelope = account_envelope(
            &waba,
            self.clock.unix_secs(),
            "message_template_status_update",
            value,
        );
        self.webhooks
            .enqueue("message_template_status_update", summary, envelope);
    }

    /// See [`crate::SandboxHandle::business_app_sends`].
    /// The customer calls the first number on WhatsApp (Meta's Calling API): a `connect` call
    /// event, then its `terminate` — answered and `talked` seconds long, or missed when none.
    /// Returns the call's id.
    /// Meta's own AI agent (Meta Business Agent) takes the customer's conversation from the app
    /// and answers them, as Meta tells a listening app: a `messaging_handovers` `control_taken`
    /// notification, then the customer's words and the agent's reply on `standby`. The app's
    /// next reply takes it back (Meta: a service message from the listener takes control).
    pub fn meta_agent_answers(&self, who: &str, body: &str) -> Result<String, SandboxError> {
        let now = self.clock.unix_secs();
        let (waba, pnid, digits, contact, from, from_user_id, ids) = {
            let mut store = self.store();
            let ids = (
                format!("wamid.sandbox{}", store.numeric_id()),
                format!("wamid.sandbox{}", store.numeric_id()),
            );
            let customer = store
                .customer(who)
                .ok_or_else(|| SandboxError::UnknownCustomer(who.to_owned()))?;
            let (wa_id, user_id, contact) = customer.shown(crate::customers::Shown::Usual);
            let number = store
                .numbers
                .first()
                .ok_or_else(|| SandboxError::UnknownPhoneNumber(String::new()))?;
            (
                store.waba.id.clone(),
                number.id.clone(),
                number.digits(),
                contact,
                wa_id,
                user_id,
                ids,
            )
        };
        let mut sender = json!({});
        if let Some(p) = &from {
            sender["phone_number"] = json!(p);
        }
        if let Some(u) = &from_user_id {
            sender["user_id"] = json!(u);
        }
        let handover = json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": waba, "time": now, "changes": [{ "field": "messaging_handovers", "value": {
                "messaging_product": "whatsapp",
                "recipient": { "display_phone_number": digits, "phone_number_id": pnid },
                "sender": sender,
                "timestamp": now.to_string(),
                "type": "control_taken",
                "control_taken": { "previous_owner": "app", "new_owner": "ai_agent",
                                   "metadata": "sandbox: Meta Business Agent" },
            }}]}],
        });
        self.webhooks.enqueue(
            "messaging_handovers",
            format!("Meta's AI agent takes {who}'s conversation"),
            handover,
        );
        let mut said = json!({ "id": ids.0, "timestamp": now.to_string(), "type": "text",
                               "text": { "body": body } });
        if let Some(p) = &from {
            said["from"] = json!(p);
        }
        if let Some(u) = &from_user_id {
            said["from_user_id"] = json!(u);
        }
        let mut reply = json!({ "from": digits, "id": ids.1,
            "timestamp": (now + 1).to_string(), "type": "text",
            "text": { "body": "Hi! I'm the business's AI assistant (sandbox). I can help with that: our team will confirm by tomorrow." } });
        if let Some(p) = &from {
            reply["to"] = json!(p);
        }
        if let Some(u) = &from_user_id {
            reply["recipient_user_id"] = json!(u);
        }
        let mut standby = messages_envelope(
            &waba,
            &digits,
            &pnid,
            json!({ "contacts": [contact], "messages": [said], "message_echoes": [reply] }),
        );
        standby["entry"][0]["changes"][0]["field"] = json!("standby");
        self.webhooks.enqueue(
            "standby",
            format!("{who} and Meta's AI agent on standby"),
            standby,
        );
        Ok(ids.0)
    }

    pub fn customer_calls(&self, who: &str, talked: Option<u64>) -> Result<String, SandboxError> {
        let now = self.clock.unix_secs();
        let (waba, pnid, digits, contact, from, from_user_id, call_id) = {
            let mut store = self.store();
            let call_id = format!("wacid.{}", store.numeric_id());
            let customer = store
                .customer(who)
                .ok_or_else(|| SandboxError::UnknownCustomer(who.to_owned()))?;
            let (wa_id, user_id, contact) = customer.shown(crate::customers::Shown::Usual);
            let number = store
                .numbers
                .first()
                .ok_or_else(|| SandboxError::UnknownPhoneNumber(String::new()))?;
            (
                store.waba.id.clone(),
                number.id.clone(),
                number.digits(),
                contact,
                wa_id,
                user_id,
                call_id,
            )
        };
        let base = json!({
            "id": call_id, "from": from, "from_user_id": from_user_id, "to": digits,
            "direction": "USER_INITIATED",
        });
        let with = |extra: Value| {
            let mut c = base.clone();
            if let (Some(o), Value::Object(extra)) = (c.as_object_mut(), extra) {
                o.extend(extra);
            }
            c
        };
        let end = now + talked.unwrap_or(0);
        let events = [
            (
                "connect",
                with(json!({"event": "connect", "timestamp": now.to_string(),
                            "session": {"sdp_type": "offer", "sdp": "v=0 (sandbox)"}})),
            ),
            (
                "terminate",
                with(json!({"event": "terminate", "timestamp": end.to_string(),
                            "status": if talked.is_some() { "COMPLETED" } else { "FAILED" },
                            "start_time": now.to_string(), "end_time": end.to_string(),
                            "duration": talked.unwrap_or(0)})),
            ),
        ];
        for (event, call) in events {
            let mut envelope = messages_envelope(
                &waba,
                &digits,
                &pnid,
                json!({ "contacts": [contact.clone()], "calls": [call] }),
            );
            envelope["entry"][0]["changes"][0]["field"] = json!("calls");
            self.webhooks
                .enqueue("calls", format!("call {event} from {who}"), envelope);
        }
        Ok(call_id)
    }

    pub fn business_app_sends(&self, who: &str, echo: crate::Echo) -> Result<String, SandboxError> {
        let now = self.clock.now();
        let mut store = self.store();
        let customer = store
            .customer(who)
            .ok_or_else(|| SandboxError::UnknownCustomer(who.to_owned()))?;
        let key = customer
            .wa_id
            .clone()
            .unwrap_or_else(|| customer.user_id.clone());
        let (to, user_id, customer_key) = (
            customer.wa_id.clone(),
            customer.user_id.clone(),
            customer.key.clone(),
        );
        let (phone_number_id, digits) =
            store
                .numbers
                .first()
                .map(|n| (n.id.clone(), n.digits()))
                .ok_or_else(|| SandboxError::UnknownPhoneNumber(String::new()))?;
        let last = store
            .last_outbound
            .get(&(phone_number_id.clone(), key.clone()))
            .cloned();
        let wamid = store.wamid(&key);
        let mut m = json!({
            "from": digits,
            "id": wamid,
            "timestamp": unix_secs(now).to_string(),
            "recipient_user_id": user_id,
        });
        if let Some(to) = to {
            m["to"] = json!(to);
        }
        let kind = match echo {
            crate::Echo::Text { body } => {
                m["type"] = json!("text");
                m["text"] = json!({ "body": body });
                store
                    .last_outbound
                    .insert((phone_number_id.clone(), key), wamid.clone());
                "text"
            }
            crate::Echo::EditLast { body } => {
                let target = last.ok_or(SandboxError::NothingToChange)?;
                m["type"] = json!("edit");
                m["edit"] = json!({
                    "original_message_id": target,
                    "message": { "type": "text", "text": { "body": body } },
                });
                "edit"
            }
            crate::Echo::DeleteLast => {
                let target = last.ok_or(SandboxError::NothingToChange)?;
                m["type"] = json!("revoke");
                m["revoke"] = json!({ "original_message_id": target });
                "revoke"
            }
        };
        let mut envelope = messages_envelope(
            &store.waba.id,
            &digits,
            &phone_number_id,
            json!({ "message_echoes": [m] }),
        );
        envelope["entry"][0]["changes"][0]["field"] = json!("smb_message_echoes");
        drop(store);
        self.webhooks.enqueue(
            "smb_message_echoes",
            format!("echo {kind} to {customer_key}"),
            envelope,
        );
        Ok(wamid)
    }

    /// Plays a notice about the account (see [`crate::AccountEvent`]).
    pub fn account_event(&self, event: crate::AccountEvent) {
        use crate::AccountEvent as A;
        let now = self.clock.unix_secs();
        let (waba, number) = {
            let mut store = self.store();
            let waba = store.waba.id.clone();
            let number = store.numbers.first_mut().map(|n| {
                match event {
                    A::FlagNumber => n.quality_rating = "RED".into(),
                    A::UnflagNumber => n.quality_rating = "GREEN".into(),
                    A::UpgradeThroughput => self.limits.upgrade(&n.id),
                    _ => {}
                }
                n.digits()
            });
            (waba, number.unwrap_or_default())
        };
        // Meta writes expirations as ISO 8601 with an offset.
        let until = |days: u64| crate::clock::iso(now + days * 86_400);
        let (field, value) = match event {
            A::Restrict => (
                "account_update",
                json!({"phone_number": number, "event": "ACCOUNT_RESTRICTION",
                       "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                             "expiration": until(7)}]}),
            ),
            A::Reinstate => (
                "account_update",
                json!({"phone_number": number, "event": "DISABLED_UPDATE",
                       "ban_info": {"waba_ban_state": "REINSTATE"}}),
            ),
            A::Violation => (
                "account_update",
                json!({"phone_number": number, "event": "ACCOUNT_VIOLATION",
                       "violation_info": {"violation_type": "SCAM"}}),
            ),
            A::FlagNumber => (
                "phone_number_quality_update",
                json!({"display_phone_number": number, "event": "FLAGGED",
                       "max_daily_conversations_per_business": "TIER_10K"}),
            ),
            A::UnflagNumber => (
                "phone_number_quality_update",
                json!({"display_phone_number": number, "event": "UNFLAGGED",
                       "max_daily_conversations_per_business": "TIER_10K"}),
            ),
            A::LowerLimit => (
                "phone_number_quality_update",
                json!({"display_phone_number": number, "event": "DOWNGRADE", "old_limit": "TIER_10K",
                       "max_daily_conversations_per_business": "TIER_2K"}),
            ),
            // As Meta sends it: `current_limit` says the throughput, the business's messaging
            // limit is unchanged.
            A::UpgradeThroughput => (
                "phone_number_quality_update",
                json!({"display_phone_number": number, "event": "THROUGHPUT_UPGRADE",
                       "current_limit": "TIER_UNLIMITED",
                       "max_daily_conversations_per_business": "TIER_1K"}),
            ),
        };
        let summary = format!("{field} {}", value["event"].as_str().unwrap_or(""));
        let envelope = account_envelope(&waba, now, field, value);
        self.webhooks.enqueue(field, summary, envelope);
    }

    /// Sets a template's status from outside (pausing, disabling…) and sends the webhook.
    pub fn set_template_status(
        &self,
        template_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(), SandboxError> {
        let status = status.to_ascii_uppercase();
        if !matches!(
            status.as_str(),
            "APPROVED" | "REJECTED" | "PAUSED" | "DISABLED" | "FLAGGED" | "PENDING"
        ) {
            return Err(SandboxError::InvalidTemplateStatus(status));
        }
        let value = {
            let mut store = self.store();
            let t = store
                .template_mut(template_id)
                .ok_or_else(|| SandboxError::UnknownTemplate(template_id.to_owned()))?;
            t.status = status.clone();
            t.rejected_reason = (status == "REJECTED").then(|| reason.unwrap_or("NONE").to_owned());
            let mut value = template_status_value(t, &status, reason);
            if status == "PAUSED" {
                value["other_info"] = json!({
                    "title": "FIRST_PAUSE",
                    "description": "Your WhatsApp message template has been paused because of low quality (sandbox)."
                });
            }
            value
        };
        self.emit_template_update(value);
        Ok(())
    }

    /// Schedules the review of a template that just became PENDING.
    pub fn schedule_review(&self, template_id: &str, revision: u64) {
        self.scheduler.at(
            later(self.clock.now(), self.config.template_approval_delay),
            Job::Review {
                template_id: template_id.to_owned(),
                revision,
            },
        );
    }
}

fn template_status_value(t: &super::store::Template, event: &str, reason: Option<&str>) -> Value {
    json!({
        "event": event,
        "message_template_id": t.id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(t.id)),
        "message_template_name": t.name,
        "message_template_language": t.language,
        "reason": reason.unwrap_or("NONE"),
        "message_template_category": t.category,
    })
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Runs scheduled jobs when they fall due on the sandbox clock, until cancelled.
pub(crate) async fn run_scheduler(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut clock_rx = shared.clock.subscribe();
    loop {
        clock_rx.borrow_and_update();
        for job in shared.scheduler.take_due(shared.clock.now()) {
            shared.run_job(job);
        }
        let wait = shared
            .scheduler
            .next_due()
            .and_then(|t| shared.clock.real_wait_until(t));
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = clock_rx.changed() => {},
            _ = shared.scheduler.wake.notified() => {},
            _ = tokio::time::sleep(wait.unwrap_or(Duration::from_secs(3600))) => {},
        }
    }
}
