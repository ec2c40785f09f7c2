//! Simulated customers: who they are (clearly sandbox people, one of them username-only), what
//! they can send ([`CustomerMessage`], every common inbound type), their scripts, and the
//! webhook `messages[]` / `contacts[]` objects their messages become.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::picture;

/// A message a simulated customer sends to a sandbox number. Serialised with a `type` tag, so
/// the control endpoint takes e.g. `{"type":"text","body":"Hi"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerMessage {
    Text {
        body: String,
    },
    Image {
        #[serde(default)]
        caption: Option<String>,
    },
    Document {
        filename: String,
        #[serde(default)]
        caption: Option<String>,
    },
    /// `voice: true` is a voice note (`audio/ogg; codecs=opus`).
    Audio {
        #[serde(default)]
        voice: bool,
    },
    Video {
        #[serde(default)]
        caption: Option<String>,
    },
    Sticker {
        #[serde(default)]
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
    },
    /// Contact cards in Meta's shape (`name.formatted_name`, `phones[]`, …).
    Contacts {
        contacts: Vec<Value>,
    },
    /// A tap on a reply button of an interactive message.
    ButtonReply {
        id: String,
        title: String,
    },
    /// A row chosen from an interactive list.
    ListReply {
        id: String,
        title: String,
        #[serde(default)]
        description: Option<String>,
    },
    /// A tap on a quick-reply button of a template (webhook type `button`).
    TemplateButton {
        payload: String,
        text: String,
    },
    /// A reaction; `message_id: None` reacts to the last message the business sent this
    /// customer, and an empty `emoji` removes the reaction.
    Reaction {
        #[serde(default)]
        message_id: Option<String>,
        emoji: String,
    },
    /// A text written from a click-to-WhatsApp ad: the message carries Meta's `referral`.
    FromAd {
        body: String,
        headline: String,
    },
    /// A cart from the business's catalog (webhook type `order`).
    Order {
        catalog_id: String,
        items: Vec<OrderLine>,
        #[serde(default)]
        note: Option<String>,
    },
    /// A completed WhatsApp Flow (interactive `nfm_reply`): its answers by field name.
    FlowReply {
        #[serde(default)]
        name: Option<String>,
        answers: serde_json::Map<String, Value>,
    },
    /// The answer to a request for permission to call (interactive `call_permission_reply`).
    CallPermission {
        accept: bool,
    },
    /// The customer edits one of their messages (webhook type `edit`); `message_id: None` edits
    /// their last message to this number.
    Edit {
        #[serde(default)]
        message_id: Option<String>,
        body: String,
    },
    /// The customer deletes one of their messages for everyone (webhook type `revoke`);
    /// `message_id: None` deletes their last message to this number.
    Revoke {
        #[serde(default)]
        message_id: Option<String>,
    },
}

/// One line of an [`CustomerMessage::Order`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_retailer_id: String,
    pub quantity: u32,
    pub item_price: f64,
    pub currency: String,
}

impl CustomerMessage {
    pub fn text(body: impl Into<String>) -> Self {
        CustomerMessage::Text { body: body.into() }
    }

    /// The webhook `type` of this message.
    pub fn kind(&self) -> &'static str {
        match self {
            CustomerMessage::Text { .. } => "text",
            CustomerMessage::Image { .. } => "image",
            CustomerMessage::Document { .. } => "document",
            CustomerMessage::Audio { .. } => "audio",
            CustomerMessage::Video { .. } => "video",
            CustomerMessage::Sticker { .. } => "sticker",
            CustomerMessage::Location { .. } => "location",
            CustomerMessage::Contacts { .. } => "contacts",
            CustomerMessage::ButtonReply { .. }
            | CustomerMessage::ListReply { .. }
            | CustomerMessage::FlowReply { .. }
            | CustomerMessage::CallPermission { .. } => "interactive",
            CustomerMessage::TemplateButton { .. } => "button",
            CustomerMessage::Reaction { .. } => "reaction",
            CustomerMessage::FromAd { .. } => "text",
            CustomerMessage::Order { .. } => "order",
            CustomerMessage::Edit { .. } => "edit",
            CustomerMessage::Revoke { .. } => "revoke",
        }
    }

    /// The sandbox's sample cart: 40 roof tiles at 2.50 and 2 gutters at 18.00 (USD), with a note.
    pub fn sample_order() -> Self {
        let line = |id: &str, quantity, item_price| OrderLine {
            product_retailer_id: id.into(),
            quantity,
            item_price,
            currency: "USD".into(),
        };
        CustomerMessage::Order {
            catalog_id: "194836987003835".into(),
            items: vec![line("roof-tile-grey", 40, 2.5), line("gutter-3m", 2, 18.0)],
            note: Some("Delivery after 5 pm, please".into()),
        }
    }

    /// The sandbox's sample booking form (a WhatsApp Flow): a date and two services.
    pub fn sample_form() -> Self {
        let mut answers = serde_json::Map::new();
        answers.insert("preferred_date".into(), json!("2026-12-10"));
        answers.insert("services".into(), json!(["inspection", "repair"]));
        CustomerMessage::FlowReply {
            name: Some("booking".into()),
            answers,
        }
    }

    /// An edit or a deletion changes an earlier message rather than being one.
    pub fn changes_another(&self) -> bool {
        matches!(
            self,
            CustomerMessage::Edit { .. } | CustomerMessage::Revoke { .. }
        )
    }

    /// The earlier message an edit, a deletion or a reaction names, when given.
    pub(crate) fn names(&self) -> Option<&str> {
        match self {
            CustomerMessage::Edit { message_id, .. }
            | CustomerMessage::Revoke { message_id }
            | CustomerMessage::Reaction { message_id, .. } => message_id.as_deref(),
            _ => None,
        }
    }

    /// What Meta adds beside the type's own object: the ad a message came from.
    pub(crate) fn referral(&self) -> Option<Value> {
        let CustomerMessage::FromAd { headline, .. } = self else {
            return None;
        };
        Some(json!({
            "source_url": "https://fb.me/sandbox-ad",
            "source_id": "120210000000000001",
            "source_type": "ad",
            "headline": headline,
            "body": "An ad of the CRMConnect sandbox (not a real ad)",
            "media_type": "image",
            "image_url": "https://example.invalid/sandbox-ad.png",
            "ctwa_clid": "ARAkSandboxClickId"
        }))
    }
}

/// A customer message with where it goes and what it replies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    #[serde(flatten)]
    pub message: CustomerMessage,
    /// The sandbox number written to; the first number when absent.
    #[serde(default)]
    pub phone_number_id: Option<String>,
    /// A quoted reply to this message id (`context` in the webhook).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// A quoted reply to the last message the business sent this customer.
    #[serde(default)]
    pub reply_to_last: bool,
    /// Which identifiers the webhook carries.
    #[serde(default)]
    pub shown: Shown,
}

/// Which identifiers of the customer a webhook carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// What Meta sends today: the user id always, the username when they have one, the number
    /// unless they are known only by username.
    #[default]
    Usual,
    /// Only the number (a webhook from before Meta added user ids): even a username-only
    /// customer's number behind it.
    PhoneOnly,
    /// Everything, the number behind a username included (the customer shared it).
    Both,
}

impl Inbound {
    pub fn to_number(mut self, phone_number_id: impl Into<String>) -> Self {
        self.phone_number_id = Some(phone_number_id.into());
        self
    }

    pub fn replying_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to = Some(message_id.into());
        self
    }

    pub fn replying_to_last(mut self) -> Self {
        self.reply_to_last = true;
        self
    }
}

impl From<CustomerMessage> for Inbound {
    fn from(message: CustomerMessage) -> Self {
        Inbound {
            message,
            phone_number_id: None,
            reply_to: None,
            reply_to_last: false,
            shown: Shown::Usual,
        }
    }
}

/// A simulated customer, as the handle and `GET /sandbox/customers` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerInfo {
    /// Short name used by the API and control endpoints (`ana`).
    pub key: String,
    /// Profile name (ends in "(sandbox)").
    pub name: String,
    /// Phone number digits; `None` for the username-only customer.
    pub wa_id: Option<String>,
    /// Business-scoped user id (`US.…`).
    pub user_id: String,
    pub username: Option<String>,
    /// How many scripted messages they have.
    pub script_len: usize,
}

pub(crate) struct Customer {
    pub key: String,
    pub name: String,
    pub wa_id: Option<String>,
    pub user_id: String,
    pub username: Option<String>,
    /// The number behind a username-only customer: Meta shows it only when told to
    /// ([`Shown::PhoneOnly`], [`Shown::Both`]).
    pub hidden_phone: Option<String>,
    pub script: Vec<Inbound>,
}

impl Customer {
    pub fn info(&self) -> CustomerInfo {
        CustomerInfo {
            key: self.key.clone(),
            name: self.name.clone(),
            wa_id: self.wa_id.clone(),
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            script_len: self.script.len(),
        }
    }

    /// The `contacts[]` entry of a webhook carrying this customer's message.
    /// What a webhook says of this customer: `from`, `from_user_id` and the `contacts[]` entry.
    pub fn shown(&self, shown: Shown) -> (Option<String>, Option<String>, Value) {
        let phone = match shown {
            Shown::Usual => self.wa_id.clone(),
            Shown::PhoneOnly | Shown::Both => self.wa_id.clone().or(self.hidden_phone.clone()),
        };
        let (user_id, username) = match shown {
            Shown::PhoneOnly => (None, None),
            Shown::Usual | Shown::Both => (Some(self.user_id.clone()), self.username.clone()),
        };
        let mut profile = json!({ "name": self.name });
        if let Some(username) = &username {
            profile["username"] = json!(username);
        }
        let mut contact = json!({ "profile": profile });
        if let Some(u) = &user_id {
            contact["user_id"] = json!(u);
        }
        if let Some(wa_id) = &phone {
            contact["wa_id"] = json!(wa_id);
        }
        (phone, user_id, contact)
    }
}

/// The seeded customers. Every name says "(sandbox)"; the numbers are in the fictional
/// +1 555-555-01xx range; Dara has no phone number at all (username only).
pub(crate) fn seed_customers() -> Vec<Customer> {
    let text = |s: &str| Inbound::from(CustomerMessage::text(s));
    vec![
        Customer {
            key: "ana".into(),
            name: "Ana Ruiz (sandbox)".into(),
            wa_id: Some("15555550111".into()),
            user_id: "US.1349120865530111".into(),
            username: None,
            hidden_phone: None,
            script: vec![
                text("Hi! Do you ship to Madrid? (sandbox customer)"),
                CustomerMessage::Image {
                    caption: Some("This is the one I mean".into()),
                }
                .into(),
                CustomerMessage::Location {
                    latitude: 40.416775,
                    longitude: -3.703790,
                    name: Some("Puerta del Sol".into()),
                    address: Some("Plaza de la Puerta del Sol, Madrid".into()),
                }
                .into(),
                text("Perfect, thanks!").replying_to_last(),
            ],
        },
        Customer {
            key: "ben".into(),
            name: "Ben Okafor (sandbox)".into(),
            wa_id: Some("15555550112".into()),
            user_id: "US.1349120865530112".into(),
            username: None,
            hidden_phone: None,
            script: vec![
                text("Hello, I need a quote for 40 units (sandbox customer)"),
                CustomerMessage::Document {
                    filename: "purchase-order.pdf".into(),
                    caption: Some("Our purchase order".into()),
                }
                .into(),
                CustomerMessage::Audio { voice: true }.into(),
                CustomerMessage::Video {
                    caption: Some("How it arrived".into()),
                }
                .into(),
                CustomerMessage::Sticker { animated: false }.into(),
            ],
        },
        Customer {
            key: "chen".into(),
            name: "Chen Wei (sandbox)".into(),
            wa_id: Some("15555550113".into()),
            user_id: "US.1349120865530113".into(),
            username: None,
            hidden_phone: None,
            script: vec![
                text("Can you add my colleague? (sandbox customer)"),
                CustomerMessage::Contacts {
                    contacts: vec![json!({
                        "name": {"formatted_name": "Lena Park (sandbox)", "first_name": "Lena", "last_name": "Park"},
                        "phones": [{"phone": "+1 555-555-0114", "type": "WORK", "wa_id": "15555550114"}],
                        "emails": [{"email": "lena@example.invalid", "type": "WORK"}]
                    })],
                }
                .into(),
                CustomerMessage::Reaction {
                    message_id: None,
                    emoji: "\u{1F44D}".into(),
                }
                .into(),
                CustomerMessage::ButtonReply {
                    id: "yes".into(),
                    title: "Yes".into(),
                }
                .into(),
                CustomerMessage::ListReply {
                    id: "plan_pro".into(),
                    title: "Pro plan".into(),
                    description: Some("Everything in Basic, plus support".into()),
                }
                .into(),
                CustomerMessage::TemplateButton {
                    payload: "STOP_PROMOS".into(),
                    text: "Stop promotions".into(),
                }
                .into(),
            ],
        },
        Customer {
            key: "dara".into(),
            name: "Dara (sandbox)".into(),
            wa_id: None,
            user_id: "US.1349120865530199".into(),
            username: Some("dara.sandbox".into()),
            hidden_phone: Some("15555550199".into()),
            script: vec![
                text("Hey, I only share my username (sandbox customer)"),
                CustomerMessage::Reaction {
                    message_id: None,
                    emoji: String::new(),
                }
                .into(),
            ],
        },
        Customer {
            key: "eve".into(),
            name: "Eve Moreau (sandbox)".into(),
            wa_id: Some("15555550115".into()),
            user_id: "US.1349120865530115".into(),
            username: None,
            hidden_phone: None,
            script: vec![
                CustomerMessage::FromAd {
                    body: "Hi, I saw your ad. Is the offer still on? (sandbox customer)".into(),
                    headline: "Spring offer: 20% off (sandbox ad)".into(),
                }
                .into(),
                CustomerMessage::Edit {
                    message_id: None,
                    body: "Hi, I saw your ad. Is the 20% offer still on? (sandbox customer)".into(),
                }
                .into(),
                CustomerMessage::sample_order().into(),
                CustomerMessage::sample_form().into(),
                CustomerMessage::CallPermission { accept: true }.into(),
                text("Oops, wrong chat"),
                CustomerMessage::Revoke { message_id: None }.into(),
            ],
        },
    ]
}

/// A real voice note: 4.8 s of speech ("Hello! This is a voice note from the CRMConnect
/// sandbox."), made with espeak-ng and opusenc (Ogg Opus, mono, 12 kbit/s), as WhatsApp records.
const VOICE_NOTE: &[u8] = include_bytes!("../assets/voice-note.ogg");

/// Real stickers as WhatsApp sends them: 512×512 WebP (a green robot face, made with ImageMagick),
/// and an animated one whose robot blinks (two frames, looping).
const STICKER: &[u8] = include_bytes!("../assets/sticker.webp");
const STICKER_ANIMATED: &[u8] = include_bytes!("../assets/sticker-animated.webp");

/// Bytes and MIME type of the media a simulated customer sends: a real PNG for images, a tiny
/// real PDF for documents, a real voice note, real stickers, and clearly-labelled placeholder
/// bytes with the right magic numbers for other audio and for video. (A real MP4 needs an H.264
/// encoder, and WebKitGTK an H.264 decoder, that these machines do not have.)
pub(crate) fn sample_media(message: &CustomerMessage) -> Option<(String, Vec<u8>)> {
    let labelled = |magic: &[u8]| {
        let mut v = magic.to_vec();
        v.extend_from_slice(b"\0CRMConnect sandbox placeholder media, not playable\0");
        v
    };
    Some(match message {
        CustomerMessage::Image { .. } => (
            "image/png".into(),
            picture::solid_png(64, 48, [0xe0, 0x8a, 0x2c]).ok()?,
        ),
        CustomerMessage::Document { .. } => (
            "application/pdf".into(),
            b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n% CRMConnect sandbox sample document\n%%EOF\n".to_vec(),
        ),
        CustomerMessage::Audio { voice: true } => {
            ("audio/ogg; codecs=opus".into(), VOICE_NOTE.to_vec())
        }
        CustomerMessage::Audio { voice: false } => ("audio/mpeg".into(), labelled(b"ID3\x04\0")),
        CustomerMessage::Video { .. } => (
            "video/mp4".into(),
            labelled(b"\0\0\0\x18ftypisom\0\0\x02\0isommp41"),
        ),
        CustomerMessage::Sticker { animated: false } => ("image/webp".into(), STICKER.to_vec()),
        CustomerMessage::Sticker { animated: true } => {
            ("image/webp".into(), STICKER_ANIMATED.to_vec())
        }
        _ => return None,
    })
}

/// What goes in the type-named key of the webhook message (`"text": {...}`), given the media
/// id and sha256 when the message carries media.
pub(crate) fn payload_json(
    message: &CustomerMessage,
    media: Option<(&str, &str, &str)>,
    target: Option<&str>,
) -> Value {
    let media_obj = |extra: Value| {
        let (id, mime, sha) = media.unwrap_or_default();
        let mut obj = json!({ "id": id, "mime_type": mime, "sha256": sha });
        if let (Some(o), Value::Object(e)) = (obj.as_object_mut(), extra) {
            o.extend(e.into_iter().filter(|(_, v)| !v.is_null()));
        }
        obj
    };
    match message {
        CustomerMessage::Text { body } => json!({ "body": body }),
        CustomerMessage::Image { caption } | CustomerMessage::Video { caption } => {
            media_obj(json!({ "caption": caption }))
        }
        CustomerMessage::Document { filename, caption } => {
            media_obj(json!({ "filename": filename, "caption": caption }))
        }
        CustomerMessage::Audio { voice } => media_obj(json!({ "voice": voice })),
        CustomerMessage::Sticker { animated } => media_obj(json!({ "animated": animated })),
        CustomerMessage::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let mut o = json!({ "latitude": latitude, "longitude": longitude });
            if let Some(n) = name {
                o["name"] = json!(n);
            }
            if let Some(a) = address {
                o["address"] = json!(a);
            }
            o
        }
        CustomerMessage::Contacts { contacts } => json!(contacts),
        CustomerMessage::ButtonReply { id, title } => {
            json!({ "type": "button_reply", "button_reply": { "id": id, "title": title } })
        }
        CustomerMessage::ListReply {
            id,
            title,
            description,
        } => {
            let mut reply = json!({ "id": id, "title": title });
            if let Some(d) = description {
                reply["description"] = json!(d);
            }
            json!({ "type": "list_reply", "list_reply": reply })
        }
        CustomerMessage::TemplateButton { payload, text } => {
            json!({ "payload": payload, "text": text })
        }
        CustomerMessage::Reaction { emoji, .. } => {
            let mut o = json!({ "message_id": target.unwrap_or_default() });
            if !emoji.is_empty() {
                o["emoji"] = json!(emoji);
            }
            o
        }
        CustomerMessage::FromAd { body, .. } => json!({ "body": body }),
        CustomerMessage::Order {
            catalog_id,
            items,
            note,
        } => {
            let mut o = json!({ "catalog_id": catalog_id, "product_items": items });
            if let Some(n) = note {
                o["text"] = json!(n);
            }
            o
        }
        CustomerMessage::FlowReply { name, answers } => {
            let mut response = answers.clone();
            response.insert("flow_token".into(), json!("sandbox-flow-token"));
            json!({ "type": "nfm_reply", "nfm_reply": {
                "name": name.as_deref().unwrap_or("flow"),
                "body": "Sent",
                "response_json": Value::Object(response).to_string(),
            }})
        }
        CustomerMessage::CallPermission { accept } => json!({
            "type": "call_permission_reply",
            "call_permission_reply": {
                "response": if *accept { "accept" } else { "reject" },
                "is_permanent": false,
                "expiration_timestamp": 1_893_456_000,
                "response_source": "user_action",
            }
        }),
        CustomerMessage::Edit { body, .. } => json!({
            "original_message_id": target.unwrap_or_default(),
            "message": { "type": "text", "text": { "body": body } },
        }),
        CustomerMessage::Revoke { .. } => json!({
            "original_message_id": target.unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_messages_deserialise_from_control_json() {
        let m: Inbound = serde_json::from_str(
            r#"{"type":"text","body":"hi","reply_to":"wamid.X","phone_number_id":"1"}"#,
        )
        .unwrap();
        assert_eq!(m.message, CustomerMessage::text("hi"));
        assert_eq!(m.reply_to.as_deref(), Some("wamid.X"));
        let r: Inbound = serde_json::from_str(r#"{"type":"reaction","emoji":""}"#).unwrap();
        assert_eq!(
            r.message,
            CustomerMessage::Reaction {
                message_id: None,
                emoji: String::new()
            }
        );
        assert!(serde_json::from_str::<Inbound>(r#"{"type":"fax"}"#).is_err());
    }

    #[test]
    fn seeded_customers_cover_every_inbound_type_and_one_is_username_only() {
        let customers = seed_customers();
        assert!(customers.iter().all(|c| c.name.contains("(sandbox)")));
        let username_only: Vec<_> = customers.iter().filter(|c| c.wa_id.is_none()).collect();
        assert_eq!(username_only.len(), 1);
        let (phone, user_id, contact) = username_only[0].shown(Shown::Usual);
        assert_eq!(
            (phone, user_id.as_deref()),
            (None, Some("US.1349120865530199"))
        );
        // Shown with its number, the number behind the username appears; with only the number,
        // no user id or username does.
        let (phone, _, all) = username_only[0].shown(Shown::Both);
        assert_eq!(phone.as_deref(), Some("15555550199"));
        assert_eq!(all["profile"]["username"], "dara.sandbox");
        let (_, user_id, bare) = username_only[0].shown(Shown::PhoneOnly);
        assert!(user_id.is_none() && bare.get("user_id").is_none());
        assert!(bare["profile"].get("username").is_none());
        assert!(contact.get("wa_id").is_none());
        assert_eq!(contact["profile"]["username"], "dara.sandbox");
        let mut kinds: Vec<&str> = customers
            .iter()
            .flat_map(|c| c.script.iter().map(|i| i.message.kind()))
            .collect();
        kinds.sort();
        kinds.dedup();
        for k in [
            "text",
            "image",
            "document",
            "audio",
            "video",
            "sticker",
            "location",
            "contacts",
            "interactive",
            "button",
            "reaction",
            "order",
            "edit",
            "revoke",
        ] {
            assert!(kinds.contains(&k), "no script sends {k}");
        }
        assert!(
            customers
                .iter()
                .flat_map(|c| &c.script)
                .any(|i| i.reply_to_last)
        );
    }

    #[test]
    fn payloads_have_meta_keys() {
        let p = payload_json(
            &CustomerMessage::Audio { voice: true },
            Some(("9", "audio/ogg; codecs=opus", "ab")),
            None,
        );
        assert_eq!(
            p,
            json!({"id":"9","mime_type":"audio/ogg; codecs=opus","sha256":"ab","voice":true})
        );
        let r = payload_json(
            &CustomerMessage::Reaction {
                message_id: None,
                emoji: String::new(),
            },
            None,
            Some("wamid.A"),
        );
        assert_eq!(r, json!({"message_id":"wamid.A"}));
        let img = payload_json(
            &CustomerMessage::Image { caption: None },
            Some(("1", "image/png", "s")),
            None,
        );
        assert!(img.get("caption").is_none());
        for animated in [false, true] {
            let (mime, bytes) = sample_media(&CustomerMessage::Sticker { animated }).unwrap();
            assert_eq!(mime, "image/webp");
            assert!(bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP");
            assert_eq!(bytes.windows(4).any(|w| w == b"ANIM"), animated);
        }
    }
}
