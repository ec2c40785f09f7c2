//! What a message carries, as the chat shows it: read from Meta's inbound `messages[]` objects
//! and built for our own sends. Every inbound type has a variant; a type we do not know is kept
//! as [`MessageContent::Unsupported`] with its name, never hidden.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// A file Meta holds: fetched by Rust with the token, through a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediaRef {
    /// Meta's media id (inbound, or what we uploaded).
    pub media_id: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub caption: Option<String>,
    /// A file on this desktop (what we sent from here), shown without a download.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactCard {
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub organization: Option<String>,
    /// Department and job title at the organisation.
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// Each address on one line (street, city, zip, country), with its type when given.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub urls: Vec<String>,
    /// `YYYY-MM-DD` as sent.
    #[serde(default)]
    pub birthday: Option<String>,
}

/// One line of a customer's order from the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OrderItem {
    /// The product's retailer id (the SKU in the catalog).
    pub product_id: String,
    pub quantity: i64,
    pub unit_price: Option<f64>,
    pub currency: Option<String>,
}

/// One answer of a WhatsApp Flow (a form the customer filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FlowAnswer {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum MessageContent {
    Text {
        body: String,
    },
    Image {
        media: MediaRef,
    },
    Video {
        media: MediaRef,
    },
    Audio {
        media: MediaRef,
        voice: bool,
    },
    Document {
        media: MediaRef,
    },
    Sticker {
        media: MediaRef,
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
        /// The place's web page, when the customer shared a named place.
        #[serde(default)]
        url: Option<String>,
    },
    Contacts {
        cards: Vec<ContactCard>,
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
        description: Option<String>,
    },
    /// A tap on a quick-reply button of a template.
    TemplateButton {
        payload: String,
        text: String,
    },
    /// A cart sent from the business's catalog.
    Order {
        catalog_id: String,
        items: Vec<OrderItem>,
        /// The customer's note with the order.
        note: Option<String>,
    },
    /// A WhatsApp Flow the customer completed: its answers, readable.
    FlowReply {
        /// The flow's name, or Meta's `flow` when none was given.
        name: Option<String>,
        /// The text shown with the reply ("Sent").
        body: Option<String>,
        answers: Vec<FlowAnswer>,
    },
    /// The customer's answer to a request for permission to call them.
    CallPermission {
        accepted: bool,
        /// Until when (ms) the permission holds, if it does.
        expires_at: Option<i64>,
        /// Whether the customer answered a request (`user_action`) or granted it on their own.
        source: Option<String>,
    },
    /// Meta's note about the customer (they changed their number or account), shown in the
    /// thread as a line of its own; never unread.
    System {
        /// `user_changed_number`, `user_changed_user_id`…
        kind: String,
        body: String,
    },
    /// A reaction whose message we do not have (reactions to known messages decorate them).
    Reaction {
        message_id: String,
        emoji: String,
    },
    /// A template we sent: its name, language and the body as the customer read it.
    Template {
        name: String,
        language: String,
        body: String,
        header_document: Option<MediaRef>,
    },
    /// An interactive message we sent (a bot's question): its text and what the customer can tap.
    Interactive {
        /// `buttons`, `list`, `cta_url` or `request_contact_info`.
        style: String,
        body: String,
        /// The buttons' or rows' titles, or the link button's label.
        options: Vec<String>,
        /// The link of a `cta_url` message.
        url: Option<String>,
    },
    /// A type this version does not show; its name is kept and shown.
    Unsupported {
        kind: String,
        detail: Option<String>,
    },
}

impl MessageContent {
    /// The file this message carries, if any.
    pub fn media_mut(&mut self) -> Option<&mut MediaRef> {
        match self {
            MessageContent::Image { media }
            | MessageContent::Video { media }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media }
            | MessageContent::Sticker { media, .. } => Some(media),
            MessageContent::Template {
                header_document, ..
            } => header_document.as_mut(),
            _ => None,
        }
    }

    /// The content without any path on this desktop: what another desktop may be told, and all
    /// it is believed about. A path from the wire would make the app read a file of the
    /// receiver's choosing (a teammate's private file, a FIFO, /dev/zero).
    pub fn without_local_path(mut self) -> Self {
        if let Some(m) = self.media_mut() {
            m.local_path = None;
        }
        self
    }

    /// Meta's note about the customer rather than something they wrote.
    pub fn is_system(&self) -> bool {
        matches!(self, MessageContent::System { .. })
    }

    /// The type name stored with the message (`text`, `image`…).
    pub fn kind(&self) -> &str {
        match self {
            MessageContent::Text { .. } => "text",
            MessageContent::Image { .. } => "image",
            MessageContent::Video { .. } => "video",
            MessageContent::Audio { .. } => "audio",
            MessageContent::Document { .. } => "document",
            MessageContent::Sticker { .. } => "sticker",
            MessageContent::Location { .. } => "location",
            MessageContent::Contacts { .. } => "contacts",
            MessageContent::ButtonReply { .. } => "button_reply",
            MessageContent::ListReply { .. } => "list_reply",
            MessageContent::TemplateButton { .. } => "button",
            MessageContent::Order { .. } => "order",
            MessageContent::FlowReply { .. } => "flow_reply",
            MessageContent::CallPermission { .. } => "call_permission",
            MessageContent::System { .. } => "system",
            MessageContent::Reaction { .. } => "reaction",
            MessageContent::Template { .. } => "template",
            MessageContent::Interactive { .. } => "interactive",
            MessageContent::Unsupported { .. } => "unsupported",
        }
    }

    /// The text that search finds and that previews show.
    pub fn searchable(&self) -> String {
        let join = |parts: &[Option<&str>]| {
            parts
                .iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        };
        match self {
            MessageContent::Text { body } => body.clone(),
            MessageContent::Image { media }
            | MessageContent::Video { media }
            | MessageContent::Document { media } => {
                join(&[media.caption.as_deref(), media.filename.as_deref()])
            }
            MessageContent::Location { name, address, .. } => {
                join(&[name.as_deref(), address.as_deref()])
            }
            MessageContent::Contacts { cards } => cards
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            MessageContent::ButtonReply { title, .. } => title.clone(),
            MessageContent::ListReply {
                title, description, ..
            } => join(&[Some(title), description.as_deref()]),
            MessageContent::TemplateButton { text, .. } => text.clone(),
            MessageContent::Template { body, .. } => body.clone(),
            MessageContent::Interactive { body, .. } => body.clone(),
            MessageContent::Order { note, .. } => note.clone().unwrap_or_default(),
            MessageContent::System { body, .. } => body.clone(),
            MessageContent::FlowReply { answers, .. } => answers
                .iter()
                .map(|a| a.value.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            MessageContent::CallPermission { .. }
            | MessageContent::Audio { .. }
            | MessageContent::Sticker { .. }
            | MessageContent::Reaction { .. }
            | MessageContent::Unsupported { .. } => String::new(),
        }
    }

    /// One line for the conversation list.
    pub fn preview(&self) -> String {
        let text = self.searchable();
        let label = match self {
            MessageContent::Image { .. } => "📷 Photo",
            MessageContent::Video { .. } => "🎬 Video",
            MessageContent::Audio { voice: true, .. } => "🎤 Voice message",
            MessageContent::Audio { .. } => "🎵 Audio",
            MessageContent::Document { .. } => "📄 Document",
            MessageContent::Sticker { .. } => "Sticker",
            MessageContent::Location { .. } => "📍 Location",
            MessageContent::Contacts { .. } => "👤 Contact card",
            MessageContent::Reaction { emoji, .. } => return format!("Reacted {emoji}"),
            MessageContent::Order { items, .. } => {
                let n: i64 = items.iter().map(|i| i.quantity).sum();
                return format!("🛒 Order: {n} item{}", if n == 1 { "" } else { "s" });
            }
            MessageContent::FlowReply { name, .. } => {
                return format!("📝 Form answered: {}", name.as_deref().unwrap_or("flow"));
            }
            MessageContent::CallPermission { accepted, .. } => {
                return if *accepted {
                    "📞 Calls allowed".to_owned()
                } else {
                    "📞 Calls declined".to_owned()
                };
            }
            MessageContent::Template { name, body, .. } if body.is_empty() => {
                return format!("Template {name}");
            }
            MessageContent::Unsupported { kind, .. } => {
                return format!("Unsupported message ({kind})");
            }
            _ => "",
        };
        let line = match (label.is_empty(), text.is_empty()) {
            (true, _) => text,
            (false, true) => label.to_owned(),
            (false, false) => format!("{label}: {text}"),
        };
        line.chars().take(140).collect()
    }
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn media(v: &Value) -> MediaRef {
    MediaRef {
        media_id: s(v, "id"),
        mime_type: s(v, "mime_type"),
        filename: s(v, "filename"),
        caption: s(v, "caption"),
        local_path: None,
    }
}

/// Reads one inbound `messages[]` object.
pub fn from_inbound(m: &Value) -> MessageContent {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("unknown");
    let part = m.get(kind).cloned().unwrap_or(Value::Null);
    match kind {
        "text" => MessageContent::Text {
            body: s(&part, "body").unwrap_or_default(),
        },
        "image" => MessageContent::Image {
            media: media(&part),
        },
        "video" => MessageContent::Video {
            media: media(&part),
        },
        "audio" => MessageContent::Audio {
            media: media(&part),
            voice: part.get("voice").and_then(Value::as_bool).unwrap_or(false),
        },
        "document" => MessageContent::Document {
            media: media(&part),
        },
        "sticker" => MessageContent::Sticker {
            media: media(&part),
            animated: part
                .get("animated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "location" => MessageContent::Location {
            latitude: part.get("latitude").and_then(Value::as_f64).unwrap_or(0.0),
            longitude: part.get("longitude").and_then(Value::as_f64).unwrap_or(0.0),
            name: s(&part, "name"),
            address: s(&part, "address"),
            url: s(&part, "url"),
        },
        "contacts" => MessageContent::Contacts {
            cards: m
                .get("contacts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(contact_card)
                .collect(),
        },
        "order" => MessageContent::Order {
            catalog_id: s(&part, "catalog_id").unwrap_or_default(),
            items: list(&part, "product_items")
                .map(|i| OrderItem {
                    product_id: s(i, "product_retailer_id").unwrap_or_default(),
                    quantity: number(i, "quantity").map_or(1, |q| q as i64),
                    unit_price: number(i, "item_price"),
                    currency: s(i, "currency"),
                })
                .collect(),
            note: s(&part, "text").filter(|t| !t.is_empty()),
        },
        "interactive" => {
            let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
            match (kind, part.get(kind)) {
                ("button_reply", Some(r)) => MessageContent::ButtonReply {
                    id: s(r, "id").unwrap_or_default(),
                    title: s(r, "title").unwrap_or_default(),
                },
                ("list_reply", Some(r)) => MessageContent::ListReply {
                    id: s(r, "id").unwrap_or_default(),
                    title: s(r, "title").unwrap_or_default(),
                    description: s(r, "description"),
                },
                ("nfm_reply", Some(r)) => MessageContent::FlowReply {
                    name: s(r, "name"),
                    body: s(r, "body"),
                    answers: flow_answers(r.get("response_json")),
                },
                ("call_permission_reply", Some(r)) => MessageContent::CallPermission {
                    accepted: s(r, "response").as_deref() == Some("accept"),
                    expires_at: number(r, "expiration_timestamp").map(|t| t as i64 * 1000),
                    source: s(r, "response_source"),
                },
                _ => MessageContent::Unsupported {
                    kind: format!("interactive {kind}"),
                    detail: None,
                },
            }
        }
        "button" => MessageContent::TemplateButton {
            payload: s(&part, "payload").unwrap_or_default(),
            text: s(&part, "text").unwrap_or_default(),
        },
        "reaction" => MessageContent::Reaction {
            message_id: s(&part, "message_id").unwrap_or_default(),
            emoji: s(&part, "emoji").unwrap_or_default(),
        },
        other => MessageContent::Unsupported {
            kind: other.to_owned(),
            detail: m
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
                .map(error_text),
        },
    }
}

/// Meta's error as a person reads it: its title, code and details (`Message type unknown
/// (131051): …`).
pub fn error_text(e: &Value) -> String {
    let title = s(e, "title")
        .or_else(|| s(e, "message"))
        .unwrap_or_else(|| "Error".to_owned());
    let code = e.get("code").and_then(Value::as_i64);
    let details = e
        .get("error_data")
        .and_then(|d| s(d, "details"))
        .filter(|d| !d.is_empty() && *d != title);
    match (code, details) {
        (Some(c), Some(d)) => format!("{title} ({c}): {d}"),
        (Some(c), None) => format!("{title} ({c})"),
        (None, Some(d)) => format!("{title}: {d}"),
        (None, None) => title,
    }
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A number Meta may send as a JSON number or as a string (`"2"`, `"1650.0"`).
fn number(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn contact_card(c: &Value) -> ContactCard {
    let name = c.get("name");
    let formatted = name.and_then(|n| s(n, "formatted_name")).or_else(|| {
        let parts: Vec<String> = ["prefix", "first_name", "middle_name", "last_name", "suffix"]
            .iter()
            .filter_map(|k| name.and_then(|n| s(n, k)))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let typed = |value: String, kind: Option<String>| match kind {
        Some(k) if !k.is_empty() => format!("{value} ({})", k.to_lowercase()),
        _ => value,
    };
    ContactCard {
        name: formatted.unwrap_or_default(),
        phones: list(c, "phones")
            .filter_map(|p| s(p, "phone").or_else(|| s(p, "wa_id").map(|w| format!("+{w}"))))
            .collect(),
        emails: list(c, "emails").filter_map(|e| s(e, "email")).collect(),
        organization: c.get("org").and_then(|o| s(o, "company")),
        department: c.get("org").and_then(|o| s(o, "department")),
        title: c.get("org").and_then(|o| s(o, "title")),
        addresses: list(c, "addresses")
            .filter_map(|a| {
                let line: Vec<String> = ["street", "city", "state", "zip", "country"]
                    .iter()
                    .filter_map(|k| s(a, k).filter(|v| !v.is_empty()))
                    .collect();
                (!line.is_empty()).then(|| typed(line.join(", "), s(a, "type")))
            })
            .collect(),
        urls: list(c, "urls").filter_map(|u| s(u, "url")).collect(),
        birthday: s(c, "birthday"),
    }
}

/// A Flow's `response_json` (a JSON object in a string) as readable answers; Meta's own
/// `flow_token` is left out.
fn flow_answers(raw: Option<&Value>) -> Vec<FlowAnswer> {
    let parsed = match raw {
        Some(Value::String(t)) => serde_json::from_str::<Value>(t).ok(),
        Some(v @ Value::Object(_)) => Some(v.clone()),
        _ => None,
    };
    let Some(Value::Object(map)) = parsed else {
        return Vec::new();
    };
    map.into_iter()
        .filter(|(k, _)| k != "flow_token")
        .map(|(k, v)| FlowAnswer {
            key: k.replace('_', " "),
            value: match v {
                Value::String(t) => t,
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            },
        })
        .collect()
}

/// What Meta says about an inbound message besides its content: forwarded marks, and the ad or
/// catalog product the customer wrote from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessageMarks {
    #[serde(default)]
    pub forwarded: bool,
    /// Forwarded through five chats or more.
    #[serde(default)]
    pub frequently_forwarded: bool,
    #[serde(default)]
    pub ad: Option<AdReferral>,
    #[serde(default)]
    pub product: Option<ProductRef>,
}

/// The click-to-WhatsApp ad (or post) the customer tapped to write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AdReferral {
    pub headline: Option<String>,
    pub body: Option<String>,
    pub source_url: Option<String>,
    /// `ad` or `post`.
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    /// `image` or `video`, with its link (and a thumbnail for a video).
    pub media_type: Option<String>,
    pub media_url: Option<String>,
    pub thumbnail_url: Option<String>,
    /// Meta's click id, for conversion reports.
    pub click_id: Option<String>,
}

/// The catalog product a message asks about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProductRef {
    pub catalog_id: String,
    pub product_id: String,
}

impl MessageMarks {
    /// The marks of one inbound `messages[]` object, or `None` when it has none.
    pub fn from_inbound(m: &Value) -> Option<MessageMarks> {
        let context = m.get("context");
        let flag = |key: &str| {
            context
                .and_then(|c| c.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let ad = m.get("referral").map(|r| {
            let media_type = s(r, "media_type");
            AdReferral {
                headline: s(r, "headline"),
                body: s(r, "body"),
                source_url: s(r, "source_url"),
                source_type: s(r, "source_type"),
                source_id: s(r, "source_id"),
                media_url: match media_type.as_deref() {
                    Some("video") => s(r, "video_url"),
                    _ => s(r, "image_url"),
                },
                thumbnail_url: s(r, "thumbnail_url"),
                media_type,
                click_id: s(r, "ctwa_clid"),
            }
        });
        let product = context
            .and_then(|c| c.get("referred_product"))
            .map(|p| ProductRef {
                catalog_id: s(p, "catalog_id").unwrap_or_default(),
                product_id: s(p, "product_retailer_id").unwrap_or_default(),
            });
        let marks = MessageMarks {
            forwarded: flag("forwarded") || flag("frequently_forwarded"),
            frequently_forwarded: flag("frequently_forwarded"),
            ad,
            product,
        };
        (marks != MessageMarks::default()).then_some(marks)
    }

    /// A lead made from this message records where the customer came from.
    pub fn lead_source(&self) -> Option<String> {
        let ad = self.ad.as_ref()?;
        let what = if ad.source_type.as_deref() == Some("post") {
            "WhatsApp post"
        } else {
            "WhatsApp ad"
        };
        Some(
            match ad.headline.as_deref().filter(|h| !h.trim().is_empty()) {
                Some(h) => format!("{what}: {}", h.trim().chars().take(80).collect::<String>()),
                None => what.to_owned(),
            },
        )
    }
}

/// A link a message carries (an ad's page, a place's site, a contact card's web address) as the
/// browser may open it: `http` or `https` with a host, nothing else (no `file:`, no app schemes).
pub fn web_url(raw: &str) -> Option<String> {
    let url = reqwest::Url::parse(raw.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
        .then(|| url.to_string())
}

/// The map a shared location opens in (OpenStreetMap), for coordinates that exist on Earth.
pub fn map_url(latitude: f64, longitude: f64) -> Option<String> {
    ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then(|| {
        format!(
            "https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=16/{latitude}/{longitude}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_inbound_type_is_read_and_an_unknown_one_is_named() {
        let cases = [
            (
                json!({"type":"text","text":{"body":"Hello"}}),
                "text",
                "Hello",
            ),
            (
                json!({"type":"image","image":{"id":"M1","mime_type":"image/jpeg","caption":"the roof"}}),
                "image",
                "📷 Photo: the roof",
            ),
            (
                json!({"type":"audio","audio":{"id":"M2","voice":true}}),
                "audio",
                "🎤 Voice message",
            ),
            (
                json!({"type":"document","document":{"id":"M3","filename":"offer.pdf"}}),
                "document",
                "📄 Document: offer.pdf",
            ),
            (
                json!({"type":"location","location":{"latitude":44.4,"longitude":26.1,"name":"Office"}}),
                "location",
                "📍 Location: Office",
            ),
            (
                json!({"type":"contacts","contacts":[{"name":{"formatted_name":"Ana Pop"},"phones":[{"phone":"+40 721 000 000"}]}]}),
                "contacts",
                "👤 Contact card: Ana Pop",
            ),
            (
                json!({"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"Prices"}}}),
                "list_reply",
                "Prices",
            ),
            (
                json!({"type":"button","button":{"payload":"YES","text":"Yes please"}}),
                "button",
                "Yes please",
            ),
            (
                json!({"type":"order","order":{"catalog_id":"C","product_items":[{"product_retailer_id":"P","quantity":1}]}}),
                "order",
                "🛒 Order: 1 item",
            ),
            (
                json!({"type":"hologram","hologram":{}}),
                "unsupported",
                "Unsupported message (hologram)",
            ),
        ];
        for (raw, kind, preview) in cases {
            let c = from_inbound(&raw);
            assert_eq!(c.kind(), kind, "{raw}");
            assert_eq!(c.preview(), preview, "{raw}");
        }
    }

    #[test]
    fn content_round_trips_as_stored() {
        let c = from_inbound(
            &json!({"type":"sticker","sticker":{"id":"S","mime_type":"image/webp","animated":true}}),
        );
        let stored = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<MessageContent>(&stored).unwrap(), c);
    }

    #[test]
    fn only_web_links_open() {
        assert_eq!(
            web_url(" https://fb.me/3cr4Wqqkv ").as_deref(),
            Some("https://fb.me/3cr4Wqqkv")
        );
        assert_eq!(
            web_url("http://philzcoffee.com").as_deref(),
            Some("http://philzcoffee.com/")
        );
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "whatsapp://send",
            "https://",
            "roofs.example",
        ] {
            assert_eq!(web_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn map_urls_only_for_real_coordinates() {
        assert_eq!(
            map_url(40.4, -3.7).as_deref(),
            Some("https://www.openstreetmap.org/?mlat=40.4&mlon=-3.7#map=16/40.4/-3.7")
        );
        assert_eq!(map_url(91.0, 0.0), None);
        assert_eq!(map_url(0.0, f64::NAN), None);
    }
}
