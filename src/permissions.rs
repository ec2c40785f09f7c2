//! Roles in a workspace's database (tables `roles`, `role_permissions`) and the operations on
//! them. The permission model itself — resources, actions, roles, who acts — is the access crate's
//! ([`crmconnect_access::permissions`]), re-exported here.

pub use crmconnect_access::permissions::*;

use std::collections::BTreeSet;

use sqlx::SqliteConnection;

use crate::audit::{self, Change};
use crate::screens::Screen;
use crate::staff;
use crate::workspace::Ctx;

// ---- storage (tables: roles, role_permissions) ------------------------------------------------

pub async fn load_role(conn: &mut SqliteConnection, role_id: i64) -> Result<Role, crate::Error> {
    let row = sqlx::query!(
        r#"SELECT id, name, is_admin AS "is_admin: bool" FROM roles WHERE id = ?"#,
        role_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(PermissionError::UnknownRole(role_id))?;
    let permissions = sqlx::query!(
        "SELECT resource, action FROM role_permissions WHERE role_id = ? ORDER BY resource, action",
        role_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .filter_map(|p| {
        Some(Permission::new(
            Resource::from_key(&p.resource)?,
            Action::from_key(&p.action)?,
        ))
    })
    .collect();
    Ok(Role {
        id: row.id,
        name: row.name,
        is_admin: row.is_admin,
        permissions,
    })
}

/// The role named `name`, if any.
pub(crate) async fn role_named(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<i64>, crate::Error> {
    Ok(
        sqlx::query_scalar!("SELECT id FROM roles WHERE name = ?", name)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The administrator role: there is exactly one, created with the workspace.
pub async fn admin_role_id(conn: &mut SqliteConnection) -> Result<i64, crate::Error> {
    Ok(
        sqlx::query_scalar!("SELECT id FROM roles WHERE is_admin = 1 ORDER BY id LIMIT 1")
            .fetch_one(&mut *conn)
            .await?,
    )
}

pub async fn list_roles(conn: &mut SqliteConnection) -> Result<Vec<Role>, crate::Error> {
    let ids = sqlx::query_scalar!("SELECT id FROM roles ORDER BY is_admin DESC, name")
        .fetch_all(&mut *conn)
        .await?;
    let mut roles = Vec::with_capacity(ids.len());
    for id in ids {
        roles.push(load_role(conn, id).await?);
    }
    Ok(roles)
}

/// The uid of the administrator role, the same on every desktop (it never travels).
pub(crate) const ADMIN_ROLE_UID: &str = "administrator";

/// A uid made from a name, the same on every desktop: the roles a workspace starts with, and the
/// staff and roles from before the team's uids (see the migration `20261207000004_team_staff`).
pub(crate) fn name_uid(prefix: &str, name: &str) -> String {
    let mut uid = format!("{prefix}:{}", hex::encode(name.to_ascii_lowercase()));
    uid.truncate(64);
    uid
}

/// Where a new role's uid comes from.
pub(crate) enum NewUid<'a> {
    /// One of the roles every workspace starts with: made from its name.
    Seeded,
    /// Made here now: a UUIDv7.
    Fresh,
    /// A teammate's, from the log.
    Given(&'a str),
}

pub(crate) async fn insert_role(
    conn: &mut SqliteConnection,
    input: &RoleInput,
    is_admin: bool,
    uid: NewUid<'_>,
) -> Result<i64, crate::Error> {
    let name = validate(input)?;
    let now = crate::now_ms();
    let seeded = is_admin || matches!(uid, NewUid::Seeded);
    let uid = match uid {
        _ if is_admin => ADMIN_ROLE_UID.to_owned(),
        NewUid::Seeded => name_uid("name", &name),
        NewUid::Fresh => uuid::Uuid::now_v7().simple().to_string(),
        NewUid::Given(uid) => uid.to_owned(),
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO roles (uid, name, is_admin, created_at) VALUES (?, ?, ?, ?) RETURNING id AS \"id!\"",
        uid,
        name,
        is_admin,
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_violation(e, &name))?;
    write_permissions(conn, id, &input.permissions).await?;
    if seeded {
        // The same on every desktop: the log has nothing to say about its name yet.
        sqlx::query!("UPDATE roles SET log_name = name WHERE id = ?", id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

pub(crate) async fn update_role(
    conn: &mut SqliteConnection,
    id: i64,
    input: &RoleInput,
) -> Result<(), crate::Error> {
    let name = validate(input)?;
    let role = load_role(conn, id).await?;
    if role.is_admin {
        return Err(PermissionError::AdminRoleFixed.into());
    }
    sqlx::query!("UPDATE roles SET name = ? WHERE id = ?", name, id)
        .execute(&mut *conn)
        .await
        .map_err(|e| unique_violation(e, &name))?;
    sqlx::query!("DELETE FROM role_permissions WHERE role_id = ?", id)
        .execute(&mut *conn)
        .await?;
    write_permissions(conn, id, &input.permissions).await
}

/// Deletes a role that no staff member holds. `holders` is how many staff have it (the staff
/// module counts them: the roles module does not read the staff table).
pub(crate) async fn delete_role(
    conn: &mut SqliteConnection,
    id: i64,
    holders: i64,
) -> Result<Role, crate::Error> {
    let role = load_role(conn, id).await?;
    if role.is_admin {
        return Err(PermissionError::AdminRoleFixed.into());
    }
    if holders > 0 {
        return Err(PermissionError::RoleInUse(role.name, holders).into());
    }
    sqlx::query!("DELETE FROM roles WHERE id = ?", id)
        .execute(&mut *conn)
        .await?;
    Ok(role)
}

async fn write_permissions(
    conn: &mut SqliteConnection,
    id: i64,
    perms: &[Permission],
) -> Result<(), crate::Error> {
    let unique: BTreeSet<Permission> = perms.iter().copied().collect();
    for p in unique {
        let (r, a) = (p.resource.key(), p.action.key());
        sqlx::query!(
            "INSERT INTO role_permissions (role_id, resource, action) VALUES (?, ?, ?)",
            id,
            r,
            a
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn unique_violation(e: sqlx::Error, name: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            PermissionError::DuplicateRoleName(name.into()).into()
        }
        _ => e.into(),
    }
}

// ---- operations -------------------------------------------------------------------------------

impl Ctx<'_> {
    pub async fn list_roles(&self) -> crate::Result<Vec<Role>> {
        self.actor().await?; // any signed-in staff member may read the roles (Settings shows theirs)
        list_roles(&mut *self.db().acquire().await?).await
    }

    pub async fn create_role(&self, input: RoleInput) -> crate::Result<Role> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::Settings,
            "role.create",
            format!("role “{}”", input.name.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require_admin("Managing roles"),
            Box::new(move |tx| {
                Box::pin(async move {
                    let id = insert_role(tx, &input, false, NewUid::Fresh).await?;
                    staff::shared::emit_role(tx, &publisher, id).await?;
                    let role = load_role(tx, id).await?;
                    let detail = Some(format!("{} permission(s)", role.permissions.len()));
                    Ok((role, detail))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn update_role(&self, id: i64, input: RoleInput) -> crate::Result<Role> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(Screen::Settings, "role.update", format!("role #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require_admin("Managing roles"),
            Box::new(move |tx| {
                Box::pin(async move {
                    update_role(tx, id, &input).await?;
                    staff::shared::emit_role(tx, &publisher, id).await?;
                    let role = load_role(tx, id).await?;
                    let detail = Some(format!(
                        "“{}”, {} permission(s)",
                        role.name,
                        role.permissions.len()
                    ));
                    Ok((role, detail))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn delete_role(&self, id: i64) -> crate::Result<()> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(Screen::Settings, "role.delete", format!("role #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require_admin("Managing roles"),
            Box::new(move |tx| {
                Box::pin(async move {
                    let holders = staff::count_with_role(tx, id).await?;
                    staff::shared::introduce(tx, &publisher).await?;
                    let gone = staff::shared::role_deleted(tx, id).await?;
                    let role = delete_role(tx, id, holders).await?;
                    crate::outbox::emit(tx, &publisher, "role.changed", &gone).await?;
                    Ok(((), Some(format!("was “{}”", role.name))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }
}
