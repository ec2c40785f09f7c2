//! Native notifications for new inbound messages, and opening the conversation when one is
//! clicked.
//!
//! tauri-plugin-notification shows notifications on Linux through notify-rust but drops their
//! actions, so a click could not open the conversation. We call notify-rust (the plugin's own
//! backend, the freedesktop `org.freedesktop.Notifications` D-Bus interface) directly and wait for
//! the "default" action on a thread of its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crmconnect::Workspace;
use crmconnect::chat::{ChatNotice, UnreadCount};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

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

/// Notifications waiting for a click, each holding a thread until it is clicked or closed: at
/// most this many. Past it, new messages are counted in one summary notification instead, so a
/// flood of messages cannot start a thread each.
const MAX_WAITING: usize = 8;

/// The summary notification's id: showing it again replaces it.
const SUMMARY_ID: u32 = 0x0043_524d;

/// How many notifications wait for a click, and how many messages the summary counts.
#[derive(Clone, Default)]
struct Waiting {
    open: Arc<AtomicUsize>,
    overflow: Arc<AtomicUsize>,
}

/// A place among the [`MAX_WAITING`]; given back when dropped.
struct Slot(Waiting);

impl Waiting {
    fn enter(&self) -> Option<Slot> {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_WAITING).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self.clone()))
    }

    /// One more message for the summary; returns how many it counts now.
    fn overflowed(&self) -> usize {
        self.overflow.fetch_add(1, Ordering::SeqCst) + 1
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            // All clicked or closed: the next flood starts a new count.
            self.0.overflow.store(0, Ordering::SeqCst);
        }
    }
}

/// A customer's words for a notification body. Notification servers that render markup (the
/// freedesktop `body-markup` capability) would otherwise take `<a href=…>` or `<img src=…>` in a
/// message as theirs; `&`, `<` and `>` are escaped, and control characters dropped.
fn escape_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push('\n'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The window's title: the app's name, after the unread count when there is one, so a rep on
/// another screen or another window sees that customers wrote.
fn window_title(count: Option<UnreadCount>) -> String {
    match count {
        Some(c) if c.messages > 0 => format!(
            "({}) CRMConnect WhatsApp",
            if c.messages > 999 {
                "999+".to_string()
            } else {
                c.messages.to_string()
            }
        ),
        _ => "CRMConnect WhatsApp".to_string(),
    }
}

/// Shows the unread count outside the webview: in the window title and as the taskbar's badge
/// (where the desktop has one). `None`: nobody signed in who may see the chat.
pub fn show_unread(app: &AppHandle, count: Option<UnreadCount>) {
    let Some(w) = app.get_webview_window("main") else {
        return;
    };
    let _ = w.set_title(&window_title(count));
    // Desktops without a launcher badge (most of Linux, Windows) refuse it: the title says it.
    let _ = w.set_badge_count(count.map(|c| c.messages).filter(|n| *n > 0));
}

/// Keeps the unread count (`chat-unread` to the webview, the title, the badge) in step with the
/// chat. A burst of changes is counted once: changes that arrive while one is counted are
/// folded into the next count, at most one count every 250 ms.
fn forward_unread(app: &AppHandle, ws: Arc<Workspace>) -> JoinHandle<()> {
    let mut rx = ws.chat_notices();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            while let Ok(_) | Err(TryRecvError::Lagged(_)) = rx.try_recv() {}
            let count = ws.cx().unread().await.ok();
            show_unread(&app, count);
            let _ = app.emit("chat-unread", count.unwrap_or_default());
        }
    })
}

/// Forwards every chat change to the webview (`chat-changed`) and raises a notification for an
/// inbound message in a conversation that is not on screen, unless the staff member muted them.
/// Runs until its tasks are aborted (when another workspace is opened).
pub fn forward(app: &AppHandle, ws: Arc<Workspace>, focus: Focus) -> [JoinHandle<()>; 2] {
    let unread = forward_unread(app, ws.clone());
    let mut rx = ws.chat_notices();
    let app = app.clone();
    let waiting = Waiting::default();
    let notices = tauri::async_runtime::spawn(async move {
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
                Ok(p) if !p.muted => show(&app, &notice, &waiting),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "no notification: nobody is signed in"),
            }
        }
    });
    [unread, notices]
}

fn show(app: &AppHandle, notice: &ChatNotice, waiting: &Waiting) {
    let title: String = notice
        .sender
        .clone()
        .unwrap_or_else(|| "WhatsApp".into())
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let body = escape_body(&notice.preview.clone().unwrap_or_default());
    let id = notice.conversation_id;
    let app = app.clone();
    let Some(slot) = waiting.enter() else {
        // Too many wait for a click already: one summary, replaced as the count grows.
        let more = waiting.overflowed();
        tauri::async_runtime::spawn_blocking(move || {
            let shown = notify_rust::Notification::new()
                .appname("CRMConnect WhatsApp")
                .id(SUMMARY_ID)
                .summary("New WhatsApp messages")
                .body(&format!(
                    "{more} more new {} — open CRMConnect to read them.",
                    if more == 1 { "message" } else { "messages" }
                ))
                .show();
            if let Err(e) = shown {
                tracing::warn!(error = %e, "the summary notification could not be shown");
            }
        });
        return;
    };
    std::thread::spawn(move || {
        let _slot = slot;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customers_words_cannot_become_markup() {
        assert_eq!(
            escape_body("<a href=\"https://evil\">pay</a> & <img src=x>"),
            "&lt;a href=\"https://evil\"&gt;pay&lt;/a&gt; &amp; &lt;img src=x&gt;"
        );
        assert_eq!(
            escape_body("line one\nline\u{7} two\u{1b}[31m"),
            "line one\nline two[31m"
        );
    }

    #[test]
    fn the_title_leads_with_the_unread_count() {
        let count = |messages| {
            Some(UnreadCount {
                messages,
                conversations: 1,
            })
        };
        assert_eq!(window_title(None), "CRMConnect WhatsApp");
        assert_eq!(window_title(count(0)), "CRMConnect WhatsApp");
        assert_eq!(window_title(count(3)), "(3) CRMConnect WhatsApp");
        assert_eq!(window_title(count(1000)), "(999+) CRMConnect WhatsApp");
    }

    #[test]
    fn only_so_many_notifications_wait_and_the_rest_are_counted() {
        let w = Waiting::default();
        let slots: Vec<Slot> = (0..MAX_WAITING)
            .map(|_| w.enter().expect("a place"))
            .collect();
        assert!(w.enter().is_none(), "full");
        assert_eq!(w.overflowed(), 1);
        assert_eq!(w.overflowed(), 2);
        drop(slots);
        assert_eq!(w.open.load(Ordering::SeqCst), 0);
        assert_eq!(
            w.overflowed(),
            1,
            "a new count once every one was clicked or closed"
        );
        assert!(w.enter().is_some());
    }
}
