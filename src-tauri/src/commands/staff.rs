use crmconnect::ApiError;
use crmconnect::permissions::{self, ResourceInfo, Role, RoleInput};
use crmconnect::sensitive::Sensitive;
use crmconnect::staff::{NewStaff, StaffMember, StaffUpdate};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_staff(state: State<'_, AppState>) -> Result<Vec<StaffMember>, ApiError> {
    Ok(state.ws()?.cx().list_staff().await?)
}

#[tauri::command]
pub async fn create_staff(
    state: State<'_, AppState>,
    input: NewStaff,
) -> Result<StaffMember, ApiError> {
    Ok(state.ws()?.cx().create_staff(input).await?)
}

#[tauri::command]
pub async fn update_staff(
    state: State<'_, AppState>,
    id: i64,
    input: StaffUpdate,
) -> Result<StaffMember, ApiError> {
    Ok(state.ws()?.cx().update_staff(id, input).await?)
}

#[tauri::command]
pub async fn delete_staff(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_staff(id).await?)
}

#[tauri::command]
pub async fn set_passphrase(
    state: State<'_, AppState>,
    id: i64,
    passphrase: Sensitive<String>,
    current: Option<Sensitive<String>>,
) -> Result<(), ApiError> {
    Ok(state
        .ws()?
        .cx()
        .set_passphrase(id, passphrase, current)
        .await?)
}

#[tauri::command]
pub async fn list_roles(state: State<'_, AppState>) -> Result<Vec<Role>, ApiError> {
    Ok(state.ws()?.cx().list_roles().await?)
}

#[tauri::command]
pub async fn create_role(state: State<'_, AppState>, input: RoleInput) -> Result<Role, ApiError> {
    Ok(state.ws()?.cx().create_role(input).await?)
}

#[tauri::command]
pub async fn update_role(
    state: State<'_, AppState>,
    id: i64,
    input: RoleInput,
) -> Result<Role, ApiError> {
    Ok(state.ws()?.cx().update_role(id, input).await?)
}

#[tauri::command]
pub async fn delete_role(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_role(id).await?)
}

#[tauri::command]
pub fn permission_catalog() -> Vec<ResourceInfo> {
    permissions::catalog()
}
