//! Staff: the owner of first launch, signing in and out, and the rules that keep an admin around.

use crate::common;

use crmconnect::staff::{NewStaff, StaffUpdate};
use crmconnect::{ErrorCode, Workspaces};

#[tokio::test]
async fn first_launch_creates_a_sandbox_workspace_waiting_for_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(dir.path())
        .open_or_create_sandbox(None)
        .await
        .unwrap();
    let status = ws.status().await.unwrap();
    assert!(status.needs_owner);
    assert!(status.me.is_none());
    assert_eq!(
        status.workspace.kind,
        crmconnect::workspace::WorkspaceKind::Sandbox
    );
    assert!(
        status
            .workspace
            .path
            .starts_with(&dir.path().display().to_string())
    );
    assert_eq!(
        common::code(ws.sign_in("anyone", "whatever at all".into()).await),
        ErrorCode::NotSignedIn
    );

    let owner = NewStaff {
        name: "Olivia".into(),
        username: "olivia".into(),
        role_id: 0,
        passphrase: "first passphrase".into(),
    };
    ws.create_owner(owner.clone()).await.unwrap();
    assert_eq!(
        common::code(ws.create_owner(owner).await),
        ErrorCode::Conflict
    );
    let me = ws
        .sign_in("Olivia", "first passphrase".into())
        .await
        .unwrap();
    assert!(me.role.is_admin);
    assert_eq!(me.navigation.len(), 14);
    ws.close().await;

    // Reopening finds the same workspace, owner and all.
    let again = Workspaces::new(dir.path())
        .open_or_create_sandbox(None)
        .await
        .unwrap();
    assert!(!again.status().await.unwrap().needs_owner);
}

#[tokio::test]
async fn sign_in_refuses_wrong_passphrases_unknown_users_and_deactivated_staff() {
    let t = common::workspace().await;
    let rep = t.staff_with("rep", vec![]).await;
    let e =
        t.ws.sign_in("rep", "not the passphrase".into())
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert_eq!(e.to_string(), "wrong username or passphrase");
    let e =
        t.ws.sign_in("nobody", "not the passphrase".into())
            .await
            .unwrap_err();
    assert_eq!(e.to_string(), "wrong username or passphrase");
    assert_eq!(
        t.log_of("staff.sign_in")
            .await
            .iter()
            .filter(|(o, _)| o == "denied")
            .count(),
        2
    );

    t.ws.cx()
        .update_staff(
            rep.id,
            StaffUpdate {
                name: rep.name.clone(),
                username: rep.username.clone(),
                role_id: rep.role_id,
                active: false,
            },
        )
        .await
        .unwrap();
    let e =
        t.ws.sign_in("rep", "rep passphrase".into())
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied);
    assert!(e.to_string().contains("deactivated"), "{e}");
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_deactivated_or_deleted() {
    let t = common::workspace().await;
    let me = t.ws.cx().me().await.unwrap();
    let other_role = t.staff_with("rep", vec![]).await.role_id;
    let demote = StaffUpdate {
        name: me.name.clone(),
        username: me.username.clone(),
        role_id: other_role,
        active: true,
    };
    assert_eq!(
        common::code(t.ws.cx().update_staff(me.staff_id, demote).await),
        ErrorCode::Conflict
    );
    let deactivate = StaffUpdate {
        name: me.name.clone(),
        username: me.username.clone(),
        role_id: me.role.id,
        active: false,
    };
    assert_eq!(
        common::code(t.ws.cx().update_staff(me.staff_id, deactivate).await),
        ErrorCode::Conflict
    );
    assert_eq!(
        common::code(t.ws.cx().delete_staff(me.staff_id).await),
        ErrorCode::Conflict
    );
    // Still an admin after all that.
    assert!(t.ws.cx().me().await.unwrap().role.is_admin);
}

#[tokio::test]
async fn input_errors_name_the_problem() {
    let t = common::workspace().await;
    let role = t.ws.cx().me().await.unwrap().role.id;
    let mk = |name: &str, username: &str, pass: &str| NewStaff {
        name: name.into(),
        username: username.into(),
        role_id: role,
        passphrase: pass.into(),
    };
    let e =
        t.ws.cx()
            .create_staff(mk("A", "a b", "long enough pass"))
            .await
            .unwrap_err();
    assert!(e.to_string().contains("username"), "{e}");
    let e =
        t.ws.cx()
            .create_staff(mk("A", "ab", "short"))
            .await
            .unwrap_err();
    assert!(e.to_string().contains("at least 8 characters"), "{e}");
    let e =
        t.ws.cx()
            .create_staff(mk("  ", "ab", "long enough pass"))
            .await
            .unwrap_err();
    assert!(e.to_string().contains("name is required"), "{e}");
    let e =
        t.ws.cx()
            .create_staff(mk("A", "ab", "long enough pass").with_role(9999))
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
}

trait WithRole {
    fn with_role(self, id: i64) -> Self;
}
impl WithRole for NewStaff {
    fn with_role(mut self, id: i64) -> Self {
        self.role_id = id;
        self
    }
}

#[tokio::test]
async fn staff_change_their_own_passphrase_but_not_others() {
    let t = common::workspace().await;
    let rep = t.staff_with("rep", vec![]).await;
    let owner_id = {
        t.as_owner().await;
        t.ws.cx().me().await.unwrap().staff_id
    };
    t.sign_in("rep").await;
    // Their own, only with the current one.
    for current in [None, Some("not my passphrase".into())] {
        let e =
            t.ws.cx()
                .set_passphrase(rep.id, "a brand new passphrase".into(), current)
                .await
                .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Invalid);
        assert!(
            e.to_string().contains("current passphrase is not right"),
            "{e}"
        );
    }
    t.ws.cx()
        .set_passphrase(
            rep.id,
            "a brand new passphrase".into(),
            Some("rep passphrase".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        common::code(
            t.ws.cx()
                .set_passphrase(owner_id, "taken over now".into(), None)
                .await
        ),
        ErrorCode::PermissionDenied
    );
    t.ws.sign_in("rep", "a brand new passphrase".into())
        .await
        .unwrap();
}
