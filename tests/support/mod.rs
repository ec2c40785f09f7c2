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
