//! The permission matrix: every resource and action of the spec, refused without it and allowed
//! with it, checked by the core against roles stored in a real workspace database.

use crate::common;

use crmconnect::ErrorCode;
use crmconnect::audit::LogFilter;
use crmconnect::permissions::{Action, Permission, Resource};
use crmconnect::screens::Screen;

fn screen_of(resource: Resource) -> Screen {
    Screen::ALL
        .into_iter()
        .find(|s| matches!(s.access(), crmconnect::screens::Access::View { resource: r } if r == resource))
        .expect("every resource has a screen")
}

#[tokio::test]
async fn every_permission_is_refused_without_it_and_allowed_with_it() {
    let t = common::workspace().await;
    let all: Vec<Permission> = Permission::all().collect();
    for (i, p) in all.iter().copied().enumerate() {
        let only = format!("only{i}");
        let without = format!("without{i}");
        t.staff_with(&only, vec![p]).await;
        t.staff_with(&without, all.iter().copied().filter(|q| *q != p).collect())
            .await;

        t.sign_in(&only).await;
        let actor = t.ws.cx().actor().await.unwrap();
        assert!(actor.require(p.resource, p.action).is_ok(), "{p} with it");
        if p.action == Action::View {
            t.ws.cx()
                .open_screen(screen_of(p.resource))
                .await
                .unwrap_or_else(|e| panic!("{p}: {e}"));
        }

        t.sign_in(&without).await;
        let actor = t.ws.cx().actor().await.unwrap();
        let refusal = actor.require(p.resource, p.action).unwrap_err();
        assert_eq!(
            refusal.code(),
            ErrorCode::PermissionDenied,
            "{p} without it"
        );
        // In a person's words ("viewing Bulk Contacts"), not the permission's key.
        assert!(
            refusal
                .to_string()
                .contains(&crmconnect::permissions::plain(p.resource, p.action)),
            "{refusal}"
        );
        assert!(!refusal.to_string().contains(p.resource.key()), "{refusal}");
        if p.action == Action::View {
            let e =
                t.ws.cx()
                    .open_screen(screen_of(p.resource))
                    .await
                    .unwrap_err();
            assert_eq!(e.code(), ErrorCode::PermissionDenied, "{p}");
            assert!(e.to_string().contains(p.resource.label()), "{e}");
        }
    }
}

#[tokio::test]
async fn connection_activity_log_and_staff_refuse_a_non_admin_even_with_every_permission() {
    let t = common::workspace().await;
    t.staff_with("poweruser", Permission::all().collect()).await;
    t.sign_in("poweruser").await;
    for screen in [Screen::Connection, Screen::ActivityLog] {
        let e = t.ws.cx().open_screen(screen).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::PermissionDenied, "{screen:?}");
        assert!(e.to_string().contains("administrators only"), "{e}");
    }
    assert_eq!(
        common::code(t.ws.cx().activity_log(LogFilter::default()).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().list_staff().await),
        ErrorCode::PermissionDenied
    );
    // Every screen a role grants is open; Settings is open to everyone.
    for screen in Screen::ALL {
        if !matches!(screen, Screen::Connection | Screen::ActivityLog) {
            t.ws.cx().open_screen(screen).await.unwrap();
        }
    }

    t.as_owner().await;
    for screen in Screen::ALL {
        t.ws.cx().open_screen(screen).await.unwrap();
    }
    t.ws.cx().activity_log(LogFilter::default()).await.unwrap();
}

#[tokio::test]
async fn nobody_signed_in_is_refused_with_its_own_code() {
    let t = common::workspace().await;
    t.ws.sign_out().await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().open_screen(Screen::Settings).await),
        ErrorCode::NotSignedIn
    );
    assert_eq!(
        common::code(t.ws.cx().list_roles().await),
        ErrorCode::NotSignedIn
    );
}

#[tokio::test]
async fn a_role_change_applies_to_the_signed_in_staff_member_at_once() {
    let t = common::workspace().await;
    let member = t
        .staff_with(
            "rep",
            vec![Permission::new(Resource::WhatsappContacts, Action::View)],
        )
        .await;
    t.sign_in("rep").await;
    t.ws.cx().open_screen(Screen::BulkContacts).await.unwrap();

    // The owner (at another desktop, say) takes the permission away.
    t.as_owner().await;
    t.ws.cx()
        .update_role(
            member.role_id,
            crmconnect::permissions::RoleInput {
                name: "role of rep".into(),
                permissions: vec![],
            },
        )
        .await
        .unwrap();
    t.sign_in("rep").await;
    assert_eq!(
        common::code(t.ws.cx().open_screen(Screen::BulkContacts).await),
        ErrorCode::PermissionDenied
    );
}

#[tokio::test]
async fn roles_refuse_undefined_permissions_and_protect_the_admin_role() {
    let t = common::workspace().await;
    let bogus = crmconnect::permissions::RoleInput {
        name: "bogus".into(),
        permissions: vec![Permission::new(Resource::WhatsappNumbers, Action::Delete)],
    };
    let e = t.ws.cx().create_role(bogus).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.to_string().contains("whatsapp_numbers delete"), "{e}");

    let admin =
        t.ws.cx()
            .list_roles()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.is_admin)
            .unwrap();
    assert_eq!(
        common::code(t.ws.cx().delete_role(admin.id).await),
        ErrorCode::Conflict
    );

    let held = t.staff_with("holder", vec![]).await;
    let e = t.ws.cx().delete_role(held.role_id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(e.to_string().contains("1 staff member"), "{e}");
}
