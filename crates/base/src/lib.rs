//! The bottom layer of CRMConnect WhatsApp: what every other crate may use and nothing here knows
//! of a domain. Time, secrets that cannot leak by accident, logging, fault-injection points, raw
//! SQLite statements for the hot paths, and the closed set of error codes the UI branches on.
//!
//! - [`clock`]: the one clock every timer reads (real, or advanceable for the sandbox and tests).
//! - [`sensitive`]: a wrapper that keeps secrets out of logs and serialised output.
//! - [`logging`]: tracing to rotated files (desktop) or JSON on stdout (relay).
//! - [`fault`]: fault-injection points for crash tests.
//! - [`raw`]: SQLite statements bound and stepped directly, for bulk paths.
//! - [`ErrorCode`]: what the UI can tell apart.

pub mod clock;
pub mod fault;
pub mod logging;
pub mod raw;
pub mod sensitive;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the UI can tell apart. Add a code only when the UI does something different with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// Nobody is signed in at this desktop: show the sign-in screen.
    NotSignedIn,
    /// The signed-in staff member's role does not allow this.
    PermissionDenied,
    /// The thing asked for does not exist (any more).
    NotFound,
    /// The input is wrong; the message names the field and the problem.
    Invalid,
    /// The input clashes with what is stored (a duplicate name, the last admin…).
    Conflict,
    /// The workspace's storage cannot be used (corrupt, newer than the app, unreadable).
    Storage,
    /// Anything else: a bug or an environment failure, logged with its details.
    Internal,
}

/// Milliseconds since the Unix epoch, the one time representation the storage uses.
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
