//! The relay as real processes: the `relay` binary serving, the sandbox binary sending Meta's
//! signed webhooks to it, desktops syncing from it, and a `kill -9` in the middle of a stream.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crmconnect::meta::signature;
use crmconnect::relay::store::Store;
use crmconnect::sensitive::Sensitive;
use crmconnect::staff::NewStaff;
use crmconnect::sync::engine::{self, SyncHandle, SyncState};
use crmconnect::{Workspace, Workspaces};

const BIN: &str = env!("CARGO_BIN_EXE_relay");
const SECRET: &str = "process-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `relay serve` process with its config file and SQLite database in `dir`.
struct RelayProcess {
    child: Child,
    config: PathBuf,
    url: String,
}

fn write_config(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("relay.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase_url = \"sqlite://{}\"\n[limits]\npoll_interval_ms = 200\n[workspaces.acme]\napp_secret = \"{SECRET}\"\nverify_token = \"process-verify-token\"\n",
            dir.join("relay.db").display()
        ),
    )
    .unwrap();
    path
}

impl RelayProcess {
    fn start(dir: &Path) -> RelayProcess {
        let port = free_port();
        let config = write_config(dir, port);
        Self::start_with(config, port)
    }

    fn start_with(config: PathBuf, port: u16) -> RelayProcess {
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("relay starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "the relay did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        RelayProcess { child, config, url }
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "relay {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn issue(&self, staff: &str) -> String {
        self.cli(&["token", "issue", "-w", "acme", "-s", staff, "--admin"])
            .trim()
            .to_string()
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct SandboxProcess {
    child: Child,
    url: String,
}

impl SandboxProcess {
    fn start(webhook_url: &str) -> SandboxProcess {
        let port = free_port();
        let child = Command::new(BIN)
            .args([
                "sandbox",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--webhook-url",
                webhook_url,
                "--app-secret",
                SECRET,
                "--throughput-mps",
                "100000",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the sandbox did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SandboxProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A desktop: its own data folder and workspace, the owner signed in.
struct Desktop {
    _dir: tempfile::TempDir,
    ws: Arc<Workspace>,
    sync: Option<SyncHandle>,
}

impl Desktop {
    async fn new(relay: &str, token: String) -> Desktop {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspaces::new(dir.path())
            .open_or_create_sandbox(None)
            .await
            .unwrap();
        ws.create_owner(NewStaff {
            name: "Owner".into(),
            username: "owner".into(),
            role_id: 0,
            passphrase: "owner passphrase".into(),
        })
        .await
        .unwrap();
        ws.sign_in("owner", "owner passphrase".into())
            .await
            .unwrap();
        ws.cx()
            .set_relay(relay, Some(Sensitive::new(token)))
            .await
            .unwrap();
        let ws = Arc::new(ws);
        let mut d = Desktop {
            _dir: dir,
            ws,
            sync: None,
        };
        d.go_online().await;
        d
    }

    async fn go_online(&mut self) {
        self.sync = engine::start_configured(self.ws.clone()).await.unwrap();
        assert!(self.sync.is_some());
    }

    async fn go_offline(&mut self) {
        self.sync.take().unwrap().stop().await;
    }

    /// Waits until this desktop has applied everything up to `head`.
    async fn wait_for(&self, head: i64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let cursor = self.ws.sync_cursor().await.unwrap();
            if cursor >= head {
                return;
            }
            let status = self.sync.as_ref().map(|s| s.status());
            assert!(
                Instant::now() < deadline,
                "stuck at {cursor} of {head}: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn replica(&self) -> Vec<(i64, String)> {
        self.ws
            .synced_events(0, i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.seq, e.key))
            .collect()
    }
}

async fn head(relay: &RelayProcess) -> i64 {
    let out = relay.cli(&["events", "-w", "acme"]);
    out.lines().count() as i64
}

async fn customer_writes(sandbox: &str, n: usize, tag: &str) {
    let http = reqwest::Client::new();
    let who = ["ana", "ben", "chen", "dara"];
    // Four at a time: the sandbox still delivers its webhooks one by one, in order.
    let mut tasks = Vec::new();
    for (w, &name) in who.iter().enumerate() {
        let http = http.clone();
        let sandbox = sandbox.to_string();
        let tag = tag.to_string();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(4) {
                let r = http
                    .post(format!("{sandbox}/sandbox/customers/{name}/messages"))
                    .json(&serde_json::json!({"type": "text", "body": format!("{tag} {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn wait_head(relay: &RelayProcess, at_least: i64) -> i64 {
    let store = Store::connect(&format!(
        "sqlite://{}",
        relay.config.parent().unwrap().join("relay.db").display()
    ))
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let h = store.head("acme").await.unwrap();
        if h >= at_least {
            return h;
        }
        assert!(
            Instant::now() < deadline,
            "the relay has {h} events, waiting for {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_webhooks_reach_two_desktops_in_one_order_and_an_offline_one_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path());
    let sandbox = SandboxProcess::start(&format!("{}/webhook/acme", relay.url));
    let mut a = Desktop::new(&relay.url, relay.issue("alice")).await;
    let mut b = Desktop::new(&relay.url, relay.issue("bob")).await;

    customer_writes(&sandbox.url, 40, "hello").await;
    let h = wait_head(&relay, 40).await;
    a.wait_for(h).await;
    b.wait_for(h).await;
    assert_eq!(a.replica().await, b.replica().await);
    assert_eq!(a.replica().await.len() as i64, h);
    assert_eq!(
        a.sync.as_ref().unwrap().status().state,
        SyncState::Live,
        "A is live"
    );

    // B goes offline and makes an event meanwhile (kept in its outbox).
    b.go_offline().await;
    let id =
        b.ws.cx()
            .publish_event(
                "conversation.read",
                serde_json::json!({"customer": "16505551234", "phone_number_id": "1", "up_to": "wamid.1"}),
            )
            .await
            .unwrap();
    assert_eq!(b.ws.outbox_len().await.unwrap(), 1);

    // 10,000 events arrive while B is away; A follows live.
    customer_writes(&sandbox.url, 10_000, "while away").await;
    let h = wait_head(&relay, h + 10_000).await;
    a.wait_for(h).await;

    // B comes back: it publishes its outbox and catches up, in order, nothing lost or doubled.
    b.go_online().await;
    let h = wait_head(&relay, h + 1).await;
    b.wait_for(h).await;
    a.wait_for(h).await;
    let ra = a.replica().await;
    let rb = b.replica().await;
    assert_eq!(ra.len() as i64, h);
    assert_eq!(ra, rb, "both desktops hold the same log in the same order");
    let seqs: Vec<i64> = ra.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=h).collect::<Vec<_>>());
    let keys: HashSet<&String> = ra.iter().map(|(_, k)| k).collect();
    assert_eq!(keys.len() as i64, h, "no event twice");
    assert!(
        ra.iter().any(|(_, k)| k == &format!("desktop:bob:{id}")),
        "B's offline event reached A"
    );
    assert_eq!(b.ws.outbox_len().await.unwrap(), 0);
    drop(sandbox);
    a.go_offline().await;
    b.go_offline().await;
}

fn webhook(n: usize) -> String {
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
        "field": "messages", "value": {"metadata": {"phone_number_id": "P"},
        "messages": [{"from": "15550001111", "id": format!("wamid.crash{n}"), "timestamp": "1", "type": "text", "text": {"body": "x"}}]}}]}]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_webhooks_stream_in_loses_no_acknowledged_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port);
    let mut relay = RelayProcess::start_with(config.clone(), port);
    let url = relay.url.clone();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let (url, next, acked, stop) = (url.clone(), next.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.is_cancelled() {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = webhook(n);
                    let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
                    let r = http
                        .post(format!("{url}/webhook/acme"))
                        .header(signature::HEADER, sig)
                        .body(body)
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push(n),
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            })
        })
        .collect();
    // Let webhooks stream in, then kill -9 mid-stream.
    while acked.lock().unwrap().len() < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    relay.kill9();
    let acked_before_kill: Vec<usize> = acked.lock().unwrap().clone();
    stop.cancel();
    for s in senders {
        s.await.unwrap();
    }
    let sent = next.load(std::sync::atomic::Ordering::SeqCst);

    // Restart on the same database: every acknowledged webhook is there.
    let relay = RelayProcess::start_with(config, port);
    let lines = relay.cli(&["events", "-w", "acme"]);
    let keys: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let set: HashSet<&String> = keys.iter().collect();
    assert_eq!(set.len(), keys.len(), "no event twice");
    for n in &acked_before_kill {
        assert!(
            set.contains(&format!("message:wamid.crash{n}")),
            "webhook {n} got a 200 but is not in the log"
        );
    }
    // Meta retries everything that did not get a 200 (and some that did): still no duplicates.
    let http = reqwest::Client::new();
    for n in 0..sent {
        let body = webhook(n);
        let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
        let r = http
            .post(format!("{}/webhook/acme", relay.url))
            .header(signature::HEADER, sig)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(head(&relay).await, sent as i64);
}

#[test]
fn the_cli_issues_lists_and_revokes_tokens_and_prints_events() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), free_port());
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for sub in ["serve", "migrate", "token", "events", "sandbox", "--config"] {
        assert!(help.contains(sub), "--help lacks {sub}: {help}");
    }
    assert!(run(&["migrate"]).status.success());
    let issued = run(&[
        "token",
        "issue",
        "-w",
        "acme",
        "-s",
        "rita",
        "--grant",
        "whatsapp_chat:view,whatsapp_chat:send",
        "--label",
        "rita's laptop",
    ]);
    assert!(issued.status.success());
    let token = String::from_utf8(issued.stdout).unwrap();
    assert!(token.trim().starts_with("crr_"), "{token}");
    let bad = run(&[
        "token",
        "issue",
        "-w",
        "acme",
        "-s",
        "x",
        "--grant",
        "whatsapp_chat:fly",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("fly"));
    let list = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    assert!(list.contains("rita") && list.contains("active"), "{list}");
    assert!(
        !list.contains(token.trim()),
        "the token itself is never listed"
    );
    let db = std::fs::read(dir.path().join("relay.db")).unwrap();
    assert!(
        !db.windows(token.trim().len())
            .any(|w| w == token.trim().as_bytes()),
        "the token is stored hashed"
    );
    let id = list.split('\t').next().unwrap();
    assert!(run(&["token", "revoke", id]).status.success());
    let list = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    assert!(list.contains("revoked"), "{list}");
    assert!(!run(&["token", "revoke", id]).status.success());
}

#[tokio::test]
async fn serves_https_itself_and_environment_variables_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A test CA, and a certificate for localhost signed by it (rustls refuses a CA certificate
    // used as the server's own).
    let (cert, key, ca) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("openssl (scripts/test installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(
        dir.path().join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
    let file_port = free_port();
    let config = write_config(dir.path(), file_port);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace(
        "[limits]",
        &format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n[limits]",
            cert.display(),
            key.display()
        ),
    );
    std::fs::write(&config, text).unwrap();
    // The port comes from the environment, over the file's.
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .env("RELAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the relay did not start on the port from RELAY_LISTEN"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let health: serde_json::Value = http
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let body = webhook(1);
    let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
    let r = http
        .post(format!("https://localhost:{port}/webhook/acme"))
        .header(signature::HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", file_port)).is_err(),
        "the file's port is not used"
    );
    let _ = child.kill();
    let _ = child.wait();
}
