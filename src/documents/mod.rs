//! Documents that CRM actions send later over WhatsApp: proposals, estimates, invoices, proforma
//! invoices and credit notes (storno). Permission `documents` (a CRM permission outside the
//! spec's WhatsApp table).
//!
//! Rules:
//! - The number is unique per kind (case-insensitive); left empty, the next free `INV-0001`-style
//!   number of the kind is given.
//! - A document belongs to exactly one client or one lead.
//! - The date is a real calendar date (YYYY-MM-DD); the currency an ISO 4217 code; amounts are
//!   integers in the currency's minor unit. The total is the sum of the lines (quantity in
//!   thousandths × unit price, rounded half up); a total given with lines must equal that sum.
//! - The status is one of its kind's (see [`DocumentKind::statuses`]); `draft` when absent.
//! - Every document has a PDF, a file in the workspace's `documents/` folder: **rendered by the
//!   app from the lines** ([`pdf`]), or **attached** from a file (checked for the `%PDF-`
//!   signature and Meta's 100 MB limit). A document without lines needs an attached PDF and a
//!   total. Editing re-renders a rendered PDF and keeps an attached one;
//!   [`Workspace::render_document_pdf`] switches back to the rendered one.
//! - [`Workspace::document_pdf`] gives the file's path: the system viewer opens it, and the chat
//!   will attach it to a WhatsApp send.
//!
//! PDFs are files, not blobs: up to 100 MB each, they would bloat the database (and its backups
//! and the relay's replication), while a path is what the viewer and an upload to Meta need.
//! A file is written before its transaction commits and removed if it does not; a replaced file
//! is removed only after the commit.

pub mod currency;
pub mod pdf;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result, clients, leads, uploads};

#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error("{kind} number “{number}” is already used")]
    DuplicateNumber { kind: &'static str, number: String },
    #[error("the number “{0}” is too long or holds control characters (at most 40 characters)")]
    BadNumber(String),
    #[error("a document belongs to exactly one client or one lead; {0}")]
    Party(&'static str),
    #[error("the due date {due} is before the document's date {date}")]
    DueBeforeDate { due: String, date: String },
    #[error("“{0}” is not a date; use YYYY-MM-DD, e.g. 2026-11-25")]
    BadDate(String),
    #[error("“{0}” is not an ISO 4217 currency code (e.g. EUR, USD, RON)")]
    BadCurrency(String),
    #[error("“{status}” is not a status of a {kind} (use one of: {allowed})")]
    BadStatus {
        kind: &'static str,
        status: String,
        allowed: String,
    },
    #[error("line {0} needs a description")]
    EmptyLine(usize),
    #[error("line {0}: the quantity must be more than 0")]
    BadQuantity(usize),
    #[error("line {0}: the unit price cannot be negative")]
    NegativePrice(usize),
    #[error("the amounts are too large")]
    Overflow,
    #[error("the total {given} does not match the sum of the lines, {computed}")]
    TotalMismatch { given: String, computed: String },
    #[error("a document without lines needs its total (0 or more)")]
    NeedsTotal,
    #[error("a document needs lines to render its PDF from, or an attached PDF")]
    NothingToRender,
    #[error("the PDF of document {0} can only be rendered from lines, and it has none")]
    NoLinesToRender(i64),
    #[error("attached file: {0}")]
    Pdf(#[from] pdf::PdfError),
    #[error("cannot read or write {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the PDF of document {0} is missing from the documents folder")]
    PdfMissing(i64),
    #[error("document {0} does not exist")]
    NoDocument(i64),
}

impl crate::error::Coded for DocumentsError {
    fn code(&self) -> ErrorCode {
        DocumentsError::code(self)
    }
}

impl DocumentsError {
    pub fn code(&self) -> ErrorCode {
        use DocumentsError::*;
        match self {
            DuplicateNumber { .. } => ErrorCode::Conflict,
            NoDocument(_) | PdfMissing(_) => ErrorCode::NotFound,
            Io { .. } => ErrorCode::Internal,
            _ => ErrorCode::Invalid,
        }
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DocumentsError + '_ {
    move |e| DocumentsError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DocumentKind {
    Proposal,
    Estimate,
    Invoice,
    Proforma,
    /// Storno: cancels (part of) an invoice.
    CreditNote,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Proposal,
        DocumentKind::Estimate,
        DocumentKind::Invoice,
        DocumentKind::Proforma,
        DocumentKind::CreditNote,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Proposal => "proposal",
            DocumentKind::Estimate => "estimate",
            DocumentKind::Invoice => "invoice",
            DocumentKind::Proforma => "proforma",
            DocumentKind::CreditNote => "credit_note",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Proposal => "Proposal",
            DocumentKind::Estimate => "Estimate",
            DocumentKind::Invoice => "Invoice",
            DocumentKind::Proforma => "Proforma invoice",
            DocumentKind::CreditNote => "Credit note",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Proposal => "PRO",
            DocumentKind::Estimate => "EST",
            DocumentKind::Invoice => "INV",
            DocumentKind::Proforma => "PF",
            DocumentKind::CreditNote => "CN",
        }
    }

    /// The statuses a document of this kind can have; the first is the default.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            DocumentKind::Proposal | DocumentKind::Estimate => {
                &["draft", "sent", "accepted", "declined", "cancelled"]
            }
            DocumentKind::Invoice | DocumentKind::Proforma => {
                &["draft", "sent", "paid", "cancelled"]
            }
            DocumentKind::CreditNote => &["draft", "issued", "refunded", "cancelled"],
        }
    }

    fn from_key(key: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PdfSource {
    /// Rendered by the app from the document's lines.
    Rendered,
    /// A PDF file someone attached.
    Attached,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocumentLine {
    pub description: String,
    /// Thousandths: 1.5 is 1500.
    pub quantity_milli: i64,
    /// In the currency's minor unit.
    pub unit_price: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Document {
    pub id: i64,
    pub kind: DocumentKind,
    pub number: String,
    pub client_id: Option<i64>,
    pub lead_id: Option<i64>,
    /// The client's company or the lead's name.
    pub party_name: String,
    /// YYYY-MM-DD
    pub date: String,
    /// YYYY-MM-DD, when payment is due (invoices, proformas); null when none is set.
    pub due_date: Option<String>,
    pub currency: String,
    /// Minor-unit digits of the currency (2 for EUR, 0 for JPY).
    pub currency_digits: u32,
    /// In minor units.
    pub total: i64,
    pub status: String,
    pub notes: String,
    pub pdf_source: PdfSource,
    pub lines: Vec<DocumentLine>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct DocumentInput {
    pub kind: DocumentKind,
    /// Empty: the next free number of the kind.
    #[serde(default)]
    pub number: String,
    #[ts(optional)]
    pub client_id: Option<i64>,
    #[ts(optional)]
    pub lead_id: Option<i64>,
    pub date: String,
    /// YYYY-MM-DD; not before `date`.
    #[serde(default)]
    #[ts(optional)]
    pub due_date: Option<String>,
    pub currency: String,
    /// `draft` when absent.
    #[ts(optional)]
    pub status: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub lines: Vec<DocumentLine>,
    /// Required without lines; with lines, checked against their sum when given.
    #[ts(optional)]
    pub total: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct DocumentFilter {
    #[ts(optional)]
    pub kind: Option<DocumentKind>,
    #[ts(optional)]
    pub status: Option<String>,
    #[ts(optional)]
    pub client_id: Option<i64>,
    #[ts(optional)]
    pub lead_id: Option<i64>,
    /// Matches the number.
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
pub struct DocumentPage {
    pub total: i64,
    pub offset: u32,
    pub documents: Vec<Document>,
}

/// A currency the document form offers.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CurrencyInfo {
    pub code: String,
    pub digits: u32,
}

/// A kind and its statuses, for the document form.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct KindInfo {
    pub kind: DocumentKind,
    pub label: String,
    pub statuses: Vec<String>,
}

pub fn kinds() -> Vec<KindInfo> {
    DocumentKind::ALL
        .into_iter()
        .map(|k| KindInfo {
            kind: k,
            label: k.label().into(),
            statuses: k.statuses().iter().map(|s| (*s).into()).collect(),
        })
        .collect()
}

pub fn currencies() -> Vec<CurrencyInfo> {
    currency::all()
        .map(|(code, digits)| CurrencyInfo {
            code: code.into(),
            digits,
        })
        .collect()
}

// ---- checks -----------------------------------------------------------------------------------

fn check_date(raw: &str) -> std::result::Result<String, DocumentsError> {
    let d = raw.trim();
    let bad = || DocumentsError::BadDate(d.into());
    let parts: Vec<&str> = d.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts[1].len() != 2
        || parts[2].len() != 2
        || !d.chars().all(|c| c.is_ascii_digit() || c == '-')
    {
        return Err(bad());
    }
    let (y, m, day): (u32, u32, u32) = (
        parts[0].parse().map_err(|_| bad())?,
        parts[1].parse().map_err(|_| bad())?,
        parts[2].parse().map_err(|_| bad())?,
    );
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y < 1900 || day == 0 || day > days {
        return Err(bad());
    }
    Ok(d.to_owned())
}

fn line_amount(l: &DocumentLine) -> Option<i64> {
    let v = i128::from(l.quantity_milli) * i128::from(l.unit_price);
    i64::try_from((v + 500) / 1000).ok()
}

/// The input, checked: (number or empty, currency, digits, status, total).
struct Checked {
    number: String,
    currency: String,
    digits: u32,
    date: String,
    due_date: Option<String>,
    status: String,
    total: i64,
}

fn check(
    input: &DocumentInput,
    has_attachment: bool,
) -> std::result::Result<Checked, DocumentsError> {
    let number = input.number.trim().to_owned();
    if number.chars().count() > 40 || number.chars().any(char::is_control) {
        return Err(DocumentsError::BadNumber(number));
    }
    match (input.client_id, input.lead_id) {
        (Some(_), Some(_)) => return Err(DocumentsError::Party("both were given")),
        (None, None) => return Err(DocumentsError::Party("choose one")),
        _ => {}
    }
    let date = check_date(&input.date)?;
    let due_date = match input.due_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => {
            let d = check_date(d)?;
            if d < date {
                return Err(DocumentsError::DueBeforeDate {
                    due: d,
                    date: date.clone(),
                });
            }
            Some(d)
        }
    };
    let code = input.currency.trim().to_owned();
    let digits =
        currency::minor_digits(&code).ok_or_else(|| DocumentsError::BadCurrency(code.clone()))?;
    let kind = input.kind;
    let status = match input.status.as_deref().map(str::trim) {
        None | Some("") => kind.statuses()[0].to_owned(),
        Some(s) if kind.statuses().contains(&s) => s.to_owned(),
        Some(s) => {
            return Err(DocumentsError::BadStatus {
                kind: kind.label(),
                status: s.into(),
                allowed: kind.statuses().join(", "),
            });
        }
    };
    let mut sum: i64 = 0;
    for (i, l) in input.lines.iter().enumerate() {
        let n = i + 1;
        if l.description.trim().is_empty() {
            return Err(DocumentsError::EmptyLine(n));
        }
        if l.quantity_milli <= 0 {
            return Err(DocumentsError::BadQuantity(n));
        }
        if l.unit_price < 0 {
            return Err(DocumentsError::NegativePrice(n));
        }
        sum = line_amount(l)
            .and_then(|a| sum.checked_add(a))
            .filter(|s| *s <= 1_000_000_000_000_000)
            .ok_or(DocumentsError::Overflow)?;
    }
    let total = if input.lines.is_empty() {
        if !has_attachment {
            return Err(DocumentsError::NothingToRender);
        }
        match input.total {
            Some(t) if t >= 0 => t,
            _ => return Err(DocumentsError::NeedsTotal),
        }
    } else {
        if let Some(given) = input.total
            && given != sum
        {
            return Err(DocumentsError::TotalMismatch {
                given: format!("{} {code}", currency::format(given, digits)),
                computed: format!("{} {code}", currency::format(sum, digits)),
            });
        }
        sum
    };
    Ok(Checked {
        number,
        currency: code,
        digits,
        date,
        due_date,
        status,
        total,
    })
}

// ---- storage (tables: documents, document_lines; files: documents/) ------------------------------

/// How many documents a lead has (for the leads module, which refuses to delete such a lead).
pub(crate) async fn count_for_lead(conn: &mut SqliteConnection, lead: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar!("SELECT count(*) FROM documents WHERE lead_id = ?", lead)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// How many documents a client has (for the clients module).
pub(crate) async fn count_for_client(conn: &mut SqliteConnection, client: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar!("SELECT count(*) FROM documents WHERE client_id = ?", client)
            .fetch_one(&mut *conn)
            .await?,
    )
}

struct Stored {
    doc: Document,
    pdf_file: String,
}

async fn party_name(
    conn: &mut SqliteConnection,
    client: Option<i64>,
    lead: Option<i64>,
) -> Result<String> {
    match (client, lead) {
        (Some(c), _) => clients::name_of(conn, c).await,
        (None, Some(l)) => leads::name_of(conn, l).await,
        (None, None) => Ok(String::new()),
    }
}

async fn get(conn: &mut SqliteConnection, id: i64) -> Result<Stored> {
    let r = sqlx::query!(
        r#"SELECT id AS "id!", kind, number, client_id, lead_id, date, due_date, currency, total, status,
                  notes, pdf_source, pdf_file, created_at, updated_at
           FROM documents WHERE id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DocumentsError::NoDocument(id))?;
    let lines = sqlx::query_as!(
        DocumentLine,
        "SELECT description, quantity_milli, unit_price FROM document_lines WHERE document_id = ? ORDER BY position",
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Stored {
        doc: Document {
            party_name: party_name(conn, r.client_id, r.lead_id).await?,
            id: r.id,
            kind: DocumentKind::from_key(&r.kind).unwrap_or(DocumentKind::Invoice),
            number: r.number,
            client_id: r.client_id,
            lead_id: r.lead_id,
            date: r.date,
            due_date: r.due_date,
            currency_digits: currency::minor_digits(&r.currency).unwrap_or(2),
            currency: r.currency,
            total: r.total,
            status: r.status,
            notes: r.notes,
            pdf_source: if r.pdf_source == "attached" {
                PdfSource::Attached
            } else {
                PdfSource::Rendered
            },
            lines,
            created_at: r.created_at,
            updated_at: r.updated_at,
        },
        pdf_file: r.pdf_file,
    })
}

async fn next_number(conn: &mut SqliteConnection, kind: DocumentKind) -> Result<String> {
    let key = kind.key();
    let mut n = sqlx::query_scalar!("SELECT count(*) FROM documents WHERE kind = ?", key)
        .fetch_one(&mut *conn)
        .await?
        + 1;
    loop {
        let candidate = format!("{}-{n:04}", kind.prefix());
        if !number_taken(conn, kind, &candidate, None).await? {
            return Ok(candidate);
        }
        n += 1;
    }
}

async fn number_taken(
    conn: &mut SqliteConnection,
    kind: DocumentKind,
    number: &str,
    except: Option<i64>,
) -> Result<bool> {
    let key = kind.key();
    let except = except.unwrap_or(0);
    Ok(sqlx::query_scalar!(
        "SELECT count(*) FROM documents WHERE kind = ? AND number = ? AND id <> ?",
        key,
        number,
        except
    )
    .fetch_one(&mut *conn)
    .await?
        > 0)
}

async fn write_lines(conn: &mut SqliteConnection, id: i64, lines: &[DocumentLine]) -> Result<()> {
    sqlx::query!("DELETE FROM document_lines WHERE document_id = ?", id)
        .execute(&mut *conn)
        .await?;
    for (i, l) in lines.iter().enumerate() {
        let pos = i as i64 + 1;
        let description = l.description.trim();
        sqlx::query!(
            "INSERT INTO document_lines (document_id, position, description, quantity_milli, unit_price)
             VALUES (?, ?, ?, ?, ?)",
            id,
            pos,
            description,
            l.quantity_milli,
            l.unit_price
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn file_name(doc: &Document) -> String {
    let number: String = doc
        .number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}-{number}-{}-{}.pdf",
        doc.kind.key(),
        doc.id,
        crate::now_ms()
    )
}

fn render(doc: &Document, issuer: &str) -> Vec<u8> {
    let lines: Vec<pdf::SheetLine> = doc
        .lines
        .iter()
        .map(|l| pdf::SheetLine {
            description: &l.description,
            quantity_milli: l.quantity_milli,
            unit_price: l.unit_price,
            amount: line_amount(l).unwrap_or(0),
        })
        .collect();
    pdf::render(&pdf::Sheet {
        title: doc.kind.label(),
        number: &doc.number,
        date: &doc.date,
        status: &doc.status,
        party_label: if doc.client_id.is_some() {
            "Client"
        } else {
            "Lead"
        },
        party: &doc.party_name,
        issuer,
        currency: &doc.currency,
        digits: doc.currency_digits,
        lines: &lines,
        total: doc.total,
        notes: &doc.notes,
    })
}

/// Reads a PDF to attach, checking it first (size before reading it all).
fn read_attachment(path: &Path) -> std::result::Result<Vec<u8>, DocumentsError> {
    let len = std::fs::metadata(path).map_err(io(path))?.len();
    let mut head = [0u8; 1024];
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let n = f.read(&mut head).map_err(io(path))?;
    pdf::check(&head[..n], len)?;
    std::fs::read(path).map_err(|e| io(path)(e))
}

/// Files written during a change: removed if the change does not commit.
#[derive(Clone, Default)]
struct NewFiles(Arc<Mutex<Vec<PathBuf>>>);

impl NewFiles {
    fn write(
        &self,
        dir: &Path,
        name: &str,
        bytes: &[u8],
    ) -> std::result::Result<(), DocumentsError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(name);
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(io(&path))?;
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(path);
        Ok(())
    }

    fn discard(&self) {
        for p in self.0.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// What the PDF of a change will be.
enum PdfPlan {
    Attach(Vec<u8>),
    Render,
    Keep,
}

impl Workspace {
    /// The folder of the documents' PDFs.
    pub fn documents_dir(&self) -> PathBuf {
        Path::new(&self.info().path)
            .parent()
            .map(|p| p.join("documents"))
            .unwrap_or_else(|| PathBuf::from("documents"))
    }

    async fn document_input(&self, id: i64) -> Result<DocumentInput> {
        let d = get(&mut *self.db().acquire().await?, id).await?.doc;
        Ok(DocumentInput {
            kind: d.kind,
            number: d.number,
            client_id: d.client_id,
            lead_id: d.lead_id,
            date: d.date,
            due_date: d.due_date,
            currency: d.currency,
            status: Some(d.status),
            notes: d.notes,
            total: d.lines.is_empty().then_some(d.total),
            lines: d.lines,
        })
    }
}

impl Ctx<'_> {
    /// Creates a document with an uploaded PDF (or rendered, without one); removes the upload.
    pub async fn create_document_upload(
        &self,
        input: DocumentInput,
        upload: Option<&str>,
    ) -> Result<Document> {
        match upload {
            None => self.create_document(input, None).await,
            Some(u) => {
                let path = uploads::path(self, u, uploads::UploadPurpose::DocumentPdf)?;
                let r = self.create_document(input, Some(&path)).await;
                uploads::finish(&path);
                r
            }
        }
    }
}

impl Ctx<'_> {
    /// Creates a document; its PDF is `attachment` (a PDF file) when given, else rendered from
    /// the lines.
    pub async fn create_document(
        &self,
        input: DocumentInput,
        attachment: Option<&Path>,
    ) -> Result<Document> {
        let plan = match attachment {
            Some(p) => PdfPlan::Attach(read_attachment(p)?),
            None => PdfPlan::Render,
        };
        self.save_document(None, input, plan).await
    }

    /// Replaces a document's fields and lines; a rendered PDF is rendered again, an attached one kept.
    pub async fn update_document(&self, id: i64, input: DocumentInput) -> Result<Document> {
        self.save_document(Some(id), input, PdfPlan::Keep).await
    }

    /// Attaches an uploaded PDF to a document; removes the upload.
    pub async fn attach_document_upload(&self, id: i64, upload: &str) -> Result<Document> {
        let path = uploads::path(self, upload, uploads::UploadPurpose::DocumentPdf)?;
        let r = self.attach_document_pdf(id, &path).await;
        uploads::finish(&path);
        r
    }
}

impl Ctx<'_> {
    /// Runs a change that may write a PDF, cleaning up: the new file if it fails, the replaced
    /// one (the value's second part) once it committed.
    async fn with_pdf(
        &self,
        what: Change,
        allowed: std::result::Result<(), crate::permissions::PermissionError>,
        change: impl for<'c> FnOnce(
            &'c mut SqliteConnection,
            NewFiles,
        ) -> futures::future::BoxFuture<
            'c,
            Result<((Document, Option<String>), Option<String>)>,
        > + Send
        + 'static,
    ) -> Result<Document> {
        let actor = self.actor().await?;
        let files = NewFiles::default();
        let f = files.clone();
        let result = audit::perform(
            self.db(),
            &actor,
            what,
            allowed,
            Box::new(move |tx| change(tx, f)),
        )
        .await;
        match result {
            Ok((doc, replaced)) => {
                if let Some(old) = replaced {
                    let _ = std::fs::remove_file(self.documents_dir().join(old));
                }
                Ok(doc)
            }
            Err(e) => {
                files.discard();
                Err(e)
            }
        }
    }

    async fn save_document(
        &self,
        id: Option<i64>,
        input: DocumentInput,
        plan: PdfPlan,
    ) -> Result<Document> {
        let actor = self.actor().await?;
        let (verb, target, allowed) = match id {
            None => (
                "documents.create",
                match input.number.trim() {
                    // Numbered in the transaction: the entry's detail names the number.
                    "" => format!("new {}, numbered automatically", input.kind.label()),
                    number => format!("{} “{number}”", input.kind.label()),
                },
                actor.require(Resource::Documents, Action::Create),
            ),
            Some(id) => (
                "documents.update",
                format!("document #{id}"),
                actor.require(Resource::Documents, Action::Edit),
            ),
        };
        let what = Change::new(Screen::Documents, verb, target);
        let dir = self.documents_dir();
        let issuer = self.info().name.clone();
        self.with_pdf(what, allowed, move |tx, files| {
            Box::pin(async move {
                let before = match id {
                    Some(id) => Some(get(tx, id).await?),
                    None => None,
                };
                let attached_before = before
                    .as_ref()
                    .is_some_and(|b| b.doc.pdf_source == PdfSource::Attached);
                let has_attachment = matches!(plan, PdfPlan::Attach(_)) || attached_before;
                let c = check(&input, has_attachment)?;
                party_name(tx, input.client_id, input.lead_id).await?; // it must exist
                let number = if c.number.is_empty() {
                    match &before {
                        Some(b) if b.doc.kind == input.kind => b.doc.number.clone(),
                        _ => next_number(tx, input.kind).await?,
                    }
                } else {
                    c.number.clone()
                };
                if number_taken(tx, input.kind, &number, id).await? {
                    return Err(DocumentsError::DuplicateNumber {
                        kind: input.kind.label(),
                        number,
                    }
                    .into());
                }
                let now = crate::now_ms();
                let kind = input.kind.key();
                let notes = input.notes.trim();
                // The file name is settled after the row exists; a placeholder keeps NOT NULL.
                let doc_id = match id {
                    None => sqlx::query_scalar!(
                        r#"INSERT INTO documents (kind, number, client_id, lead_id, date, due_date, currency, total,
                                                  status, notes, pdf_source, pdf_file, created_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'rendered', '', ?, ?) RETURNING id AS "id!""#,
                        kind, number, input.client_id, input.lead_id, c.date, c.due_date, c.currency, c.total,
                        c.status, notes, now, now
                    )
                    .fetch_one(&mut *tx)
                    .await?,
                    Some(id) => {
                        sqlx::query!(
                            "UPDATE documents SET kind = ?, number = ?, client_id = ?, lead_id = ?, date = ?,
                               due_date = ?, currency = ?, total = ?, status = ?, notes = ?, updated_at = ? WHERE id = ?",
                            kind, number, input.client_id, input.lead_id, c.date, c.due_date, c.currency, c.total,
                            c.status, notes, now, id
                        )
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                };
                write_lines(tx, doc_id, &input.lines).await?;
                let doc = get(tx, doc_id).await?.doc;
                let _ = c.digits;
                let plan = match plan {
                    PdfPlan::Keep if !attached_before => PdfPlan::Render,
                    p => p,
                };
                let (bytes, source) = match plan {
                    PdfPlan::Attach(b) => (Some(b), "attached"),
                    PdfPlan::Render => (Some(render(&doc, &issuer)), "rendered"),
                    PdfPlan::Keep => (None, "attached"),
                };
                let mut replaced = None;
                if let Some(bytes) = bytes {
                    let name = file_name(&doc);
                    files.write(&dir, &name, &bytes)?;
                    sqlx::query!(
                        "UPDATE documents SET pdf_source = ?, pdf_file = ? WHERE id = ?",
                        source,
                        name,
                        doc_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    replaced = before.map(|b| b.pdf_file);
                }
                let doc = get(tx, doc_id).await?.doc;
                let detail = Some(format!(
                    "{} {}, {} {}, PDF {source}",
                    doc.kind.label(),
                    doc.number,
                    currency::format(doc.total, doc.currency_digits),
                    doc.currency
                ));
                Ok(((doc, replaced), detail))
            })
        })
        .await
    }

    /// Attaches a PDF file to a document, replacing its PDF (rendered or attached).
    pub async fn attach_document_pdf(&self, id: i64, path: &Path) -> Result<Document> {
        self.actor()
            .await?
            .require(Resource::Documents, Action::Edit)?;
        let bytes = read_attachment(path)?;
        let input = self.document_input(id).await?;
        self.save_document(Some(id), input, PdfPlan::Attach(bytes))
            .await
    }

    /// Renders the PDF from the document's lines again, replacing an attached one.
    pub async fn render_document_pdf(&self, id: i64) -> Result<Document> {
        self.actor()
            .await?
            .require(Resource::Documents, Action::Edit)?;
        let input = self.document_input(id).await?;
        if input.lines.is_empty() {
            return Err(DocumentsError::NoLinesToRender(id).into());
        }
        self.save_document(Some(id), input, PdfPlan::Render).await
    }

    pub async fn document(&self, id: i64) -> Result<Document> {
        self.actor()
            .await?
            .require(Resource::Documents, Action::View)?;
        Ok(get(&mut *self.db().acquire().await?, id).await?.doc)
    }

    /// The path of a document's PDF: what the system viewer opens and the chat will attach to a
    /// WhatsApp send.
    pub async fn document_pdf(&self, id: i64) -> Result<PathBuf> {
        self.actor()
            .await?
            .require(Resource::Documents, Action::View)?;
        let stored = get(&mut *self.db().acquire().await?, id).await?;
        let path = self.documents_dir().join(&stored.pdf_file);
        if stored.pdf_file.is_empty() || !path.is_file() {
            return Err(DocumentsError::PdfMissing(id).into());
        }
        Ok(path)
    }

    /// A page of documents, newest date first.
    pub async fn documents(&self, filter: DocumentFilter) -> Result<DocumentPage> {
        self.actor()
            .await?
            .require(Resource::Documents, Action::View)?;
        let limit = filter.limit.unwrap_or(100).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0);
        let push_where = |q: &mut QueryBuilder<Sqlite>| {
            q.push(" WHERE 1");
            if let Some(k) = filter.kind {
                q.push(" AND d.kind = ").push_bind(k.key());
            }
            if let Some(s) = filter
                .status
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                q.push(" AND d.status = ").push_bind(s.to_owned());
            }
            if let Some(c) = filter.client_id {
                q.push(" AND d.client_id = ").push_bind(c);
            }
            if let Some(l) = filter.lead_id {
                q.push(" AND d.lead_id = ").push_bind(l);
            }
            if let Some(s) = filter
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let like = format!("%{}%", s.replace('%', "\\%").replace('_', "\\_"));
                q.push(" AND d.number LIKE ")
                    .push_bind(like)
                    .push(" ESCAPE '\\'");
            }
        };
        let mut count: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT count(*) FROM documents d");
        push_where(&mut count);
        let total: i64 = count.build().fetch_one(self.db()).await?.try_get(0)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT d.id FROM documents d");
        push_where(&mut q);
        q.push(" ORDER BY d.date DESC, d.id DESC LIMIT ")
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
        let mut documents = Vec::with_capacity(ids.len());
        for id in ids {
            documents.push(get(&mut conn, id).await?.doc);
        }
        Ok(DocumentPage {
            total,
            offset,
            documents,
        })
    }

    /// Deletes a document, its lines, and (after the commit) its PDF file.
    pub async fn delete_document(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let what = Change::new(
            Screen::Documents,
            "documents.delete",
            format!("document #{id}"),
        );
        let file = audit::perform(
            self.db(),
            &actor,
            what,
            actor.require(Resource::Documents, Action::Delete),
            Box::new(move |tx| {
                Box::pin(async move {
                    let stored = get(tx, id).await?;
                    sqlx::query!("DELETE FROM documents WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    let detail = format!("was {} {}", stored.doc.kind.label(), stored.doc.number);
                    Ok((stored.pdf_file, Some(detail)))
                })
            }),
        )
        .await?;
        if !file.is_empty() {
            let _ = std::fs::remove_file(self.documents_dir().join(file));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DocumentInput {
        DocumentInput {
            kind: DocumentKind::Invoice,
            number: String::new(),
            client_id: Some(1),
            lead_id: None,
            date: "2026-11-25".into(),
            due_date: None,
            currency: "EUR".into(),
            status: None,
            notes: String::new(),
            lines: vec![DocumentLine {
                description: "Work".into(),
                quantity_milli: 1500,
                unit_price: 1001,
            }],
            total: None,
        }
    }

    #[test]
    fn the_total_is_the_sum_of_the_lines_rounded_half_up() {
        let c = check(&input(), false).unwrap();
        assert_eq!(c.total, 1502); // 1.5 × 10.01 = 15.015 → 15.02
        assert_eq!(c.status, "draft");
        let mut i = input();
        i.total = Some(1500);
        let e = check(&i, false).err().unwrap();
        assert_eq!(
            e.to_string(),
            "the total 15.00 EUR does not match the sum of the lines, 15.02 EUR"
        );
    }

    #[test]
    fn every_field_is_checked_and_named() {
        type Edit = Box<dyn Fn(&mut DocumentInput)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|i| i.lead_id = Some(2)),
                "exactly one client or one lead; both were given",
            ),
            (Box::new(|i| i.client_id = None), "choose one"),
            (
                Box::new(|i| i.date = "2026-02-29".into()),
                "“2026-02-29” is not a date",
            ),
            (Box::new(|i| i.date = "25.11.2026".into()), "not a date"),
            (
                Box::new(|i| i.currency = "EURO".into()),
                "“EURO” is not an ISO 4217",
            ),
            (Box::new(|i| i.status = Some("paid".into())), "not a status"),
            (
                Box::new(|i| i.lines[0].description = " ".into()),
                "line 1 needs a description",
            ),
            (
                Box::new(|i| i.lines[0].quantity_milli = 0),
                "line 1: the quantity",
            ),
            (
                Box::new(|i| i.lines[0].unit_price = -1),
                "line 1: the unit price",
            ),
            (Box::new(|i| i.lines[0].unit_price = i64::MAX), "too large"),
            (
                Box::new(|i| i.lines.clear()),
                "needs lines to render its PDF from",
            ),
            (Box::new(|i| i.number = "x".repeat(41)), "at most 40"),
        ];
        for (change, expected) in cases {
            let mut i = input();
            i.kind = DocumentKind::Proposal;
            change(&mut i);
            let e = check(&i, false)
                .err()
                .unwrap_or_else(|| panic!("{expected}: accepted"));
            assert!(e.to_string().contains(expected), "{e} / {expected}");
        }
        assert_eq!(check_date("2024-02-29").unwrap(), "2024-02-29");
    }

    #[test]
    fn without_lines_an_attached_pdf_needs_a_total() {
        let mut i = input();
        i.lines.clear();
        assert!(matches!(check(&i, true), Err(DocumentsError::NeedsTotal)));
        i.total = Some(990);
        assert_eq!(check(&i, true).unwrap().total, 990);
    }

    #[test]
    fn each_kind_has_its_statuses() {
        assert!(DocumentKind::Invoice.statuses().contains(&"paid"));
        assert!(!DocumentKind::Proposal.statuses().contains(&"paid"));
        assert!(DocumentKind::CreditNote.statuses().contains(&"issued"));
        for k in DocumentKind::ALL {
            assert_eq!(k.statuses()[0], "draft");
            assert_eq!(DocumentKind::from_key(k.key()), Some(k));
        }
    }
}
