//! The team's contacts and groups: every change made here is an event in the outbox, written in
//! the change's transaction, and every event of the log is applied here by [`handler`], on every
//! desktop, in the log's order. A desktop's own events come back from the relay and are applied
//! again at their place in the log, so that a teammate's change that the log puts before them is
//! undone by them, as it is everywhere else.
//!
//! **Clashes.** Phone numbers and group names are unique. The log's order decides who keeps one:
//! the record that has it first in the log. A later create with the same phone is merged into
//! that record (its empty fields filled, its groups added) and its uid becomes an alias of the
//! survivor, so that later events naming it change the survivor; a later edit to a taken phone
//! keeps the record's phone and changes the rest. Both are written to the Activity Log, naming
//! whose change lost.
//!
//! These decisions look only at what the log says ([`seq`], `log_phone`, `log_name`: see the
//! migration `20261207000001_contacts_shared.sql`), never at a change made here that is not back
//! from the relay yet: such a change gives way (a record created here and not confirmed yet is
//! folded into the one the log gives the phone to; a phone changed here goes back to the log's),
//! and takes its place in the log when its own event arrives. So every desktop decides every
//! clash the same way, and their tables end up identical.

use sqlx::SqliteConnection;

use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Principal, SystemTask};
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;

/// A new record's id, shared by the whole team. UUIDv7: time-ordered, so that new records append
/// to the uid index instead of landing at random pages of it.
pub(crate) fn new_uid() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

pub(crate) use crmconnect_events::payloads::{
    ContactState, ContactsImported, Deleted, GroupState, Grouped, ImportEntry,
    MAX_IMPORT_PART_BYTES, MAX_UIDS,
};

// ---- what changes made here write -------------------------------------------------------------

/// An import's uid prefix: the first 24 hex digits of a UUIDv7 (its time and 48 random bits).
pub(crate) fn import_base() -> String {
    let mut uid = new_uid();
    uid.truncate(24);
    uid
}

/// The uid of the `n`-th contact an import created.
pub(crate) fn import_uid(base: &str, n: u64) -> String {
    format!("{base}{n:08x}")
}

/// A created contact as an import's event carries it ([`ImportEntry::Created`]): phone, name,
/// company, address, city, state, country, description.
pub(crate) fn created_entry(fields: [&str; 8]) -> String {
    serde_json::to_string(&fields).expect("an import entry serialises")
}

/// One part of an import's event: its entries as JSON, not yet compressed.
pub(crate) struct ImportPart {
    first: u64,
    json: Vec<u8>,
}

impl ImportPart {
    pub(crate) fn event(&self, base: &str, groups: &[String]) -> serde_json::Value {
        serde_json::to_value(ContactsImported {
            base: base.to_owned(),
            first: self.first,
            groups: groups.to_vec(),
            data: ContactsImported::pack(&self.json),
        })
        .expect("an import part serialises")
    }
}

/// A batch's entries, cut into parts of at most [`MAX_IMPORT_PART_BYTES`] of JSON.
pub(crate) struct ImportParts {
    done: Vec<ImportPart>,
    json: Vec<u8>,
    first: u64,
    next: u64,
}

impl ImportParts {
    /// Parts whose first created row is the import's `next`-th.
    pub(crate) fn new(next: u64) -> Self {
        ImportParts {
            done: Vec::new(),
            json: Vec::new(),
            first: next,
            next,
        }
    }

    fn push(&mut self, entry: &[u8], created: bool) {
        if !self.json.is_empty() && self.json.len() + entry.len() + 2 > MAX_IMPORT_PART_BYTES {
            self.cut();
        }
        self.json
            .push(if self.json.is_empty() { b'[' } else { b',' });
        self.json.extend_from_slice(entry);
        if created {
            self.next += 1;
        }
    }

    fn cut(&mut self) {
        if self.json.is_empty() {
            return;
        }
        let mut json = std::mem::take(&mut self.json);
        json.push(b']');
        self.done.push(ImportPart {
            first: self.first,
            json,
        });
        self.first = self.next;
    }

    /// A contact the import created, as [`created_entry`] wrote it.
    pub(crate) fn created(&mut self, entry: &str) {
        self.push(entry.as_bytes(), true);
    }

    /// A number the import found in the directory.
    pub(crate) fn existing(&mut self, phone: &str) {
        let entry = serde_json::to_vec(phone).expect("a phone serialises");
        self.push(&entry, false);
    }

    pub(crate) fn finish(mut self) -> Vec<ImportPart> {
        self.cut();
        self.done
    }
}

/// Contact `id`'s uid, written into its row if it had only its import's (see the migration): what
/// names it from now on is found by the uid index.
pub(crate) async fn ensure_uid(conn: &mut SqliteConnection, id: i64) -> Result<String> {
    sqlx::query!(
        "UPDATE contacts SET uid = (SELECT uid FROM contact_uids WHERE id = ?1) WHERE id = ?1 AND uid IS NULL",
        id
    )
    .execute(&mut *conn)
    .await?;
    if let Some(uid) = sqlx::query_scalar!("SELECT uid FROM contacts WHERE id = ?", id)
        .fetch_one(&mut *conn)
        .await?
    {
        return Ok(uid);
    }
    // A row from before the team's uids with none at all (cannot happen after the migration).
    let uid = new_uid();
    sqlx::query!("UPDATE contacts SET uid = ? WHERE id = ?", uid, id)
        .execute(&mut *conn)
        .await?;
    Ok(uid)
}

/// The row of the contact an import created as its `n`-th, named by the uid `base` + `n`, if it
/// has not been given its uid in its row yet.
async fn imported_row(conn: &mut SqliteConnection, uid: &str) -> Result<Option<i64>> {
    let (Some(base), Some(n)) = (
        uid.get(..24),
        uid.get(24..).and_then(|n| i64::from_str_radix(n, 16).ok()),
    ) else {
        return Ok(None);
    };
    if uid.len() != 32 {
        return Ok(None);
    }
    Ok(sqlx::query_scalar!(
        r#"SELECT c.id AS "id!" FROM contact_import_ranges r JOIN contacts c ON c.id = r.first_id + ?2 - r.first_n
           WHERE r.base = ?1 AND r.first_n <= ?2 AND ?2 < r.first_n + r.count AND c.uid IS NULL
             AND NOT EXISTS (SELECT 1 FROM contact_import_ranges l
                             WHERE l.rowid > r.rowid AND l.first_id <= c.id AND c.id < l.first_id + l.count)"#,
        base,
        n
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records that contacts `first_id`… (`count` of them) are the import's `first_n`-th….
pub(crate) fn import_range_sql() -> &'static str {
    "INSERT INTO contact_import_ranges (base, first_n, first_id, count) VALUES (?1, ?2, ?3, ?4)"
}

/// What a contact's whole-state events (created, updated) change, for
/// [`crate::outbox::superseded_here`]: a later change made here is not undone, for a moment, by
/// an earlier one of this desktop coming back. Only events that set every field count: the later
/// one then sets, when it arrives, all that the contact shows meanwhile.
pub(crate) fn subject(uid: &str) -> String {
    format!("contact:{uid}")
}

/// The contact with row id `id` as its event carries it.
pub(crate) async fn contact_state(conn: &mut SqliteConnection, id: i64) -> Result<ContactState> {
    let uid = ensure_uid(conn, id).await?;
    let r = sqlx::query!(
        r#"SELECT phone, name, company, address, city, state, country, description, wa_user_id,
                  username
           FROM contacts WHERE id = ?"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let groups = sqlx::query_scalar!(
        r#"SELECT g.uid AS "uid!" FROM contact_group_members m JOIN contact_groups g ON g.id = m.group_id
           WHERE m.contact_id = ? ORDER BY g.uid"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(ContactState {
        uid,
        phone: r.phone.unwrap_or_default(),
        wa_user_id: r.wa_user_id,
        username: r.username,
        name: r.name,
        company: r.company,
        address: r.address,
        city: r.city,
        state: r.state,
        country: r.country,
        description: r.description,
        groups,
    })
}

pub(crate) async fn group_state(conn: &mut SqliteConnection, id: i64) -> Result<GroupState> {
    Ok(sqlx::query_as!(
        GroupState,
        r#"SELECT uid AS "uid!", name, description FROM contact_groups WHERE id = ?"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?)
}

pub(crate) async fn contact_uids(conn: &mut SqliteConnection, ids: &[i64]) -> Result<Vec<String>> {
    let mut uids = Vec::with_capacity(ids.len());
    for &id in ids {
        let found = sqlx::query_scalar!("SELECT count(*) FROM contacts WHERE id = ?", id)
            .fetch_one(&mut *conn)
            .await?;
        if found > 0 {
            uids.push(ensure_uid(conn, id).await?);
        }
    }
    Ok(uids)
}

pub(crate) async fn group_uids(conn: &mut SqliteConnection, ids: &[i64]) -> Result<Vec<String>> {
    let mut uids = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(uid) = sqlx::query_scalar!("SELECT uid FROM contact_groups WHERE id = ?", id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten()
        {
            uids.push(uid);
        }
    }
    Ok(uids)
}

/// Before a change made here moves a contact's phone: remember the phone the log gives it, once
/// (for a record created here and not confirmed yet, the phone its creation carries).
pub(crate) async fn keep_log_phone(conn: &mut SqliteConnection, id: i64, new: &str) -> Result<()> {
    sqlx::query!(
        "UPDATE contacts SET log_phone = CASE
             WHEN coalesce(log_phone, phone) = ?2 THEN NULL
             ELSE coalesce(log_phone, phone) END
         WHERE id = ?1",
        id,
        new
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The same for a group's name.
pub(crate) async fn keep_log_name(conn: &mut SqliteConnection, id: i64, new: &str) -> Result<()> {
    sqlx::query!(
        "UPDATE contact_groups SET log_name = CASE
             WHEN coalesce(log_name, name) = ?2 COLLATE NOCASE THEN NULL
             ELSE coalesce(log_name, name) END
         WHERE id = ?1",
        id,
        new
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Before a change made here deletes contact `id`: the log still gives it its phone until the
/// deletion comes back, and clashes are decided on that.
pub(crate) async fn tombstone_contact(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    let placed = sqlx::query_scalar!(
        "SELECT count(*) FROM contacts WHERE id = ? AND seq IS NOT NULL",
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if placed == 0 {
        return Ok(()); // not in the log (or no such contact: the caller says so)
    }
    ensure_uid(conn, id).await?;
    sqlx::query!(
        "INSERT OR REPLACE INTO contact_tombstones (kind, uid, key)
         SELECT 'contact', uid, coalesce(log_phone, phone, 'user:' || wa_user_id) FROM contacts WHERE id = ? AND seq IS NOT NULL",
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The same for a group and its name.
pub(crate) async fn tombstone_group(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    sqlx::query!(
        "INSERT OR REPLACE INTO contact_tombstones (kind, uid, key)
         SELECT 'group', uid, coalesce(log_name, name) FROM contact_groups WHERE id = ? AND seq IS NOT NULL",
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- applying the log -------------------------------------------------------------------------

inventory::submit! { crate::handlers::DefaultHandler { order: 30, make: handler } }

/// The contacts projection: applies the log's contact and group events on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "contacts projection",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    let op = match parse(&e.kind, e.raw.get()) {
        Ok(Some(op)) => op,
        Ok(None) => return Ok(()),
        // An event this version cannot read is skipped, not retried for ever: the log names it.
        Err(err) => {
            tracing::warn!(seq = e.seq, kind = %e.kind, error = %err, "a contacts event that cannot be read is skipped");
            return Ok(());
        }
    };
    if let Err(problem) = op.check() {
        tracing::warn!(seq = e.seq, kind = %e.kind, problem, "a contacts event no desktop could make is skipped");
        return Ok(());
    }
    let screen = match op {
        Op::GroupCreated(_) | Op::GroupUpdated(_) | Op::GroupsDeleted(_) => Screen::Groups,
        _ => Screen::BulkContacts,
    };
    let author = e.staff.clone().unwrap_or_else(|| "someone".into());
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    // Checked again on apply, as on the relay: a tampered desktop's change is ignored here too.
    if !crate::staff::shared::author_allowed(&mut tx, e, screen, e.kind.clone()).await? {
        tx.commit().await?;
        return Ok(());
    }
    // This desktop's own change coming back while a later one of the same contact is on its way:
    // applied for the log's sake (its place, its phone), while the contact shows the later change.
    let shown_here = match &op {
        Op::ContactCreated(s) | Op::ContactUpdated(s) => {
            if crate::outbox::superseded_here(&mut tx, &e.key, &subject(&s.uid)).await? {
                shown(&mut tx, &s.uid).await?
            } else {
                None
            }
        }
        _ => None,
    };
    let mut apply = Apply {
        tx: &mut tx,
        seq: e.seq,
        author: &author,
    };
    match op {
        Op::ContactCreated(s) => apply.contact_created(s).await?,
        Op::ContactUpdated(s) => apply.contact_updated(s).await?,
        Op::ContactsDeleted(d) => apply.contacts_deleted(d).await?,
        Op::Grouped(g) => apply.grouped(g).await?,
        Op::Imported(part) => apply.imported(part).await?,
        Op::GroupCreated(s) => apply.group_created(s).await?,
        Op::GroupUpdated(s) => apply.group_updated(s).await?,
        Op::GroupsDeleted(d) => apply.groups_deleted(d).await?,
    }
    if let Some(shown) = shown_here {
        show_again(&mut tx, shown).await?;
    }
    tx.commit().await?;
    ws.records_changed(screen);
    if screen == Screen::Groups {
        ws.records_changed(Screen::BulkContacts); // its group names and filter
    }
    Ok(())
}

/// A contact as this desktop shows it, with changes made here that the log does not have yet.
struct Shown {
    id: i64,
    phone: Option<String>,
    fields: ContactState,
    groups: Vec<i64>,
}

async fn shown(conn: &mut SqliteConnection, uid: &str) -> Result<Option<Shown>> {
    let mut uid = uid.to_owned();
    for _ in 0..16 {
        let next = sqlx::query_scalar!(
            "SELECT into_uid FROM contact_aliases WHERE kind = 'contact' AND uid = ?",
            uid
        )
        .fetch_optional(&mut *conn)
        .await?;
        match next {
            Some(n) if n != uid => uid = n,
            _ => break,
        }
    }
    let Some(id) = sqlx::query_scalar!(r#"SELECT id AS "id!" FROM contacts WHERE uid = ?"#, uid)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let fields = contact_state(conn, id).await?;
    let groups = sqlx::query_scalar!(
        "SELECT group_id FROM contact_group_members WHERE contact_id = ?",
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(Shown {
        id,
        phone: Some(fields.phone.clone()).filter(|p| !p.is_empty()),
        fields,
        groups,
    }))
}

/// After an earlier own event was applied for the log's sake: the contact shows again what it
/// showed (its later change here), its phone too when no other contact has taken it meanwhile;
/// the log's phone stays in `log_phone` until the later change comes back. A contact the event
/// merged into another is left as the log says.
async fn show_again(conn: &mut SqliteConnection, v: Shown) -> Result<()> {
    let Some(phone) = sqlx::query_scalar!("SELECT phone FROM contacts WHERE id = ?", v.id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(());
    };
    let f = &v.fields;
    sqlx::query!(
        "UPDATE contacts SET name = ?2, company = ?3, address = ?4, city = ?5, state = ?6,
             country = ?7, description = ?8
         WHERE id = ?1",
        v.id,
        f.name,
        f.company,
        f.address,
        f.city,
        f.state,
        f.country,
        f.description
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM contact_group_members WHERE contact_id = ?",
        v.id
    )
    .execute(&mut *conn)
    .await?;
    for g in &v.groups {
        sqlx::query!(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
             SELECT ?, id FROM contact_groups WHERE id = ?",
            v.id,
            g
        )
        .execute(&mut *conn)
        .await?;
    }
    if let Some(shown_phone) = v.phone
        && Some(&shown_phone) != phone.as_ref()
        && !shown_phone.starts_with('~')
    {
        let taken = sqlx::query_scalar!(
            "SELECT count(*) FROM contacts WHERE phone = ? AND id <> ?",
            shown_phone,
            v.id
        )
        .fetch_one(&mut *conn)
        .await?;
        if taken == 0 {
            sqlx::query!(
                "UPDATE contacts SET log_phone = coalesce(log_phone, phone), phone = ? WHERE id = ?",
                shown_phone,
                v.id
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn parse(kind: &str, raw: &str) -> std::result::Result<Option<Op>, serde_json::Error> {
    Ok(Some(match kind {
        "contact.created" => Op::ContactCreated(serde_json::from_str(raw)?),
        "contact.updated" => Op::ContactUpdated(serde_json::from_str(raw)?),
        "contact.deleted" => Op::ContactsDeleted(serde_json::from_str(raw)?),
        "contacts.grouped" => Op::Grouped(serde_json::from_str(raw)?),
        "contacts.imported" => Op::Imported(serde_json::from_str(raw)?),
        "group.created" => Op::GroupCreated(serde_json::from_str(raw)?),
        "group.updated" => Op::GroupUpdated(serde_json::from_str(raw)?),
        "group.deleted" => Op::GroupsDeleted(serde_json::from_str(raw)?),
        _ => return Ok(None),
    }))
}

/// The shape of an E.164 number (what every desktop stores; the relay checks shapes only): "+"
/// and at most 15 digits. Some valid numbers have six (+98 9601), so no more is asked for.
fn is_e164(p: &str) -> bool {
    p.len() >= 2
        && p.len() <= 16
        && p.starts_with('+')
        && p[1..].bytes().all(|b| b.is_ascii_digit())
}

/// What makes a contact one person in the log: its phone, or, for a customer reached only by
/// WhatsApp user id, `user:<id>` (the key its tombstone keeps too).
fn key(c: &ContactState) -> Option<String> {
    if !c.phone.is_empty() {
        return Some(c.phone.clone());
    }
    c.wa_user_id
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| format!("user:{u}"))
}

/// [`key`], for a state [`Op::check`] let through.
fn log_key(c: &ContactState) -> String {
    key(c).unwrap_or_default()
}

/// A contact as the Activity Log names it: its number, else its username or user id.
fn shown_as(c: &ContactState) -> String {
    if !c.phone.is_empty() {
        c.phone.clone()
    } else if !c.username.is_empty() {
        format!("@{}", c.username)
    } else {
        format!(
            "WhatsApp user {}",
            c.wa_user_id.as_deref().unwrap_or_default()
        )
    }
}

impl Op {
    /// What a desktop of ours never publishes (a tampered one might): refused on apply.
    fn check(&self) -> std::result::Result<(), &'static str> {
        match self {
            Op::ContactCreated(c) | Op::ContactUpdated(c)
                if !(is_e164(&c.phone) || c.phone.is_empty() && key(c).is_some()) =>
            {
                Err("neither a phone in E.164 nor a WhatsApp user id")
            }
            Op::GroupCreated(g) | Op::GroupUpdated(g) if g.name.trim().is_empty() => {
                Err("a group without a name")
            }
            _ => Ok(()),
        }
    }
}

enum Op {
    ContactCreated(ContactState),
    ContactUpdated(ContactState),
    ContactsDeleted(Deleted),
    Grouped(Grouped),
    Imported(ContactsImported),
    GroupCreated(GroupState),
    GroupUpdated(GroupState),
    GroupsDeleted(Deleted),
}

/// A contact row as the clash rules read it.
struct Row {
    id: i64,
    seq: Option<i64>,
}

struct Apply<'a, 'c> {
    tx: &'a mut sqlx::Transaction<'c, sqlx::Sqlite>,
    seq: i64,
    author: &'a str,
}

impl Apply<'_, '_> {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut *self.tx
    }

    /// The uid a record is known by now: itself, or the survivor it was merged into.
    async fn resolve(&mut self, kind: &str, uid: &str) -> Result<String> {
        let mut uid = uid.to_owned();
        for _ in 0..16 {
            let next = sqlx::query_scalar!(
                "SELECT into_uid FROM contact_aliases WHERE kind = ? AND uid = ?",
                kind,
                uid
            )
            .fetch_optional(self.conn())
            .await?;
            match next {
                Some(n) if n != uid => uid = n,
                _ => break,
            }
        }
        Ok(uid)
    }

    async fn alias(&mut self, kind: &str, uid: &str, into: &str) -> Result<()> {
        sqlx::query!(
            "INSERT INTO contact_aliases (kind, uid, into_uid) VALUES (?, ?, ?)
             ON CONFLICT (kind, uid) DO UPDATE SET into_uid = excluded.into_uid",
            kind,
            uid,
            into
        )
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn note(
        &mut self,
        screen: Screen,
        action: &'static str,
        target: String,
        detail: String,
    ) -> Result<()> {
        audit::insert(
            self.conn(),
            &Principal::system(SystemTask::Sync),
            &Change::new(screen, action, target),
            audit::Outcome::Ok,
            Some(&detail),
        )
        .await
    }

    // ---- contacts ------------------------------------------------------------------------------

    async fn contact_by_uid(&mut self, uid: &str) -> Result<Option<Row>> {
        let row = sqlx::query_as!(
            Row,
            r#"SELECT id AS "id!", seq FROM contacts WHERE uid = ?"#,
            uid
        )
        .fetch_optional(self.conn())
        .await?;
        if row.is_some() {
            return Ok(row);
        }
        let Some(id) = imported_row(self.conn(), uid).await? else {
            return Ok(None);
        };
        ensure_uid(self.conn(), id).await?;
        Ok(sqlx::query_as!(
            Row,
            r#"SELECT id AS "id!", seq FROM contacts WHERE id = ?"#,
            id
        )
        .fetch_optional(self.conn())
        .await?)
    }

    /// The contact the log gives `s`'s key to (see [`key`]), other than `except`.
    async fn holder(&mut self, s: &ContactState, except: Option<i64>) -> Result<Option<i64>> {
        if !s.phone.is_empty() {
            return self.log_holder(&s.phone, except).await;
        }
        let Some(user) = s.wa_user_id.as_deref() else {
            return Ok(None);
        };
        let except = except.unwrap_or(0);
        Ok(sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM contacts
               WHERE wa_user_id = ?1 AND phone IS NULL AND log_phone IS NULL AND id <> ?2
                 AND seq IS NOT NULL
               LIMIT 1"#,
            user,
            except
        )
        .fetch_optional(self.conn())
        .await?)
    }

    /// The contact the log gives `phone` to, other than `except`: one whose phone a change made
    /// here moved away from it, or one that shows it and agrees with the log.
    async fn log_holder(&mut self, phone: &str, except: Option<i64>) -> Result<Option<i64>> {
        let except = except.unwrap_or(0);
        Ok(sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM contacts WHERE log_phone = ?1 AND id <> ?2 AND seq IS NOT NULL
               UNION ALL
               SELECT id AS "id!" FROM contacts WHERE phone = ?1 AND id <> ?2 AND seq IS NOT NULL AND log_phone IS NULL
               LIMIT 1"#,
            phone,
            except
        )
        .fetch_optional(self.conn())
        .await?)
    }

    /// Makes `phone` free for `owner`, to whom the log gives it: a record made here and not in the
    /// log yet steps aside; one whose phone a change made here moved to it goes back to the log's
    /// phone (which may free another in turn).
    async fn make_room(&mut self, owner: i64, phone: &str, depth: u32) -> Result<()> {
        let shown = sqlx::query!(
            r#"SELECT id AS "id!", seq, log_phone FROM contacts WHERE phone = ? AND id <> ?"#,
            phone,
            owner
        )
        .fetch_optional(self.conn())
        .await?;
        let Some(v) = shown else { return Ok(()) };
        match (v.seq, v.log_phone) {
            // Made here and not in the log yet: it steps aside (a placeholder number) until its
            // creation arrives, which then takes the number or is merged, as the log says there.
            (None, _) => {
                ensure_uid(self.conn(), v.id).await?;
                sqlx::query!(
                    "UPDATE contacts SET log_phone = coalesce(log_phone, phone), phone = '~' || uid WHERE id = ?",
                    v.id
                )
                .execute(self.conn())
                .await?;
                Ok(())
            }
            // Shown with a phone a change made here gave it: back to the phone the log gives it,
            // until that change arrives.
            (Some(_), Some(lp)) if depth < 64 => {
                Box::pin(self.make_room(v.id, &lp, depth + 1)).await?;
                sqlx::query!(
                    "UPDATE contacts SET phone = ?, log_phone = NULL WHERE id = ?",
                    lp,
                    v.id
                )
                .execute(self.conn())
                .await?;
                Ok(())
            }
            // Both hold it in the log: cannot happen when the caller checked the log first.
            _ => Err(super::ContactsError::Replica(format!(
                "{phone} is the log's for two records"
            ))
            .into()),
        }
    }

    /// A record made here and not confirmed yet gives way to `into`: its uid becomes an alias,
    /// its empty-in-`into` fields and its groups move over. Its own event merges it the same way
    /// everywhere when it arrives.
    async fn fold_contact(&mut self, from: i64, into: i64) -> Result<()> {
        let from_uid = ensure_uid(self.conn(), from).await?;
        let into_uid = ensure_uid(self.conn(), into).await?;
        let state = contact_state(self.conn(), from).await?;
        self.alias("contact", &from_uid, &into_uid).await?;
        self.fill_empty(into, &state).await?;
        sqlx::query!(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
             SELECT ?, group_id FROM contact_group_members WHERE contact_id = ?",
            into,
            from
        )
        .execute(self.conn())
        .await?;
        sqlx::query!("DELETE FROM contacts WHERE id = ?", from)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn fill_empty(&mut self, id: i64, s: &ContactState) -> Result<()> {
        sqlx::query!(
            "UPDATE contacts SET
                 name = CASE WHEN name = '' THEN ?2 ELSE name END,
                 company = CASE WHEN company = '' THEN ?3 ELSE company END,
                 address = CASE WHEN address = '' THEN ?4 ELSE address END,
                 city = CASE WHEN city = '' THEN ?5 ELSE city END,
                 state = CASE WHEN state = '' THEN ?6 ELSE state END,
                 country = CASE WHEN country = '' THEN ?7 ELSE country END,
                 description = CASE WHEN description = '' THEN ?8 ELSE description END,
                 wa_user_id = coalesce(wa_user_id, ?9),
                 username = CASE WHEN username = '' THEN ?10 ELSE username END
             WHERE id = ?1",
            id,
            s.name,
            s.company,
            s.address,
            s.city,
            s.state,
            s.country,
            s.description,
            s.wa_user_id,
            s.username
        )
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn add_groups(&mut self, id: i64, groups: &[String]) -> Result<()> {
        for g in groups {
            let g = self.resolve("group", g).await?;
            sqlx::query!(
                "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
                 SELECT ?, id FROM contact_groups WHERE uid = ?",
                id,
                g
            )
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Every field, the phone and the groups of row `id` as the log now says, and its place in it.
    async fn set_contact(&mut self, id: i64, phone: &str, s: &ContactState) -> Result<()> {
        let phone = (!phone.is_empty()).then_some(phone);
        if let Some(phone) = phone {
            self.make_room(id, phone, 0).await?;
        }
        let (now, seq) = (crate::now_ms(), self.seq);
        sqlx::query!(
            "UPDATE contacts SET phone = ?2, log_phone = NULL, seq = ?3, name = ?4, company = ?5,
                 address = ?6, city = ?7, state = ?8, country = ?9, description = ?10, updated_at = ?11,
                 wa_user_id = coalesce(?12, wa_user_id), username = ?13
             WHERE id = ?1",
            id,
            phone,
            seq,
            s.name,
            s.company,
            s.address,
            s.city,
            s.state,
            s.country,
            s.description,
            now,
            s.wa_user_id,
            s.username
        )
        .execute(self.conn())
        .await?;
        sqlx::query!("DELETE FROM contact_group_members WHERE contact_id = ?", id)
            .execute(self.conn())
            .await?;
        self.add_groups(id, &s.groups).await
    }

    /// A later record with a phone the log already gave `into`: merged into it.
    async fn merge_contact(&mut self, into: i64, s: &ContactState) -> Result<()> {
        self.fill_empty(into, s).await?;
        self.add_groups(into, &s.groups).await?;
        let seq = self.seq;
        sqlx::query!("UPDATE contacts SET seq = ? WHERE id = ?", seq, into)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// [`Apply::merge_contact`], and its note in the Activity Log: the same on every desktop, at
    /// the place in the log where the later record arrives.
    async fn merged_contact(&mut self, into: i64, s: &ContactState) -> Result<()> {
        self.merge_contact(into, s).await?;
        let name = sqlx::query_scalar!("SELECT name FROM contacts WHERE id = ?", into)
            .fetch_one(self.conn())
            .await?;
        let who = shown_as(s);
        let shown = if name.is_empty() { who.clone() } else { name };
        let detail = format!(
            "{}'s new contact {who} was merged into “{shown}”, which had {} first",
            self.author,
            if s.phone.is_empty() {
                "the WhatsApp user"
            } else {
                "the number"
            }
        );
        self.note(
            Screen::BulkContacts,
            "contacts.merged",
            format!("contact {who}"),
            detail,
        )
        .await
    }

    /// Merged into a record the log still has and this desktop deleted (its deletion is on its
    /// way): the deletion takes this one too, as everywhere.
    async fn merged_into_gone(&mut self, s: &ContactState) -> Result<()> {
        let who = shown_as(s);
        let detail = format!(
            "{}'s new contact {who} was merged into the contact that had it first",
            self.author
        );
        self.note(
            Screen::BulkContacts,
            "contacts.merged",
            format!("contact {who}"),
            detail,
        )
        .await
    }

    /// A record this desktop deleted whose deletion is not back from the relay: the log still
    /// gives it `key` (a phone, a group's name).
    async fn gone_holder(&mut self, kind: &str, key: &str) -> Result<Option<String>> {
        self.gone_holder_except(kind, key, "").await
    }

    async fn gone_holder_except(
        &mut self,
        kind: &str,
        key: &str,
        except: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT uid FROM contact_tombstones WHERE kind = ? AND key = ? COLLATE NOCASE AND uid <> ? LIMIT 1",
            kind,
            key,
            except
        )
        .fetch_optional(self.conn())
        .await?)
    }

    async fn contact_created(&mut self, s: ContactState) -> Result<()> {
        let uid = self.resolve("contact", &s.uid).await?;
        if let Some(row) = self.contact_by_uid(&uid).await? {
            if row.seq.is_some_and(|q| q >= self.seq) {
                return Ok(()); // applied before
            }
            if uid == s.uid {
                // Made here: its own event, at its place in the log, where another record may
                // have had the number first. Then it is merged into that one, as everywhere.
                if let Some(holder) = self.holder(&s, Some(row.id)).await? {
                    self.fold_contact(row.id, holder).await?;
                    return self.merged_contact(holder, &s).await;
                }
                if let Some(gone) = self.gone_holder("contact", &log_key(&s)).await? {
                    self.alias("contact", &s.uid, &gone).await?;
                    sqlx::query!("DELETE FROM contacts WHERE id = ?", row.id)
                        .execute(self.conn())
                        .await?;
                    return self.merged_into_gone(&s).await;
                }
                return self.set_contact(row.id, &s.phone, &s).await;
            }
            // Folded here into the record the log gave its phone to; merged like everywhere.
            return self.merged_contact(row.id, &s).await;
        }
        if let Some(holder) = self.holder(&s, None).await? {
            let survivor = ensure_uid(self.conn(), holder).await?;
            self.alias("contact", &s.uid, &survivor).await?;
            return self.merged_contact(holder, &s).await;
        }
        if let Some(gone) = self.gone_holder("contact", &log_key(&s)).await? {
            self.alias("contact", &s.uid, &gone).await?;
            return self.merged_into_gone(&s).await;
        }
        // A new record: inserted under a placeholder phone, then given its own once it is free.
        let (now, placeholder) = (crate::now_ms(), format!("~{}", s.uid));
        let id = sqlx::query_scalar!(
            r#"INSERT INTO contacts (uid, phone, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id AS "id!""#,
            s.uid,
            placeholder,
            now,
            now
        )
        .fetch_one(self.conn())
        .await?;
        self.set_contact(id, &s.phone, &s).await
    }

    async fn contact_updated(&mut self, s: ContactState) -> Result<()> {
        let uid = self.resolve("contact", &s.uid).await?;
        let Some(row) = self.contact_by_uid(&uid).await? else {
            // Deleted earlier in the log, or here with the deletion on its way: then the log
            // still has it, with the number this change gives it unless another has that.
            let key = log_key(&s);
            let free = self.holder(&s, None).await?.is_none()
                && self
                    .gone_holder_except("contact", &key, &uid)
                    .await?
                    .is_none();
            if free {
                sqlx::query!(
                    "UPDATE contact_tombstones SET key = ? WHERE kind = 'contact' AND uid = ?",
                    key,
                    uid
                )
                .execute(self.conn())
                .await?;
            }
            return Ok(());
        };
        if row.seq.is_some_and(|q| q >= self.seq) {
            return Ok(());
        }
        let mut phone = s.phone.clone();
        let holder = if s.phone.is_empty() {
            None // its user id is not changed by an edit
        } else {
            match self.log_holder(&s.phone, Some(row.id)).await? {
                Some(h) => Some(Some(h)),
                None => self.gone_holder("contact", &s.phone).await?.map(|_| None),
            }
        };
        if let Some(holder) = holder {
            // The phone is another's in the log: this record keeps the log's phone (none, for
            // one reached by user id).
            let current = sqlx::query_scalar!(
                r#"SELECT coalesce(log_phone, phone) AS "p: String" FROM contacts WHERE id = ?"#,
                row.id
            )
            .fetch_one(self.conn())
            .await?
            .unwrap_or_default();
            let other = match holder {
                Some(h) => {
                    sqlx::query_scalar!("SELECT name FROM contacts WHERE id = ?", h)
                        .fetch_one(self.conn())
                        .await?
                }
                None => String::new(), // deleted here, not yet in the log
            };
            let detail = format!(
                "{}'s change of {} to {} was kept without the number: {} has it",
                self.author,
                if current.is_empty() {
                    shown_as(&s)
                } else {
                    current.clone()
                },
                s.phone,
                if other.is_empty() {
                    "another contact".to_owned()
                } else {
                    format!("“{other}”")
                }
            );
            self.note(
                Screen::BulkContacts,
                "contacts.kept_number",
                format!("contact {current}"),
                detail,
            )
            .await?;
            phone = current;
        }
        self.set_contact(row.id, &phone, &s).await
    }

    async fn contacts_deleted(&mut self, d: Deleted) -> Result<()> {
        for uid in &d.uids {
            let uid = self.resolve("contact", uid).await?;
            sqlx::query!(
                "DELETE FROM contact_tombstones WHERE kind = 'contact' AND uid = ?",
                uid
            )
            .execute(self.conn())
            .await?;
            if let Some(row) = self.contact_by_uid(&uid).await? {
                sqlx::query!("DELETE FROM contacts WHERE id = ?", row.id)
                    .execute(self.conn())
                    .await?;
            }
        }
        Ok(())
    }

    async fn grouped(&mut self, g: Grouped) -> Result<()> {
        let seq = self.seq;
        for c in &g.contacts {
            let c = self.resolve("contact", c).await?;
            let Some(row) = self.contact_by_uid(&c).await? else {
                continue; // deleted earlier in the log
            };
            if row.seq.is_some_and(|q| q >= seq) {
                continue; // applied before (a batch applied again after a crash)
            }
            self.add_groups(row.id, &g.groups).await?;
            sqlx::query!("UPDATE contacts SET seq = ? WHERE id = ?", seq, row.id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// One part of an import (a teammate's, or this desktop's own coming back). Rows take a fast
    /// path, a few prepared statements each, when nothing can clash: a number no record has, or
    /// this desktop's own row confirmed as it was made. The rest (a number another record has,
    /// or one the log gives to a record shown here otherwise) take the careful path of a single
    /// creation, with its merges and notes.
    async fn imported(&mut self, part: ContactsImported) -> Result<()> {
        let entries = match part.entries() {
            Ok(e) => e,
            Err(problem) => {
                tracing::warn!(
                    seq = self.seq,
                    problem,
                    "an import part that cannot be read is skipped"
                );
                return Ok(());
            }
        };
        let mut groups = Vec::new();
        for g in &part.groups {
            let g = self.resolve("group", g).await?;
            if let Some(row) = self.group_by_uid(&g).await? {
                groups.push(row.id); // a group deleted earlier in the log is left out
            }
        }
        let special: std::collections::HashSet<String> = sqlx::query_scalar!(
            r#"SELECT log_phone AS "p!: String" FROM contacts WHERE log_phone IS NOT NULL
               UNION ALL SELECT key FROM contact_tombstones WHERE kind = 'contact'"#
        )
        .fetch_all(self.conn())
        .await?
        .into_iter()
        .collect();
        let (seq, now) = (self.seq, crate::now_ms());
        let mut careful: Vec<ContactState> = Vec::new();
        let mut existing: Vec<String> = Vec::new();
        {
            let mut lock = self.conn().lock_handle().await?;
            let fast = super::import::blocking(|| -> std::result::Result<(), String> {
                use crate::db::raw::{Raw, Value};
                let db = Raw::new(&mut lock);
                let mut insert = db.prepare(
                    "INSERT INTO contacts (uid, phone, name, company, address, city, state, country, description, created_at, updated_at, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) ON CONFLICT DO NOTHING",
                )?;
                // This desktop's own row, as it made it, confirmed by the log. Its uid is its
                // import's, implicitly (the newest range covering its id).
                let mut confirm = db.prepare(
                    "UPDATE contacts SET seq = ?1
                     WHERE id = (SELECT r.first_id + ?3 - r.first_n FROM contact_import_ranges r
                                 WHERE r.base = ?2 AND r.first_n <= ?3 AND ?3 < r.first_n + r.count
                                   AND NOT EXISTS (SELECT 1 FROM contact_import_ranges l
                                       WHERE l.rowid > r.rowid AND l.first_id <= r.first_id + ?3 - r.first_n
                                         AND r.first_id + ?3 - r.first_n < l.first_id + l.count))
                       AND uid IS NULL AND seq IS NULL AND log_phone IS NULL AND phone = ?4
                     RETURNING id",
                )?;
                let mut member = db.prepare(
                    "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id) VALUES (?1, ?2)",
                )?;
                let mut n = part.first;
                for entry in entries {
                    let fields = match entry {
                        ImportEntry::Existing(phone) => {
                            existing.push(phone);
                            continue;
                        }
                        ImportEntry::Created(fields) => fields,
                    };
                    let uid = import_uid(&part.base, n);
                    n += 1;
                    let [
                        phone,
                        name,
                        company,
                        address,
                        city,
                        state,
                        country,
                        description,
                    ] = <[String; 8]>::try_from(fields)
                        .map_err(|f| format!("a row of {} fields", f.len()))?;
                    if !is_e164(&phone) {
                        continue; // no desktop of ours makes it (the relay checks the shape only)
                    }
                    let (mut id, mut inserted) = (None, false);
                    if !special.contains(&phone) {
                        fn text(t: &str) -> Value<'_> {
                            Value::Text(t)
                        }
                        let (_, changed) = insert.run(&[
                            Value::Text(&uid),
                            text(&phone),
                            text(&name),
                            text(&company),
                            text(&address),
                            text(&city),
                            text(&state),
                            text(&country),
                            text(&description),
                            Value::Int(now),
                            Value::Int(seq),
                        ])?;
                        inserted = changed == 1;
                        id = if inserted {
                            Some(db.last_insert_rowid())
                        } else {
                            confirm
                                .run(&[
                                    Value::Int(seq),
                                    Value::Text(&part.base),
                                    Value::Int(n as i64 - 1),
                                    Value::Text(&phone),
                                ])?
                                .0
                        };
                    }
                    match id {
                        // A new row joins the part's groups; this desktop's own row joined
                        // them when it was imported (and follows its groups' merges since).
                        Some(id) if inserted => {
                            for &g in &groups {
                                member.run(&[Value::Int(id), Value::Int(g)])?;
                            }
                        }
                        Some(_) => {}
                        None => careful.push(ContactState {
                            uid,
                            phone,
                            name,
                            company,
                            address,
                            city,
                            state,
                            country,
                            description,
                            groups: part.groups.clone(),
                            wa_user_id: None,
                            username: String::new(),
                        }),
                    }
                }
                Ok(())
            });
            fast.map_err(super::ContactsError::Replica)?;
        }
        for s in careful {
            self.contact_created(s).await?;
        }
        for phone in existing {
            let Some(holder) = self.log_holder(&phone, None).await? else {
                continue;
            };
            let placed = sqlx::query_scalar!("SELECT seq FROM contacts WHERE id = ?", holder)
                .fetch_one(self.conn())
                .await?;
            if placed.is_some_and(|q| q >= seq) {
                continue; // applied before
            }
            self.add_groups(holder, &part.groups).await?;
            sqlx::query!("UPDATE contacts SET seq = ? WHERE id = ?", seq, holder)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    // ---- groups --------------------------------------------------------------------------------

    async fn group_by_uid(&mut self, uid: &str) -> Result<Option<Row>> {
        Ok(sqlx::query_as!(
            Row,
            r#"SELECT id AS "id!", seq FROM contact_groups WHERE uid = ?"#,
            uid
        )
        .fetch_optional(self.conn())
        .await?)
    }

    async fn group_log_holder(&mut self, name: &str, except: Option<i64>) -> Result<Option<i64>> {
        let except = except.unwrap_or(0);
        Ok(sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM contact_groups WHERE log_name = ?1 COLLATE NOCASE AND id <> ?2 AND seq IS NOT NULL
               UNION ALL
               SELECT id AS "id!" FROM contact_groups
                   WHERE name = ?1 COLLATE NOCASE AND id <> ?2 AND seq IS NOT NULL AND log_name IS NULL
               LIMIT 1"#,
            name,
            except
        )
        .fetch_optional(self.conn())
        .await?)
    }

    async fn make_group_room(&mut self, owner: i64, name: &str, depth: u32) -> Result<()> {
        let shown = sqlx::query!(
            r#"SELECT id AS "id!", seq, log_name FROM contact_groups WHERE name = ? COLLATE NOCASE AND id <> ?"#,
            name,
            owner
        )
        .fetch_optional(self.conn())
        .await?;
        let Some(v) = shown else { return Ok(()) };
        match (v.seq, v.log_name) {
            (None, _) => {
                sqlx::query!(
                    "UPDATE contact_groups SET log_name = coalesce(log_name, name), name = '~' || uid WHERE id = ?",
                    v.id
                )
                .execute(self.conn())
                .await?;
                Ok(())
            }
            (Some(_), Some(ln)) if depth < 64 => {
                Box::pin(self.make_group_room(v.id, &ln, depth + 1)).await?;
                sqlx::query!(
                    "UPDATE contact_groups SET name = ?, log_name = NULL WHERE id = ?",
                    ln,
                    v.id
                )
                .execute(self.conn())
                .await?;
                Ok(())
            }
            _ => Err(super::ContactsError::Replica(format!(
                "the group name “{name}” is the log's for two groups"
            ))
            .into()),
        }
    }

    async fn fold_group(&mut self, from: i64, into: i64) -> Result<()> {
        let from_state = group_state(self.conn(), from).await?;
        let into_uid = sqlx::query_scalar!(
            r#"SELECT uid AS "uid!" FROM contact_groups WHERE id = ?"#,
            into
        )
        .fetch_one(self.conn())
        .await?;
        self.alias("group", &from_state.uid, &into_uid).await?;
        self.merge_group(into, &from_state, false).await?;
        sqlx::query!(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
             SELECT contact_id, ? FROM contact_group_members WHERE group_id = ?",
            into,
            from
        )
        .execute(self.conn())
        .await?;
        sqlx::query!("DELETE FROM contact_groups WHERE id = ?", from)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn merge_group(&mut self, into: i64, s: &GroupState, placed: bool) -> Result<()> {
        sqlx::query!(
            "UPDATE contact_groups SET description = CASE WHEN description = '' THEN ? ELSE description END WHERE id = ?",
            s.description,
            into
        )
        .execute(self.conn())
        .await?;
        if placed {
            let seq = self.seq;
            sqlx::query!("UPDATE contact_groups SET seq = ? WHERE id = ?", seq, into)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn set_group(&mut self, id: i64, name: &str, s: &GroupState) -> Result<()> {
        self.make_group_room(id, name, 0).await?;
        let seq = self.seq;
        sqlx::query!(
            "UPDATE contact_groups SET name = ?2, log_name = NULL, seq = ?3, description = ?4 WHERE id = ?1",
            id,
            name,
            seq,
            s.description
        )
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn merged_group(&mut self, into: i64, s: &GroupState) -> Result<()> {
        self.merge_group(into, s, true).await?;
        let survivor = group_state(self.conn(), into).await?;
        let detail = format!(
            "{}'s new group “{}” was merged into “{}”, which had the name first",
            self.author, s.name, survivor.name
        );
        self.note(
            Screen::Groups,
            "groups.merged",
            format!("group “{}”", s.name),
            detail,
        )
        .await
    }

    async fn group_created(&mut self, s: GroupState) -> Result<()> {
        let uid = self.resolve("group", &s.uid).await?;
        if let Some(row) = self.group_by_uid(&uid).await? {
            if row.seq.is_some_and(|q| q >= self.seq) {
                return Ok(());
            }
            if uid == s.uid {
                if let Some(holder) = self.group_log_holder(&s.name, Some(row.id)).await? {
                    self.fold_group(row.id, holder).await?;
                    return self.merged_group(holder, &s).await;
                }
                if let Some(gone) = self.gone_holder("group", &s.name).await? {
                    self.alias("group", &s.uid, &gone).await?;
                    sqlx::query!("DELETE FROM contact_groups WHERE id = ?", row.id)
                        .execute(self.conn())
                        .await?;
                    return Ok(());
                }
                return self.set_group(row.id, &s.name, &s).await;
            }
            return self.merged_group(row.id, &s).await;
        }
        if let Some(holder) = self.group_log_holder(&s.name, None).await? {
            let survivor = group_state(self.conn(), holder).await?;
            self.alias("group", &s.uid, &survivor.uid).await?;
            return self.merged_group(holder, &s).await;
        }
        if let Some(gone) = self.gone_holder("group", &s.name).await? {
            self.alias("group", &s.uid, &gone).await?;
            return Ok(());
        }
        let placeholder = format!("~{}", s.uid);
        let now = crate::now_ms();
        let id = sqlx::query_scalar!(
            r#"INSERT INTO contact_groups (uid, name, created_at) VALUES (?, ?, ?) RETURNING id AS "id!""#,
            s.uid,
            placeholder,
            now
        )
        .fetch_one(self.conn())
        .await?;
        self.set_group(id, &s.name, &s).await
    }

    async fn group_updated(&mut self, s: GroupState) -> Result<()> {
        let uid = self.resolve("group", &s.uid).await?;
        let Some(row) = self.group_by_uid(&uid).await? else {
            let free = self.group_log_holder(&s.name, None).await?.is_none()
                && self
                    .gone_holder_except("group", &s.name, &uid)
                    .await?
                    .is_none();
            if free {
                sqlx::query!(
                    "UPDATE contact_tombstones SET key = ? WHERE kind = 'group' AND uid = ?",
                    s.name,
                    uid
                )
                .execute(self.conn())
                .await?;
            }
            return Ok(());
        };
        if row.seq.is_some_and(|q| q >= self.seq) {
            return Ok(());
        }
        let mut name = s.name.clone();
        if self
            .group_log_holder(&s.name, Some(row.id))
            .await?
            .is_some()
            || self.gone_holder("group", &s.name).await?.is_some()
        {
            let current = sqlx::query_scalar!(
                r#"SELECT coalesce(log_name, name) AS "n!: String" FROM contact_groups WHERE id = ?"#,
                row.id
            )
            .fetch_one(self.conn())
            .await?;
            let detail = format!(
                "{}'s renaming of “{current}” to “{}” was not applied: another group has that name",
                self.author, s.name
            );
            self.note(
                Screen::Groups,
                "groups.kept_name",
                format!("group “{current}”"),
                detail,
            )
            .await?;
            name = current;
        }
        self.set_group(row.id, &name, &s).await
    }

    async fn groups_deleted(&mut self, d: Deleted) -> Result<()> {
        for uid in &d.uids {
            let uid = self.resolve("group", uid).await?;
            sqlx::query!(
                "DELETE FROM contact_tombstones WHERE kind = 'group' AND uid = ?",
                uid
            )
            .execute(self.conn())
            .await?;
            sqlx::query!("DELETE FROM contact_groups WHERE uid = ?", uid)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
