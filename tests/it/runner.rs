//! The runner as real processes (issue 21): two `crmconnect-runner`s on one relay (a `relay serve`
//! process), exactly one holding the workspace's automation lease; `kill -9` of the active one and
//! the standby takes over within 10 s; a runner paused with SIGSTOP wakes up to find it lost the
//! lease, and what it would publish under its old one is refused. Its tokens appear in none of its
//! configuration, its command line, its data folder, its logs at TRACE, the relay's log or the
//! relay's database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crmconnect::relay::http::PublishedEvent;
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::relay_client::{LeaseClaim, LeaseView, RelayClient, RelayClientError};

pub(crate) const RUNNER: &str = env!("CARGO_BIN_EXE_crmconnect-runner");
pub(crate) const RELAY: &str = env!("CARGO_BIN_EXE_relay");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Relay {
    pub child: Child,
    pub config: PathBuf,
    pub log: PathBuf,
    pub url: String,
}

impl Relay {
    pub fn start(dir: &Path) -> Relay {
        let port = free_port();
        let config = dir.join("relay.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\ndatabase_url = \"sqlite://{}\"\n[limits]\npoll_interval_ms = 200\nlease_ttl_ms = 1500\n",
                dir.join("relay.db").display()
            ),
        )
        .unwrap();
        let log = dir.join("relay.log");
        let child = Command::new(RELAY)
            .args(["serve", "--config"])
            .arg(&config)
            .env("CRMCONNECT_LOG", "trace")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("relay starts");
        wait_for_port(port);
        Relay {
            child,
            config,
            log,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn issue(&self, staff: &str) -> String {
        let out = Command::new(RELAY)
            .args([
                "token", "issue", "-w", "acme", "-s", staff, "--admin", "--config",
            ])
            .arg(&self.config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) struct Runner {
    pub name: String,
    pub child: Child,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Runner {
    /// A runner with its configuration in `dir` and its relay token in a credential file, the
    /// way systemd's LoadCredential= hands it over.
    fn start(root: &Path, n: usize, relay: &Relay, token: &str) -> Runner {
        Runner::start_with(root, n, relay, token, None, "", "trace")
    }

    /// A runner with Meta's access token too (as `meta-access-token`), and more configuration.
    pub fn start_with(
        root: &Path,
        n: usize,
        relay: &Relay,
        token: &str,
        meta_token: Option<&str>,
        more_config: &str,
        log_level: &str,
    ) -> Runner {
        let dir = root.join(format!("runner-{n}"));
        let credentials = dir.join("credentials");
        std::fs::create_dir_all(&credentials).unwrap();
        std::fs::write(credentials.join("relay-token"), token).unwrap();
        if let Some(meta) = meta_token {
            std::fs::write(credentials.join("meta-access-token"), meta).unwrap();
        }
        let config = dir.join("runner.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\nrelay_url = \"{}\"\nholder = \"runner@{n}\"\n{more_config}",
                dir.join("data").display(),
                relay.url
            ),
        )
        .unwrap();
        let log = dir.join("runner.log");
        let child = Command::new(RUNNER)
            .arg("--config")
            .arg(&config)
            .env("CREDENTIALS_DIRECTORY", &credentials)
            .env("CRMCONNECT_LOG", log_level)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("runner.err")).unwrap())
            .spawn()
            .expect("the runner starts");
        Runner {
            name: format!("runner@{n}"),
            child,
            dir,
            log,
        }
    }

    pub fn said(&self, what: &str) -> bool {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .contains(what)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

pub(crate) async fn wait_until<T, F, Fut>(within: Duration, what: &str, mut f: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return (v, start.elapsed());
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn held_by(client: &RelayClient, holder: &str) -> Option<LeaseView> {
    client
        .lease()
        .await
        .ok()
        .flatten()
        .filter(|l| l.active && l.holder == holder)
}

/// Every file under `dir`, read as bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runner_is_active_a_standby_takes_over_and_a_paused_one_is_fenced_off() {
    let root = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(root.path());
    let token = relay.issue("automation");
    let watcher = RelayClient::new(&relay.url, Sensitive::new(relay.issue("olivia"))).unwrap();

    let mut runners = vec![
        Runner::start(root.path(), 1, &relay, &token),
        Runner::start(root.path(), 2, &relay, &token),
    ];
    // Exactly one holds the lease; the other says it waits.
    let (lease, _) = wait_until(
        Duration::from_secs(30),
        "a runner holds the lease",
        || async { watcher.lease().await.ok().flatten().filter(|l| l.active) },
    )
    .await;
    let active = runners.iter().position(|r| r.name == lease.holder).unwrap();
    let standby = 1 - active;
    wait_until(
        Duration::from_secs(10),
        "the other runner waits as standby",
        || async { runners[standby].said("standby").then_some(()) },
    )
    .await;
    assert!(runners[active].said("holds the lease"));

    // kill -9 the active one: the standby takes over within 10 s.
    runners[active].child.kill().unwrap();
    runners[active].child.wait().unwrap();
    let (second, took) = wait_until(Duration::from_secs(10), "the standby takes over", || {
        held_by(&watcher, &runners[standby].name)
    })
    .await;
    assert!(took <= Duration::from_secs(10), "{took:?}");
    assert_eq!(second.epoch, lease.epoch + 1);
    eprintln!("take-over after kill -9: {took:?}");

    // A third runner waits; the active one is paused (SIGSTOP), the third takes over, and the
    // paused one, resumed, finds it lost the lease.
    runners.push(Runner::start(root.path(), 3, &relay, &token));
    wait_until(
        Duration::from_secs(15),
        "the third runner waits",
        || async { runners[2].said("standby").then_some(()) },
    )
    .await;
    runners[standby].signal("-STOP");
    let (third, took) = wait_until(Duration::from_secs(10), "the third takes over", || {
        held_by(&watcher, "runner@3")
    })
    .await;
    eprintln!("take-over after SIGSTOP: {took:?}");
    assert_eq!(third.epoch, second.epoch + 1);
    runners[standby].signal("-CONT");
    wait_until(
        Duration::from_secs(10),
        "the resumed runner knows it lost the lease",
        || async { runners[standby].said("lost the lease").then_some(()) },
    )
    .await;
    // What it would have published under its old lease is refused.
    let stale = RelayClient::new(&relay.url, Sensitive::new(token.clone())).unwrap();
    let event = PublishedEvent {
        id: "late-bot-reply".into(),
        kind: "conversation.read".into(),
        payload: serde_json::json!({"customer": "16505551234", "phone_number_id": "1", "up_to": "x"}),
    };
    let claim = LeaseClaim {
        holder: runners[standby].name.clone(),
        epoch: second.epoch,
    };
    assert!(matches!(
        stale.publish_under(vec![event], Some(claim)).await,
        Err(RelayClientError::Refused { status: 409, .. })
    ));
    assert!(
        held_by(&watcher, "runner@3").await.is_some(),
        "the resumed runner did not take it back"
    );

    // The token is in none of: the runners' configuration, command lines, data folders and logs
    // at TRACE; the relay's log at TRACE; the relay's database.
    for r in &runners {
        if let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", r.child.id())) {
            assert!(!contains(&cmdline, &token), "{}'s command line", r.name);
        }
        for (path, bytes) in files(&r.dir) {
            if path.ends_with("credentials/relay-token") {
                continue; // the credential file itself
            }
            if contains(&bytes, &token) {
                let text = String::from_utf8_lossy(&bytes);
                let line = text
                    .lines()
                    .find(|l| l.contains(&token))
                    .unwrap_or_default();
                panic!(
                    "the token is in {}: {}",
                    path.display(),
                    line.replace(&token, "<TOKEN>")
                );
            }
        }
        assert!(
            std::fs::metadata(&r.log).unwrap().len() > 0,
            "{} logged",
            r.name
        );
    }
    for (path, bytes) in files(root.path()) {
        // The relay's files: its configuration, database (and WAL) and log, in the root.
        if path.parent() == Some(root.path())
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("relay"))
        {
            assert!(
                !contains(&bytes, &token),
                "the token is in {}",
                path.display()
            );
        }
    }
    assert!(std::fs::metadata(&relay.log).unwrap().len() > 0);

    for r in &mut runners {
        let _ = r.child.kill();
        let _ = r.child.wait();
    }
    let _ = relay.child.kill();
    let _ = relay.child.wait();
}

#[test]
fn a_token_in_the_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runner.toml");
    std::fs::write(
        &config,
        "data_dir = \"/tmp/x\"\nrelay_url = \"http://127.0.0.1:9\"\nrelay_token = \"crr_secret\"\n",
    )
    .unwrap();
    let out = Command::new(RUNNER)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never goes in the configuration"), "{err}");
    assert!(
        !err.contains("crr_secret"),
        "the refusal repeats no token: {err}"
    );
    // Without any token it says where one goes.
    std::fs::write(
        &config,
        "data_dir = \"/tmp/x\"\nrelay_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = Command::new(RUNNER)
        .arg("--config")
        .arg(&config)
        .env_remove("RUNNER_RELAY_TOKEN")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CREDENTIALS_DIRECTORY/relay-token"), "{err}");
}

/// Where a server has a keychain (a desktop used as the team's server, a Mac mini): the runner's
/// relay token goes into it on standard input and the runner reads it from there, never from its
/// configuration, its command line or the environment.
#[cfg(feature = "keychain")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_keeps_its_relay_token_in_the_os_keychain() {
    use std::io::Write;
    let root = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(root.path());
    let token = relay.issue("automation");
    let watcher = RelayClient::new(&relay.url, Sensitive::new(relay.issue("olivia"))).unwrap();
    // This run's own entries: never a real user's.
    let namespace = format!("test-{}", uuid::Uuid::now_v7().simple());
    let dir = root.path().join("runner-kc");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("runner.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nrelay_url = \"{}\"\nholder = \"runner@kc\"\nkeychain_name = \"acme\"\n",
            dir.join("data").display(),
            relay.url
        ),
    )
    .unwrap();
    let runner = |args: &[&str]| {
        let mut c = Command::new(RUNNER);
        c.arg("--config")
            .arg(&config)
            .args(args)
            .env(crmconnect::secrets::NAMESPACE_ENV, &namespace)
            .env_remove("RUNNER_RELAY_TOKEN")
            .env_remove("CREDENTIALS_DIRECTORY");
        c
    };

    let mut store = runner(&["store-credential", "relay-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    store
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let out = store.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("in the OS keychain as runner.acme"));

    let log = dir.join("runner.log");
    let mut child = runner(&[])
        .env("CRMCONNECT_LOG", "trace")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("runner.err")).unwrap())
        .spawn()
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the runner with its token from the keychain holds the lease",
        || async { held_by(&watcher, "runner@kc").await },
    )
    .await;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(!contains(&cmdline, &token) && !contains(&environ, &token));
    assert!(
        !contains(&std::fs::read(&log).unwrap(), &token),
        "its log at TRACE"
    );
    assert!(!contains(
        &std::fs::read_to_string(&config).unwrap().into_bytes(),
        &token
    ));

    // Forgotten, it is gone: the runner says where a token goes instead of starting.
    let out = runner(&["forget-credential", "relay-token"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = runner(&[]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no relay token"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = relay.child.kill();
    let _ = relay.child.wait();
}
