//! What a desktop event's payload may hold. The relay checks every published payload here before
//! it stores it, so that no token, however little it may do, can put in the log what no desktop
//! could apply (a payload of megabytes, a shape a handler does not read): every desktop would
//! otherwise receive it, again and again. The desktops build the same shapes.
//!
//! Each kind has a byte cap and a shape. The chat's kinds, the ones desktops publish today, have
//! their exact fields (unknown fields refused); a kind whose payload is not defined yet must be a
//! JSON object under the general cap.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most bytes (as compact JSON) a payload may have, unless its kind says otherwise.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// A message as sent: a text of up to 4,096 characters, a template's body, contact cards.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The longest id, name or other single value a chat payload carries.
pub const MAX_VALUE_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("a {kind} payload of {size} bytes is over the {max} bytes accepted")]
    TooLarge {
        kind: String,
        size: usize,
        max: usize,
    },
    #[error("not a {kind} payload: {reason}")]
    Shape { kind: String, reason: String },
}

/// `message.sent`: a message a desktop sent, once Meta accepted it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSent {
    pub client_id: String,
    pub wamid: Option<String>,
    pub customer: String,
    #[serde(default)]
    pub customer_name: Option<String>,
    pub phone_number_id: String,
    /// The content as the chat stores it (`{"type": "text", …}`).
    pub content: serde_json::Map<String, Value>,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Milliseconds since the epoch (clamped by the receiver to when the relay stored it).
    pub sent_at: i64,
    /// The bot that sent it, by name (none: a person).
    #[serde(default)]
    pub bot: Option<String>,
}

/// `message.reacted`: our reaction to a message (an empty emoji removes it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageReacted {
    pub wamid: String,
    pub emoji: String,
}

/// `conversation.read`: read up to a customer's message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationRead {
    pub customer: String,
    pub phone_number_id: String,
    pub up_to: String,
}

/// `conversation.assigned`: given to a staff member by username, or to nobody.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationAssigned {
    pub customer: String,
    pub phone_number_id: String,
    pub username: Option<String>,
    /// Shown only when the receiving desktop does not know the username.
    #[serde(default)]
    pub name: Option<String>,
}

/// `lead.status_changed` from the chat: the lead with this phone now has this status.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadStatusChanged {
    pub phone: String,
    pub status: String,
}

/// `contact.created`, `contact.updated`: a contact of Bulk Contacts, every field, and its groups
/// by uid (an update replaces them all: the log's last word is the contact's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactState {
    pub uid: String,
    /// E.164; empty for a customer reached only by WhatsApp user id.
    pub phone: String,
    /// The customer's business-scoped WhatsApp user id, for a contact made from a conversation
    /// (the one way to reach a customer who writes by username, with no phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_user_id: Option<String>,
    /// Their WhatsApp username, when they have one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// `group.created`, `group.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupState {
    pub uid: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// `connection.changed`: the connection's ids and Graph address as an administrator saved them
/// (never the access token: secrets do not travel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionChanged {
    pub phone_number_id: String,
    pub waba_id: String,
    pub graph_base_url: String,
    pub graph_version: String,
}

impl ConnectionChanged {
    /// Why a teammate's desktop may not take these values, if so.
    pub fn problem(&self) -> Option<String> {
        let digits = |v: &str| v.len() <= 32 && v.chars().all(|c| c.is_ascii_digit());
        if !digits(&self.phone_number_id) || !digits(&self.waba_id) {
            return Some("the ids must be Meta's, digits only".into());
        }
        if !(self.graph_base_url.starts_with("https://")
            || self.graph_base_url.starts_with("http://"))
            || self.graph_base_url.len() > 200
        {
            return Some("the Graph address must be an http(s) URL".into());
        }
        if self.graph_version.len() > 16 || !self.graph_version.starts_with('v') {
            return Some("the Graph version must look like v23.0".into());
        }
        None
    }
}

/// `role.changed`: a role as an administrator left it. The administrator role is fixed and
/// never travels. `permissions` are `resource:action` each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleState {
    pub uid: String,
    pub name: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub deleted: bool,
}

/// What a staff member may do: their role's, as the relay sets it on their tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAccess {
    pub is_admin: bool,
    /// `resource:action` each; empty for an administrator.
    pub permissions: Vec<String>,
}

/// `staff.changed`: a staff member as an administrator left them, named by their username (what
/// the relay's tokens name). `role` is the role's uid. Never a passphrase: each desktop keeps its
/// own. The relay sets `access` on the member's tokens, and revokes them when the member is
/// deactivated or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffState {
    pub uid: String,
    pub username: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    #[serde(default)]
    pub deleted: bool,
    pub access: StaffAccess,
}

/// Why a uid cannot name a record: 1 to 64 letters, digits, `-`, `_` or `:`.
fn uid_problem(uid: &str) -> Option<String> {
    let ok = !uid.is_empty()
        && uid.len() <= 64
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'));
    (!ok).then(|| {
        format!(
            "“{}” is not a uid",
            uid.chars().take(70).collect::<String>()
        )
    })
}

/// Why `permissions` are not `resource:action` pairs the access crate knows, if so.
fn permissions_problem(permissions: &[String]) -> Option<String> {
    if permissions.len() > 200 {
        return Some(format!(
            "{} permissions, more than there are",
            permissions.len()
        ));
    }
    permissions.iter().find_map(|p| {
        p.parse::<crmconnect_access::permissions::Permission>()
            .err()
            .map(|e| format!("permission “{p}”: {e}"))
    })
}

impl RoleState {
    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = uid_problem(&self.uid) {
            return Some(p);
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Some("a role's name has 1 to 200 characters".into());
        }
        permissions_problem(&self.permissions)
    }
}

impl StaffState {
    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = uid_problem(&self.uid).or_else(|| uid_problem(&self.role)) {
            return Some(p);
        }
        let u = &self.username;
        if u.len() < 2 || u.len() > 64 || u.chars().any(char::is_whitespace) {
            return Some("a username has 2 to 64 characters and no spaces".into());
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Some("a staff member's name has 1 to 200 characters".into());
        }
        if self.access.is_admin && !self.access.permissions.is_empty() {
            return Some("an administrator's access lists no permissions".into());
        }
        permissions_problem(&self.access.permissions)
    }
}

/// `template.created`, `template.loaded`, `template.updated`, `template.deleted`: a message
/// template as Meta has it and as its author left it here (its variables' mapping), named by its
/// name and language, which Meta keeps unique per account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateState {
    pub name: String,
    pub language: String,
    pub meta_id: Option<String>,
    pub status: String,
    pub category: String,
    /// `POSITIONAL` or `NAMED`.
    pub parameter_format: String,
    /// The template as Meta has it (its components).
    pub definition: Value,
    pub rejected_reason: Option<String>,
    /// The template model it was loaded from, if any.
    pub model: Option<String>,
    /// The default bindings of its variables.
    pub mapping: Value,
    #[serde(default)]
    pub deleted: bool,
}

impl TemplateState {
    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        let name_ok = (1..=512).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Some("a template's name is lowercase letters, digits and _".into());
        }
        let language_ok = (2..=16).contains(&self.language.len())
            && self
                .language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !language_ok {
            return Some(format!("“{}” is not a language code", self.language));
        }
        if let Some(id) = &self.meta_id
            && (id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Some("Meta's template id is digits only".into());
        }
        let word = |s: &str| {
            !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        };
        if !word(&self.status) || !word(&self.category) {
            return Some(
                "a template's status and category are Meta's words (APPROVED, MARKETING…)".into(),
            );
        }
        if !matches!(self.parameter_format.as_str(), "POSITIONAL" | "NAMED") {
            return Some("parameter_format is POSITIONAL or NAMED".into());
        }
        if !self.definition.is_object() || !self.mapping.is_array() {
            return Some("a template's definition is an object and its mapping a list".into());
        }
        None
    }
}

/// One number as Meta gave it to the desktop that refreshed them (never its picture, which stays
/// on that desktop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberState {
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: Option<String>,
    pub messaging_limit: Option<String>,
    pub status: Option<String>,
    pub throughput: Option<String>,
    /// The business profile as Meta gave it.
    pub profile: Value,
}

/// `numbers.refreshed`: the account's numbers, all of them, as Meta gave them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumbersRefreshed {
    pub numbers: Vec<NumberState>,
}

impl NumbersRefreshed {
    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if self.numbers.len() > 200 {
            return Some(format!(
                "{} numbers: an account has far fewer",
                self.numbers.len()
            ));
        }
        self.numbers.iter().find_map(|n| {
            let id_ok = !n.phone_number_id.is_empty()
                && n.phone_number_id.len() <= 32
                && n.phone_number_id.bytes().all(|b| b.is_ascii_digit());
            if !id_ok {
                Some("a phone number id is Meta's, digits only".to_owned())
            } else if !n.profile.is_object() {
                Some("a number's profile is an object".to_owned())
            } else {
                None
            }
        })
    }
}

/// A template named as every desktop knows it: by its name and language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
}

/// `settings.business_hours`: the workspace's business hours (Settings → Bots), which a bot's
/// condition reads: a time zone and, Monday first, when each day opens and closes. An
/// administrator's setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// An IANA time zone (`Europe/Bucharest`, `America/New_York`, `UTC`).
    pub time_zone: String,
    /// Seven days, Monday first: `[opens, closes)` in minutes after midnight, or none (closed).
    pub days: Vec<Option<[u16; 2]>>,
}

impl BusinessHours {
    /// Why no desktop of ours would publish this, if so (the time zone's name is checked
    /// against the time zone database where it is set).
    pub fn problem(&self) -> Option<String> {
        let tz = &self.time_zone;
        if tz.is_empty()
            || tz.len() > 64
            || !tz
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        {
            return Some(format!("“{tz}” is not a time zone's name"));
        }
        if self.days.len() != 7 {
            return Some(format!("{} days given, not 7", self.days.len()));
        }
        for [open, close] in self.days.iter().flatten() {
            if open >= close || *close > 24 * 60 {
                return Some(format!(
                    "a day opening at minute {open} and closing at minute {close}"
                ));
            }
        }
        None
    }
}

/// `action_template.set`: the template "Send on WhatsApp" sends for a document action (Settings
/// → WhatsApp), or none. An administrator's setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionTemplateSet {
    /// `proposal`, `estimate`, `invoice`, `proforma` or `credit_note`.
    pub action: String,
    pub template: Option<TemplateRef>,
}

impl ActionTemplateSet {
    pub const ACTIONS: [&'static str; 5] =
        ["proposal", "estimate", "invoice", "proforma", "credit_note"];

    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if !Self::ACTIONS.contains(&self.action.as_str()) {
            return Some(format!("“{}” is not a document action", self.action));
        }
        match &self.template {
            Some(t)
                if t.name.is_empty()
                    || t.name.len() > 512
                    || t.language.is_empty()
                    || t.language.len() > 16 =>
            {
                Some("a template is named by its name and language".into())
            }
            _ => None,
        }
    }
}

/// The longest quick reply: Meta's limit on a text message's body, in characters.
pub const MAX_QUICK_REPLY_CHARS: usize = 4096;

/// `quick_reply.created`, `quick_reply.updated`, `quick_reply.deleted`: a quick reply as its
/// author left it. `name` is its shortcut, typed after `/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickReplyState {
    pub uid: String,
    pub name: String,
    pub message: String,
    #[serde(default)]
    pub deleted: bool,
}

impl QuickReplyState {
    /// Whether `name` is a shortcut: one word of letters, digits, `-` and `_`, 1 to 40 long.
    pub fn is_shortcut(name: &str) -> bool {
        (1..=40).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    }

    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = uid_problem(&self.uid) {
            return Some(p);
        }
        if !Self::is_shortcut(&self.name) {
            return Some(
                "a quick reply's name is one word of at most 40 letters, digits, - and _".into(),
            );
        }
        let len = self.message.chars().count();
        if !self.deleted && (self.message.trim().is_empty() || len > MAX_QUICK_REPLY_CHARS) {
            return Some(format!(
                "a quick reply's message has 1 to {MAX_QUICK_REPLY_CHARS} characters, not {len}"
            ));
        }
        None
    }
}

/// The largest bot event: its draft and the version it publishes (the editor's exports).
pub const MAX_BOT_BYTES: usize = 2 << 20;

/// `bot.created`, `bot.updated`, `bot.deleted`: a bot as its author left it. `trigger` and
/// `binding` are the flow crate's JSON, checked again (and compiled) by every desktop that applies
/// it. `published` is the version this event publishes, if it does: versions never change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotState {
    pub uid: String,
    pub name: String,
    /// `keyword`, `menu`, `ai` or `fallback`.
    pub kind: String,
    pub trigger: Value,
    #[serde(default)]
    pub number_id: Option<String>,
    #[serde(default)]
    pub binding: Option<Value>,
    #[serde(default)]
    pub media: Option<Value>,
    pub active: bool,
    /// The editor's Drawflow export.
    pub draft: String,
    /// The version it runs (0: never published).
    pub version: i64,
    #[serde(default)]
    pub published: Option<BotVersionState>,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotVersionState {
    pub version: i64,
    pub drawflow: String,
    pub flow: Value,
    pub published_at: i64,
}

impl BotState {
    pub const KINDS: [&str; 4] = ["keyword", "menu", "ai", "fallback"];

    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = uid_problem(&self.uid) {
            return Some(p);
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Some("a bot's name has 1 to 80 characters".into());
        }
        if !Self::KINDS.contains(&self.kind.as_str()) {
            return Some(format!(
                "“{}” is not a kind of bot",
                self.kind.chars().take(20).collect::<String>()
            ));
        }
        if !self.trigger.is_object() {
            return Some("a bot's trigger is an object".into());
        }
        if self.version < 0
            || self
                .published
                .as_ref()
                .is_some_and(|p| p.version != self.version || p.version < 1)
        {
            return Some("a published version is the bot's version, 1 or more".into());
        }
        if self
            .number_id
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.len() > 64)
        {
            return Some("a bot's number is a phone number id".into());
        }
        None
    }
}

/// The most records one event names: a bulk change of more is several events.
pub const MAX_UIDS: usize = 200;

/// `contact.deleted`, `group.deleted`: records by uid, at most [`MAX_UIDS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deleted {
    pub uids: Vec<String>,
}

/// `contacts.grouped`: contacts added to groups, keeping their others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouped {
    pub contacts: Vec<String>,
    pub groups: Vec<String>,
}

/// `contacts.imported`: one part of a CSV import, the rows it created and the numbers it found
/// already in the directory (which only gain the groups), compressed. An import of a million
/// rows is about fifty of these, not a million events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsImported {
    /// The import's uid prefix: the n-th contact it created has the uid `base` + n as 8 hex
    /// digits, so that the rows need not carry their uids.
    pub base: String,
    /// The number of this part's first created row within the import.
    pub first: u64,
    /// The groups every row joins, by uid.
    #[serde(default)]
    pub groups: Vec<String>,
    /// [`ImportEntry`]s as a JSON array, compressed by `lz4_flex::compress_prepend_size` and in
    /// standard base64.
    pub data: String,
}

/// One entry of [`ContactsImported::data`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ImportEntry {
    /// A contact the import created: phone (E.164), name, company, address, city, state,
    /// country, description.
    Created(Vec<String>),
    /// A number already in the directory: it gains the groups.
    Existing(String),
}

/// The most bytes of JSON one part of an import carries before compression.
pub const MAX_IMPORT_PART_BYTES: usize = 1 << 20;
/// The most bytes of a part's payload (its compressed data in base64 and the rest).
pub const MAX_IMPORT_PAYLOAD_BYTES: usize = 2 << 20;

impl ContactsImported {
    /// Compresses `json` (an array of [`ImportEntry`]) into `data`.
    pub fn pack(json: &[u8]) -> String {
        pack_rows(json)
    }

    /// The entries of `data`, refused when it claims more than [`MAX_IMPORT_PART_BYTES`] or is
    /// not what [`ContactsImported::pack`] makes.
    pub fn entries(&self) -> Result<Vec<ImportEntry>, String> {
        unpack_rows(&self.data)
    }
}

/// Compresses `json` (an array of rows) by `lz4_flex::compress_prepend_size`, in standard base64:
/// the `data` of the kinds that carry many rows (an import's part, a campaign's audience).
pub fn pack_rows(json: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(lz4_flex::compress_prepend_size(json))
}

/// The rows of a [`pack_rows`] `data`, refused when it claims more than
/// [`MAX_IMPORT_PART_BYTES`] or is not what `pack_rows` makes.
pub fn unpack_rows<T: DeserializeOwned>(data: &str) -> Result<Vec<T>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("data is not base64: {e}"))?;
    let claimed = bytes
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("data is too short")?;
    if claimed > MAX_IMPORT_PART_BYTES {
        return Err(format!(
            "data of {claimed} bytes, over the {MAX_IMPORT_PART_BYTES} a part may hold"
        ));
    }
    let json = lz4_flex::decompress_size_prepended(&bytes)
        .map_err(|e| format!("data does not decompress: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("data is not a list of rows: {e}"))
}

/// `campaign.created`, `campaign.updated`, `campaign.deleted`: a campaign's whole state (its frozen
/// audience travels apart, in `campaign.recipients`). `version` counts the campaign's changes: a
/// desktop's own earlier change coming back from the log does not undo a later one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignState {
    pub uid: String,
    pub name: String,
    #[serde(default)]
    pub number_id: Option<String>,
    pub template_name: String,
    pub template_language: String,
    pub template_category: String,
    /// Who it goes to, as chosen (the core's `campaigns::Audience`).
    pub audience: Value,
    #[serde(default)]
    pub start_at: Option<i64>,
    /// One of [`CampaignState::STATUSES`].
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// The plan's figures, once planned (the core's `campaigns::PlanFigures`).
    #[serde(default)]
    pub plan: Option<Value>,
    pub version: i64,
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub finished_at: Option<i64>,
    #[serde(default)]
    pub deleted: bool,
    /// A pilot: the first this many recipients are sent, then the campaign pauses for a person
    /// to look at the report before the rest.
    #[serde(default)]
    pub pilot: Option<u32>,
    /// The pilot went out and a person resumed the campaign for the rest.
    #[serde(default)]
    pub pilot_passed: bool,
    /// Spread over days: at most this many recipients tried in any 24 hours (Meta's messaging
    /// limit, when the campaign does not fit in one day).
    #[serde(default)]
    pub daily_cap: Option<u32>,
}

impl CampaignState {
    pub const STATUSES: [&str; 7] = [
        "draft",
        "planned",
        "scheduled",
        "running",
        "paused",
        "completed",
        "stopped",
    ];

    /// Why no desktop of ours would publish this, if so.
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = uid_problem(&self.uid) {
            return Some(p);
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Some("a campaign's name has 1 to 120 characters".into());
        }
        if !Self::STATUSES.contains(&self.status.as_str()) {
            return Some(format!(
                "“{}” is not a campaign status",
                self.status.chars().take(20).collect::<String>()
            ));
        }
        if self.version < 1 {
            return Some("a campaign's version is 1 or more".into());
        }
        if !self.audience.is_object() {
            return Some("a campaign's audience is an object".into());
        }
        None
    }
}

/// `campaign.recipients`: one part of a campaign's frozen audience, the rows from index `first`
/// on ([`RecipientEntry`]s, packed by [`pack_rows`]). 100,000 recipients are a few dozen events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRecipients {
    pub campaign: String,
    pub first: i64,
    pub data: String,
}

/// One recipient as planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientEntry {
    /// E.164 digits without `+`, or a business-scoped user id; empty when it has none.
    pub phone: String,
    pub name: String,
    #[serde(default)]
    pub record: Option<String>,
    /// The values of the template's variables for this recipient, in the template's order;
    /// none when skipped.
    #[serde(default)]
    pub params: Option<Vec<String>>,
    /// Why it is left out, when it is (no number, opted out…).
    #[serde(default)]
    pub skipped: Option<String>,
}

/// `campaign.progress`: what the active runner's dispatcher did with some recipients (taken for
/// sending, accepted by Meta, refused, deferred, needing attention), at most
/// [`MAX_PROGRESS_ROWS`] at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignProgress {
    pub campaign: String,
    pub rows: Vec<ProgressRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressRow {
    pub idx: i64,
    /// `sending`, `accepted`, `failed`, `deferred`, `attention`, `planned` (taken back), `sent`
    /// (marked as sent by a person).
    pub state: String,
    /// The attempt this is about (1 for the first send).
    pub attempt: i64,
    pub at: i64,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub wamid: Option<String>,
    /// A deferred recipient's next try.
    #[serde(default)]
    pub next_at: Option<i64>,
}

pub const MAX_PROGRESS_ROWS: usize = 2000;

fn shape<T: DeserializeOwned>(kind: &str, payload: &Value) -> Result<(), PayloadError> {
    T::deserialize(payload)
        .map(drop)
        .map_err(|e| PayloadError::Shape {
            kind: kind.into(),
            reason: e.to_string(),
        })
}

fn many(kind: &str, n: usize) -> Result<(), PayloadError> {
    if n > MAX_UIDS {
        return Err(PayloadError::Shape {
            kind: kind.into(),
            reason: format!("{n} records in one event, over the {MAX_UIDS} accepted"),
        });
    }
    Ok(())
}

/// The longest string anywhere in `v`, in characters.
fn longest_string(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.iter().map(longest_string).max().unwrap_or(0),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| k.chars().count().max(longest_string(v)))
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// Checks `payload` (whose compact JSON is `size` bytes) against `kind`'s cap and shape.
pub fn check(kind: &str, payload: &Value, size: usize) -> Result<(), PayloadError> {
    let max = match kind {
        "message.sent" | "quick_reply.created" | "quick_reply.updated" | "numbers.refreshed" => {
            MAX_MESSAGE_BYTES
        }
        "template.created" | "template.loaded" | "template.updated" | "template.deleted" => {
            MAX_MESSAGE_BYTES
        }
        "contacts.imported" => MAX_IMPORT_PAYLOAD_BYTES,
        "bot.created" | "bot.updated" | "bot.deleted" => MAX_BOT_BYTES,
        "campaign.created" | "campaign.updated" | "campaign.deleted" => MAX_MESSAGE_BYTES,
        "campaign.recipients" | "campaign.progress" => MAX_IMPORT_PAYLOAD_BYTES,
        _ => MAX_PAYLOAD_BYTES,
    };
    if size > max {
        return Err(PayloadError::TooLarge {
            kind: kind.into(),
            size,
            max,
        });
    }
    match kind {
        "message.sent" => {
            shape::<MessageSent>(kind, payload)?;
            let content = &payload["content"];
            if !content["type"].is_string() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason: "content has no type".into(),
                });
            }
            // A text body or a template's may be long; the ids and names around it may not.
            let mut ids = payload.clone();
            ids.as_object_mut().map(|o| o.remove("content"));
            if longest_string(&ids) > MAX_VALUE_CHARS {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason: format!("a value is over {MAX_VALUE_CHARS} characters"),
                });
            }
            return Ok(());
        }
        "message.reacted" => shape::<MessageReacted>(kind, payload)?,
        "conversation.read" => shape::<ConversationRead>(kind, payload)?,
        "conversation.assigned" => shape::<ConversationAssigned>(kind, payload)?,
        "lead.status_changed" => shape::<LeadStatusChanged>(kind, payload)?,
        "contact.created" | "contact.updated" => shape::<ContactState>(kind, payload)?,
        "group.created" | "group.updated" => shape::<GroupState>(kind, payload)?,
        "connection.changed" => {
            let c: ConnectionChanged =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = c.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
        }
        "template.created" | "template.loaded" | "template.updated" | "template.deleted" => {
            let t: TemplateState =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = t.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            return Ok(()); // a template's texts may be long; Meta's rules bound them
        }
        "quick_reply.created" | "quick_reply.updated" | "quick_reply.deleted" => {
            let q: QuickReplyState =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = q.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            return Ok(()); // the message may be long; its checks are the ones above
        }
        "bot.created" | "bot.updated" | "bot.deleted" => {
            let b: BotState =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = b.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            return Ok(()); // texts of a flow may be long; the flow's compiler bounds them
        }
        "numbers.refreshed" => {
            let n: NumbersRefreshed =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = n.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            return Ok(()); // a profile's description may be long; Meta bounds it
        }
        "settings.business_hours" => {
            let h: BusinessHours =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = h.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
        }
        "action_template.set" => {
            let a: ActionTemplateSet =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = a.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
        }
        "role.changed" | "staff.changed" => {
            let problem = if kind == "role.changed" {
                serde_json::from_value::<RoleState>(payload.clone())
                    .map_err(|e| e.to_string())
                    .map(|r| r.problem())
            } else {
                serde_json::from_value::<StaffState>(payload.clone())
                    .map_err(|e| e.to_string())
                    .map(|s| s.problem())
            };
            if let Some(reason) = problem.unwrap_or_else(Some) {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
        }
        "contact.deleted" | "group.deleted" => {
            let d: Deleted =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            many(kind, d.uids.len())?;
        }
        "contacts.imported" => {
            let part: ContactsImported =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            many(kind, part.groups.len())?;
            let entries = part.entries().map_err(|reason| PayloadError::Shape {
                kind: kind.into(),
                reason,
            })?;
            if let Some(bad) = entries.iter().find_map(|e| match e {
                ImportEntry::Created(fields) if fields.len() != 8 => Some(fields.len()),
                _ => None,
            }) {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason: format!("a created row of {bad} fields, not 8"),
                });
            }
            return Ok(());
        }
        "campaign.created" | "campaign.updated" | "campaign.deleted" => {
            let c: CampaignState =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = c.problem() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            return Ok(()); // a reason or a filter's search may be long; all is under the cap
        }
        "campaign.recipients" => {
            let part: CampaignRecipients =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if let Some(reason) = uid_problem(&part.campaign) {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason,
                });
            }
            unpack_rows::<RecipientEntry>(&part.data).map_err(|reason| PayloadError::Shape {
                kind: kind.into(),
                reason,
            })?;
            return Ok(());
        }
        "campaign.progress" => {
            let p: CampaignProgress =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            if p.rows.len() > MAX_PROGRESS_ROWS {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason: format!(
                        "{} recipients in one event, over the {MAX_PROGRESS_ROWS} accepted",
                        p.rows.len()
                    ),
                });
            }
            return Ok(());
        }
        "contacts.grouped" => {
            let g: Grouped =
                serde_json::from_value(payload.clone()).map_err(|e| PayloadError::Shape {
                    kind: kind.into(),
                    reason: e.to_string(),
                })?;
            many(kind, g.contacts.len().max(g.groups.len()))?;
        }
        _ => {
            if !payload.is_object() {
                return Err(PayloadError::Shape {
                    kind: kind.into(),
                    reason: "a payload is a JSON object".into(),
                });
            }
            return Ok(());
        }
    }
    if longest_string(payload) > MAX_VALUE_CHARS {
        return Err(PayloadError::Shape {
            kind: kind.into(),
            reason: format!("a value is over {MAX_VALUE_CHARS} characters"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod contact_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn staff_and_role_payloads_name_what_is_wrong() {
        let role =
            json!({"uid": "0193ab4c", "name": "Support", "permissions": ["whatsapp_chat:view"]});
        assert!(check("role.changed", &role, 100).is_ok());
        let mut bad = role.clone();
        bad["permissions"] = json!(["whatsapp_chat:fly"]);
        let err = check("role.changed", &bad, 100).unwrap_err().to_string();
        assert!(err.contains("whatsapp_chat:fly"), "{err}");
        let staff = json!({"uid": "user:7269636b", "username": "rick", "name": "Rick",
            "role": "0193ab4c", "active": true,
            "access": {"is_admin": false, "permissions": ["whatsapp_chat:view"]}});
        assert!(check("staff.changed", &staff, 200).is_ok());
        for (field, value, says) in [
            ("username", json!("has space"), "username"),
            ("uid", json!("not a uid!"), "uid"),
            ("name", json!("  "), "name"),
            (
                "access",
                json!({"is_admin": true, "permissions": ["whatsapp_chat:view"]}),
                "administrator",
            ),
        ] {
            let mut bad = staff.clone();
            bad[field] = value;
            let err = check("staff.changed", &bad, 200).unwrap_err().to_string();
            assert!(err.contains(says), "{field}: {err}");
        }
        let mut passphrase = staff.clone();
        passphrase["passphrase"] = json!("hunter22");
        assert!(
            check("staff.changed", &passphrase, 200).is_err(),
            "no passphrase travels"
        );
    }

    #[test]
    fn contact_and_group_payloads_have_their_shape_and_a_bulk_change_its_limit() {
        let size = |v: &Value| v.to_string().len();
        let c = json!({"uid": "u1", "phone": "+12015550101", "name": "Ana", "groups": ["g1"]});
        check("contact.created", &c, size(&c)).unwrap();
        let bad = json!({"uid": "u1", "phone": "+1", "password": "x"});
        let e = check("contact.updated", &bad, size(&bad)).unwrap_err();
        assert!(e.to_string().contains("unknown field `password`"), "{e}");
        let g = json!({"uid": "g1", "name": "VIP"});
        check("group.created", &g, size(&g)).unwrap();
        let ok = json!({"uids": vec!["u"; MAX_UIDS]});
        check("contact.deleted", &ok, size(&ok)).unwrap();
        let over = json!({"uids": vec!["u"; MAX_UIDS + 1]});
        let e = check("contact.deleted", &over, size(&over)).unwrap_err();
        assert!(e.to_string().contains("201 records in one event"), "{e}");
        let grouped = json!({"contacts": ["u"], "groups": vec!["g"; MAX_UIDS + 1]});
        assert!(check("contacts.grouped", &grouped, size(&grouped)).is_err());

        // An import's part: its rows packed, read back the same; a bomb or a short row refused.
        let rows = json!([
            ["+12015550101", "Ana", "", "", "", "", "", ""],
            "+12015550102"
        ]);
        let part = json!({"base": "b", "first": 0, "groups": [], "data": ContactsImported::pack(rows.to_string().as_bytes())});
        check("contacts.imported", &part, size(&part)).unwrap();
        let read: ContactsImported = serde_json::from_value(part).unwrap();
        assert_eq!(
            read.entries().unwrap()[1],
            ImportEntry::Existing("+12015550102".into())
        );
        let bomb = vec![b' '; MAX_IMPORT_PART_BYTES + 1];
        let part = json!({"base": "b", "first": 0, "data": ContactsImported::pack(&bomb)});
        let e = check("contacts.imported", &part, size(&part)).unwrap_err();
        assert!(
            e.to_string().contains("over the 1048576 a part may hold"),
            "{e}"
        );
        let short = json!([["+12015550101", "Ana"]]);
        let part = json!({"base": "b", "first": 0, "data": ContactsImported::pack(short.to_string().as_bytes())});
        let e = check("contacts.imported", &part, size(&part)).unwrap_err();
        assert!(e.to_string().contains("a created row of 2 fields"), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checked(kind: &str, v: Value) -> Result<(), PayloadError> {
        let size = v.to_string().len();
        check(kind, &v, size)
    }

    #[test]
    fn the_chats_payloads_pass_and_anything_else_in_their_place_is_refused_by_name() {
        let sent = json!({
            "client_id": "c1", "wamid": "wamid.1", "customer": "15551230001",
            "customer_name": "Ana", "phone_number_id": "1001",
            "content": {"type": "text", "body": "hello"}, "reply_to": null, "sent_at": 1_700_000_000_000i64,
        });
        checked("message.sent", sent.clone()).unwrap();
        let mut extra = sent.clone();
        extra["local_path"] = json!("/etc/passwd");
        let e = checked("message.sent", extra).unwrap_err();
        assert!(e.to_string().contains("unknown field `local_path`"), "{e}");
        let mut no_type = sent.clone();
        no_type["content"] = json!({"body": "x"});
        assert!(checked("message.sent", no_type).is_err());
        let mut long_id = sent.clone();
        long_id["customer"] = json!("9".repeat(2000));
        assert!(checked("message.sent", long_id).is_err());
        // A long text body is fine; a payload over the cap is not.
        let mut long_body = sent.clone();
        long_body["content"]["body"] = json!("x".repeat(4096));
        checked("message.sent", long_body).unwrap();
        let mut huge = sent;
        huge["content"]["body"] = json!("x".repeat(MAX_MESSAGE_BYTES));
        assert!(matches!(
            checked("message.sent", huge),
            Err(PayloadError::TooLarge { .. })
        ));

        checked("message.reacted", json!({"wamid": "w", "emoji": "👍"})).unwrap();
        assert!(checked("message.reacted", json!({"wamid": 3, "emoji": ""})).is_err());
        checked(
            "conversation.read",
            json!({"customer": "1", "phone_number_id": "2", "up_to": "w"}),
        )
        .unwrap();
        checked(
            "conversation.assigned",
            json!({"customer": "1", "phone_number_id": "2", "username": null, "name": null}),
        )
        .unwrap();
        checked(
            "lead.status_changed",
            json!({"phone": "1", "status": "Won"}),
        )
        .unwrap();
        assert!(checked("lead.status_changed", json!({"phone": "1"})).is_err());
    }

    #[test]
    fn a_kind_without_a_defined_payload_takes_a_small_object_only() {
        checked("lead.created", json!({"phone": "1"})).unwrap();
        assert!(checked("lead.created", json!("text")).is_err());
        assert!(checked("lead.created", json!([1, 2])).is_err());
        let big = json!({"pad": "x".repeat(MAX_PAYLOAD_BYTES)});
        let e = checked("lead.created", big).unwrap_err();
        assert!(e.to_string().contains("over the 16384 bytes"), "{e}");
    }
}

#[cfg(test)]
mod connection_tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn a_connection_change_carries_ids_and_an_address_and_never_a_token() {
        let ok = json!({"phone_number_id": "106540352242922", "waba_id": "102290129340398",
                        "graph_base_url": "https://graph.facebook.com", "graph_version": "v23.0"});
        assert!(check("connection.changed", &ok, 200).is_ok());
        let mut token = ok.clone();
        token["access_token"] = json!("EAAG");
        assert!(
            check("connection.changed", &token, 200).is_err(),
            "no secret field is accepted"
        );
        let mut ids = ok.clone();
        ids["waba_id"] = json!("WABA-1");
        let e = check("connection.changed", &ids, 200)
            .unwrap_err()
            .to_string();
        assert!(e.contains("digits only"), "{e}");
        let mut url = ok;
        url["graph_base_url"] = json!("file:///etc/passwd");
        assert!(check("connection.changed", &url, 200).is_err());
    }
}
