//! Settings → Team: the team's relay tokens, issued and revoked by an administrator from the
//! app (the relay's `/v1/tokens`, with this desktop's admin token), not only from the relay's
//! command line. A staff member's token carries their role's permissions: the relay checks every
//! event a desktop publishes against them. Revoking one cuts its desktop off within the relay's
//! poll interval.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::SyncError;
use super::relay_client::{IssueRequest, RelayClient};
use crate::audit::{self, Change, Outcome};
use crate::permissions::Principal;
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result};

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("there is no staff member “{0}” here: add them in Settings → Staff first")]
    UnknownStaff(String),
    #[error("{0} is deactivated: activate them before giving them a token")]
    Inactive(String),
    #[error("a token lasts 1 to 3,650 days, or until revoked; not {0}")]
    BadLifetime(u32),
}

impl crate::error::Coded for TeamError {
    fn code(&self) -> ErrorCode {
        match self {
            TeamError::UnknownStaff(_) => ErrorCode::NotFound,
            TeamError::Inactive(_) | TeamError::BadLifetime(_) => ErrorCode::Invalid,
        }
    }
}

/// A token of the team, as Settings → Team lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TeamToken {
    pub id: String,
    pub staff: String,
    pub is_admin: bool,
    pub permissions: Vec<String>,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// What an administrator asks for: a token for a staff member of this workspace.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct NewTeamToken {
    pub username: String,
    /// Where it will be used, e.g. "Rick's laptop".
    pub label: String,
    /// Stops working after this many days; none: until revoked.
    #[ts(optional)]
    pub expires_in_days: Option<u32>,
}

/// The token, shown once, and its record.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct IssuedTeamToken {
    pub token: TeamToken,
    pub secret: String,
    /// The relay address to give with it.
    pub relay_url: String,
}

impl From<super::relay_client::TokenView> for TeamToken {
    fn from(t: super::relay_client::TokenView) -> Self {
        TeamToken {
            id: t.id,
            staff: t.staff,
            is_admin: t.is_admin,
            permissions: t.permissions,
            label: t.label,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            expires_at: t.expires_at,
        }
    }
}

impl Ctx<'_> {
    /// This desktop's relay, with its (administrator's) token.
    async fn team_relay(&self) -> Result<(Principal, RelayClient)> {
        let actor = self.actor().await?;
        actor.require_admin(Screen::Settings.label())?;
        let settings = self.relay_settings_unchecked().await?;
        let token = self.relay_token().await?.ok_or(SyncError::NotConfigured)?;
        if settings.relay_url.is_empty() {
            return Err(SyncError::NotConfigured.into());
        }
        let client = RelayClient::new(&settings.relay_url, token).map_err(SyncError::from)?;
        Ok((actor, client))
    }

    /// The team's tokens, newest last.
    pub async fn team_tokens(&self) -> Result<Vec<TeamToken>> {
        let (_, relay) = self.team_relay().await?;
        let list = relay.tokens().await.map_err(SyncError::from)?;
        Ok(list.into_iter().map(TeamToken::from).collect())
    }

    /// Issues a token for a staff member of this workspace with their role's permissions (an
    /// administrator's role: an administrator's token). Logged, never with the token.
    pub async fn issue_team_token(&self, input: NewTeamToken) -> Result<IssuedTeamToken> {
        let (actor, relay) = self.team_relay().await?;
        if let Some(d) = input.expires_in_days
            && !(1..=3650).contains(&d)
        {
            return Err(TeamError::BadLifetime(d).into());
        }
        let username = input.username.trim().to_owned();
        let staff = self
            .list_staff()
            .await?
            .into_iter()
            .find(|s| s.username == username)
            .ok_or_else(|| TeamError::UnknownStaff(username.clone()))?;
        if !staff.active {
            return Err(TeamError::Inactive(staff.name).into());
        }
        let role = self
            .list_roles()
            .await?
            .into_iter()
            .find(|r| r.id == staff.role_id)
            .ok_or_else(|| TeamError::UnknownStaff(username.clone()))?;
        let request = IssueRequest {
            staff: username.clone(),
            is_admin: role.is_admin,
            permissions: if role.is_admin {
                vec![]
            } else {
                role.permissions
                    .iter()
                    .map(|p| format!("{}:{}", p.resource.key(), p.action.key()))
                    .collect()
            },
            label: input.label,
            expires_in_days: input.expires_in_days,
        };
        // The log names who is who before the new desktop reads it (see `staff::shared`).
        self.share_team().await?;
        let issued = relay.issue_token(&request).await.map_err(SyncError::from)?;
        let token = TeamToken::from(issued.token);
        self.log_team(
            &actor,
            "team.token_issued",
            format!("token {} for {username} ({})", token.id, role.name),
        )
        .await?;
        Ok(IssuedTeamToken {
            token,
            secret: issued.secret,
            relay_url: relay.base_url().to_owned(),
        })
    }

    /// Revokes a token of the team: its desktop is cut off within the relay's poll interval.
    pub async fn revoke_team_token(&self, id: &str) -> Result<()> {
        let (actor, relay) = self.team_relay().await?;
        relay.revoke_token(id).await.map_err(SyncError::from)?;
        self.log_team(&actor, "team.token_revoked", format!("token {id}"))
            .await
    }

    async fn log_team(
        &self,
        actor: &Principal,
        action: &'static str,
        target: String,
    ) -> Result<()> {
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        audit::insert(
            &mut tx,
            actor,
            &Change::new(Screen::Settings, action, target),
            Outcome::Ok,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
