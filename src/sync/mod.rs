//! Team sync: the desktop side of the event log.
//!
//! - [`kinds`]: the event kinds a desktop publishes and the permission each needs (the relay
//!   checks the same table).

pub mod kinds;
