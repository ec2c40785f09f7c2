use crmconnect::ApiError;
use crmconnect::screens::{Screen, ScreenInfo};
use crmconnect::sensitive::Sensitive;
use crmconnect::staff::{Me, NewStaff, StaffMember};
use crmconnect::workspace::AppStatus;
use tauri::{AppHandle, State};

use crate::settings;
use crate::state::AppState;

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, ApiError> {
    Ok(state.ws()?.status().await?)
}

#[tauri::command]
pub async fn create_owner(
    state: State<'_, AppState>,
    input: NewStaff,
) -> Result<StaffMember, ApiError> {
    Ok(state.ws()?.create_owner(input).await?)
}

#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    username: String,
    passphrase: Sensitive<String>,
) -> Result<Me, ApiError> {
    let me = state.ws()?.sign_in(&username, passphrase).await?;
    settings::remember_username(&app, &me.username);
    Ok(me)
}

#[tauri::command]
pub async fn sign_out(app: AppHandle, state: State<'_, AppState>) -> Result<(), ApiError> {
    state.ws()?.sign_out().await?;
    crate::notify::show_unread(&app, None);
    Ok(())
}

#[tauri::command]
pub fn last_username(app: AppHandle) -> Option<String> {
    settings::last_username(&app)
}

#[tauri::command]
pub async fn open_screen(
    state: State<'_, AppState>,
    screen: Screen,
) -> Result<ScreenInfo, ApiError> {
    Ok(state.ws()?.cx().open_screen(screen).await?)
}
