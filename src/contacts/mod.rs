//! Bulk Contacts and Groups: the WhatsApp contact directory (unique E.164 numbers), its groups,
//! and the bulk operations on them. Permissions `whatsapp_contacts` and `whatsapp_groups`.

pub mod import;
pub mod phone;
pub mod shared;

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result};
use phone::{Country, PhoneError};

#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    #[error("phone number: {0}")]
    Phone(#[from] PhoneError),
    #[error("{phone} is already in the directory (as “{existing}”)")]
    DuplicatePhone { phone: String, existing: String },
    #[error("there is already a group named “{0}”")]
    DuplicateGroup(String),
    #[error("a group needs a name")]
    EmptyGroupName,
    #[error("contact {0} does not exist")]
    NoContact(i64),
    #[error("group {0} does not exist")]
    NoGroup(i64),
    #[error("select at least one contact")]
    NothingSelected,
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error("the export failed: {0}")]
    Export(String),
    /// The team's contacts could not be applied as the log says (a bug, logged).
    #[error("contacts replica: {0}")]
    Replica(String),
}

impl crate::error::Coded for ContactsError {
    fn code(&self) -> ErrorCode {
        ContactsError::code(self)
    }
}

impl ContactsError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ContactsError::Phone(_)
            | ContactsError::EmptyGroupName
            | ContactsError::NothingSelected => ErrorCode::Invalid,
            ContactsError::DuplicatePhone { .. } | ContactsError::DuplicateGroup(_) => {
                ErrorCode::Conflict
            }
            ContactsError::NoContact(_) | ContactsError::NoGroup(_) => ErrorCode::NotFound,
            ContactsError::Import(e) => e.code(),
            ContactsError::Replica(_) | ContactsError::Export(_) => ErrorCode::Internal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Contact {
    pub id: i64,
    /// E.164, e.g. +15550100101; empty for a customer reached only by WhatsApp user id.
    pub phone: String,
    /// The customer's business-scoped WhatsApp user id, for a contact made from a conversation.
    pub wa_user_id: Option<String>,
    /// Their WhatsApp username, when they have one.
    pub username: String,
    pub name: String,
    pub company: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub description: String,
    pub group_ids: Vec<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ContactInput {
    /// As typed: parsed to E.164 with the workspace's default country. May be left empty for a
    /// contact reached by WhatsApp user id (made from a conversation).
    pub phone: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub group_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ContactFilter {
    /// Matches name, phone, company or WhatsApp username.
    #[ts(optional)]
    pub search: Option<String>,
    #[ts(optional)]
    pub group_id: Option<i64>,
    #[ts(optional)]
    pub offset: Option<u32>,
    /// 1 to 500; 100 when absent.
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ContactPage {
    /// How many contacts match the filter in all.
    pub total: i64,
    pub offset: u32,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub contact_count: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct GroupInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// What a bulk operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BulkResult {
    pub affected: i64,
}

// ---- storage ----------------------------------------------------------------------------------

pub(crate) async fn default_country(conn: &mut SqliteConnection) -> Result<Country> {
    let code = sqlx::query_scalar!("SELECT default_country FROM contact_settings WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_else(|| "US".into());
    Ok(code
        .parse()
        .unwrap_or_else(|_| "US".parse().expect("US is a country")))
}

/// The `WHERE` of a contact filter (search in name, phone or company; a group), on `contacts c`.
fn push_filter(q: &mut QueryBuilder<Sqlite>, filter: &ContactFilter) {
    q.push(" WHERE 1");
    if let Some(g) = filter.group_id {
        q.push(" AND c.id IN (SELECT contact_id FROM contact_group_members WHERE group_id = ")
            .push_bind(g)
            .push(")");
    }
    let like = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.replace('%', "\\%").replace('_', "\\_")));
    if let Some(l) = like {
        q.push(" AND (c.name LIKE ")
            .push_bind(l.clone())
            .push(" ESCAPE '\\' OR c.phone LIKE ")
            .push_bind(l.clone())
            .push(" ESCAPE '\\' OR c.company LIKE ")
            .push_bind(l.clone())
            .push(" ESCAPE '\\' OR c.username LIKE ")
            .push_bind(l)
            .push(" ESCAPE '\\'");
        if let Some(digits) = filter.search.as_deref().and_then(phone::search_digits) {
            q.push(" OR c.phone LIKE ").push_bind(format!("%{digits}%"));
        }
        q.push(")");
    }
}

async fn groups_of(conn: &mut SqliteConnection, contact_id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        "SELECT group_id FROM contact_group_members WHERE contact_id = ? ORDER BY group_id",
        contact_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

async fn get(conn: &mut SqliteConnection, id: i64) -> Result<Contact> {
    let r = sqlx::query!(
        "SELECT id, phone, name, company, address, city, state, country, description, created_at,
                wa_user_id, username
         FROM contacts WHERE id = ?",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ContactsError::NoContact(id))?;
    Ok(Contact {
        group_ids: groups_of(conn, id).await?,
        id: r.id,
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
        created_at: r.created_at,
    })
}

pub(crate) async fn ensure_group(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    let found = sqlx::query_scalar!("SELECT count(*) FROM contact_groups WHERE id = ?", id)
        .fetch_one(&mut *conn)
        .await?;
    if found == 0 {
        return Err(ContactsError::NoGroup(id).into());
    }
    Ok(())
}

async fn ensure_groups(conn: &mut SqliteConnection, ids: &[i64]) -> Result<()> {
    for &g in ids {
        ensure_group(conn, g).await?;
    }
    Ok(())
}

pub(crate) async fn add_memberships(
    conn: &mut SqliteConnection,
    contact_id: i64,
    groups: &[i64],
) -> Result<()> {
    for &g in groups {
        sqlx::query!(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id) VALUES (?, ?)",
            contact_id,
            g
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn duplicate(conn: &mut SqliteConnection, phone: &str, except: Option<i64>) -> Result<()> {
    let existing = sqlx::query!("SELECT id, name FROM contacts WHERE phone = ?", phone)
        .fetch_optional(&mut *conn)
        .await?;
    match existing {
        Some(e) if Some(e.id) != except => Err(ContactsError::DuplicatePhone {
            phone: phone.into(),
            existing: if e.name.is_empty() {
                phone.into()
            } else {
                e.name
            },
        }
        .into()),
        _ => Ok(()),
    }
}

fn unique_phone(e: sqlx::Error, phone: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ContactsError::DuplicatePhone {
            phone: phone.into(),
            existing: phone.into(),
        }
        .into(),
        _ => e.into(),
    }
}

/// The input's phone in E.164, refused when invalid, taken by another contact (`except` is the
/// contact being edited), or when a chosen group does not exist.
async fn checked_phone(
    conn: &mut SqliteConnection,
    input: &ContactInput,
    except: Option<i64>,
) -> Result<String> {
    let country = default_country(conn).await?;
    let phone = phone::to_e164(&input.phone, country).map_err(ContactsError::from)?;
    duplicate(conn, &phone, except).await?;
    ensure_groups(conn, &input.group_ids).await?;
    Ok(phone)
}

fn unique_group(e: sqlx::Error, name: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ContactsError::DuplicateGroup(name.into()).into()
        }
        _ => e.into(),
    }
}

/// An event's payload.
fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("an event payload serialises")
}

// ---- operations -------------------------------------------------------------------------------

impl Ctx<'_> {
    async fn group(&self, id: i64) -> Result<Group> {
        self.groups()
            .await?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| ContactsError::NoGroup(id).into())
    }
}

impl Ctx<'_> {
    /// A page of the directory, newest first... by name, filtered by search and group.
    /// The ids of every contact the filter matches (its offset and limit aside), in the list's
    /// order: "select all" covers every match, not only the loaded rows.
    pub async fn contact_ids(&self, filter: ContactFilter) -> Result<Vec<i64>> {
        self.actor()
            .await?
            .require(Resource::WhatsappContacts, Action::View)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT c.id FROM contacts c");
        push_filter(&mut q, &filter);
        q.push(" ORDER BY c.name COLLATE NOCASE, c.id");
        Ok(q.build_query_scalar().fetch_all(self.db()).await?)
    }

    /// Contacts as a campaign's audience, with their merge fields, in the order they were added: a group's
    /// members (`group_id`), or the contacts picked by id (`ids`), or both. Also returns how many
    /// contacts there are in all.
    pub async fn contact_audience(
        &self,
        group_id: Option<i64>,
        ids: &[i64],
    ) -> Result<(Vec<crate::templates::AudienceMember>, i64)> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::Create)?;
        if let Some(g) = group_id {
            let known = sqlx::query_scalar!("SELECT count(*) FROM contact_groups WHERE id = ?", g)
                .fetch_one(self.db())
                .await?;
            if known == 0 {
                return Err(ContactsError::NoGroup(g).into());
            }
        }
        let mut conn = self.db().acquire().await?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT c.id, coalesce(c.phone, c.wa_user_id), c.name, c.company FROM contacts c WHERE ",
        );
        match group_id {
            Some(g) => {
                q.push("c.id IN (SELECT contact_id FROM contact_group_members WHERE group_id = ")
                    .push_bind(g)
                    .push(")");
            }
            None => {
                q.push("0");
            }
        }
        for chunk in ids.chunks(500) {
            q.push(" OR c.id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            sep.push_unseparated(")");
        }
        q.push(" ORDER BY c.id");
        let rows = q.build().fetch_all(&mut *conn).await?;
        let total = sqlx::query_scalar!("SELECT count(*) FROM contacts")
            .fetch_one(&mut *conn)
            .await?;
        let members = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                let phone: Option<String> = r.try_get(1)?;
                let name: String = r.try_get(2)?;
                let company: String = r.try_get(3)?;
                Ok(crate::templates::AudienceMember::new(
                    format!("contact:{id}"),
                    name,
                    phone.filter(|p| !p.is_empty()),
                    &company,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((members, total))
    }

    /// Saves every contact the filter matches (its offset and limit aside), those reached only by
    /// WhatsApp user id too, as a CSV file in `folder`; returns its path. The columns start with
    /// the import's own order, so the file can be imported again.
    pub async fn export_contacts_csv(
        &self,
        filter: ContactFilter,
        folder: &std::path::Path,
    ) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappContacts, Action::View)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT coalesce(c.phone, '') AS phone, c.name, c.company, c.address, c.city, c.state,
                    c.country, c.description, coalesce(c.wa_user_id, '') AS whatsapp_user_id, c.username,
                    coalesce((SELECT group_concat(g.name, '; ') FROM contact_group_members m
                              JOIN contact_groups g ON g.id = m.group_id WHERE m.contact_id = c.id), '')
                      AS groups
             FROM contacts c",
        );
        push_filter(&mut q, &filter);
        q.push(" ORDER BY c.name COLLATE NOCASE, c.id");
        let rows = q.build().fetch_all(self.db()).await?;
        let problem = |e: &dyn std::fmt::Display| {
            crate::Error::from(ContactsError::Export(format!(
                "{} cannot be written: {e}",
                folder.display()
            )))
        };
        let (file, path) =
            crate::uploads::create_new_file(folder, "contacts.csv").map_err(|e| problem(&e))?;
        let mut w = csv::Writer::from_writer(file);
        const COLUMNS: [&str; 11] = [
            "phone",
            "name",
            "company",
            "address",
            "city",
            "state",
            "country",
            "description",
            "whatsapp_user_id",
            "username",
            "groups",
        ];
        w.write_record(COLUMNS).map_err(|e| problem(&e))?;
        for r in rows {
            let mut record = Vec::with_capacity(COLUMNS.len());
            for c in COLUMNS {
                record.push(r.try_get::<String, _>(c)?);
            }
            w.write_record(&record).map_err(|e| problem(&e))?;
        }
        w.flush().map_err(|e| problem(&e))?;
        Ok(path.display().to_string())
    }

    pub async fn contacts(&self, filter: ContactFilter) -> Result<ContactPage> {
        self.actor()
            .await?
            .require(Resource::WhatsappContacts, Action::View)?;
        let limit = filter.limit.unwrap_or(100).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0);
        let push_where = |q: &mut QueryBuilder<Sqlite>| push_filter(q, &filter);
        let mut count: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT count(*) FROM contacts c");
        push_where(&mut count);
        let total: i64 = count.build().fetch_one(self.db()).await?.try_get(0)?;

        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT c.id, c.phone, c.name, c.company, c.address, c.city, c.state, c.country, c.description, c.created_at,
                    c.wa_user_id, c.username,
                    (SELECT group_concat(group_id) FROM contact_group_members m WHERE m.contact_id = c.id) AS groups
             FROM contacts c",
        );
        push_where(&mut q);
        q.push(" ORDER BY c.name COLLATE NOCASE, c.id LIMIT ")
            .push_bind(limit as i64)
            .push(" OFFSET ")
            .push_bind(offset as i64);
        let rows = q.build().fetch_all(self.db()).await?;
        let mut contacts = Vec::with_capacity(rows.len());
        for r in rows {
            let groups: Option<String> = r.try_get("groups")?;
            contacts.push(Contact {
                id: r.try_get("id")?,
                phone: r.try_get::<Option<String>, _>("phone")?.unwrap_or_default(),
                wa_user_id: r.try_get("wa_user_id")?,
                username: r.try_get("username")?,
                name: r.try_get("name")?,
                company: r.try_get("company")?,
                address: r.try_get("address")?,
                city: r.try_get("city")?,
                state: r.try_get("state")?,
                country: r.try_get("country")?,
                description: r.try_get("description")?,
                created_at: r.try_get("created_at")?,
                group_ids: groups
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|g| g.parse().ok())
                    .collect(),
            });
        }
        Ok(ContactPage {
            total,
            offset,
            contacts,
        })
    }

    /// One contact with its groups (a conversation's header opens it).
    pub async fn contact(&self, id: i64) -> Result<Contact> {
        self.actor()
            .await?
            .require(Resource::WhatsappContacts, Action::View)?;
        get(&mut *self.db().acquire().await?, id).await
    }

    pub async fn create_contact(&self, input: ContactInput) -> Result<Contact> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::BulkContacts,
            "contacts.create",
            format!("contact {}", input.phone.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappContacts, Action::Create),
            Box::new(move |tx| {
                Box::pin(async move {
                    let phone = checked_phone(tx, &input, None).await?;
                    let now = crate::now_ms();
                    let i = &input;
                    let uid = shared::new_uid();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO contacts (uid, phone, name, company, address, city, state, country, description, created_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
                        uid,
                        phone,
                        i.name,
                        i.company,
                        i.address,
                        i.city,
                        i.state,
                        i.country,
                        i.description,
                        now,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_phone(e, &phone))?;
                    add_memberships(tx, id, &input.group_ids).await?;
                    let state = shared::contact_state(tx, id).await?;
                    let subject = shared::subject(&state.uid);
                    crate::outbox::emit_about(tx, &publisher, "contact.created", &json(&state), &subject)
                        .await?;
                    Ok((get(tx, id).await?, Some(phone)))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Updates every field and replaces the contact's group memberships.
    pub async fn update_contact(&self, id: i64, input: ContactInput) -> Result<Contact> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::BulkContacts,
            "contacts.update",
            format!("contact #{id}"),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappContacts, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let before = get(tx, id).await?;
                    // A contact reached by WhatsApp user id may stay without a number.
                    let phone = if input.phone.trim().is_empty() && before.wa_user_id.is_some() {
                        ensure_groups(tx, &input.group_ids).await?;
                        None
                    } else {
                        let phone = checked_phone(tx, &input, Some(id)).await?;
                        shared::keep_log_phone(tx, id, &phone).await?;
                        Some(phone)
                    };
                    let now = crate::now_ms();
                    let i = &input;
                    sqlx::query!(
                        "UPDATE contacts SET phone = ?, name = ?, company = ?, address = ?, city = ?, state = ?,
                           country = ?, description = ?, updated_at = ? WHERE id = ?",
                        phone,
                        i.name,
                        i.company,
                        i.address,
                        i.city,
                        i.state,
                        i.country,
                        i.description,
                        now,
                        id
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_phone(e, phone.as_deref().unwrap_or_default()))?;
                    sqlx::query!("DELETE FROM contact_group_members WHERE contact_id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    add_memberships(tx, id, &input.group_ids).await?;
                    let state = shared::contact_state(tx, id).await?;
                    let subject = shared::subject(&state.uid);
                    crate::outbox::emit_about(tx, &publisher, "contact.updated", &json(&state), &subject)
                        .await?;
                    Ok((get(tx, id).await?, phone))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Deletes contacts (one or many) and their memberships, in one transaction.
    pub async fn delete_contacts(&self, ids: Vec<i64>) -> Result<BulkResult> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::BulkContacts,
            "contacts.delete",
            format!("{} contact(s)", ids.len()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappContacts, Action::Delete),
            Box::new(move |tx| {
                Box::pin(async move {
                    if ids.is_empty() {
                        return Err(ContactsError::NothingSelected.into());
                    }
                    let uids = shared::contact_uids(tx, &ids).await?;
                    let mut affected = 0;
                    for id in &ids {
                        shared::tombstone_contact(tx, *id).await?;
                        let n = sqlx::query!("DELETE FROM contacts WHERE id = ?", id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if n == 0 {
                            return Err(ContactsError::NoContact(*id).into());
                        }
                        affected += n as i64;
                    }
                    for uids in uids.chunks(shared::MAX_UIDS) {
                        let event = json(&shared::Deleted {
                            uids: uids.to_vec(),
                        });
                        crate::outbox::emit(tx, &publisher, "contact.deleted", &event).await?;
                    }
                    Ok((BulkResult { affected }, None))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Adds the selected contacts to the selected groups (keeping their other groups), atomically.
    pub async fn assign_groups(
        &self,
        contact_ids: Vec<i64>,
        group_ids: Vec<i64>,
    ) -> Result<BulkResult> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::BulkContacts,
            "contacts.assign_groups",
            format!(
                "{} contact(s) to {} group(s)",
                contact_ids.len(),
                group_ids.len()
            ),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappContacts, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    if contact_ids.is_empty() {
                        return Err(ContactsError::NothingSelected.into());
                    }
                    ensure_groups(tx, &group_ids).await?;
                    for &c in &contact_ids {
                        get(tx, c).await?;
                        add_memberships(tx, c, &group_ids).await?;
                    }
                    let contacts = shared::contact_uids(tx, &contact_ids).await?;
                    let groups = shared::group_uids(tx, &group_ids).await?;
                    for contacts in contacts.chunks(shared::MAX_UIDS) {
                        for groups in groups.chunks(shared::MAX_UIDS) {
                            let event = json(&shared::Grouped {
                                contacts: contacts.to_vec(),
                                groups: groups.to_vec(),
                            });
                            crate::outbox::emit(tx, &publisher, "contacts.grouped", &event).await?;
                        }
                    }
                    Ok((
                        BulkResult {
                            affected: contact_ids.len() as i64,
                        },
                        None,
                    ))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    // ---- groups -------------------------------------------------------------------------------

    pub async fn groups(&self) -> Result<Vec<Group>> {
        let actor = self.actor().await?;
        // Bulk Contacts shows group names too: either permission may read the list.
        if actor
            .require(Resource::WhatsappGroups, Action::View)
            .is_err()
        {
            actor.require(Resource::WhatsappContacts, Action::View)?;
        }
        Ok(sqlx::query_as!(
            Group,
            r#"SELECT g.id AS "id!", g.name, g.description, g.created_at,
                      (SELECT count(*) FROM contact_group_members m WHERE m.group_id = g.id) AS "contact_count!: i64"
               FROM contact_groups g ORDER BY g.name COLLATE NOCASE"#
        )
        .fetch_all(self.db())
        .await?)
    }

    pub async fn create_group(&self, input: GroupInput) -> Result<Group> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(
            Screen::Groups,
            "groups.create",
            format!("group “{}”", input.name.trim()),
        );
        let id = audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappGroups, Action::Create),
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = input.name.trim().to_owned();
                    if name.is_empty() {
                        return Err(ContactsError::EmptyGroupName.into());
                    }
                    let now = crate::now_ms();
                    let uid = shared::new_uid();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO contact_groups (uid, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id AS "id!""#,
                        uid,
                        name,
                        input.description,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_group(e, &name))?;
                    let state = shared::group_state(tx, id).await?;
                    crate::outbox::emit(tx, &publisher, "group.created", &json(&state)).await?;
                    Ok((id, None))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.group(id).await
    }

    pub async fn update_group(&self, id: i64, input: GroupInput) -> Result<Group> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(Screen::Groups, "groups.update", format!("group #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappGroups, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = input.name.trim().to_owned();
                    if name.is_empty() {
                        return Err(ContactsError::EmptyGroupName.into());
                    }
                    shared::keep_log_name(tx, id, &name).await?;
                    let n = sqlx::query!(
                        "UPDATE contact_groups SET name = ?, description = ? WHERE id = ?",
                        name,
                        input.description,
                        id
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_group(e, &name))?
                    .rows_affected();
                    if n == 0 {
                        return Err(ContactsError::NoGroup(id).into());
                    }
                    let state = shared::group_state(tx, id).await?;
                    crate::outbox::emit(tx, &publisher, "group.updated", &json(&state)).await?;
                    Ok(((), Some(format!("“{name}”"))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.group(id).await
    }

    /// Deletes a group; its contacts stay, only their membership goes.
    pub async fn delete_group(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let publisher = actor.clone();
        let what = Change::new(Screen::Groups, "groups.delete", format!("group #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::WhatsappGroups, Action::Delete),
            Box::new(move |tx| {
                Box::pin(async move {
                    let members = sqlx::query_scalar!(
                        "SELECT count(*) FROM contact_group_members WHERE group_id = ?",
                        id
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let uids = shared::group_uids(tx, &[id]).await?;
                    shared::tombstone_group(tx, id).await?;
                    let n = sqlx::query!("DELETE FROM contact_groups WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(ContactsError::NoGroup(id).into());
                    }
                    let event = json(&shared::Deleted { uids });
                    crate::outbox::emit(tx, &publisher, "group.deleted", &event).await?;
                    Ok((
                        (),
                        Some(format!("{members} contact(s) kept, ungrouped from it")),
                    ))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }
}

// ---- for the chat module: the bulk contact a conversation is linked to -------------------------

/// What the chat header shows of a bulk contact.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ContactBrief {
    pub id: i64,
    pub name: String,
    pub company: String,
    pub phone: String,
}

pub(crate) async fn brief(conn: &mut SqliteConnection, id: i64) -> Result<Option<ContactBrief>> {
    Ok(sqlx::query_as!(
        ContactBrief,
        r#"SELECT id AS "id!", name, company, coalesce(phone, '') AS "phone!: String" FROM contacts WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The contact of a customer known by their WhatsApp user id.
pub(crate) async fn id_by_user(conn: &mut SqliteConnection, user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM contacts WHERE wa_user_id = ? ORDER BY phone IS NULL, id LIMIT 1"#,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// A conversation's customer as they are known on WhatsApp: their number, their user id, or
/// both; their profile name and username.
pub struct WhatsappCustomer<'a> {
    pub phone: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub name: &'a str,
    pub username: &'a str,
}

/// The customer's Bulk Contact: the one with their number or their user id, or one made now
/// (with the user id alone when they write by username), its event written in the caller's
/// transaction. Call [`crate::workspace::Workspace::outbox_written`] after the commit.
pub(crate) async fn from_whatsapp(
    conn: &mut SqliteConnection,
    actor: &crate::permissions::Principal,
    who: WhatsappCustomer<'_>,
) -> Result<i64> {
    if let Some(p) = who.phone
        && let Some(id) = id_by_phone(conn, p).await?
    {
        return Ok(id);
    }
    if let Some(u) = who.user_id
        && let Some(id) = id_by_user(conn, u).await?
    {
        return Ok(id);
    }
    actor.require(Resource::WhatsappContacts, Action::Create)?;
    if who.phone.is_none() && who.user_id.is_none() {
        return Err(ContactsError::Phone(PhoneError::Missing).into());
    }
    let (uid, now) = (shared::new_uid(), crate::now_ms());
    let id = sqlx::query_scalar!(
        r#"INSERT INTO contacts (uid, phone, wa_user_id, username, name, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        uid,
        who.phone,
        who.user_id,
        who.username,
        who.name,
        now,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let state = shared::contact_state(conn, id).await?;
    let subject = shared::subject(&state.uid);
    crate::outbox::emit_about(conn, actor, "contact.created", &json(&state), &subject).await?;
    Ok(id)
}

pub(crate) async fn id_by_phone(conn: &mut SqliteConnection, e164: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT id AS "id!" FROM contacts WHERE phone = ?"#, e164)
            .fetch_optional(&mut *conn)
            .await?,
    )
}
