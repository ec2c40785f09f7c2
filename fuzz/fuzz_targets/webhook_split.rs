//! Meta's webhook bodies, as the relay splits them into events after the signature check.
//! Checks: no panic; every event's key starts with its kind, and its raw JSON is JSON;
//! splitting is deterministic (the idempotency keys of a redelivery are the same).
#![no_main]

use crmconnect_events::events::split_webhook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(events) = split_webhook(body) else {
        assert!(
            serde_json::from_slice::<serde_json::Value>(body).is_err(),
            "valid JSON refused"
        );
        return;
    };
    assert!(!events.is_empty(), "a JSON body gave no event at all");
    for e in &events {
        // `message:<wamid>`, `status:<wamid>:<status>`, or the kind and a 128-bit hash.
        let (kind, rest) = e.key.split_once(':').expect("a key is kind:…");
        assert_eq!(kind, e.kind, "key {:?}", e.key);
        assert!(!rest.is_empty(), "key {:?}", e.key);
        if !matches!(kind, "message" | "status") {
            assert!(
                rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()),
                "key {:?}",
                e.key
            );
        }
        serde_json::from_str::<serde_json::Value>(&e.raw).expect("an event's raw JSON is JSON");
    }
    let again = split_webhook(body).expect("the same body splits again");
    let keys = |v: &[crmconnect_events::events::NewEvent]| {
        v.iter().map(|e| e.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&events), keys(&again), "the same body gave other keys");
});
