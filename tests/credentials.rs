//! Credentials: secrets go to a real OS keychain (Secret Service under a private D-Bus session in
//! CI) and nowhere else — not the SQLite file, not the logs.
//!
//! Runs with `--features keychain` inside `dbus-run-session` with an unlocked gnome-keyring
//! (scripts/test does this); without a Secret Service it fails, it does not skip.
#![cfg(feature = "keychain")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use crmconnect::Workspaces;
use crmconnect::connection::ConnectionInput;
use crmconnect::secrets::{Keychain, NAMESPACE_ENV, SecretName, SecretStore};
use crmconnect::staff::NewStaff;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_reach_the_keychain_and_nothing_else() {
    // Every log line, at every level, is captured and searched afterwards.
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // SAFETY: set before any other thread of this test binary reads the environment.
    let ns = format!("test-{}-{}", std::process::id(), crmconnect::now_ms());
    unsafe { std::env::set_var(NAMESPACE_ENV, &ns) };

    let dir = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(dir.path())
        .with_secrets(Arc::new(Keychain))
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

    let token = format!("EAAG-token-{ns}");
    let app_secret = format!("app-secret-{ns}");
    let verify = format!("verify-{ns}");
    // What an earlier version kept: Meta's app secret and verify token, which only the relay uses.
    let kc = Keychain;
    kc.set(
        "sandbox",
        SecretName::AppSecret,
        &app_secret.as_str().into(),
    )
    .unwrap();
    kc.set("sandbox", SecretName::VerifyToken, &verify.as_str().into())
        .unwrap();
    let view = ws
        .cx()
        .save_connection(ConnectionInput {
            phone_number_id: "106540352242922".into(),
            waba_id: "102290129340398".into(),
            graph_base_url: None,
            graph_version: None,
            access_token: Some(token.as_str().into()),
        })
        .await
        .unwrap();
    assert!(view.access_token_set);
    assert_eq!(view.secret_store, "the OS keychain");
    // The view itself carries no secret.
    let json = serde_json::to_string(&view).unwrap();
    for s in [&token, &app_secret, &verify] {
        assert!(!json.contains(s.as_str()));
    }
    ws.close().await;

    // Read back through a fresh handle on the real keychain: the token is there, and the
    // desktop no longer keeps what only the relay uses.
    assert_eq!(
        kc.get("sandbox", SecretName::AccessToken)
            .unwrap()
            .unwrap()
            .expose(),
        &token
    );
    for legacy in SecretName::LEGACY {
        assert!(
            kc.get("sandbox", legacy).unwrap().is_none(),
            "the desktop still keeps the {}",
            legacy.label()
        );
    }

    // Scan every file the workspace wrote (database, WAL, anything else) and the logs.
    let mut files = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        files += 1;
        for s in [&token, &app_secret, &verify] {
            assert!(!contains(&bytes, s), "{} holds a secret", entry.display());
        }
    }
    assert!(files >= 1);
    let captured = logs.0.lock().unwrap().clone();
    assert!(!captured.is_empty(), "the logs were captured");
    for s in [&token, &app_secret, &verify] {
        assert!(!contains(&captured, s), "the logs hold a secret");
    }

    kc.delete("sandbox", SecretName::AccessToken).unwrap();
    assert!(
        kc.get("sandbox", SecretName::AccessToken)
            .unwrap()
            .is_none()
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
