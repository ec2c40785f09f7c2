//! Clients: the companies the business works for, with their contact persons and phones.
//! Permission `clients` (a CRM permission outside the spec's WhatsApp table).
//!
//! Rules: a client needs a company name, unique (case-insensitive). Phones (the company's and
//! each contact person's) are optional; when given they must parse and are stored in E.164, with
//! a `whatsapp` flag as for leads. A contact person needs a name; at most one is the primary one.
//! Editing a client updates its contact persons in place (by id), adds new ones and removes the
//! ones left out. A client with documents cannot be deleted: nothing is lost.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::contacts::phone::{self, Country, PhoneError};
use crate::email::{self, EmailError};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{ErrorCode, Result, contacts, documents};

#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("a client needs a company name")]
    EmptyCompany,
    #[error("there is already a client named “{0}”")]
    DuplicateCompany(String),
    #[error("phone number{}: {source}", who.as_deref().map(|w| format!(" of {w}")).unwrap_or_default())]
    Phone {
        who: Option<String>,
        #[source]
        source: PhoneError,
    },
    #[error("email{}: {source}", who.as_deref().map(|w| format!(" of {w}")).unwrap_or_default())]
    Email {
        who: Option<String>,
        #[source]
        source: EmailError,
    },
    #[error("contact person {0} needs a name")]
    EmptyContactName(usize),
    #[error("only one contact person can be the primary one")]
    TwoPrimaries,
    #[error("contact person {0} does not belong to this client")]
    ForeignContact(i64),
    #[error("client {0} does not exist")]
    NoClient(i64),
    #[error("client “{name}” has {documents} document(s); delete them first")]
    HasDocuments { name: String, documents: i64 },
}

impl crate::error::Coded for ClientsError {
    fn code(&self) -> ErrorCode {
        ClientsError::code(self)
    }
}

impl ClientsError {
    pub fn code(&self) -> ErrorCode {
        use ClientsError::*;
        match self {
            EmptyCompany
            | Phone { .. }
            | Email { .. }
            | EmptyContactName(_)
            | TwoPrimaries
            | ForeignContact(_) => ErrorCode::Invalid,
            DuplicateCompany(_) | HasDocuments { .. } => ErrorCode::Conflict,
            NoClient(_) => ErrorCode::NotFound,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ContactPerson {
    pub id: i64,
    pub name: String,
    /// Their job or role at the client ("Purchasing").
    pub position: String,
    /// E.164 or null.
    pub phone: Option<String>,
    pub whatsapp: bool,
    pub email: String,
    pub is_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Client {
    pub id: i64,
    pub company: String,
    pub phone: Option<String>,
    pub email: String,
    pub address: String,
    pub notes: String,
    pub contacts: Vec<ContactPerson>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ContactPersonInput {
    /// An existing contact person of this client; absent for a new one.
    #[ts(optional)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub is_primary: bool,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ClientInput {
    pub company: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub contacts: Vec<ContactPersonInput>,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ClientFilter {
    /// Matches the company, its phone or email, or a contact person's name or phone.
    #[ts(optional)]
    pub search: Option<String>,
    #[ts(optional)]
    pub offset: Option<u32>,
    /// 1 to 500; 100 when absent.
    #[ts(optional)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ClientPage {
    pub total: i64,
    pub offset: u32,
    pub clients: Vec<Client>,
}

// ---- checks -----------------------------------------------------------------------------------

fn opt_phone(
    raw: &str,
    country: Country,
    who: Option<String>,
) -> std::result::Result<(Option<String>, bool), ClientsError> {
    match raw.trim() {
        "" => Ok((None, false)),
        p => {
            let e164 =
                phone::to_e164(p, country).map_err(|source| ClientsError::Phone { who, source })?;
            let w = phone::whatsapp_capable(&e164);
            Ok((Some(e164), w))
        }
    }
}

struct CheckedPerson {
    id: Option<i64>,
    name: String,
    position: String,
    phone: Option<String>,
    whatsapp: bool,
    email: String,
    is_primary: bool,
}

struct Checked {
    company: String,
    phone: Option<String>,
    email: String,
    people: Vec<CheckedPerson>,
}

fn check(input: &ClientInput, country: Country) -> std::result::Result<Checked, ClientsError> {
    let company = input.company.trim();
    if company.is_empty() {
        return Err(ClientsError::EmptyCompany);
    }
    let (phone, _) = opt_phone(&input.phone, country, None)?;
    let email =
        email::clean(&input.email).map_err(|source| ClientsError::Email { who: None, source })?;
    if input.contacts.iter().filter(|c| c.is_primary).count() > 1 {
        return Err(ClientsError::TwoPrimaries);
    }
    let mut people = Vec::with_capacity(input.contacts.len());
    for (i, c) in input.contacts.iter().enumerate() {
        let name = c.name.trim();
        if name.is_empty() {
            return Err(ClientsError::EmptyContactName(i + 1));
        }
        let (phone, whatsapp) = opt_phone(&c.phone, country, Some(name.to_owned()))?;
        let email = email::clean(&c.email).map_err(|source| ClientsError::Email {
            who: Some(name.to_owned()),
            source,
        })?;
        people.push(CheckedPerson {
            id: c.id,
            name: name.to_owned(),
            position: c.position.trim().to_owned(),
            phone,
            whatsapp,
            email,
            is_primary: c.is_primary,
        });
    }
    Ok(Checked {
        company: company.to_owned(),
        phone,
        email,
        people,
    })
}

// ---- storage (tables: clients, client_contacts) ------------------------------------------------

async fn people_of(conn: &mut SqliteConnection, client: i64) -> Result<Vec<ContactPerson>> {
    Ok(sqlx::query_as!(
        ContactPerson,
        r#"SELECT id AS "id!", name, position, phone, whatsapp AS "whatsapp: bool", email,
                  is_primary AS "is_primary: bool"
           FROM client_contacts WHERE client_id = ? ORDER BY is_primary DESC, id"#,
        client
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub(crate) async fn get(conn: &mut SqliteConnection, id: i64) -> Result<Client> {
    let r = sqlx::query!(
        r#"SELECT id AS "id!", company, phone, email, address, notes, created_at FROM clients WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ClientsError::NoClient(id))?;
    Ok(Client {
        contacts: people_of(conn, id).await?,
        id: r.id,
        company: r.company,
        phone: r.phone,
        email: r.email,
        address: r.address,
        notes: r.notes,
        created_at: r.created_at,
    })
}

/// A client's company name, for other modules (documents) that name the client.
pub(crate) async fn name_of(conn: &mut SqliteConnection, id: i64) -> Result<String> {
    Ok(
        sqlx::query_scalar!("SELECT company FROM clients WHERE id = ?", id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(ClientsError::NoClient(id))?,
    )
}

fn unique_company(e: sqlx::Error, name: &str) -> crate::Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ClientsError::DuplicateCompany(name.into()).into()
        }
        _ => e.into(),
    }
}

/// Writes the contact persons of `client`: updates those with an id, inserts the new ones and
/// removes those left out.
async fn write_people(
    conn: &mut SqliteConnection,
    client: i64,
    people: &[CheckedPerson],
) -> Result<()> {
    let existing: Vec<i64> = people_of(conn, client)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    for p in people {
        if let Some(id) = p.id
            && !existing.contains(&id)
        {
            return Err(ClientsError::ForeignContact(id).into());
        }
    }
    for id in &existing {
        if !people.iter().any(|p| p.id == Some(*id)) {
            sqlx::query!("DELETE FROM client_contacts WHERE id = ?", id)
                .execute(&mut *conn)
                .await?;
        }
    }
    for p in people {
        match p.id {
            Some(id) => {
                sqlx::query!(
                    "UPDATE client_contacts SET name = ?, position = ?, phone = ?, whatsapp = ?, email = ?, is_primary = ?
                     WHERE id = ? AND client_id = ?",
                    p.name, p.position, p.phone, p.whatsapp, p.email, p.is_primary, id, client
                )
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query!(
                    "INSERT INTO client_contacts (client_id, name, position, phone, whatsapp, email, is_primary)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                    client, p.name, p.position, p.phone, p.whatsapp, p.email, p.is_primary
                )
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

// ---- operations -------------------------------------------------------------------------------

impl Ctx<'_> {
    /// A page of clients by company name.
    pub async fn clients(&self, filter: ClientFilter) -> Result<ClientPage> {
        self.actor()
            .await?
            .require(Resource::Clients, Action::View)?;
        let limit = filter.limit.unwrap_or(100).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0);
        let like = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", s.replace('%', "\\%").replace('_', "\\_")));
        let push_where = |q: &mut QueryBuilder<Sqlite>| {
            if let Some(l) = &like {
                q.push(" WHERE c.company LIKE ").push_bind(l.clone());
                q.push(" ESCAPE '\\' OR c.phone LIKE ").push_bind(l.clone());
                q.push(" ESCAPE '\\' OR c.email LIKE ").push_bind(l.clone());
                q.push(" ESCAPE '\\' OR c.id IN (SELECT client_id FROM client_contacts p WHERE p.name LIKE ")
                    .push_bind(l.clone());
                q.push(" ESCAPE '\\' OR p.phone LIKE ")
                    .push_bind(l.clone())
                    .push(" ESCAPE '\\')");
            }
        };
        let mut count: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT count(*) FROM clients c");
        push_where(&mut count);
        let total: i64 = count.build().fetch_one(self.db()).await?.try_get(0)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT c.id FROM clients c");
        push_where(&mut q);
        q.push(" ORDER BY c.company, c.id LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(offset));
        let ids: Vec<i64> = q
            .build()
            .fetch_all(self.db())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let mut conn = self.db().acquire().await?;
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            clients.push(get(&mut conn, id).await?);
        }
        Ok(ClientPage {
            total,
            offset,
            clients,
        })
    }

    pub async fn client(&self, id: i64) -> Result<Client> {
        self.actor()
            .await?
            .require(Resource::Clients, Action::View)?;
        get(&mut *self.db().acquire().await?, id).await
    }

    pub async fn create_client(&self, input: ClientInput) -> Result<Client> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Clients,
            "clients.create",
            format!("client “{}”", input.company.trim()),
        );
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Clients, Action::Create),
            Box::new(move |tx| {
                Box::pin(async move {
                    let country = contacts::default_country(tx).await?;
                    let mut c = check(&input, country)?;
                    // New contact persons only: an id names nothing of a client not yet created.
                    if let Some(id) = c.people.iter().find_map(|p| p.id) {
                        return Err(ClientsError::ForeignContact(id).into());
                    }
                    let now = crate::now_ms();
                    let address = input.address.trim();
                    let notes = input.notes.trim();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO clients (company, phone, email, address, notes, created_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
                        c.company, c.phone, c.email, address, notes, now, now
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_company(e, &c.company))?;
                    let people = std::mem::take(&mut c.people);
                    write_people(tx, id, &people).await?;
                    let client = get(tx, id).await?;
                    let detail = Some(format!("{} contact person(s)", client.contacts.len()));
                    Ok((client, detail))
                })
            }),
        )
        .await
    }

    pub async fn update_client(&self, id: i64, input: ClientInput) -> Result<Client> {
        let actor = self.actor().await?;
        let what = Change::new(Screen::Clients, "clients.update", format!("client #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Clients, Action::Edit),
            Box::new(move |tx| {
                Box::pin(async move {
                    get(tx, id).await?;
                    let country = contacts::default_country(tx).await?;
                    let c = check(&input, country)?;
                    let now = crate::now_ms();
                    let address = input.address.trim();
                    let notes = input.notes.trim();
                    sqlx::query!(
                        "UPDATE clients SET company = ?, phone = ?, email = ?, address = ?, notes = ?, updated_at = ?
                         WHERE id = ?",
                        c.company, c.phone, c.email, address, notes, now, id
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_company(e, &c.company))?;
                    write_people(tx, id, &c.people).await?;
                    let client = get(tx, id).await?;
                    let detail = Some(format!("“{}”, {} contact person(s)", client.company, client.contacts.len()));
                    Ok((client, detail))
                })
            }),
        )
        .await
    }

    /// Deletes a client and its contact persons; refused while it has documents.
    pub async fn delete_client(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let what = Change::new(Screen::Clients, "clients.delete", format!("client #{id}"));
        audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Clients, Action::Delete),
            Box::new(move |tx| {
                Box::pin(async move {
                    let client = get(tx, id).await?;
                    let docs = documents::count_for_client(tx, id).await?;
                    if docs > 0 {
                        return Err(ClientsError::HasDocuments {
                            name: client.company,
                            documents: docs,
                        }
                        .into());
                    }
                    sqlx::query!("DELETE FROM clients WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    Ok(((), Some(format!("was “{}”", client.company))))
                })
            }),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Country {
        "US".parse().unwrap()
    }

    #[test]
    fn checks_name_the_field_and_the_person() {
        let mut input = ClientInput {
            company: "  ".into(),
            ..Default::default()
        };
        assert!(matches!(
            check(&input, us()),
            Err(ClientsError::EmptyCompany)
        ));
        input.company = "Acme".into();
        input.contacts = vec![ContactPersonInput {
            name: "Ana".into(),
            phone: "12".into(),
            ..Default::default()
        }];
        let e = check(&input, us()).err().unwrap();
        assert!(e.to_string().contains("of Ana"), "{e}");
        input.contacts[0].phone = "+1 201 555 0123".into();
        input.contacts.push(ContactPersonInput {
            name: " ".into(),
            ..Default::default()
        });
        assert!(matches!(
            check(&input, us()),
            Err(ClientsError::EmptyContactName(2))
        ));
        input.contacts[1].name = "Ben".into();
        input.contacts[0].is_primary = true;
        input.contacts[1].is_primary = true;
        assert!(matches!(
            check(&input, us()),
            Err(ClientsError::TwoPrimaries)
        ));
        input.contacts[1].is_primary = false;
        let c = check(&input, us()).unwrap();
        assert_eq!(c.people[0].phone.as_deref(), Some("+12015550123"));
        assert!(c.people[0].whatsapp);
    }
}

// ---- for the chat module: the client contact a conversation is linked to ----------------------

/// What the chat header shows of a client's contact person.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ContactPersonBrief {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub company: String,
    pub phone: Option<String>,
}

pub(crate) async fn person_brief(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<ContactPersonBrief>> {
    Ok(sqlx::query_as!(
        ContactPersonBrief,
        r#"SELECT p.id AS "id!", p.client_id, p.name, c.company, p.phone
           FROM client_contacts p JOIN clients c ON c.id = p.client_id WHERE p.id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The contact person with this E.164 number (the primary one first).
pub(crate) async fn person_by_phone(
    conn: &mut SqliteConnection,
    e164: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM client_contacts WHERE phone = ? ORDER BY is_primary DESC, id LIMIT 1"#,
        e164
    )
    .fetch_optional(&mut *conn)
    .await?)
}
