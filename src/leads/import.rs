//! CSV import of leads, on the one import engine of the contacts import ([`crate::import`]:
//! encoding check, streaming, progress, cancel, refused-rows file, report).
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
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{LeadsError, check_fields};
use crate::audit::{self, Change, Outcome};
use crate::contacts::phone::Country;
use crate::import::{
    self as engine, Cancel, ImportError, ImportProgress, ImportReport, Kind, check_encoding,
    copy_refused_rows, lossy, sanitize,
};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::uploads::UploadPurpose;
use crate::workspace::Ctx;
use crate::{Result, contacts};

pub const COLUMNS: [&str; 6] = ["name", "company", "phone", "email", "source", "status"];
const BATCH: usize = 5_000;

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

/// Leads for the import engine: the columns the header names, each row checked as a lead made by
/// hand would be.
struct Leads {
    header: Vec<String>,
    checker: RowChecker,
}

impl Kind for Leads {
    type Good = Vec<Good>;

    fn batch(&self, rows: usize) -> Vec<Good> {
        Vec::with_capacity(rows)
    }

    fn len(good: &Vec<Good>) -> usize {
        good.len()
    }

    fn check(
        &mut self,
        line: u64,
        record: &csv::ByteRecord,
        good: &mut Vec<Good>,
    ) -> std::result::Result<(), (String, Vec<String>)> {
        if record.len() != self.header.len() {
            let reason = format!(
                "wrong column count: the header has {} ({}), this row {}",
                self.header.len(),
                self.header.join(", "),
                record.len()
            );
            return Err((reason, lossy(record)));
        }
        text_fields(record, &self.header)
            .and_then(|fields| self.checker.check(line, &fields))
            .map(|g| good.push(g))
            .map_err(|reason| (reason, lossy(record)))
    }
}

/// The header row, read before anything else so a wrong header refuses the file at once.
fn read_header(path: &Path, skip: usize) -> std::result::Result<Vec<String>, String> {
    let h = engine::read_header(path, skip)?;
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
    LeadsError::Import(ImportError::read(path, reason))
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

        let refused_path = self.imports_dir().join(format!(
            "refused-leads-{}-{}.csv",
            crate::now_ms(),
            sanitize(&file_name)
        ));
        let checker = RowChecker {
            layout,
            country,
            statuses,
            status_names,
            default_status,
            seen: HashMap::new(),
        };
        let mut run = engine::Run::start(
            Leads {
                header: header.clone(),
                checker,
            },
            engine::Plan {
                path: path.to_path_buf(),
                skip,
                batch_rows: (BATCH, BATCH),
                refused_path,
                refused_header: header,
                cancel,
            },
        );
        while let Some(batch) = run.next().await.map_err(LeadsError::Import)? {
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
            progress(
                run.done(
                    batch.rows,
                    imported as u64,
                    (n_good - imported) as u64,
                    batch.refused,
                    batch.bytes_read,
                )
                .map_err(LeadsError::Import)?,
            );
        }
        Ok(run.finish().await)
    }

    // ---- files handed over by the desktop ------------------------------------------------------

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
        let file = engine::receive(self, upload, UploadPurpose::LeadsImport, file_name)?;
        self.import_leads(&file.path, options, cancel, progress)
            .await
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
