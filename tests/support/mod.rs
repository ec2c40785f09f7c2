//! Shared set-up so each integration test reads as a scenario.
#![allow(dead_code)]

use crmconnect::permissions::{Permission, RoleInput};
use crmconnect::staff::{NewStaff, StaffMember};
use crmconnect::{ErrorCode, Workspace, Workspaces};
use tempfile::TempDir;

pub const OWNER: &str = "owner";
pub const OWNER_PASS: &str = "owner passphrase";

/// A fresh sandbox workspace in its own temp dir, with the owner created and signed in.
pub struct TestWorkspace {
    pub dir: TempDir,
    pub ws: std::sync::Arc<Workspace>,
}

pub async fn workspace() -> TestWorkspace {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = Workspaces::new(dir.path())
        .open_or_create_sandbox(None)
        .await
        .expect("sandbox workspace");
    ws.create_owner(NewStaff {
        name: "Olivia Owner".into(),
        username: OWNER.into(),
        role_id: 0,
        passphrase: OWNER_PASS.into(),
    })
    .await
    .expect("owner");
    ws.sign_in(OWNER, OWNER_PASS.into())
        .await
        .expect("owner signs in");
    TestWorkspace {
        dir,
        ws: std::sync::Arc::new(ws),
    }
}

impl TestWorkspace {
    pub async fn as_owner(&self) {
        self.ws
            .sign_in(OWNER, OWNER_PASS.into())
            .await
            .expect("owner signs in");
    }

    /// As the owner: a role with exactly `permissions`, and a staff member holding it.
    pub async fn staff_with(&self, username: &str, permissions: Vec<Permission>) -> StaffMember {
        self.as_owner().await;
        let role = self
            .ws
            .cx()
            .create_role(RoleInput {
                name: format!("role of {username}"),
                permissions,
            })
            .await
            .expect("role");
        self.ws
            .cx()
            .create_staff(NewStaff {
                name: format!("Staff {username}"),
                username: username.into(),
                role_id: role.id,
                passphrase: format!("{username} passphrase").as_str().into(),
            })
            .await
            .expect("staff")
    }

    pub async fn sign_in(&self, username: &str) {
        self.ws
            .sign_in(username, format!("{username} passphrase").as_str().into())
            .await
            .expect("sign in");
    }

    /// Entries of the activity log with `action`, as (outcome, target) — read as the owner.
    pub async fn log_of(&self, action: &str) -> Vec<(String, String)> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT outcome, target FROM activity_log WHERE action = ? ORDER BY id")
                .bind(action)
                .fetch_all(self.ws.db())
                .await
                .expect("log");
        rows
    }
}

pub fn code<T: std::fmt::Debug>(r: crmconnect::Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

/// Polls `f` until it gives a value, for at most 15 s.
pub async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(std::time::Duration::from_secs(15), what, f).await
}

/// Polls `f` every 50 ms until it gives a value, for at most `limit`.
pub async fn eventually_within<T, F, Fut>(limit: std::time::Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An invoice for `lead_id`: one line, roof repair, 1,250.00 EUR, due 2026-12-15.
pub fn invoice_for(lead_id: i64) -> crmconnect::documents::DocumentInput {
    use crmconnect::documents::{DocumentInput, DocumentKind, DocumentLine};
    DocumentInput {
        kind: DocumentKind::Invoice,
        number: String::new(),
        client_id: None,
        lead_id: Some(lead_id),
        date: "2026-11-25".into(),
        due_date: Some("2026-12-15".into()),
        currency: "EUR".into(),
        status: None,
        notes: String::new(),
        lines: vec![DocumentLine {
            description: "Roof repair".into(),
            quantity_milli: 1000,
            unit_price: 125_000,
        }],
        total: None,
    }
}

/// The first conversation of the list (the most recent), if there is one yet.
pub async fn first_conversation(ws: &Workspace) -> Option<crmconnect::chat::Conversation> {
    ws.cx()
        .conversations(crmconnect::chat::ConversationFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
}

/// A text reply, not quoting anything.
pub fn text(body: &str) -> crmconnect::chat::SendText {
    crmconnect::chat::SendText {
        text: body.into(),
        reply_to: None,
    }
}
