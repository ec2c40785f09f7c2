use crmconnect::ApiError;
use crmconnect::bots::{
    AiSettings, AiSettingsInput, Bot, BotDraft, BotFiguresByNode, BotInput, BusinessHours,
    SimRequest, SimTurn,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_bots(state: State<'_, AppState>) -> Result<Vec<Bot>, ApiError> {
    Ok(state.ws()?.cx().bots().await?)
}

#[tauri::command]
pub async fn get_bot(state: State<'_, AppState>, id: i64) -> Result<BotDraft, ApiError> {
    Ok(state.ws()?.cx().bot(id).await?)
}

#[tauri::command]
pub async fn create_bot(state: State<'_, AppState>, input: BotInput) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().create_bot(input).await?)
}

#[tauri::command]
pub async fn update_bot(
    state: State<'_, AppState>,
    id: i64,
    input: BotInput,
) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().update_bot(id, input).await?)
}

#[tauri::command]
pub async fn save_bot_draft(
    state: State<'_, AppState>,
    id: i64,
    drawflow: String,
) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().save_bot_draft(id, drawflow).await?)
}

#[tauri::command]
pub async fn publish_bot(state: State<'_, AppState>, id: i64) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().publish_bot(id).await?)
}

#[tauri::command]
pub async fn restore_bot_version(
    state: State<'_, AppState>,
    id: i64,
    version: i64,
) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().restore_bot_version(id, version).await?)
}

#[tauri::command]
pub async fn set_bot_active(
    state: State<'_, AppState>,
    id: i64,
    active: bool,
) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().set_bot_active(id, active).await?)
}

#[tauri::command]
pub async fn duplicate_bot(state: State<'_, AppState>, id: i64) -> Result<Bot, ApiError> {
    Ok(state.ws()?.cx().duplicate_bot(id).await?)
}

#[tauri::command]
pub async fn delete_bot(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_bot(id).await?)
}

#[tauri::command]
pub async fn simulate_bot(
    state: State<'_, AppState>,
    request: SimRequest,
) -> Result<SimTurn, ApiError> {
    Ok(state.ws()?.cx().simulate_bot(request).await?)
}

#[tauri::command]
pub async fn ai_settings(state: State<'_, AppState>) -> Result<AiSettings, ApiError> {
    Ok(state.ws()?.cx().ai_settings().await?)
}

#[tauri::command]
pub async fn business_hours(state: State<'_, AppState>) -> Result<BusinessHours, ApiError> {
    Ok(state.ws()?.cx().business_hours().await?)
}

#[tauri::command]
pub async fn set_business_hours(
    state: State<'_, AppState>,
    hours: BusinessHours,
) -> Result<BusinessHours, ApiError> {
    Ok(state.ws()?.cx().set_business_hours(hours).await?)
}

#[tauri::command]
pub async fn set_ai_settings(
    state: State<'_, AppState>,
    input: AiSettingsInput,
) -> Result<AiSettings, ApiError> {
    Ok(state.ws()?.cx().set_ai_settings(input).await?)
}

#[tauri::command]
pub async fn bot_http_hosts(state: State<'_, AppState>) -> Result<Vec<String>, ApiError> {
    Ok(state.ws()?.cx().bot_http_hosts().await?)
}

#[tauri::command]
pub async fn set_bot_http_hosts(
    state: State<'_, AppState>,
    hosts: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    Ok(state.ws()?.cx().set_bot_http_hosts(hosts).await?)
}

#[tauri::command]
pub async fn bot_figures_by_node(
    state: State<'_, AppState>,
    id: i64,
) -> Result<BotFiguresByNode, ApiError> {
    Ok(state.ws()?.cx().bot_figures_by_node(id).await?)
}
