//! Fault-injection points for crash tests. With `CRMCONNECT_FAULT=<point>` in its environment, the
//! process aborts when it reaches that point, as a power cut or `kill -9` would stop it there.
//! Unset (always, outside crash tests), a point costs one read of a value set once.
//!
//! Points: `after_commit` — a change and its event are committed, the event not yet published.

use std::sync::OnceLock;

/// The variable that names the point to abort at.
pub const ENV: &str = "CRMCONNECT_FAULT";

/// Aborts the process here when `CRMCONNECT_FAULT` names `point`.
pub fn point(point: &str) {
    static FAULT: OnceLock<Option<String>> = OnceLock::new();
    if FAULT.get_or_init(|| std::env::var(ENV).ok()).as_deref() == Some(point) {
        eprintln!("{ENV}={point}: aborting here, as a crash would");
        std::process::abort();
    }
}
