//! The workspace menu and going live.

use crmconnect::ApiError;
use crmconnect::connection::TestReport;
use crmconnect::live::{
    GoLive, JoinTeam, MetaAccess, RelayAccess, RelayReport, WebhookReport, WorkspaceMenu,
};
use crmconnect::sensitive::Sensitive;
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn workspace_menu(state: State<'_, AppState>) -> Result<WorkspaceMenu, ApiError> {
    Ok(WorkspaceMenu {
        current: state.ws().ok().map(|w| w.info().slug.clone()),
        workspaces: state.workspaces().list().await?,
    })
}

/// Closes the open workspace and opens `slug`; the window then reloads.
#[tauri::command]
pub async fn switch_workspace(state: State<'_, AppState>, slug: String) -> Result<(), ApiError> {
    state.switch_to(&slug).await
}

#[tauri::command]
pub async fn live_check_meta(
    state: State<'_, AppState>,
    meta: MetaAccess,
) -> Result<TestReport, ApiError> {
    Ok(state.workspaces().check_meta(&meta).await?)
}

#[tauri::command]
pub async fn live_check_relay(
    state: State<'_, AppState>,
    relay: RelayAccess,
) -> Result<RelayReport, ApiError> {
    Ok(state.workspaces().check_relay(&relay).await?)
}

/// Creates the live workspace, opens it signed in as its owner, and connects its webhooks.
#[tauri::command]
pub async fn go_live(
    state: State<'_, AppState>,
    input: GoLive,
    app_secret: Sensitive<String>,
) -> Result<WebhookReport, ApiError> {
    state.go_live(input, app_secret).await
}

/// "Connect webhooks again" on the Connection screen of a live workspace.
#[tauri::command]
pub async fn connect_webhooks(
    state: State<'_, AppState>,
    app_secret: Sensitive<String>,
) -> Result<WebhookReport, ApiError> {
    Ok(state.ws()?.cx().connect_webhooks(app_secret).await?)
}

/// Joining a team: what the relay says of a staff member's token.
#[tauri::command]
pub async fn live_check_join(
    state: State<'_, AppState>,
    relay: RelayAccess,
) -> Result<RelayReport, ApiError> {
    Ok(state.workspaces().check_join(&relay).await?)
}

/// Joins the team's workspace with a staff member's token and opens it, signed in.
#[tauri::command]
pub async fn join_team(state: State<'_, AppState>, input: JoinTeam) -> Result<(), ApiError> {
    state.join_team(input).await
}
