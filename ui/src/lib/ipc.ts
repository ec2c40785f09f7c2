// The only file that talks to the Rust core (invoke, and listen for its events). Every command
// is a typed async function; every rejection becomes an `IpcError` whose `code` the UI can branch on.

import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ActionTemplate } from "./bindings/ActionTemplate";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { ChatNotice } from "./bindings/ChatNotice";
import type { ChatPreferences } from "./bindings/ChatPreferences";
import type { Conversation } from "./bindings/Conversation";
import type { ConversationDetail } from "./bindings/ConversationDetail";
import type { ConversationFilter } from "./bindings/ConversationFilter";
import type { ConversationPage } from "./bindings/ConversationPage";
import type { DocumentKind } from "./bindings/DocumentKind";
import type { LinkInput } from "./bindings/LinkInput";
import type { MediaFile } from "./bindings/MediaFile";
import type { AiSettings } from "./bindings/AiSettings";
import type { BusinessHours } from "./bindings/BusinessHours";
import type { AiSettingsInput } from "./bindings/AiSettingsInput";
import type { Bot } from "./bindings/Bot";
import type { BotDraft } from "./bindings/BotDraft";
import type { BotFiguresByNode } from "./bindings/BotFiguresByNode";
import type { BotInput } from "./bindings/BotInput";
import type { SimRequest } from "./bindings/SimRequest";
import type { SimTurn } from "./bindings/SimTurn";
import type { QuickReply } from "./bindings/QuickReply";
import type { QuickReplyInput } from "./bindings/QuickReplyInput";
import type { SearchHit } from "./bindings/SearchHit";
import type { SendMedia } from "./bindings/SendMedia";
import type { SendTemplate } from "./bindings/SendTemplate";
import type { SendText } from "./bindings/SendText";
import type { ThreadPage } from "./bindings/ThreadPage";
import type { TemplateFill } from "./bindings/TemplateFill";
import type { DocumentSend } from "./bindings/DocumentSend";
import type { UnreadCount } from "./bindings/UnreadCount";
import type { SandboxPanel } from "./bindings/SandboxPanel";
import type { SandboxWrite } from "./bindings/SandboxWrite";
import type { AppStatus } from "./bindings/AppStatus";
import type { Binding } from "./bindings/Binding";
import type { BulkResult } from "./bindings/BulkResult";
import type { Client } from "./bindings/Client";
import type { ClientFilter } from "./bindings/ClientFilter";
import type { ClientInput } from "./bindings/ClientInput";
import type { ClientPage } from "./bindings/ClientPage";
import type { CurrencyInfo } from "./bindings/CurrencyInfo";
import type { DemoReport } from "./bindings/DemoReport";
import type { Document } from "./bindings/Document";
import type { DocumentFilter } from "./bindings/DocumentFilter";
import type { DocumentInput } from "./bindings/DocumentInput";
import type { DocumentPage } from "./bindings/DocumentPage";
import type { KindInfo } from "./bindings/KindInfo";
import type { Lead } from "./bindings/Lead";
import type { LeadFilter } from "./bindings/LeadFilter";
import type { LeadImportOptions } from "./bindings/LeadImportOptions";
import type { LeadInput } from "./bindings/LeadInput";
import type { LeadPage } from "./bindings/LeadPage";
import type { LeadRecipient } from "./bindings/LeadRecipient";
import type { LeadsDeleted } from "./bindings/LeadsDeleted";
import type { LeadStatus } from "./bindings/LeadStatus";
import type { LeadStatusInput } from "./bindings/LeadStatusInput";
import type { StaffName } from "./bindings/StaffName";
import type { RelaySettings } from "./bindings/RelaySettings";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { AutomationStatus } from "./bindings/AutomationStatus";
import type { RefusedEvent } from "./bindings/RefusedEvent";
import type { ConnectionInput } from "./bindings/ConnectionInput";
import type { ConnectionView } from "./bindings/ConnectionView";
import type { Contact } from "./bindings/Contact";
import type { ContactFilter } from "./bindings/ContactFilter";
import type { ContactInput } from "./bindings/ContactInput";
import type { ContactPage } from "./bindings/ContactPage";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { FieldProblem } from "./bindings/FieldProblem";
import type { Group } from "./bindings/Group";
import type { GroupInput } from "./bindings/GroupInput";
import type { ImportOptions } from "./bindings/ImportOptions";
import type { ImportProgress } from "./bindings/ImportProgress";
import type { ImportReport } from "./bindings/ImportReport";
import type { LogFilter } from "./bindings/LogFilter";
import type { LogPage } from "./bindings/LogPage";
import type { Me } from "./bindings/Me";
import type { MergeField } from "./bindings/MergeField";
import type { ModelView } from "./bindings/ModelView";
import type { NewStaff } from "./bindings/NewStaff";
import type { NumberView } from "./bindings/NumberView";
import type { Picture } from "./bindings/Picture";
import type { ResourceInfo } from "./bindings/ResourceInfo";
import type { Role } from "./bindings/Role";
import type { RoleInput } from "./bindings/RoleInput";
import type { Screen } from "./bindings/Screen";
import type { ScreenInfo } from "./bindings/ScreenInfo";
import type { StaffMember } from "./bindings/StaffMember";
import type { StaffUpdate } from "./bindings/StaffUpdate";
import type { TemplateFilter } from "./bindings/TemplateFilter";
import type { TemplateInput } from "./bindings/TemplateInput";
import type { TemplateModel } from "./bindings/TemplateModel";
import type { TemplateView } from "./bindings/TemplateView";
import type { UploadPurpose } from "./bindings/UploadPurpose";
import type { TestReport } from "./bindings/TestReport";
import type { GoLive } from "./bindings/GoLive";
import type { JoinTeam } from "./bindings/JoinTeam";
import type { MetaAccess } from "./bindings/MetaAccess";
import type { RelayAccess } from "./bindings/RelayAccess";
import type { RelayReport } from "./bindings/RelayReport";
import type { WebhookReport } from "./bindings/WebhookReport";
import type { WorkspaceMenu } from "./bindings/WorkspaceMenu";
import type { AccountNotice } from "./bindings/AccountNotice";
import type { IssuedTeamToken } from "./bindings/IssuedTeamToken";
import type { NewTeamToken } from "./bindings/NewTeamToken";
import type { TeamToken } from "./bindings/TeamToken";
import type { Lockout } from "./bindings/Lockout";
import type { Campaign } from "./bindings/Campaign";
import type { CampaignFailure } from "./bindings/CampaignFailure";
import type { CampaignInput } from "./bindings/CampaignInput";
import type { CampaignRecipientFilter } from "./bindings/CampaignRecipientFilter";
import type { CampaignRecipientPage } from "./bindings/CampaignRecipientPage";
import type { CampaignRecipientState } from "./bindings/CampaignRecipientState";
import type { CampaignRetarget } from "./bindings/CampaignRetarget";
import type { CampaignTimeline } from "./bindings/CampaignTimeline";

const ERROR_CODES: readonly ErrorCode[] = [
  "not_signed_in",
  "permission_denied",
  "not_found",
  "invalid",
  "conflict",
  "storage",
  "internal",
];

/**
 * A command failed; `code` says what kind of failure, `message` is readable by a person, and
 * `fields` names the form fields at fault when the core can tell (a template Meta's rules refuse).
 */
export class IpcError extends Error {
  readonly code: ErrorCode;
  readonly fields: readonly FieldProblem[];

  constructor(code: ErrorCode, message: string, fields: readonly FieldProblem[] = []) {
    super(message);
    this.name = "IpcError";
    this.code = code;
    this.fields = fields;
  }
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** The well-formed `{field, message}` entries of an ApiError's `fields`; anything else is dropped. */
function fieldProblems(value: unknown): FieldProblem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const { field, message } = item as { field?: unknown; message?: unknown };
    return typeof field === "string" && typeof message === "string" ? [{ field, message }] : [];
  });
}

/**
 * Turns whatever a command rejected with into an `IpcError`. The core rejects with an
 * `ApiError` object `{code, message, fields}`; anything else (a string from Tauri itself, a JS
 * error when the bridge is missing) becomes code "internal" with its text.
 */
export function toIpcError(reason: unknown): IpcError {
  if (reason instanceof IpcError) return reason;
  if (typeof reason === "object" && reason !== null) {
    const { code, message, fields } = reason as { code?: unknown; message?: unknown; fields?: unknown };
    if (isErrorCode(code) && typeof message === "string") {
      return new IpcError(code, message, fieldProblems(fields));
    }
    if (reason instanceof Error) return new IpcError("internal", reason.message);
    if (typeof message === "string") return new IpcError("internal", message);
    try {
      return new IpcError("internal", JSON.stringify(reason));
    } catch {
      return new IpcError("internal", String(reason));
    }
  }
  if (typeof reason === "string") return new IpcError("internal", reason);
  return new IpcError("internal", String(reason));
}

/** The message of any caught value, for showing to a person. */
export function errorMessage(reason: unknown): string {
  return toIpcError(reason).message;
}

type SignedOutListener = (error: IpcError) => void;
let signedOutListener: SignedOutListener | null = null;

/**
 * Called when a command says nobody is signed in any more (e.g. the session ended elsewhere),
 * so the app can go back to the sign-in screen. Returns a function that removes the listener.
 */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListener = listener;
  return () => {
    if (signedOutListener === listener) signedOutListener = null;
  };
}

/** Commands for which "not signed in" is an expected answer, not a lost session. */
const SESSIONLESS = new Set([
  "app_status",
  "create_owner",
  "sign_in",
  "last_username",
  "workspace_menu",
  "switch_workspace",
  "live_check_meta",
  "live_check_relay",
  "go_live",
  "team_lockout",
  "rejoin_team",
  "live_check_join",
  "join_team",
]);

async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    const error = toIpcError(reason);
    if (error.code === "not_signed_in" && !SESSIONLESS.has(command)) signedOutListener?.(error);
    throw error;
  }
}

// Session
export const appStatus = () => call<AppStatus>("app_status");
export const createOwner = (input: NewStaff) => call<StaffMember>("create_owner", { input });
export const signIn = (username: string, passphrase: string) =>
  call<Me>("sign_in", { username, passphrase });
export const signOut = () => call<void>("sign_out");
export const lastUsername = () => call<string | null>("last_username");
export const openScreen = (screen: Screen) => call<ScreenInfo>("open_screen", { screen });

// Workspaces and going live
export const workspaceMenu = () => call<WorkspaceMenu>("workspace_menu");
export const switchWorkspace = (slug: string) => call<void>("switch_workspace", { slug });
export const liveCheckMeta = (meta: MetaAccess) => call<TestReport>("live_check_meta", { meta });
export const liveCheckRelay = (relay: RelayAccess) =>
  call<RelayReport>("live_check_relay", { relay });
export const goLive = (input: GoLive, appSecret: string) =>
  call<WebhookReport>("go_live", { input, appSecret });
export const liveCheckJoin = (relay: RelayAccess) => call<RelayReport>("live_check_join", { relay });
export const joinTeam = (input: JoinTeam) => call<void>("join_team", { input });
export const connectWebhooks = (appSecret: string) =>
  call<WebhookReport>("connect_webhooks", { appSecret });

// Settings → Team: the team's relay tokens
export const teamTokens = () => call<TeamToken[]>("team_tokens");
export const issueTeamToken = (input: NewTeamToken) => call<IssuedTeamToken>("issue_team_token", { input });
export const revokeTeamToken = (id: string) => call<void>("revoke_team_token", { id });
/** Whether the team cut this desktop off (its token revoked), before anyone signs in. */
export const teamLockout = () => call<Lockout | null>("team_lockout");
export const rejoinTeam = (token: string) => call<void>("rejoin_team", { token });

// What Meta says about the account (the banner)
export const accountNotices = () => call<AccountNotice[]>("account_notices");
export const dismissAccountNotice = (id: number) => call<void>("dismiss_account_notice", { id });

// Staff
export const listStaff = () => call<StaffMember[]>("list_staff");
export const createStaff = (input: NewStaff) => call<StaffMember>("create_staff", { input });
export const updateStaff = (id: number, input: StaffUpdate) =>
  call<StaffMember>("update_staff", { id, input });
export const deleteStaff = (id: number) => call<void>("delete_staff", { id });
/** One's own passphrase needs the `current` one; an administrator resetting another's does not. */
export const setPassphrase = (id: number, passphrase: string, current: string | null = null) =>
  call<void>("set_passphrase", { id, passphrase, current });

// Roles and permissions
export const listRoles = () => call<Role[]>("list_roles");
export const createRole = (input: RoleInput) => call<Role>("create_role", { input });
export const updateRole = (id: number, input: RoleInput) => call<Role>("update_role", { id, input });
export const deleteRole = (id: number) => call<void>("delete_role", { id });
export const permissionCatalog = () => call<ResourceInfo[]>("permission_catalog");

// Activity log
export const activityLog = (filter: LogFilter) => call<LogPage>("activity_log", { filter });

// Connection (administrators only)
export const getConnection = () => call<ConnectionView>("get_connection");
export const saveConnection = (input: ConnectionInput) => call<ConnectionView>("save_connection", { input });
export const testConnection = () => call<TestReport>("test_connection");

// Numbers
export const listNumbers = () => call<NumberView[]>("list_numbers");
export const refreshNumbers = () => call<NumberView[]>("refresh_numbers");
/** The cached profile picture as a data: URL, or null when the number has none. */
export const numberPicture = (phoneNumberId: string) => call<Picture | null>("number_picture", { phoneNumberId });

// Templates
export const listTemplates = (filter: TemplateFilter) => call<TemplateView[]>("list_templates", { filter });
export const getTemplate = (id: number) => call<TemplateView>("get_template", { id });
export const syncTemplates = () => call<TemplateView[]>("sync_templates");
export const createTemplate = (input: TemplateInput) => call<TemplateView>("create_template", { input });
export const editTemplate = (id: number, input: TemplateInput) => call<TemplateView>("edit_template", { id, input });
export const deleteTemplate = (id: number) => call<void>("delete_template", { id });
export const setTemplateMapping = (id: number, bindings: Binding[]) =>
  call<TemplateView>("set_template_mapping", { id, bindings });
export const templateModels = () => call<ModelView[]>("template_models");
export const loadTemplateModel = (model: TemplateModel) => call<TemplateView>("load_template_model", { model });
export const mergeFields = () => call<MergeField[]>("merge_fields");

// Files handed to the core (the webview has no file paths): base64 pieces, one pair for every
// purpose; lib/upload.ts sends a whole file.
export const beginUpload = (purpose: UploadPurpose) => call<string>("begin_upload", { purpose });
/** Appends one base64 piece; answers the bytes received so far. */
export const appendUpload = (uploadId: string, chunk: string) => call<number>("append_upload", { uploadId, chunk });

// Groups
export const listGroups = () => call<Group[]>("list_groups");
export const createGroup = (input: GroupInput) => call<Group>("create_group", { input });
export const updateGroup = (id: number, input: GroupInput) => call<Group>("update_group", { id, input });
/** Deletes the group only; its contacts stay in the directory. */
export const deleteGroup = (id: number) => call<void>("delete_group", { id });

// Bulk contacts
export const listContacts = (filter: ContactFilter) => call<ContactPage>("list_contacts", { filter });
/** The ids of every contact the filter matches (its offset and limit aside). */
export const contactIds = (filter: ContactFilter) => call<number[]>("contact_ids", { filter });
/** Saves every contact the filter matches as a CSV in Downloads; answers its path. */
export const exportContactsCsv = (filter: ContactFilter) => call<string>("export_contacts_csv", { filter });
export const getContact = (id: number) => call<Contact>("get_contact", { id });
export const createContact = (input: ContactInput) => call<Contact>("create_contact", { input });
/** `input.group_ids` replaces the contact's memberships. */
export const updateContact = (id: number, input: ContactInput) => call<Contact>("update_contact", { id, input });
export const deleteContacts = (ids: number[]) => call<BulkResult>("delete_contacts", { ids });
/** Adds the groups to each contact, keeping the groups it already has. */
export const assignGroups = (contactIds: number[], groupIds: number[]) =>
  call<BulkResult>("assign_groups", { contactIds, groupIds });

/** Imports the uploaded file; `import-progress` events arrive meanwhile (see onImportProgress). */
export const runImport = (uploadId: string, fileName: string, options: ImportOptions) =>
  call<ImportReport>("run_import", { uploadId, fileName, options });
/** Stops the running import; the batches already imported stay. */
export const cancelImport = () => call<void>("cancel_import");
/** Writes the refused rows to the downloads folder; answers the path. */
export const saveRefusedRows = (refusedFile: string) => call<string>("save_refused_rows", { refusedFile });

/** Calls `callback` with each progress event of a running import. Resolves to the unlisten function. */
export async function onImportProgress(callback: (progress: ImportProgress) => void): Promise<UnlistenFn> {
  try {
    return await listen<ImportProgress>("import-progress", (event) => callback(event.payload));
  } catch (reason) {
    throw toIpcError(reason);
  }
}

// Team sync with the relay
/** Where sync stands now; later changes arrive as `sync-status` events (see onSyncStatus). */
export const syncStatus = () => call<SyncStatus>("sync_status");
/** Who runs the workspace's bots and campaigns: a server runner, this desktop, or nobody. */
export const automationStatus = () => call<AutomationStatus>("automation_status");
/** Publish waiting events / reconnect now instead of waiting for the next attempt. */
export const syncNow = () => call<void>("sync_now");
/** This desktop's events the relay refused for good, newest first, with its reasons (administrators). */
export const syncRefusedEvents = () => call<RefusedEvent[]>("sync_refused_events");
/** Clears the warning of a resumed sync once read (administrators). */
export const dismissSyncWarning = () => call<void>("dismiss_sync_warning");
/** The relay address and whether its token is in the keychain (administrators). */
export const relaySettings = () => call<RelaySettings>("relay_settings");
/** Checks the address and token with the relay, then saves them (the token goes to the keychain). */
export const setRelay = (relayUrl: string, token: string | null) =>
  call<RelaySettings>("set_relay", { relayUrl, token });

/** Calls `callback` with each change of the sync state. Resolves to the unlisten function. */
export async function onSyncStatus(callback: (status: SyncStatus) => void): Promise<UnlistenFn> {
  try {
    return await listen<SyncStatus>("sync-status", (event) => callback(event.payload));
  } catch (reason) {
    throw toIpcError(reason);
  }
}

/**
 * Calls `callback` when a teammate's change, applied from the team's log, altered the records of
 * `screen` (its key, e.g. "bulk_contacts"): the open list reloads. Returns the unlisten function.
 */
export async function onRecordsChanged(screen: string, callback: () => void): Promise<UnlistenFn> {
  try {
    return await listen<string>("records-changed", (event) => {
      if (event.payload === screen || event.payload === "all") callback();
    });
  } catch (reason) {
    throw toIpcError(reason);
  }
}

// Leads (CRM)
export const listLeads = (filter: LeadFilter) => call<LeadPage>("list_leads", { filter });
/** Saves every lead the filter matches as a CSV in Downloads; answers its path. */
export const exportLeadsCsv = (filter: LeadFilter) => call<string>("export_leads_csv", { filter });
export const getLead = (id: number) => call<Lead>("get_lead", { id });
export const createLead = (input: LeadInput) => call<Lead>("create_lead", { input });
export const updateLead = (id: number, input: LeadInput) => call<Lead>("update_lead", { id, input });
/** All or nothing: a lead with documents stops the deletion. */
export const deleteLeads = (ids: number[]) => call<LeadsDeleted>("delete_leads", { ids });
/** Every lead matching the filter, as campaign recipients (paging ignored). */
export const filterLeadsForCampaign = (filter: LeadFilter) =>
  call<LeadRecipient[]>("filter_leads_for_campaign", { filter });
/** The sources in use, most used first: suggestions for the source field. */
export const leadSources = () => call<string[]>("lead_sources");
/** Every staff member's id and name (for assigning leads). */
export const staffDirectory = () => call<StaffName[]>("staff_directory");
export const listLeadStatuses = () => call<LeadStatus[]>("list_lead_statuses");
export const createLeadStatus = (input: LeadStatusInput) => call<LeadStatus>("create_lead_status", { input });
export const updateLeadStatus = (id: number, input: LeadStatusInput) =>
  call<LeadStatus>("update_lead_status", { id, input });
export const reorderLeadStatuses = (ids: number[]) => call<LeadStatus[]>("reorder_lead_statuses", { ids });
export const deleteLeadStatus = (id: number) => call<void>("delete_lead_status", { id });
/** Imports the uploaded CSV of leads; `import-progress` events arrive meanwhile; cancelImport stops it. */
export const runLeadsImport = (uploadId: string, fileName: string, options: LeadImportOptions) =>
  call<ImportReport>("run_leads_import", { uploadId, fileName, options });
/** Sandbox workspace only, while it has no leads and no clients: demo leads, clients and documents. */
export const loadSandboxCrmDemo = () => call<DemoReport>("load_sandbox_crm_demo");
export const saveLeadRefusedRows = (refusedFile: string) => call<string>("save_lead_refused_rows", { refusedFile });

// Clients (CRM)
export const listClients = (filter: ClientFilter) => call<ClientPage>("list_clients", { filter });
export const getClient = (id: number) => call<Client>("get_client", { id });
export const createClient = (input: ClientInput) => call<Client>("create_client", { input });
/** Contact persons with an id are updated, new ones added, those left out removed. */
export const updateClient = (id: number, input: ClientInput) => call<Client>("update_client", { id, input });
export const deleteClient = (id: number) => call<void>("delete_client", { id });

// Documents (CRM)
export const listDocuments = (filter: DocumentFilter) => call<DocumentPage>("list_documents", { filter });
export const documentKinds = () => call<KindInfo[]>("document_kinds");
export const currencies = () => call<CurrencyInfo[]>("currencies");
/** Its PDF is the uploaded file when `uploadId` is given, else rendered from the lines. */
export const createDocument = (input: DocumentInput, uploadId: string | null) =>
  call<Document>("create_document", { input, uploadId });
export const updateDocument = (id: number, input: DocumentInput) => call<Document>("update_document", { id, input });
export const deleteDocument = (id: number) => call<void>("delete_document", { id });
export const renderDocumentPdf = (id: number) => call<Document>("render_document_pdf", { id });
export const attachDocumentPdf = (id: number, uploadId: string) =>
  call<Document>("attach_document_pdf", { id, uploadId });
/** Opens the PDF in the system viewer; answers its path. */
export const openDocumentPdf = (id: number) => call<string>("open_document_pdf", { id });

// Chat
export const listConversations = (filter: ConversationFilter) =>
  call<ConversationPage>("list_conversations", { filter });
export const getConversation = (id: number) => call<ConversationDetail>("get_conversation", { id });
/** A page of a thread, oldest first; pass the page's `before` for the older one. */
export const chatThread = (id: number, before: number | null, limit: number | null = null) =>
  call<ThreadPage>("chat_thread", { id, before, limit });
export const searchMessages = (query: string) => call<SearchHit[]>("search_messages", { query });
/** The conversation on screen (null: none), so no notification is raised for it. */
export const chatFocus = (id: number | null) => call<void>("chat_focus", { id });
export const markConversationRead = (id: number) => call<void>("mark_conversation_read", { id });
/** Unread messages in the whole chat (the window title and taskbar badge follow). */
export const chatUnread = () => call<UnreadCount>("chat_unread");
/** The whole chat's unread count, after every change (a burst of changes counted once). */
export const onChatUnread = (handler: (count: UnreadCount) => void): Promise<UnlistenFn> =>
  listen<UnreadCount>("chat-unread", (e) => handler(e.payload));
export const sendText = (id: number, input: SendText) => call<ChatMessage>("send_text", { id, input });
/** Sends again a message that may have been sent (status `uncertain`): the customer may get it twice. */
export const sendAgain = (id: number) => call<ChatMessage>("send_again", { id });
export const sendMedia = (id: number, input: SendMedia) => call<ChatMessage>("send_media", { id, input });
/**
 * Sends a template; `input.values` are typed for this send (by variable id). Refused with code
 * `conflict` when the same message went to the customer moments ago, unless `input.again`.
 */
export const sendTemplate = (id: number, input: SendTemplate) =>
  call<ChatMessage>("send_template", { id, input });
/** The template as it would go in this conversation: filled body, each value, what is missing. */
export const templateFill = (id: number, input: SendTemplate) => call<TemplateFill>("template_fill", { id, input });
/** An empty emoji removes our reaction. */
export const reactToMessage = (messageId: number, emoji: string) =>
  call<void>("react_to_message", { messageId, emoji });
/** The media of a message, fetched by the core with the token and cached. */
export const chatMedia = (messageId: number) => call<MediaFile>("chat_media", { messageId });
/** Saves a message's media into the downloads folder; resolves to the path it got. */
export const saveChatMedia = (messageId: number) => call<string>("save_chat_media", { messageId });
/** Opens a shared location in the system's browser. */
export const openMap = (latitude: number, longitude: number) => call<void>("open_map", { latitude, longitude });
export const openWebLink = (url: string) => call<void>("open_web_link", { url });
export const assignConversation = (id: number, username: string | null) =>
  call<Conversation>("assign_conversation", { id, username });
export const setConversationLeadStatus = (id: number, statusId: number) =>
  call<ConversationDetail>("set_conversation_lead_status", { id, statusId });
export const linkConversation = (id: number, link: LinkInput) =>
  call<ConversationDetail>("link_conversation", { id, link });
export const chatPreferences = () => call<ChatPreferences>("chat_preferences");
export const setChatPreferences = (prefs: ChatPreferences) =>
  call<ChatPreferences>("set_chat_preferences", { prefs });
/** Every chat change the core applied (a new message, a status, an assignment…). */
export const onChatChanged = (handler: (notice: ChatNotice) => void): Promise<UnlistenFn> =>
  listen<ChatNotice>("chat-changed", (e) => handler(e.payload));
/** A notification was clicked: open this conversation. */
export const onChatOpen = (handler: (conversationId: number) => void): Promise<UnlistenFn> =>
  listen<number>("chat-open", (e) => handler(e.payload));

// Quick replies
// ---- bots ----
export const listBots = () => call<Bot[]>("list_bots");
export const getBot = (id: number) => call<BotDraft>("get_bot", { id });
export const createBot = (input: BotInput) => call<Bot>("create_bot", { input });
export const updateBot = (id: number, input: BotInput) => call<Bot>("update_bot", { id, input });
export const saveBotDraft = (id: number, drawflow: string) => call<Bot>("save_bot_draft", { id, drawflow });
export const publishBot = (id: number) => call<Bot>("publish_bot", { id });
export const restoreBotVersion = (id: number, version: number) => call<Bot>("restore_bot_version", { id, version });
export const setBotActive = (id: number, active: boolean) => call<Bot>("set_bot_active", { id, active });
export const duplicateBot = (id: number) => call<Bot>("duplicate_bot", { id });
export const deleteBot = (id: number) => call<void>("delete_bot", { id });
export const aiSettings = () => call<AiSettings>("ai_settings");
export const setAiSettings = (input: AiSettingsInput) => call<AiSettings>("set_ai_settings", { input });
/** The workspace's business hours (a bot's condition reads them), the team's. */
export const businessHours = () => call<BusinessHours>("business_hours");
export const setBusinessHours = (hours: BusinessHours) => call<BusinessHours>("set_business_hours", { hours });
export const botHttpHosts = () => call<string[]>("bot_http_hosts");
export const setBotHttpHosts = (hosts: string[]) => call<string[]>("set_bot_http_hosts", { hosts });
export const botFiguresByNode = (id: number) => call<BotFiguresByNode>("bot_figures_by_node", { id });
export const simulateBot = (request: SimRequest) => call<SimTurn>("simulate_bot", { request });

// Campaigns
export const listCampaigns = () => call<Campaign[]>("list_campaigns");
export const getCampaign = (id: number) => call<Campaign>("get_campaign", { id });
export const createCampaign = (input: CampaignInput) => call<Campaign>("create_campaign", { input });
/** Only a draft or a planned campaign; a planned one becomes a draft again (plan it again). */
export const updateCampaign = (id: number, input: CampaignInput) => call<Campaign>("update_campaign", { id, input });
/** Freezes the audience (again, for a planned one); `plan` then holds what planning found. */
export const planCampaign = (id: number) => call<Campaign>("plan_campaign", { id });
/** A planned campaign starts now, or is scheduled when its start time is still ahead. */
export const startCampaign = (id: number) => call<Campaign>("start_campaign", { id });
export const pauseCampaign = (id: number) => call<Campaign>("pause_campaign", { id });
/** At most `perDay` recipients tried in any 24 hours; null sends at full pace again. */
export const spreadCampaign = (id: number, perDay: number | null) => call<Campaign>("spread_campaign", { id, perDay });
export const resumeCampaign = (id: number) => call<Campaign>("resume_campaign", { id });
/** Stops for good: who was not sent to yet is not. */
export const stopCampaign = (id: number) => call<Campaign>("stop_campaign", { id });
/** Refused while it is running or scheduled (pause or stop it first). */
export const deleteCampaign = (id: number) => call<void>("delete_campaign", { id });
/** A new draft to the failed, unread or deferred recipients of this campaign. */
export const retargetCampaign = (id: number, which: CampaignRetarget) =>
  call<Campaign>("retarget_campaign", { id, which });
/** A page of the per-recipient log, in the audience's order. */
export const campaignRecipients = (id: number, filter: CampaignRecipientFilter) =>
  call<CampaignRecipientPage>("campaign_recipients", { id, filter });
export const campaignFailures = (id: number) => call<CampaignFailure[]>("campaign_failures", { id });
export const campaignTimeline = (id: number) => call<CampaignTimeline>("campaign_timeline", { id });
/** Saves the log (every recipient, or those in one state) as a CSV in Downloads; answers its path. */
export const exportCampaignCsv = (id: number, recipientState: CampaignRecipientState | null = null) =>
  call<string>("export_campaign_csv", { id, recipientState });
/** A recipient that needs attention: `retry` sends again, else it is marked as sent. */
export const resolveCampaignRecipient = (id: number, idx: number, retry: boolean) =>
  call<void>("resolve_campaign_recipient", { id, idx, retry });
/** The STOP keyword ("" when none). */
export const campaignStopWord = () => call<string>("campaign_stop_word");
/** Administrators only; answers the word as saved. */
export const setCampaignStopWord = (word: string) => call<string>("set_campaign_stop_word", { word });

export const listQuickReplies = () => call<QuickReply[]>("list_quick_replies");
export const createQuickReply = (input: QuickReplyInput) => call<QuickReply>("create_quick_reply", { input });
export const updateQuickReply = (id: number, input: QuickReplyInput) =>
  call<QuickReply>("update_quick_reply", { id, input });
export const deleteQuickReply = (id: number) => call<void>("delete_quick_reply", { id });

// Send on WhatsApp (template per action)
export const actionTemplates = () => call<ActionTemplate[]>("action_templates");
export const setActionTemplate = (action: DocumentKind, templateId: number | null) =>
  call<ActionTemplate[]>("set_action_template", { action, templateId });
/** "Send on WhatsApp" before sending: to whom, and the template filled (with typed `values`). */
export const documentSendPreview = (documentId: number, values: Record<string, string> | null = null) =>
  call<DocumentSend>("document_send_preview", { documentId, values });
/** `again`: send even though the same document went to the customer moments ago (else `conflict`). */
export const sendDocumentOnWhatsapp = (documentId: number, values: Record<string, string> | null, again: boolean) =>
  call<ChatMessage>("send_document_on_whatsapp", { documentId, values, again });

// The sandbox panel (sandbox workspace only)
export const sandboxPanel = () => call<SandboxPanel>("sandbox_panel");
/** A simulated customer writes; answers the message's id. */
export const sandboxCustomerWrites = (customer: string, message: SandboxWrite, replyToLast: boolean) =>
  call<string>("sandbox_customer_writes", { customer, message, replyToLast });
export const sandboxAdvanceClock = (hours: number) => call<SandboxPanel>("sandbox_advance_clock", { hours });
/** 0 to 1: the share of accepted sends that fail later. */
export const sandboxSetFailureRate = (rate: number) => call<SandboxPanel>("sandbox_set_failure_rate", { rate });
/** One of Meta's notices about the sandbox's account (see `AccountEvent` in the sandbox crate). */
export type SandboxAccountEvent = "restrict" | "reinstate" | "violation" | "flag_number" | "unflag_number" | "lower_limit" | "upgrade_throughput";
export const sandboxAccountEvent = (event: SandboxAccountEvent) =>
  call<SandboxPanel>("sandbox_account_event", { event });
