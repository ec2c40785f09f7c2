//! CSV import of leads, with the care of the contacts import (and its pieces: encoding check,
//! progress, cancel, refused-rows file, report types).
//!
//! - The header row names the columns, in any order: `name` (required), `company`, `phone`,
//!   `email`, `source`, `status`; `phone` or `email` must be among them. An unknown column name
//!   refuses the whole file before anything is stored, naming the column.
//! - Each row follows the rules of a lead created by hand (see the module above). An unknown
//!   `status` refuses the row, naming the status and the statuses that exist (a typo must not
//!   invent a status); an empty one gives the first status.
//! - **Idempotent:** a row whose phone or email already belongs to a lead is counted as
//!   `existing` and changes nothing; a row repeating the phone or email of an earlier row of the
//!   file is refused, naming that line. So importing a file twice creates nothing the second time.
//! - Refused rows go to a CSV with the file's columns plus `line` and `reason`; fixed, it can be
//!   imported as it is (those two columns are ignored).
//! - Streams the file; every batch commits with its activity-log entry; cancelling keeps the
//!   committed batches (importing again later picks up the rest).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{LeadsError, check_fields};
use crate::audit::{self, Change, Outcome};
use crate::contacts::import::{
    Cancel, ImportError, ImportProgress, ImportReport, RefusedRow, SAMPLE, check_encoding,
    copy_refused_rows, header_ends_with_crlf, sanitize,
};
use crate::contacts::phone::Country;
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::Ctx;
use crate::{Result, contacts, uploads};

pub const COLUMNS: [&str; 6] = ["name", "company", "phone", "email", "source", "status"];
const BATCH: usize = 5_000;
/// Lead CSVs are small next to contact directories; 200 MB is far beyond any real one.
const UPLOAD_LIMIT: u64 = 200_000_000;

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct LeadImportOptions {
    /// Every created lead is assigned to this staff member.
    #[ts(optional)]
    pub assigned_staff_id: Option<i64>,
}

/// A good row: [name, company, phone or null, whatsapp, email, source, status id].
#[derive(Serialize)]
struct Good(String, String, Option<String>, bool, String, String, i64);

struct Batch {
    good: Vec<Good>,
    refused: Vec<(RefusedRow, Vec<String>)>,
    first_line: u64,
    last_line: u64,
    rows: u64,
    bytes_read: u64,
}

struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where each known column is in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Layout([Option<usize>; 6]);

impl Layout {
    fn field<'a>(&self, fields: &'a [String], col: usize) -> &'a str {
        self.0[col]
            .and_then(|i| fields.get(i))
            .map_or("", String::as_str)
    }
}

/// The header's layout, or why the file cannot be imported.
fn layout(header: &[String]) -> std::result::Result<Layout, String> {
    let mut l = Layout::default();
    for (i, h) in header.iter().enumerate() {
        let name = h.trim().to_ascii_lowercase();
        // `line` and `reason` are what the refused-rows file adds: it imports again as it is.
        if name.is_empty() || name == "line" || name == "reason" {
            continue;
        }
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if l.0[c].is_some() => {
                return Err(format!("the column “{name}” appears twice in the header"));
            }
            Some(c) => l.0[c] = Some(i),
            None => {
                return Err(format!(
                    "unknown column “{}” in the header (expected {})",
                    h.trim(),
                    COLUMNS.join(", ")
                ));
            }
        }
    }
    if l.0[0].is_none() {
        return Err(format!(
            "the header has no “name” column (expected {})",
            COLUMNS.join(", ")
        ));
    }
    if l.0[2].is_none() && l.0[3].is_none() {
        return Err("the header needs a “phone” or an “email” column".into());
    }
    Ok(l)
}

/// Lower-cased status name → id.
type Statuses = HashMap<String, i64>;

struct RowChecker {
    layout: Layout,
    country: Country,
    statuses: Statuses,
    status_names: String,
    default_status: i64,
    /// Phones and emails seen in the file → the line they were first on.
    seen: HashMap<String, u64>,
}

impl RowChecker {
    fn check(&mut self, line: u64, fields: &[String]) -> std::result::Result<Good, String> {
        let f = |c| self.layout.field(fields, c);
        let c = check_fields(f(0), f(2), f(3), self.country).map_err(|e| match e {
            LeadsError::EmptyName => "missing name".to_owned(),
            LeadsError::Unreachable => "no phone and no email: a lead needs one".to_owned(),
            e => e.to_string(),
        })?;
        let status = match f(5).trim() {
            "" => self.default_status,
            s => *self.statuses.get(&s.to_lowercase()).ok_or_else(|| {
                format!(
                    "unknown lead status “{s}” (the statuses are {})",
                    self.status_names
                )
            })?,
        };
        let keys: Vec<String> = c
            .phone
            .iter()
            .cloned()
            .chain((!c.email.is_empty()).then(|| c.email.to_lowercase()))
            .collect();
        for k in &keys {
            if let Some(first) = self.seen.get(k) {
                return Err(format!(
                    "duplicate within the file: {k} is already on line {first}"
                ));
            }
        }
        for k in keys {
            self.seen.insert(k, line);
        }
        Ok(Good(
            c.name,
            f(1).trim().to_owned(),
            c.phone,
            c.whatsapp,
            c.email,
            f(4).trim().to_owned(),
            status,
        ))
    }
}

fn text_fields(
    record: &csv::ByteRecord,
    header: &[String],
) -> std::result::Result<Vec<String>, String> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            std::str::from_utf8(f)
                .map(|s| s.trim().to_owned())
                .map_err(|_| {
                    format!(
                        "bad encoding in column {} ({}): not UTF-8",
                        i + 1,
                        header.get(i).map_or("?", String::as_str)
                    )
                })
        })
        .collect()
}

fn lossy(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// The reader thread: CSV → checked batches (or, first, the header's refusal).
fn read_batches(
    path: PathBuf,
    skip: usize,
    header: Vec<String>,
    mut checker: RowChecker,
    read: Arc<AtomicU64>,
    tx: tokio::sync::mpsc::Sender<std::result::Result<Batch, String>>,
    cancel: Cancel,
) {
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.blocking_send(Err(e.to_string()));
            return;
        }
    };
    let mut input = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            read: read.clone(),
        },
    );
    if skip > 0 {
        let mut bom = vec![0u8; skip];
        let _ = input.read_exact(&mut bom);
    }
    let crlf = u64::from(header_ends_with_crlf(input.fill_buf().unwrap_or_default()));
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    if let Err(e) = csv.byte_headers() {
        let _ = tx.blocking_send(Err(format!("unreadable header: {e}")));
        return;
    }
    let mut record = csv::ByteRecord::new();
    let mut done = false;
    while !done && !cancel.is_cancelled() {
        let mut good = Vec::new();
        let mut refused: Vec<(RefusedRow, Vec<String>)> = Vec::new();
        let (mut rows, mut first_line, mut last_line) = (0u64, 0u64, 0u64);
        while good.len() + refused.len() < BATCH {
            match csv.read_byte_record(&mut record) {
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line() + crlf);
                    if first_line == 0 {
                        first_line = line;
                    }
                    last_line = line;
                    if record.len() == 1 && record.get(0).is_some_and(|f| f.trim_ascii().is_empty())
                    {
                        continue; // a blank line is not a row
                    }
                    rows += 1;
                    if record.len() != header.len() {
                        refused.push((
                            RefusedRow {
                                line,
                                reason: format!(
                                    "wrong column count: the header has {} ({}), this row {}",
                                    header.len(),
                                    header.join(", "),
                                    record.len()
                                ),
                            },
                            lossy(&record),
                        ));
                        continue;
                    }
                    match text_fields(&record, &header)
                        .and_then(|fields| checker.check(line, &fields))
                    {
                        Ok(g) => good.push(g),
                        Err(reason) => refused.push((RefusedRow { line, reason }, lossy(&record))),
                    }
                }
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let line = e.position().map_or(last_line + 1, |p| p.line() + crlf);
                    rows += 1;
                    refused.push((
                        RefusedRow {
                            line,
                            reason: format!("unreadable CSV: {e}"),
                        },
                        vec![],
                    ));
                    if !matches!(
                        e.kind(),
                        csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                    ) {
                        done = true;
                        break;
                    }
                }
            }
        }
        if rows == 0 {
            break;
        }
        let batch = Batch {
            good,
            refused,
            first_line,
            last_line,
            rows,
            bytes_read: read.load(Ordering::Relaxed),
        };
        if tx.blocking_send(Ok(batch)).is_err() {
            return;
        }
    }
}

/// The header row, read before anything else so a wrong header refuses the file at once.
fn read_header(path: &Path, skip: usize) -> std::result::Result<Vec<String>, String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if skip > 0 {
        let mut bom = vec![0u8; skip];
        f.read_exact(&mut bom).map_err(|e| e.to_string())?;
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(f);
    let h = csv
        .byte_headers()
        .map_err(|e| format!("unreadable header: {e}"))?;
    if h.iter().all(|f| f.trim_ascii().is_empty()) {
        return Err(format!(
            "the file is empty: the first line must name the columns ({})",
            COLUMNS.join(", ")
        ));
    }
    h.iter()
        .map(|f| {
            std::str::from_utf8(f)
                .map(|s| s.trim().to_owned())
                .map_err(|_| {
                    "the header is not UTF-8; save the file as UTF-8 (\"CSV UTF-8\" in Excel)"
                        .to_owned()
                })
        })
        .collect()
}

fn read_error(path: &Path, reason: impl Into<String>) -> LeadsError {
    LeadsError::Import(ImportError::Read {
        path: path.display().to_string(),
        reason: reason.into(),
    })
}

impl Ctx<'_> {
    /// Imports a CSV of leads (see the module docs), reporting progress after every batch.
    pub async fn import_leads(
        &self,
        path: &Path,
        options: LeadImportOptions,
        cancel: Cancel,
        progress: impl Fn(ImportProgress) + Send,
    ) -> Result<ImportReport> {
        let actor = self.actor().await?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let what = || Change::new(Screen::Leads, "leads.import", format!("file “{file_name}”"));
        if let Err(refusal) = actor.require(Resource::Leads, Action::Import) {
            audit::insert(
                &mut *self.db().acquire().await?,
                &actor,
                &what(),
                Outcome::Denied,
                Some(&refusal.to_string()),
            )
            .await?;
            return Err(refusal.into());
        }
        let skip = check_encoding(path).map_err(LeadsError::Import)?;
        let header = read_header(path, skip).map_err(|r| read_error(path, r))?;
        let layout = layout(&header).map_err(|r| read_error(path, r))?;
        let bytes_total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let mut conn = self.db().acquire().await?;
        let country = contacts::default_country(&mut conn).await?;
        let all = super::statuses(&mut conn).await?;
        super::check_staff(&mut conn, options.assigned_staff_id).await?;
        drop(conn);
        let statuses: Statuses = all.iter().map(|s| (s.name.to_lowercase(), s.id)).collect();
        let status_names = all
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let default_status = all.first().map_or(0, |s| s.id);
        let assigned = options.assigned_staff_id;

        let started = Instant::now();
        let read = Arc::new(AtomicU64::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let reader = {
            let (path, read, cancel) = (path.to_path_buf(), read.clone(), cancel.clone());
            let checker = RowChecker {
                layout,
                country,
                statuses,
                status_names,
                default_status,
                seen: HashMap::new(),
            };
            let header = header.clone();
            tokio::task::spawn_blocking(move || {
                read_batches(path, skip, header, checker, read, tx, cancel)
            })
        };
        let refused_path = self.imports_dir().join(format!(
            "refused-leads-{}-{}.csv",
            crate::now_ms(),
            sanitize(&file_name)
        ));
        let mut refused_writer: Option<csv::Writer<std::fs::File>> = None;
        let mut report = ImportReport {
            rows: 0,
            imported: 0,
            existing: 0,
            refused: 0,
            refused_sample: vec![],
            refused_file: None,
            cancelled: false,
            elapsed_ms: 0,
        };
        while let Some(batch) = rx.recv().await {
            let batch = match batch {
                Ok(b) => b,
                Err(reason) => return Err(read_error(path, reason).into()),
            };
            let rows_json = serde_json::to_string(&batch.good).unwrap_or_else(|_| "[]".into());
            let n_good = batch.good.len() as i64;
            let n_refused = batch.refused.len();
            let (first, last) = (batch.first_line, batch.last_line);
            let imported = audit::perform(
                self.db(),
                &actor,
                what(),
                Ok(()),
                Box::new(move |tx| {
                    Box::pin(async move {
                        let now = crate::now_ms();
                        let imported = sqlx::query!(
                            "INSERT INTO leads (name, company, phone, whatsapp, email, source, status_id,
                                                assigned_staff_id, created_at, updated_at)
                             SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'),
                                    json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'),
                                    json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]'),
                                    json_extract(j.value, '$[6]'), ?3, ?2, ?2
                             FROM json_each(?1) j WHERE true
                             ON CONFLICT DO NOTHING",
                            rows_json,
                            now,
                            assigned
                        )
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as i64;
                        let detail = format!(
                            "lines {first}–{last}: {imported} new, {} existing left unchanged, {n_refused} refused",
                            n_good - imported
                        );
                        Ok((imported, Some(detail)))
                    })
                }),
            )
            .await?;
            report.rows += batch.rows;
            report.imported += imported as u64;
            report.existing += (n_good - imported) as u64;
            report.refused += n_refused as u64;
            if !batch.refused.is_empty() {
                if refused_writer.is_none() {
                    std::fs::create_dir_all(self.imports_dir())
                        .map_err(|e| read_error(&self.imports_dir(), e.to_string()))?;
                    let mut w = csv::Writer::from_path(&refused_path)
                        .map_err(|e| read_error(&refused_path, e.to_string()))?;
                    let mut cols = header.clone();
                    cols.extend(["line".to_owned(), "reason".to_owned()]);
                    let _ = w.write_record(&cols);
                    refused_writer = Some(w);
                }
                if let Some(w) = refused_writer.as_mut() {
                    for (row, fields) in &batch.refused {
                        let mut out = fields.clone();
                        out.resize(header.len(), String::new());
                        out.push(row.line.to_string());
                        out.push(row.reason.clone());
                        let _ = w.write_record(&out);
                    }
                }
                for (row, _) in batch.refused {
                    if report.refused_sample.len() < SAMPLE {
                        report.refused_sample.push(row);
                    }
                }
            }
            progress(ImportProgress {
                bytes_read: batch.bytes_read,
                bytes_total,
                rows: report.rows,
                imported: report.imported,
                existing: report.existing,
                refused: report.refused,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
            if cancel.is_cancelled() {
                report.cancelled = true;
                break;
            }
        }
        drop(rx);
        let _ = reader.await;
        if let Some(mut w) = refused_writer {
            let _ = w.flush();
            report.refused_file = Some(refused_path.display().to_string());
        }
        report.cancelled |= cancel.is_cancelled();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    // ---- files handed over by the desktop ------------------------------------------------------

    pub async fn begin_leads_upload(&self) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::Leads, Action::Import)?;
        Ok(uploads::begin(self)?)
    }

    pub async fn append_leads_upload(&self, upload: &str, bytes: &[u8]) -> Result<u64> {
        self.actor()
            .await?
            .require(Resource::Leads, Action::Import)?;
        Ok(uploads::append(self, upload, bytes, UPLOAD_LIMIT)?)
    }

    /// Imports a received file (named `file_name` in the log and report), then removes it.
    pub async fn import_leads_upload(
        &self,
        upload: &str,
        file_name: &str,
        options: LeadImportOptions,
        cancel: Cancel,
        progress: impl Fn(ImportProgress) + Send,
    ) -> Result<ImportReport> {
        self.actor()
            .await?
            .require(Resource::Leads, Action::Import)?;
        let path = uploads::path(self, upload)?;
        let folder = path.with_extension("d");
        let named = folder.join(sanitize(file_name));
        std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::rename(&path, &named))
            .map_err(|e| read_error(&path, e.to_string()))?;
        let report = self.import_leads(&named, options, cancel, progress).await;
        uploads::finish(&named);
        let _ = std::fs::remove_dir_all(&folder);
        report
    }

    /// Copies a leads import's refused-rows file into `folder`; returns the new path.
    pub async fn save_lead_refused_rows(
        &self,
        refused_file: &str,
        folder: &Path,
    ) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::Leads, Action::Import)?;
        Ok(copy_refused_rows(self, refused_file, folder).map_err(LeadsError::Import)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_header_names_the_columns_in_any_order() {
        let l = layout(&h(&["Email", "name", "status"])).unwrap();
        assert_eq!(l.0, [Some(1), None, None, Some(0), None, Some(2)]);
        let e = layout(&h(&["name", "phone", "fax"])).unwrap_err();
        assert!(e.contains("unknown column “fax”"), "{e}");
        let e = layout(&h(&["company", "phone"])).unwrap_err();
        assert!(e.contains("no “name” column"), "{e}");
        let e = layout(&h(&["name", "company"])).unwrap_err();
        assert!(e.contains("“phone” or an “email”"), "{e}");
        let e = layout(&h(&["name", "phone", "Phone"])).unwrap_err();
        assert!(e.contains("appears twice"), "{e}");
    }
}
