//! The sandbox's clock is the one [`Clock`](crmconnect_base::clock::Clock) of the base crate: a
//! sandbox workspace hands its own clock to its sandbox, so Meta's time and the desktop's are one.

pub use crmconnect_base::clock::{Clock as SandboxClock, later, unix_secs};
