//! One pair of commands for every file the webview hands over piece by piece.

use crmconnect::ApiError;
use crmconnect::uploads::UploadPurpose;
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn begin_upload(
    state: State<'_, AppState>,
    purpose: UploadPurpose,
) -> Result<String, ApiError> {
    Ok(state.ws()?.cx().begin_upload(purpose).await?)
}

/// A piece of the file, base64-encoded by the webview.
#[tauri::command]
pub async fn append_upload(
    state: State<'_, AppState>,
    upload_id: String,
    chunk: String,
) -> Result<u64, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .append_upload(&upload_id, &crate::decode_base64(&chunk)?)
        .await?)
}
