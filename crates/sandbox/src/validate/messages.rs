//! The `/{phone-number-id}/messages` payload: the common envelope, every message type, and
//! mark-as-read. Structural rules only; matching a template send against the stored template
//! is [`super::templates::check_send`], and the 24-hour window and rate limits are the handler's.
//!
//! Codes: envelope problems (no JSON object, `messaging_product`, `to`, `type`) are 100, as the
//! Graph API answers them; a missing field inside the message is 131008; a value Meta would
//! not take (too long, too many buttons, a bad URL) is 131009.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    Checked, Problem, get, is_http_url, join, max_chars, number, obj, opt_array, opt_bool, opt_obj,
    opt_str, req, req_array, req_obj, req_str, scalar_text,
};
use crate::error::Refusal;
use crate::store::{Recipient, ReplyHint};

/// Message types `/messages` takes, in the order used to infer a missing `type`.
pub const TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
];

/// Media message types and whether they take a caption.
const MEDIA: &[(&str, bool)] = &[
    ("image", true),
    ("video", true),
    ("document", true),
    ("audio", false),
    ("sticker", false),
];

pub const TEXT_BODY_MAX: usize = 4096;
pub const CAPTION_MAX: usize = 1024;

/// What a valid `/messages` request asks for.
#[derive(Debug)]
pub enum SendRequest {
    MarkRead {
        message_id: String,
        typing_indicator: bool,
    },
    Message(Box<Outgoing>),
}

#[derive(Debug)]
pub struct Outgoing {
    /// `to` as given (echoed as `contacts[].input`).
    pub to_input: String,
    pub recipient: Recipient,
    pub kind: String,
    pub template: Option<TemplateCall>,
    /// Media sent by id or link: the message's own media, or an interactive header's.
    pub media: Option<MediaRef>,
    pub context_message_id: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    pub reply_hint: ReplyHint,
    /// A user id put in `to`: Meta accepts the call and silently never delivers it (user ids go
    /// in `recipient`).
    pub dropped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub kind: String,
    pub source: MediaSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    Id(String),
    Link(String),
}

#[derive(Debug, Clone)]
pub struct TemplateCall {
    pub name: String,
    pub language: String,
    pub components: Vec<ComponentCall>,
}

#[derive(Debug, Clone)]
pub struct ComponentCall {
    pub part: Part,
    pub params: Vec<ParamCall>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Header,
    Body,
    Button { sub_type: String, index: usize },
}

#[derive(Debug, Clone)]
pub struct ParamCall {
    /// `text`, `currency`, `date_time`, `image`, `payload`, …
    pub kind: String,
    pub name: Option<String>,
    /// What the parameter shows: its text, a fallback value, a payload or a code.
    pub shown: Option<String>,
}

/// Parses and checks a `/messages` body.
pub fn parse_send(body: &Value) -> Result<SendRequest, Refusal> {
    let m = body
        .as_object()
        .ok_or_else(|| Refusal::param("the request body must be a JSON object"))?;
    match get(m, "messaging_product") {
        None => return Err(Refusal::param_required("messaging_product")),
        Some(v) if v.as_str() != Some("whatsapp") => {
            return Err(Refusal::param(format!(
                "messaging_product must be \"whatsapp\", got {v}"
            )));
        }
        Some(_) => {}
    }
    if let Some(status) = get(m, "status") {
        return parse_mark_read(m, status);
    }
    match opt_str(m, "recipient_type", "")? {
        None | Some("individual") => {}
        Some("group") => {
            return Err(Refusal::invalid(
                "recipient_type \"group\": group messaging is not simulated by the sandbox",
            ));
        }
        Some(other) => {
            return Err(Refusal::param(format!(
                "recipient_type must be \"individual\" or \"group\", got {other:?}"
            )));
        }
    }
    // `to` takes a phone number, `recipient` a business-scoped user id; `to` wins when both are
    // given, and a user id in `to` is accepted but never delivered, as Meta does.
    let field = |name: &str| -> Result<Option<&str>, Refusal> {
        get(m, name)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| Refusal::param(format!("{name} must be a string")))
            })
            .transpose()
    };
    let (to, recipient, dropped) = match (field("to")?, field("recipient")?) {
        (Some(to), _) => {
            let r = parse_recipient(to)?;
            let dropped = r.wa_id.is_none();
            (to, r, dropped)
        }
        (None, Some(id)) => {
            let r = parse_recipient(id)?;
            if r.wa_id.is_some() {
                return Err(Refusal::param(format!(
                    "recipient: {id:?} is a phone number; recipient takes a business-scoped user id (put phone numbers in to)"
                )));
            }
            (id, r, false)
        }
        (None, None) => return Err(Refusal::param_required("to")),
    };
    let kind = match get(m, "type") {
        Some(v) => v
            .as_str()
            .ok_or_else(|| Refusal::param("type must be a string"))?
            .to_ascii_lowercase(),
        // Meta defaults to text; the OAS examples also leave `type` out of an interactive
        // reply, so infer it from the message key present.
        None => TYPES
            .iter()
            .find(|t| get(m, t).is_some())
            .unwrap_or(&"text")
            .to_string(),
    };
    if !TYPES.contains(&kind.as_str()) {
        return Err(Refusal::param(format!(
            "Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, \
             REACTION, STICKER, TEMPLATE, TEXT, VIDEO}} - got \"{kind}\""
        )));
    }
    let content = req(m, &kind, "")?;
    let mut out = Outgoing {
        to_input: to.to_owned(),
        recipient,
        kind: kind.clone(),
        template: None,
        media: None,
        context_message_id: None,
        biz_opaque_callback_data: None,
        reply_hint: ReplyHint::Text,
        dropped,
    };
    match kind.as_str() {
        "text" => text(obj(content, "text")?)?,
        "location" => {
            location(obj(content, "location")?, "location")?;
        }
        "contacts" => contacts(content)?,
        "reaction" => {
            reaction(obj(content, "reaction")?)?;
            out.reply_hint = ReplyHint::Nothing;
        }
        "interactive" => {
            let (hint, media) = interactive(obj(content, "interactive")?)?;
            out.reply_hint = hint;
            out.media = media;
        }
        "template" => out.template = Some(template(obj(content, "template")?)?),
        media_kind => {
            let source = media(content, media_kind, media_kind)?;
            out.media = Some(MediaRef {
                kind: media_kind.to_owned(),
                source,
            });
        }
    }
    if let Some(ctx) = opt_obj(m, "context", "")? {
        out.context_message_id = Some(req_str(ctx, "message_id", "context")?.to_owned());
    }
    if let Some(data) = opt_str(m, "biz_opaque_callback_data", "")? {
        max_chars(data, 512, "biz_opaque_callback_data")?;
        out.biz_opaque_callback_data = Some(data.to_owned());
    }
    Ok(SendRequest::Message(Box::new(out)))
}

fn parse_mark_read(m: &Map<String, Value>, status: &Value) -> Result<SendRequest, Refusal> {
    if status.as_str() != Some("read") {
        return Err(Refusal::param(format!(
            "status must be \"read\" to mark a message as read, got {status}"
        )));
    }
    let message_id = match get(m, "message_id").and_then(Value::as_str) {
        Some(id) if !id.trim().is_empty() => id.to_owned(),
        _ => return Err(Refusal::param_required("message_id")),
    };
    let typing_indicator = match opt_obj(m, "typing_indicator", "")? {
        None => false,
        Some(t) => match req_str(t, "type", "typing_indicator")? {
            "text" => true,
            other => {
                return Err(Refusal::invalid(format!(
                    "typing_indicator.type must be \"text\", got {other:?}"
                )));
            }
        },
    };
    Ok(SendRequest::MarkRead {
        message_id,
        typing_indicator,
    })
}

/// A phone number in any common formatting (7–15 digits), or a business-scoped user id
/// (`US.1349…`, a parent one `US.ENT.1181…`) for username-only users.
pub fn parse_recipient(to: &str) -> Result<Recipient, Refusal> {
    let t = to.trim();
    if crmconnect_meta::messages::is_user_id(t) {
        return Ok(Recipient {
            wa_id: None,
            user_id: Some(t.to_owned()),
        });
    }
    let well_formed = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if well_formed && (7..=15).contains(&digits.len()) {
        Ok(Recipient {
            wa_id: Some(digits),
            user_id: None,
        })
    } else {
        Err(Refusal::param(format!(
            "to: {to:?} is not a valid WhatsApp phone number or user id"
        )))
    }
}

fn text(m: &Map<String, Value>) -> Checked<()> {
    let body = req_str(m, "body", "text")?;
    max_chars(body, TEXT_BODY_MAX, "text.body")?;
    opt_bool(m, "preview_url", "text")?;
    Ok(())
}

/// A media object (`{id}` or `{link}`, with caption and filename where they apply).
fn media(v: &Value, kind: &str, path: &str) -> Checked<MediaSource> {
    let m = obj(v, path)?;
    let id = opt_str(m, "id", path)?.filter(|s| !s.trim().is_empty());
    let link = opt_str(m, "link", path)?.filter(|s| !s.trim().is_empty());
    let source = match (id, link) {
        (Some(_), Some(_)) => {
            return Err(Problem::Invalid(format!(
                "{path}: pass either id or link, not both"
            )));
        }
        (None, None) => return Err(Problem::Missing(format!("{path}.id or {path}.link"))),
        (Some(id), None) => MediaSource::Id(id.to_owned()),
        (None, Some(link)) => {
            if !is_http_url(link) {
                return Err(Problem::Invalid(format!(
                    "{path}.link {link:?} is not a valid http(s) URL"
                )));
            }
            MediaSource::Link(link.to_owned())
        }
    };
    if let Some(caption) = opt_str(m, "caption", path)? {
        let allowed = MEDIA.iter().any(|(k, c)| *k == kind && *c);
        if !allowed {
            return Err(Problem::Invalid(format!(
                "{path}.caption: {kind} messages do not take a caption"
            )));
        }
        max_chars(caption, CAPTION_MAX, &join(path, "caption"))?;
    }
    if let Some(filename) = opt_str(m, "filename", path)? {
        max_chars(filename, 240, &join(path, "filename"))?;
    }
    Ok(source)
}

fn location(m: &Map<String, Value>, path: &str) -> Checked<()> {
    let lat = number(m, "latitude", path)?;
    let lon = number(m, "longitude", path)?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err(Problem::Invalid(format!(
            "{path}.latitude {lat} is outside -90..90"
        )));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(Problem::Invalid(format!(
            "{path}.longitude {lon} is outside -180..180"
        )));
    }
    opt_str(m, "name", path)?;
    opt_str(m, "address", path)?;
    Ok(())
}

fn contacts(v: &Value) -> Checked<()> {
    let list = v
        .as_array()
        .ok_or_else(|| Problem::Invalid("contacts must be an array of contact cards".into()))?;
    if list.is_empty() {
        return Err(Problem::Invalid(
            "contacts must hold at least one contact".into(),
        ));
    }
    for (i, c) in list.iter().enumerate() {
        let path = format!("contacts[{i}]");
        let card = obj(c, &path)?;
        let name = req_obj(card, "name", &path)?;
        req_str(name, "formatted_name", &join(&path, "name"))?;
        for key in ["phones", "emails", "urls", "addresses"] {
            if let Some(items) = opt_array(card, key, &path)? {
                for (j, item) in items.iter().enumerate() {
                    obj(item, &format!("{path}.{key}[{j}]"))?;
                }
            }
        }
        opt_obj(card, "org", &path)?;
        opt_str(card, "birthday", &path)?;
    }
    Ok(())
}

fn reaction(m: &Map<String, Value>) -> Checked<()> {
    req_str(m, "message_id", "reaction")?;
    let emoji = match m.get("emoji") {
        None => return Err(Problem::Missing("reaction.emoji".into())),
        Some(Value::Null) => "",
        Some(v) => v
            .as_str()
            .ok_or_else(|| Problem::Invalid("reaction.emoji must be a string".into()))?,
    };
    // An empty emoji removes the reaction.
    if !emoji.is_empty()
        && (emoji.chars().any(|c| c.is_ascii_alphanumeric()) || emoji.chars().count() > 10)
    {
        return Err(Problem::Invalid(format!(
            "reaction.emoji {emoji:?} is not a single emoji"
        )));
    }
    Ok(())
}

const INTERACTIVE_TYPES: &[&str] = &[
    "button",
    "list",
    "cta_url",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "location_request_message",
    "order_details",
    "order_status",
    "call_permission_request",
    "voice_call",
    "request_contact_info",
];

fn interactive(m: &Map<String, Value>) -> Checked<(ReplyHint, Option<MediaRef>)> {
    let p = "interactive";
    let kind = req_str(m, "type", p)?;
    if !INTERACTIVE_TYPES.contains(&kind) {
        return Err(Problem::Invalid(format!(
            "interactive.type {kind:?} is not one of {}",
            INTERACTIVE_TYPES.join(", ")
        )));
    }
    let mut header_media = None;
    if let Some(h) = opt_obj(m, "header", p)? {
        let hp = "interactive.header";
        match req_str(h, "type", hp)? {
            "text" => max_chars(req_str(h, "text", hp)?, 60, "interactive.header.text")?,
            t @ ("image" | "video" | "document") => {
                let source = media(req(h, t, hp)?, t, &join(hp, t))?;
                header_media = Some(MediaRef {
                    kind: t.to_owned(),
                    source,
                });
            }
            other => {
                return Err(Problem::Invalid(format!(
                    "interactive.header.type {other:?} must be text, image, video or document"
                )));
            }
        }
    }
    let body = opt_obj(m, "body", p)?;
    if let Some(b) = body {
        max_chars(
            req_str(b, "text", "interactive.body")?,
            1024,
            "interactive.body.text",
        )?;
    }
    if let Some(f) = opt_obj(m, "footer", p)? {
        max_chars(
            req_str(f, "text", "interactive.footer")?,
            60,
            "interactive.footer.text",
        )?;
    }
    let action = req_obj(m, "action", p)?;
    let ap = "interactive.action";
    let needs_body = matches!(
        kind,
        "button"
            | "list"
            | "cta_url"
            | "flow"
            | "catalog_message"
            | "location_request_message"
            | "product_list"
            | "request_contact_info"
    );
    if needs_body && body.is_none() {
        return Err(Problem::Missing("interactive.body".into()));
    }
    let hint = match kind {
        "button" => {
            let buttons = req_array(action, "buttons", ap)?;
            if !(1..=3).contains(&buttons.len()) {
                return Err(Problem::Invalid(format!(
                    "interactive.action.buttons has {} buttons; 1 to 3 are allowed",
                    buttons.len()
                )));
            }
            let mut ids = HashSet::new();
            let mut first = None;
            for (i, b) in buttons.iter().enumerate() {
                let bp = format!("interactive.action.buttons[{i}]");
                let b = obj(b, &bp)?;
                let t = req_str(b, "type", &bp)?;
                if t != "reply" {
                    return Err(Problem::Invalid(format!(
                        "{bp}.type must be \"reply\", got {t:?}"
                    )));
                }
                let rp = join(&bp, "reply");
                let reply = req_obj(b, "reply", &bp)?;
                let id = req_str(reply, "id", &rp)?;
                max_chars(id, 256, &join(&rp, "id"))?;
                let title = req_str(reply, "title", &rp)?;
                max_chars(title, 20, &join(&rp, "title"))?;
                if !ids.insert(id) {
                    return Err(Problem::Invalid(format!(
                        "{rp}.id {id:?} is used by two buttons; button ids must be unique"
                    )));
                }
                first.get_or_insert((id.to_owned(), title.to_owned()));
            }
            first
                .map(|(id, title)| ReplyHint::Button { id, title })
                .unwrap_or_default()
        }
        "list" => {
            max_chars(
                req_str(action, "button", ap)?,
                20,
                "interactive.action.button",
            )?;
            let sections = req_array(action, "sections", ap)?;
            if !(1..=10).contains(&sections.len()) {
                return Err(Problem::Invalid(format!(
                    "interactive.action.sections has {} sections; 1 to 10 are allowed",
                    sections.len()
                )));
            }
            let mut ids = HashSet::new();
            let mut total = 0;
            let mut first = None;
            for (i, s) in sections.iter().enumerate() {
                let sp = format!("interactive.action.sections[{i}]");
                let s = obj(s, &sp)?;
                match opt_str(s, "title", &sp)? {
                    Some(t) => max_chars(t, 24, &join(&sp, "title"))?,
                    None if sections.len() > 1 => {
                        return Err(Problem::Missing(join(&sp, "title")));
                    }
                    None => {}
                }
                let rows = req_array(s, "rows", &sp)?;
                if !(1..=10).contains(&rows.len()) {
                    return Err(Problem::Invalid(format!(
                        "{sp}.rows has {} rows; 1 to 10 are allowed",
                        rows.len()
                    )));
                }
                total += rows.len();
                for (j, r) in rows.iter().enumerate() {
                    let rp = format!("{sp}.rows[{j}]");
                    let r = obj(r, &rp)?;
                    let id = req_str(r, "id", &rp)?;
                    max_chars(id, 200, &join(&rp, "id"))?;
                    let title = req_str(r, "title", &rp)?;
                    max_chars(title, 24, &join(&rp, "title"))?;
                    let description = opt_str(r, "description", &rp)?;
                    if let Some(d) = description {
                        max_chars(d, 72, &join(&rp, "description"))?;
                    }
                    if !ids.insert(id) {
                        return Err(Problem::Invalid(format!(
                            "{rp}.id {id:?} is used by two rows; row ids must be unique"
                        )));
                    }
                    first.get_or_insert((
                        id.to_owned(),
                        title.to_owned(),
                        description.map(str::to_owned),
                    ));
                }
            }
            // Meta counts rows across sections: "Total row count exceed max allowed count: 10".
            if total > 10 {
                return Err(Problem::Invalid(format!(
                    "interactive.action.sections hold {total} rows in total; at most 10 are allowed"
                )));
            }
            first
                .map(|(id, title, description)| ReplyHint::ListRow {
                    id,
                    title,
                    description,
                })
                .unwrap_or_default()
        }
        "cta_url" => {
            let params = req_obj(action, "parameters", ap)?;
            let pp = "interactive.action.parameters";
            max_chars(
                req_str(params, "display_text", pp)?,
                20,
                "interactive.action.parameters.display_text",
            )?;
            let url = req_str(params, "url", pp)?;
            if !is_http_url(url) {
                return Err(Problem::Invalid(format!(
                    "interactive.action.parameters.url {url:?} is not a valid http(s) URL"
                )));
            }
            ReplyHint::Text
        }
        "flow" => {
            req_obj(action, "parameters", ap)?;
            ReplyHint::Text
        }
        "product" => {
            req_str(action, "catalog_id", ap)?;
            req_str(action, "product_retailer_id", ap)?;
            ReplyHint::Text
        }
        "product_list" => {
            req_str(action, "catalog_id", ap)?;
            let sections = req_array(action, "sections", ap)?;
            if !(1..=10).contains(&sections.len()) {
                return Err(Problem::Invalid(format!(
                    "interactive.action.sections has {} sections; 1 to 10 are allowed",
                    sections.len()
                )));
            }
            ReplyHint::Text
        }
        _ => ReplyHint::Text,
    };
    Ok((hint, header_media))
}

const PARAM_TYPES: &[&str] = &[
    "text",
    "currency",
    "date_time",
    "image",
    "video",
    "document",
    "location",
    "payload",
    "coupon_code",
    "action",
    "product",
];

fn template(m: &Map<String, Value>) -> Checked<TemplateCall> {
    let p = "template";
    let name = req_str(m, "name", p)?;
    let language = req_obj(m, "language", p)?;
    let code = req_str(language, "code", "template.language")?;
    if let Some(policy) = opt_str(language, "policy", "template.language")?
        && policy != "deterministic"
    {
        return Err(Problem::Invalid(format!(
            "template.language.policy must be \"deterministic\", got {policy:?}"
        )));
    }
    let mut components = Vec::new();
    for (i, c) in opt_array(m, "components", p)?
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let cp = format!("template.components[{i}]");
        let c = obj(c, &cp)?;
        let part = match req_str(c, "type", &cp)?.to_ascii_lowercase().as_str() {
            "header" => Part::Header,
            "body" => Part::Body,
            "button" => {
                let sub_type = req_str(c, "sub_type", &cp)?.to_ascii_lowercase();
                let index = req(c, "index", &cp)?;
                let index = index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|s| s.trim().parse().ok()))
                    .filter(|i| *i < 10)
                    .ok_or_else(|| {
                        Problem::Invalid(format!(
                            "{cp}.index must be a button position 0 to 9, got {index}"
                        ))
                    })? as usize;
                Part::Button { sub_type, index }
            }
            other => {
                return Err(Problem::Invalid(format!(
                    "{cp}.type {other:?} must be header, body or button"
                )));
            }
        };
        let mut params = Vec::new();
        for (j, prm) in opt_array(c, "parameters", &cp)?
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            params.push(param(prm, &format!("{cp}.parameters[{j}]"))?);
        }
        components.push(ComponentCall { part, params });
    }
    Ok(TemplateCall {
        name: name.to_owned(),
        language: code.to_owned(),
        components,
    })
}

fn param(v: &Value, path: &str) -> Checked<ParamCall> {
    let m = obj(v, path)?;
    let kind = req_str(m, "type", path)?.to_ascii_lowercase();
    if !PARAM_TYPES.contains(&kind.as_str()) {
        return Err(Problem::Invalid(format!(
            "{path}.type {kind:?} is not a template parameter type ({})",
            PARAM_TYPES.join(", ")
        )));
    }
    let name = opt_str(m, "parameter_name", path)?.map(str::to_owned);
    let shown = match kind.as_str() {
        "text" => {
            let t = scalar_text(req(m, "text", path)?)
                .ok_or_else(|| Problem::Invalid(format!("{path}.text must be a string")))?;
            max_chars(&t, 32768, &join(path, "text"))?;
            Some(t)
        }
        "currency" => {
            let cp = join(path, "currency");
            let c = req_obj(m, "currency", path)?;
            let fallback = req_str(c, "fallback_value", &cp)?;
            let code = req_str(c, "code", &cp)?;
            if code.len() != 3 || !code.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(Problem::Invalid(format!(
                    "{cp}.code {code:?} is not an ISO 4217 currency code"
                )));
            }
            let amount = req(c, "amount_1000", &cp)?;
            if amount.as_i64().is_none() {
                return Err(Problem::Invalid(format!(
                    "{cp}.amount_1000 must be an integer (the amount times 1000)"
                )));
            }
            Some(fallback.to_owned())
        }
        "date_time" => {
            let d = req_obj(m, "date_time", path)?;
            Some(req_str(d, "fallback_value", &join(path, "date_time"))?.to_owned())
        }
        t @ ("image" | "video" | "document") => {
            media(
                req(m, t, path)?,
                if t == "document" { "document" } else { t },
                &join(path, t),
            )?;
            None
        }
        "location" => {
            location(req_obj(m, "location", path)?, &join(path, "location"))?;
            None
        }
        "payload" => Some(
            scalar_text(req(m, "payload", path)?)
                .ok_or_else(|| Problem::Invalid(format!("{path}.payload must be a string")))?,
        ),
        "coupon_code" => {
            let code = req_str(m, "coupon_code", path)?;
            max_chars(code, 15, &join(path, "coupon_code"))?;
            Some(code.to_owned())
        }
        "action" => {
            req_obj(m, "action", path)?;
            None
        }
        _ => {
            req_obj(m, "product", path)?;
            None
        }
    };
    Ok(ParamCall { kind, name, shown })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn send(v: Value) -> Result<Outgoing, Refusal> {
        match parse_send(&v)? {
            SendRequest::Message(m) => Ok(*m),
            SendRequest::MarkRead { .. } => panic!("not a message"),
        }
    }

    fn code(v: Value) -> (i64, String) {
        let e = send(v).expect_err("refused");
        (e.code(), e.error.message)
    }

    fn base(extra: Value) -> Value {
        let mut v = json!({"messaging_product":"whatsapp","to":"+1 555-555-0111"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    }

    #[test]
    fn text_defaults_and_limits() {
        let ok = send(base(json!({"text":{"body":"Please visit https://youtu.be/hpltvTEiRrY.","preview_url":true}}))).unwrap();
        assert_eq!(ok.kind, "text");
        assert_eq!(ok.recipient.wa_id.as_deref(), Some("15555550111"));
        assert_eq!(ok.to_input, "+1 555-555-0111");
        let long = "x".repeat(TEXT_BODY_MAX + 1);
        let (c, msg) = code(base(json!({"type":"text","text":{"body":long}})));
        assert_eq!(c, 131009);
        assert!(msg.contains("text.body is 4097 characters"), "{msg}");
        assert_eq!(code(base(json!({"type":"text","text":{}}))).0, 131008);
        assert_eq!(code(base(json!({"type":"text"}))).0, 131008);
        assert_eq!(
            code(base(
                json!({"type":"text","text":{"body":"a","preview_url":"yes"}})
            ))
            .0,
            131009
        );
    }

    #[test]
    fn envelope_problems_are_code_100() {
        let (c, msg) = code(json!({"to":"15555550111","text":{"body":"a"}}));
        assert_eq!(c, 100);
        assert!(msg.contains("messaging_product"), "{msg}");
        let (c, msg) = code(json!({"messaging_product":"whatsapp","text":{"body":"a"}}));
        assert_eq!(c, 100);
        assert!(msg.contains("The parameter to is required"), "{msg}");
        let (c, msg) = code(base(json!({"type":"fax","fax":{}})));
        assert_eq!(c, 100);
        assert!(msg.contains("fax"), "{msg}");
        assert_eq!(
            code(json!({"messaging_product":"whatsapp","to":"12","text":{"body":"a"}})).0,
            100
        );
        assert_eq!(
            code(json!({"messaging_product":"sms","to":"15555550111"})).0,
            100
        );
        assert!(parse_send(&json!([1])).is_err());
    }

    #[test]
    fn media_by_id_or_link_with_captions_where_allowed() {
        let m = send(base(json!({"type":"image","image":{"id":"123"}}))).unwrap();
        assert_eq!(
            m.media,
            Some(MediaRef {
                kind: "image".into(),
                source: MediaSource::Id("123".into())
            })
        );
        let m = send(base(json!({"type":"document","document":{"link":"https://example.com/a.pdf","caption":"c","filename":"a.pdf"}}))).unwrap();
        assert!(matches!(m.media.unwrap().source, MediaSource::Link(_)));
        assert_eq!(code(base(json!({"type":"image","image":{}}))).0, 131008);
        assert_eq!(
            code(base(
                json!({"type":"image","image":{"id":"1","link":"https://a.b/c"}})
            ))
            .0,
            131009
        );
        assert_eq!(
            code(base(json!({"type":"image","image":{"link":"not a url"}}))).0,
            131009
        );
        assert_eq!(
            code(base(
                json!({"type":"sticker","sticker":{"id":"1","caption":"no"}})
            ))
            .0,
            131009
        );
        let (c, msg) = code(base(
            json!({"type":"video","video":{"id":"1","caption":"c".repeat(1025)}}),
        ));
        assert_eq!(c, 131009);
        assert!(msg.contains("video.caption"), "{msg}");
    }

    #[test]
    fn interactive_buttons_and_lists() {
        let three = json!([
            {"type":"reply","reply":{"id":"a","title":"A"}},
            {"type":"reply","reply":{"id":"b","title":"B"}},
            {"type":"reply","reply":{"id":"c","title":"C"}}]);
        let ok = send(base(json!({"type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"action":{"buttons":three}}}))).unwrap();
        assert!(matches!(ok.reply_hint, ReplyHint::Button { ref id, .. } if id == "a"));
        let mut four = three.as_array().unwrap().clone();
        four.push(json!({"type":"reply","reply":{"id":"d","title":"D"}}));
        let (c, msg) = code(base(
            json!({"type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"action":{"buttons":four}}}),
        ));
        assert_eq!(c, 131009);
        assert!(msg.contains("4 buttons"), "{msg}");
        let (c, msg) = code(base(
            json!({"type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"This title is far too long"}}]}}}),
        ));
        assert_eq!(c, 131009);
        assert!(msg.contains("title"), "{msg}");
        assert_eq!(code(base(json!({"type":"interactive","interactive":{"type":"button","action":{"buttons":three}}}))).0, 131008);

        let rows = |n: usize, prefix: &str| -> Value {
            (0..n)
                .map(|i| json!({"id": format!("{prefix}{i}"), "title": format!("Row {i}")}))
                .collect()
        };
        let list = |sections: Value| {
            base(
                json!({"type":"interactive","interactive":{"type":"list","body":{"text":"b"},"action":{"button":"Choose","sections":sections}}}),
            )
        };
        assert!(
            send(list(
                json!([{"title":"S1","rows":rows(5,"a")},{"title":"S2","rows":rows(5,"b")}])
            ))
            .is_ok()
        );
        let (c, msg) = code(list(
            json!([{"title":"S1","rows":rows(6,"a")},{"title":"S2","rows":rows(5,"b")}]),
        ));
        assert_eq!(c, 131009);
        assert!(msg.contains("11 rows"), "{msg}");
        assert_eq!(
            code(list(json!([{"title":"S1","rows":rows(11,"a")}]))).0,
            131009
        );
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"title": format!("S{i}"), "rows": rows(1, &format!("s{i}-"))}))
            .collect();
        assert_eq!(code(list(json!(eleven))).0, 131009);
        assert_eq!(
            code(list(json!([{"rows":rows(1,"a")},{"rows":rows(1,"b")}]))).0,
            131008
        );
    }

    #[test]
    fn reactions_location_contacts() {
        assert!(
            send(base(
                json!({"type":"reaction","reaction":{"message_id":"wamid.X","emoji":"\u{1F600}"}})
            ))
            .is_ok()
        );
        assert!(
            send(base(
                json!({"type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}})
            ))
            .is_ok()
        );
        assert_eq!(
            code(base(
                json!({"type":"reaction","reaction":{"message_id":"wamid.X","emoji":"ok"}})
            ))
            .0,
            131009
        );
        assert_eq!(
            code(base(
                json!({"type":"reaction","reaction":{"emoji":"\u{1F600}"}})
            ))
            .0,
            131008
        );
        assert!(send(base(json!({"type":"location","location":{"latitude":37.758056,"longitude":-122.425332,"name":"META HQ","address":"1 Hacker Way"}}))).is_ok());
        assert_eq!(
            code(base(
                json!({"type":"location","location":{"latitude":97,"longitude":1}})
            ))
            .0,
            131009
        );
        assert_eq!(
            code(base(json!({"type":"contacts","contacts":[{"name":{}}]}))).0,
            131008
        );
        assert_eq!(
            code(base(json!({"type":"contacts","contacts":[]}))).0,
            131009
        );
    }

    #[test]
    fn templates_parse_every_parameter_kind() {
        let t = send(base(json!({"type":"template","template":{"name":"t","language":{"code":"en_US","policy":"deterministic"},"components":[
            {"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/i.jpg"}}]},
            {"type":"body","parameters":[
                {"type":"text","text":"Pablo"},
                {"type":"currency","currency":{"fallback_value":"$100.99","code":"USD","amount_1000":100990}},
                {"type":"date_time","date_time":{"fallback_value":"February 25, 1977"}}]},
            {"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"OK"}]},
            {"type":"button","sub_type":"URL","index":1,"parameters":[{"type":"text","text":"sfx"}]}]}}))).unwrap();
        let call = t.template.unwrap();
        assert_eq!(call.components.len(), 4);
        assert_eq!(
            call.components[1].params[1].shown.as_deref(),
            Some("$100.99")
        );
        assert_eq!(
            call.components[3].part,
            Part::Button {
                sub_type: "url".into(),
                index: 1
            }
        );
        assert_eq!(
            code(base(
                json!({"type":"template","template":{"language":{"code":"en"}}})
            ))
            .0,
            131008
        );
        assert_eq!(code(base(json!({"type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"$1","code":"USD"}}]}]}}))).0, 131008);
        assert_eq!(code(base(json!({"type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":"12","parameters":[]}]}}))).0, 131009);
    }

    #[test]
    fn mark_as_read_with_typing_indicator() {
        let r = parse_send(&json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X","typing_indicator":{"type":"text"}})).unwrap();
        assert!(matches!(
            r,
            SendRequest::MarkRead {
                typing_indicator: true,
                ..
            }
        ));
        let e = parse_send(&json!({"messaging_product":"whatsapp","status":"read"})).unwrap_err();
        assert_eq!(e.code(), 100);
        assert!(e.error.message.contains("message_id"));
    }

    #[test]
    fn username_recipients() {
        let r = parse_recipient("US.1349120865530199").unwrap();
        assert_eq!(r.user_id.as_deref(), Some("US.1349120865530199"));
        assert!(r.wa_id.is_none());
        assert!(parse_recipient("hello").is_err());
        assert!(
            parse_recipient("DE.ENT.11815799212886844830")
                .unwrap()
                .wa_id
                .is_none()
        );
        // A user id in `to` is taken and dropped; in `recipient` it is sent.
        let body = |extra: Value| {
            let mut v = json!({"messaging_product":"whatsapp","type":"text","text":{"body":"a"}});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let out = |v: Value| match parse_send(&v).unwrap() {
            SendRequest::Message(o) => o,
            other => panic!("{other:?}"),
        };
        assert!(out(body(json!({"to":"US.1349120865530199"}))).dropped);
        let ok = out(body(json!({"recipient":"US.1349120865530199"})));
        assert!(!ok.dropped);
        assert_eq!(ok.recipient.user_id.as_deref(), Some("US.1349120865530199"));
        let both = out(body(json!({"to":"15555550111","recipient":"US.1"})));
        assert_eq!(
            both.recipient.wa_id.as_deref(),
            Some("15555550111"),
            "to wins"
        );
        let e = parse_send(&body(json!({"recipient":"15555550111"}))).unwrap_err();
        assert!(
            e.error
                .message
                .contains("recipient takes a business-scoped user id")
        );
    }
}
