//! The sandbox panel: simulated customers write, the sandbox clock moves on, sends fail.

use crmconnect::ApiError;
use crmconnect::embedded::{SandboxPanel, SandboxWrite};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn sandbox_panel(state: State<'_, AppState>) -> Result<SandboxPanel, ApiError> {
    state.with_sandbox(|e| Ok(e.panel())).await
}

/// Answers the message's id.
#[tauri::command]
pub async fn sandbox_customer_writes(
    state: State<'_, AppState>,
    customer: String,
    message: SandboxWrite,
    reply_to_last: bool,
) -> Result<String, ApiError> {
    state
        .with_sandbox(|e| e.customer_writes(&customer, message, reply_to_last))
        .await
}

#[tauri::command]
pub async fn sandbox_advance_clock(
    state: State<'_, AppState>,
    hours: f64,
) -> Result<SandboxPanel, ApiError> {
    state.with_sandbox(|e| e.advance_clock(hours)).await
}

#[tauri::command]
pub async fn sandbox_set_failure_rate(
    state: State<'_, AppState>,
    rate: f64,
) -> Result<SandboxPanel, ApiError> {
    state.with_sandbox(|e| e.set_failure_rate(rate)).await
}

/// Meta tells the sandbox's account something (a restriction, a flagged number…).
#[tauri::command]
pub async fn sandbox_account_event(
    state: State<'_, AppState>,
    event: crmconnect::sandbox::AccountEvent,
) -> Result<SandboxPanel, ApiError> {
    state.with_sandbox(|e| e.account_event(event)).await
}
