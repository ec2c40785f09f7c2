//! Desktop tokens: issued by the operator (`relay token issue`), each bound to a workspace and a
//! staff member with that member's permissions, stored only as a SHA-256 hash, listed and revoked.
//!
//! The tokens are 256 random bits, so a plain SHA-256 is the right hash: a slow password hash
//! (argon2) protects guessable secrets and would only cost every connection a few milliseconds.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::store::{Store, StoreError, TokenRecord, now_ms};
use crmconnect_access::permissions::Permission;
use crmconnect_events::kinds::Required;

const PREFIX: &str = "crr_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token needs a workspace")]
    NoWorkspace,
    #[error("a token needs a staff member")]
    NoStaff,
    #[error("give the token --admin or at least one --grant resource:action")]
    NoPermissions,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a token is issued for.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub workspace: String,
    pub staff: String,
    pub is_admin: bool,
    pub permissions: Vec<Permission>,
    pub label: String,
    /// When it stops working (milliseconds since the epoch); `None` never.
    pub expires_at: Option<i64>,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a token: returns the record and the token itself, which is shown once.
pub async fn issue(store: &Store, spec: TokenSpec) -> Result<(TokenRecord, String), TokenError> {
    if spec.workspace.trim().is_empty() {
        return Err(TokenError::NoWorkspace);
    }
    if spec.staff.trim().is_empty() {
        return Err(TokenError::NoStaff);
    }
    if !spec.is_admin && spec.permissions.is_empty() {
        return Err(TokenError::NoPermissions);
    }
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let mut id = [0u8; 6];
    rand::rng().fill_bytes(&mut id);
    let mut permissions = spec.permissions;
    permissions.sort();
    permissions.dedup();
    let record = TokenRecord {
        id: hex::encode(id),
        workspace: spec.workspace,
        staff: spec.staff,
        is_admin: spec.is_admin,
        permissions,
        label: spec.label,
        created_at: now_ms(),
        revoked_at: None,
        expires_at: spec.expires_at,
    };
    store.insert_token(&record, &hash(&token)).await?;
    Ok((record, token))
}

/// The valid token presented as `token`, if any.
pub async fn authenticate(store: &Store, token: &str) -> Result<Option<TokenRecord>, StoreError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    store.token_by_hash(&hash(token)).await
}

impl TokenRecord {
    /// Whether the staff member this token stands for may publish what `required` asks.
    pub fn allows(&self, required: Required) -> bool {
        match required {
            Required::Admin => self.is_admin,
            Required::Permission(p) => self.is_admin || self.permissions.contains(&p),
        }
    }
}

/// A token as the API shows it (never the token itself).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TokenView {
    pub id: String,
    pub staff: String,
    pub is_admin: bool,
    /// `resource:action` each; empty for an administrator.
    pub permissions: Vec<String>,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        TokenView {
            id: t.id,
            staff: t.staff,
            is_admin: t.is_admin,
            permissions: t
                .permissions
                .iter()
                .map(|p| format!("{}:{}", p.resource.key(), p.action.key()))
                .collect(),
            label: t.label,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            expires_at: t.expires_at,
        }
    }
}

/// What an administrator asks for (`POST /v1/tokens`): a token of their own workspace.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub staff: String,
    #[serde(default)]
    pub is_admin: bool,
    /// `resource:action` each.
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub label: String,
    /// The token stops working after this many days; none: when revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// The answer: the record, and the token, shown once.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Issued {
    pub token: TokenView,
    pub secret: String,
}

impl IssueRequest {
    /// The spec of a token of `workspace`; an unknown permission is named.
    pub fn spec(self, workspace: &str) -> Result<TokenSpec, String> {
        let permissions = self
            .permissions
            .iter()
            .map(|p| {
                p.parse::<Permission>()
                    .map_err(|e| format!("permission “{p}”: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if self.expires_in_days == Some(0) {
            return Err("expires_in_days must be at least 1 (or left out: until revoked)".into());
        }
        Ok(TokenSpec {
            workspace: workspace.to_owned(),
            staff: self.staff.trim().to_owned(),
            is_admin: self.is_admin,
            permissions,
            label: self.label.trim().chars().take(200).collect(),
            expires_at: self
                .expires_in_days
                .map(|d| now_ms() + i64::from(d) * 86_400_000),
        })
    }
}
