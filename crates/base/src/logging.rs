//! Logging with `tracing`: rotated files for the desktop, JSON lines on stdout for the relay.
//!
//! At `info` a log line never carries a secret or a message body: operations log who and what
//! (ids, verbs), and secrets are [`Sensitive`](crate::sensitive::Sensitive), whose `Debug` is
//! `<redacted>`.

use std::path::Path;

pub use tracing_appender::non_blocking::WorkerGuard as Guard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// How many daily files the desktop keeps.
pub const KEEP_DAYS: usize = 14;

/// `CRMCONNECT_LOG`, else `info`; whatever it says, a WebSocket handshake is never traced:
/// tungstenite writes the whole request at TRACE, the relay token's `authorization` header with it
/// (found by the runner's test, which looks for its token in its logs at TRACE).
fn filter() -> EnvFilter {
    let filter = EnvFilter::try_from_env("CRMCONNECT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    match "tungstenite::handshake=debug".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// Desktop: `crmconnect.log.YYYY-MM-DD` files in `dir`, one a day, the last [`KEEP_DAYS`] kept,
/// plus stderr. Keep the returned guard alive for as long as the app runs (it flushes on drop).
pub fn init_desktop(dir: &Path) -> Result<Guard, std::io::Error> {
    std::fs::create_dir_all(dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("crmconnect")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .try_init();
    Ok(guard)
}

/// Relay: structured JSON lines on stdout, for journald or a log shipper.
pub fn init_relay() {
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(tracing_subscriber::fmt::layer().json())
        .try_init();
}
