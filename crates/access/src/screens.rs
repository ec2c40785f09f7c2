//! The sub-modules of the product (the spec's ten, plus Settings, plus the CRM's Leads, Clients and
//! Documents) and who may open each. The ten WhatsApp ones come first: Ctrl+1…0 open them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::permissions::{Action, PermissionError, Principal, Resource};

/// A screen of the app; also the "sub-module" an activity-log entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Screen {
    Chat,
    Bots,
    Campaigns,
    Groups,
    BulkContacts,
    Templates,
    QuickReplies,
    Numbers,
    Connection,
    ActivityLog,
    Settings,
    Leads,
    Clients,
    Documents,
}

/// Who may open a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Access {
    /// Staff whose role grants `view` on this resource.
    View { resource: Resource },
    /// Administrators only.
    Admin,
    /// Every signed-in staff member (Settings: their own account; admins also see staff and roles).
    Anyone,
}

impl Screen {
    pub const ALL: [Screen; 14] = [
        Screen::Chat,
        Screen::Bots,
        Screen::Campaigns,
        Screen::Groups,
        Screen::BulkContacts,
        Screen::Templates,
        Screen::QuickReplies,
        Screen::Numbers,
        Screen::Connection,
        Screen::ActivityLog,
        Screen::Leads,
        Screen::Clients,
        Screen::Documents,
        Screen::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Screen::Chat => "Chat",
            Screen::Bots => "Bots",
            Screen::Campaigns => "Campaigns",
            Screen::Groups => "Groups",
            Screen::BulkContacts => "Bulk Contacts",
            Screen::Templates => "Templates",
            Screen::QuickReplies => "Quick Replies",
            Screen::Numbers => "Numbers",
            Screen::Connection => "Connection",
            Screen::ActivityLog => "Activity Log",
            Screen::Settings => "Settings",
            Screen::Leads => "Leads",
            Screen::Clients => "Clients",
            Screen::Documents => "Documents",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Screen::Chat => "chat",
            Screen::Bots => "bots",
            Screen::Campaigns => "campaigns",
            Screen::Groups => "groups",
            Screen::BulkContacts => "bulk_contacts",
            Screen::Templates => "templates",
            Screen::QuickReplies => "quick_replies",
            Screen::Numbers => "numbers",
            Screen::Connection => "connection",
            Screen::ActivityLog => "activity_log",
            Screen::Settings => "settings",
            Screen::Leads => "leads",
            Screen::Clients => "clients",
            Screen::Documents => "documents",
        }
    }

    pub fn from_key(key: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn access(self) -> Access {
        let view = |resource| Access::View { resource };
        match self {
            Screen::Chat => view(Resource::WhatsappChat),
            Screen::Bots => view(Resource::WhatsappBot),
            Screen::Campaigns => view(Resource::WhatsappCampaign),
            Screen::Groups => view(Resource::WhatsappGroups),
            Screen::BulkContacts => view(Resource::WhatsappContacts),
            Screen::Templates => view(Resource::WhatsappTemplate),
            Screen::QuickReplies => view(Resource::Quickreplies),
            Screen::Numbers => view(Resource::WhatsappNumbers),
            Screen::Connection | Screen::ActivityLog => Access::Admin,
            Screen::Settings => Access::Anyone,
            Screen::Leads => view(Resource::Leads),
            Screen::Clients => view(Resource::Clients),
            Screen::Documents => view(Resource::Documents),
        }
    }

    /// Whether this version of the app has built the screen's feature yet. A screen that is not
    /// built says so plainly instead of showing anything invented.
    pub fn is_built(self) -> bool {
        matches!(
            self,
            Screen::Chat
                | Screen::Bots
                | Screen::Campaigns
                | Screen::QuickReplies
                | Screen::ActivityLog
                | Screen::Settings
                | Screen::Connection
                | Screen::Numbers
                | Screen::Templates
                | Screen::Groups
                | Screen::BulkContacts
                | Screen::Leads
                | Screen::Clients
                | Screen::Documents
        )
    }

    /// Refuses unless `actor` may open this screen.
    pub fn authorize(self, actor: &Principal) -> Result<(), PermissionError> {
        match self.access() {
            Access::View { resource } => actor.require(resource, Action::View),
            Access::Admin => actor.require_admin(self.label()),
            Access::Anyone => Ok(()),
        }
    }
}

/// A screen as the navigation shows it to the signed-in staff member.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ScreenInfo {
    pub screen: Screen,
    pub label: String,
    pub access: Access,
    /// The signed-in staff member may open it.
    pub allowed: bool,
    pub built: bool,
}

pub fn info(screen: Screen, actor: &Principal) -> ScreenInfo {
    ScreenInfo {
        screen,
        label: screen.label().into(),
        access: screen.access(),
        allowed: screen.authorize(actor).is_ok(),
        built: screen.is_built(),
    }
}

/// The navigation for `actor`: every screen, each saying whether it may be opened.
pub fn navigation(actor: &Principal) -> Vec<ScreenInfo> {
    Screen::ALL.into_iter().map(|s| info(s, actor)).collect()
}

/// Opening a screen: the core's check, whatever the UI shows.
pub fn open(screen: Screen, actor: &Principal) -> Result<ScreenInfo, PermissionError> {
    screen.authorize(actor)?;
    Ok(info(screen, actor))
}
