//! A revoked token locks a team desktop out. When the relay refuses this desktop's token (an
//! administrator revoked it — a stolen laptop, someone who left — or it expired), a live
//! workspace records it, ends the session and refuses every sign-in until someone enters a new
//! token for the same workspace from the sign-in screen. What the desktop queued meanwhile stays
//! in its outbox; the relay refused it under the old token.

use serde::Serialize;
use ts_rs::TS;

use super::SyncError;
use super::relay_client::RelayClient;
use crate::audit::{self, Change, Outcome};
use crate::permissions::{Principal, SystemTask};
use crate::screens::Screen;
use crate::sensitive::Sensitive;
use crate::workspace::{Workspace, WorkspaceKind};
use crate::{ErrorCode, Result};

/// Why and since when this desktop is locked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Lockout {
    pub at: i64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockoutError {
    #[error(
        "this desktop was cut off from the team: its relay token was refused ({0}). Ask your administrator for a new token and enter it here"
    )]
    Locked(String),
    #[error("this desktop is not locked out")]
    NotLocked,
    #[error(
        "that token is for workspace “{got}”, not this one (“{want}”): ask for a token of this workspace"
    )]
    OtherWorkspace { got: String, want: String },
}

impl crate::error::Coded for LockoutError {
    fn code(&self) -> ErrorCode {
        match self {
            LockoutError::Locked(_) => ErrorCode::PermissionDenied,
            LockoutError::NotLocked => ErrorCode::Conflict,
            LockoutError::OtherWorkspace { .. } => ErrorCode::Invalid,
        }
    }
}

impl Workspace {
    /// Whether this desktop is locked out of its team, and why.
    pub async fn team_lockout(&self) -> Result<Option<Lockout>> {
        let row = sqlx::query!("SELECT locked_at, locked_reason FROM sync_settings WHERE id = 1")
            .fetch_one(self.db())
            .await?;
        Ok(row.locked_at.map(|at| Lockout {
            at,
            reason: row.locked_reason.unwrap_or_default(),
        }))
    }

    /// Stops signing in here while locked out (when sync starts: a restart keeps the lock).
    pub(crate) async fn load_lockout(&self) -> Result<()> {
        let lock = self.team_lockout().await?;
        self.set_sign_in_lock(lock.map(|l| LockoutError::Locked(l.reason).to_string()));
        Ok(())
    }

    /// The relay refused this desktop's token: a team workspace locks (once), ending the session.
    /// The sandbox workspace's relay is its own and never locks it.
    pub(crate) async fn lock_out(&self, reason: &str) -> Result<()> {
        if self.info().kind != WorkspaceKind::Live {
            return Ok(());
        }
        let now = self.now_ms();
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let changed = sqlx::query!(
            "UPDATE sync_settings SET locked_at = ?, locked_reason = ? WHERE id = 1 AND locked_at IS NULL",
            now,
            reason
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 1 {
            audit::insert(
                &mut tx,
                &Principal::system(SystemTask::Sync),
                &Change::new(Screen::Settings, "team.locked_out", "this desktop"),
                Outcome::Ok,
                Some(reason),
            )
            .await?;
        }
        tx.commit().await?;
        if changed == 1 {
            tracing::warn!("the relay refused this desktop's token: locked out");
        }
        self.load_lockout().await?;
        self.set_session(None);
        Ok(())
    }

    /// From the sign-in screen of a locked desktop: a new token for the same workspace, checked
    /// with the relay, replaces the refused one and lifts the lock. Sync is restarted by the
    /// caller.
    pub async fn rejoin_team(&self, token: Sensitive<String>) -> Result<()> {
        if self.team_lockout().await?.is_none() {
            return Err(LockoutError::NotLocked.into());
        }
        let settings = self.relay_settings_unchecked().await?;
        let client =
            RelayClient::new(&settings.relay_url, token.clone()).map_err(SyncError::from)?;
        let who = client.whoami().await.map_err(SyncError::from)?;
        if who.workspace != self.info().slug {
            return Err(LockoutError::OtherWorkspace {
                got: who.workspace,
                want: self.info().slug.clone(),
            }
            .into());
        }
        // The same relay, the same log: the replica and its cursor stay.
        self.set_relay_unchecked(client.base_url(), token, true)
            .await?;
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        sqlx::query!(
            "UPDATE sync_settings SET locked_at = NULL, locked_reason = NULL WHERE id = 1"
        )
        .execute(&mut *tx)
        .await?;
        audit::insert(
            &mut tx,
            &Principal::system(SystemTask::Sync),
            &Change::new(
                Screen::Settings,
                "team.rejoined",
                format!("as {}", who.staff),
            ),
            Outcome::Ok,
            None,
        )
        .await?;
        tx.commit().await?;
        self.set_sign_in_lock(None);
        Ok(())
    }
}
