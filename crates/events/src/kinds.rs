//! The kinds of event a desktop publishes, and the permission each needs. The core checks the
//! same permission before it makes the change on the desktop; the relay checks it again when the
//! event is published, so a tampered desktop cannot do what its role forbids.

use crmconnect_access::permissions::{Action, Permission, Resource};

/// What publishing an event of a kind requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    Permission(Permission),
    /// Connection, staff and roles: administrators only, as in the core.
    Admin,
}

impl std::fmt::Display for Required {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Required::Permission(p) => write!(f, "{}:{}", p.resource.key(), p.action.key()),
            Required::Admin => f.write_str("administrator"),
        }
    }
}

const fn p(resource: Resource, action: Action) -> Required {
    Required::Permission(Permission::new(resource, action))
}

use Action::*;
use Resource::*;

/// Every desktop event kind. A kind not in this table is refused by the relay.
pub const DESKTOP_KINDS: &[(&str, Required)] = &[
    // Chat
    ("message.sent", p(WhatsappChat, Send)),
    ("message.reacted", p(WhatsappChat, Send)),
    ("conversation.read", p(WhatsappChat, View)),
    ("conversation.assigned", p(WhatsappChat, Send)),
    ("lead.status_changed", p(WhatsappChat, Send)),
    // Bulk Contacts and Groups
    ("contact.created", p(WhatsappContacts, Create)),
    ("contact.updated", p(WhatsappContacts, Edit)),
    ("contact.deleted", p(WhatsappContacts, Delete)),
    ("contacts.imported", p(WhatsappContacts, Import)),
    ("group.created", p(WhatsappGroups, Create)),
    ("group.updated", p(WhatsappGroups, Edit)),
    ("group.deleted", p(WhatsappGroups, Delete)),
    // The CRM's leads, clients and documents
    ("lead.created", p(Leads, Create)),
    ("lead.updated", p(Leads, Edit)),
    ("lead.deleted", p(Leads, Delete)),
    ("leads.imported", p(Leads, Import)),
    ("client.created", p(Clients, Create)),
    ("client.updated", p(Clients, Edit)),
    ("client.deleted", p(Clients, Delete)),
    ("document.created", p(Documents, Create)),
    ("document.updated", p(Documents, Edit)),
    ("document.deleted", p(Documents, Delete)),
    // Templates
    ("template.created", p(WhatsappTemplate, Create)),
    ("template.updated", p(WhatsappTemplate, Edit)),
    ("template.deleted", p(WhatsappTemplate, Delete)),
    ("template.loaded", p(WhatsappTemplate, LoadTemplate)),
    // Campaigns, bots, quick replies
    ("campaign.created", p(WhatsappCampaign, Create)),
    ("campaign.updated", p(WhatsappCampaign, Edit)),
    ("campaign.deleted", p(WhatsappCampaign, Delete)),
    ("bot.created", p(WhatsappBot, Create)),
    ("bot.updated", p(WhatsappBot, Edit)),
    ("bot.deleted", p(WhatsappBot, Delete)),
    ("quick_reply.created", p(Quickreplies, Create)),
    ("quick_reply.updated", p(Quickreplies, Edit)),
    ("quick_reply.deleted", p(Quickreplies, Delete)),
    // Administration
    ("connection.changed", Required::Admin),
    ("staff.changed", Required::Admin),
    ("role.changed", Required::Admin),
];

/// What a kind requires, or `None` for a kind nobody may publish.
pub fn required(kind: &str) -> Option<Required> {
    DESKTOP_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_needs_a_permission_the_spec_defines_and_kinds_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (kind, req) in DESKTOP_KINDS {
            assert!(seen.insert(kind), "{kind} twice");
            if let Required::Permission(p) = req {
                assert!(
                    p.is_defined(),
                    "{kind} needs {p}, which the spec does not define"
                );
            }
        }
        assert_eq!(
            required("message.sent"),
            Some(p(WhatsappChat, Send)),
            "sending needs whatsapp_chat send"
        );
        assert_eq!(required("staff.changed"), Some(Required::Admin));
        assert_eq!(required("anything.else"), None);
    }
}
