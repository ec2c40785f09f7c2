//! `crmconnect-runner`: CRMConnect WhatsApp's runtime without a window. It joins its team's
//! workspace through the relay and runs the workspace's automation (bots, campaigns) while it
//! holds the relay's lease; a second runner waits as standby. Links no Tauri or WebKit crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crmconnect::runner::{Credentials, RunnerSetup, RunnerState};
use crmconnect::sensitive::Sensitive;

#[derive(Parser)]
#[command(
    name = "crmconnect-runner",
    version,
    about = "CRMConnect WhatsApp runner: runs a workspace's bots and campaigns without a window",
    long_about = "CRMConnect WhatsApp runner: joins a team's workspace through its relay (a replica of \
its own, built from the team's log) and runs its automation — bots and campaigns — while it holds the \
workspace's automation lease. A second runner waits as standby and takes over within the lease's time \
(6 s by default) when the active one dies.\n\nConfiguration comes from the TOML file given with --config \
(see runner.example.toml), overridden by RUNNER_* environment variables (RUNNER_DATA_DIR, \
RUNNER_RELAY_URL, RUNNER_HOLDER, RUNNER_THROUGHPUT_PER_SEC…).\n\nCredentials never come from the configuration or the command line: \
the relay token is read from $CREDENTIALS_DIRECTORY/relay-token (systemd's LoadCredential=), the \
RUNNER_RELAY_TOKEN variable, or the OS keychain where one runs (`store-credential relay-token`, the \
value on standard input); Meta's access token, when automation sends, from \
$CREDENTIALS_DIRECTORY/meta-access-token, RUNNER_META_ACCESS_TOKEN or the keychain's meta-access-token; the AI \
endpoint's key (ai_base_url and ai_model in the configuration) from $CREDENTIALS_DIRECTORY/ai-key, RUNNER_AI_KEY \
or the keychain's ai-key. Logs are JSON lines on stdout (CRMCONNECT_LOG sets the level) and never carry a token."
)]
struct Cli {
    /// The TOML configuration file.
    #[arg(long, short, env = "RUNNER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Keeps a credential in the OS keychain (under the configuration's `keychain_name`), read
    /// from standard input, never from the command line: `crmconnect-runner --config runner.toml
    /// store-credential relay-token < token-file`.
    StoreCredential { name: CredentialName },
    /// Removes a credential from the OS keychain.
    ForgetCredential { name: CredentialName },
}

/// The runner's credentials, as files under $CREDENTIALS_DIRECTORY and entries in the keychain.
#[derive(Clone, Copy, clap::ValueEnum)]
enum CredentialName {
    RelayToken,
    MetaAccessToken,
    AiKey,
}

impl CredentialName {
    fn file(self) -> &'static str {
        match self {
            CredentialName::RelayToken => "relay-token",
            CredentialName::MetaAccessToken => "meta-access-token",
            CredentialName::AiKey => "ai-key",
        }
    }

    fn var(self) -> &'static str {
        match self {
            CredentialName::RelayToken => "RUNNER_RELAY_TOKEN",
            CredentialName::MetaAccessToken => "RUNNER_META_ACCESS_TOKEN",
            CredentialName::AiKey => "RUNNER_AI_KEY",
        }
    }

    #[cfg(feature = "keychain")]
    fn secret(self) -> crmconnect::secrets::SecretName {
        use crmconnect::secrets::SecretName;
        match self {
            CredentialName::RelayToken => SecretName::RelayToken,
            CredentialName::MetaAccessToken => SecretName::AccessToken,
            CredentialName::AiKey => SecretName::AiKey,
        }
    }
}

/// The configuration file's keys (a token in it is refused: see [`Cli`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Where the runner keeps its replica of the workspace.
    data_dir: PathBuf,
    /// The team's relay.
    relay_url: String,
    /// The runner's name in the lease; `runner@<host>:<pid>` when not given.
    #[serde(default)]
    holder: Option<String>,
    /// The OpenAI-compatible endpoint AI bots ask (`https://api.openai.com/v1`), and its model.
    #[serde(default)]
    ai_base_url: Option<String>,
    #[serde(default)]
    ai_model: Option<String>,
    /// Meta's Graph API address (https://graph.facebook.com when not given).
    #[serde(default)]
    graph_base_url: Option<String>,
    /// Messages per second a business number may send at Meta's standard level (80); a number
    /// Meta has upgraded sends at 1,000 by itself. Campaigns and bots take the number's rate
    /// minus the reserve for people chatting.
    #[serde(default)]
    throughput_per_sec: Option<u32>,
    /// Seconds a campaign send left unanswered by a crash waits for Meta's status before it
    /// needs a person's attention (120 by default).
    #[serde(default)]
    campaign_grace_secs: Option<u64>,
    /// The name this runner's credentials have in the OS keychain (`runner` when not given):
    /// two runners on one machine, for two workspaces, need two names.
    #[serde(default)]
    keychain_name: Option<String>,
}

impl Config {
    /// The keychain's "workspace" part of this runner's entries.
    #[cfg_attr(not(feature = "keychain"), allow(dead_code))]
    fn keychain_entry(&self) -> String {
        format!(
            "runner.{}",
            self.keychain_name.as_deref().unwrap_or("runner")
        )
    }
}

const SECRET_KEYS: &[&str] = &[
    "relay_token",
    "token",
    "meta_access_token",
    "access_token",
    "ai_key",
    "api_key",
];

fn load(file: Option<&Path>) -> Result<Config, String> {
    let mut figment = Figment::new();
    if let Some(file) = file {
        if !file.exists() {
            return Err(format!(
                "the configuration file {} does not exist",
                file.display()
            ));
        }
        let table: std::collections::BTreeMap<String, figment::value::Value> =
            Figment::from(Toml::file(file))
                .extract()
                .map_err(|e| format!("{}: {e}", file.display()))?;
        if let Some(key) = SECRET_KEYS.iter().find(|k| table.contains_key(**k)) {
            return Err(format!(
                "{} holds “{key}”: a token never goes in the configuration; give it as $CREDENTIALS_DIRECTORY/relay-token (or meta-access-token) or in RUNNER_RELAY_TOKEN",
                file.display()
            ));
        }
        figment = figment.merge(Toml::file(file));
    }
    figment
        .merge(Env::prefixed("RUNNER_").ignore(&[
            "CONFIG",
            "RELAY_TOKEN",
            "META_ACCESS_TOKEN",
            "AI_KEY",
        ]))
        .extract()
        .map_err(|e| format!("the configuration: {e}"))
}

/// A credential: `$CREDENTIALS_DIRECTORY/<file>`, else its environment variable, else the OS
/// keychain where one runs (a server usually has none: then it is simply not there).
fn credential(config: &Config, name: CredentialName) -> Result<Option<Sensitive<String>>, String> {
    if let Some(found) = credential_outside(name.file(), name.var())? {
        return Ok(Some(found));
    }
    #[cfg(feature = "keychain")]
    {
        use crmconnect::secrets::{Keychain, SecretError, SecretStore};
        match Keychain.get(&config.keychain_entry(), name.secret()) {
            Ok(found) => return Ok(found),
            Err(SecretError::Unavailable(why)) => {
                tracing::debug!(%why, "no OS keychain here");
            }
            Err(e) => return Err(format!("the {}: {e}", name.file())),
        }
    }
    #[cfg(not(feature = "keychain"))]
    let _ = config;
    Ok(None)
}

/// A credential in `$CREDENTIALS_DIRECTORY/<file>`, else in the environment variable `var`.
fn credential_outside(file: &str, var: &str) -> Result<Option<Sensitive<String>>, String> {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(file);
        if path.exists() {
            let value = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the credential {}: {e}", path.display()))?;
            let value = value.trim().to_owned();
            if value.is_empty() {
                return Err(format!("the credential {} is empty", path.display()));
            }
            return Ok(Some(Sensitive::new(value)));
        }
    }
    Ok(std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(Sensitive::new))
}

fn default_holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("runner@{host}:{}", std::process::id())
}

/// `store-credential` and `forget-credential`.
#[cfg(feature = "keychain")]
fn keep(config: &Config, command: Command) -> Result<(), String> {
    use crmconnect::secrets::{Keychain, SecretStore};
    match command {
        Command::StoreCredential { name } => {
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)
                .map_err(|e| format!("reading the {} from standard input: {e}", name.file()))?;
            let value = value.trim();
            if value.is_empty() {
                return Err(format!(
                    "no {} on standard input: crmconnect-runner store-credential {} < file",
                    name.file(),
                    name.file()
                ));
            }
            Keychain
                .set(
                    &config.keychain_entry(),
                    name.secret(),
                    &Sensitive::new(value.to_owned()),
                )
                .map_err(|e| e.to_string())?;
            println!(
                "the {} is in the OS keychain as {} (for this configuration's runner)",
                name.file(),
                config.keychain_entry()
            );
        }
        Command::ForgetCredential { name } => {
            Keychain
                .delete(&config.keychain_entry(), name.secret())
                .map_err(|e| e.to_string())?;
            println!("the {} is no longer in the OS keychain", name.file());
        }
    }
    Ok(())
}

#[cfg(not(feature = "keychain"))]
fn keep(_: &Config, _: Command) -> Result<(), String> {
    Err("this runner was built without the OS keychain (cargo feature `keychain`): give credentials as files under $CREDENTIALS_DIRECTORY or in the environment".into())
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = load(cli.config.as_deref())?;
    if let Some(command) = cli.command {
        return keep(&config, command);
    }
    let relay_token = credential(&config, CredentialName::RelayToken)?.ok_or(
        "no relay token: give it as $CREDENTIALS_DIRECTORY/relay-token (systemd LoadCredential=), in RUNNER_RELAY_TOKEN, or keep it in the OS keychain with `store-credential relay-token`",
    )?;
    let meta_access_token = credential(&config, CredentialName::MetaAccessToken)?;
    let ai_key = credential(&config, CredentialName::AiKey)?;
    let ai = match (config.ai_base_url, config.ai_model) {
        (Some(url), Some(model)) => Some((url, model)),
        (None, None) => None,
        _ => return Err("ai_base_url and ai_model go together: give both, or neither".into()),
    };
    let setup = RunnerSetup {
        data_dir: config.data_dir,
        relay_url: config.relay_url,
        holder: config.holder.unwrap_or_else(default_holder),
        ai,
        graph_base_url: config.graph_base_url,
        throughput_per_sec: config.throughput_per_sec,
        campaign_grace: config
            .campaign_grace_secs
            .map(std::time::Duration::from_secs),
    };
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        on_signal.cancel();
    });
    let (state, _) = watch::channel(RunnerState::Starting);
    crmconnect::runner::run(
        setup,
        Credentials {
            relay_token,
            meta_access_token,
            ai_key,
        },
        state,
        stop,
    )
    .await
    .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> ExitCode {
    crmconnect::logging::init_relay();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crmconnect-runner: {e}");
            ExitCode::FAILURE
        }
    }
}
