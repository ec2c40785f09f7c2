//! The webhook envelope Meta POSTs: `object`, `entry[].changes[]` with a `field` and a `value`.
//! The relay splits it into events; the template status change is also applied directly by a
//! desktop that receives webhooks itself (the sandbox workspace).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The WABA id.
    pub id: String,
    #[serde(default)]
    pub changes: Vec<ChangeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeValue {
    pub field: String,
    pub value: Value,
}

/// `message_template_status_update`: Meta approved, rejected, paused… a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateStatusUpdate {
    pub event: String,
    #[serde(deserialize_with = "id_string")]
    pub message_template_id: String,
    #[serde(default)]
    pub message_template_name: Option<String>,
    #[serde(default)]
    pub message_template_language: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Meta sends template ids as numbers in some payloads and strings in others.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        other => return Err(serde::de::Error::custom(format!("not an id: {other}"))),
    })
}

impl Envelope {
    pub fn changes(&self) -> impl Iterator<Item = (&str, &ChangeValue)> {
        self.entry
            .iter()
            .flat_map(|e| e.changes.iter().map(move |c| (e.id.as_str(), c)))
    }

    pub fn template_status_updates(&self) -> Vec<TemplateStatusUpdate> {
        self.changes()
            .filter(|(_, c)| c.field == "message_template_status_update")
            .filter_map(|(_, c)| serde_json::from_value(c.value.clone()).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_template_status_updates_with_numeric_or_string_ids() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1,"changes":[
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1689556908129832,
             "message_template_name":"invoice_ready","message_template_language":"en","reason":"NONE"}},
            {"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":"42",
             "message_template_name":"x","message_template_language":"en","reason":"INVALID_FORMAT"}},
            {"field":"messages","value":{"messaging_product":"whatsapp"}}]}]}"#;
        let env: Envelope = serde_json::from_str(body).unwrap();
        let ups = env.template_status_updates();
        assert_eq!(ups.len(), 2);
        assert_eq!(ups[0].message_template_id, "1689556908129832");
        assert_eq!(ups[1].reason.as_deref(), Some("INVALID_FORMAT"));
        assert_eq!(env.changes().count(), 3);
    }
}
