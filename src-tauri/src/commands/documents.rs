use crmconnect::documents::{
    self, CurrencyInfo, Document, DocumentFilter, DocumentInput, DocumentPage, KindInfo,
};
use crmconnect::{ApiError, ErrorCode};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_documents(
    state: State<'_, AppState>,
    filter: DocumentFilter,
) -> Result<DocumentPage, ApiError> {
    Ok(state.ws()?.cx().documents(filter).await?)
}

#[tauri::command]
pub fn document_kinds() -> Vec<KindInfo> {
    documents::kinds()
}

#[tauri::command]
pub fn currencies() -> Vec<CurrencyInfo> {
    documents::currencies()
}

/// Creates a document: its PDF is the uploaded file when `upload_id` is given, else rendered.
#[tauri::command]
pub async fn create_document(
    state: State<'_, AppState>,
    input: DocumentInput,
    upload_id: Option<String>,
) -> Result<Document, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .create_document_upload(input, upload_id.as_deref())
        .await?)
}

#[tauri::command]
pub async fn update_document(
    state: State<'_, AppState>,
    id: i64,
    input: DocumentInput,
) -> Result<Document, ApiError> {
    Ok(state.ws()?.cx().update_document(id, input).await?)
}

#[tauri::command]
pub async fn delete_document(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_document(id).await?)
}

#[tauri::command]
pub async fn render_document_pdf(
    state: State<'_, AppState>,
    id: i64,
) -> Result<Document, ApiError> {
    Ok(state.ws()?.cx().render_document_pdf(id).await?)
}

#[tauri::command]
pub async fn attach_document_pdf(
    state: State<'_, AppState>,
    id: i64,
    upload_id: String,
) -> Result<Document, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .attach_document_upload(id, &upload_id)
        .await?)
}

/// Opens the document's PDF in the system's PDF viewer; returns its path.
#[tauri::command]
pub async fn open_document_pdf(state: State<'_, AppState>, id: i64) -> Result<String, ApiError> {
    let path = state.ws()?.cx().document_pdf(id).await?;
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| ApiError {
        code: ErrorCode::Internal,
        message: format!(
            "the PDF viewer could not be started for {}: {e}",
            path.display()
        ),
        fields: vec![],
    })?;
    Ok(path.display().to_string())
}
