//! The team's staff and roles: an administrator's change to either is an event in the outbox,
//! written in the change's transaction (`role.changed`, `staff.changed`), and [`handler`] applies
//! the log's on every desktop. Passphrases never travel: each desktop keeps its own.
//!
//! **Who may.** The relay takes these kinds from administrators' tokens only, and sets a staff
//! member's tokens to the access their `staff.changed` gives (revoking them when they are
//! deactivated or deleted). A desktop checks again on apply: the author must be an active
//! administrator *the log has named* (a row with a `seq`). Until the log has named one, the
//! relay's word is taken: going live and issuing a token from Settings → Team share the whole
//! team, owner first among the staff ([`share_team`]), so a team's log names its administrators
//! before anything else of theirs.
//!
//! **Clashes.** Role names and usernames are unique. The row the log gave a name to keeps it
//! (`log_name`, `log_username`: what the log last said, never an edit made here and not back
//! yet); a later one that arrives with the same name takes it with its uid's first eight
//! characters appended ("Support (0193ab4c)"), the same on every desktop. A row that has the name
//! here only gives way until its own event places it.

use sqlx::SqliteConnection;

use crate::Result;
use crate::audit::{self, Change, Outcome};
use crate::permissions::{self, NewUid, Principal, RoleInput, SystemTask};
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;
pub(crate) use crmconnect_events::payloads::{RoleState, StaffAccess, StaffState};

fn key(p: &permissions::Permission) -> String {
    format!("{}:{}", p.resource.key(), p.action.key())
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("a team payload serialises")
}

// ---- what changes made here write -------------------------------------------------------------

async fn role_uid(conn: &mut SqliteConnection, role_id: i64) -> Result<String> {
    Ok(
        sqlx::query_scalar!("SELECT uid FROM roles WHERE id = ?", role_id)
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or_else(|| permissions::ADMIN_ROLE_UID.to_owned()),
    )
}

/// Role `role_id` as its event carries it.
pub(crate) async fn role_state(conn: &mut SqliteConnection, role_id: i64) -> Result<RoleState> {
    let role = permissions::load_role(conn, role_id).await?;
    Ok(RoleState {
        uid: role_uid(conn, role_id).await?,
        name: role.name,
        permissions: role.permissions.iter().map(key).collect(),
        deleted: false,
    })
}

/// Staff member `id` as their event carries them, with their role's access.
pub(crate) async fn staff_state(conn: &mut SqliteConnection, id: i64) -> Result<StaffState> {
    let r = sqlx::query!(
        r#"SELECT uid, username, name, role_id, active AS "active: bool" FROM staff WHERE id = ?"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let role = permissions::load_role(conn, r.role_id).await?;
    let uid = match r.uid {
        Some(uid) => uid,
        None => permissions::name_uid("user", &r.username),
    };
    Ok(StaffState {
        uid,
        username: r.username,
        name: r.name,
        role: role_uid(conn, r.role_id).await?,
        active: r.active,
        deleted: false,
        access: StaffAccess {
            is_admin: role.is_admin,
            permissions: if role.is_admin {
                vec![]
            } else {
                role.permissions.iter().map(key).collect()
            },
        },
    })
}

/// Before an administrator's change to staff or roles: their own `staff.changed`, while the log
/// has not placed them yet. So the log names every administrator before their first team change,
/// and a desktop reading it knows who may make the next ones (see the module's "Who may").
pub(crate) async fn introduce(tx: &mut SqliteConnection, actor: &Principal) -> Result<()> {
    let Some(me) = actor.staff_id() else {
        return Ok(());
    };
    let unplaced = sqlx::query_scalar!(
        "SELECT count(*) FROM staff WHERE id = ? AND seq IS NULL",
        me
    )
    .fetch_one(&mut *tx)
    .await?;
    if unplaced > 0 {
        let state = staff_state(tx, me).await?;
        crate::outbox::emit(tx, actor, "staff.changed", &json(&state)).await?;
    }
    Ok(())
}

/// After a role was created or changed here: its event, then each holder's (their access
/// changed with it, and the relay sets their tokens from theirs).
pub(crate) async fn emit_role(
    tx: &mut SqliteConnection,
    actor: &Principal,
    role_id: i64,
) -> Result<()> {
    introduce(tx, actor).await?;
    let state = role_state(tx, role_id).await?;
    crate::outbox::emit(tx, actor, "role.changed", &json(&state)).await?;
    let holders = sqlx::query_scalar!(
        "SELECT id FROM staff WHERE role_id = ? ORDER BY id",
        role_id
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in holders {
        emit_staff(tx, actor, id).await?;
    }
    Ok(())
}

/// Before role `role_id` is deleted here: the event that says so.
pub(crate) async fn role_deleted(
    conn: &mut SqliteConnection,
    role_id: i64,
) -> Result<serde_json::Value> {
    let mut state = role_state(conn, role_id).await?;
    state.deleted = true;
    Ok(json(&state))
}

/// After staff member `id` was created or changed here.
pub(crate) async fn emit_staff(
    tx: &mut SqliteConnection,
    actor: &Principal,
    id: i64,
) -> Result<()> {
    if actor.staff_id() != Some(id) {
        introduce(tx, actor).await?;
    }
    let state = staff_state(tx, id).await?;
    crate::outbox::emit(tx, actor, "staff.changed", &json(&state)).await?;
    Ok(())
}

/// Before staff member `id` is deleted here: the event that says so.
pub(crate) async fn staff_deleted(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<serde_json::Value> {
    let mut state = staff_state(conn, id).await?;
    state.deleted = true;
    Ok(json(&state))
}

/// The whole team as it is here, for the log: every role but the administrator's, then every
/// staff member, the actor first. Going live and issuing a token call it, so that a desktop that
/// joins learns who is who, and who may change it, from the log.
pub(crate) async fn share_team(tx: &mut SqliteConnection, actor: &Principal) -> Result<()> {
    let roles = sqlx::query_scalar!("SELECT id FROM roles WHERE is_admin = 0 ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    for id in roles {
        let state = role_state(tx, id).await?;
        crate::outbox::emit(tx, actor, "role.changed", &json(&state)).await?;
    }
    let me = actor.staff_id().unwrap_or_default();
    let staff = sqlx::query_scalar!("SELECT id FROM staff ORDER BY id <> ?, id", me)
        .fetch_all(&mut *tx)
        .await?;
    for id in staff {
        emit_staff(tx, actor, id).await?;
    }
    Ok(())
}

impl crate::workspace::Ctx<'_> {
    /// Puts the whole team into the log ([`share_team`]); an administrator's, logged.
    pub(crate) async fn share_team(&self) -> Result<()> {
        let actor = self.actor().await?;
        actor.require_admin("Sharing the team's staff and roles")?;
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        share_team(&mut tx, &actor).await?;
        let what = Change::new(Screen::Settings, "team.shared", "staff and roles");
        audit::insert(&mut tx, &actor, &what, Outcome::Ok, None).await?;
        tx.commit().await?;
        self.outbox_written();
        Ok(())
    }
}

// ---- applying the log -------------------------------------------------------------------------

inventory::submit! { crate::handlers::DefaultHandler { order: 5, make: handler } }

/// The team's staff and roles, applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "team staff and roles",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

enum Op {
    Role(RoleState),
    Staff(StaffState),
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    let parsed = match e.kind.as_str() {
        "role.changed" => serde_json::from_str(e.raw.get()).map(Op::Role),
        "staff.changed" => serde_json::from_str(e.raw.get()).map(Op::Staff),
        _ => return Ok(()),
    };
    let op = match parsed {
        Ok(op) => op,
        Err(err) => {
            tracing::warn!(seq = e.seq, kind = %e.kind, error = %err, "a team event that cannot be read is skipped");
            return Ok(());
        }
    };
    let problem = match &op {
        Op::Role(r) => r.problem(),
        Op::Staff(s) => s.problem(),
    };
    if let Some(problem) = problem {
        tracing::warn!(seq = e.seq, kind = %e.kind, problem, "a team event no desktop could make is skipped");
        return Ok(());
    }
    let author = e.staff.clone().unwrap_or_default();
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    if !may_change_team(&mut tx, &author).await? {
        let action = if matches!(op, Op::Role(_)) {
            "role.changed"
        } else {
            "staff.changed"
        };
        let what = Change::new(Screen::Settings, action, format!("by “{author}”"));
        audit::insert(
            &mut tx,
            &Principal::system(SystemTask::Sync),
            &what,
            Outcome::Denied,
            Some("not an administrator the team's log named: ignored"),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(seq = e.seq, kind = %e.kind, author, "a team change from a non-administrator is ignored");
        return Ok(());
    }
    match op {
        Op::Role(r) => apply_role(&mut tx, e.seq, &author, r).await?,
        Op::Staff(s) => apply_staff(&mut tx, e.seq, &author, s).await?,
    }
    tx.commit().await?;
    ws.records_changed(Screen::Settings);
    Ok(())
}

/// Whether `author` may change staff and roles, as far as the log has said: an active
/// administrator it named, or anyone the relay took it from while it has named none.
async fn may_change_team(conn: &mut SqliteConnection, author: &str) -> Result<bool> {
    let r = sqlx::query!(
        r#"SELECT count(*) AS "named!: i64",
                  coalesce(sum(s.username = ?1), 0) AS "author!: i64"
           FROM staff s JOIN roles r ON r.id = s.role_id
           WHERE s.seq IS NOT NULL AND s.active = 1 AND r.is_admin = 1"#,
        author
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.named == 0 || r.author > 0)
}

/// Whether `author` may have published an event that needs `required`, as far as this replica
/// knows: the relay checked it on publish, and every desktop checks it again on apply, so a
/// tampered desktop's event (should a relay let it through) is ignored everywhere. The author's
/// role is the one the team's log gave them. While the log has named no administrator (a team
/// from before staff were shared), the relay's word is taken, as for staff and roles.
pub(crate) async fn author_may(
    conn: &mut SqliteConnection,
    author: &str,
    required: crmconnect_events::kinds::Required,
) -> Result<bool> {
    use crmconnect_events::kinds::Required;
    let named = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!: i64" FROM staff s JOIN roles r ON r.id = s.role_id
           WHERE s.seq IS NOT NULL AND s.active = 1 AND r.is_admin = 1"#
    )
    .fetch_one(&mut *conn)
    .await?;
    if named == 0 {
        return Ok(true);
    }
    let Some(role_id) = sqlx::query_scalar!(
        "SELECT role_id FROM staff WHERE username = ? AND active = 1",
        author
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(false);
    };
    let role = permissions::load_role(conn, role_id).await?;
    Ok(match required {
        Required::Admin => role.is_admin,
        Required::Permission(p) => role.is_admin || role.permissions.contains(&p),
    })
}

/// [`author_may`] for event `e` of a desktop kind, on `conn` (the applying transaction): when the
/// author may not, the Activity Log says the event was ignored (under `screen`, naming `what`) and
/// the caller commits and applies nothing.
pub(crate) async fn author_allowed(
    conn: &mut SqliteConnection,
    e: &ReceivedEvent,
    screen: Screen,
    what: String,
) -> Result<bool> {
    let Some(required) = crmconnect_events::kinds::required(&e.kind) else {
        return Ok(false);
    };
    let author = e.staff.as_deref().unwrap_or_default();
    if author_may(conn, author, required).await? {
        return Ok(true);
    }
    let action = crmconnect_events::kinds::DESKTOP_KINDS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| *k == e.kind)
        .unwrap_or("event");
    audit::insert(
        conn,
        &Principal::system(SystemTask::Sync),
        &Change::new(screen, action, format!("{what} by “{author}”")),
        Outcome::Denied,
        Some(&format!(
            "{author}'s role does not allow {required}: ignored"
        )),
    )
    .await?;
    tracing::warn!(seq = e.seq, kind = %e.kind, author, "an event its author's role does not allow is ignored");
    Ok(false)
}

/// `name` with `uid`'s last eight characters: what a later record with a taken name is called.
/// (A UUIDv7's first ones are its time, alike for records made the same minute: two suffixed
/// names could clash again, and the one moved aside then took a name that differs per desktop.)
fn suffixed(name: &str, uid: &str) -> String {
    let tail = uid.rsplit(':').next().unwrap_or(uid);
    format!("{name} ({})", &tail[tail.len().saturating_sub(8)..])
}

async fn clash_noted(conn: &mut SqliteConnection, author: &str, what: String) -> Result<()> {
    clash_noted_in(conn, Screen::Settings, author, what).await
}

/// A clash the log decided, in `screen`'s part of the Activity Log, naming the author who lost.
pub(crate) async fn clash_noted_in(
    conn: &mut SqliteConnection,
    screen: Screen,
    author: &str,
    what: String,
) -> Result<()> {
    let change = Change::new(screen, "team.clash", what);
    let detail = format!("{author}'s change came later in the team's log");
    audit::insert(
        conn,
        &Principal::system(SystemTask::Sync),
        &change,
        Outcome::Ok,
        Some(&detail),
    )
    .await
}

async fn apply_role(
    conn: &mut SqliteConnection,
    seq: i64,
    author: &str,
    r: RoleState,
) -> Result<()> {
    let existing = sqlx::query!(
        r#"SELECT id, is_admin AS "is_admin: bool" FROM roles WHERE uid = ?"#,
        r.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    if existing.as_ref().is_some_and(|x| x.is_admin) {
        return Ok(()); // the administrator role never travels; no desktop of ours sends it
    }
    if r.deleted {
        if let Some(x) = existing {
            let holders = super::count_with_role(conn, x.id).await?;
            if holders > 0 {
                tracing::warn!(
                    seq,
                    uid = r.uid,
                    holders,
                    "a deleted role still has holders here: kept"
                );
                return Ok(());
            }
            sqlx::query!("DELETE FROM roles WHERE id = ?", x.id)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(());
    }
    let name = r.name.trim().to_owned();
    // The log decides who has a name: the role it gave the name to keeps it.
    let log_holder = sqlx::query_scalar!(
        "SELECT id FROM roles WHERE log_name = ? AND uid IS NOT ?",
        name,
        r.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut name_here = name.clone();
    if log_holder.is_some() {
        name_here = suffixed(&name, &r.uid);
        clash_noted(conn, author, format!("role “{name}” is “{name_here}” here")).await?;
    }
    // One that has the name here only (made or renamed here, not back yet) gives way until its
    // own event places it.
    let local = sqlx::query_scalar!(
        "SELECT id FROM roles WHERE name = ? AND uid IS NOT ? AND is_admin = 0",
        name_here,
        r.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = local {
        let moved = suffixed(&name_here, &format!("local{id}"));
        sqlx::query!("UPDATE roles SET name = ? WHERE id = ?", moved, id)
            .execute(&mut *conn)
            .await?;
    }
    let permissions: Vec<permissions::Permission> = r
        .permissions
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let input = RoleInput {
        name: name_here,
        permissions,
    };
    let id = match existing {
        Some(x) => {
            permissions::update_role(conn, x.id, &input).await?;
            x.id
        }
        None => permissions::insert_role(conn, &input, false, NewUid::Given(&r.uid)).await?,
    };
    sqlx::query!(
        "UPDATE roles SET seq = ?, log_name = name WHERE id = ?",
        seq,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn apply_staff(
    conn: &mut SqliteConnection,
    seq: i64,
    author: &str,
    s: StaffState,
) -> Result<()> {
    // Theirs by uid; or the row made here for the same username and not placed yet (a desktop
    // that joined made its member before the log named them).
    let existing = match sqlx::query_scalar!("SELECT id FROM staff WHERE uid = ?", s.uid)
        .fetch_optional(&mut *conn)
        .await?
    {
        Some(id) => Some(id),
        None => {
            sqlx::query_scalar!(
                "SELECT id FROM staff WHERE username = ? AND seq IS NULL",
                s.username
            )
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    if s.deleted {
        if let Some(id) = existing {
            sqlx::query!("DELETE FROM staff WHERE id = ?", id)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(());
    }
    let Some(role_id) = sqlx::query_scalar!("SELECT id FROM roles WHERE uid = ?", s.role)
        .fetch_optional(&mut *conn)
        .await?
    else {
        tracing::warn!(
            seq,
            role = s.role,
            "a staff member's role is not known here: skipped"
        );
        return Ok(());
    };
    // The log decides who has a username: the member it gave it to keeps it.
    let log_holder = sqlx::query_scalar!(
        "SELECT id FROM staff WHERE log_username = ? AND uid IS NOT ?",
        s.username,
        s.uid
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut username = s.username.clone();
    if log_holder.is_some() {
        username = suffixed(&s.username, &s.uid);
        clash_noted(
            conn,
            author,
            format!("username “{}” is “{username}” here", s.username),
        )
        .await?;
    }
    let local = sqlx::query_scalar!(
        "SELECT id FROM staff WHERE username = ? AND id IS NOT ?",
        username,
        existing
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = local {
        let moved = suffixed(&username, &format!("local{id}"));
        sqlx::query!("UPDATE staff SET username = ? WHERE id = ?", moved, id)
            .execute(&mut *conn)
            .await?;
    }
    let name = s.name.trim();
    match existing {
        Some(id) => {
            sqlx::query!(
                "UPDATE staff SET uid = ?, name = ?, username = ?, log_username = ?, role_id = ?, active = ?, seq = ? WHERE id = ?",
                s.uid,
                name,
                username,
                username,
                role_id,
                s.active,
                seq,
                id
            )
            .execute(&mut *conn)
            .await?;
        }
        None => {
            let now = crate::now_ms();
            sqlx::query!(
                "INSERT INTO staff (uid, name, username, log_username, role_id, passphrase_hash, active, created_at, seq)
                 VALUES (?, ?, ?, ?, ?, '', ?, ?, ?)",
                s.uid,
                name,
                username,
                username,
                role_id,
                s.active,
                now,
                seq
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
