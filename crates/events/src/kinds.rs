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
    ("contacts.grouped", p(WhatsappContacts, Edit)),
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
    // Numbers: what Meta said of the account's numbers, fetched by a desktop that keeps a token
    ("numbers.refreshed", p(WhatsappNumbers, View)),
    // Campaigns, bots, quick replies
    ("campaign.created", p(WhatsappCampaign, Create)),
    ("campaign.updated", p(WhatsappCampaign, Edit)),
    ("campaign.deleted", p(WhatsappCampaign, Delete)),
    // A campaign's frozen audience, in parts, when it is planned.
    ("campaign.recipients", p(WhatsappCampaign, Edit)),
    // What the dispatcher did with recipients (taken, accepted, refused by Meta), in batches.
    ("campaign.progress", p(WhatsappCampaign, Edit)),
    ("bot.created", p(WhatsappBot, Create)),
    ("bot.updated", p(WhatsappBot, Edit)),
    ("bot.deleted", p(WhatsappBot, Delete)),
    ("quick_reply.created", p(Quickreplies, Create)),
    ("quick_reply.updated", p(Quickreplies, Edit)),
    ("quick_reply.deleted", p(Quickreplies, Delete)),
    // Administration
    ("connection.changed", Required::Admin),
    ("action_template.set", Required::Admin),
    ("settings.business_hours", Required::Admin),
    ("staff.changed", Required::Admin),
    ("role.changed", Required::Admin),
];

/// What reading an event requires: a stream sends a token only the events it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Every desktop of the workspace must apply it (staff, roles, the connection's ids, the
    /// account's state): their effect decides what everyone may do or sees in the top bar.
    Anyone,
    Permission(Permission),
    /// Either permission: quick replies are read by those who manage them and by those who chat.
    Either(Permission, Permission),
    Admin,
}

impl std::fmt::Display for Read {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Read::Anyone => f.write_str("anyone"),
            Read::Permission(p) => write!(f, "{}:{}", p.resource.key(), p.action.key()),
            Read::Either(a, b) => write!(
                f,
                "{}:{} or {}:{}",
                a.resource.key(),
                a.action.key(),
                b.resource.key(),
                b.action.key()
            ),
            Read::Admin => f.write_str("administrator"),
        }
    }
}

/// What one token may read: the relay leaves out of its stream what it may not, and a desktop
/// applies only what it may, should a relay send more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub is_admin: bool,
    pub permissions: Vec<Permission>,
}

impl Reader {
    pub fn may_read(&self, r: Read) -> bool {
        match r {
            Read::Anyone => true,
            Read::Admin => self.is_admin,
            Read::Permission(p) => self.is_admin || self.permissions.contains(&p),
            Read::Either(a, b) => {
                self.is_admin || self.permissions.contains(&a) || self.permissions.contains(&b)
            }
        }
    }

    pub fn may_read_kind(&self, kind: &str) -> bool {
        self.may_read(read_required(kind))
    }
}

const fn view(resource: Resource) -> Read {
    Read::Permission(Permission::new(resource, View))
}

/// What reading an event of `kind` requires. Desktop kinds need their module's view permission
/// (administration kinds reach everyone); Meta's need the screen's that shows them. A kind in
/// neither table (Meta's `unknown`, or one added later) needs chat's, the screen that shows what
/// the relay could not name: a customer's words are never sent to a token that may not read
/// the chat.
pub fn read_required(kind: &str) -> Read {
    const META: &[(&str, Read)] = &[
        ("message", view(WhatsappChat)),
        ("status", view(WhatsappChat)),
        ("error", view(WhatsappChat)),
        ("message_echo", view(WhatsappChat)),
        ("user_preferences", view(WhatsappChat)),
        ("calls", view(WhatsappChat)),
        ("flows", view(WhatsappChat)),
        ("history", view(WhatsappChat)),
        ("standby", view(WhatsappChat)),
        ("handover", view(WhatsappChat)),
        ("template_status", view(WhatsappTemplate)),
        ("template_quality", view(WhatsappTemplate)),
        ("template_category", view(WhatsappTemplate)),
        ("template_components", view(WhatsappTemplate)),
        ("phone_quality", view(WhatsappNumbers)),
        ("phone_name", view(WhatsappNumbers)),
        ("business_capability", view(WhatsappNumbers)),
        ("account_update", Read::Anyone),
        ("account_alert", Read::Anyone),
        ("account_review", Read::Anyone),
        ("security", Read::Admin),
    ];
    if let Some((_, r)) = META.iter().find(|(k, _)| *k == kind) {
        return *r;
    }
    if kind.starts_with("quick_reply.") {
        // A rep who may chat inserts quick replies without managing them (the core's rule).
        return Read::Either(
            Permission::new(Quickreplies, View),
            Permission::new(WhatsappChat, Send),
        );
    }
    match required(kind) {
        Some(Required::Admin) => Read::Anyone,
        Some(Required::Permission(p)) => {
            // Chat's own events are read with the chat, whatever publishing them needs.
            Read::Permission(Permission::new(p.resource, View))
        }
        None => view(WhatsappChat),
    }
}

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

    #[test]
    fn every_kind_needs_a_view_permission_to_be_read() {
        for (kind, _) in DESKTOP_KINDS {
            if let Read::Permission(p) = read_required(kind) {
                assert!(p.is_defined(), "{kind} is read with {p}, not defined");
                assert_eq!(p.action, View, "{kind}");
            }
        }
        assert_eq!(read_required("message"), view(WhatsappChat));
        assert_eq!(read_required("lead.updated"), view(Leads));
        assert_eq!(read_required("lead.status_changed"), view(WhatsappChat));
        assert_eq!(read_required("role.changed"), Read::Anyone);
        assert_eq!(read_required("template_status"), view(WhatsappTemplate));
        assert_eq!(read_required("something_new"), view(WhatsappChat));
    }
}
