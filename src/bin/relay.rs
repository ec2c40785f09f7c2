//! `relay`: the headless server of CRMConnect WhatsApp. Links no Tauri, WebKit or keychain crate.

/// mimalloc rather than glibc's malloc: a webhook's events are allocated on a request's thread and
/// freed on the writer's, and glibc then contends on its arena locks (futex wake-ups under load).
/// With 100 desktops on 2 cores, `cargo bench --bench relay_throughput` (which uses it too) went
/// from 15,500–19,400 to 19,800–22,500 events/s, 94–118 to 82–93 µs of CPU per event.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crmconnect::permissions::Permission;
use crmconnect::relay::RelayConfig;
use crmconnect::relay::store::Store;
use crmconnect::relay::tokens::{self, TokenSpec};

#[derive(Parser)]
#[command(
    name = "relay",
    version,
    about = "CRMConnect WhatsApp relay: receives Meta's webhooks and streams them to the team's desktops",
    long_about = "CRMConnect WhatsApp relay: receives Meta's webhooks, verifies their signatures, keeps one \
durable, totally ordered event log per workspace (SQLite, or PostgreSQL for several instances) and \
streams it to every desktop of the team.\n\nConfiguration comes from the TOML file given with --config \
(see relay.example.toml), overridden by RELAY_* environment variables (RELAY_LISTEN, RELAY_DATABASE_URL, \
RELAY_WORKSPACES__<ID>__APP_SECRET…), overridden by the flags below."
)]
struct Cli {
    /// The TOML configuration file.
    #[arg(long, short, global = true, env = "RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// The event log database: sqlite:///path/relay.db or postgres://user@host/db (overrides the
    /// configuration's database_url).
    #[arg(long, global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the webhook endpoint (/webhook/<workspace>), the desktops' stream (/v1/stream) and
    /// publish endpoint (/v1/events), /healthz and /metrics. Migrates the database first. Stops
    /// gracefully on Ctrl-C or SIGTERM.
    Serve {
        /// Address and port to listen on (overrides the configuration's listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Create or update the event log's tables, then exit.
    Migrate,
    /// Issue, list or revoke the tokens desktops connect with.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the log of a workspace from a sequence number, as JSON lines (one event each, with
    /// its parsed fields and raw JSON).
    Events {
        /// The workspace id.
        #[arg(long, short)]
        workspace: String,
        /// Print events after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Print at most this many events (0: all).
        #[arg(long, default_value_t = 0)]
        limit: i64,
        /// Keep printing new events as they are stored.
        #[arg(long)]
        follow: bool,
    },
    /// Run the sandbox: a local stand-in for Meta's Graph API that sends signed webhooks
    /// (control endpoints under /sandbox; see the `crmconnect::sandbox` docs).
    Sandbox {
        /// Address and port to listen on.
        #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8788")]
        listen: SocketAddr,
        /// Where to POST webhooks (e.g. the relay's webhook endpoint); can be set later with
        /// PUT /sandbox/webhooks/target.
        #[arg(long, env = "SANDBOX_WEBHOOK_URL")]
        webhook_url: Option<String>,
        /// The app secret webhooks are signed with (X-Hub-Signature-256).
        #[arg(
            long,
            env = "SANDBOX_APP_SECRET",
            default_value = "sandbox-app-secret",
            hide_env_values = true
        )]
        app_secret: String,
        /// The access token the Graph API accepts.
        #[arg(
            long,
            env = "SANDBOX_ACCESS_TOKEN",
            default_value = "sandbox-token",
            hide_env_values = true
        )]
        access_token: String,
        /// The token sent in Meta's hub.verify_token handshake.
        #[arg(
            long,
            env = "SANDBOX_VERIFY_TOKEN",
            default_value = "sandbox-verify-token",
            hide_env_values = true
        )]
        verify_token: String,
        /// Seconds (sandbox time) a new template stays PENDING before its review.
        #[arg(long, default_value_t = 60)]
        approval_delay: u64,
        /// Share of accepted messages that fail (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        failure_rate: f64,
        /// Messages per second per number before error 130429.
        #[arg(long, default_value_t = 80)]
        throughput_mps: u32,
        /// Simulated customers answer buttons, lists and quick replies they read.
        #[arg(long)]
        auto_reply: bool,
        /// Each simulated customer sends a first message at start.
        #[arg(long)]
        greet: bool,
        /// Seed of ids and simulated failures.
        #[arg(long, default_value_t = 0x5A4D_B0C5)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token for a staff member of a workspace; it is printed once and stored hashed.
    Issue {
        /// The workspace id.
        #[arg(long, short)]
        workspace: String,
        /// The staff member (their username in the desktop app).
        #[arg(long, short)]
        staff: String,
        /// The staff member is an administrator (every permission).
        #[arg(long)]
        admin: bool,
        /// A permission of the staff member's role, as resource:action (e.g. whatsapp_chat:send);
        /// repeat or separate with commas.
        #[arg(long, value_delimiter = ',')]
        grant: Vec<String>,
        /// A note for `token list` (e.g. the computer).
        #[arg(long, default_value = "")]
        label: String,
        /// The token stops working after this long: a number of days (`90d`) or hours (`12h`).
        /// Without it, it works until revoked.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<std::time::Duration>,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Only this workspace.
        #[arg(long, short)]
        workspace: Option<String>,
    },
    /// Revoke a token by id; its desktop is disconnected within the poll interval.
    Revoke {
        /// The token id (see `token list`).
        id: String,
    },
}

fn load_config(
    file: Option<&std::path::Path>,
    database_url: Option<String>,
) -> Result<RelayConfig, Box<dyn std::error::Error>> {
    let mut config = RelayConfig::load(file)?;
    if let Some(url) = database_url {
        config.database_url = url;
    }
    config.validate()?;
    Ok(config)
}

async fn store(config: &RelayConfig) -> Result<Store, Box<dyn std::error::Error>> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve { listen } => {
            let mut config = load_config(file, cli.database_url)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            crmconnect::relay::serve(config).await?;
        }
        Command::Migrate => {
            let config = load_config(file, cli.database_url)?;
            store(&config).await?;
            println!("the event log's schema is up to date");
        }
        Command::Token(cmd) => {
            let config = load_config(file, cli.database_url)?;
            let store = store(&config).await?;
            token(&store, cmd).await?;
        }
        Command::Events {
            workspace,
            after,
            limit,
            follow,
        } => {
            let config = load_config(file, cli.database_url)?;
            let store = store(&config).await?;
            let mut cursor = after;
            let mut printed = 0i64;
            let out = std::io::stdout();
            loop {
                let page = if limit > 0 {
                    (limit - printed).min(1000)
                } else {
                    1000
                };
                let events = store.read_after(&workspace, cursor, page).await?;
                {
                    let mut out = out.lock();
                    for e in &events {
                        writeln!(out, "{}", e.to_json())?;
                    }
                    out.flush()?;
                }
                printed += events.len() as i64;
                if let Some(last) = events.last() {
                    cursor = last.seq;
                }
                if limit > 0 && printed >= limit {
                    break;
                }
                if events.is_empty() {
                    if !follow {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        }
        Command::Sandbox {
            listen,
            webhook_url,
            app_secret,
            access_token,
            verify_token,
            approval_delay,
            failure_rate,
            throughput_mps,
            auto_reply,
            greet,
            seed,
        } => {
            let config = crmconnect::sandbox::SandboxConfig {
                listen,
                webhook_url,
                app_secret: app_secret.as_str().into(),
                access_token: access_token.as_str().into(),
                verify_token: verify_token.as_str().into(),
                template_approval_delay: std::time::Duration::from_secs(approval_delay),
                failure_rate,
                throughput_mps,
                auto_reply,
                greet_on_start: greet,
                seed,
                ..Default::default()
            };
            crmconnect::sandbox::serve(config).await?;
        }
    }
    Ok(())
}

/// `90d` or `12h`, for `--expires-in`.
fn parse_lifetime(s: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("“{s}” is not a number of days or hours, such as 90d or 12h"))?;
    match unit {
        "d" if n > 0 => Ok(std::time::Duration::from_secs(n * 86_400)),
        "h" if n > 0 => Ok(std::time::Duration::from_secs(n * 3_600)),
        _ => Err(format!(
            "“{s}” is not a number of days or hours, such as 90d or 12h"
        )),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// How long until `ms`, for people: `89 d 23 h`, `5 h 10 min`.
fn time_left(ms: i64) -> String {
    let mins = (ms - now_ms()).max(0) / 60_000;
    let (d, h, m) = (mins / 1440, mins % 1440 / 60, mins % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else {
        format!("{h} h {m} min")
    }
}

async fn token(store: &Store, cmd: TokenCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        TokenCommand::Issue {
            workspace,
            staff,
            admin,
            grant,
            label,
            expires_in,
        } => {
            let permissions = grant
                .iter()
                .filter(|g| !g.trim().is_empty())
                .map(|g| g.parse::<Permission>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--grant: {e}"))?;
            let (record, token) = tokens::issue(
                store,
                TokenSpec {
                    workspace,
                    staff,
                    is_admin: admin,
                    permissions,
                    label,
                    expires_at: expires_in.map(|d| now_ms() + d.as_millis() as i64),
                },
            )
            .await?;
            eprintln!(
                "token {} issued for {} in workspace {}; it is shown once, keep it in the desktop's keychain:",
                record.id, record.staff, record.workspace
            );
            println!("{token}");
        }
        TokenCommand::List { workspace } => {
            let list = store.list_tokens(workspace.as_deref()).await?;
            if list.is_empty() {
                eprintln!("no tokens");
            }
            for t in list {
                let perms = if t.is_admin {
                    "admin".to_string()
                } else {
                    t.permissions
                        .iter()
                        .map(|p| format!("{}:{}", p.resource.key(), p.action.key()))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(_), _) => "revoked".to_owned(),
                    (None, Some(at)) if at <= now_ms() => "expired".to_owned(),
                    (None, Some(at)) => format!("active, expires in {}", time_left(at)),
                    (None, None) => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id, t.workspace, t.staff, state, perms, t.label
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if store.revoke_token(&id).await? {
                println!("token {id} revoked");
            } else {
                return Err(format!("there is no active token {id}").into());
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    crmconnect::logging::init_relay();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relay: {e}");
            ExitCode::FAILURE
        }
    }
}
