//! The sandbox's state, in memory: the WABA, its numbers and profiles, templates, media, the
//! messages sent, the customers' 24-hour windows, and the seeded generator behind every id.
//! One `Mutex<Store>` guards it; no lock is ever held across an `.await`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::customers::Customer;
use super::validate::templates::TemplateSpec;

/// How long a customer's message keeps the customer-service window open.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Uploaded media ids live 30 days.
pub const MEDIA_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

pub(crate) struct Store {
    pub waba: Waba,
    pub numbers: Vec<PhoneNumber>,
    pub customers: Vec<Customer>,
    pub templates: Vec<Template>,
    pub media: HashMap<String, Media>,
    pub outbound: HashMap<String, Outbound>,
    pub inbound: HashMap<String, InboundRecord>,
    /// Last customer message per (phone number id, recipient key).
    pub windows: HashMap<(String, String), SystemTime>,
    /// Next message of each customer's script.
    pub script_pos: HashMap<String, usize>,
    /// Last message the business sent, per (phone number id, recipient key).
    pub last_outbound: HashMap<(String, String), String>,
    /// The last message each customer sent each number: what an edit or deletion names by default.
    pub last_inbound: HashMap<(String, String), String>,
    rng: StdRng,
}

pub(crate) struct Waba {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub timezone_id: String,
    pub namespace: String,
}

pub(crate) struct PhoneNumber {
    pub id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: String,
    pub created_unix: u64,
    pub profile: BusinessProfile,
    pub picture_png: Arc<Vec<u8>>,
}

impl PhoneNumber {
    /// `display_phone_number` as digits only, as webhooks' `metadata` carries it.
    pub fn digits(&self) -> String {
        digits(&self.display_phone_number)
    }
}

#[derive(Clone)]
pub(crate) struct BusinessProfile {
    pub about: String,
    pub address: String,
    pub description: String,
    pub email: String,
    pub websites: Vec<String>,
    pub vertical: String,
}

pub(crate) struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub parameter_format: String,
    pub components: Value,
    pub spec: TemplateSpec,
    pub rejected_reason: Option<String>,
    /// Bumped by every edit, so a review scheduled for an older version is ignored.
    pub revision: u64,
}

pub(crate) struct Media {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub sha256: String,
    pub bytes: Arc<Vec<u8>>,
    pub created: SystemTime,
}

/// A message the business sent (accepted by `/messages`).
pub(crate) struct Outbound {
    pub phone_number_id: String,
    pub recipient: Recipient,
    /// `service`, `marketing`, `utility` or `authentication`.
    pub category: String,
    /// Inside the customer-service window when sent.
    pub in_window: bool,
    pub biz_opaque_callback_data: Option<String>,
    pub conversation_id: String,
    /// What a simulated customer would answer, when `auto_reply` is on.
    pub reply_hint: ReplyHint,
    /// Set when the message will fail: the error code and details of its `failed` status.
    pub failure: Option<(i64, String)>,
}

/// A message a simulated customer sent.
pub(crate) struct InboundRecord {
    pub phone_number_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Recipient {
    /// The digits, when the recipient is a phone number.
    pub wa_id: Option<String>,
    /// The business-scoped user id (`US.…`), when the recipient has one.
    pub user_id: Option<String>,
}

impl Recipient {
    /// The key of this recipient in the window map: the user id when there is no phone number.
    pub fn key(&self) -> String {
        self.wa_id
            .clone()
            .or_else(|| self.user_id.clone())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) enum ReplyHint {
    #[default]
    Text,
    Button {
        id: String,
        title: String,
    },
    ListRow {
        id: String,
        title: String,
        description: Option<String>,
    },
    QuickReply {
        payload: String,
        text: String,
    },
    Nothing,
}

impl Store {
    pub fn new(seed: u64, waba: Waba, numbers: Vec<PhoneNumber>, customers: Vec<Customer>) -> Self {
        Store {
            waba,
            numbers,
            customers,
            templates: Vec::new(),
            media: HashMap::new(),
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            windows: HashMap::new(),
            script_pos: HashMap::new(),
            last_outbound: HashMap::new(),
            last_inbound: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn number(&self, id: &str) -> Option<&PhoneNumber> {
        self.numbers.iter().find(|n| n.id == id)
    }

    pub fn number_mut(&mut self, id: &str) -> Option<&mut PhoneNumber> {
        self.numbers.iter_mut().find(|n| n.id == id)
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn template_mut(&mut self, id: &str) -> Option<&mut Template> {
        self.templates.iter_mut().find(|t| t.id == id)
    }

    /// A customer by key (`ana`), phone number (any formatting) or user id (`US.…`).
    pub fn customer(&self, who: &str) -> Option<&Customer> {
        let who_digits = digits(who);
        self.customers.iter().find(|c| {
            c.key.eq_ignore_ascii_case(who)
                || c.user_id == who
                || (!who_digits.is_empty()
                    && (c.wa_id.as_deref() == Some(who_digits.as_str())
                        || c.hidden_phone.as_deref() == Some(who_digits.as_str())))
        })
    }

    /// A customer by recipient (for auto replies and windows).
    pub fn customer_for(&self, recipient: &Recipient) -> Option<&Customer> {
        self.customers.iter().find(|c| {
            (recipient.wa_id.is_some()
                && (c.wa_id == recipient.wa_id || c.hidden_phone == recipient.wa_id))
                || recipient.user_id.as_deref() == Some(c.user_id.as_str())
        })
    }

    /// Whether `recipient` wrote to `phone_number_id` within the last 24 hours (sandbox time).
    pub fn window_open(
        &self,
        phone_number_id: &str,
        recipient: &Recipient,
        now: SystemTime,
    ) -> bool {
        let key = (phone_number_id.to_owned(), recipient.key());
        self.windows.get(&key).is_some_and(|last| {
            now.duration_since(*last)
                .map(|d| d < WINDOW)
                .unwrap_or(true)
        })
    }

    /// A Graph-style numeric id (16 digits).
    pub fn numeric_id(&mut self) -> String {
        self.rng
            .random_range(1_000_000_000_000_000u64..10_000_000_000_000_000)
            .to_string()
    }

    /// A message id shaped like Meta's (`wamid.HBgL…`): base64 of the recipient and a random tag.
    pub fn wamid(&mut self, recipient: &str) -> String {
        let tag: String = (0..20)
            .map(|_| char::from(b"0123456789ABCDEF"[self.rng.random_range(0..16)]))
            .collect();
        let mut raw = vec![0x1c, 0x18, recipient.len().min(255) as u8];
        raw.extend_from_slice(recipient.as_bytes());
        raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x12, 0x18, 0x14]);
        raw.extend_from_slice(tag.as_bytes());
        raw.push(0);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// A draw in [0, 1) from the seeded generator.
    pub fn chance(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random_bool(rate.clamp(0.0, 1.0))
    }

    /// A random hex string (for hashes and conversation ids).
    pub fn hex(&mut self, bytes: usize) -> String {
        let v: Vec<u8> = (0..bytes).map(|_| self.rng.random()).collect();
        hex::encode(v)
    }
}

/// Only the ASCII digits of `s`.
pub(crate) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(seed: u64) -> Store {
        Store::new(
            seed,
            Waba {
                id: "1".into(),
                name: "w".into(),
                currency: "USD".into(),
                timezone_id: "1".into(),
                namespace: "ns".into(),
            },
            vec![],
            vec![],
        )
    }

    #[test]
    fn ids_are_seeded_and_shaped_like_meta() {
        let (mut a, mut b) = (store(7), store(7));
        assert_eq!(a.numeric_id(), b.numeric_id());
        let id = a.numeric_id();
        assert_eq!(id.len(), 16);
        let wamid = a.wamid("16505551234");
        assert!(wamid.starts_with("wamid.HBgLMTY1MDU1NTEyMzQV"), "{wamid}");
        assert_ne!(a.wamid("16505551234"), wamid);
        assert_ne!(store(8).numeric_id(), store(7).numeric_id());
    }

    #[test]
    fn the_window_lasts_24_hours() {
        let mut s = store(1);
        let r = Recipient {
            wa_id: Some("1555".into()),
            user_id: None,
        };
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(!s.window_open("p", &r, t0));
        s.windows.insert(("p".into(), r.key()), t0);
        assert!(s.window_open("p", &r, t0 + Duration::from_secs(23 * 3600)));
        assert!(!s.window_open("p", &r, t0 + WINDOW));
        assert!(!s.window_open("other", &r, t0));
    }
}
