//! Everything that speaks Meta's WhatsApp Cloud API: the error object and its classification,
//! webhook signatures, and (with the Meta issue) the Graph API client. The same code talks to
//! Meta or to the [`sandbox`](https://docs.rs/crmconnect-sandbox), depending on the configured base URL.

pub mod client;
pub mod error;
pub mod media;
pub mod messages;
pub mod numbers;
pub mod signature;
pub mod templates;
pub mod webhook;

pub use client::{ClientError, GraphClient, GraphConfig, RetryPolicy};
pub use error::{GraphError, Retry};

/// The Graph API version we speak by default (the official OpenAPI spec we hold is v23.0).
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
/// Meta's Graph API.
pub const META_BASE_URL: &str = "https://graph.facebook.com";
