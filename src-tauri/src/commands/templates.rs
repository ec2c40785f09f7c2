use crmconnect::ApiError;
use crmconnect::templates::{
    self, Binding, MergeField, ModelView, TemplateFilter, TemplateInput, TemplateModel,
    TemplateView,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_templates(
    state: State<'_, AppState>,
    filter: TemplateFilter,
) -> Result<Vec<TemplateView>, ApiError> {
    Ok(state.ws()?.cx().templates(filter).await?)
}

#[tauri::command]
pub async fn get_template(state: State<'_, AppState>, id: i64) -> Result<TemplateView, ApiError> {
    Ok(state.ws()?.cx().template(id).await?)
}

#[tauri::command]
pub async fn sync_templates(state: State<'_, AppState>) -> Result<Vec<TemplateView>, ApiError> {
    Ok(state.ws()?.cx().sync_templates().await?)
}

#[tauri::command]
pub async fn create_template(
    state: State<'_, AppState>,
    input: TemplateInput,
) -> Result<TemplateView, ApiError> {
    Ok(state.ws()?.cx().create_template(input).await?)
}

#[tauri::command]
pub async fn edit_template(
    state: State<'_, AppState>,
    id: i64,
    input: TemplateInput,
) -> Result<TemplateView, ApiError> {
    Ok(state.ws()?.cx().edit_template(id, input).await?)
}

#[tauri::command]
pub async fn delete_template(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_template(id).await?)
}

#[tauri::command]
pub async fn set_template_mapping(
    state: State<'_, AppState>,
    id: i64,
    bindings: Vec<Binding>,
) -> Result<TemplateView, ApiError> {
    Ok(state.ws()?.cx().set_template_mapping(id, bindings).await?)
}

#[tauri::command]
pub async fn template_models(state: State<'_, AppState>) -> Result<Vec<ModelView>, ApiError> {
    Ok(state.ws()?.cx().template_models().await?)
}

#[tauri::command]
pub async fn load_template_model(
    state: State<'_, AppState>,
    model: TemplateModel,
) -> Result<TemplateView, ApiError> {
    Ok(state.ws()?.cx().load_template_model(model).await?)
}

#[tauri::command]
pub fn merge_fields() -> Vec<MergeField> {
    templates::merge_fields()
}
