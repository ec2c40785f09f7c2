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
            MessageContent::Reaction { .. } => "reaction",
            MessageContent::Template { .. } => "template",
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
            MessageContent::Audio { .. }
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
        },
        "contacts" => MessageContent::Contacts {
            cards: m
                .get("contacts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| ContactCard {
                    name: c
                        .get("name")
                        .and_then(|n| s(n, "formatted_name"))
                        .unwrap_or_default(),
                    phones: c
                        .get("phones")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| s(p, "phone"))
                        .collect(),
                    emails: c
                        .get("emails")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| s(p, "email"))
                        .collect(),
                    organization: c.get("org").and_then(|o| s(o, "company")),
                })
                .collect(),
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
                .and_then(|e| {
                    e.get("error_data")
                        .and_then(|d| s(d, "details"))
                        .or_else(|| s(e, "title"))
                }),
        },
    }
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
                json!({"type":"order","order":{}}),
                "unsupported",
                "Unsupported message (order)",
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
    fn map_urls_only_for_real_coordinates() {
        assert_eq!(
            map_url(40.4, -3.7).as_deref(),
            Some("https://www.openstreetmap.org/?mlat=40.4&mlon=-3.7#map=16/40.4/-3.7")
        );
        assert_eq!(map_url(91.0, 0.0), None);
        assert_eq!(map_url(0.0, f64::NAN), None);
    }
}
