use crmconnect::ApiError;
use crmconnect::contacts::import::ImportReport;
use crmconnect::leads::import::LeadImportOptions;
use crmconnect::leads::{
    Lead, LeadFilter, LeadInput, LeadPage, LeadRecipient, LeadStatus, LeadStatusInput, LeadsDeleted,
};
use crmconnect::staff::StaffName;
use tauri::{AppHandle, Emitter, State};

use crate::state::AppState;

#[tauri::command]
pub async fn list_leads(
    state: State<'_, AppState>,
    filter: LeadFilter,
) -> Result<LeadPage, ApiError> {
    Ok(state.ws()?.cx().leads(filter).await?)
}

/// Every lead the filter matches as a CSV file in Downloads; answers its path.
#[tauri::command]
pub async fn export_leads_csv(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: LeadFilter,
) -> Result<String, ApiError> {
    let folder = super::contacts::downloads(&app);
    Ok(state.ws()?.cx().export_leads_csv(filter, &folder).await?)
}

#[tauri::command]
pub async fn get_lead(state: State<'_, AppState>, id: i64) -> Result<Lead, ApiError> {
    Ok(state.ws()?.cx().lead(id).await?)
}

#[tauri::command]
pub async fn create_lead(state: State<'_, AppState>, input: LeadInput) -> Result<Lead, ApiError> {
    Ok(state.ws()?.cx().create_lead(input).await?)
}

#[tauri::command]
pub async fn update_lead(
    state: State<'_, AppState>,
    id: i64,
    input: LeadInput,
) -> Result<Lead, ApiError> {
    Ok(state.ws()?.cx().update_lead(id, input).await?)
}

#[tauri::command]
pub async fn delete_leads(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<LeadsDeleted, ApiError> {
    Ok(state.ws()?.cx().delete_leads(ids).await?)
}

#[tauri::command]
pub async fn filter_leads_for_campaign(
    state: State<'_, AppState>,
    filter: LeadFilter,
) -> Result<Vec<LeadRecipient>, ApiError> {
    Ok(state.ws()?.cx().filter_leads_for_campaign(filter).await?)
}

#[tauri::command]
pub async fn lead_sources(state: State<'_, AppState>) -> Result<Vec<String>, ApiError> {
    Ok(state.ws()?.cx().lead_sources().await?)
}

#[tauri::command]
pub async fn staff_directory(state: State<'_, AppState>) -> Result<Vec<StaffName>, ApiError> {
    Ok(state.ws()?.cx().staff_directory().await?)
}

#[tauri::command]
pub async fn list_lead_statuses(state: State<'_, AppState>) -> Result<Vec<LeadStatus>, ApiError> {
    Ok(state.ws()?.cx().lead_statuses().await?)
}

#[tauri::command]
pub async fn create_lead_status(
    state: State<'_, AppState>,
    input: LeadStatusInput,
) -> Result<LeadStatus, ApiError> {
    Ok(state.ws()?.cx().create_lead_status(input).await?)
}

#[tauri::command]
pub async fn update_lead_status(
    state: State<'_, AppState>,
    id: i64,
    input: LeadStatusInput,
) -> Result<LeadStatus, ApiError> {
    Ok(state.ws()?.cx().update_lead_status(id, input).await?)
}

#[tauri::command]
pub async fn reorder_lead_statuses(
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> Result<Vec<LeadStatus>, ApiError> {
    Ok(state.ws()?.cx().reorder_lead_statuses(ids).await?)
}

#[tauri::command]
pub async fn delete_lead_status(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_lead_status(id).await?)
}

/// Runs the import; progress arrives as `import-progress` events, as for contacts (one import
/// runs at a time, cancelled with `cancel_import`).
#[tauri::command]
pub async fn run_leads_import(
    app: AppHandle,
    state: State<'_, AppState>,
    upload_id: String,
    file_name: String,
    options: LeadImportOptions,
) -> Result<ImportReport, ApiError> {
    let cancel = state.new_import();
    let progress = move |p| drop(app.emit("import-progress", p));
    Ok(state
        .ws()?
        .cx()
        .import_leads_upload(&upload_id, &file_name, options, cancel, progress)
        .await?)
}

#[tauri::command]
pub async fn save_lead_refused_rows(
    app: AppHandle,
    state: State<'_, AppState>,
    refused_file: String,
) -> Result<String, ApiError> {
    let folder = super::contacts::downloads(&app);
    Ok(state
        .ws()?
        .cx()
        .save_lead_refused_rows(&refused_file, &folder)
        .await?)
}

/// Sandbox workspace only: demo leads, clients and documents for the CRM screens.
#[tauri::command]
pub async fn load_sandbox_crm_demo(
    state: State<'_, AppState>,
) -> Result<crmconnect::demo::DemoReport, ApiError> {
    Ok(state.ws()?.cx().load_sandbox_crm_demo().await?)
}
