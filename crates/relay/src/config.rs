//! The relay's configuration: a TOML file (see `relay.example.toml` at the repository's root),
//! overridden by `RELAY_…` environment variables (`RELAY_LISTEN`, `RELAY_DATABASE_URL`,
//! `RELAY_WORKSPACES__ACME__APP_SECRET`…: a double underscore goes one table deeper), overridden
//! by command-line flags.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

use crmconnect_base::sensitive::Sensitive;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite:///path/relay.db` (the default, one instance) or `postgres://user@host/db`
    /// (several instances sharing one database).
    pub database_url: String,
    /// Serve HTTPS directly. Leave out behind a reverse proxy that terminates TLS.
    pub tls: Option<TlsConfig>,
    pub limits: Limits,
    pub retention: Retention,
    /// The workspaces this relay serves, by id. Meta's callback URL for a workspace is
    /// `https://<relay>/webhook/<id>`.
    pub workspaces: BTreeMap<String, WorkspaceConfig>,
    /// What `/metrics` asks for (`Authorization: Bearer <token>`). Unset, it answers only
    /// requests from this machine (loopback): set it when a reverse proxy on this machine
    /// forwards the public's requests, or the metrics (token and workspace ids) would be public.
    pub metrics_token: Option<Sensitive<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// The Meta app's secret: every webhook's X-Hub-Signature-256 is checked with it.
    pub app_secret: Sensitive<String>,
    /// What Meta sends as hub.verify_token when the callback URL is set up.
    pub verify_token: Sensitive<String>,
    /// The WhatsApp Business Account this workspace is. Set, a webhook about another account
    /// (one app can serve several) is refused instead of landing in this workspace's log.
    #[serde(default)]
    pub waba_id: Option<String>,
    /// This workspace's phone numbers (their ids). Set, a webhook for another number is refused.
    #[serde(default)]
    pub phone_number_ids: Vec<String>,
}

/// The shortest secret the relay accepts: Meta's app secrets are 32 characters.
pub const MIN_SECRET_CHARS: usize = 16;

/// Whether `value` may be a workspace's `name` (`app_secret`, `verify_token`); the error names
/// the problem.
pub fn check_secret(name: &str, value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n < MIN_SECRET_CHARS {
        return Err(format!(
            "{name} has {n} characters; at least {MIN_SECRET_CHARS} are needed (a guessable one lets anyone write into the log)"
        ));
    }
    if n > 512 || value.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be at most 512 characters, without line breaks or control characters"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Larger webhook bodies get 413 (Meta's payloads are at most 3 MB).
    pub max_body_bytes: usize,
    /// The most events committed in one transaction.
    pub max_batch: usize,
    /// While webhooks arrive faster than the log commits them (the last commit took more than
    /// one), a commit starts no sooner than this many microseconds after the previous one
    /// started, and takes everything that arrived meanwhile: fewer, larger commits, and so fewer
    /// frames to every desktop, for at most this much added latency. An idle relay commits each
    /// webhook at once whatever this is; 0 never waits.
    pub commit_window_us: u64,
    /// How many recent events each workspace keeps in memory for its live clients.
    pub tail_events: usize,
    /// A client that does not take a frame within this many milliseconds is disconnected (it
    /// resumes from its cursor when it reconnects).
    pub send_timeout_ms: u64,
    /// How often streams look for events committed by another relay instance (PostgreSQL), and
    /// for revoked tokens.
    pub poll_interval_ms: u64,
    /// Events per frame sent to a client.
    pub frame_events: usize,
    /// A frame takes no more events once its events' JSON reaches this many bytes (it always
    /// takes one, so a frame is at most this plus one event): large events then come in frames
    /// a desktop can take, never one that outgrows the stream's buffers.
    pub frame_bytes: usize,
    /// How many bytes of recent events each workspace keeps in memory, whichever of this and
    /// `tail_events` is reached first.
    pub tail_bytes: usize,
    /// How many streams one desktop token may have open at once.
    pub streams_per_token: usize,
    /// Open connections at most, in all (a connection over it is closed at once).
    pub max_connections: usize,
    /// Open connections at most from one client address. Meta's webhooks come from many
    /// addresses; a team behind one NAT shares one (a desktop keeps one stream open).
    pub max_connections_per_ip: usize,
    /// A client that has not sent a request's headers within this many milliseconds is
    /// disconnected (slowloris).
    pub header_timeout_ms: u64,
    /// How long the automation lease lasts without a renewal: a runner renews it every third of
    /// this, and a standby takes over within this (plus its own poll) when the holder dies.
    pub lease_ttl_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_batch: 4096,
            commit_window_us: 2_000,
            tail_events: 65_536,
            send_timeout_ms: 10_000,
            poll_interval_ms: 1_000,
            frame_events: 512,
            frame_bytes: 1 << 20,
            tail_bytes: 64 << 20,
            streams_per_token: 4,
            max_connections: 4096,
            max_connections_per_ip: 256,
            header_timeout_ms: 10_000,
            lease_ttl_ms: 6_000,
        }
    }
}

impl Limits {
    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }
    pub fn commit_window(&self) -> Duration {
        Duration::from_micros(self.commit_window_us)
    }
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms.max(1))
    }
    pub fn tail_cap(&self) -> crate::log::TailCap {
        crate::log::TailCap {
            events: self.tail_events.max(1),
            bytes: self.tail_bytes,
        }
    }
    pub fn frame_cap(&self) -> crate::log::FrameCap {
        crate::log::FrameCap {
            events: self.frame_events.max(1),
            bytes: self.frame_bytes,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Events older than this many days are deleted; 0 keeps everything. A desktop whose cursor
    /// is older than what is kept is told so and must resynchronise.
    pub days: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            listen: "127.0.0.1:8787".parse().expect("a valid address"),
            database_url: "sqlite://relay.db".into(),
            tls: None,
            limits: Limits::default(),
            retention: Retention::default(),
            workspaces: BTreeMap::new(),
            metrics_token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("the configuration file {} does not exist", .0.display())]
    Missing(PathBuf),
}

impl RelayConfig {
    /// Defaults, then the file (if given), then `RELAY_…` variables.
    pub fn load(file: Option<&Path>) -> Result<RelayConfig, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Missing(file.into()));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(
            Env::prefixed("RELAY_")
                .ignore(&["CONFIG"])
                .split("__")
                .lowercase(true),
        );
        let config: RelayConfig = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for (id, ws) in &self.workspaces {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(ConfigError::Invalid(format!(
                    "workspace id “{id}”: use lowercase letters, digits, - and _"
                )));
            }
            for (name, value) in [
                ("app_secret", &ws.app_secret),
                ("verify_token", &ws.verify_token),
            ] {
                if value.expose().starts_with("replace-with") {
                    return Err(ConfigError::Invalid(format!(
                        "workspaces.{id}.{name} is still the example's placeholder: put the real one in (or RELAY_WORKSPACES__{}__{})",
                        id.to_uppercase(),
                        name.to_uppercase()
                    )));
                }
                check_secret(name, value.expose())
                    .map_err(|e| ConfigError::Invalid(format!("workspaces.{id}.{e}")))?;
            }
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(format!(
                "database_url must start with sqlite: or postgres:// (got “{}”)",
                self.database_url.split('@').next_back().unwrap_or_default()
            )));
        }
        if let Some(t) = &self.metrics_token
            && t.expose().chars().count() < MIN_SECRET_CHARS
        {
            return Err(ConfigError::Invalid(format!(
                "metrics_token has {} characters; at least {MIN_SECRET_CHARS} are needed",
                t.expose().chars().count()
            )));
        }
        if self.limits.max_batch == 0 || self.limits.frame_events == 0 {
            return Err(ConfigError::Invalid(
                "limits.max_batch and limits.frame_events must be at least 1".into(),
            ));
        }
        // A runner renews every third of the lease; under 300 ms a busy machine would lose it.
        if !(300..=60_000).contains(&self.limits.lease_ttl_ms) {
            return Err(ConfigError::Invalid(format!(
                "limits.lease_ttl_ms is {}; it must be 300 to 60000 (a standby takes over within it)",
                self.limits.lease_ttl_ms
            )));
        }
        // A frame is at most `frame_bytes` plus one event, and an event at most a webhook body;
        // desktops read messages of up to MAX_FRAME_TEXT.
        let largest_frame = self.limits.frame_bytes + self.limits.max_body_bytes + 4096;
        if largest_frame > crate::log::MAX_FRAME_TEXT {
            return Err(ConfigError::Invalid(format!(
                "limits.frame_bytes + limits.max_body_bytes is {} bytes; a desktop reads frames of at most {} bytes",
                self.limits.frame_bytes + self.limits.max_body_bytes,
                crate::log::MAX_FRAME_TEXT - 4096
            )));
        }
        if self.limits.commit_window_us > MAX_COMMIT_WINDOW_US {
            return Err(ConfigError::Invalid(format!(
                "limits.commit_window_us is {}; at most {MAX_COMMIT_WINDOW_US} (0.1 s), as every webhook under load may wait that long for its answer",
                self.limits.commit_window_us
            )));
        }
        Ok(())
    }
}

const MAX_COMMIT_WINDOW_US: u64 = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_refused_until_its_placeholders_are_replaced() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../relay.example.toml");
        let err = RelayConfig::load(Some(Path::new(example)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("workspaces.acme.app_secret is still the example's placeholder"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let filled = dir.path().join("filled.toml");
        let text = std::fs::read_to_string(example)
            .unwrap()
            .replace(
                "replace-with-the-meta-app-secret",
                "0123456789abcdef0123456789abcdef",
            )
            .replace(
                "replace-with-a-random-verify-token",
                "a-random-verify-token-of-ours",
            );
        std::fs::write(&filled, text).unwrap();
        let config = RelayConfig::load(Some(&filled)).unwrap();
        assert!(config.workspaces.contains_key("acme"));
        let short = dir.path().join("short.toml");
        std::fs::write(
            &short,
            "[workspaces.acme]\napp_secret = \"0123456789abcdef0123\"\nverify_token = \"vt\"\n",
        )
        .unwrap();
        let err = RelayConfig::load(Some(&short)).unwrap_err().to_string();
        assert!(
            err.contains("workspaces.acme.verify_token has 2 characters; at least 16"),
            "{err}"
        );
        // Unknown keys and missing files are named.
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "listen = \"127.0.0.1:1\"\nfoo = 1\n").unwrap();
        let err = RelayConfig::load(Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("foo"), "{err}");
        let err = RelayConfig::load(Some(&dir.path().join("nope.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn bad_workspace_ids_and_urls_are_named() {
        let mut c = RelayConfig::default();
        c.workspaces.insert(
            "Bad Id".into(),
            WorkspaceConfig {
                app_secret: Sensitive::new("s".into()),
                verify_token: Sensitive::new("v".into()),
                waba_id: None,
                phone_number_ids: vec![],
            },
        );
        assert!(c.validate().unwrap_err().to_string().contains("Bad Id"));
        let c = RelayConfig {
            database_url: "mysql://u:secret@host/db".into(),
            ..RelayConfig::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("host/db") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn a_commit_window_past_a_tenth_of_a_second_is_refused_by_name() {
        let mut c = RelayConfig::default();
        assert_eq!(c.limits.commit_window(), Duration::from_millis(2));
        c.limits.commit_window_us = 100_000;
        c.validate().unwrap();
        c.limits.commit_window_us = 250_000;
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("limits.commit_window_us is 250000") && err.contains("0.1 s"),
            "{err}"
        );
    }
}
