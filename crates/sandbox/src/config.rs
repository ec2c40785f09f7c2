//! [`SandboxConfig`]: everything the sandbox can be told, with defaults that match Meta.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crmconnect_base::sensitive::Sensitive;

/// How the sandbox answers a free-form message sent outside the customer's 24-hour window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEnforcement {
    /// What Meta does: accept the message (200, a `wamid`), then report a `failed` status with
    /// error 131047 ("Re-engagement message") through the status webhook.
    Webhook,
    /// Refuse synchronously with error 131047 (HTTP 400). Handy for tests of the refusal path.
    Refuse,
}

/// The sandbox's settings. `SandboxConfig::default()` is what a new sandbox workspace uses.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// The version [`graph_url`](super::SandboxHandle::graph_url) names. Any `vNN.N` is accepted
    /// on requests. Default `v23.0`.
    pub graph_version: String,
    /// The one valid access token. Default `sandbox-token`.
    pub access_token: Sensitive<String>,
    /// The token expires this long (sandbox time) after the sandbox starts; then every call gets
    /// error 190 (subcode 463). Default: never.
    pub token_lifetime: Option<Duration>,
    /// The app secret webhooks are signed with (`X-Hub-Signature-256`). Default `sandbox-app-secret`.
    pub app_secret: Sensitive<String>,
    /// The verify token sent in the `hub.verify_token` handshake. Default `sandbox-verify-token`.
    pub verify_token: Sensitive<String>,
    /// Where webhooks are POSTed. Can be set later; until then they wait in the queue.
    pub webhook_url: Option<String>,
    /// A new or edited template stays PENDING this long (sandbox time). Default 60 s.
    pub template_approval_delay: Duration,
    /// Templates whose name starts with this are REJECTED instead of APPROVED. Default `reject_`.
    pub template_reject_prefix: Option<String>,
    /// The rejection reason sent for them. Default `INVALID_FORMAT`.
    pub template_reject_reason: String,
    /// `delivered` follows `sent` after this much sandbox time. Default 1 s.
    pub delivery_delay: Duration,
    /// `read` follows `delivered` after this much sandbox time. Default 3 s.
    pub read_delay: Duration,
    /// Whether recipients read what they receive (a `read` status). Default true.
    pub read_receipts: bool,
    /// Share of accepted messages that fail (a `failed` status with error 131026), drawn from the
    /// seeded generator. Default 0.0.
    pub failure_rate: f64,
    /// Messages per second per phone number before error 130429 (token bucket). Default 80.
    pub throughput_mps: u32,
    /// The same for a number after its throughput upgrade (level HIGH). Default 1,000.
    pub high_throughput_mps: u32,
    /// Messages one number may send one recipient in a burst before error 131056. Default 45.
    pub pair_burst: u32,
    /// After the burst, one message per this interval to the same recipient. Default 6 s.
    pub pair_interval: Duration,
    /// How free-form messages outside the 24-hour window are answered. Default: like Meta.
    pub window_enforcement: WindowEnforcement,
    /// First webhook retry delay; each retry doubles it. Default 200 ms.
    pub webhook_retry_base: Duration,
    /// The longest delay between two retries. Default 5 min.
    pub webhook_retry_max_delay: Duration,
    /// Give a delivery up after retrying this long (real time), as Meta does after 7 days.
    pub webhook_retry_for: Duration,
    /// Timeout of one webhook POST. Default 10 s.
    pub webhook_timeout: Duration,
    /// Simulated customers answer the choices they read: a button reply to reply buttons, a list
    /// reply to a list, a tapped quick reply to a template with quick replies. Plain messages get
    /// no automatic answer, so a bot on the other side cannot start an endless exchange.
    /// Default false.
    pub auto_reply: bool,
    /// Each simulated customer sends the first message of their script when the sandbox starts.
    /// Default false.
    pub greet_on_start: bool,
    /// Seed of the generator behind ids and failures: the same seed gives the same run.
    pub seed: u64,
    /// The clock moves only when advanced (see [`SandboxClock`](super::SandboxClock)). Default false.
    pub frozen_clock: bool,
    /// How many templates a WABA may hold (error 100/2388019 beyond). Default 250.
    pub max_templates: usize,
    /// Every Graph API answer leaves this much later (real time), as over a slow network, while
    /// webhooks are not held: a webhook can then arrive before the answer of the call that
    /// caused it, as it sometimes does from Meta. Default zero.
    pub response_delay: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            graph_version: crmconnect_meta::DEFAULT_GRAPH_VERSION.to_owned(),
            access_token: Sensitive::from("sandbox-token"),
            token_lifetime: None,
            app_secret: Sensitive::from("sandbox-app-secret"),
            verify_token: Sensitive::from("sandbox-verify-token"),
            webhook_url: None,
            template_approval_delay: Duration::from_secs(60),
            template_reject_prefix: Some("reject_".to_owned()),
            template_reject_reason: "INVALID_FORMAT".to_owned(),
            delivery_delay: Duration::from_secs(1),
            read_delay: Duration::from_secs(3),
            read_receipts: true,
            failure_rate: 0.0,
            throughput_mps: 80,
            high_throughput_mps: 1000,
            pair_burst: 45,
            pair_interval: Duration::from_secs(6),
            window_enforcement: WindowEnforcement::Webhook,
            webhook_retry_base: Duration::from_millis(200),
            webhook_retry_max_delay: Duration::from_secs(300),
            webhook_retry_for: Duration::from_secs(7 * 24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            auto_reply: false,
            greet_on_start: false,
            seed: 0x5A4D_B0C5,
            frozen_clock: false,
            max_templates: 250,
            response_delay: Duration::ZERO,
        }
    }
}
