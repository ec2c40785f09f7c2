//! Going live: a workspace of its own for the team's real WhatsApp number, on the team's relay.
//!
//! The guided flow checks each part before anything is written:
//! 1. [`Workspaces::check_meta`]: Meta accepts the access token for the number and the account;
//! 2. [`Workspaces::check_relay`]: the relay answers and the token is an administrator's;
//! 3. [`Workspaces::create_live`]: the workspace (named by the relay's workspace id), its owner
//!    (the staff member the token names, with a local passphrase), the connection's ids and
//!    secrets in the keychain, the relay settings. A step that fails removes what was created;
//! 4. [`Ctx::connect_webhooks`]: the relay learns Meta's app secret and a fresh verify token
//!    (`PUT /v1/webhook`), then the app subscribes the account with the relay as its alternate
//!    callback URL (`POST /{waba}/subscribed_apps`), which Meta checks with its handshake. The
//!    app secret is not kept on the desktop; the verify token is shown once.
//!
//! The sandbox workspace is left as it was: each workspace has its own folder, database and
//! keychain entries.

use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{self, Change, Outcome};
use crate::connection::{Check, ConnectionIds, ConnectionInput, TestReport};
use crate::meta::client::{GraphClient, GraphConfig};
use crate::screens::Screen;
use crate::secrets::SecretName;
use crate::sensitive::Sensitive;
use crate::staff::NewStaff;
use crate::sync::SyncError;
use crate::sync::relay_client::RelayClient;
use crate::workspace::{Ctx, Workspace, WorkspaceKind, Workspaces};
use crate::{ErrorCode, Result};

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("{what}: {message}")]
    CheckFailed { what: String, message: String },
    #[error(
        "the relay token is {staff}'s, who is not an administrator of workspace “{workspace}”: going live needs an administrator's token (`relay token issue --admin`)"
    )]
    NotAdmin { staff: String, workspace: String },
    #[error("workspace “{0}” is already on this computer: switch to it from the workspace menu")]
    AlreadyHere(String),
}

impl crate::error::Coded for LiveError {
    fn code(&self) -> ErrorCode {
        match self {
            LiveError::Invalid { .. } | LiveError::CheckFailed { .. } => ErrorCode::Invalid,
            LiveError::NotAdmin { .. } => ErrorCode::PermissionDenied,
            LiveError::AlreadyHere(_) => ErrorCode::Conflict,
        }
    }
}

/// The Meta credentials the flow asks for (from the app dashboard's WhatsApp → API Setup).
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct MetaAccess {
    pub phone_number_id: String,
    pub waba_id: String,
    #[ts(type = "string")]
    pub access_token: Sensitive<String>,
    /// Meta's Graph API when empty; another address is for a sandbox playing Meta.
    #[ts(optional)]
    pub graph_base_url: Option<String>,
}

/// The team's relay and a token its operator issued (`relay token issue --admin`).
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct RelayAccess {
    pub relay_url: String,
    #[ts(type = "string")]
    pub token: Sensitive<String>,
}

/// What step 2 found.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RelayReport {
    pub ok: bool,
    pub checks: Vec<Check>,
    /// The relay's id of the workspace: the new workspace's too.
    pub workspace: String,
    /// Who the token names: the owner's username here.
    pub staff: String,
    /// Whether the relay already checks this workspace's webhooks (from its file or a former
    /// go-live).
    pub webhooks_configured: bool,
}

/// Everything the flow collected.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct GoLive {
    /// What the workspace is called in the workspace menu.
    pub name: String,
    pub meta: MetaAccess,
    pub relay: RelayAccess,
    /// The owner's name as shown to the team.
    pub owner_name: String,
    /// What unlocks this desktop for the owner.
    #[ts(type = "string")]
    pub passphrase: Sensitive<String>,
}

/// Joining a team's workspace with a staff member's token.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct JoinTeam {
    pub relay: RelayAccess,
    /// What the workspace is called in the workspace menu here.
    pub name: String,
    /// Your name as the team sees it.
    pub owner_name: String,
    /// What unlocks this desktop for you.
    #[ts(type = "string")]
    pub passphrase: Sensitive<String>,
}

/// What step 4 did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WebhookReport {
    pub ok: bool,
    pub checks: Vec<Check>,
    /// The relay's webhook endpoint for this workspace: Meta's callback URL.
    pub callback_url: String,
    /// The verify token the relay now expects, shown once: paste it with the callback URL into
    /// the app dashboard's WhatsApp → Configuration, where template and account webhooks (which
    /// a WABA's alternate URL does not take) are sent.
    pub verify_token: String,
}

/// One workspace on this computer, for the workspace menu.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WorkspaceSummary {
    pub slug: String,
    pub name: String,
    pub kind: WorkspaceKind,
}

/// The workspaces on this computer and which one is open.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WorkspaceMenu {
    pub current: Option<String>,
    pub workspaces: Vec<WorkspaceSummary>,
}

fn check(what: &str, ok: bool, message: impl Into<String>) -> Check {
    Check {
        what: what.into(),
        ok,
        message: message.into(),
    }
}

fn first_failure(checks: &[Check]) -> Option<LiveError> {
    checks
        .iter()
        .find(|c| !c.ok)
        .map(|c| LiveError::CheckFailed {
            what: c.what.clone(),
            message: c.message.clone(),
        })
}

/// A folder-safe workspace id: what the relay accepts for its workspaces.
fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl MetaAccess {
    fn client(&self) -> std::result::Result<(GraphClient, ConnectionIds), LiveError> {
        let invalid = |e: crate::connection::ConnectionError| match e {
            crate::connection::ConnectionError::Invalid { field, problem } => {
                LiveError::Invalid { field, problem }
            }
            other => LiveError::Invalid {
                field: "connection",
                problem: other.to_string(),
            },
        };
        let phone =
            crate::connection::digits("phone number id", &self.phone_number_id).map_err(invalid)?;
        let waba = crate::connection::digits("WhatsApp Business Account id", &self.waba_id)
            .map_err(invalid)?;
        for (field, v) in [
            ("phone number id", &phone),
            ("WhatsApp Business Account id", &waba),
        ] {
            if v.is_empty() {
                return Err(LiveError::Invalid {
                    field,
                    problem: "is required (WhatsApp → API Setup in Meta's app dashboard)".into(),
                });
            }
        }
        if self.access_token.expose().trim().is_empty() {
            return Err(LiveError::Invalid {
                field: "access token",
                problem: "is required: a system user's permanent token with whatsapp_business_messaging and whatsapp_business_management".into(),
            });
        }
        let base =
            crate::connection::checked_base_url(self.graph_base_url.as_deref()).map_err(invalid)?;
        let config = GraphConfig {
            base_url: base,
            ..GraphConfig::default()
        };
        let token = Sensitive::new(self.access_token.expose().trim().to_owned());
        let client = GraphClient::new(&config, token).map_err(|e| LiveError::Invalid {
            field: "Graph API address",
            problem: e.to_string(),
        })?;
        Ok((
            client,
            ConnectionIds {
                phone_number_id: phone,
                waba_id: waba,
            },
        ))
    }
}

impl Workspaces {
    /// The workspaces on this computer, the sandbox first, then by name.
    pub async fn list(&self) -> Result<Vec<WorkspaceSummary>> {
        let dir = self.root().join("workspaces");
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => {
                return Err(
                    crate::workspace::WorkspaceError::CreateDir { path: dir, source }.into(),
                );
            }
        };
        for entry in entries.flatten() {
            let db = entry.path().join("workspace.db");
            if !db.exists() {
                continue;
            }
            match read_summary(&db).await {
                Ok(s) => out.push(s),
                Err(e) => {
                    tracing::warn!(path = %db.display(), error = %e, "a workspace could not be read")
                }
            }
        }
        out.sort_by(|a, b| {
            (a.kind != WorkspaceKind::Sandbox, a.name.to_lowercase())
                .cmp(&(b.kind != WorkspaceKind::Sandbox, b.name.to_lowercase()))
        });
        Ok(out)
    }

    /// Step 1: whether Meta accepts the credentials. Nothing is saved.
    pub async fn check_meta(&self, meta: &MetaAccess) -> Result<TestReport> {
        let (client, ids) = meta.client()?;
        let checks = crate::connection::graph_checks(&client, &ids).await;
        Ok(TestReport {
            ok: checks.iter().all(|c| c.ok),
            checks,
        })
    }

    /// Step 2: whether the relay answers the token, and whether it is an administrator's.
    pub async fn check_relay(&self, relay: &RelayAccess) -> Result<RelayReport> {
        relay_report(relay, true).await
    }

    /// Joining a team: whether the relay answers the token (anyone's) and which workspace and
    /// staff member it names.
    pub async fn check_join(&self, relay: &RelayAccess) -> Result<RelayReport> {
        relay_report(relay, false).await
    }

    /// The relay's workspace id, when its checks passed and no workspace here has it.
    fn new_slug(&self, relay: &RelayReport) -> Result<String> {
        if let Some(e) = first_failure(&relay.checks) {
            return Err(e.into());
        }
        let slug = relay.workspace.clone();
        if self.root().join("workspaces").join(&slug).exists() {
            return Err(LiveError::AlreadyHere(slug).into());
        }
        Ok(slug)
    }

    /// Joins a team's workspace on this computer with a staff member's token (issued by an
    /// administrator in Settings → Team): the workspace is created empty, its owner here is the
    /// staff member the token names (with a local passphrase), and sync catches up with the
    /// team's log once it is opened. Meta's access token is not part of it: it never travels.
    pub async fn join(&self, input: JoinTeam) -> Result<Workspace> {
        let name = required_name(&input.name)?;
        let relay = self.check_join(&input.relay).await?;
        let slug = self.new_slug(&relay)?;
        let ws = self.create(&slug, &name, WorkspaceKind::Live).await?;
        let set_up = async {
            sign_in_owner(&ws, &input.owner_name, &relay.staff, &input.passphrase).await?;
            ws.cx()
                .set_relay(&input.relay.relay_url, Some(input.relay.token.clone()))
                .await
        };
        match set_up.await {
            Ok(()) => {
                tracing::info!(workspace = %slug, "joined a team's workspace");
                Ok(ws)
            }
            Err(e) => {
                remove_half_made(ws).await;
                Err(e)
            }
        }
    }

    /// Step 3: creates the live workspace, signed in as its owner. Checks Meta and the relay
    /// again first; if a step fails after the folder was made, the folder is removed.
    pub async fn create_live(&self, input: GoLive) -> Result<Workspace> {
        let name = required_name(&input.name)?;
        let meta = self.check_meta(&input.meta).await?;
        if let Some(e) = first_failure(&meta.checks) {
            return Err(e.into());
        }
        let relay = self.check_relay(&input.relay).await?;
        let slug = self.new_slug(&relay)?;
        let ws = self.create(&slug, &name, WorkspaceKind::Live).await?;
        match set_up(&ws, &input, &relay.staff).await {
            Ok(()) => {
                tracing::info!(workspace = %slug, "live workspace created");
                Ok(ws)
            }
            Err(e) => {
                remove_half_made(ws).await;
                Err(e)
            }
        }
    }
}

/// The owner, the connection and the relay settings of a new live workspace.
async fn set_up(ws: &Workspace, input: &GoLive, staff: &str) -> Result<()> {
    sign_in_owner(ws, &input.owner_name, staff, &input.passphrase).await?;
    let cx = ws.cx();
    cx.save_connection(ConnectionInput {
        phone_number_id: input.meta.phone_number_id.clone(),
        waba_id: input.meta.waba_id.clone(),
        graph_base_url: input.meta.graph_base_url.clone(),
        graph_version: None,
        access_token: Some(Sensitive::new(
            input.meta.access_token.expose().trim().to_owned(),
        )),
    })
    .await?;
    cx.set_relay(&input.relay.relay_url, Some(input.relay.token.clone()))
        .await?;
    // The team's log names its owner, an administrator, and its roles first.
    cx.share_team().await?;
    Ok(())
}

/// The workspace's name as typed, which may not be empty.
fn required_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LiveError::Invalid {
            field: "workspace name",
            problem: "is required".into(),
        }
        .into());
    }
    Ok(name.to_owned())
}

/// The new workspace's owner here: the staff member the relay token names.
async fn sign_in_owner(
    ws: &Workspace,
    name: &str,
    staff: &str,
    passphrase: &Sensitive<String>,
) -> Result<()> {
    ws.create_owner(NewStaff {
        name: name.trim().to_owned(),
        username: staff.to_owned(),
        role_id: 0,
        passphrase: passphrase.clone(),
    })
    .await?;
    ws.sign_in(staff, passphrase.clone()).await?;
    Ok(())
}

/// Removes a workspace whose set-up failed: its keychain entries and its folder (only ours).
async fn remove_half_made(ws: Workspace) {
    let slug = ws.info().slug.clone();
    let folder = Path::new(&ws.info().path).parent().map(Path::to_path_buf);
    ws.close().await;
    let store = ws.secrets().clone();
    let _ = tokio::task::spawn_blocking(move || {
        for name in [SecretName::AccessToken, SecretName::RelayToken] {
            let _ = store.delete(&slug, name);
        }
    })
    .await;
    if let Some(folder) = folder
        && let Err(io) = std::fs::remove_dir_all(&folder)
    {
        tracing::warn!(path = %folder.display(), error = %io, "could not remove the half-made workspace");
    }
}

/// What the relay says of a token: the workspace, who, and (when `need_admin`) whether it is an
/// administrator's.
async fn relay_report(relay: &RelayAccess, need_admin: bool) -> Result<RelayReport> {
    let client =
        RelayClient::new(&relay.relay_url, relay.token.clone()).map_err(SyncError::from)?;
    let mut report = RelayReport {
        ok: false,
        checks: vec![],
        workspace: String::new(),
        staff: String::new(),
        webhooks_configured: false,
    };
    let who = match client.whoami().await {
        Ok(w) => w,
        Err(e) => {
            report.checks.push(check("Relay", false, e.to_string()));
            return Ok(report);
        }
    };
    report.workspace = who.workspace.clone();
    report.staff = who.staff.clone();
    report.checks.push(check(
        "Relay",
        true,
        format!(
            "{} answers; workspace “{}”",
            client.base_url(),
            who.workspace
        ),
    ));
    if !slug_ok(&who.workspace) {
        report.checks.push(check(
            "Workspace id",
            false,
            format!(
                "“{}” cannot name a folder here: issue a token for a workspace id of lowercase letters, digits, - and _",
                who.workspace
            ),
        ));
    }
    if !need_admin {
        report.checks.push(check(
            "Token",
            true,
            if who.is_admin {
                format!("{}'s, an administrator's", who.staff)
            } else {
                format!("{}'s", who.staff)
            },
        ));
        report.ok = report.checks.iter().all(|c| c.ok);
        return Ok(report);
    }
    if !who.is_admin {
        report.checks.push(check(
            "Token",
            false,
            LiveError::NotAdmin {
                staff: who.staff,
                workspace: who.workspace,
            }
            .to_string(),
        ));
        return Ok(report);
    }
    report.checks.push(check(
        "Token",
        true,
        format!("an administrator's ({})", who.staff),
    ));
    match client.webhook().await {
        Ok(v) => report.webhooks_configured = v.configured,
        Err(e) => report.checks.push(check(
            "Webhook settings",
            false,
            format!("the relay cannot take the workspace's webhook settings: {e}"),
        )),
    }
    report.ok = report.checks.iter().all(|c| c.ok);
    Ok(report)
}

async fn read_summary(db: &Path) -> Result<WorkspaceSummary> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await?;
    let row = sqlx::query!("SELECT slug, name, kind FROM workspace WHERE id = 1")
        .fetch_one(&mut conn)
        .await?;
    Ok(WorkspaceSummary {
        slug: row.slug,
        name: row.name,
        kind: if row.kind == "live" {
            WorkspaceKind::Live
        } else {
            WorkspaceKind::Sandbox
        },
    })
}

/// 32 random bytes, URL-safe: what the relay will expect as `hub.verify_token`.
fn new_verify_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl Ctx<'_> {
    /// Step 4 (and "Connect webhooks again" on the Connection screen): gives the relay Meta's app
    /// secret and a new verify token, then subscribes the account's webhooks with the relay as
    /// its callback URL, and reads the subscription back. Each part is a line of the report; a
    /// part that fails leaves the others as they were.
    pub async fn connect_webhooks(&self, app_secret: Sensitive<String>) -> Result<WebhookReport> {
        let actor = self.actor().await?;
        actor.require_admin(Screen::Connection.label())?;
        if self.info().kind != WorkspaceKind::Live {
            return Err(LiveError::Invalid {
                field: "workspace",
                problem: "the sandbox workspace's webhooks come from its own sandbox".into(),
            }
            .into());
        }
        if app_secret.expose().trim().is_empty() {
            return Err(LiveError::Invalid {
                field: "app secret",
                problem: "is required: App settings → Basic → App secret in Meta's app dashboard"
                    .into(),
            }
            .into());
        }
        let settings = self.relay_settings().await?;
        let token = self.relay_token().await?.ok_or(SyncError::NotConfigured)?;
        let relay = RelayClient::new(&settings.relay_url, token).map_err(SyncError::from)?;
        let who = relay.whoami().await.map_err(SyncError::from)?;
        let callback_url = format!("{}/webhook/{}", relay.base_url(), who.workspace);
        let verify = Sensitive::new(new_verify_token());
        let (graph, ids) = self.graph_client().await?;
        let mut report = WebhookReport {
            ok: false,
            checks: vec![],
            callback_url: callback_url.clone(),
            verify_token: String::new(),
        };
        let secret = Sensitive::new(app_secret.expose().trim().to_owned());
        match relay
            .set_webhook(
                &secret,
                &verify,
                &ids.waba_id,
                std::slice::from_ref(&ids.phone_number_id),
            )
            .await
        {
            Ok(_) => report.checks.push(check(
                "Relay",
                true,
                "checks this workspace's webhooks with the app secret",
            )),
            Err(e) => {
                report.checks.push(check("Relay", false, e.to_string()));
                self.log_webhooks(&actor, &report).await?;
                return Ok(report);
            }
        }
        report.verify_token = verify.expose().clone();
        match graph
            .subscribe_app(&ids.waba_id, Some((&callback_url, verify.expose())))
            .await
        {
            Ok(()) => report.checks.push(check(
                "Meta",
                true,
                format!("sends the account's messages and statuses to {callback_url}"),
            )),
            Err(e) => {
                let message = match e.graph_code() {
                    Some(2200) => format!(
                        "Meta could not reach the relay at {callback_url}: it must answer from the internet over https. {e}"
                    ),
                    _ => e.to_string(),
                };
                report.checks.push(check("Meta", false, message));
            }
        }
        if report.checks.iter().all(|c| c.ok) {
            match graph.subscribed_apps(&ids.waba_id).await {
                Ok(apps)
                    if apps
                        .iter()
                        .any(|a| a.override_callback_uri.as_deref() == Some(&callback_url)) =>
                {
                    report.checks.push(check(
                        "Subscription",
                        true,
                        "Meta lists the relay as the account's callback URL",
                    ))
                }
                Ok(_) => report.checks.push(check(
                    "Subscription",
                    false,
                    "Meta accepted the subscription but does not list the relay's URL",
                )),
                Err(e) => report
                    .checks
                    .push(check("Subscription", false, e.to_string())),
            }
        }
        report.ok = report.checks.iter().all(|c| c.ok);
        self.log_webhooks(&actor, &report).await?;
        Ok(report)
    }

    async fn log_webhooks(
        &self,
        actor: &crate::permissions::Principal,
        report: &WebhookReport,
    ) -> Result<()> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let what = Change::new(
            Screen::Connection,
            "connection.webhooks",
            report.callback_url.clone(),
        );
        let detail = report
            .checks
            .iter()
            .map(|c| format!("{}: {}", c.what, if c.ok { "ok" } else { &c.message }))
            .collect::<Vec<_>>()
            .join("; ");
        // Done either way; the detail says which part failed and why.
        audit::insert(&mut tx, actor, &what, Outcome::Ok, Some(&detail)).await?;
        tx.commit().await?;
        Ok(())
    }
}
