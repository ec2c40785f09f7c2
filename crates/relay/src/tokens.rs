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
