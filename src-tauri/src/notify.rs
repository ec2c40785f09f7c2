//! Native notifications for new inbound messages, and opening the conversation when one is
//! clicked.
//!
//! tauri-plugin-notification shows notifications on Linux through notify-rust but drops their
//! actions, so a click could not open the conversation. We call notify-rust (the plugin's own
//! backend, the freedesktop `org.freedesktop.Notifications` D-Bus interface) directly and wait for
//! the "default" action on a thread of its own.

use std::sync::{Arc, Mutex};

use crmconnect::Workspace;
use crmconnect::chat::ChatNotice;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

/// The conversation on screen, as the chat screen reports it.
#[derive(Clone, Default)]
pub struct Focus(Arc<Mutex<Option<i64>>>);

impl Focus {
    pub fn set(&self, id: Option<i64>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = id;
    }

    fn get(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Forwards every chat change to the webview (`chat-changed`) and raises a notification for an
/// inbound message in a conversation that is not on screen, unless the staff member muted them.
pub fn forward(app: &AppHandle, ws: Arc<Workspace>, focus: Focus) {
    let mut rx = ws.chat_notices();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let notice = match rx.recv().await {
                Ok(n) => n,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            let _ = app.emit("chat-changed", &notice);
            if !notice.inbound {
                continue;
            }
            let window_focused = app
                .get_webview_window("main")
                .and_then(|w| w.is_focused().ok())
                .unwrap_or(false);
            if window_focused && focus.get() == Some(notice.conversation_id) {
                continue;
            }
            match ws.cx().chat_preferences().await {
                Ok(p) if !p.muted => show(&app, &notice),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "no notification: nobody is signed in"),
            }
        }
    });
}

fn show(app: &AppHandle, notice: &ChatNotice) {
    let title = notice.sender.clone().unwrap_or_else(|| "WhatsApp".into());
    let body = notice.preview.clone().unwrap_or_default();
    let id = notice.conversation_id;
    let app = app.clone();
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("CRMConnect WhatsApp")
            .summary(&title)
            .body(&body)
            .action("default", "Open conversation")
            .show();
        match shown {
            #[cfg(all(unix, not(target_os = "macos")))]
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    if let Some(w) = app.get_webview_window("main") {
                        let _ = w.unminimize();
                        let _ = w.show();
                        let _ = w.set_focus();
                    }
                    let _ = app.emit("chat-open", id);
                }
            }),
            #[cfg(not(all(unix, not(target_os = "macos"))))]
            Ok(_) => {
                let _ = app;
            }
            Err(e) => tracing::warn!(error = %e, "the notification could not be shown"),
        }
    });
}
