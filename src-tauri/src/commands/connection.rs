use crmconnect::ApiError;
use crmconnect::connection::{ConnectionInput, ConnectionView, TestReport};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn get_connection(state: State<'_, AppState>) -> Result<ConnectionView, ApiError> {
    Ok(state.ws()?.cx().connection().await?)
}

#[tauri::command]
pub async fn save_connection(
    state: State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionView, ApiError> {
    Ok(state.ws()?.cx().save_connection(input).await?)
}

#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>) -> Result<TestReport, ApiError> {
    Ok(state.ws()?.cx().test_connection().await?)
}

/// What Meta says about the account that is in force (the top bar's banner).
#[tauri::command]
pub async fn account_notices(
    state: tauri::State<'_, crate::state::AppState>,
) -> Result<Vec<crmconnect::account::AccountNotice>, crmconnect::ApiError> {
    Ok(state.ws()?.cx().account_notices().await?)
}

#[tauri::command]
pub async fn dismiss_account_notice(
    state: tauri::State<'_, crate::state::AppState>,
    id: i64,
) -> Result<(), crmconnect::ApiError> {
    Ok(state.ws()?.cx().dismiss_account_notice(id).await?)
}
