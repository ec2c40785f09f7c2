use crmconnect::ApiError;
use crmconnect::numbers::{NumberView, Picture};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_numbers(state: State<'_, AppState>) -> Result<Vec<NumberView>, ApiError> {
    Ok(state.ws()?.cx().numbers().await?)
}

#[tauri::command]
pub async fn refresh_numbers(state: State<'_, AppState>) -> Result<Vec<NumberView>, ApiError> {
    Ok(state.ws()?.cx().refresh_numbers().await?)
}

#[tauri::command]
pub async fn number_picture(
    state: State<'_, AppState>,
    phone_number_id: String,
) -> Result<Option<Picture>, ApiError> {
    Ok(state.ws()?.cx().number_picture(&phone_number_id).await?)
}
