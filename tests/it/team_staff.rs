//! The team's staff and roles (issue 17): an administrator's change reaches every desktop and the
//! relay's tokens; a rep's desktop takes the role it is given; what a non-administrator publishes
//! is refused by the relay and ignored on apply; offline changes converge.

use std::sync::Arc;

use crate::common::*;
use crate::relay_support::{TestRelay, WS, denied};
use crmconnect::Workspace;
use crmconnect::contacts::ContactInput;
use crmconnect::live::{JoinTeam, RelayAccess};
use crmconnect::permissions::{Action, Permission, Resource, RoleInput};

use crmconnect::relay::http::PublishedEvent;
use crmconnect::sensitive::Sensitive;
use crmconnect::staff::StaffUpdate;
use crmconnect::sync::engine::start_configured;
use crmconnect::sync::relay_client::RelayClient;
use crmconnect::sync::team::NewTeamToken;
use crmconnect::{ErrorCode, Workspaces};
use serde_json::json;

/// The shared columns of staff and roles, as text to compare between desktops (never the
/// passphrases, which stay on each desktop).
async fn dump(ws: &Workspace) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT uid, name, is_admin FROM roles ORDER BY uid",
    )
    .fetch_all(ws.db())
    .await
    .unwrap()
    .into_iter()
    .map(|(u, n, a)| format!("role {u} {n:?} admin={a}"))
    .collect();
    out.extend(
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT r.uid, p.resource, p.action FROM role_permissions p JOIN roles r ON r.id = p.role_id ORDER BY 1, 2, 3",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, r, a)| format!("grant {u} {r}:{a}")),
    );
    out.extend(
        sqlx::query_as::<_, (String, String, String, String, i64)>(
            "SELECT s.uid, s.username, s.name, r.uid, s.active FROM staff s JOIN roles r ON r.id = s.role_id ORDER BY 1",
        )
        .fetch_all(ws.db())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n, name, r, a)| format!("staff {u} {n} {name:?} role={r} active={a}")),
    );
    out
}

fn perm(resource: Resource, action: Action) -> Permission {
    Permission::new(resource, action)
}

/// The admin (the sandbox test workspace's owner, with an admin token) gives Rick a role, issues
/// his token from Settings → Team, and Rick's new desktop joins with it.
pub(crate) struct Team {
    pub relay: TestRelay,
    pub admin: TestWorkspace,
    admin_sync: crmconnect::sync::engine::SyncHandle,
    pub rick: Arc<Workspace>,
    rick_sync: crmconnect::sync::engine::SyncHandle,
    pub rick_token: String,
    pub role_id: i64,
    _dir: tempfile::TempDir,
}

pub(crate) async fn team() -> Team {
    let relay = TestRelay::sqlite().await;
    let admin = workspace().await;
    let admin_sync = relay
        .online(&admin.ws, &relay.token_for(OWNER, true, &[]).await)
        .await;
    let member = admin
        .staff_with(
            "rick",
            vec![
                perm(Resource::WhatsappContacts, Action::View),
                perm(Resource::WhatsappContacts, Action::Create),
            ],
        )
        .await;
    admin.as_owner().await;
    let issued = admin
        .ws
        .cx()
        .issue_team_token(NewTeamToken {
            username: "rick".into(),
            label: "Rick's laptop".into(),
            expires_in_days: None,
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rick = Arc::new(
        Workspaces::new(dir.path())
            .join(JoinTeam {
                relay: RelayAccess {
                    relay_url: issued.relay_url.clone(),
                    token: Sensitive::new(issued.secret.clone()),
                },
                name: "Acme".into(),
                owner_name: "Rick".into(),
                passphrase: "rick's own passphrase".into(),
            })
            .await
            .unwrap(),
    );
    let rick_sync = start_configured(rick.clone()).await.unwrap().unwrap();
    Team {
        relay,
        admin,
        admin_sync,
        rick,
        rick_sync,
        rick_token: issued.secret,
        role_id: member.role_id,
        _dir: dir,
    }
}

impl Team {
    pub async fn converged(&self) -> Vec<String> {
        eventually("both desktops hold the same staff and roles", || async {
            let (a, b) = (dump(&self.admin.ws).await, dump(&self.rick).await);
            (self.admin.ws.outbox_len().await.unwrap() == 0 && a == b).then_some(a)
        })
        .await
    }

    pub async fn stop(self) {
        self.rick_sync.stop().await;
        self.admin_sync.stop().await;
        self.relay.stop().await;
    }
}

#[tokio::test]
async fn a_joined_desktop_takes_the_role_its_administrator_gave() {
    let t = team().await;
    let me = eventually("Rick's role on his desktop", || async {
        let me = t.rick.cx().me().await.unwrap();
        (!me.role.is_admin).then_some(me)
    })
    .await;
    assert_eq!(me.username, "rick");
    assert_eq!(me.role.name, "role of rick");
    let dump = t.converged().await;
    assert!(
        dump.iter()
            .any(|l| l.starts_with("staff user:") && l.contains(" owner ")),
        "{dump:#?}"
    );
    // The owner came from the log: nobody can sign in as them on Rick's desktop.
    let err = t
        .rick
        .sign_in(OWNER, OWNER_PASS.into())
        .await
        .expect_err("no passphrase travels");
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
    t.stop().await;
}

#[tokio::test]
async fn a_role_the_administrator_changes_takes_effect_on_the_rep_s_desktop_and_token() {
    let t = team().await;
    eventually("Rick's role on his desktop", || async {
        (!t.rick.cx().me().await.unwrap().role.is_admin).then_some(())
    })
    .await;
    t.rick
        .sign_in("rick", "rick's own passphrase".into())
        .await
        .unwrap();
    t.rick
        .cx()
        .create_contact(ContactInput {
            phone: "+12015550111".into(),
            name: "Made by Rick".into(),
            ..Default::default()
        })
        .await
        .expect("his role lets Rick create contacts");

    // The admin takes "create" away.
    t.admin
        .ws
        .cx()
        .update_role(
            t.role_id,
            RoleInput {
                name: "role of rick".into(),
                permissions: vec![perm(Resource::WhatsappContacts, Action::View)],
            },
        )
        .await
        .unwrap();
    eventually("the narrower role on Rick's desktop", || async {
        let me = t.rick.cx().me().await.unwrap();
        (me.role.permissions == vec![perm(Resource::WhatsappContacts, Action::View)]).then_some(())
    })
    .await;
    let err = t
        .rick
        .cx()
        .create_contact(ContactInput {
            phone: "+12015550112".into(),
            name: "Not any more".into(),
            ..Default::default()
        })
        .await
        .expect_err("the desktop refuses");
    assert_eq!(err.code(), ErrorCode::PermissionDenied, "{err}");
    // The relay too: his token now carries the role's permissions.
    let tampered =
        RelayClient::new(&t.relay.handle.url(), Sensitive::new(t.rick_token.clone())).unwrap();
    let results = tampered
        .publish(vec![PublishedEvent {
            id: "rick-tampered-1".into(),
            kind: "contact.created".into(),
            payload: json!({"uid": "0193ab4c00000000000000000000beef", "phone": "+12015550113",
                "name": "Tampered", "company": "", "address": "", "city": "", "state": "",
                "country": "", "description": "", "groups": []}),
        }])
        .await
        .unwrap();
    let refused = results[0].refused.clone().expect("the relay refuses it");
    assert!(refused.contains("whatsapp_contacts:create"), "{refused}");
    t.converged().await;
    t.stop().await;
}

#[tokio::test]
async fn a_team_change_from_a_non_administrator_is_refused_and_ignored() {
    let t = team().await;
    let before = t.converged().await;
    // Rick's token may not publish one.
    let rick =
        RelayClient::new(&t.relay.handle.url(), Sensitive::new(t.rick_token.clone())).unwrap();
    let promote = json!({"uid": "user:7269636b", "username": "rick", "name": "Rick",
        "role": "administrator", "active": true, "access": {"is_admin": true, "permissions": []}});
    let results = rick
        .publish(vec![PublishedEvent {
            id: "promote-1".into(),
            kind: "staff.changed".into(),
            payload: promote.clone(),
        }])
        .await
        .unwrap();
    let refused = results[0].refused.clone().expect("refused by the relay");
    assert!(refused.contains("administrator"), "{refused}");
    // Had it got into the log (a relay's check bypassed), every desktop ignores it.
    t.relay
        .forge("rick", "forged", "staff.changed", &promote)
        .await;
    for ws in [&t.admin.ws, &t.rick] {
        eventually("the forged change noted as ignored", || async {
            (denied(ws, "staff.changed").await == 1).then_some(())
        })
        .await;
    }
    assert_eq!(t.converged().await, before, "nothing changed");
    assert!(!t.rick.cx().me().await.unwrap().role.is_admin);
    t.stop().await;
}

#[tokio::test]
async fn deactivating_a_member_revokes_their_tokens() {
    let t = team().await;
    t.converged().await;
    let rick_id = t
        .admin
        .ws
        .cx()
        .list_staff()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "rick")
        .unwrap()
        .id;
    t.admin
        .ws
        .cx()
        .update_staff(
            rick_id,
            StaffUpdate {
                name: "Staff rick".into(),
                username: "rick".into(),
                role_id: t.role_id,
                active: false,
            },
        )
        .await
        .unwrap();
    eventually("Rick's token revoked on the relay", || async {
        let tokens = t.relay.store.list_tokens(Some(WS)).await.unwrap();
        tokens
            .iter()
            .filter(|x| x.staff == "rick")
            .all(|x| x.revoked_at.is_some())
            .then_some(())
    })
    .await;
    // His desktop is cut off at its next poll (the lockout of issue 17), and his account there
    // is deactivated by the log.
    eventually("Rick's desktop locked out", || async {
        match t.rick.sign_in("rick", "rick's own passphrase".into()).await {
            Err(e) if e.code() == ErrorCode::PermissionDenied => Some(()),
            _ => None,
        }
    })
    .await;
    t.stop().await;
}

/// Two administrators offline each make a role of the same name and edit the same member: once
/// both are back, every desktop holds the same staff and roles, the later role named apart.
#[tokio::test]
async fn offline_team_changes_converge() {
    let relay = TestRelay::sqlite().await;
    let a = workspace().await;
    let b = workspace().await;
    let a_token = relay.token_for(OWNER, true, &[]).await;
    let b_token = relay.token_for("second", true, &[]).await;
    let sync_a = relay.online(&a.ws, &a_token).await;
    // B is an administrator the log names: A shares the team with "second" in it.
    a.ws.cx()
        .create_staff(crmconnect::staff::NewStaff {
            name: "Second Admin".into(),
            username: "second".into(),
            role_id: a.ws.cx().list_roles().await.unwrap()[0].id,
            passphrase: "second's passphrase".into(),
        })
        .await
        .unwrap();
    a.ws.cx()
        .issue_team_token(NewTeamToken {
            username: "second".into(),
            label: "B".into(),
            expires_in_days: None,
        })
        .await
        .unwrap();
    eventually("A's team published", || async {
        (a.ws.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    let sync_b = relay.online(&b.ws, &b_token).await;
    eventually("B knows the second admin", || async {
        dump(&b.ws)
            .await
            .iter()
            .any(|l| l.contains(" second "))
            .then_some(())
    })
    .await;
    sync_a.stop().await;
    sync_b.stop().await;

    // Offline: both make "Support", with different grants.
    for (ws, action) in [(&a.ws, Action::View), (&b.ws, Action::Send)] {
        ws.cx()
            .create_role(RoleInput {
                name: "Support".into(),
                permissions: vec![perm(Resource::WhatsappChat, action)],
            })
            .await
            .unwrap();
    }
    let sync_a = relay.online(&a.ws, &a_token).await;
    eventually("A's role published", || async {
        (a.ws.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    let sync_b = relay.online(&b.ws, &b_token).await;
    let same = eventually("the same staff and roles on both", || async {
        let (x, y) = (dump(&a.ws).await, dump(&b.ws).await);
        (b.ws.outbox_len().await.unwrap() == 0 && x == y).then_some(x)
    })
    .await;
    let supports: Vec<&String> = same.iter().filter(|l| l.contains("\"Support")).collect();
    assert_eq!(supports.len(), 2, "{same:#?}");
    assert!(
        supports.iter().any(|l| l.contains("\"Support\"")),
        "one keeps the name: {supports:?}"
    );
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
}

/// Contacts too: a deletion by Rick, whose role may create contacts but not delete them, got
/// into the log past the relay's check: every desktop ignores it and says so.
#[tokio::test]
async fn a_contact_change_the_author_s_role_does_not_allow_is_ignored_on_apply() {
    let t = team().await;
    let ana = t
        .admin
        .ws
        .cx()
        .create_contact(ContactInput {
            phone: "+12015550121".into(),
            name: "Ana".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let uid: String = sqlx::query_scalar("SELECT uid FROM contact_uids WHERE id = ?")
        .bind(ana.id)
        .fetch_one(t.admin.ws.db())
        .await
        .unwrap();
    t.converged().await;
    t.relay
        .forge(
            "rick",
            "forged-delete",
            "contact.deleted",
            &json!({ "uids": [uid] }),
        )
        .await;
    for ws in [&t.admin.ws, &t.rick] {
        eventually("the forged deletion noted as ignored", || async {
            (denied(ws, "contact.deleted").await == 1).then_some(())
        })
        .await;
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM contacts WHERE phone = '+12015550121'")
                .fetch_one(ws.db())
                .await
                .unwrap();
        assert_eq!(left, 1, "Ana is still there");
    }
    t.stop().await;
}
