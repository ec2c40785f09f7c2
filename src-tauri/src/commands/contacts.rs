use std::path::PathBuf;

use crmconnect::ApiError;
use crmconnect::contacts::import::{ImportOptions, ImportReport};
use crmconnect::contacts::{
    BulkResult, Contact, ContactFilter, ContactInput, ContactPage, Group, GroupInput,
};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::state::AppState;

#[tauri::command]
pub async fn list_contacts(
    state: State<'_, AppState>,
    filter: ContactFilter,
) -> Result<ContactPage, ApiError> {
    Ok(state.ws()?.cx().contacts(filter).await?)
}

/// Every contact the filter matches as a CSV file in Downloads; answers its path.
#[tauri::command]
pub async fn export_contacts_csv(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: ContactFilter,
) -> Result<String, ApiError> {
    let folder = downloads(&app);
    Ok(state
        .ws()?
        .cx()
        .export_contacts_csv(filter, &folder)
        .await?)
}

/// Every contact the filter matches, as ids: "select all" over all the matches.
#[tauri::command]
pub async fn contact_ids(
    state: State<'_, AppState>,
    filter: ContactFilter,
) -> Result<Vec<i64>, ApiError> {
    Ok(state.ws()?.cx().contact_ids(filter).await?)
}

#[tauri::command]
pub async fn get_contact(state: State<'_, AppState>, id: i64) -> Result<Contact, ApiError> {
    Ok(state.ws()?.cx().contact(id).await?)
}

#[tauri::command]
pub async fn create_contact(
    state: State<'_, AppState>,
    input: ContactInput,
) -> Result<Contact, ApiError> {
    Ok(state.ws()?.cx().create_contact(input).await?)
}

#[tauri::command]
pub async fn update_contact(
    state: State<'_, AppState>,
    id: i64,
    input: ContactInput,
) -> Result<Contact, ApiError> {
    Ok(state.ws()?.cx().update_contact(id, input).await?)
}

#[tauri::command]
pub async fn delete_contacts(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<BulkResult, ApiError> {
    Ok(state.ws()?.cx().delete_contacts(ids).await?)
}

#[tauri::command]
pub async fn assign_groups(
    state: State<'_, AppState>,
    contact_ids: Vec<i64>,
    group_ids: Vec<i64>,
) -> Result<BulkResult, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .assign_groups(contact_ids, group_ids)
        .await?)
}

#[tauri::command]
pub async fn list_groups(state: State<'_, AppState>) -> Result<Vec<Group>, ApiError> {
    Ok(state.ws()?.cx().groups().await?)
}

#[tauri::command]
pub async fn create_group(
    state: State<'_, AppState>,
    input: GroupInput,
) -> Result<Group, ApiError> {
    Ok(state.ws()?.cx().create_group(input).await?)
}

#[tauri::command]
pub async fn update_group(
    state: State<'_, AppState>,
    id: i64,
    input: GroupInput,
) -> Result<Group, ApiError> {
    Ok(state.ws()?.cx().update_group(id, input).await?)
}

#[tauri::command]
pub async fn delete_group(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_group(id).await?)
}

/// Runs the import; progress arrives as `import-progress` events (ImportProgress).
#[tauri::command]
pub async fn run_import(
    app: AppHandle,
    state: State<'_, AppState>,
    upload_id: String,
    file_name: String,
    options: ImportOptions,
) -> Result<ImportReport, ApiError> {
    let cancel = state.new_import();
    let progress = move |p| drop(app.emit("import-progress", p));
    Ok(state
        .ws()?
        .cx()
        .import_upload(&upload_id, &file_name, options, cancel, progress)
        .await?)
}

#[tauri::command]
pub fn cancel_import(state: State<'_, AppState>) {
    state.cancel_import();
}

/// Copies the refused rows into the user's downloads folder; returns where.
#[tauri::command]
pub async fn save_refused_rows(
    app: AppHandle,
    state: State<'_, AppState>,
    refused_file: String,
) -> Result<String, ApiError> {
    let folder = downloads(&app);
    Ok(state
        .ws()?
        .cx()
        .save_refused_rows(&refused_file, &folder)
        .await?)
}

pub(super) fn downloads(app: &AppHandle) -> PathBuf {
    match std::env::var_os(crmconnect::workspace::DATA_DIR_ENV) {
        Some(root) => PathBuf::from(root).join("downloads"),
        None => app
            .path()
            .download_dir()
            .unwrap_or_else(|_| std::env::temp_dir()),
    }
}
