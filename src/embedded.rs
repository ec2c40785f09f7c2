//! The sandbox workspace's own Meta and relay: the sandbox started in-process, and a relay
//! in-process (its log in `relay.db` beside the workspace's database) that receives the sandbox's
//! signed webhooks, with the workspace pointed at both. The workspace's runtime
//! ([`crate::runtime::Runtime`]) starts this for a sandbox workspace and then syncs from that relay
//! exactly as a team's desktops sync from theirs, so a new user sees every feature work with no
//! Meta account, through the same path a team uses every day.

use crate::relay::config::WorkspaceConfig;
use crate::relay::tokens::{self, TokenSpec};
use crate::relay::{RelayConfig, RelayHandle};
use crate::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use crate::sensitive::Sensitive;
use crate::workspace::{Workspace, WorkspaceKind};

/// A running embedded sandbox and relay. Dropping it does not stop them: call
/// [`Embedded::shutdown`].
pub struct Embedded {
    sandbox: SandboxHandle,
    relay: RelayHandle,
    webhook_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("only a sandbox workspace runs the embedded sandbox")]
    NotSandbox,
    #[error("could not start the sandbox: {0}")]
    Start(String),
}

impl Embedded {
    /// Starts the sandbox and the relay, and configures `ws` to use them.
    pub async fn start(ws: &Workspace, config: SandboxConfig) -> crate::Result<Embedded> {
        if ws.info().kind != WorkspaceKind::Sandbox {
            return Err(crate::connection::ConnectionError::Invalid {
                field: "workspace",
                problem: EmbeddedError::NotSandbox.to_string(),
            }
            .into());
        }
        let start_err = |e: String| crate::connection::ConnectionError::Invalid {
            field: "sandbox",
            problem: EmbeddedError::Start(e).to_string(),
        };
        let sandbox = Sandbox::start(config.clone())
            .await
            .map_err(|e| start_err(e.to_string()))?;

        // The relay, with its log beside the workspace's database.
        let slug = ws.info().slug.clone();
        let folder = std::path::Path::new(&ws.info().path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let mut relay_config = RelayConfig {
            database_url: format!("sqlite://{}", folder.join("relay.db").display()),
            ..RelayConfig::default()
        };
        relay_config.workspaces.insert(
            slug.clone(),
            WorkspaceConfig {
                app_secret: config.app_secret.clone(),
                verify_token: config.verify_token.clone(),
                waba_id: None,
                phone_number_ids: vec![],
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| start_err(e.to_string()))?;
        let relay = crate::relay::start(relay_config, listener)
            .await
            .map_err(|e| start_err(format!("the relay: {e}")))?;
        let store = relay.state.log.store().clone();
        // This desktop's token: the one in the keychain while the relay still knows it.
        let token = match ws.relay_token().await? {
            Some(t)
                if tokens::authenticate(&store, t.expose())
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|r| r.workspace == slug) =>
            {
                t
            }
            _ => {
                let (_, t) = tokens::issue(
                    &store,
                    TokenSpec {
                        workspace: slug.clone(),
                        staff: "this desktop".into(),
                        is_admin: true,
                        permissions: vec![],
                        label: "the sandbox workspace's own desktop".into(),
                        expires_at: None,
                    },
                )
                .await
                .map_err(|e| start_err(format!("the relay token: {e}")))?;
                Sensitive::new(t)
            }
        };
        // The port changes at every launch, the log does not: keep the replica.
        ws.set_relay_unchecked(&relay.url(), token, true).await?;

        let sales = sandbox
            .phone_numbers()
            .into_iter()
            .next()
            .map(|n| n.id)
            .unwrap_or_default();
        ws.configure_sandbox_connection(crate::connection::SandboxConnection {
            graph_base_url: sandbox.base_url().to_owned(),
            graph_version: config.graph_version.clone(),
            phone_number_id: sales,
            waba_id: sandbox.waba_id(),
            access_token: config.access_token.clone(),
        })
        .await?;
        let webhook_url = format!("{}/webhook/{slug}", relay.url());
        sandbox
            .set_webhook_target(&webhook_url, config.app_secret.expose())
            .map_err(|e| start_err(e.to_string()))?;
        // Sends are paced at the sandbox's limits, as at Meta's.
        ws.set_send_pacing(crate::connection::SendPacing {
            throughput_per_sec: config.throughput_mps,
            high_throughput_per_sec: config.high_throughput_mps,
            pair_burst: config.pair_burst,
            pair_period: config.pair_interval,
        })
        .await;
        // Meta's time is the sandbox's: the 24-hour window follows its clock.
        ws.set_clock(sandbox.clock().clone());
        tracing::info!(graph = %sandbox.base_url(), relay = %relay.url(), "embedded sandbox and relay running");
        Ok(Embedded {
            sandbox,
            relay,
            webhook_url,
        })
    }

    pub fn sandbox(&self) -> &SandboxHandle {
        &self.sandbox
    }

    /// The in-process relay (another desktop of the team can sync from it).
    pub fn relay(&self) -> &RelayHandle {
        &self.relay
    }

    pub fn webhook_url(&self) -> &str {
        &self.webhook_url
    }

    pub async fn shutdown(self) {
        let _ = self.relay.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

// ---- the sandbox panel --------------------------------------------------------------------------
//
// What the app's Sandbox panel plays: simulated customers writing, the sandbox clock, the share of
// sends that fail. Sandbox state only (nothing of the workspace changes here): what the customers
// write reaches the workspace as Meta's webhooks do, through the relay.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::sandbox::{CustomerMessage, Echo, Inbound, Shown};

/// The sandbox as its panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SandboxPanel {
    pub customers: Vec<SandboxCustomer>,
    /// How far the sandbox clock is ahead of the real one, in hours.
    pub clock_ahead_hours: f64,
    /// The share of accepted sends that fail later (error 131026), 0 to 1.
    pub failure_rate: f64,
}

/// A simulated customer.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SandboxCustomer {
    /// `ana`, `ben`…
    pub key: String,
    pub name: String,
    /// E.164; null for the customer known only by username.
    pub phone: Option<String>,
    pub username: Option<String>,
}

/// What a simulated customer writes from the panel.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum SandboxWrite {
    Text {
        body: String,
    },
    Image {
        caption: Option<String>,
    },
    VoiceNote,
    Video {
        caption: Option<String>,
    },
    Sticker,
    Document {
        filename: String,
    },
    Location,
    /// A tap on a reply button of the business's last interactive message.
    ButtonReply {
        id: String,
        title: String,
    },
    /// A text written from a click-to-WhatsApp ad (the sandbox's own, clearly not real).
    FromAd {
        body: String,
    },
    /// A cart of two catalog items with a note.
    Order,
    /// A completed booking form (a WhatsApp Flow).
    FlowReply,
    /// Allows the business to call them.
    CallPermission,
    /// Calls the business on WhatsApp; answered, they talk for a minute and five seconds.
    Calls,
    /// Calls the business on WhatsApp and hangs up before anyone answers.
    MissedCall,
    /// Writes `body` while Meta's own AI agent takes the conversation and answers it.
    ToMetaAgent {
        body: String,
    },
    /// Edits their last message to this number into `body`.
    EditLast {
        body: String,
    },
    /// Deletes their last message to this number for everyone.
    DeleteLast,
    /// A text whose webhook shows only their number, as before Meta added user ids (a
    /// username-only customer's number behind the username too).
    TextFromNumber {
        body: String,
    },
    /// A text whose webhook shows their user id, username and number together (they shared it).
    TextShowingAll {
        body: String,
    },
    /// The customer's next scripted message.
    Next,
    /// The business writes to the customer from the WhatsApp Business app on the same number
    /// (coexistence): the thread shows it as sent by the phone.
    PhoneWrites {
        body: String,
    },
    /// The business edits its last message to the customer from the app.
    PhoneEditsLast {
        body: String,
    },
    /// The business deletes its last message to the customer from the app.
    PhoneDeletesLast,
}

#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error("this is not a sandbox workspace: the sandbox panel plays only the sandbox")]
    NoSandbox,
    #[error("{0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error("{0}")]
    Invalid(String),
}

impl crate::error::Coded for PanelError {
    fn code(&self) -> crate::ErrorCode {
        match self {
            PanelError::Sandbox(crate::sandbox::SandboxError::UnknownCustomer(_)) => {
                crate::ErrorCode::NotFound
            }
            _ => crate::ErrorCode::Invalid,
        }
    }
}

impl Embedded {
    pub fn panel(&self) -> SandboxPanel {
        SandboxPanel {
            customers: self
                .sandbox
                .customers()
                .into_iter()
                .map(|c| SandboxCustomer {
                    key: c.key,
                    name: c.name,
                    phone: c.wa_id.map(|d| format!("+{d}")),
                    username: c.username,
                })
                .collect(),
            clock_ahead_hours: self.sandbox.clock().offset().as_secs_f64() / 3600.0,
            failure_rate: self.sandbox.failure_rate(),
        }
    }

    /// A simulated customer writes (quoting the business's last message when `reply_to_last`);
    /// answers the message's id.
    pub fn customer_writes(
        &self,
        customer: &str,
        message: SandboxWrite,
        reply_to_last: bool,
    ) -> crate::Result<String> {
        let mut shown = Shown::Usual;
        let message = match message {
            SandboxWrite::PhoneWrites { body } => {
                return self.echo(
                    customer,
                    Echo::Text {
                        body: non_empty(body, "what the business writes from its phone")?,
                    },
                );
            }
            SandboxWrite::PhoneEditsLast { body } => {
                return self.echo(
                    customer,
                    Echo::EditLast {
                        body: non_empty(body, "the new text of the business's last message")?,
                    },
                );
            }
            SandboxWrite::PhoneDeletesLast => return self.echo(customer, Echo::DeleteLast),
            SandboxWrite::Calls | SandboxWrite::MissedCall => {
                let talked = matches!(message, SandboxWrite::Calls).then_some(65);
                return Ok(self
                    .sandbox
                    .customer_calls(customer, talked)
                    .map_err(PanelError::from)?);
            }
            SandboxWrite::ToMetaAgent { body } => {
                let body = non_empty(body, "what the customer writes")?;
                return Ok(self
                    .sandbox
                    .meta_agent_answers(customer, &body)
                    .map_err(PanelError::from)?);
            }
            SandboxWrite::Next => {
                return Ok(self
                    .sandbox
                    .customer_sends_next(customer)
                    .map_err(PanelError::from)?);
            }
            SandboxWrite::Text { body } => CustomerMessage::Text {
                body: non_empty(body, "what the customer writes")?,
            },
            SandboxWrite::Image { caption } => CustomerMessage::Image { caption },
            SandboxWrite::VoiceNote => CustomerMessage::Audio { voice: true },
            SandboxWrite::Video { caption } => CustomerMessage::Video { caption },
            SandboxWrite::Sticker => CustomerMessage::Sticker { animated: false },
            SandboxWrite::Document { filename } => CustomerMessage::Document {
                filename,
                caption: None,
            },
            SandboxWrite::Location => CustomerMessage::Location {
                latitude: 40.7357,
                longitude: -74.1724,
                name: Some("Newark Penn Station".into()),
                address: Some("1 Raymond Plaza W, Newark, NJ".into()),
            },
            SandboxWrite::ButtonReply { id, title } => CustomerMessage::ButtonReply { id, title },
            SandboxWrite::FromAd { body } => CustomerMessage::FromAd {
                body: non_empty(body, "what the customer writes from the ad")?,
                headline: "Spring offer: 20% off (sandbox ad)".into(),
            },
            SandboxWrite::Order => CustomerMessage::sample_order(),
            SandboxWrite::FlowReply => CustomerMessage::sample_form(),
            SandboxWrite::CallPermission => CustomerMessage::CallPermission { accept: true },
            SandboxWrite::EditLast { body } => CustomerMessage::Edit {
                message_id: None,
                body: non_empty(body, "the new text of their last message")?,
            },
            SandboxWrite::DeleteLast => CustomerMessage::Revoke { message_id: None },
            SandboxWrite::TextFromNumber { body } => {
                shown = Shown::PhoneOnly;
                CustomerMessage::Text {
                    body: non_empty(body, "what the customer writes")?,
                }
            }
            SandboxWrite::TextShowingAll { body } => {
                shown = Shown::Both;
                CustomerMessage::Text {
                    body: non_empty(body, "what the customer writes")?,
                }
            }
        };
        let mut inbound = Inbound::from(message);
        inbound.reply_to_last = reply_to_last;
        inbound.shown = shown;
        Ok(self
            .sandbox
            .customer_sends(customer, inbound)
            .map_err(PanelError::from)?)
    }

    /// What the business does from the WhatsApp Business app (an `smb_message_echoes` webhook).
    fn echo(&self, customer: &str, echo: Echo) -> crate::Result<String> {
        Ok(self
            .sandbox
            .business_app_sends(customer, echo)
            .map_err(PanelError::from)?)
    }

    /// Moves the sandbox clock on (the 24-hour window, template reviews and timers follow it).
    pub fn advance_clock(&self, hours: f64) -> crate::Result<SandboxPanel> {
        let by = std::time::Duration::try_from_secs_f64(hours * 3600.0)
            .ok()
            .filter(|d| !d.is_zero() && *d <= std::time::Duration::from_secs(366 * 86_400))
            .ok_or_else(|| {
                PanelError::Invalid(format!(
                    "advance the clock by more than 0 and at most 8,784 hours (a year), not {hours}"
                ))
            })?;
        self.sandbox.clock().advance(by);
        Ok(self.panel())
    }

    /// Meta tells the account something (a restriction, a flagged number…): the webhook goes
    /// through the relay like any other, and the banner and the Activity Log show it.
    pub fn account_event(
        &self,
        event: crate::sandbox::AccountEvent,
    ) -> crate::Result<SandboxPanel> {
        self.sandbox.account_event(event);
        Ok(self.panel())
    }

    /// From now on this share (0 to 1) of the sends Meta accepts fail later, as undeliverable.
    pub fn set_failure_rate(&self, rate: f64) -> crate::Result<SandboxPanel> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(PanelError::Invalid(format!(
                "a failure rate is between 0% and 100%, not {rate}"
            ))
            .into());
        }
        self.sandbox.set_failure_rate(rate);
        Ok(self.panel())
    }
}

/// The panel's answer where there is no embedded sandbox (a live workspace).
pub fn no_sandbox() -> crate::Error {
    PanelError::NoSandbox.into()
}

/// A text the panel needs, trimmed; empty is refused with what to type.
fn non_empty(text: String, what: &str) -> crate::Result<String> {
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(PanelError::Invalid(format!("the message is empty: type {what}")).into());
    }
    Ok(text)
}
