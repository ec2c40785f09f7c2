//! Shared set-up of the relay tests: a relay on a loopback port with a fresh database.
#![allow(dead_code)]

use std::time::Duration;

use crmconnect::meta::signature;
use crmconnect::relay::config::WorkspaceConfig;
use crmconnect::relay::events::{Fields, NewEvent, Source};
use crmconnect::relay::store::Store;
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::relay::{RelayConfig, RelayHandle};
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::relay_client::{RelayClient, StreamItem, Subscription};

pub const WS: &str = "acme";
pub const SECRET: &str = "test-app-secret";
pub const VERIFY: &str = "test-verify-token";

pub fn config(database_url: &str) -> RelayConfig {
    let mut c = RelayConfig {
        database_url: database_url.into(),
        ..RelayConfig::default()
    };
    c.workspaces.insert(
        WS.into(),
        WorkspaceConfig {
            app_secret: Sensitive::new(SECRET.into()),
            verify_token: Sensitive::new(VERIFY.into()),
            waba_id: None,
            phone_number_ids: vec![],
        },
    );
    c
}

pub struct TestRelay {
    pub handle: RelayHandle,
    pub store: Store,
    pub dir: Option<tempfile::TempDir>,
}

impl TestRelay {
    pub async fn sqlite() -> TestRelay {
        Self::sqlite_with(|_| {}).await
    }

    pub async fn sqlite_with(f: impl FnOnce(&mut RelayConfig)) -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("relay.db").display());
        let mut r = Self::on(&url, f).await;
        r.dir = Some(dir);
        r
    }

    pub async fn on(url: &str, f: impl FnOnce(&mut RelayConfig)) -> TestRelay {
        let mut c = config(url);
        f(&mut c);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let handle = crmconnect::relay::start(c, listener).await.unwrap();
        let store = handle.state.log.store().clone();
        TestRelay {
            handle,
            store,
            dir: None,
        }
    }

    pub async fn post_webhook(&self, body: &str, sig: Option<&str>) -> (u16, String) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/webhook/{WS}", self.handle.url()))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(sig) = sig {
            req = req.header(signature::HEADER, sig);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub async fn post_signed(&self, body: &str) -> (u16, String) {
        let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
        self.post_webhook(body, Some(&sig)).await
    }

    /// Posts `n` signed one-message webhooks, `wamid.{prefix}0`… with `text`, each answered 200.
    pub async fn post_messages(&self, prefix: &str, n: usize, text: &str) {
        for i in 0..n {
            let body = messages_webhook(&[(&format!("wamid.{prefix}{i}"), text)]);
            assert_eq!(self.post_signed(&body).await.0, 200);
        }
    }

    pub async fn client_for(&self, staff: &str, admin: bool, grants: &[&str]) -> RelayClient {
        let token = self.token_for(staff, admin, grants).await;
        RelayClient::new(&self.handle.url(), Sensitive::new(token)).unwrap()
    }

    /// A token for the test workspace, issued the way the operator's CLI does.
    pub async fn token_for(&self, staff: &str, admin: bool, grants: &[&str]) -> String {
        let (_, token) = tokens::issue(
            &self.store,
            TokenSpec {
                workspace: WS.into(),
                staff: staff.into(),
                is_admin: admin,
                permissions: grants.iter().map(|g| g.parse().unwrap()).collect(),
                label: String::new(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
        token
    }

    /// `ws` syncing with this relay under `token`, as a desktop set to it does.
    pub async fn online(
        &self,
        ws: &std::sync::Arc<crmconnect::Workspace>,
        token: &str,
    ) -> crmconnect::sync::engine::SyncHandle {
        ws.cx()
            .set_relay(&self.handle.url(), Some(Sensitive::new(token.to_owned())))
            .await
            .expect("relay set");
        crmconnect::sync::engine::start_configured(ws.clone())
            .await
            .unwrap()
            .expect("sync starts")
    }

    pub async fn stop(self) {
        self.handle.shutdown().await.unwrap();
    }

    /// A desktop event by `staff` put straight into the log, past the relay's checks: what a
    /// relay that let a tampered desktop's event through would stream. Every desktop must still
    /// refuse it on apply.
    pub async fn forge(&self, staff: &str, id: &str, kind: &str, payload: &serde_json::Value) {
        self.handle
            .state
            .log
            .append(
                WS,
                vec![NewEvent {
                    key: format!("desktop:{staff}:{id}"),
                    kind: kind.into(),
                    source: Source::Desktop,
                    staff: Some(staff.into()),
                    fields: Fields::default(),
                    raw: payload.to_string(),
                }],
            )
            .await
            .unwrap();
    }
}

/// How many `action` entries the Activity Log of `ws` holds as denied (events ignored on apply).
pub async fn denied(ws: &crmconnect::Workspace, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM activity_log WHERE action = ? AND outcome = 'denied'")
        .bind(action)
        .fetch_one(ws.db())
        .await
        .unwrap()
}

pub async fn post_signed_to(base: &str, body: &str) -> u16 {
    let sig = signature::sign(SECRET.as_bytes(), body.as_bytes());
    reqwest::Client::new()
        .post(format!("{base}/webhook/{WS}"))
        .header(signature::HEADER, sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A `messages` webhook as Meta sends it, one text message per (id, text).
pub fn messages_webhook(messages: &[(&str, &str)]) -> String {
    let msgs: Vec<serde_json::Value> = messages
        .iter()
        .map(|(id, text)| {
            serde_json::json!({"from": "16505551234", "id": id, "timestamp": "1749416383",
                               "type": "text", "text": {"body": text}})
        })
        .collect();
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
            "messages": msgs}}]}]
    })
    .to_string()
}

pub fn test_event(key: &str, pad: &str) -> NewEvent {
    NewEvent {
        key: key.into(),
        kind: "unknown".into(),
        source: Source::Meta,
        staff: None,
        fields: Fields::default(),
        raw: serde_json::json!({ "pad": pad }).to_string(),
    }
}

/// Reads the stream until `last` has arrived; returns the sequence numbers seen.
pub async fn collect_until(sub: &mut Subscription, last: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .unwrap_or_else(|_| panic!("no event after {:?}", seen.last()))
            .unwrap();
        match item {
            StreamItem::Events { events, .. } => {
                seen.extend(events.iter().map(|e| e.seq));
                if seen.last() >= Some(&last) {
                    return seen;
                }
            }
            StreamItem::Closed { code, reason } => panic!("closed {code}: {reason}"),
            _ => {}
        }
    }
}

/// A fresh database on the PostgreSQL server the test command starts.
pub struct TestPg {
    pub url: String,
    name: String,
    admin: String,
}

pub fn postgres_server() -> String {
    std::env::var("CRMCONNECT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432".into())
}

impl TestPg {
    pub async fn create() -> TestPg {
        use sqlx::Connection;
        let server = postgres_server();
        let admin = format!("{server}/postgres");
        let name = format!("relay_test_{}", fastrand::u64(..));
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL must be running at {server} (scripts/test starts it): {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        TestPg {
            url: format!("{server}/{name}"),
            name,
            admin,
        }
    }

    pub async fn drop(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await;
    }
}
