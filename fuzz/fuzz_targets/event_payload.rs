//! A desktop event's payload as a token publishes it: the relay's check (cap and shape), then
//! what a receiving desktop decodes of it. Checks: no panic; nothing over the kind's cap is
//! accepted; an accepted `message.sent` never brings a local file path into the receiver.
#![no_main]

use crmconnect::chat::MessageContent;
use crmconnect_events::kinds::DESKTOP_KINDS;
use crmconnect_events::payloads::{self, MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    let kind = DESKTOP_KINDS[usize::from(pick) % DESKTOP_KINDS.len()].0;
    let Ok(payload) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let size = serde_json::to_vec(&payload)
        .expect("a Value serialises")
        .len();
    if payloads::check(kind, &payload, size).is_err() {
        return;
    }
    let cap = if kind == "message.sent" {
        MAX_MESSAGE_BYTES
    } else {
        MAX_PAYLOAD_BYTES
    };
    assert!(size <= cap, "{kind} of {size} bytes accepted over {cap}");
    if kind == "message.sent" {
        // As the chat projection reads it (src/chat/projection.rs, apply_sent).
        if let Ok(content) = serde_json::from_value::<MessageContent>(payload["content"].clone()) {
            let content = content.without_local_path();
            let _ = content.preview();
            let back = serde_json::to_value(&content).expect("content serialises");
            assert!(
                !has_key(&back, "local_path"),
                "a local path survived: {back}"
            );
        }
    }
});

fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| (k == key && !v.is_null()) || has_key(v, key)),
        Value::Array(a) => a.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}
