//! Staff members: who they are, their role, their passphrase (argon2id), signing in and out.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use ts_rs::TS;

use crate::audit::{self, Change, Outcome};
use crate::permissions::{self, Principal, Role, SystemTask};
use crate::screens::{self, Screen, ScreenInfo};
use crate::sensitive::Sensitive;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};

pub(crate) mod shared;

pub const MIN_PASSPHRASE_CHARS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("wrong username or passphrase")]
    BadCredentials,
    #[error("your current passphrase is not right: nothing was changed")]
    WrongCurrentPassphrase,
    #[error("{0}'s account is deactivated; an administrator can reactivate it")]
    Deactivated(String),
    #[error("staff member {0} does not exist")]
    NotFound(i64),
    #[error("a name is required")]
    EmptyName,
    #[error("the username must be 2 to 64 letters, digits or . _ - @ (got “{0}”)")]
    BadUsername(String),
    #[error("the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters long")]
    WeakPassphrase,
    #[error("the username “{0}” is taken")]
    DuplicateUsername(String),
    #[error("the workspace already has its owner")]
    OwnerExists,
    #[error("the workspace has no owner yet: create the owner account first")]
    NoOwner,
    #[error("this would leave the workspace without an active administrator")]
    LastAdmin,
    #[error("you cannot delete your own account")]
    DeleteSelf,
    #[error("could not hash the passphrase: {0}")]
    Hash(String),
    #[error("{0}")]
    Locked(String),
}

impl crate::error::Coded for StaffError {
    fn code(&self) -> ErrorCode {
        StaffError::code(self)
    }
}

impl StaffError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StaffError::BadCredentials
            | StaffError::WrongCurrentPassphrase
            | StaffError::EmptyName
            | StaffError::BadUsername(_)
            | StaffError::WeakPassphrase => ErrorCode::Invalid,
            StaffError::Deactivated(_) | StaffError::Locked(_) => ErrorCode::PermissionDenied,
            StaffError::NotFound(_) => ErrorCode::NotFound,
            StaffError::NoOwner => ErrorCode::NotSignedIn,
            StaffError::DuplicateUsername(_)
            | StaffError::OwnerExists
            | StaffError::LastAdmin
            | StaffError::DeleteSelf => ErrorCode::Conflict,
            StaffError::Hash(_) => ErrorCode::Internal,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub role_id: i64,
    pub active: bool,
    pub created_at: i64,
}

/// A staff member as other screens name them (an assignee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct StaffName {
    pub id: i64,
    pub name: String,
    /// What travels between desktops (a conversation's assignee).
    pub username: String,
    pub active: bool,
}

/// A new staff member (or the owner, on first launch).
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct NewStaff {
    pub name: String,
    pub username: String,
    /// Ignored for the owner, who always gets the administrator role.
    pub role_id: i64,
    #[ts(type = "string")]
    pub passphrase: Sensitive<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct StaffUpdate {
    pub name: String,
    pub username: String,
    pub role_id: i64,
    pub active: bool,
}

/// The signed-in staff member, as the UI needs them.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Me {
    pub staff_id: i64,
    pub name: String,
    pub username: String,
    pub role: Role,
    pub navigation: Vec<ScreenInfo>,
}

fn clean_name(name: &str) -> Result<String, StaffError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StaffError::EmptyName);
    }
    Ok(name.to_owned())
}

fn clean_username(username: &str) -> Result<String, StaffError> {
    let u = username.trim();
    let ok = (2..=64).contains(&u.chars().count())
        && u.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(u.to_owned())
    } else {
        Err(StaffError::BadUsername(u.to_owned()))
    }
}

fn hash_passphrase(passphrase: &Sensitive<String>) -> Result<String, StaffError> {
    if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(StaffError::WeakPassphrase);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(passphrase.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

fn verify_passphrase(passphrase: &Sensitive<String>, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(passphrase.expose().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashing is deliberately slow (tens of ms): keep it off the async runtime's threads.
async fn hash_blocking(passphrase: Sensitive<String>) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_passphrase(&passphrase))
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))?
        .map_err(Into::into)
}

fn unique_violation(e: sqlx::Error, username: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StaffError::DuplicateUsername(username.into()).into()
        }
        _ => e.into(),
    }
}

// ---- storage (table: staff) -------------------------------------------------------------------

async fn get(conn: &mut SqliteConnection, id: i64) -> Result<StaffMember> {
    sqlx::query_as!(
        StaffMember,
        r#"SELECT id, name, username, role_id, active AS "active: bool", created_at FROM staff WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StaffError::NotFound(id).into())
}

/// A staff member's name, for modules that refer to staff (leads' assigned staff) without reading
/// this table themselves; `None` when there is no such staff member.
pub(crate) async fn name_of(conn: &mut SqliteConnection, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT name FROM staff WHERE id = ?", id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The name of the staff member with `username`, for modules that show who acted by the
/// username the relay stamped on an event; `None` when no such staff member is known here.
pub(crate) async fn name_by_username(
    conn: &mut SqliteConnection,
    username: &str,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT name FROM staff WHERE username = ?", username)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

async fn count_staff(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar!("SELECT count(*) FROM staff")
        .fetch_one(&mut *conn)
        .await?)
}

/// How many staff members hold `role_id` (for the roles module, which does not read this table).
pub(crate) async fn count_with_role(conn: &mut SqliteConnection, role_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar!("SELECT count(*) FROM staff WHERE role_id = ?", role_id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

async fn active_admins(conn: &mut SqliteConnection) -> Result<i64> {
    let admin_role = permissions::admin_role_id(conn).await?;
    Ok(sqlx::query_scalar!(
        "SELECT count(*) FROM staff WHERE role_id = ? AND active = 1",
        admin_role
    )
    .fetch_one(&mut *conn)
    .await?)
}

async fn insert(
    conn: &mut SqliteConnection,
    input: &NewStaff,
    role_id: i64,
    hash: &str,
) -> Result<StaffMember> {
    let name = clean_name(&input.name)?;
    let username = clean_username(&input.username)?;
    permissions::load_role(conn, role_id).await?; // the role must exist
    let now = crate::now_ms();
    let uid = permissions::name_uid("user", &username);
    let id = sqlx::query_scalar!(
        "INSERT INTO staff (uid, name, username, role_id, passphrase_hash, active, created_at)
         VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id AS \"id!\"",
        uid,
        name,
        username,
        role_id,
        hash,
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_violation(e, &username))?;
    get(conn, id).await
}

/// Loads the actor for staff member `id`, with their role's current permissions.
pub(crate) async fn load_actor(conn: &mut SqliteConnection, id: i64) -> Result<Principal> {
    let member = get(conn, id).await?;
    if !member.active {
        return Err(StaffError::Deactivated(member.name).into());
    }
    let role = permissions::load_role(conn, member.role_id).await?;
    Ok(Principal::staff(member.id, member.name, role))
}

fn describe(member: &StaffMember) -> String {
    format!("staff member “{}” (#{})", member.username, member.id)
}

// ---- operations -------------------------------------------------------------------------------

impl Workspace {
    /// True until the owner account exists (first launch).
    pub async fn needs_owner(&self) -> Result<bool> {
        Ok(count_staff(&mut *self.db().acquire().await?).await? == 0)
    }

    /// First launch: creates the owner, an administrator. Refused once any staff member exists.
    pub async fn create_owner(&self, input: NewStaff) -> Result<StaffMember> {
        let hash = hash_blocking(input.passphrase.clone()).await?;
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        if count_staff(&mut tx).await? > 0 {
            return Err(StaffError::OwnerExists.into());
        }
        let admin_role = permissions::admin_role_id(&mut tx).await?;
        let owner = insert(&mut tx, &input, admin_role, &hash).await?;
        let what = Change::new(Screen::Settings, "staff.create_owner", describe(&owner));
        let setup = Principal::system(SystemTask::Setup);
        audit::insert(&mut tx, &setup, &what, Outcome::Ok, None).await?;
        tx.commit().await?;
        Ok(owner)
    }

    pub async fn sign_in(&self, username: &str, passphrase: Sensitive<String>) -> Result<Me> {
        // A desktop its team cut off (its relay token revoked) lets nobody in.
        if let Some(reason) = self.sign_in_lock() {
            return Err(StaffError::Locked(reason).into());
        }
        let mut conn = self.db().acquire().await?;
        if count_staff(&mut conn).await? == 0 {
            return Err(StaffError::NoOwner.into());
        }
        let row = sqlx::query!(
            "SELECT id, passphrase_hash FROM staff WHERE username = ?",
            username
        )
        .fetch_optional(&mut *conn)
        .await?;
        // Verify against a throwaway hash when the username is unknown, so that the time taken
        // does not tell which usernames exist.
        let (id, hash) = match row {
            Some(r) => (Some(r.id), r.passphrase_hash),
            None => (None, DUMMY_HASH.to_owned()),
        };
        let ok = tokio::task::spawn_blocking(move || verify_passphrase(&passphrase, &hash))
            .await
            .unwrap_or(false);
        let Some(id) = id.filter(|_| ok) else {
            let what = Change::new(
                Screen::Settings,
                "staff.sign_in",
                format!("username “{username}”"),
            );
            audit::insert(
                &mut conn,
                &Principal::system(SystemTask::SignIn),
                &what,
                Outcome::Denied,
                Some("wrong username or passphrase"),
            )
            .await?;
            return Err(StaffError::BadCredentials.into());
        };
        let actor = load_actor(&mut conn, id).await?;
        audit::insert(
            &mut conn,
            &actor,
            &Change::new(
                Screen::Settings,
                "staff.sign_in",
                format!("staff member #{id}"),
            ),
            Outcome::Ok,
            None,
        )
        .await?;
        self.set_session(Some(id));
        drop(conn);
        self.cx().me().await
    }

    pub async fn sign_out(&self) -> Result<()> {
        if let Ok(actor) = self.cx().actor().await {
            let what = Change::new(
                Screen::Settings,
                "staff.sign_out",
                format!("staff member #{}", actor.staff_id().unwrap_or_default()),
            );
            audit::insert(
                &mut *self.db().acquire().await?,
                &actor,
                &what,
                Outcome::Ok,
                None,
            )
            .await?;
        }
        self.set_session(None);
        Ok(())
    }
}

impl Ctx<'_> {
    /// The acting staff member, as the UI shows them; refused for the system and bots.
    pub async fn me(&self) -> Result<Me> {
        let actor = self.actor().await?;
        let staff_id = actor.require_person("“Me”")?;
        let member = get(&mut *self.db().acquire().await?, staff_id).await?;
        Ok(Me {
            staff_id,
            name: member.name,
            username: member.username,
            navigation: screens::navigation(&actor),
            role: actor.role,
        })
    }

    pub async fn list_staff(&self) -> Result<Vec<StaffMember>> {
        self.actor().await?.require_admin("Managing staff")?;
        Ok(sqlx::query_as!(
            StaffMember,
            r#"SELECT id, name, username, role_id, active AS "active: bool", created_at FROM staff ORDER BY name"#
        )
        .fetch_all(self.db())
        .await?)
    }

    /// Every staff member's id and name, for any signed-in staff member: assigning a lead, or
    /// filtering by assignee, needs the names, not the admin-only staff management.
    pub async fn staff_directory(&self) -> Result<Vec<StaffName>> {
        self.actor().await?;
        Ok(sqlx::query_as!(
            StaffName,
            r#"SELECT id, name, username, active AS "active: bool" FROM staff ORDER BY name COLLATE NOCASE, id"#
        )
        .fetch_all(self.db())
        .await?)
    }

    pub async fn create_staff(&self, input: NewStaff) -> Result<StaffMember> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("Managing staff");
        let hash = match allowed {
            Ok(()) => hash_blocking(input.passphrase.clone()).await?,
            Err(_) => String::new(),
        };
        let publisher = actor.clone();
        let what = Change::new(
            Screen::Settings,
            "staff.create",
            format!("staff member “{}”", input.username.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let member = insert(tx, &input, input.role_id, &hash).await?;
                    shared::emit_staff(tx, &publisher, member.id).await?;
                    let role = permissions::load_role(tx, member.role_id).await?;
                    Ok((member, Some(format!("role: {}", role.name))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn update_staff(&self, id: i64, input: StaffUpdate) -> Result<StaffMember> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::Settings,
            "staff.update",
            format!("staff member #{id}"),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require_admin("Managing staff"),
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = clean_name(&input.name)?;
                    let username = clean_username(&input.username)?;
                    get(tx, id).await?;
                    let role = permissions::load_role(tx, input.role_id).await?;
                    sqlx::query!(
                        "UPDATE staff SET name = ?, username = ?, role_id = ?, active = ? WHERE id = ?",
                        name,
                        username,
                        input.role_id,
                        input.active,
                        id
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_violation(e, &username))?;
                    if active_admins(tx).await? == 0 {
                        return Err(StaffError::LastAdmin.into());
                    }
                    shared::emit_staff(tx, &publisher, id).await?;
                    let detail = format!("role: {}, active: {}", role.name, input.active);
                    Ok((get(tx, id).await?, Some(detail)))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    pub async fn delete_staff(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Settings,
            "staff.delete",
            format!("staff member #{id}"),
        );
        let me = actor.staff_id();
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require_admin("Managing staff"),
            Box::new(move |tx| {
                Box::pin(async move {
                    if Some(id) == me {
                        return Err(StaffError::DeleteSelf.into());
                    }
                    let member = get(tx, id).await?;
                    shared::introduce(tx, &publisher).await?;
                    let gone = shared::staff_deleted(tx, id).await?;
                    sqlx::query!("DELETE FROM staff WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    if active_admins(tx).await? == 0 {
                        return Err(StaffError::LastAdmin.into());
                    }
                    crate::outbox::emit(tx, &publisher, "staff.changed", &gone).await?;
                    Ok(((), Some(format!("was “{}”", member.username))))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Sets a staff member's passphrase: an admin for anyone, anyone for themselves, giving their
    /// `current` one (someone at an unlocked desktop cannot take the account over).
    pub async fn set_passphrase(
        &self,
        id: i64,
        passphrase: Sensitive<String>,
        current: Option<Sensitive<String>>,
    ) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = if Some(id) == actor.staff_id() {
            let stored = sqlx::query_scalar!("SELECT passphrase_hash FROM staff WHERE id = ?", id)
                .fetch_one(self.db())
                .await?;
            let Some(current) = current else {
                return Err(StaffError::WrongCurrentPassphrase.into());
            };
            let right = tokio::task::spawn_blocking(move || verify_passphrase(&current, &stored))
                .await
                .map_err(|e| StaffError::Hash(e.to_string()))?;
            if !right {
                return Err(StaffError::WrongCurrentPassphrase.into());
            }
            Ok(())
        } else {
            actor.require_admin("Setting another staff member's passphrase")
        };
        let hash = match allowed {
            Ok(()) => hash_blocking(passphrase).await?,
            Err(_) => String::new(),
        };
        let what = Change::new(
            Screen::Settings,
            "staff.set_passphrase",
            format!("staff member #{id}"),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    get(tx, id).await?;
                    sqlx::query!(
                        "UPDATE staff SET passphrase_hash = ? WHERE id = ?",
                        hash,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok(((), None))
                })
            }),
        )
        .await
    }
}

/// An argon2id hash of a random passphrase nobody knows, verified against for unknown usernames.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5nqnG9tYpvBtmwM3ZVhbBqOy4Sgh1OeY4KHrCPBjmB4";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let pw = Sensitive::from("correct horse battery");
        let a = hash_passphrase(&pw).unwrap();
        let b = hash_passphrase(&pw).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_passphrase(&pw, &a));
        assert!(!verify_passphrase(
            &Sensitive::from("correct horse battery!"),
            &a
        ));
    }

    #[test]
    fn refuses_short_passphrases_and_odd_usernames() {
        assert!(matches!(
            hash_passphrase(&Sensitive::from("short")),
            Err(StaffError::WeakPassphrase)
        ));
        assert!(clean_username("maria.k@sales").is_ok());
        assert!(clean_username("a").is_err());
        assert!(clean_username("has space").is_err());
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_passphrase(
            &Sensitive::from("anything at all"),
            DUMMY_HASH
        ));
    }
}
