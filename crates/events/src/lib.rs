//! The event log's vocabulary, shared by the relay and every replica: the kinds of event a desktop
//! publishes and the permission each needs, and Meta's webhooks split into events.
//!
//! - [`kinds`]: desktop event kinds, what publishing and reading each requires.
//! - [`payloads`]: what a desktop event's payload may hold; the relay refuses anything else.
//! - [`events`]: webhook splitting, event keys and fields, events as received from the log.

pub mod events;
pub mod kinds;
pub mod payloads;
