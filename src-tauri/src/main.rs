// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod notify;
mod settings;
mod state;

use tauri::Manager;

/// Bytes the webview sent as base64 (a file it read), or an error naming the problem.
fn decode_base64(s: &str) -> Result<Vec<u8>, crmconnect::ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| crmconnect::ApiError {
            code: crmconnect::ErrorCode::Invalid,
            message: format!("the file piece is not valid base64: {e}"),
            fields: vec![],
        })
}

fn main() {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        // Opens documents' PDFs in the system viewer, from Rust only: no JS permission is granted.
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let state = state::AppState::start(app.handle())?;
            app.manage(state);
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .expect("error while running CRMConnect WhatsApp");
}
