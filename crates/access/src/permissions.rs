//! Resources × actions, exactly as the spec's "Permissions reference" table, and roles.
//!
//! The spec's table covers the WhatsApp sub-modules only. [`Resource::Leads`], [`Resource::Clients`]
//! and [`Resource::Documents`] are CRMConnect's CRM permissions, outside that table: the CRM side
//! (leads, clients, their documents) that the WhatsApp module reads from and sends for.
//!
//! Every core operation calls [`Principal::require`] (or [`Principal::require_admin`]) itself, for
//! the [`Actor`] its context names; the UI hiding a button is a courtesy, never the check.

use std::collections::BTreeSet;

use crmconnect_base::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A permission resource of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Resource {
    WhatsappChat,
    WhatsappBot,
    WhatsappCampaign,
    WhatsappGroups,
    WhatsappContacts,
    WhatsappTemplate,
    WhatsappNumbers,
    Quickreplies,
    /// CRM, outside the spec's WhatsApp table: leads, their statuses, CSV import of leads.
    Leads,
    /// CRM, outside the spec's WhatsApp table: clients (companies) and their contact persons.
    Clients,
    /// CRM, outside the spec's WhatsApp table: proposals, estimates, invoices, proformas, credit notes.
    Documents,
}

/// What may be done to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Action {
    View,
    Send,
    Create,
    Edit,
    Delete,
    Import,
    LoadTemplate,
}

impl Resource {
    pub const ALL: [Resource; 11] = [
        Resource::WhatsappChat,
        Resource::WhatsappBot,
        Resource::WhatsappCampaign,
        Resource::WhatsappGroups,
        Resource::WhatsappContacts,
        Resource::WhatsappTemplate,
        Resource::WhatsappNumbers,
        Resource::Quickreplies,
        Resource::Leads,
        Resource::Clients,
        Resource::Documents,
    ];

    /// The CRM resources: CRMConnect's own, not in the spec's WhatsApp permission table.
    pub const CRM: [Resource; 3] = [Resource::Leads, Resource::Clients, Resource::Documents];

    /// The actions the spec lists for this resource.
    pub const fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Resource::WhatsappChat => &[View, Send],
            Resource::WhatsappBot
            | Resource::WhatsappCampaign
            | Resource::WhatsappGroups
            | Resource::Quickreplies => &[View, Create, Edit, Delete],
            Resource::WhatsappContacts | Resource::Leads => &[View, Create, Edit, Delete, Import],
            Resource::Clients | Resource::Documents => &[View, Create, Edit, Delete],
            Resource::WhatsappTemplate => &[View, Create, Edit, Delete, LoadTemplate],
            Resource::WhatsappNumbers => &[View],
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Resource::WhatsappChat => "whatsapp_chat",
            Resource::WhatsappBot => "whatsapp_bot",
            Resource::WhatsappCampaign => "whatsapp_campaign",
            Resource::WhatsappGroups => "whatsapp_groups",
            Resource::WhatsappContacts => "whatsapp_contacts",
            Resource::WhatsappTemplate => "whatsapp_template",
            Resource::WhatsappNumbers => "whatsapp_numbers",
            Resource::Quickreplies => "quickreplies",
            Resource::Leads => "leads",
            Resource::Clients => "clients",
            Resource::Documents => "documents",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Resource::WhatsappChat => "Chat",
            Resource::WhatsappBot => "Bots",
            Resource::WhatsappCampaign => "Campaigns",
            Resource::WhatsappGroups => "Groups",
            Resource::WhatsappContacts => "Bulk Contacts",
            Resource::WhatsappTemplate => "Templates",
            Resource::WhatsappNumbers => "Numbers",
            Resource::Quickreplies => "Quick Replies",
            Resource::Leads => "Leads",
            Resource::Clients => "Clients",
            Resource::Documents => "Documents",
        }
    }

    pub fn from_key(key: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.key() == key)
    }
}

impl Action {
    pub fn key(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Send => "send",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Import => "import",
            Action::LoadTemplate => "load_template",
        }
    }

    pub fn from_key(key: &str) -> Option<Action> {
        use Action::*;
        [View, Send, Create, Edit, Delete, Import, LoadTemplate]
            .into_iter()
            .find(|a| a.key() == key)
    }
}

/// One resource/action pair, e.g. `whatsapp_contacts`/`import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl Permission {
    pub const fn new(resource: Resource, action: Action) -> Self {
        Permission { resource, action }
    }

    /// Every pair the spec defines.
    pub fn all() -> impl Iterator<Item = Permission> {
        Resource::ALL
            .into_iter()
            .flat_map(|r| r.actions().iter().map(move |&a| Permission::new(r, a)))
    }

    pub fn is_defined(self) -> bool {
        self.resource.actions().contains(&self.action)
    }
}

impl std::str::FromStr for Permission {
    type Err = String;

    /// `resource:action`, e.g. `whatsapp_chat:send`; only pairs the spec defines.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (r, a) = s
            .split_once(':')
            .ok_or_else(|| format!("“{s}” is not of the form resource:action"))?;
        let resource =
            Resource::from_key(r.trim()).ok_or_else(|| format!("“{r}” is not a resource"))?;
        let action = Action::from_key(a.trim()).ok_or_else(|| format!("“{a}” is not an action"))?;
        let p = Permission::new(resource, action);
        if p.is_defined() {
            Ok(p)
        } else {
            Err(format!(
                "{} has no “{}” permission",
                resource.key(),
                action.key()
            ))
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.resource.key(), self.action.key())
    }
}

/// A row of the permission matrix the Settings screen draws.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ResourceInfo {
    pub resource: Resource,
    pub key: String,
    pub label: String,
    pub actions: Vec<Action>,
}

pub fn catalog() -> Vec<ResourceInfo> {
    Resource::ALL
        .into_iter()
        .map(|r| ResourceInfo {
            resource: r,
            key: r.key().into(),
            label: r.label().into(),
            actions: r.actions().to_vec(),
        })
        .collect()
}

/// What a permission lets someone do, in words a person reads on a refusal: "viewing Bulk
/// Contacts", "importing into Leads" (not the key, `whatsapp_contacts view`).
pub fn plain(resource: Resource, action: Action) -> String {
    let verb = match action {
        Action::View => "viewing",
        Action::Send => "sending from",
        Action::Create => "adding to",
        Action::Edit => "editing",
        Action::Delete => "deleting from",
        Action::Import => "importing into",
        Action::LoadTemplate => "loading the models of",
    };
    format!("{verb} {}", resource.label())
}

#[derive(Debug, thiserror::Error)]
pub enum PermissionError {
    #[error("nobody is signed in")]
    NotSignedIn,
    #[error("{staff}'s role ({role}) does not allow {what}")]
    Denied {
        staff: String,
        role: String,
        what: String,
    },
    #[error("{what} is for administrators only")]
    AdminOnly { what: String },
    #[error("role {0} does not exist")]
    UnknownRole(i64),
    #[error("a role needs a name")]
    EmptyRoleName,
    #[error("there is already a role named “{0}”")]
    DuplicateRoleName(String),
    #[error("{0} is not a permission the spec defines")]
    Undefined(Permission),
    #[error("role “{0}” is still given to {1} staff member(s); give them another role first")]
    RoleInUse(String, i64),
    #[error("the administrator role cannot be changed or deleted")]
    AdminRoleFixed,
    #[error("{what} belongs to a person; {actor} is not one")]
    PersonOnly { what: String, actor: String },
}

impl PermissionError {
    pub fn code(&self) -> ErrorCode {
        match self {
            PermissionError::NotSignedIn => ErrorCode::NotSignedIn,
            PermissionError::Denied { .. }
            | PermissionError::AdminOnly { .. }
            | PermissionError::PersonOnly { .. } => ErrorCode::PermissionDenied,
            PermissionError::UnknownRole(_) => ErrorCode::NotFound,
            PermissionError::EmptyRoleName | PermissionError::Undefined(_) => ErrorCode::Invalid,
            PermissionError::DuplicateRoleName(_)
            | PermissionError::RoleInUse(..)
            | PermissionError::AdminRoleFixed => ErrorCode::Conflict,
        }
    }
}

/// A role: a name, whether it is the administrator role, and its permissions.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    pub permissions: Vec<Permission>,
}

/// Who acts: what every operation's context names. A staff member, the system itself (one of its
/// parts, named), or a bot. Permissions and the Activity Log are decided by it, never by who
/// happens to be signed in at some desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member, by id; their role is loaded when they act, so a changed role applies at once.
    Staff(i64),
    /// The system: set-up, the chat sender, the sync engine, the campaign dispatcher, the runner.
    System(SystemTask),
    /// A bot, by id and name (its name is what the Activity Log shows).
    Bot { id: i64, name: String },
}

/// The parts of the system that act on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTask {
    /// Creating a workspace and its owner on first launch.
    Setup,
    /// Signing in: who tried is not known until the passphrase is checked.
    SignIn,
    /// The chat outbox's sender, sending what staff queued.
    ChatSender,
    /// Team sync applying and publishing events.
    Sync,
    /// The sandbox workspace's embedded Meta stand-in and relay.
    Sandbox,
    /// The campaign dispatcher.
    CampaignDispatcher,
    /// The headless runner.
    Runner,
}

impl SystemTask {
    pub fn label(self) -> &'static str {
        match self {
            SystemTask::Setup => "workspace set-up",
            SystemTask::SignIn => "sign-in",
            SystemTask::ChatSender => "chat sender",
            SystemTask::Sync => "team sync",
            SystemTask::Sandbox => "sandbox",
            SystemTask::CampaignDispatcher => "campaign dispatcher",
            SystemTask::Runner => "runner",
        }
    }
}

/// What a bot may do: converse, and keep the contact's and lead's records up to date.
pub const BOT_GRANTS: &[Permission] = &[
    Permission::new(Resource::WhatsappChat, Action::View),
    Permission::new(Resource::WhatsappChat, Action::Send),
    Permission::new(Resource::WhatsappContacts, Action::View),
    Permission::new(Resource::WhatsappContacts, Action::Create),
    Permission::new(Resource::WhatsappContacts, Action::Edit),
    Permission::new(Resource::WhatsappGroups, Action::View),
    Permission::new(Resource::WhatsappTemplate, Action::View),
    Permission::new(Resource::Leads, Action::View),
    Permission::new(Resource::Leads, Action::Create),
    Permission::new(Resource::Leads, Action::Edit),
];

/// An actor with what it may do loaded: a staff member with their role's permissions, the system
/// (every permission), or a bot ([`BOT_GRANTS`]).
#[derive(Debug, Clone)]
pub struct Principal {
    pub actor: Actor,
    /// As a person reads it: “Olivia Owner”, “System · chat sender”, “Bot «Welcome»”.
    pub name: String,
    pub role: Role,
    granted: BTreeSet<Permission>,
}

impl Principal {
    pub fn staff(staff_id: i64, name: String, role: Role) -> Self {
        let granted = role.permissions.iter().copied().collect();
        Principal {
            actor: Actor::Staff(staff_id),
            name,
            role,
            granted,
        }
    }

    /// The system: holds every permission, as the workspace itself.
    pub fn system(task: SystemTask) -> Self {
        let permissions: Vec<Permission> = Permission::all().collect();
        Principal {
            actor: Actor::System(task),
            name: format!("System · {}", task.label()),
            granted: permissions.iter().copied().collect(),
            role: Role {
                id: 0,
                name: "System".into(),
                is_admin: true,
                permissions,
            },
        }
    }

    /// A bot: holds [`BOT_GRANTS`] and nothing else.
    pub fn bot(id: i64, name: &str) -> Self {
        Principal {
            actor: Actor::Bot {
                id,
                name: name.to_owned(),
            },
            name: format!("Bot «{name}»"),
            granted: BOT_GRANTS.iter().copied().collect(),
            role: Role {
                id: 0,
                name: "Bot".into(),
                is_admin: false,
                permissions: BOT_GRANTS.to_vec(),
            },
        }
    }

    /// The staff member acting, if a person acts.
    pub fn staff_id(&self) -> Option<i64> {
        match self.actor {
            Actor::Staff(id) => Some(id),
            _ => None,
        }
    }

    /// The acting staff member's id, or a refusal naming `what` for the system or a bot.
    pub fn require_person(&self, what: &str) -> Result<i64, PermissionError> {
        self.staff_id().ok_or_else(|| PermissionError::PersonOnly {
            what: what.into(),
            actor: self.name.clone(),
        })
    }

    pub fn is_admin(&self) -> bool {
        self.role.is_admin
    }

    pub fn can(&self, p: Permission) -> bool {
        self.is_admin() || self.granted.contains(&p)
    }

    /// Refuses unless the actor's role grants `resource`/`action` (admins hold every permission).
    pub fn require(&self, resource: Resource, action: Action) -> Result<(), PermissionError> {
        let p = Permission::new(resource, action);
        if self.can(p) {
            Ok(())
        } else {
            Err(PermissionError::Denied {
                staff: self.name.clone(),
                role: self.role.name.clone(),
                what: plain(resource, action),
            })
        }
    }

    /// Refuses unless the actor's role is the administrator role (Connection, Activity Log, staff).
    pub fn require_admin(&self, what: &str) -> Result<(), PermissionError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(PermissionError::AdminOnly { what: what.into() })
        }
    }
}

/// What an admin submits to create or change a role.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct RoleInput {
    pub name: String,
    pub permissions: Vec<Permission>,
}

/// The role's name, trimmed, when the input is valid: a name, and only permissions the spec defines.
pub fn validate(input: &RoleInput) -> Result<String, PermissionError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(PermissionError::EmptyRoleName);
    }
    if let Some(p) = input.permissions.iter().find(|p| !p.is_defined()) {
        return Err(PermissionError::Undefined(*p));
    }
    Ok(name.to_owned())
}

/// The roles every new workspace starts with. Admins can change all but the first.
pub fn default_roles() -> Vec<(RoleInput, bool)> {
    use Action::*;
    use Resource::*;
    let p = Permission::new;
    vec![
        (
            RoleInput {
                name: "Administrator".into(),
                permissions: Permission::all().collect(),
            },
            true,
        ),
        (
            RoleInput {
                name: "Sales rep".into(),
                permissions: vec![
                    p(WhatsappChat, View),
                    p(WhatsappChat, Send),
                    p(Quickreplies, View),
                    p(WhatsappContacts, View),
                    p(WhatsappTemplate, View),
                    p(WhatsappNumbers, View),
                    p(Leads, View),
                    p(Leads, Create),
                    p(Leads, Edit),
                    p(Clients, View),
                    p(Clients, Create),
                    p(Clients, Edit),
                    p(Documents, View),
                    p(Documents, Create),
                    p(Documents, Edit),
                ],
            },
            false,
        ),
        (
            RoleInput {
                name: "Marketing".into(),
                permissions: Permission::all()
                    .filter(|p| !matches!(p.resource, WhatsappChat | Leads | Clients | Documents))
                    .chain([
                        p(Leads, View),
                        p(Leads, Create),
                        p(Leads, Edit),
                        p(Leads, Import),
                        p(Clients, View),
                        p(Documents, View),
                    ])
                    .collect(),
            },
            false,
        ),
        (
            // The service member of staff whose token a server runner (`crmconnect-runner`)
            // holds: exactly what bots and campaigns do — reply and send templates, read the
            // audience, capture a lead, move campaigns and bots on — and nothing that deletes,
            // imports or manages the team.
            RoleInput {
                name: "Automation (runner)".into(),
                permissions: vec![
                    p(WhatsappChat, View),
                    p(WhatsappChat, Send),
                    p(WhatsappBot, View),
                    p(WhatsappBot, Edit),
                    p(WhatsappCampaign, View),
                    p(WhatsappCampaign, Edit),
                    p(WhatsappContacts, View),
                    p(WhatsappGroups, View),
                    p(WhatsappTemplate, View),
                    p(WhatsappNumbers, View),
                    p(Quickreplies, View),
                    p(Leads, View),
                    p(Leads, Create),
                ],
            },
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_what_was_refused_in_plain_words() {
        assert_eq!(
            plain(Resource::WhatsappContacts, Action::View),
            "viewing Bulk Contacts"
        );
        assert_eq!(
            plain(Resource::Leads, Action::Import),
            "importing into Leads"
        );
        for p in Permission::all() {
            let words = plain(p.resource, p.action);
            assert!(!words.contains('_'), "{words} names a key");
        }
    }

    #[test]
    fn the_table_of_the_spec() {
        let all: Vec<String> = Permission::all()
            .filter(|p| !Resource::CRM.contains(&p.resource))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(all.len(), 2 + 4 + 4 + 4 + 5 + 5 + 1 + 4);
        for expected in [
            "whatsapp_chat send",
            "whatsapp_contacts import",
            "whatsapp_template load_template",
            "whatsapp_numbers view",
            "quickreplies delete",
        ] {
            assert!(all.contains(&expected.to_string()), "{expected}");
        }
        assert!(!Permission::new(Resource::WhatsappNumbers, Action::Delete).is_defined());
    }

    #[test]
    fn crm_permissions_sit_beside_the_spec_table() {
        let crm: Vec<String> = Permission::all()
            .filter(|p| Resource::CRM.contains(&p.resource))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(crm.len(), 5 + 4 + 4);
        assert!(crm.contains(&"leads import".to_string()));
        assert!(!Permission::new(Resource::Documents, Action::Import).is_defined());
        let roles = default_roles();
        let rep = &roles[1].0;
        assert!(
            rep.permissions
                .contains(&Permission::new(Resource::Leads, Action::Edit))
        );
        assert!(
            !rep.permissions
                .contains(&Permission::new(Resource::Leads, Action::Delete))
        );
        let automation = &roles[3].0;
        assert!(automation.permissions.iter().all(|p| p.is_defined()));
        assert!(
            automation
                .permissions
                .contains(&Permission::new(Resource::WhatsappCampaign, Action::Edit)),
            "the relay's lease asks for bot or campaign edit"
        );
        assert!(
            !automation
                .permissions
                .iter()
                .any(|p| matches!(p.action, Action::Delete | Action::Import)),
            "automation deletes and imports nothing"
        );
        let marketing = &roles[2].0;
        assert!(
            marketing
                .permissions
                .contains(&Permission::new(Resource::Leads, Action::Import))
        );
        assert!(
            !marketing
                .permissions
                .contains(&Permission::new(Resource::Documents, Action::Create))
        );
    }

    #[test]
    fn serialises_with_the_spec_keys() {
        let p = Permission::new(Resource::WhatsappTemplate, Action::LoadTemplate);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"resource":"whatsapp_template","action":"load_template"}"#
        );
        for r in Resource::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.key());
        }
    }
}
