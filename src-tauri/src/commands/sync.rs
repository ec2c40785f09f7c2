use crmconnect::ApiError;
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::engine::SyncStatus;
use crmconnect::sync::{RefusedEvent, RelaySettings};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus, ApiError> {
    Ok(state.sync_status().await)
}

#[tauri::command]
pub async fn automation_status(
    state: State<'_, AppState>,
) -> Result<crmconnect::runner::AutomationStatus, ApiError> {
    Ok(state.automation_status().await)
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.sync_now().await;
    Ok(())
}

#[tauri::command]
pub async fn relay_settings(state: State<'_, AppState>) -> Result<RelaySettings, ApiError> {
    Ok(state.ws()?.cx().relay_settings().await?)
}

/// Checks the address and token with the relay, keeps the token in the keychain, restarts sync.
#[tauri::command]
pub async fn set_relay(
    state: State<'_, AppState>,
    relay_url: String,
    token: Option<String>,
) -> Result<RelaySettings, ApiError> {
    let ws = state.ws()?;
    ws.cx()
        .set_relay(&relay_url, token.map(Sensitive::new))
        .await?;
    state.restart_sync().await?;
    Ok(ws.cx().relay_settings().await?)
}

/// This desktop's events the relay refused for good, with its reasons (administrators).
#[tauri::command]
pub async fn sync_refused_events(
    state: State<'_, AppState>,
) -> Result<Vec<RefusedEvent>, ApiError> {
    Ok(state.ws()?.cx().refused_events().await?)
}

/// Clears the sync warning, then tells the windows (administrators).
#[tauri::command]
pub async fn dismiss_sync_warning(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.ws()?.cx().dismiss_sync_warning().await?;
    state.sync_now().await;
    Ok(())
}

/// Settings → Team: the team's tokens (administrators).
#[tauri::command]
pub async fn team_tokens(
    state: State<'_, AppState>,
) -> Result<Vec<crmconnect::sync::team::TeamToken>, ApiError> {
    Ok(state.ws()?.cx().team_tokens().await?)
}

/// Issues a staff member's token, with their role's permissions; shown once.
#[tauri::command]
pub async fn issue_team_token(
    state: State<'_, AppState>,
    input: crmconnect::sync::team::NewTeamToken,
) -> Result<crmconnect::sync::team::IssuedTeamToken, ApiError> {
    Ok(state.ws()?.cx().issue_team_token(input).await?)
}

/// Revokes a token: its desktop is cut off within the relay's poll interval.
#[tauri::command]
pub async fn revoke_team_token(state: State<'_, AppState>, id: String) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().revoke_team_token(&id).await?)
}

/// Whether this desktop is locked out of its team (its relay token refused); asked by the
/// sign-in screen, before anyone is signed in.
#[tauri::command]
pub async fn team_lockout(
    state: State<'_, AppState>,
) -> Result<Option<crmconnect::sync::lockout::Lockout>, ApiError> {
    Ok(state.ws()?.team_lockout().await?)
}

/// A new token for a locked-out desktop (from the sign-in screen); sync restarts with it.
#[tauri::command]
pub async fn rejoin_team(state: State<'_, AppState>, token: String) -> Result<(), ApiError> {
    state.ws()?.rejoin_team(Sensitive::new(token)).await?;
    state.restart_sync().await
}
