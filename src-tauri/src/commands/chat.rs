use std::collections::BTreeMap;

use crmconnect::chat::quick_replies::{QuickReply, QuickReplyInput};
use crmconnect::chat::{
    ActionTemplate, ChatMessage, ChatPreferences, Conversation, ConversationDetail,
    ConversationFilter, ConversationPage, DocumentSend, LinkInput, MediaFile, SearchHit, SendMedia,
    SendTemplate, SendText, TemplateFill, ThreadPage, UnreadCount,
};
use crmconnect::documents::DocumentKind;
use crmconnect::{ApiError, ErrorCode};
use tauri::{AppHandle, State};

use crate::state::AppState;

#[tauri::command]
pub async fn list_conversations(
    state: State<'_, AppState>,
    filter: ConversationFilter,
) -> Result<ConversationPage, ApiError> {
    Ok(state.ws()?.cx().conversations(filter).await?)
}

#[tauri::command]
pub async fn get_conversation(
    state: State<'_, AppState>,
    id: i64,
) -> Result<ConversationDetail, ApiError> {
    Ok(state.ws()?.cx().conversation(id).await?)
}

#[tauri::command]
pub async fn chat_thread(
    state: State<'_, AppState>,
    id: i64,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<ThreadPage, ApiError> {
    Ok(state.ws()?.cx().thread(id, before, limit).await?)
}

#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<SearchHit>, ApiError> {
    Ok(state.ws()?.cx().search_messages(&query, None).await?)
}

/// Unread messages in the whole chat; the window title and taskbar badge follow. (They follow
/// every change by themselves: `chat-unread`.)
#[tauri::command]
pub async fn chat_unread(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<UnreadCount, ApiError> {
    let count = state.ws()?.cx().unread().await;
    crate::notify::show_unread(&app, count.as_ref().ok().copied());
    Ok(count?)
}

/// The conversation on screen (none when the chat is not shown): no notification is raised for it.
#[tauri::command]
pub fn chat_focus(state: State<'_, AppState>, id: Option<i64>) {
    state.set_chat_focus(id);
}

#[tauri::command]
pub async fn mark_conversation_read(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().mark_conversation_read(id).await?)
}

#[tauri::command]
pub async fn send_text(
    state: State<'_, AppState>,
    id: i64,
    input: SendText,
) -> Result<ChatMessage, ApiError> {
    Ok(state.ws()?.cx().send_text(id, input).await?)
}

/// Sends again a message that may have been sent, once the person decided it was not.
#[tauri::command]
pub async fn send_again(state: State<'_, AppState>, id: i64) -> Result<ChatMessage, ApiError> {
    Ok(state.ws()?.cx().send_again(id).await?)
}

#[tauri::command]
pub async fn send_media(
    state: State<'_, AppState>,
    id: i64,
    input: SendMedia,
) -> Result<ChatMessage, ApiError> {
    Ok(state.ws()?.cx().send_media(id, input).await?)
}

#[tauri::command]
pub async fn send_template(
    state: State<'_, AppState>,
    id: i64,
    input: SendTemplate,
) -> Result<ChatMessage, ApiError> {
    Ok(state.ws()?.cx().send_template(id, input).await?)
}

#[tauri::command]
pub async fn react_to_message(
    state: State<'_, AppState>,
    message_id: i64,
    emoji: String,
) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().react(message_id, &emoji).await?)
}

#[tauri::command]
pub async fn chat_media(
    state: State<'_, AppState>,
    message_id: i64,
) -> Result<MediaFile, ApiError> {
    Ok(state.ws()?.cx().chat_media(message_id).await?)
}

/// Saves a message's media into the user's downloads; returns the path it got.
#[tauri::command]
pub async fn save_chat_media(
    app: AppHandle,
    state: State<'_, AppState>,
    message_id: i64,
) -> Result<String, ApiError> {
    let folder = super::contacts::downloads(&app);
    Ok(state
        .ws()?
        .cx()
        .save_chat_media(message_id, &folder)
        .await?)
}

/// Opens a web link a message carries (an ad, a place, a contact card) in the system's browser.
#[tauri::command]
pub fn open_web_link(url: String) -> Result<(), ApiError> {
    let url = crmconnect::chat::content::web_url(&url).ok_or_else(|| ApiError {
        code: ErrorCode::Invalid,
        message: format!("“{url}” is not a web address (http or https)"),
        fields: vec![],
    })?;
    open_in_browser(&url)
}

fn open_in_browser(url: &str) -> Result<(), ApiError> {
    tauri_plugin_opener::open_url(url, None::<&str>).map_err(|e| ApiError {
        code: ErrorCode::Internal,
        message: format!("the browser could not be started: {e}"),
        fields: vec![],
    })
}

/// Opens a shared location in the system's browser (OpenStreetMap).
#[tauri::command]
pub fn open_map(latitude: f64, longitude: f64) -> Result<(), ApiError> {
    let url = crmconnect::chat::content::map_url(latitude, longitude).ok_or_else(|| ApiError {
        code: ErrorCode::Invalid,
        message: format!("{latitude}, {longitude} is not a place on Earth"),
        fields: vec![],
    })?;
    open_in_browser(&url)
}

#[tauri::command]
pub async fn assign_conversation(
    state: State<'_, AppState>,
    id: i64,
    username: Option<String>,
) -> Result<Conversation, ApiError> {
    Ok(state.ws()?.cx().assign_conversation(id, username).await?)
}

#[tauri::command]
pub async fn set_conversation_lead_status(
    state: State<'_, AppState>,
    id: i64,
    status_id: i64,
) -> Result<ConversationDetail, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .set_conversation_lead_status(id, status_id)
        .await?)
}

#[tauri::command]
pub async fn link_conversation(
    state: State<'_, AppState>,
    id: i64,
    link: LinkInput,
) -> Result<ConversationDetail, ApiError> {
    Ok(state.ws()?.cx().link_conversation(id, link).await?)
}

#[tauri::command]
pub async fn chat_preferences(state: State<'_, AppState>) -> Result<ChatPreferences, ApiError> {
    Ok(state.ws()?.cx().chat_preferences().await?)
}

#[tauri::command]
pub async fn set_chat_preferences(
    state: State<'_, AppState>,
    prefs: ChatPreferences,
) -> Result<ChatPreferences, ApiError> {
    Ok(state.ws()?.cx().set_chat_preferences(prefs).await?)
}

#[tauri::command]
pub async fn list_quick_replies(state: State<'_, AppState>) -> Result<Vec<QuickReply>, ApiError> {
    Ok(state.ws()?.cx().quick_replies().await?)
}

#[tauri::command]
pub async fn create_quick_reply(
    state: State<'_, AppState>,
    input: QuickReplyInput,
) -> Result<QuickReply, ApiError> {
    Ok(state.ws()?.cx().create_quick_reply(input).await?)
}

#[tauri::command]
pub async fn update_quick_reply(
    state: State<'_, AppState>,
    id: i64,
    input: QuickReplyInput,
) -> Result<QuickReply, ApiError> {
    Ok(state.ws()?.cx().update_quick_reply(id, input).await?)
}

#[tauri::command]
pub async fn delete_quick_reply(state: State<'_, AppState>, id: i64) -> Result<(), ApiError> {
    Ok(state.ws()?.cx().delete_quick_reply(id).await?)
}

#[tauri::command]
pub async fn action_templates(state: State<'_, AppState>) -> Result<Vec<ActionTemplate>, ApiError> {
    Ok(state.ws()?.cx().action_templates().await?)
}

#[tauri::command]
pub async fn set_action_template(
    state: State<'_, AppState>,
    action: DocumentKind,
    template_id: Option<i64>,
) -> Result<Vec<ActionTemplate>, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .set_action_template(action, template_id)
        .await?)
}

/// "Send on WhatsApp" before sending: to whom, and the template filled (with typed `values`).
#[tauri::command]
pub async fn document_send_preview(
    state: State<'_, AppState>,
    document_id: i64,
    values: Option<BTreeMap<String, String>>,
) -> Result<DocumentSend, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .document_send_preview(document_id, values)
        .await?)
}

/// `again`: send even though the same document went to the customer moments ago.
#[tauri::command]
pub async fn send_document_on_whatsapp(
    state: State<'_, AppState>,
    document_id: i64,
    values: Option<BTreeMap<String, String>>,
    again: bool,
) -> Result<ChatMessage, ApiError> {
    Ok(state
        .ws()?
        .cx()
        .send_document_on_whatsapp(document_id, values, again)
        .await?)
}

/// A template as it would go in this conversation: the filled body, its values, what is missing.
#[tauri::command]
pub async fn template_fill(
    state: State<'_, AppState>,
    id: i64,
    input: SendTemplate,
) -> Result<TemplateFill, ApiError> {
    Ok(state.ws()?.cx().template_fill(id, input).await?)
}
