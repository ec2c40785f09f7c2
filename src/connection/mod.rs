//! The Connection screen's core: the Cloud API credentials of a workspace (ids in SQLite, secrets
//! in the keychain), and "Test connection", which says precisely which credential is wrong or
//! which permission the token lacks. Admins only.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::meta::{ClientError, GraphClient, GraphConfig};
use crate::screens::Screen;
use crate::secrets::{SecretError, SecretName};
use crate::sensitive::Sensitive;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};
use std::sync::Arc;

mod pacing;
pub use pacing::{AutomationPacer, AutomationShare};

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("the {0} is not set: enter it in Connection")]
    Missing(&'static str),
    #[error("the keychain task failed: {0}")]
    Join(String),
}

impl crate::error::Coded for ConnectionError {
    fn code(&self) -> ErrorCode {
        ConnectionError::code(self)
    }
}

impl ConnectionError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ConnectionError::Secret(e) => e.code(),
            ConnectionError::Invalid { .. } | ConnectionError::Missing(_) => ErrorCode::Invalid,
            ConnectionError::Join(_) => ErrorCode::Internal,
        }
    }
}

/// What the Connection screen shows: ids, and only *whether* each secret is set.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ConnectionView {
    pub phone_number_id: String,
    pub waba_id: String,
    pub graph_base_url: String,
    pub graph_version: String,
    pub access_token_set: bool,
    /// Where the secrets are kept, e.g. "the OS keychain".
    pub secret_store: String,
}

/// What an admin saves. A secret left `None` keeps its current value; `Some("")` removes it.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionInput {
    pub phone_number_id: String,
    pub waba_id: String,
    #[ts(optional)]
    pub graph_base_url: Option<String>,
    #[ts(optional)]
    pub graph_version: Option<String>,
    #[ts(optional, type = "string")]
    pub access_token: Option<Sensitive<String>>,
}

/// One line of the "Test connection" report.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TestReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

pub(crate) fn digits(field: &'static str, v: &str) -> std::result::Result<String, ConnectionError> {
    let v = v.trim();
    if v.is_empty() || v.chars().all(|c| c.is_ascii_digit()) {
        Ok(v.to_owned())
    } else {
        Err(ConnectionError::Invalid {
            field,
            problem: format!("Meta's ids are digits only; “{v}” is not"),
        })
    }
}

/// The Graph API address to save: Meta's when none is given; https, or http for a sandbox on
/// this machine.
pub(crate) fn checked_base_url(
    given: Option<&str>,
) -> std::result::Result<String, ConnectionError> {
    let base = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(crate::meta::META_BASE_URL)
        .trim_end_matches('/')
        .to_owned();
    let on_this_machine = |url: &reqwest::Url| {
        url.host_str().is_some_and(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
    };
    let secure = reqwest::Url::parse(&base)
        .is_ok_and(|u| u.scheme() == "https" || (u.scheme() == "http" && on_this_machine(&u)));
    if !secure {
        return Err(ConnectionError::Invalid {
            field: "Graph API address",
            problem: "must be https:// (plain http only for a sandbox on this machine)".into(),
        });
    }
    Ok(base)
}

/// Saves the connection's one row: phone number id, WABA id, Graph address and version.
async fn write_row(
    conn: &mut sqlx::SqliteConnection,
    [phone, waba, base, version]: [&str; 4],
    now: i64,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO connection (id, phone_number_id, waba_id, graph_base_url, graph_version, updated_at)
         VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET phone_number_id = excluded.phone_number_id,
           waba_id = excluded.waba_id, graph_base_url = excluded.graph_base_url,
           graph_version = excluded.graph_version, updated_at = excluded.updated_at",
        phone,
        waba,
        base,
        version,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

struct Row {
    phone_number_id: String,
    waba_id: String,
    graph_base_url: String,
    graph_version: String,
}

impl Workspace {
    /// The sandbox's address, for a sandbox workspace (its other stand-ins live there too).
    pub async fn sandbox_base_url(&self) -> Result<Option<String>> {
        if self.info().kind != crate::workspace::WorkspaceKind::Sandbox {
            return Ok(None);
        }
        let url = self.connection_row().await?.graph_base_url;
        Ok((url != crate::meta::META_BASE_URL).then_some(url))
    }

    async fn connection_row(&self) -> Result<Row> {
        let row = sqlx::query!("SELECT phone_number_id, waba_id, graph_base_url, graph_version FROM connection WHERE id = 1")
            .fetch_optional(self.db())
            .await?;
        Ok(match row {
            Some(r) => Row {
                phone_number_id: r.phone_number_id,
                waba_id: r.waba_id,
                graph_base_url: r.graph_base_url,
                graph_version: r.graph_version,
            },
            None => Row {
                phone_number_id: String::new(),
                waba_id: String::new(),
                graph_base_url: crate::meta::META_BASE_URL.into(),
                graph_version: crate::meta::DEFAULT_GRAPH_VERSION.into(),
            },
        })
    }

    async fn secret(&self, name: SecretName) -> Result<Option<Sensitive<String>>> {
        let store = self.secrets().clone();
        let ws = self.info().slug.clone();
        Ok(tokio::task::spawn_blocking(move || store.get(&ws, name))
            .await
            .map_err(|e| ConnectionError::Join(e.to_string()))?
            .map_err(ConnectionError::from)?)
    }

    /// The Graph client of this workspace's connection: one for every caller (chat sends, read
    /// receipts, Send on WhatsApp, templates, numbers), so that its per-number pacing and pair
    /// limit hold across all of them. Built on first use; rebuilt after the connection or the
    /// pacing changes. For the core's own use: the token never leaves Rust.
    pub async fn graph_client(&self) -> Result<(GraphClient, ConnectionIds)> {
        let slot = self.graph_slot();
        let mut current = slot.client.lock().await;
        if let Some(c) = current.as_ref() {
            return Ok(c.clone());
        }
        let built = self.build_graph_client(slot.pacing()).await?;
        self.levels()
            .replace_high(self.high_throughput_numbers().await?);
        for id in self.levels().high() {
            built.0.set_throughput(&id, self.number_throughput(&id));
        }
        *current = Some(built.clone());
        Ok(built)
    }

    /// The Graph client if one is built (nothing is read or built for it).
    async fn built_graph_client(&self) -> Option<GraphClient> {
        let slot = self.graph_slot();
        let current = slot.client.lock().await;
        current.as_ref().map(|(c, _)| c.clone())
    }

    /// How fast this workspace's numbers send now (what the Graph client paces by).
    pub fn send_pacing(&self) -> SendPacing {
        self.graph_slot().pacing()
    }

    /// How fast this workspace's numbers may send: the next Graph client paces by it.
    pub async fn set_send_pacing(&self, pacing: SendPacing) {
        let slot = self.graph_slot();
        *slot.pacing.lock().unwrap_or_else(|e| e.into_inner()) = pacing;
        slot.reset().await;
    }

    async fn build_graph_client(&self, pacing: SendPacing) -> Result<(GraphClient, ConnectionIds)> {
        let row = self.connection_row().await?;
        let token = self
            .secret(SecretName::AccessToken)
            .await?
            .ok_or(ConnectionError::Missing("access token"))?;
        let config = GraphConfig {
            base_url: row.graph_base_url,
            version: row.graph_version,
            throughput_per_sec: pacing.throughput_per_sec,
            pair_burst: pacing.pair_burst,
            pair_period: pacing.pair_period,
            ..GraphConfig::default()
        };
        let client = GraphClient::new(&config, token).map_err(|e| ConnectionError::Invalid {
            field: "Graph API address",
            problem: e.to_string(),
        })?;
        Ok((
            client,
            ConnectionIds {
                phone_number_id: row.phone_number_id,
                waba_id: row.waba_id,
            },
        ))
    }
}

impl Ctx<'_> {
    pub async fn connection(&self) -> Result<ConnectionView> {
        self.actor()
            .await?
            .require_admin(Screen::Connection.label())?;
        let row = self.connection_row().await?;
        Ok(ConnectionView {
            phone_number_id: row.phone_number_id,
            waba_id: row.waba_id,
            graph_base_url: row.graph_base_url,
            graph_version: row.graph_version,
            access_token_set: self.secret(SecretName::AccessToken).await?.is_some(),
            secret_store: self.secrets().describe().into(),
        })
    }

    /// Saves the ids in SQLite and the secrets in the keychain. The log entry names which secrets
    /// changed, never their values.
    pub async fn save_connection(&self, input: ConnectionInput) -> Result<ConnectionView> {
        let actor = self.actor().await?;
        let phone = digits("phone number id", &input.phone_number_id)?;
        let waba = digits("WhatsApp Business Account id", &input.waba_id)?;
        let base = checked_base_url(input.graph_base_url.as_deref())?;
        // The saved access token goes only to the address it was given for.
        let current = self.connection_row().await?.graph_base_url;
        if current.trim_end_matches('/') != base
            && input.access_token.is_none()
            && self.secret(SecretName::AccessToken).await?.is_some()
        {
            return Err(ConnectionError::Invalid {
                field: "Access token",
                problem: "enter it again for the new Graph API address: a saved token goes only to the address it was given for".into(),
            }
            .into());
        }
        let version = input
            .graph_version
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(crate::meta::DEFAULT_GRAPH_VERSION)
            .to_owned();
        let version_ok = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
            });
        if !version_ok {
            return Err(ConnectionError::Invalid {
                field: "Graph API version",
                problem: format!("a version such as v23.0; “{version}” is not"),
            }
            .into());
        }
        let secrets: Vec<(SecretName, Sensitive<String>)> = input
            .access_token
            .map(|v| (SecretName::AccessToken, v))
            .into_iter()
            .collect();
        let changed: Vec<&str> = secrets.iter().map(|(n, _)| n.label()).collect();
        let detail = if changed.is_empty() {
            "ids only".to_owned()
        } else {
            format!("ids and {}", changed.join(", "))
        };
        let allowed = actor.require_admin(Screen::Connection.label());
        let store = self.secrets().clone();
        let ws = self.info().slug.clone();
        // A team workspace tells its other desktops the ids and the address (never the token).
        let team = (self.info().kind == crate::workspace::WorkspaceKind::Live).then(|| {
            serde_json::to_value(crmconnect_events::payloads::ConnectionChanged {
                phone_number_id: phone.clone(),
                waba_id: waba.clone(),
                graph_base_url: base.clone(),
                graph_version: version.clone(),
            })
            .expect("the payload serialises")
        });
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Connection,
                "connection.save",
                "Cloud API credentials",
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    if let Some(payload) = &team {
                        crate::outbox::emit(&mut *tx, &publisher, "connection.changed", payload)
                            .await?;
                    }
                    write_row(&mut *tx, [&phone, &waba, &base, &version], crate::now_ms()).await?;
                    // The keychain last, inside the transaction: if it fails, the ids roll back too.
                    tokio::task::spawn_blocking(move || {
                        // Only the relay uses these: a desktop keeps them no more.
                        for name in SecretName::LEGACY {
                            store.delete(&ws, name)?;
                        }
                        for (name, value) in secrets {
                            if value.expose().is_empty() {
                                store.delete(&ws, name)?;
                            } else {
                                store.set(&ws, name, &value)?;
                            }
                        }
                        Ok::<_, SecretError>(())
                    })
                    .await
                    .map_err(|e| ConnectionError::Join(e.to_string()))?
                    .map_err(ConnectionError::from)?;
                    Ok(((), Some(detail)))
                })
            }),
        )
        .await?;
        self.graph_slot().reset().await;
        self.outbox_written();
        self.connection().await
    }

    /// Calls Meta with the saved credentials and says what works and what does not.
    pub async fn test_connection(&self) -> Result<TestReport> {
        self.actor()
            .await?
            .require_admin(Screen::Connection.label())?;
        let mut checks = Vec::new();
        let view = self.connection().await?;
        let mut push = |what: &str, ok: bool, message: String| {
            checks.push(Check {
                what: what.into(),
                ok,
                message,
            })
        };
        if !view.access_token_set {
            push(
                "Access token",
                false,
                "not set: paste the token from Meta's app dashboard".into(),
            );
        }
        if view.phone_number_id.is_empty() {
            push("Phone number id", false, "not set".into());
        }
        if view.waba_id.is_empty() {
            push("WhatsApp Business Account id", false, "not set".into());
        }
        if view.access_token_set && !view.phone_number_id.is_empty() && !view.waba_id.is_empty() {
            let (client, ids) = self.graph_client().await?;
            checks.extend(graph_checks(&client, &ids).await);
        }
        let ok = checks.iter().all(|c| c.ok);
        Ok(TestReport { ok, checks })
    }
}

inventory::submit! { crate::handlers::DefaultHandler { order: 22, make: team_handler } }

/// An administrator's `connection.changed` on another desktop of the team: this desktop takes the
/// ids (and the Graph address when it keeps no token, which goes only to the address it was
/// given for). The access token never travels: each desktop's own is typed on its Connection
/// screen. The sandbox workspace's connection is its embedded sandbox's, and stays so.
pub fn team_handler() -> Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if e.kind == "connection.changed"
                && ws.info().kind == crate::workspace::WorkspaceKind::Live
            {
                ws.apply_connection_changed(e).await?;
            }
            Ok(())
        })
    }
    Arc::new(crate::handlers::FnHandler {
        name: "team connection",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

impl Workspace {
    /// Where this replica's Graph calls go, set by whoever holds its token (the runner's own
    /// configuration): the team's ids still come from the log, never another address for it.
    pub async fn set_graph_base_url(&self, url: &str) -> Result<()> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConnectionError::Invalid {
                field: "Graph API address",
                problem: format!("an http(s) URL; “{url}” is not"),
            }
            .into());
        }
        let current = self.connection_row().await?;
        write_row(
            &mut *self.db().acquire().await?,
            [
                &current.phone_number_id,
                &current.waba_id,
                url,
                &current.graph_version,
            ],
            self.now_ms(),
        )
        .await?;
        self.graph_slot().reset().await;
        Ok(())
    }

    async fn apply_connection_changed(
        &self,
        e: &crate::relay::events::ReceivedEvent,
    ) -> Result<()> {
        let Ok(c) =
            serde_json::from_str::<crmconnect_events::payloads::ConnectionChanged>(e.raw.get())
        else {
            return Ok(());
        };
        if let Some(problem) = c.problem() {
            tracing::warn!(problem, "a connection change from the team was not taken");
            return Ok(());
        }
        let has_token = self.secret(SecretName::AccessToken).await?.is_some();
        let current = self.connection_row().await?;
        let (base, version) = if has_token {
            (
                current.graph_base_url.clone(),
                current.graph_version.clone(),
            )
        } else {
            (c.graph_base_url.clone(), c.graph_version.clone())
        };
        if current.phone_number_id == c.phone_number_id
            && current.waba_id == c.waba_id
            && current.graph_base_url == base
            && current.graph_version == version
        {
            return Ok(());
        }
        write_row(
            &mut *self.db().acquire().await?,
            [&c.phone_number_id, &c.waba_id, &base, &version],
            self.now_ms(),
        )
        .await?;
        self.graph_slot().reset().await;
        self.records_changed(Screen::Connection);
        Ok(())
    }
}

/// What the embedded sandbox gives a sandbox workspace to talk to it.
#[derive(Clone)]
pub struct SandboxConnection {
    pub graph_base_url: String,
    pub graph_version: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub access_token: Sensitive<String>,
}

impl Workspace {
    /// Points a *sandbox* workspace at its embedded sandbox (done by the system at launch: the
    /// sandbox's address changes every time). Secrets go to the keychain like any others.
    pub async fn configure_sandbox_connection(&self, c: SandboxConnection) -> Result<()> {
        if self.info().kind != crate::workspace::WorkspaceKind::Sandbox {
            return Err(ConnectionError::Invalid {
                field: "workspace",
                problem: "only a sandbox workspace can be pointed at the sandbox".into(),
            }
            .into());
        }
        let store = self.secrets().clone();
        let ws = self.info().slug.clone();
        tokio::task::spawn_blocking(move || {
            for name in SecretName::LEGACY {
                store.delete(&ws, name)?;
            }
            store.set(&ws, SecretName::AccessToken, &c.access_token)
        })
        .await
        .map_err(|e| ConnectionError::Join(e.to_string()))?
        .map_err(ConnectionError::from)?;
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        write_row(
            &mut tx,
            [
                &c.phone_number_id,
                &c.waba_id,
                &c.graph_base_url,
                &c.graph_version,
            ],
            crate::now_ms(),
        )
        .await?;
        let what = audit::Change::new(
            Screen::Connection,
            "connection.sandbox",
            "the embedded sandbox",
        );
        audit::insert(
            &mut tx,
            &crate::permissions::Principal::system(crate::permissions::SystemTask::Sandbox),
            &what,
            audit::Outcome::Ok,
            Some(&c.graph_base_url),
        )
        .await?;
        tx.commit().await?;
        self.graph_slot().reset().await;
        Ok(())
    }
}

/// Meta's messages per second for a number at its high throughput level.
pub const HIGH_THROUGHPUT_PER_SEC: u32 = 1000;

/// How fast a workspace's numbers send (Meta's throughput and pair rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPacing {
    /// Messages (and read receipts) per second per business number at Meta's standard level.
    pub throughput_per_sec: u32,
    /// The same after Meta's throughput upgrade (level HIGH).
    pub high_throughput_per_sec: u32,
    /// To one recipient: a burst, then one message per `pair_period`.
    pub pair_burst: u32,
    pub pair_period: std::time::Duration,
}

impl Default for SendPacing {
    fn default() -> Self {
        let g = GraphConfig::default();
        SendPacing {
            throughput_per_sec: g.throughput_per_sec,
            high_throughput_per_sec: HIGH_THROUGHPUT_PER_SEC,
            pair_burst: g.pair_burst,
            pair_period: g.pair_period,
        }
    }
}

/// Where a workspace keeps its one Graph client and the pacing it is built with.
impl Workspace {
    /// The workspace's one Graph client slot.
    pub(crate) fn graph_slot(&self) -> Arc<GraphSlot> {
        self.ext()
    }
}

#[derive(Default)]
pub struct GraphSlot {
    client: tokio::sync::Mutex<Option<(GraphClient, ConnectionIds)>>,
    pacing: std::sync::Mutex<SendPacing>,
}

impl GraphSlot {
    fn pacing(&self) -> SendPacing {
        *self.pacing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the client (after one being built from the old settings, if any): the next caller
    /// builds one from the saved connection.
    async fn reset(&self) {
        *self.client.lock().await = None;
    }
}

/// The ids a Graph call needs beside the token.
#[derive(Debug, Clone)]
pub struct ConnectionIds {
    pub phone_number_id: String,
    pub waba_id: String,
}

/// Whether Meta accepts the token for the number and the account: what "Test connection" and the
/// go-live flow show, one line each.
pub(crate) async fn graph_checks(client: &GraphClient, ids: &ConnectionIds) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |what: &str, ok: bool, message: String| {
        checks.push(Check {
            what: what.into(),
            ok,
            message,
        })
    };
    match client.phone_number(&ids.phone_number_id).await {
        Ok(n) => {
            push("Access token", true, "accepted by Meta".into());
            push(
                "Phone number id",
                true,
                format!("{} ({})", n.display_phone_number, n.verified_name),
            );
        }
        Err(e) => {
            let (what, message) = explain(
                &e,
                "Phone number id",
                &ids.phone_number_id,
                "whatsapp_business_messaging",
            );
            push(what, false, message);
        }
    }
    let q = crate::meta::client::TemplateQuery {
        limit: Some(1),
        ..Default::default()
    };
    match client.list_templates(&ids.waba_id, &q).await {
        Ok(_) => push(
            "WhatsApp Business Account id",
            true,
            "templates can be read".into(),
        ),
        Err(e) => {
            let (what, message) = explain(
                &e,
                "WhatsApp Business Account id",
                &ids.waba_id,
                "whatsapp_business_management",
            );
            push(what, false, message);
        }
    }
    checks
}

/// Which credential a refusal points at, in words.
fn explain<'a>(
    e: &ClientError,
    id_label: &'a str,
    id: &str,
    permission: &str,
) -> (&'a str, String) {
    match e.graph_code() {
        Some(190) | Some(0) => ("Access token", format!("Meta refused the token: {e}")),
        Some(10) | Some(3) | Some(200..=299) => (
            "Access token",
            format!("the token lacks the {permission} permission: {e}"),
        ),
        Some(100) => (
            id_label,
            format!("Meta does not know {id} (or the token cannot see it): {e}"),
        ),
        _ => (id_label, e.to_string()),
    }
}
