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
