//! Events: what the log holds. A Meta webhook is split into one event per message, status,
//! template update, account or quality update…; a desktop publishes its own events. Every event
//! keeps the raw JSON it came from and the fields the product uses, parsed, plus an idempotency
//! key so that Meta's retries and a desktop's re-sends never make a second event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Meta,
    Desktop,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Meta => "meta",
            Source::Desktop => "desktop",
        }
    }

    pub fn parse(s: &str) -> Source {
        if s == "desktop" {
            Source::Desktop
        } else {
            Source::Meta
        }
    }
}

/// The parsed fields the product uses. Everything else stays in the raw JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    /// Meta's `changes[].field` (`messages`, `message_template_status_update`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The WhatsApp Business Account id (`entry[].id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// `wamid.…` of a message or of the message a status is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The customer: a phone number (`from`, `recipient_id`) or, for username-only users, the
    /// user id (`from_user_id`, `recipient_user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The message type (`text`, `image`…), for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// `sent`, `delivered`, `read`, `failed` for statuses; the template event (`APPROVED`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<i64>,
    /// Meta's timestamp (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub key: String,
    pub kind: String,
    pub source: Source,
    /// Who published it (desktop events): the staff member the token is bound to.
    pub staff: Option<String>,
    pub fields: Fields,
    /// The raw JSON: for a webhook, the change it came from narrowed to this event; for a desktop
    /// event, its payload.
    pub raw: String,
}

/// An event in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub received_at: i64,
    pub event: NewEvent,
}

/// The JSON shape an event has on the wire and in `relay events`.
#[derive(Debug, Clone, Serialize)]
pub struct WireEvent {
    pub seq: i64,
    pub key: String,
    pub kind: String,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    /// Milliseconds since the epoch, when the relay stored it.
    pub received_at: i64,
    #[serde(flatten)]
    pub fields: Fields,
    pub raw: Box<serde_json::value::RawValue>,
}

/// An event as a desktop receives it (the same JSON as [`WireEvent`]; serde cannot flatten
/// next to a raw value when reading, so the fields are spelled out).
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedEvent {
    pub seq: i64,
    pub key: String,
    pub kind: String,
    pub source: Source,
    #[serde(default)]
    pub staff: Option<String>,
    pub received_at: i64,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub waba_id: Option<String>,
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub message_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<i64>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    pub raw: Box<serde_json::value::RawValue>,
}

impl ReceivedEvent {
    pub fn fields(&self) -> Fields {
        Fields {
            field: self.field.clone(),
            waba_id: self.waba_id.clone(),
            phone_number_id: self.phone_number_id.clone(),
            message_id: self.message_id.clone(),
            customer: self.customer.clone(),
            message_type: self.message_type.clone(),
            status: self.status.clone(),
            template_id: self.template_id.clone(),
            error_codes: self.error_codes.clone(),
            timestamp: self.timestamp,
        }
    }
}

impl StoredEvent {
    pub fn to_wire(&self) -> WireEvent {
        let raw =
            serde_json::value::RawValue::from_string(self.event.raw.clone()).unwrap_or_else(|_| {
                serde_json::value::to_raw_value(&self.event.raw).expect("a string serialises")
            });
        WireEvent {
            seq: self.seq,
            key: self.event.key.clone(),
            kind: self.event.kind.clone(),
            source: self.event.source,
            staff: self.event.staff.clone(),
            received_at: self.received_at,
            fields: self.event.fields.clone(),
            raw,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_wire()).expect("events serialise")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
}

/// The `changes[].field` values Meta documents, with the kind their events get. A field not in
/// this list still becomes an event, of kind `unknown`.
const KNOWN_FIELDS: &[(&str, &str)] = &[
    ("message_template_status_update", "template_status"),
    ("message_template_quality_update", "template_quality"),
    ("template_category_update", "template_category"),
    ("message_template_components_update", "template_components"),
    ("phone_number_quality_update", "phone_quality"),
    ("phone_number_name_update", "phone_name"),
    ("account_update", "account_update"),
    ("account_alerts", "account_alert"),
    ("account_review_update", "account_review"),
    ("business_capability_update", "business_capability"),
    ("user_preferences", "user_preferences"),
    ("security", "security"),
    ("flows", "flows"),
    ("calls", "calls"),
    ("smb_message_echoes", "message_echo"),
    ("history", "history"),
    ("standby", "standby"),
    ("messaging_handovers", "handover"),
];

fn hash_key(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    format!("{prefix}:{}", hex::encode(&h.finalize()[..16]))
}

fn string_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn error_codes(v: Option<&Value>) -> Vec<i64> {
    v.and_then(Value::as_array)
        .map(|errs| errs.iter().filter_map(|e| int_of(e.get("code"))).collect())
        .unwrap_or_default()
}

/// Splits a webhook body (already verified) into events. Anything that is not the shape we
/// expect is kept as an event of kind `unknown`, never dropped; only a body that is not JSON at
/// all is an error.
pub fn split_webhook(body: &[u8]) -> Result<Vec<NewEvent>, SplitError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| SplitError::NotJson(e.to_string()))?;
    let whole_unknown = |value: &Value| NewEvent {
        key: hash_key("unknown", &[&value.to_string()]),
        kind: "unknown".into(),
        source: Source::Meta,
        staff: None,
        fields: Fields::default(),
        raw: value.to_string(),
    };
    let Some(entries) = value.get("entry").and_then(Value::as_array) else {
        return Ok(vec![whole_unknown(&value)]);
    };
    let mut events = Vec::new();
    for entry in entries {
        let waba_id = string_of(entry.get("id"));
        let time = entry.get("time").map(Value::to_string).unwrap_or_default();
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            events.push(whole_unknown(entry));
            continue;
        };
        for change in changes {
            let field = change.get("field").and_then(Value::as_str);
            let value = change.get("value");
            match (field, value) {
                (Some("messages"), Some(Value::Object(v))) => {
                    split_messages(change, v, waba_id.as_deref(), &time, &mut events)
                }
                (Some(field), Some(value)) => {
                    let kind = KNOWN_FIELDS
                        .iter()
                        .find(|(f, _)| *f == field)
                        .map_or("unknown", |(_, k)| k);
                    let raw = change.to_string();
                    let mut fields = Fields {
                        field: Some(field.into()),
                        waba_id: waba_id.clone(),
                        ..Fields::default()
                    };
                    if kind == "template_status" {
                        fields.template_id = string_of(value.get("message_template_id"));
                        fields.status = string_of(value.get("event"));
                    } else if kind == "template_quality" {
                        fields.template_id = string_of(value.get("message_template_id"));
                        fields.status = string_of(value.get("new_quality_score"));
                    } else if kind == "template_category" {
                        fields.template_id = string_of(value.get("message_template_id"));
                        fields.status = string_of(value.get("new_category"));
                    } else {
                        fields.status = string_of(value.get("event"));
                    }
                    events.push(NewEvent {
                        key: hash_key(
                            kind,
                            &[waba_id.as_deref().unwrap_or(""), &time, field, &raw],
                        ),
                        kind: kind.into(),
                        source: Source::Meta,
                        staff: None,
                        fields,
                        raw,
                    });
                }
                _ => events.push(whole_unknown(change)),
            }
        }
    }
    if events.is_empty() {
        // `{"object":…, "entry": []}`: nothing to split, but what arrived is kept.
        events.push(whole_unknown(&value));
    }
    Ok(events)
}

/// A `messages` change: one event per message, one per status, one for system errors.
fn split_messages(
    change: &Value,
    v: &Map<String, Value>,
    waba_id: Option<&str>,
    time: &str,
    events: &mut Vec<NewEvent>,
) {
    let phone_number_id = v
        .get("metadata")
        .and_then(|m| string_of(m.get("phone_number_id")));
    let items = |list: &str| v.get(list).and_then(Value::as_array).map_or(0, Vec::len);
    // A change of one message or one status (most of them) narrowed is the change itself: its
    // JSON is written as is, without copying it first.
    let whole = change.as_object().is_some_and(|c| c.len() == 2)
        && items("messages") + items("statuses") == 1;
    // What every narrowed copy keeps: everything but the lists we split.
    let mut common = if whole { Map::new() } else { v.clone() };
    common.remove("messages");
    common.remove("statuses");
    let narrowed = |list: &str, item: &Value| {
        if whole {
            return change.to_string();
        }
        let mut m = common.clone();
        m.insert(list.into(), Value::Array(vec![item.clone()]));
        Value::Object(
            [
                ("field".to_string(), Value::String("messages".into())),
                ("value".to_string(), Value::Object(m)),
            ]
            .into_iter()
            .collect(),
        )
        .to_string()
    };
    let base = Fields {
        field: Some("messages".into()),
        waba_id: waba_id.map(Into::into),
        phone_number_id: phone_number_id.clone(),
        ..Fields::default()
    };
    let mut any = false;
    for m in v
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any = true;
        let raw = narrowed("messages", m);
        let id = string_of(m.get("id"));
        let fields = Fields {
            message_id: id.clone(),
            customer: string_of(m.get("from")).or_else(|| string_of(m.get("from_user_id"))),
            message_type: string_of(m.get("type")),
            error_codes: error_codes(m.get("errors")),
            timestamp: int_of(m.get("timestamp")),
            ..base.clone()
        };
        let (kind, key) = match &id {
            Some(id) => ("message", format!("message:{id}")),
            None => ("unknown", hash_key("unknown", &[&raw])),
        };
        events.push(NewEvent {
            key,
            kind: kind.into(),
            source: Source::Meta,
            staff: None,
            fields,
            raw,
        });
    }
    for s in v
        .get("statuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any = true;
        let raw = narrowed("statuses", s);
        let id = string_of(s.get("id"));
        let status = string_of(s.get("status"));
        let fields = Fields {
            message_id: id.clone(),
            customer: string_of(s.get("recipient_id"))
                .or_else(|| string_of(s.get("recipient_user_id"))),
            status: status.clone(),
            error_codes: error_codes(s.get("errors")),
            timestamp: int_of(s.get("timestamp")),
            ..base.clone()
        };
        let (kind, key) = match (&id, &status) {
            (Some(id), Some(st)) => ("status", format!("status:{id}:{st}")),
            _ => ("unknown", hash_key("unknown", &[&raw])),
        };
        events.push(NewEvent {
            key,
            kind: kind.into(),
            source: Source::Meta,
            staff: None,
            fields,
            raw,
        });
    }
    if !any {
        // System- or app-level errors, or a messages change of a shape we do not know.
        let raw = Value::Object(
            [
                ("field".to_string(), Value::String("messages".into())),
                ("value".to_string(), Value::Object(v.clone())),
            ]
            .into_iter()
            .collect(),
        )
        .to_string();
        let codes = error_codes(v.get("errors"));
        let kind = if codes.is_empty() { "unknown" } else { "error" };
        events.push(NewEvent {
            key: hash_key(kind, &[waba_id.unwrap_or(""), time, &raw]),
            kind: kind.into(),
            source: Source::Meta,
            staff: None,
            fields: Fields {
                error_codes: codes,
                ..base
            },
            raw,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<NewEvent> {
        split_webhook(s.as_bytes()).unwrap()
    }

    /// A change of one item is written out as it is (no copy); it must be exactly what narrowing
    /// it would give: a change with a key beside `field` and `value` takes the narrowing path and
    /// drops that key, and the two raws are the same text.
    #[test]
    fn a_one_item_change_keeps_the_same_raw_as_a_narrowed_one() {
        for item in [
            r#""statuses":[{"id":"wamid.S","status":"read","timestamp":"1749416383","recipient_id":"16505551234"}]"#,
            r#""messages":[{"from":"16505551234","id":"wamid.M","timestamp":"1","type":"text","text":{"body":"hi"}}],"contacts":[{"wa_id":"16505551234"}]"#,
        ] {
            let body = |extra: &str| {
                format!(
                    r#"{{"object":"whatsapp_business_account","entry":[{{"id":"W","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"PN1"}},{item}}},"field":"messages"{extra}}}]}}]}}"#
                )
            };
            let whole = split(&body(""));
            let narrowed = split(&body(r#","extra":1"#));
            assert_eq!(whole.len(), 1);
            assert_eq!(whole, narrowed, "{item}");
            assert!(!whole[0].raw.contains("extra"));
        }
    }

    #[test]
    fn one_event_per_message_and_per_status_with_parsed_fields() {
        let events = split(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":{
              "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"PN1"},
              "contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],
              "messages":[{"from":"16505551234","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"hi"}},
                          {"from_user_id":"US.1349","id":"wamid.B","timestamp":"1749416384","type":"image","image":{"id":"m1"}}],
              "statuses":[{"id":"wamid.C","status":"failed","timestamp":"1749416385","recipient_user_id":"US.77",
                           "errors":[{"code":131047,"title":"Re-engagement message"}]}]}}]}]}"#,
        );
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].kind, "message");
        assert_eq!(events[0].key, "message:wamid.A");
        assert_eq!(events[0].fields.phone_number_id.as_deref(), Some("PN1"));
        assert_eq!(events[0].fields.customer.as_deref(), Some("16505551234"));
        assert_eq!(events[0].fields.timestamp, Some(1749416383));
        assert_eq!(events[1].fields.customer.as_deref(), Some("US.1349"));
        assert_eq!(events[1].fields.message_type.as_deref(), Some("image"));
        assert_eq!(events[2].kind, "status");
        assert_eq!(events[2].key, "status:wamid.C:failed");
        assert_eq!(events[2].fields.customer.as_deref(), Some("US.77"));
        assert_eq!(events[2].fields.error_codes, vec![131047]);
        // Each raw copy keeps the metadata and contacts, and only its own item.
        let raw: Value = serde_json::from_str(&events[1].raw).unwrap();
        assert_eq!(raw["value"]["metadata"]["phone_number_id"], "PN1");
        assert_eq!(raw["value"]["contacts"][0]["wa_id"], "16505551234");
        assert_eq!(raw["value"]["messages"].as_array().unwrap().len(), 1);
        assert_eq!(raw["value"]["messages"][0]["id"], "wamid.B");
        assert!(raw["value"].get("statuses").is_none());
    }

    #[test]
    fn template_updates_and_unknown_fields_are_events_and_retries_have_the_same_key() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"W","time":1700000000,"changes":[
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":42,"message_template_name":"x"}},
            {"field":"brand_new_field","value":{"whatever":[1,2,3]}}]}]}"#;
        let a = split(body);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].kind, "template_status");
        assert_eq!(a[0].fields.template_id.as_deref(), Some("42"));
        assert_eq!(a[0].fields.status.as_deref(), Some("APPROVED"));
        assert_eq!(a[1].kind, "unknown");
        assert_eq!(a[1].fields.field.as_deref(), Some("brand_new_field"));
        assert!(a[1].raw.contains("whatever"));
        let b = split(body);
        assert_eq!(a[0].key, b[0].key);
        assert_eq!(a[1].key, b[1].key);
        assert_ne!(a[0].key, a[1].key);
        // The same update at another time is another event.
        let later = split(&body.replace("1700000000", "1700000100"));
        assert_ne!(a[0].key, later[0].key);
    }

    #[test]
    fn odd_shapes_are_kept_as_unknown_and_only_non_json_is_refused() {
        for body in [
            r#"{"object":"page"}"#,
            r#"{"object":"whatsapp_business_account","entry":[]}"#,
            r#"{"object":"whatsapp_business_account","entry":[{"id":"W"}]}"#,
            r#"{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"metadata":{}}}]}]}"#,
            r#"[1,2]"#,
        ] {
            let events = split(body);
            assert_eq!(events.len(), 1, "{body}");
            assert_eq!(events[0].kind, "unknown", "{body}");
        }
        let errors = split(
            r#"{"entry":[{"id":"W","changes":[{"field":"messages","value":{"errors":[{"code":131000}]}}]}]}"#,
        );
        assert_eq!(errors[0].kind, "error");
        assert_eq!(errors[0].fields.error_codes, vec![131000]);
        assert!(split_webhook(b"{not json").is_err());
    }

    #[test]
    fn the_wire_shape_embeds_the_raw_json() {
        let e = StoredEvent {
            seq: 7,
            received_at: 1,
            event: split(r#"{"entry":[{"id":"W","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.X","status":"read","recipient_id":"1"}]}}]}]}"#)
                .remove(0),
        };
        let json = e.to_json();
        let back: ReceivedEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.fields(), e.event.fields);
        assert_eq!(back.raw.get(), e.event.raw);
        let wire: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(wire["seq"], 7);
        assert_eq!(wire["kind"], "status");
        assert_eq!(wire["status"], "read");
        assert_eq!(wire["raw"]["value"]["statuses"][0]["id"], "wamid.X");
    }
}
