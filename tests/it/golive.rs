//! Going live (issue 17): a new workspace against a second, separately started sandbox playing
//! Meta (its own address, app secret and token) and a separately started relay that knows
//! nothing of the workspace until its admin's desktop tells it. The sandbox workspace beside it
//! keeps its own data.

use std::sync::Arc;

use crate::common::eventually_within;
use crate::common::*;
use crate::relay_support::TestRelay;
use crmconnect::contacts::{ContactFilter, ContactInput};
use crmconnect::live::{GoLive, MetaAccess, RelayAccess};
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::{CustomerMessage, Sandbox, SandboxConfig, WABA_ID};
use crmconnect::sensitive::Sensitive;
use crmconnect::workspace::WorkspaceKind;
use crmconnect::{ErrorCode, Workspaces};

const TEAM: &str = "northwind";
const META_SECRET: &str = "second-sandbox-app-secret-0123456789";
const META_TOKEN: &str = "second-sandbox-access-token";

/// Team workspace "acme" (the test relay's) in `dir`, its owner `username` signed in.
async fn live_workspace(
    dir: &std::path::Path,
    username: &str,
    name: &str,
) -> Arc<crmconnect::Workspace> {
    let ws = Arc::new(
        Workspaces::new(dir)
            .create(crate::relay_support::WS, "Acme", WorkspaceKind::Live)
            .await
            .unwrap(),
    );
    ws.create_owner(crmconnect::staff::NewStaff {
        name: name.into(),
        username: username.into(),
        role_id: 0,
        passphrase: OWNER_PASS.into(),
    })
    .await
    .unwrap();
    ws.sign_in(username, OWNER_PASS.into()).await.unwrap();
    ws
}

async fn token(relay: &TestRelay, staff: &str, admin: bool) -> Sensitive<String> {
    let (_, t) = tokens::issue(
        &relay.store,
        TokenSpec {
            workspace: TEAM.into(),
            staff: staff.into(),
            is_admin: admin,
            permissions: if admin {
                vec![]
            } else {
                vec!["whatsapp_chat:view".parse().unwrap()]
            },
            label: "go-live test".into(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    Sensitive::new(t)
}

#[tokio::test]
async fn a_new_workspace_goes_live_and_a_customer_s_message_reaches_its_chat() {
    // Meta, played by a sandbox of its own: no webhook target, a secret and token of its own.
    let meta = Sandbox::start(SandboxConfig {
        app_secret: Sensitive::new(META_SECRET.into()),
        access_token: Sensitive::new(META_TOKEN.into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let relay = TestRelay::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let workspaces = Workspaces::new(dir.path());

    // The sandbox workspace, with a contact of its own.
    {
        let sandbox = workspaces.open_or_create_sandbox(None).await.unwrap();
        sandbox
            .create_owner(crmconnect::staff::NewStaff {
                name: "Olivia Owner".into(),
                username: OWNER.into(),
                role_id: 0,
                passphrase: OWNER_PASS.into(),
            })
            .await
            .unwrap();
        sandbox.sign_in(OWNER, OWNER_PASS.into()).await.unwrap();
        sandbox
            .cx()
            .create_contact(ContactInput {
                phone: "+12015550177".into(),
                name: "Sandbox Sam".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        sandbox.close().await;
    }

    let sales = meta.phone_numbers()[0].id.clone();
    let good_meta = MetaAccess {
        phone_number_id: sales.clone(),
        waba_id: WABA_ID.into(),
        access_token: Sensitive::new(META_TOKEN.into()),
        graph_base_url: Some(meta.base_url().to_owned()),
    };

    // Step 1: a wrong token is named as the problem; the right one shows the number.
    let bad = workspaces
        .check_meta(&MetaAccess {
            access_token: Sensitive::new("not-the-token".into()),
            ..good_meta.clone()
        })
        .await
        .unwrap();
    assert!(!bad.ok);
    assert!(
        bad.checks.iter().any(|c| c.what == "Access token" && !c.ok),
        "{bad:?}"
    );
    let ok = workspaces.check_meta(&good_meta).await.unwrap();
    assert!(ok.ok, "{ok:?}");

    // Step 2: a rep's token cannot take a workspace live; the admin's can.
    let admin = RelayAccess {
        relay_url: relay.handle.url(),
        token: token(&relay, "olivia", true).await,
    };
    let rep = workspaces
        .check_relay(&RelayAccess {
            relay_url: relay.handle.url(),
            token: token(&relay, "rick", false).await,
        })
        .await
        .unwrap();
    assert!(!rep.ok);
    assert!(
        rep.checks
            .iter()
            .any(|c| !c.ok && c.message.contains("not an administrator")),
        "{rep:?}"
    );
    let checked = workspaces.check_relay(&admin).await.unwrap();
    assert!(checked.ok, "{checked:?}");
    assert_eq!(
        (checked.workspace.as_str(), checked.staff.as_str()),
        (TEAM, "olivia")
    );
    assert!(!checked.webhooks_configured);

    // Step 3: bad credentials create nothing; good ones create the workspace, signed in.
    let input = GoLive {
        name: "Northwind Sales".into(),
        meta: good_meta.clone(),
        relay: admin.clone(),
        owner_name: "Olivia Admin".into(),
        passphrase: "olivia's local passphrase".into(),
    };
    let refused = workspaces
        .create_live(GoLive {
            meta: MetaAccess {
                waba_id: "12345".into(),
                ..good_meta.clone()
            },
            ..input.clone()
        })
        .await;
    assert_eq!(code(refused.map(drop)), ErrorCode::Invalid);
    assert!(!dir.path().join("workspaces").join(TEAM).exists());
    let live = Arc::new(workspaces.create_live(input.clone()).await.unwrap());
    assert_eq!(live.info().kind, WorkspaceKind::Live);
    assert_eq!(live.cx().me().await.unwrap().username, "olivia");
    let again = workspaces.create_live(input).await;
    assert_eq!(code(again.map(drop)), ErrorCode::Conflict);
    let listed = workspaces.list().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|w| (w.slug.as_str(), w.kind))
            .collect::<Vec<_>>(),
        vec![
            ("sandbox", WorkspaceKind::Sandbox),
            (TEAM, WorkspaceKind::Live)
        ]
    );

    // Step 4: a short secret is refused by the relay and nothing is subscribed; the real one
    // makes the relay check the webhooks and Meta send them there.
    let short = live
        .cx()
        .connect_webhooks(Sensitive::new("short".into()))
        .await
        .unwrap();
    assert!(!short.ok);
    assert!(
        short.checks[0]
            .message
            .contains("app_secret has 5 characters"),
        "{short:?}"
    );
    assert!(short.verify_token.is_empty());
    assert!(meta.webhook_target().is_none());
    let report = live
        .cx()
        .connect_webhooks(Sensitive::new(META_SECRET.into()))
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        report.callback_url,
        format!("{}/webhook/{TEAM}", relay.handle.url())
    );
    assert!(report.verify_token.len() >= 32);
    assert!(
        workspaces
            .check_relay(&admin)
            .await
            .unwrap()
            .webhooks_configured
    );

    // The customer writes; Meta's webhook goes through the relay to the live workspace's chat.
    let runtime = Runtime::start(live.clone(), RuntimeOptions::default())
        .await
        .unwrap();
    meta.customer_sends(
        "15555550111",
        CustomerMessage::text("Is the live line open?"),
    )
    .unwrap();
    let conversation = eventually("the customer's message in the live chat", || async {
        first_conversation(&live)
            .await
            .filter(|c| c.last_preview.contains("live line"))
    })
    .await;
    assert_eq!(conversation.phone_number_id, sales);
    // Nothing of the sandbox workspace is here…
    let contacts = live.cx().contacts(ContactFilter::default()).await.unwrap();
    assert_eq!(contacts.total, 0);
    runtime.shutdown().await;
    live.close().await;

    // …and the sandbox workspace still has its own, and no conversation of the live one.
    let sandbox = workspaces.open("sandbox").await.unwrap();
    sandbox.sign_in(OWNER, OWNER_PASS.into()).await.unwrap();
    let contacts = sandbox
        .cx()
        .contacts(ContactFilter::default())
        .await
        .unwrap();
    assert_eq!(contacts.contacts.len(), 1);
    assert_eq!(contacts.contacts[0].name, "Sandbox Sam");
    assert!(first_conversation(&sandbox).await.is_none());
    relay.stop().await;
    meta.shutdown().await;
}

/// Settings → Team: an administrator issues a staff member's token from the app, with their
/// role's permissions; the relay holds them to it; revoking it cuts the token off at once.
#[tokio::test]
async fn an_admin_issues_and_revokes_team_tokens_from_the_app() {
    use crate::relay_support::WS;
    use crmconnect::permissions::{Action, Permission, Resource};
    use crmconnect::sync::relay_client::{RelayClient, RelayClientError};
    use crmconnect::sync::team::NewTeamToken;

    let relay = TestRelay::sqlite().await;
    let admin = workspace().await;
    let admin_token = relay.token_for("owner", true, &[]).await;
    admin
        .ws
        .cx()
        .set_relay(&relay.handle.url(), Some(Sensitive::new(admin_token)))
        .await
        .unwrap();
    admin
        .staff_with(
            "rick",
            vec![Permission::new(Resource::WhatsappChat, Action::View)],
        )
        .await;
    admin.as_owner().await;

    let unknown = admin
        .ws
        .cx()
        .issue_team_token(NewTeamToken {
            username: "nobody".into(),
            label: String::new(),
            expires_in_days: None,
        })
        .await;
    assert_eq!(code(unknown.map(drop)), ErrorCode::NotFound);
    let issued = admin
        .ws
        .cx()
        .issue_team_token(NewTeamToken {
            username: "rick".into(),
            label: "Rick's laptop".into(),
            expires_in_days: Some(90),
        })
        .await
        .unwrap();
    assert_eq!(issued.relay_url, relay.handle.url());
    assert!(!issued.token.is_admin);
    assert_eq!(
        issued.token.permissions,
        vec!["whatsapp_chat:view".to_owned()]
    );
    assert!(issued.token.expires_at.is_some());

    // The token works as Rick, with Rick's permissions only.
    let rick =
        RelayClient::new(&relay.handle.url(), Sensitive::new(issued.secret.clone())).unwrap();
    let who = rick.whoami().await.unwrap();
    assert_eq!((who.workspace.as_str(), who.staff.as_str()), (WS, "rick"));
    assert_eq!(who.permissions, Some(vec!["whatsapp_chat:view".to_owned()]));
    let listed = admin.ws.cx().team_tokens().await.unwrap();
    assert!(
        listed
            .iter()
            .any(|t| t.id == issued.token.id && t.label == "Rick's laptop")
    );
    // Rick's own token cannot list or issue tokens: it is not an administrator's.
    assert!(matches!(
        rick.tokens().await,
        Err(RelayClientError::Forbidden(_))
    ));

    // A rep signed in at the admin's desktop may not either.
    admin.sign_in("rick").await;
    assert_eq!(
        code(admin.ws.cx().team_tokens().await.map(drop)),
        ErrorCode::PermissionDenied
    );
    admin.as_owner().await;

    admin
        .ws
        .cx()
        .revoke_team_token(&issued.token.id)
        .await
        .unwrap();
    assert!(matches!(
        rick.whoami().await,
        Err(RelayClientError::Unauthorized(_))
    ));
    let again = admin.ws.cx().revoke_team_token(&issued.token.id).await;
    assert!(again.is_err(), "a revoked token is not revoked twice");
    assert_eq!(admin.log_of("team.token_issued").await.len(), 1);
    assert_eq!(admin.log_of("team.token_revoked").await.len(), 1);
    relay.stop().await;
}

/// A revoked token locks a team desktop out: the session ends, nobody signs in, what it queues
/// is refused by the relay; a new token of the same workspace, entered at the lock, lets it back
/// in and sync resumes.
#[tokio::test]
async fn a_revoked_token_locks_the_desktop_out_until_a_new_one_is_entered() {
    use crate::relay_support::WS;
    use crmconnect::sync::engine::{SyncState, start_configured};

    let relay = TestRelay::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = live_workspace(dir.path(), "rick", "Rick Rep").await;
    let (record, token) = tokens::issue(
        &relay.store,
        TokenSpec {
            workspace: WS.into(),
            staff: "rick".into(),
            is_admin: true,
            permissions: vec![],
            label: "Rick's laptop".into(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    ws.cx()
        .set_relay(&relay.handle.url(), Some(Sensitive::new(token)))
        .await
        .unwrap();
    let sync = start_configured(ws.clone()).await.unwrap().unwrap();
    eventually("sync is live", || async {
        (sync.status().state == SyncState::Live).then_some(())
    })
    .await;

    // The administrator revokes the laptop's token: within the poll interval it is locked out.
    relay.store.revoke_token(&record.id).await.unwrap();
    let lock = eventually_within(
        std::time::Duration::from_secs(20),
        "the desktop locked out",
        || async { ws.team_lockout().await.unwrap() },
    )
    .await;
    assert!(lock.reason.contains("revoked"), "{lock:?}");
    assert_eq!(code(ws.cx().me().await.map(drop)), ErrorCode::NotSignedIn);
    let refused = ws.sign_in("rick", OWNER_PASS.into()).await;
    assert_eq!(code(refused.map(drop)), ErrorCode::PermissionDenied);
    sync.stop().await;

    // A token of another workspace does not open it; a new one of this workspace does.
    let (_, other) = tokens::issue(
        &relay.store,
        TokenSpec {
            workspace: "elsewhere".into(),
            staff: "rick".into(),
            is_admin: true,
            permissions: vec![],
            label: String::new(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        code(ws.rejoin_team(Sensitive::new(other)).await),
        ErrorCode::Invalid
    );
    assert!(ws.team_lockout().await.unwrap().is_some());
    let fresh = relay.token_for("rick", true, &[]).await;
    ws.rejoin_team(Sensitive::new(fresh)).await.unwrap();
    assert!(ws.team_lockout().await.unwrap().is_none());
    ws.sign_in("rick", OWNER_PASS.into()).await.unwrap();
    let sync = start_configured(ws.clone()).await.unwrap().unwrap();
    eventually("sync is live again", || async {
        (sync.status().state == SyncState::Live).then_some(())
    })
    .await;
    sync.stop().await;
    relay.stop().await;
}

/// A staff member joins the team's workspace on a new desktop with the token the administrator
/// issued in Settings → Team: the workspace is created, its sync catches up with the team's log,
/// and what the team made is there.
#[tokio::test]
async fn a_new_desktop_joins_the_team_and_catches_up() {
    use crate::relay_support::WS;
    use crmconnect::live::JoinTeam;
    use crmconnect::permissions::{Action, Permission, Resource};
    use crmconnect::sync::engine::start_configured;
    use crmconnect::sync::team::NewTeamToken;

    let relay = TestRelay::sqlite().await;
    let admin = workspace().await;
    let admin_sync = relay
        .online(&admin.ws, &relay.token_for("owner", true, &[]).await)
        .await;
    admin
        .staff_with(
            "rick",
            vec![Permission::new(Resource::WhatsappContacts, Action::View)],
        )
        .await;
    admin.as_owner().await;
    for (phone, name) in [("+12015550101", "Ana"), ("+12015550102", "Ben")] {
        admin
            .ws
            .cx()
            .create_contact(ContactInput {
                phone: phone.into(),
                name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let issued = admin
        .ws
        .cx()
        .issue_team_token(NewTeamToken {
            username: "rick".into(),
            label: "Rick's new laptop".into(),
            expires_in_days: None,
        })
        .await
        .unwrap();
    eventually("the admin's contacts published", || async {
        (admin.ws.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let workspaces = Workspaces::new(dir.path());
    let access = RelayAccess {
        relay_url: issued.relay_url.clone(),
        token: Sensitive::new(issued.secret.clone()),
    };
    let bad = workspaces
        .check_join(&RelayAccess {
            token: Sensitive::new("crr_not-a-token".into()),
            ..access.clone()
        })
        .await
        .unwrap();
    assert!(!bad.ok);
    let report = workspaces.check_join(&access).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (report.workspace.as_str(), report.staff.as_str()),
        (WS, "rick")
    );
    let joined = Arc::new(
        workspaces
            .join(JoinTeam {
                relay: access,
                name: "Acme".into(),
                owner_name: "Rick Rep".into(),
                passphrase: "rick's own passphrase".into(),
            })
            .await
            .unwrap(),
    );
    assert_eq!(joined.info().kind, WorkspaceKind::Live);
    assert_eq!(joined.cx().me().await.unwrap().username, "rick");
    let sync = start_configured(joined.clone()).await.unwrap().unwrap();
    let names = eventually("the team's contacts on the new desktop", || async {
        let page = joined
            .cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap();
        (page.total == 2).then(|| {
            let mut n: Vec<String> = page.contacts.into_iter().map(|c| c.name).collect();
            n.sort();
            n
        })
    })
    .await;
    assert_eq!(names, vec!["Ana".to_owned(), "Ben".to_owned()]);
    sync.stop().await;
    admin_sync.stop().await;
    relay.stop().await;
}

/// The connection's ids are the team's: an administrator's save reaches the other desktops,
/// never the access token; a desktop with its own token keeps its Graph address; a rep's token
/// cannot publish a connection change.
#[tokio::test]
async fn the_connection_s_ids_reach_the_team_but_never_the_token() {
    use crmconnect::connection::ConnectionInput;
    use crmconnect::relay::http::PublishedEvent;
    use crmconnect::sync::engine::start_configured;
    use crmconnect::sync::relay_client::RelayClient;

    let relay = TestRelay::sqlite().await;
    let mut desktops = Vec::new();
    for (who, dir) in [
        ("olivia", tempfile::tempdir().unwrap()),
        ("rick", tempfile::tempdir().unwrap()),
    ] {
        let ws = live_workspace(dir.path(), who, who).await;
        let token = relay.token_for(who, true, &[]).await;
        ws.cx()
            .set_relay(&relay.handle.url(), Some(Sensitive::new(token)))
            .await
            .unwrap();
        let sync = start_configured(ws.clone()).await.unwrap().unwrap();
        desktops.push((ws, sync, dir));
    }
    let (a, b) = (&desktops[0].0, &desktops[1].0);
    a.cx()
        .save_connection(ConnectionInput {
            phone_number_id: "106540352242922".into(),
            waba_id: "102290129340398".into(),
            graph_base_url: None,
            graph_version: None,
            access_token: Some(Sensitive::new("EAAG-olivias-token".into())),
        })
        .await
        .unwrap();
    let seen = eventually("the ids on rick's desktop", || async {
        let v = b.cx().connection().await.unwrap();
        (v.phone_number_id == "106540352242922").then_some(v)
    })
    .await;
    assert_eq!(seen.waba_id, "102290129340398");
    assert!(!seen.access_token_set, "the token never travels");

    // Rick types his own token for a test server; Olivia then moves to another account:
    // Rick takes the ids and keeps the address his token was given for.
    b.cx()
        .save_connection(ConnectionInput {
            phone_number_id: "106540352242922".into(),
            waba_id: "102290129340398".into(),
            graph_base_url: Some("http://127.0.0.1:9".into()),
            graph_version: None,
            access_token: Some(Sensitive::new("ricks-token".into())),
        })
        .await
        .unwrap();
    a.cx()
        .save_connection(ConnectionInput {
            phone_number_id: "106540352242999".into(),
            waba_id: "102290129340398".into(),
            graph_base_url: None,
            graph_version: None,
            access_token: None,
        })
        .await
        .unwrap();
    let seen = eventually("the new id on rick's desktop", || async {
        let v = b.cx().connection().await.unwrap();
        (v.phone_number_id == "106540352242999").then_some(v)
    })
    .await;
    assert_eq!(seen.graph_base_url, "http://127.0.0.1:9");
    assert!(seen.access_token_set);

    // A rep's token may not publish one.
    let rep = RelayClient::new(
        &relay.handle.url(),
        Sensitive::new(relay.token_for("rep", false, &["whatsapp_chat:view"]).await),
    )
    .unwrap();
    let results = rep
        .publish(vec![PublishedEvent {
            id: "tampered-1".into(),
            kind: "connection.changed".into(),
            payload: serde_json::json!({"phone_number_id": "1", "waba_id": "2",
                "graph_base_url": "https://evil.example", "graph_version": "v23.0"}),
        }])
        .await
        .unwrap();
    assert!(results[0].refused.is_some(), "{:?}", results[0]);
    for (_, sync, _) in desktops {
        sync.stop().await;
    }
    relay.stop().await;
}
