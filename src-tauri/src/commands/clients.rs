use crmconnect::ApiError;
use crmconnect::clients::{Client, ClientFilter, ClientInput, ClientPage};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_clients(
    state: State<'_, AppState>,
    filter: ClientFilter,
) -> Result<ClientPage, ApiError> {
    Ok(state.ws()?.cx().clients(filter).await?)
}

#[tauri::command]
pub async fn get_client(state: State<'_, AppState>, id: i64) -> Result<Client, ApiError> {
    Ok(state.ws()?.cx().client(id).await?)
}

#[tauri::command]
pub async fn create_client(
    state: State<'_, AppState>,
    input: ClientInput,
) -> Result<Client, ApiError> {
    Ok(state.ws()?.cx().create_client(input).await?)
}

#[tauri::command]
pub async fn update_client(
    state: State<'_, AppState>,
    id: i64,
    input: ClientInput,
) -> Result<Client, ApiError> {
    Ok(state.ws()?.cx().update_client(id, input).await?)
}

#[tauri::command]
pub async fn delete_client(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_client(id).await?)
}
