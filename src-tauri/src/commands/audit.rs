use crmconnect::ApiError;
use crmconnect::audit::{LogFilter, LogPage};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn activity_log(
    state: State<'_, AppState>,
    filter: LogFilter,
) -> Result<LogPage, ApiError> {
    Ok(state.ws()?.cx().activity_log(filter).await?)
}
