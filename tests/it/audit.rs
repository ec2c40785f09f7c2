//! The activity log: an entry and the change it records commit or roll back together.

use crate::common;

use crmconnect::ErrorCode;
use crmconnect::audit::{self, Change, LogFilter};
use crmconnect::permissions::{Action, Permission, Resource, RoleInput};
use crmconnect::screens::Screen;
use crmconnect::staff::NewStaff;

async fn role_exists(t: &common::TestWorkspace, name: &str) -> bool {
    t.ws.cx()
        .list_roles()
        .await
        .unwrap()
        .iter()
        .any(|r| r.name == name)
}

#[tokio::test]
async fn a_change_that_fails_leaves_no_entry() {
    let t = common::workspace().await;
    let actor = t.ws.cx().actor().await.unwrap();
    let result: crmconnect::Result<()> = audit::perform(
        t.ws.db(),
        &actor,
        Change::new(Screen::Settings, "test.half_done", "something"),
        Ok(()),
        Box::new(|tx| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO roles (name, is_admin, created_at) VALUES ('half done', 0, 0)",
                )
                .execute(&mut *tx)
                .await?;
                // …and then the change fails half-way.
                Err(sqlx::Error::Protocol("forced failure".into()).into())
            })
        }),
    )
    .await;
    assert!(result.is_err());
    assert!(
        t.log_of("test.half_done").await.is_empty(),
        "no entry for a failed change"
    );
    assert!(
        !role_exists(&t, "half done").await,
        "the half-done change rolled back"
    );
}

#[tokio::test]
async fn a_real_operation_that_fails_leaves_no_entry() {
    let t = common::workspace().await;
    let roles = t.ws.cx().list_roles().await.unwrap();
    let dup = NewStaff {
        name: "Another Owner".into(),
        username: "OWNER".into(), // usernames are case-insensitive
        role_id: roles[0].id,
        passphrase: "a long enough one".into(),
    };
    assert_eq!(
        common::code(t.ws.cx().create_staff(dup).await),
        ErrorCode::Conflict
    );
    assert!(t.log_of("staff.create").await.is_empty());
}

#[tokio::test]
async fn an_entry_that_cannot_be_written_undoes_the_change() {
    let t = common::workspace().await;
    sqlx::query(
        "CREATE TRIGGER refuse_role_entries BEFORE INSERT ON activity_log WHEN NEW.action = 'role.create'
         BEGIN SELECT RAISE(ABORT, 'audit write forced to fail'); END",
    )
    .execute(t.ws.db())
    .await
    .unwrap();
    let e =
        t.ws.cx()
            .create_role(RoleInput {
                name: "Support".into(),
                permissions: vec![],
            })
            .await
            .unwrap_err();
    assert!(e.to_string().contains("audit write forced to fail"), "{e}");
    assert!(
        !role_exists(&t, "Support").await,
        "the role must not exist without its entry"
    );
}

#[tokio::test]
async fn a_successful_change_and_a_refused_attempt_are_both_recorded() {
    let t = common::workspace().await;
    t.ws.cx()
        .create_role(RoleInput {
            name: "Support".into(),
            permissions: vec![Permission::new(Resource::WhatsappChat, Action::View)],
        })
        .await
        .unwrap();
    assert_eq!(
        t.log_of("role.create").await,
        vec![("ok".into(), "role “Support”".into())]
    );

    t.staff_with("rep", vec![]).await;
    t.sign_in("rep").await;
    let e =
        t.ws.cx()
            .create_role(RoleInput {
                name: "Sneaky".into(),
                permissions: vec![],
            })
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied);
    assert!(!role_exists(&t, "Sneaky").await);
    let denied: Vec<_> = t
        .log_of("role.create")
        .await
        .into_iter()
        .filter(|(o, _)| o == "denied")
        .collect();
    assert_eq!(denied, vec![("denied".into(), "role “Sneaky”".into())]);
}

#[tokio::test]
async fn the_log_pages_newest_first_and_filters() {
    let t = common::workspace().await;
    for i in 0..25 {
        t.ws.cx()
            .create_role(RoleInput {
                name: format!("Role {i}"),
                permissions: vec![],
            })
            .await
            .unwrap();
    }
    let owner_id = t.ws.cx().actor().await.unwrap().staff_id().unwrap();
    let mut seen = vec![];
    let mut filter = LogFilter {
        staff_id: Some(owner_id),
        module: Some(Screen::Settings),
        limit: Some(10),
        ..Default::default()
    };
    loop {
        let page = t.ws.cx().activity_log(filter.clone()).await.unwrap();
        assert!(page.entries.len() <= 10);
        seen.extend(page.entries.iter().map(|e| (e.at, e.id, e.action.clone())));
        match page.next {
            Some(c) => filter.after = Some(c),
            None => break,
        }
    }
    let creates = seen.iter().filter(|(_, _, a)| a == "role.create").count();
    assert_eq!(creates, 25);
    assert!(
        seen.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)),
        "newest first, no repeats"
    );

    // A date range in the future holds nothing; an inverted one is refused.
    let future = crmconnect::now_ms() + 86_400_000;
    let empty =
        t.ws.cx()
            .activity_log(LogFilter {
                from_ms: Some(future),
                ..Default::default()
            })
            .await
            .unwrap();
    assert!(empty.entries.is_empty() && empty.next.is_none());
    let bad = LogFilter {
        from_ms: Some(future),
        to_ms: Some(future - 1),
        ..Default::default()
    };
    assert_eq!(
        common::code(t.ws.cx().activity_log(bad).await),
        ErrorCode::Invalid
    );
}

/// Who acted, as the log shows it, for each entry of `action`.
async fn who_did(t: &common::TestWorkspace, action: &str) -> Vec<(Option<i64>, String, String)> {
    t.ws.cx()
        .activity_log(LogFilter::default())
        .await
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| {
            let outcome = format!("{:?}", e.outcome).to_lowercase();
            (e.staff_id, e.staff_name, outcome)
        })
        .collect()
}

#[tokio::test]
async fn the_log_names_the_system_and_bots_as_who_acted() {
    use crmconnect::contacts::{ContactInput, GroupInput};
    use crmconnect::permissions::{Actor, SystemTask};

    let t = common::workspace().await;
    assert_eq!(
        who_did(&t, "workspace.create").await,
        vec![(None, "System · workspace set-up".into(), "ok".into())]
    );

    // A bot acts with a bot's rights, and the log says it was the bot.
    let bot = t.ws.as_actor(Actor::Bot {
        id: 7,
        name: "Welcome".into(),
    });
    bot.create_contact(ContactInput {
        phone: "+12015550123".into(),
        name: "Ana".into(),
        ..Default::default()
    })
    .await
    .expect("a bot may add a contact");
    let refused = bot
        .create_role(RoleInput {
            name: "Bots' own".into(),
            permissions: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::PermissionDenied);
    assert_eq!(
        who_did(&t, "contacts.create").await,
        vec![(None, "Bot «Welcome»".into(), "ok".into())]
    );
    assert_eq!(
        who_did(&t, "role.create").await,
        vec![(None, "Bot «Welcome»".into(), "denied".into())]
    );

    // The system acting on its own, with nobody signed in.
    t.ws.sign_out().await.unwrap();
    t.ws.as_system(SystemTask::CampaignDispatcher)
        .create_group(GroupInput {
            name: "Replied".into(),
            description: String::new(),
        })
        .await
        .expect("the system may");
    t.as_owner().await;
    assert_eq!(
        who_did(&t, "groups.create").await,
        vec![(None, "System · campaign dispatcher".into(), "ok".into())]
    );
}
