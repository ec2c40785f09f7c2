//! One WebSocket message of the relay's stream, as the desktop reads it: JSON text, or an LZ4
//! block with its length in front (binary). Checks: no panic, no allocation beyond the frame
//! limit (libFuzzer's -rss_limit_mb); an `events` frame accounts for at least its last event;
//! a text frame compressed and read back parses to the same thing.
#![no_main]

use crmconnect::relay::log::compress;
use crmconnect::sync::relay_client::{StreamItem, parse_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let compressed = mode & 1 == 1;
    let item = parse_frame(bytes, compressed);
    if let Ok(StreamItem::Events { events, through }) = &item {
        if let Some(last) = events.last() {
            assert!(
                *through >= last.seq,
                "through {through} before the last event {}",
                last.seq
            );
        }
    }
    if !compressed {
        if let Ok(text) = std::str::from_utf8(bytes) {
            let again = parse_frame(&compress(text), true);
            assert_eq!(
                format!("{item:?}"),
                format!("{again:?}"),
                "compressed frame read differently"
            );
        }
    }
});
