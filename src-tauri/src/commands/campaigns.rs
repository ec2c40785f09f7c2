use crmconnect::ApiError;
use crmconnect::campaigns::{
    Campaign, CampaignInput, FailureGroup, RecipientFilter, RecipientPage, RecipientState,
    Retarget, Timeline,
};
use tauri::{AppHandle, State};

use crate::state::AppState;

#[tauri::command]
pub async fn list_campaigns(state: State<'_, AppState>) -> Result<Vec<Campaign>, ApiError> {
    Ok(state.ws()?.cx().campaigns().await?)
}

#[tauri::command]
pub async fn get_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().campaign(id).await?)
}

#[tauri::command]
pub async fn create_campaign(
    state: State<'_, AppState>,
    input: CampaignInput,
) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().create_campaign(input).await?)
}

#[tauri::command]
pub async fn update_campaign(
    state: State<'_, AppState>,
    id: i64,
    input: CampaignInput,
) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().update_campaign(id, input).await?)
}

#[tauri::command]
pub async fn plan_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().plan_campaign(id).await?)
}

#[tauri::command]
pub async fn start_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().start_campaign(id).await?)
}

#[tauri::command]
pub async fn pause_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().pause_campaign(id).await?)
}

/// Spreads a campaign over days (`per_day` recipients at most in 24 hours), or back to full pace.
#[tauri::command]
pub async fn spread_campaign(
    state: State<'_, AppState>,
    id: i64,
    per_day: Option<u32>,
) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().spread_campaign(id, per_day).await?)
}

#[tauri::command]
pub async fn resume_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().resume_campaign(id).await?)
}

#[tauri::command]
pub async fn stop_campaign(state: State<'_, AppState>, id: i64) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().stop_campaign(id).await?)
}

#[tauri::command]
pub async fn delete_campaign(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_campaign(id).await?)
}

#[tauri::command]
pub async fn retarget_campaign(
    state: State<'_, AppState>,
    id: i64,
    which: Retarget,
) -> Result<Campaign, ApiError> {
    Ok(state.ws()?.cx().retarget_campaign(id, which).await?)
}

#[tauri::command]
pub async fn campaign_recipients(
    state: State<'_, AppState>,
    id: i64,
    filter: RecipientFilter,
) -> Result<RecipientPage, ApiError> {
    Ok(state.ws()?.cx().campaign_recipients(id, filter).await?)
}

#[tauri::command]
pub async fn campaign_failures(
    state: State<'_, AppState>,
    id: i64,
) -> Result<Vec<FailureGroup>, ApiError> {
    Ok(state.ws()?.cx().campaign_failures(id).await?)
}

#[tauri::command]
pub async fn campaign_timeline(state: State<'_, AppState>, id: i64) -> Result<Timeline, ApiError> {
    Ok(state.ws()?.cx().campaign_timeline(id).await?)
}

#[tauri::command]
pub async fn export_campaign_csv(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    recipient_state: Option<RecipientState>,
) -> Result<String, ApiError> {
    let folder = super::contacts::downloads(&app);
    Ok(state
        .ws()?
        .cx()
        .export_campaign_csv(id, recipient_state, &folder)
        .await?)
}

#[tauri::command]
pub async fn resolve_campaign_recipient(
    state: State<'_, AppState>,
    id: i64,
    idx: i64,
    retry: bool,
) -> Result<(), ApiError> {
    Ok(state
        .ws()?
        .cx()
        .resolve_campaign_recipient(id, idx, retry)
        .await?)
}

#[tauri::command]
pub async fn campaign_stop_word(state: State<'_, AppState>) -> Result<String, ApiError> {
    Ok(state.ws()?.cx().campaign_stop_word().await?)
}

#[tauri::command]
pub async fn set_campaign_stop_word(
    state: State<'_, AppState>,
    word: String,
) -> Result<String, ApiError> {
    Ok(state.ws()?.cx().set_campaign_stop_word(word).await?)
}
