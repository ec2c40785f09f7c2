//! Leads: CRMConnect's prospects (name, company, phone, email, source, status, assigned staff),
//! their configurable statuses, the filtered list, and the filter campaigns use. Permission
//! `leads` (a CRM permission outside the spec's WhatsApp table).
//!
//! Rules:
//! - A lead needs a name, and a phone or an email (or both) to be reached at all.
//! - The phone is optional; when given it must parse (with the workspace's default country, as
//!   Bulk Contacts) and is stored in E.164. A lead's `whatsapp` flag says the stored number is
//!   valid and mobile-capable ([`phone::whatsapp_capable`]).
//! - No two leads share a phone, nor an email (case-insensitive): the phone, else the email, is
//!   what identifies a lead, e.g. when the same CSV is imported twice.
//! - The source is free text; [`Workspace::lead_sources`] lists those in use as suggestions.
//! - Statuses are configurable (name, colour, order). A status still used by leads cannot be
//!   deleted (the error says by how many), nor the last one. New leads get the first status.
//! - A lead with documents cannot be deleted (delete its documents first): nothing is lost.

pub mod import;

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::contacts::phone::{self, PhoneError};
use crate::email::{self, EmailError};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result, contacts, documents, staff};

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error("a lead needs a name")]
    EmptyName,
    #[error("phone number: {0}")]
    Phone(#[from] PhoneError),
    #[error("email: {0}")]
    Email(#[from] EmailError),
    #[error("a lead needs a phone number or an email address")]
    Unreachable,
    #[error("{phone} is already the phone of lead “{existing}”")]
    DuplicatePhone { phone: String, existing: String },
    #[error("{email} is already the email of lead “{existing}”")]
    DuplicateEmail { email: String, existing: String },
    #[error("lead {0} does not exist")]
    NoLead(i64),
    #[error("lead status {0} does not exist")]
    NoStatus(i64),
    #[error("staff member {0} does not exist, so the lead cannot be assigned to them")]
    NoStaff(i64),
    #[error("a lead status needs a name")]
    EmptyStatusName,
    #[error("there is already a lead status named “{0}”")]
    DuplicateStatus(String),
    #[error("“{0}” is not a colour; use #rrggbb, e.g. #16a34a")]
    BadColor(String),
    #[error(
        "the lead status “{name}” is used by {leads} lead(s); move them to another status first"
    )]
    StatusInUse { name: String, leads: i64 },
    #[error("the last lead status cannot be deleted")]
    LastStatus,
    #[error("the order must list every lead status exactly once")]
    BadOrder,
    #[error("the created date range ends before it starts")]
    BadRange,
    #[error("lead “{name}” has {documents} document(s); delete them first")]
    HasDocuments { name: String, documents: i64 },
    #[error("select at least one lead")]
    NothingSelected,
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error("the export failed: {0}")]
    Export(String),
}

impl crate::error::Coded for LeadsError {
    fn code(&self) -> ErrorCode {
        LeadsError::code(self)
    }
}

impl LeadsError {
    pub fn code(&self) -> ErrorCode {
        use LeadsError::*;
        match self {
            EmptyName | Phone(_) | Email(_) | Unreachable | EmptyStatusName | BadColor(_)
            | BadOrder | BadRange | NothingSelected => ErrorCode::Invalid,
            DuplicatePhone { .. }
            | DuplicateEmail { .. }
            | DuplicateStatus(_)
            | StatusInUse { .. }
            | LastStatus
            | HasDocuments { .. } => ErrorCode::Conflict,
            NoLead(_) | NoStatus(_) | NoStaff(_) => ErrorCode::NotFound,
            Import(e) => e.code(),
            Export(_) => ErrorCode::Internal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Lead {
    pub id: i64,
    pub name: String,
    pub company: String,
    /// E.164, or null when the lead has no phone.
    pub phone: Option<String>,
    /// The phone is valid and can be a WhatsApp account (mobile-capable).
    pub whatsapp: bool,
    pub email: String,
    pub source: String,
    pub status_id: i64,
    pub assigned_staff_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct LeadInput {
    pub name: String,
    #[serde(default)]
    pub company: String,
    /// As typed; empty for none. Parsed to E.164 with the workspace's default country.
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub source: String,
    /// When absent: the first status (by order) for a new lead; an edited lead keeps its own.
    #[ts(optional)]
    pub status_id: Option<i64>,
    #[ts(optional)]
    pub assigned_staff_id: Option<i64>,
}

/// Which leads: every criterion given must hold. Used by the Leads list and by campaigns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LeadFilter {
    /// Matches name, company, phone or email.
    #[ts(optional)]
    pub search: Option<String>,
    /// Any of these statuses; all statuses when empty.
    #[serde(default)]
    pub status_ids: Vec<i64>,
    /// Exactly this source (case-insensitive).
    #[ts(optional)]
    pub source: Option<String>,
    #[ts(optional)]
    pub assigned_staff_id: Option<i64>,
    /// Only leads assigned to nobody.
    #[serde(default)]
    pub unassigned: bool,
    /// Created at or after (Unix ms).
    #[ts(optional)]
    pub created_from: Option<i64>,
    /// Created before (Unix ms, exclusive).
    #[ts(optional)]
    pub created_to: Option<i64>,
    /// true: only leads with a valid WhatsApp-capable number; false: only those without.
    #[ts(optional)]
    pub has_whatsapp: Option<bool>,
    #[ts(optional)]
    pub offset: Option<u32>,
    /// 1 to 500; 100 when absent.
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LeadPage {
    pub total: i64,
    pub offset: u32,
    pub leads: Vec<Lead>,
}

/// A lead as a campaign recipient.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct LeadRecipient {
    pub lead_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub whatsapp: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct LeadStatus {
    pub id: i64,
    pub name: String,
    /// #rrggbb
    pub color: String,
    pub position: i64,
    pub lead_count: i64,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct LeadStatusInput {
    pub name: String,
    pub color: String,
}

/// What a bulk operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LeadsDeleted {
    pub deleted: i64,
}

// ---- checks -----------------------------------------------------------------------------------

/// A lead's fields, checked: (name, phone E.164, whatsapp, email).
pub(crate) struct Checked {
    pub name: String,
    pub phone: Option<String>,
    pub whatsapp: bool,
    pub email: String,
}

pub(crate) fn check_fields(
    name: &str,
    raw_phone: &str,
    raw_email: &str,
    country: phone::Country,
) -> std::result::Result<Checked, LeadsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LeadsError::EmptyName);
    }
    let phone = match raw_phone.trim() {
        "" => None,
        p => Some(phone::to_e164(p, country)?),
    };
    let email = email::clean(raw_email)?;
    if phone.is_none() && email.is_empty() {
        return Err(LeadsError::Unreachable);
    }
    Ok(Checked {
        name: name.to_owned(),
        whatsapp: phone.as_deref().is_some_and(phone::whatsapp_capable),
        phone,
        email,
    })
}

pub(crate) fn clean_color(raw: &str) -> std::result::Result<String, LeadsError> {
    let c = raw.trim().to_ascii_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(LeadsError::BadColor(raw.trim().into()))
    }
}

// ---- storage (tables: leads, lead_statuses) ----------------------------------------------------

pub(crate) async fn get(conn: &mut SqliteConnection, id: i64) -> Result<Lead> {
    sqlx::query_as!(
        Lead,
        r#"SELECT id AS "id!", name, company, phone, whatsapp AS "whatsapp: bool", email, source, status_id,
                  assigned_staff_id, created_at, updated_at
           FROM leads WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| LeadsError::NoLead(id).into())
}

/// A lead's name, for other modules (documents) that name the lead they belong to.
pub(crate) async fn name_of(conn: &mut SqliteConnection, id: i64) -> Result<String> {
    Ok(get(conn, id).await?.name)
}

pub(crate) async fn statuses(conn: &mut SqliteConnection) -> Result<Vec<LeadStatus>> {
    Ok(sqlx::query_as!(
        LeadStatus,
        r#"SELECT s.id AS "id!", s.name, s.color, s.position,
                  (SELECT count(*) FROM leads l WHERE l.status_id = s.id) AS "lead_count!: i64"
           FROM lead_statuses s ORDER BY s.position, s.id"#
    )
    .fetch_all(&mut *conn)
    .await?)
}

async fn status_or_default(conn: &mut SqliteConnection, id: Option<i64>) -> Result<i64> {
    match id {
        Some(id) => {
            let n = sqlx::query_scalar!("SELECT count(*) FROM lead_statuses WHERE id = ?", id)
                .fetch_one(&mut *conn)
                .await?;
            if n == 0 {
                return Err(LeadsError::NoStatus(id).into());
            }
            Ok(id)
        }
        None => Ok(sqlx::query_scalar!(
            r#"SELECT id AS "id!" FROM lead_statuses ORDER BY position, id LIMIT 1"#
        )
        .fetch_one(&mut *conn)
        .await?),
    }
}

async fn check_staff(conn: &mut SqliteConnection, id: Option<i64>) -> Result<()> {
    if let Some(id) = id
        && staff::name_of(conn, id).await?.is_none()
    {
        return Err(LeadsError::NoStaff(id).into());
    }
    Ok(())
}

/// Refuses a phone or email another lead (not `except`) already has, naming that lead.
async fn check_unique(conn: &mut SqliteConnection, c: &Checked, except: Option<i64>) -> Result<()> {
    let except = except.unwrap_or(0);
    if let Some(p) = &c.phone
        && let Some(existing) = sqlx::query_scalar!(
            "SELECT name FROM leads WHERE phone = ? AND id <> ?",
            p,
            except
        )
        .fetch_optional(&mut *conn)
        .await?
    {
        return Err(LeadsError::DuplicatePhone {
            phone: p.clone(),
            existing,
        }
        .into());
    }
    if !c.email.is_empty()
        && let Some(existing) = sqlx::query_scalar!(
            "SELECT name FROM leads WHERE email = ? AND id <> ?",
            c.email,
            except
        )
        .fetch_optional(&mut *conn)
        .await?
    {
        return Err(LeadsError::DuplicateEmail {
            email: c.email.clone(),
            existing,
        }
        .into());
    }
    Ok(())
}

async fn checked_input(
    conn: &mut SqliteConnection,
    input: &LeadInput,
    except: Option<i64>,
) -> Result<(Checked, i64)> {
    let country = contacts::default_country(conn).await?;
    let c = match check_fields(&input.name, &input.phone, &input.email, country) {
        // A lead reached on WhatsApp by its user id needs no phone or email.
        Err(LeadsError::Unreachable) if on_whatsapp(conn, except).await? => Checked {
            name: input.name.trim().to_owned(),
            phone: None,
            whatsapp: false,
            email: String::new(),
        },
        other => other?,
    };
    check_unique(conn, &c, except).await?;
    let status = status_or_default(conn, input.status_id).await?;
    check_staff(conn, input.assigned_staff_id).await?;
    Ok((c, status))
}

/// Whether the lead being edited is reached on WhatsApp by its user id.
async fn on_whatsapp(conn: &mut SqliteConnection, lead: Option<i64>) -> Result<bool> {
    let Some(id) = lead else {
        return Ok(false);
    };
    Ok(sqlx::query_scalar!(
        r#"SELECT wa_user_id IS NOT NULL AS "yes!: bool" FROM leads WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(false))
}

/// The WHERE clause of a filter (shared by the list, its count and the campaign filter).
fn push_filter(q: &mut QueryBuilder<Sqlite>, f: &LeadFilter) {
    q.push(" WHERE 1");
    if !f.status_ids.is_empty() {
        q.push(" AND l.status_id IN (");
        let mut sep = q.separated(", ");
        for s in &f.status_ids {
            sep.push_bind(*s);
        }
        q.push(")");
    }
    if let Some(s) = f.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.push(" AND l.source = ")
            .push_bind(s.to_owned())
            .push(" COLLATE NOCASE");
    }
    if f.unassigned {
        q.push(" AND l.assigned_staff_id IS NULL");
    } else if let Some(a) = f.assigned_staff_id {
        q.push(" AND l.assigned_staff_id = ").push_bind(a);
    }
    if let Some(from) = f.created_from {
        q.push(" AND l.created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND l.created_at < ").push_bind(to);
    }
    if let Some(w) = f.has_whatsapp {
        q.push(" AND l.whatsapp = ").push_bind(i64::from(w));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", s.replace('%', "\\%").replace('_', "\\_"));
        q.push(" AND (l.name LIKE ");
        q.push_bind(like.clone())
            .push(" ESCAPE '\\' OR l.company LIKE ");
        q.push_bind(like.clone())
            .push(" ESCAPE '\\' OR l.phone LIKE ");
        q.push_bind(like.clone())
            .push(" ESCAPE '\\' OR l.email LIKE ");
        q.push_bind(like).push(" ESCAPE '\\'");
        if let Some(digits) = crate::contacts::phone::search_digits(s) {
            q.push(" OR l.phone LIKE ").push_bind(format!("%{digits}%"));
        }
        q.push(")");
    }
}

fn check_range(f: &LeadFilter) -> std::result::Result<(), LeadsError> {
    match (f.created_from, f.created_to) {
        (Some(from), Some(to)) if to < from => Err(LeadsError::BadRange),
        _ => Ok(()),
    }
}

fn lead_of(r: &sqlx::sqlite::SqliteRow) -> std::result::Result<Lead, sqlx::Error> {
    Ok(Lead {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        company: r.try_get("company")?,
        phone: r.try_get("phone")?,
        whatsapp: r.try_get("whatsapp")?,
        email: r.try_get("email")?,
        source: r.try_get("source")?,
        status_id: r.try_get("status_id")?,
        assigned_staff_id: r.try_get("assigned_staff_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn describe(lead: &Lead) -> String {
    format!("lead “{}” (#{})", lead.name, lead.id)
}

// ---- operations -------------------------------------------------------------------------------

impl Ctx<'_> {
    /// A page of leads, newest first, narrowed by the filter.
    pub async fn leads(&self, filter: LeadFilter) -> Result<LeadPage> {
        self.actor().await?.require(Resource::Leads, Action::View)?;
        check_range(&filter)?;
        let limit = filter.limit.unwrap_or(100).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0);
        let mut count: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT count(*) FROM leads l");
        push_filter(&mut count, &filter);
        let total: i64 = count.build().fetch_one(self.db()).await?.try_get(0)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT l.id, l.name, l.company, l.phone, l.whatsapp, l.email, l.source, l.status_id,
                    l.assigned_staff_id, l.created_at, l.updated_at FROM leads l",
        );
        push_filter(&mut q, &filter);
        q.push(" ORDER BY l.created_at DESC, l.id DESC LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(offset));
        let rows = q.build().fetch_all(self.db()).await?;
        let leads = rows
            .iter()
            .map(lead_of)
            .collect::<std::result::Result<_, _>>()?;
        Ok(LeadPage {
            total,
            offset,
            leads,
        })
    }

    /// Saves every lead the filter matches (its paging aside), those reached only by WhatsApp
    /// user id too, as a CSV file in `folder`, newest first as listed; returns its path.
    pub async fn export_leads_csv(
        &self,
        filter: LeadFilter,
        folder: &std::path::Path,
    ) -> Result<String> {
        self.actor().await?.require(Resource::Leads, Action::View)?;
        check_range(&filter)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT l.name, l.company, coalesce(l.phone, '') AS phone, l.email,
                    coalesce(l.wa_user_id, '') AS whatsapp_user_id, l.source, s.name AS status,
                    l.assigned_staff_id,
                    strftime('%Y-%m-%dT%H:%M:%SZ', l.created_at / 1000, 'unixepoch') AS created_at
             FROM leads l JOIN lead_statuses s ON s.id = l.status_id",
        );
        push_filter(&mut q, &filter);
        q.push(" ORDER BY l.created_at DESC, l.id DESC");
        let mut conn = self.db().acquire().await?;
        let rows = q.build().fetch_all(&mut *conn).await?;
        let mut names: std::collections::HashMap<i64, String> = Default::default();
        for r in &rows {
            if let Some(id) = r.try_get::<Option<i64>, _>("assigned_staff_id")?
                && !names.contains_key(&id)
            {
                let name = crate::staff::name_of(&mut conn, id).await?;
                names.insert(id, name.unwrap_or_default());
            }
        }
        let problem = |e: &dyn std::fmt::Display| {
            crate::Error::from(LeadsError::Export(format!(
                "{} cannot be written: {e}",
                folder.display()
            )))
        };
        let (file, path) =
            crate::uploads::create_new_file(folder, "leads.csv").map_err(|e| problem(&e))?;
        let mut w = csv::Writer::from_writer(file);
        const COLUMNS: [&str; 9] = [
            "name",
            "company",
            "phone",
            "email",
            "whatsapp_user_id",
            "source",
            "status",
            "assigned_to",
            "created_at",
        ];
        w.write_record(COLUMNS).map_err(|e| problem(&e))?;
        for r in rows {
            let mut record = Vec::with_capacity(COLUMNS.len());
            for c in COLUMNS {
                record.push(match c {
                    "assigned_to" => r
                        .try_get::<Option<i64>, _>("assigned_staff_id")?
                        .and_then(|id| names.get(&id).cloned())
                        .unwrap_or_default(),
                    c => r.try_get::<String, _>(c)?,
                });
            }
            w.write_record(&record).map_err(|e| problem(&e))?;
        }
        w.flush().map_err(|e| problem(&e))?;
        Ok(path.display().to_string())
    }

    pub async fn lead(&self, id: i64) -> Result<Lead> {
        self.actor().await?.require(Resource::Leads, Action::View)?;
        get(&mut *self.db().acquire().await?, id).await
    }

    /// "Filter leads for campaign": every lead matching `filter` (paging ignored), newest first.
    /// Open to staff who may view leads or create campaigns.
    pub async fn filter_leads_for_campaign(
        &self,
        filter: LeadFilter,
    ) -> Result<Vec<LeadRecipient>> {
        let actor = self.actor().await?;
        if actor
            .require(Resource::WhatsappCampaign, Action::Create)
            .is_err()
        {
            actor.require(Resource::Leads, Action::View)?;
        }
        check_range(&filter)?;
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT l.id, l.name, l.phone, l.whatsapp FROM leads l");
        push_filter(&mut q, &filter);
        q.push(" ORDER BY l.created_at DESC, l.id DESC");
        let rows = q.build().fetch_all(self.db()).await?;
        rows.iter()
            .map(|r| {
                Ok(LeadRecipient {
                    lead_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    phone: r.try_get("phone")?,
                    whatsapp: r.try_get("whatsapp")?,
                })
            })
            .collect()
    }

    /// Every lead matching `filter` (paging ignored) with its merge fields, in the order a
    /// campaign freezes them: the audience of a campaign to leads. Leads without a number
    /// WhatsApp can reach come with none (the plan counts them).
    /// Also returns how many leads there are in all.
    pub async fn lead_audience(
        &self,
        filter: LeadFilter,
    ) -> Result<(Vec<crate::templates::AudienceMember>, i64)> {
        self.actor()
            .await?
            .require(Resource::WhatsappCampaign, Action::Create)?;
        check_range(&filter)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT l.id, l.name, l.company, l.phone, l.whatsapp, l.email, s.name AS status,
                    l.wa_user_id
             FROM leads l JOIN lead_statuses s ON s.id = l.status_id",
        );
        push_filter(&mut q, &filter);
        q.push(" ORDER BY l.created_at, l.id");
        let rows = q.build().fetch_all(self.db()).await?;
        let total = sqlx::query_scalar!("SELECT count(*) FROM leads")
            .fetch_one(self.db())
            .await?;
        let members = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let whatsapp: bool = r.try_get("whatsapp")?;
                let phone: Option<String> = r.try_get("phone")?;
                let name: String = r.try_get("name")?;
                let company: String = r.try_get("company")?;
                let email: String = r.try_get("email")?;
                let status: String = r.try_get("status")?;
                let user_id: Option<String> = r.try_get("wa_user_id")?;
                // A lead with no number WhatsApp reaches is still reached by its user id.
                let reach = phone.filter(|_| whatsapp).or(user_id);
                Ok(crate::templates::AudienceMember::new(
                    format!("lead:{id}"),
                    name.clone(),
                    reach,
                    &company,
                )
                .with("lead.name", &name)
                .with("lead.company", &company)
                .with("lead.email", &email)
                .with("lead.status", &status))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((members, total))
    }

    /// The sources leads already have, most used first: suggestions for the source field.
    pub async fn lead_sources(&self) -> Result<Vec<String>> {
        self.actor().await?.require(Resource::Leads, Action::View)?;
        Ok(sqlx::query_scalar!(
            "SELECT source FROM leads WHERE source <> '' GROUP BY source COLLATE NOCASE
             ORDER BY count(*) DESC, source LIMIT 100"
        )
        .fetch_all(self.db())
        .await?)
    }

    pub async fn create_lead(&self, input: LeadInput) -> Result<Lead> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Leads,
            "leads.create",
            format!("lead “{}”", input.name.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Create),
            Box::new(move |tx| {
                Box::pin(async move {
                    let (c, status) = checked_input(tx, &input, None).await?;
                    let now = crate::now_ms();
                    let company = input.company.trim();
                    let source = input.source.trim();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO leads (name, company, phone, whatsapp, email, source, status_id,
                                              assigned_staff_id, created_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
                        c.name,
                        company,
                        c.phone,
                        c.whatsapp,
                        c.email,
                        source,
                        status,
                        input.assigned_staff_id,
                        now,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let lead = get(tx, id).await?;
                    let detail = lead.phone.clone().or(Some(lead.email.clone()));
                    Ok((lead, detail))
                })
            }),
        )
        .await
    }

    /// Replaces every field of a lead (its created date stays; so does its status when none is given).
    pub async fn update_lead(&self, id: i64, input: LeadInput) -> Result<Lead> {
        let actor = self.actor().await?;
        let what = Change::new(Screen::Leads, "leads.update", format!("lead #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let before = get(tx, id).await?;
                    // Without a status the lead keeps its own (the first status is for new leads).
                    let mut input = input;
                    input.status_id = input.status_id.or(Some(before.status_id));
                    let (c, status) = checked_input(tx, &input, Some(id)).await?;
                    let now = crate::now_ms();
                    let company = input.company.trim();
                    let source = input.source.trim();
                    sqlx::query!(
                        "UPDATE leads SET name = ?, company = ?, phone = ?, whatsapp = ?, email = ?, source = ?,
                           status_id = ?, assigned_staff_id = ?, updated_at = ? WHERE id = ?",
                        c.name,
                        company,
                        c.phone,
                        c.whatsapp,
                        c.email,
                        source,
                        status,
                        input.assigned_staff_id,
                        now,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    let lead = get(tx, id).await?;
                    let detail = (before.status_id != lead.status_id)
                        .then(|| format!("status #{} → #{}", before.status_id, lead.status_id));
                    Ok((lead, detail))
                })
            }),
        )
        .await
    }

    /// Deletes leads, all or none: a lead with documents stops the whole deletion.
    pub async fn delete_leads(&self, ids: Vec<i64>) -> Result<LeadsDeleted> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Leads,
            "leads.delete",
            format!("{} lead(s)", ids.len()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Delete),
            Box::new(move |tx| {
                Box::pin(async move {
                    if ids.is_empty() {
                        return Err(LeadsError::NothingSelected.into());
                    }
                    let mut names = Vec::new();
                    for &id in &ids {
                        let lead = get(tx, id).await?;
                        let docs = documents::count_for_lead(tx, id).await?;
                        if docs > 0 {
                            return Err(LeadsError::HasDocuments {
                                name: lead.name,
                                documents: docs,
                            }
                            .into());
                        }
                        sqlx::query!("DELETE FROM leads WHERE id = ?", id)
                            .execute(&mut *tx)
                            .await?;
                        names.push(describe(&lead));
                    }
                    let deleted = names.len() as i64;
                    Ok((LeadsDeleted { deleted }, Some(names.join(", "))))
                })
            }),
        )
        .await
    }

    // ---- statuses -----------------------------------------------------------------------------

    /// The lead statuses in their order, each with how many leads have it.
    pub async fn lead_statuses(&self) -> Result<Vec<LeadStatus>> {
        let actor = self.actor().await?;
        if actor
            .require(Resource::WhatsappCampaign, Action::Create)
            .is_err()
        {
            actor.require(Resource::Leads, Action::View)?;
        }
        statuses(&mut *self.db().acquire().await?).await
    }

    /// Adds a status at the end of the order.
    pub async fn create_lead_status(&self, input: LeadStatusInput) -> Result<LeadStatus> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Leads,
            "lead_status.create",
            format!("lead status “{}”", input.name.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = input.name.trim().to_owned();
                    if name.is_empty() {
                        return Err(LeadsError::EmptyStatusName.into());
                    }
                    let color = clean_color(&input.color)?;
                    let now = crate::now_ms();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO lead_statuses (name, color, position, created_at)
                           VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM lead_statuses), ?)
                           RETURNING id AS "id!""#,
                        name,
                        color,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_status(e, &name))?;
                    let s = statuses(tx).await?.into_iter().find(|s| s.id == id);
                    Ok((s.ok_or(LeadsError::NoStatus(id))?, None))
                })
            }),
        )
        .await
    }

    pub async fn update_lead_status(&self, id: i64, input: LeadStatusInput) -> Result<LeadStatus> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Leads,
            "lead_status.update",
            format!("lead status #{id}"),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let name = input.name.trim().to_owned();
                    if name.is_empty() {
                        return Err(LeadsError::EmptyStatusName.into());
                    }
                    let color = clean_color(&input.color)?;
                    let n = sqlx::query!(
                        "UPDATE lead_statuses SET name = ?, color = ? WHERE id = ?",
                        name,
                        color,
                        id
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_status(e, &name))?
                    .rows_affected();
                    if n == 0 {
                        return Err(LeadsError::NoStatus(id).into());
                    }
                    let s = statuses(tx).await?.into_iter().find(|s| s.id == id);
                    Ok((
                        s.ok_or(LeadsError::NoStatus(id))?,
                        Some(format!("“{name}”")),
                    ))
                })
            }),
        )
        .await
    }

    /// Puts the statuses in the order given (every status exactly once).
    pub async fn reorder_lead_statuses(&self, ids: Vec<i64>) -> Result<Vec<LeadStatus>> {
        let actor = self.actor().await?;
        let what = Change::new(Screen::Leads, "lead_status.reorder", "lead statuses");
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let mut current: Vec<i64> = statuses(tx).await?.iter().map(|s| s.id).collect();
                    let mut given = ids.clone();
                    current.sort_unstable();
                    given.sort_unstable();
                    if current != given {
                        return Err(LeadsError::BadOrder.into());
                    }
                    for (i, id) in ids.iter().enumerate() {
                        let pos = i as i64 + 1;
                        sqlx::query!(
                            "UPDATE lead_statuses SET position = ? WHERE id = ?",
                            pos,
                            id
                        )
                        .execute(&mut *tx)
                        .await?;
                    }
                    Ok((statuses(tx).await?, None))
                })
            }),
        )
        .await
    }

    /// Deletes a status no lead uses (never the last one).
    pub async fn delete_lead_status(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Leads,
            "lead_status.delete",
            format!("lead status #{id}"),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Leads, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    let all = statuses(tx).await?;
                    let status = all
                        .iter()
                        .find(|s| s.id == id)
                        .ok_or(LeadsError::NoStatus(id))?;
                    if status.lead_count > 0 {
                        return Err(LeadsError::StatusInUse {
                            name: status.name.clone(),
                            leads: status.lead_count,
                        }
                        .into());
                    }
                    if all.len() == 1 {
                        return Err(LeadsError::LastStatus.into());
                    }
                    sqlx::query!("DELETE FROM lead_statuses WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    Ok(((), Some(format!("was “{}”", status.name))))
                })
            }),
        )
        .await
    }
}

fn unique_status(e: sqlx::Error, name: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            LeadsError::DuplicateStatus(name.into()).into()
        }
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> phone::Country {
        "US".parse().unwrap()
    }

    #[test]
    fn a_lead_needs_a_name_and_a_way_to_reach_it() {
        assert!(matches!(
            check_fields(" ", "+12015550123", "", us()),
            Err(LeadsError::EmptyName)
        ));
        assert!(matches!(
            check_fields("Ana", "", "", us()),
            Err(LeadsError::Unreachable)
        ));
        assert!(matches!(
            check_fields("Ana", "call me", "", us()),
            Err(LeadsError::Phone(_))
        ));
        assert!(matches!(
            check_fields("Ana", "", "ana@", us()),
            Err(LeadsError::Email(_))
        ));
        let c = check_fields(" Ana ", "201-555-0123", "", us()).unwrap();
        assert_eq!(
            (c.name.as_str(), c.phone.as_deref(), c.whatsapp),
            ("Ana", Some("+12015550123"), true)
        );
        let c = check_fields("Ben", "", "ben@example.com", us()).unwrap();
        assert_eq!(
            (c.phone, c.whatsapp, c.email.as_str()),
            (None, false, "ben@example.com")
        );
        let landline = check_fields("Berlin office", "+49 30 1234567", "", us()).unwrap();
        assert!(!landline.whatsapp);
    }

    #[test]
    fn colours_are_hex() {
        assert_eq!(clean_color(" #16A34A ").unwrap(), "#16a34a");
        for bad in ["green", "#16a34", "16a34a0", "#ggg000"] {
            assert!(
                matches!(clean_color(bad), Err(LeadsError::BadColor(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_inverted_range_is_refused() {
        let f = LeadFilter {
            created_from: Some(10),
            created_to: Some(5),
            ..Default::default()
        };
        assert!(matches!(check_range(&f), Err(LeadsError::BadRange)));
    }
}

// ---- for the chat module: the lead a conversation is linked to ---------------------------------

/// What the chat header shows of a lead.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct LeadBrief {
    pub id: i64,
    pub name: String,
    pub company: String,
    pub phone: Option<String>,
    pub status_id: i64,
    pub status_name: String,
    pub status_color: String,
}

pub(crate) async fn brief(conn: &mut SqliteConnection, id: i64) -> Result<Option<LeadBrief>> {
    Ok(sqlx::query_as!(
        LeadBrief,
        r#"SELECT l.id AS "id!", l.name, l.company, l.phone, l.status_id,
                  s.name AS status_name, s.color AS status_color
           FROM leads l JOIN lead_statuses s ON s.id = l.status_id WHERE l.id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The lead with this E.164 number.
pub(crate) async fn id_by_phone(conn: &mut SqliteConnection, e164: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT id AS "id!" FROM leads WHERE phone = ?"#, e164)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The lead made for this business-scoped WhatsApp user id (a customer known without a phone).
pub(crate) async fn id_by_user(conn: &mut SqliteConnection, user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM leads WHERE wa_user_id = ?"#,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The customer's number is known now: a lead without a phone takes it, unless another lead has
/// it already.
pub(crate) async fn give_phone(conn: &mut SqliteConnection, lead: i64, e164: &str) -> Result<()> {
    let whatsapp = phone::whatsapp_capable(e164);
    let now = crate::now_ms();
    sqlx::query!(
        "UPDATE leads SET phone = ?1, whatsapp = ?2, updated_at = ?3
         WHERE id = ?4 AND phone IS NULL AND NOT EXISTS (SELECT 1 FROM leads WHERE phone = ?1)",
        e164,
        whatsapp,
        now,
        lead
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Two leads turned out to be one WhatsApp customer (their two conversations were one person's):
/// `bare`, made from a conversation and never changed since (by a person or otherwise), is
/// removed and `keep` takes its user id. A lead anyone changed is left as it is. Whether it goes.
pub(crate) async fn absorb_bare(conn: &mut SqliteConnection, keep: i64, bare: i64) -> Result<bool> {
    let Some(user_id) = sqlx::query_scalar!(
        r#"SELECT wa_user_id AS "wa_user_id!" FROM leads
           WHERE id = ? AND phone IS NULL AND email = '' AND wa_user_id IS NOT NULL
             AND updated_at = created_at"#,
        bare
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(false);
    };
    sqlx::query!("DELETE FROM leads WHERE id = ?", bare)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "UPDATE leads SET wa_user_id = COALESCE(wa_user_id, ?) WHERE id = ?",
        user_id,
        keep
    )
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// How a customer who wrote is known: their number (E.164), or only their WhatsApp user id (a
/// username and no phone).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reached<'a> {
    Phone(&'a str),
    UserId(&'a str),
}

/// A new lead for a customer who wrote to us and matched no record: source `source`, the first
/// status; known by number, or by user id alone (reached through WhatsApp until a number or an
/// email is known). Returns the existing lead if another path created it meanwhile.
pub(crate) async fn create_from_whatsapp(
    conn: &mut SqliteConnection,
    who: Reached<'_>,
    name: &str,
    source: &str,
) -> Result<i64> {
    let status = status_or_default(conn, None).await?;
    let (phone, user_id) = match who {
        Reached::Phone(p) => (Some(p), None),
        Reached::UserId(u) => (None, Some(u)),
    };
    let name = match (name.trim(), phone) {
        ("", Some(p)) => p,
        ("", None) => "WhatsApp customer",
        (n, _) => n,
    };
    let whatsapp = phone.is_some_and(phone::whatsapp_capable);
    let now = crate::now_ms();
    sqlx::query!(
        "INSERT INTO leads (name, phone, whatsapp, wa_user_id, source, status_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        name,
        phone,
        whatsapp,
        user_id,
        source,
        status,
        now,
        now
    )
    .execute(&mut *conn)
    .await?;
    match who {
        Reached::Phone(p) => id_by_phone(conn, p).await?,
        Reached::UserId(u) => id_by_user(conn, u).await?,
    }
    .ok_or_else(|| LeadsError::NoLead(0).into())
}

/// Sets a lead's status; returns the status's name. Refuses an unknown status.
pub(crate) async fn set_status(
    conn: &mut SqliteConnection,
    lead_id: i64,
    status_id: i64,
) -> Result<String> {
    let name = sqlx::query_scalar!("SELECT name FROM lead_statuses WHERE id = ?", status_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(LeadsError::NoStatus(status_id))?;
    let now = crate::now_ms();
    let done = sqlx::query!(
        "UPDATE leads SET status_id = ?, updated_at = ? WHERE id = ?",
        status_id,
        now,
        lead_id
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(LeadsError::NoLead(lead_id).into());
    }
    Ok(name)
}

/// Another desktop changed the status of the lead with this number: statuses travel by name.
pub(crate) async fn set_status_by_name(
    conn: &mut SqliteConnection,
    e164: &str,
    status: &str,
) -> Result<()> {
    let now = crate::now_ms();
    sqlx::query!(
        "UPDATE leads SET status_id = (SELECT id FROM lead_statuses WHERE name = ?), updated_at = ?
         WHERE phone = ? AND EXISTS (SELECT 1 FROM lead_statuses WHERE name = ?)",
        status,
        now,
        e164,
        status
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
