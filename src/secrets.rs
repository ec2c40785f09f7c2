//! Where secrets live: the OS keychain on the desktop, never SQLite, the settings file, the logs
//! or the webview. Entries are namespaced by app identifier, optional namespace and workspace, so
//! tests and real use never share them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use ts_rs::TS;

use crate::ErrorCode;
use crate::sensitive::Sensitive;

/// The keychain service name of every entry.
pub const SERVICE: &str = "com.crmconnect.whatsapp";
/// Set to keep a run's entries apart (tests set a random one).
pub const NAMESPACE_ENV: &str = "CRMCONNECT_KEYCHAIN_NAMESPACE";

/// The secrets the product keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SecretName {
    AccessToken,
    /// Meta's app secret and webhook verify token, which desktops kept before only the relay used
    /// them: no longer asked for or written, and deleted from the keychain when the Connection
    /// screen is next saved (or, in the sandbox workspace, at launch). See [`SecretName::LEGACY`].
    #[ts(skip)]
    AppSecret,
    #[ts(skip)]
    VerifyToken,
    /// The token this desktop connects to its relay with (set in Settings → Team sync, not on
    /// the Connection screen, so it is not part of the UI's type).
    #[ts(skip)]
    RelayToken,
    /// The key of the OpenAI-compatible endpoint AI bots ask (Settings → AI for bots).
    #[ts(skip)]
    AiKey,
}

impl SecretName {
    /// What earlier versions kept and this one removes.
    pub const LEGACY: [SecretName; 2] = [SecretName::AppSecret, SecretName::VerifyToken];

    pub fn key(self) -> &'static str {
        match self {
            SecretName::AccessToken => "access_token",
            SecretName::AppSecret => "app_secret",
            SecretName::VerifyToken => "webhook_verify_token",
            SecretName::RelayToken => "relay_token",
            SecretName::AiKey => "ai_key",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SecretName::AccessToken => "access token",
            SecretName::AppSecret => "app secret",
            SecretName::VerifyToken => "webhook verify token",
            SecretName::RelayToken => "relay token",
            SecretName::AiKey => "AI endpoint key",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the OS keychain is not available ({0}); on Linux a Secret Service such as GNOME Keyring must be running and unlocked"
    )]
    Unavailable(String),
    #[error("the OS keychain refused access ({0}); unlock it and try again")]
    Locked(String),
    #[error("the OS keychain failed: {0}")]
    Other(String),
}

impl crate::error::Coded for SecretError {
    fn code(&self) -> ErrorCode {
        SecretError::code(self)
    }
}

impl SecretError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Storage
    }
}

/// A place for secrets. Blocking: call from `spawn_blocking` in async code.
pub trait SecretStore: Send + Sync + 'static {
    fn get(
        &self,
        workspace: &str,
        name: SecretName,
    ) -> Result<Option<Sensitive<String>>, SecretError>;
    fn set(
        &self,
        workspace: &str,
        name: SecretName,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError>;
    fn delete(&self, workspace: &str, name: SecretName) -> Result<(), SecretError>;
    /// What the store is, for the Connection screen ("OS keychain", "process memory").
    fn describe(&self) -> &'static str;
}

/// The account name of an entry: `[namespace/]workspace/secret`.
pub fn account(workspace: &str, name: SecretName) -> String {
    match std::env::var(NAMESPACE_ENV) {
        Ok(ns) if !ns.is_empty() => format!("{ns}/{workspace}/{}", name.key()),
        _ => format!("{workspace}/{}", name.key()),
    }
}

/// Secrets held in this process's memory only, gone at exit: for the relay (which takes its
/// secrets from its configuration) and for tests of code that needs a store.
#[derive(Default, Clone)]
pub struct MemoryStore {
    map: Arc<Mutex<HashMap<String, Sensitive<String>>>>,
}

impl SecretStore for MemoryStore {
    fn get(
        &self,
        workspace: &str,
        name: SecretName,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account(workspace, name))
            .cloned())
    }

    fn set(
        &self,
        workspace: &str,
        name: SecretName,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account(workspace, name), value.clone());
        Ok(())
    }

    fn delete(&self, workspace: &str, name: SecretName) -> Result<(), SecretError> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account(workspace, name));
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "process memory (not kept after exit)"
    }
}

/// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
#[cfg(feature = "keychain")]
#[derive(Default, Clone, Copy)]
pub struct Keychain;

#[cfg(feature = "keychain")]
impl Keychain {
    fn entry(workspace: &str, name: SecretName) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, &account(workspace, name)).map_err(classify)
    }
}

#[cfg(feature = "keychain")]
fn classify(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::PlatformFailure(p) => SecretError::Unavailable(p.to_string()),
        keyring::Error::NoStorageAccess(p) => SecretError::Locked(p.to_string()),
        e => SecretError::Other(e.to_string()),
    }
}

#[cfg(feature = "keychain")]
impl SecretStore for Keychain {
    fn get(
        &self,
        workspace: &str,
        name: SecretName,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        match Self::entry(workspace, name)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn set(
        &self,
        workspace: &str,
        name: SecretName,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError> {
        Self::entry(workspace, name)?
            .set_password(value.expose())
            .map_err(classify)
    }

    fn delete(&self, workspace: &str, name: SecretName) -> Result<(), SecretError> {
        match Self::entry(workspace, name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    fn describe(&self) -> &'static str {
        "the OS keychain"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip_keeps_workspaces_apart() {
        let s = MemoryStore::default();
        s.set("a", SecretName::AccessToken, &Sensitive::from("tok-a"))
            .unwrap();
        s.set("b", SecretName::AccessToken, &Sensitive::from("tok-b"))
            .unwrap();
        assert_eq!(
            s.get("a", SecretName::AccessToken)
                .unwrap()
                .unwrap()
                .expose(),
            "tok-a"
        );
        assert_eq!(
            s.get("b", SecretName::AccessToken)
                .unwrap()
                .unwrap()
                .expose(),
            "tok-b"
        );
        assert!(s.get("a", SecretName::AppSecret).unwrap().is_none());
        s.delete("a", SecretName::AccessToken).unwrap();
        assert!(s.get("a", SecretName::AccessToken).unwrap().is_none());
    }
}
