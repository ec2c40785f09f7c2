//! Outbound messages in Meta's shapes (`POST /{phone-number-id}/messages`), checked against Meta's
//! limits before anything is sent.

use serde::{Deserialize, Serialize};

/// A business-scoped user id (`US.13491208655302741918`, a parent one `US.ENT.1181…`): two
/// letters of country, a dot, then letters and digits. Phone numbers are never one.
pub fn is_user_id(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let (Some(country), Some(rest)) = (parts.next(), parts.next()) else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

/// One message to send: the recipient, what to send, and optionally the message it replies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    /// E.164 digits (with or without `+`), a `wa_id`, or a business-scoped user id: the client
    /// sends a user id as Meta's `recipient` (one in `to` is silently dropped by Meta).
    pub to: String,
    #[serde(flatten)]
    pub body: Body,
    /// Reply-to: the `wamid` of the quoted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Echoed back by Meta in this message's status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub message_id: String,
}

/// What a message carries; serialises as Meta's `type` plus the key of the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Text { text: Text },
    Image { image: Media },
    Audio { audio: Media },
    Video { video: Media },
    Document { document: Media },
    Sticker { sticker: Media },
    Location { location: Location },
    Contacts { contacts: Vec<serde_json::Value> },
    Interactive { interactive: Interactive },
    Template { template: Template },
    Reaction { reaction: Reaction },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
    #[serde(default)]
    pub preview_url: bool,
}

/// Media by uploaded id or by link (exactly one), with a caption and a file name where allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Media {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl Media {
    pub fn id(id: impl Into<String>) -> Self {
        Media {
            id: Some(id.into()),
            ..Default::default()
        }
    }

    pub fn link(link: impl Into<String>) -> Self {
        Media {
            link: Some(link.into()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    /// Empty removes the reaction.
    pub emoji: String,
}

// ---- interactive ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interactive {
    Button {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<InteractiveHeader>,
        body: TextObject,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<TextObject>,
        action: ButtonAction,
    },
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<InteractiveHeader>,
        body: TextObject,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<TextObject>,
        action: ListAction,
    },
    /// A message with one button that opens a web page.
    CtaUrl {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<InteractiveHeader>,
        body: TextObject,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<TextObject>,
        action: CtaUrlAction,
    },
    /// Asks a customer who writes by username to share their phone number: the answer is a
    /// `contacts` message whose card's origin is `contact_request`.
    RequestContactInfo {
        body: TextObject,
        action: NamedAction,
    },
}

/// `{"name": "cta_url", "parameters": {"display_text", "url"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtaUrlAction {
    pub name: String,
    pub parameters: CtaUrlParameters,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtaUrlParameters {
    pub display_text: String,
    pub url: String,
}

/// An action that is only its name (`request_contact_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedAction {
    pub name: String,
}

impl Interactive {
    pub fn cta_url(
        body: impl Into<String>,
        display_text: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Interactive::CtaUrl {
            header: None,
            body: TextObject { text: body.into() },
            footer: None,
            action: CtaUrlAction {
                name: "cta_url".into(),
                parameters: CtaUrlParameters {
                    display_text: display_text.into(),
                    url: url.into(),
                },
            },
        }
    }

    pub fn request_contact_info(body: impl Into<String>) -> Self {
        Interactive::RequestContactInfo {
            body: TextObject { text: body.into() },
            action: NamedAction {
                name: "request_contact_info".into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextObject {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveHeader {
    Text { text: String },
    Image { image: Media },
    Video { video: Media },
    Document { document: Media },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonAction {
    pub buttons: Vec<ReplyButton>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    #[serde(rename = "type")]
    pub kind: ReplyKind,
    pub reply: Reply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Reply,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub id: String,
    pub title: String,
}

impl ReplyButton {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        ReplyButton {
            kind: ReplyKind::Reply,
            reply: Reply {
                id: id.into(),
                title: title.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAction {
    pub button: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ---- templates --------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Language {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The parameters of one part of a template: its header, its body, or one of its buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: ComponentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// The button's position, as a string ("0"), for button components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    Header,
    Body,
    Button,
}

/// A template parameter. `parameter_name` is set for NAMED templates and absent for POSITIONAL
/// ones (where order decides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_name: Option<String>,
    #[serde(flatten)]
    pub value: ParameterValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParameterValue {
    Text { text: String },
    Currency { currency: Currency },
    DateTime { date_time: DateTime },
    Image { image: Media },
    Video { video: Media },
    Document { document: Media },
    Location { location: Location },
    Payload { payload: String },
    CouponCode { coupon_code: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    pub fallback_value: String,
    pub code: String,
    pub amount_1000: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTime {
    pub fallback_value: String,
}

impl Parameter {
    pub fn text(text: impl Into<String>) -> Self {
        Parameter {
            parameter_name: None,
            value: ParameterValue::Text { text: text.into() },
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.parameter_name = Some(name.into());
        self
    }
}

// ---- limits -----------------------------------------------------------------------------------

/// Meta's limits on what a message may carry.
pub mod limits {
    pub const TEXT_BODY: usize = 4096;
    pub const CAPTION: usize = 1024;
    pub const REPLY_BUTTONS: usize = 3;
    pub const BUTTON_TITLE: usize = 20;
    pub const BUTTON_ID: usize = 256;
    pub const LIST_BUTTON: usize = 20;
    pub const LIST_SECTIONS: usize = 10;
    pub const LIST_ROWS: usize = 10;
    pub const SECTION_TITLE: usize = 24;
    pub const ROW_ID: usize = 200;
    pub const ROW_TITLE: usize = 24;
    pub const ROW_DESCRIPTION: usize = 72;
    pub const HEADER_TEXT: usize = 60;
}

/// A message that breaks one of Meta's limits, named precisely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    pub field: String,
    pub problem: String,
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    let n = value.chars().count();
    if n > max {
        return Err(Invalid {
            field: field.into(),
            problem: format!("is {n} characters long; Meta allows at most {max}"),
        });
    }
    Ok(())
}

fn check_nonempty(field: &str, value: &str) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(Invalid {
            field: field.into(),
            problem: "is empty".into(),
        });
    }
    Ok(())
}

fn check_media(field: &str, m: &Media, caption_allowed: bool) -> Result<(), Invalid> {
    match (&m.id, &m.link) {
        (Some(_), Some(_)) => {
            return Err(Invalid {
                field: field.into(),
                problem: "has both an id and a link; give exactly one".into(),
            });
        }
        (None, None) => {
            return Err(Invalid {
                field: field.into(),
                problem: "needs an uploaded media id or a link".into(),
            });
        }
        _ => {}
    }
    if let Some(c) = &m.caption {
        if !caption_allowed {
            return Err(Invalid {
                field: format!("{field}.caption"),
                problem: "is not allowed for this media type".into(),
            });
        }
        check_len(&format!("{field}.caption"), c, limits::CAPTION)?;
    }
    Ok(())
}

impl Outbound {
    /// Checks Meta's limits before sending, so a bad message is refused with a precise reason
    /// instead of a round trip.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_nonempty("to", &self.to)?;
        match &self.body {
            Body::Text { text } => {
                check_nonempty("text.body", &text.body)?;
                check_len("text.body", &text.body, limits::TEXT_BODY)
            }
            Body::Image { image } => check_media("image", image, true),
            Body::Video { video } => check_media("video", video, true),
            Body::Document { document } => check_media("document", document, true),
            Body::Audio { audio } => check_media("audio", audio, false),
            Body::Sticker { sticker } => check_media("sticker", sticker, false),
            Body::Location { location } => {
                if !(-90.0..=90.0).contains(&location.latitude)
                    || !(-180.0..=180.0).contains(&location.longitude)
                {
                    return Err(Invalid {
                        field: "location".into(),
                        problem: "latitude must be within ±90 and longitude within ±180".into(),
                    });
                }
                Ok(())
            }
            Body::Contacts { contacts } => {
                if contacts.is_empty() {
                    return Err(Invalid {
                        field: "contacts".into(),
                        problem: "needs at least one contact card".into(),
                    });
                }
                Ok(())
            }
            Body::Interactive { interactive } => validate_interactive(interactive),
            Body::Template { template } => {
                check_nonempty("template.name", &template.name)?;
                check_nonempty("template.language.code", &template.language.code)
            }
            Body::Reaction { reaction } => {
                check_nonempty("reaction.message_id", &reaction.message_id)
            }
        }
    }
}

fn validate_header(h: &Option<InteractiveHeader>) -> Result<(), Invalid> {
    match h {
        Some(InteractiveHeader::Text { text }) => {
            check_len("interactive.header.text", text, limits::HEADER_TEXT)
        }
        Some(InteractiveHeader::Image { image }) => {
            check_media("interactive.header.image", image, false)
        }
        Some(InteractiveHeader::Video { video }) => {
            check_media("interactive.header.video", video, false)
        }
        Some(InteractiveHeader::Document { document }) => {
            check_media("interactive.header.document", document, false)
        }
        None => Ok(()),
    }
}

fn validate_interactive(i: &Interactive) -> Result<(), Invalid> {
    match i {
        Interactive::Button {
            header,
            body,
            action,
            ..
        } => {
            validate_header(header)?;
            check_nonempty("interactive.body.text", &body.text)?;
            let n = action.buttons.len();
            if !(1..=limits::REPLY_BUTTONS).contains(&n) {
                return Err(Invalid {
                    field: "interactive.action.buttons".into(),
                    problem: format!(
                        "has {n} buttons; Meta allows 1 to {}",
                        limits::REPLY_BUTTONS
                    ),
                });
            }
            for (k, b) in action.buttons.iter().enumerate() {
                check_nonempty(&format!("button {} title", k + 1), &b.reply.title)?;
                check_len(
                    &format!("button {} title", k + 1),
                    &b.reply.title,
                    limits::BUTTON_TITLE,
                )?;
                check_len(
                    &format!("button {} id", k + 1),
                    &b.reply.id,
                    limits::BUTTON_ID,
                )?;
            }
            Ok(())
        }
        Interactive::List {
            header,
            body,
            action,
            ..
        } => {
            validate_header(header)?;
            check_nonempty("interactive.body.text", &body.text)?;
            check_len(
                "interactive.action.button",
                &action.button,
                limits::LIST_BUTTON,
            )?;
            let n = action.sections.len();
            if !(1..=limits::LIST_SECTIONS).contains(&n) {
                return Err(Invalid {
                    field: "interactive.action.sections".into(),
                    problem: format!(
                        "has {n} sections; Meta allows 1 to {}",
                        limits::LIST_SECTIONS
                    ),
                });
            }
            for (s, section) in action.sections.iter().enumerate() {
                if let Some(t) = &section.title {
                    check_len(
                        &format!("section {} title", s + 1),
                        t,
                        limits::SECTION_TITLE,
                    )?;
                }
                let rows = section.rows.len();
                if !(1..=limits::LIST_ROWS).contains(&rows) {
                    return Err(Invalid {
                        field: format!("section {} rows", s + 1),
                        problem: format!("has {rows} rows; Meta allows 1 to {}", limits::LIST_ROWS),
                    });
                }
                for (r, row) in section.rows.iter().enumerate() {
                    let f = format!("section {} row {}", s + 1, r + 1);
                    check_len(&format!("{f} id"), &row.id, limits::ROW_ID)?;
                    check_len(&format!("{f} title"), &row.title, limits::ROW_TITLE)?;
                    if let Some(d) = &row.description {
                        check_len(&format!("{f} description"), d, limits::ROW_DESCRIPTION)?;
                    }
                }
            }
            Ok(())
        }
        Interactive::CtaUrl {
            header,
            body,
            action,
            ..
        } => {
            validate_header(header)?;
            check_nonempty("interactive.body.text", &body.text)?;
            let p = &action.parameters;
            check_nonempty(
                "interactive.action.parameters.display_text",
                &p.display_text,
            )?;
            check_len(
                "interactive.action.parameters.display_text",
                &p.display_text,
                limits::BUTTON_TITLE,
            )?;
            if !(p.url.starts_with("https://") || p.url.starts_with("http://")) {
                return Err(Invalid {
                    field: "interactive.action.parameters.url".into(),
                    problem: "is not an http(s) address".into(),
                });
            }
            Ok(())
        }
        Interactive::RequestContactInfo { body, .. } => {
            check_nonempty("interactive.body.text", &body.text)
        }
    }
}

/// Meta's answer to a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    pub messages: Vec<SentMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentContact {
    pub input: String,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub id: String,
    /// accepted | held_for_quality_assessment | paused
    #[serde(default)]
    pub message_status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(o: &Outbound) -> serde_json::Value {
        serde_json::to_value(o).unwrap()
    }

    #[test]
    fn text_with_preview_and_reply_to_serialises_like_meta() {
        let o = Outbound {
            to: "+16505551234".into(),
            body: Body::Text {
                text: Text {
                    body: "See https://example.com".into(),
                    preview_url: true,
                },
            },
            context: Some(Context {
                message_id: "wamid.QUOTED".into(),
            }),
            biz_opaque_callback_data: None,
        };
        assert_eq!(
            envelope(&o),
            json!({"to":"+16505551234","type":"text","text":{"body":"See https://example.com","preview_url":true},
                   "context":{"message_id":"wamid.QUOTED"}})
        );
    }

    #[test]
    fn named_and_positional_template_parameters() {
        let o = Outbound {
            to: "16505551234".into(),
            body: Body::Template {
                template: Template {
                    name: "invoice_ready".into(),
                    language: Language {
                        code: "en_US".into(),
                        policy: None,
                    },
                    components: vec![
                        Component {
                            kind: ComponentKind::Header,
                            sub_type: None,
                            index: None,
                            parameters: vec![Parameter {
                                parameter_name: None,
                                value: ParameterValue::Document {
                                    document: Media {
                                        id: Some("123".into()),
                                        filename: Some("INV-1.pdf".into()),
                                        ..Default::default()
                                    },
                                },
                            }],
                        },
                        Component {
                            kind: ComponentKind::Body,
                            sub_type: None,
                            index: None,
                            parameters: vec![
                                Parameter::text("Jessica").named("customer_name"),
                                Parameter {
                                    parameter_name: Some("total".into()),
                                    value: ParameterValue::Currency {
                                        currency: Currency {
                                            fallback_value: "$100.99".into(),
                                            code: "USD".into(),
                                            amount_1000: 100990,
                                        },
                                    },
                                },
                            ],
                        },
                        Component {
                            kind: ComponentKind::Button,
                            sub_type: Some("quick_reply".into()),
                            index: Some("0".into()),
                            parameters: vec![Parameter {
                                parameter_name: None,
                                value: ParameterValue::Payload {
                                    payload: "PAID".into(),
                                },
                            }],
                        },
                    ],
                },
            },
            context: None,
            biz_opaque_callback_data: None,
        };
        let v = envelope(&o);
        assert_eq!(v["type"], "template");
        let comps = &v["template"]["components"];
        assert_eq!(
            comps[0]["parameters"][0],
            json!({"type":"document","document":{"id":"123","filename":"INV-1.pdf"}})
        );
        assert_eq!(
            comps[1]["parameters"][0],
            json!({"type":"text","parameter_name":"customer_name","text":"Jessica"})
        );
        assert_eq!(comps[1]["parameters"][1]["currency"]["amount_1000"], 100990);
        assert_eq!(
            comps[2],
            json!({"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"PAID"}]})
        );
        // And back: what we send parses as what we meant.
        let again: Outbound = serde_json::from_value(v).unwrap();
        assert_eq!(again, o);
    }

    #[test]
    fn limits_are_checked_with_precise_messages() {
        let mut o = Outbound {
            to: "1".into(),
            body: Body::Text {
                text: Text {
                    body: "x".repeat(4097),
                    preview_url: false,
                },
            },
            context: None,
            biz_opaque_callback_data: None,
        };
        assert_eq!(
            o.validate().unwrap_err().to_string(),
            "text.body: is 4097 characters long; Meta allows at most 4096"
        );
        o.body = Body::Interactive {
            interactive: Interactive::Button {
                header: None,
                body: TextObject {
                    text: "Pick".into(),
                },
                footer: None,
                action: ButtonAction {
                    buttons: (0..4)
                        .map(|i| ReplyButton::new(format!("b{i}"), "ok"))
                        .collect(),
                },
            },
        };
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("has 4 buttons")
        );
        o.body = Body::Sticker {
            sticker: Media {
                id: Some("1".into()),
                caption: Some("no".into()),
                ..Default::default()
            },
        };
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("not allowed")
        );
        o.body = Body::Image {
            image: Media::default(),
        };
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("needs an uploaded media id or a link")
        );
    }
}
