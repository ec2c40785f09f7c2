//! CSV import of Bulk Contacts, in the spec's format: `name, phonenumber, company_name, address,
//! city, state, country, description`, header row skipped, optional groups for every row.
//!
//! - Runs on the one import engine ([`crate::import`]): its reader thread parses and checks rows
//!   (phone numbers included, [`Contacts`]) and hands batches to the writer here, so memory stays
//!   flat whatever the file size. The writer binds and steps prepared statements itself (see
//!   `db::raw`): one insert a row, a lookup only when the insert found the number taken, and the
//!   batch's new contacts added to each chosen group by one statement. Its connection neither checkpoints nor checks
//!   foreign keys meanwhile (see `import_contacts`).
//! - A number already in the directory creates nothing and only gains the chosen groups; a
//!   number twice in the file is refused the second time; so importing a file twice changes
//!   nothing the second time.
//! - Each batch commits with its activity-log entry. **Cancelling keeps the batches already
//!   committed** (the report says how many rows) and stops before the next one; importing the
//!   same file again later picks up the rest without duplicating anything.
//! - Every refused row is reported with its line number and reason, and written to a CSV that
//!   can be fixed and imported again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use ts_rs::TS;

use super::phone::{self, Country, PhoneError};
use super::shared;
use crate::Result;
use crate::audit::{self, Change, Outcome};
use crate::import::{self as engine, Kind, Refused, check_encoding, copy_refused_rows, sanitize};
pub use crate::import::{Cancel, ImportError, ImportProgress, ImportReport, RefusedRow};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::uploads::UploadPurpose;
use crate::workspace::Ctx;

pub const COLUMNS: [&str; 8] = [
    "name",
    "phonenumber",
    "company_name",
    "address",
    "city",
    "state",
    "country",
    "description",
];

/// Rows per committed batch.
const BATCH: usize = 20_000;
/// Rows in the first batch: small, so the writer (and the progress bar) starts while the reader
/// checks the next one, instead of waiting for a full batch.
const FIRST_BATCH: usize = 2_000;
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct ImportOptions {
    /// Groups every imported row (new or existing number) is added to.
    #[serde(default)]
    pub group_ids: Vec<i64>,
    /// What each column of the file holds, in the file's order: one of the spec's columns
    /// (`name`, `phonenumber`…) or "" for a column left out. Absent: the spec's eight columns in
    /// its order.
    #[serde(default)]
    #[ts(optional)]
    pub columns: Option<Vec<String>>,
}

/// Which column of the file fills each of the spec's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    /// Columns a row of the file has.
    width: usize,
    /// For each of [`COLUMNS`], the file's column that fills it (none: left empty).
    source: [Option<usize>; COLUMNS.len()],
}

impl Layout {
    /// The spec's eight columns in its order.
    fn spec() -> Self {
        Layout {
            width: COLUMNS.len(),
            source: std::array::from_fn(Some),
        }
    }

    /// From what each column of the file holds (see [`ImportOptions::columns`]).
    fn of(columns: &[String]) -> std::result::Result<Self, String> {
        const MAX: usize = 256;
        if columns.is_empty() || columns.len() > MAX {
            return Err(format!(
                "the file's columns must be between 1 and {MAX}, not {}",
                columns.len()
            ));
        }
        let mut source = [None; COLUMNS.len()];
        for (j, name) in columns.iter().enumerate() {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let Some(i) = COLUMNS.iter().position(|c| *c == name) else {
                return Err(format!(
                    "column {} is mapped to “{name}”, which is not a contact field ({})",
                    j + 1,
                    COLUMNS.join(", ")
                ));
            };
            if let Some(first) = source[i] {
                return Err(format!(
                    "columns {} and {} are both mapped to {name}; map one of them only",
                    first + 1,
                    j + 1
                ));
            }
            source[i] = Some(j);
        }
        if source[PHONE].is_none() {
            return Err("no column is mapped to phonenumber: every contact needs one".to_owned());
        }
        Ok(Layout {
            width: columns.len(),
            source,
        })
    }
}

/// The rows of a batch whose phone number is valid, ready for the database: each row's eight
/// columns (trimmed) and its number in E.164, back to back in one string for the whole batch.
/// The writer thread frees what the reader thread allocated, and a few large allocations a batch
/// cost far less to hand over than two a row.
#[derive(Default)]
struct Good {
    text: String,
    rows: Vec<Row>,
}

/// Where a row is in `Good::text`: it starts at `start`; column `i` ends at `ends[i]` (from
/// `start`), its E.164 number, `E164`, at `ends[E164]`, and the row as the team's import event
/// carries it (JSON, made by the checking threads, not the writer's), `ENTRY`, at `ends[ENTRY]`.
struct Row {
    line: u64,
    start: usize,
    ends: [u32; COLUMNS.len() + 2],
}

const PHONE: usize = 1;
const E164: usize = COLUMNS.len();
const ENTRY: usize = COLUMNS.len() + 1;

impl Good {
    fn with_capacity(rows: usize) -> Self {
        Good {
            text: String::with_capacity(rows * 128),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Column `i` of `row`, or its number in E.164 for `E164`.
    fn get(&self, row: &Row, i: usize) -> &str {
        let from = if i == 0 { 0 } else { row.ends[i - 1] as usize };
        &self.text[row.start + from..row.start + row.ends[i] as usize]
    }

    fn columns(&self, row: &Row) -> Vec<String> {
        (0..COLUMNS.len())
            .map(|i| self.get(row, i).to_owned())
            .collect()
    }
}

/// Checks one raw record (column count, encoding) and appends the trimmed columns the layout
/// takes from it, in the spec's order, to `text`. Returns where they end in `text` counting from
/// where they start, or the reason the row is refused (and `text` as it was).
fn push_columns(
    record: &csv::ByteRecord,
    layout: &Layout,
    text: &mut String,
) -> std::result::Result<[u32; COLUMNS.len() + 2], String> {
    if record.len() != layout.width {
        return Err(if *layout == Layout::spec() {
            format!(
                "wrong column count: expected {} ({}), found {}",
                COLUMNS.len(),
                COLUMNS.join(", "),
                record.len()
            )
        } else {
            format!(
                "wrong column count: the file's first line has {}, this row {}",
                layout.width,
                record.len()
            )
        });
    }
    let start = text.len();
    let mut ends = [0u32; COLUMNS.len() + 2];
    for (i, source) in layout.source.iter().enumerate() {
        if let Some(j) = *source {
            let Ok(f) = std::str::from_utf8(&record[j]) else {
                text.truncate(start);
                return Err(format!(
                    "bad encoding in column {} ({}): not UTF-8",
                    j + 1,
                    COLUMNS[i]
                ));
            };
            text.push_str(f.trim());
        }
        let Ok(end) = u32::try_from(text.len() - start) else {
            text.truncate(start);
            return Err("row too long".to_owned());
        };
        ends[i] = end;
    }
    Ok(ends)
}

/// Bulk Contacts for the import engine: the spec's eight columns, in its order or as the sender
/// mapped the file's columns (the first line is the header and is not imported), each row's
/// phone number checked and put in E.164.
struct Contacts {
    country: Country,
    layout: Layout,
}

impl Kind for Contacts {
    type Good = Good;

    fn batch(&self, rows: usize) -> Good {
        Good::with_capacity(rows)
    }

    fn len(good: &Good) -> usize {
        good.rows.len()
    }

    fn check(
        &mut self,
        line: u64,
        record: &csv::ByteRecord,
        good: &mut Good,
    ) -> std::result::Result<(), (String, Vec<String>)> {
        let start = good.text.len();
        let ends = push_columns(record, &self.layout, &mut good.text)
            .map_err(|reason| (reason, engine::lossy(record)))?;
        let mut row = Row { line, start, ends };
        match phone::to_e164(good.get(&row, PHONE), self.country) {
            Ok(e164) => {
                good.text.push_str(&e164);
                row.ends[E164] = (good.text.len() - start) as u32;
                let f = |i| good.get(&row, i);
                let entry =
                    shared::created_entry([&e164, f(0), f(2), f(3), f(4), f(5), f(6), f(7)]);
                good.text.push_str(&entry);
                row.ends[ENTRY] = (good.text.len() - start) as u32;
                good.rows.push(row);
                Ok(())
            }
            Err(e) => {
                let reason = match e {
                    PhoneError::Missing => "missing phone number".to_owned(),
                    e => format!("invalid phone number: {e}"),
                };
                let fields = good.columns(&row);
                good.text.truncate(start);
                Err((reason, fields))
            }
        }
    }
}

/// One batch of [`fuzz_read`]: the rows read, and each row's line with its E.164 number (kept)
/// or its reason (refused).
#[cfg(fuzzing)]
pub struct FuzzBatch {
    pub rows: u64,
    pub first_line: u64,
    pub last_line: u64,
    pub kept: Vec<(u64, String)>,
    pub refused: Vec<(u64, String)>,
}

/// For the fuzz target `contacts_csv` (fuzz/): reads a contacts file as an import does, with the
/// import's encoding check and reader, without writing anything.
#[cfg(fuzzing)]
pub fn fuzz_read(path: &Path, country: Country) -> Result<Vec<FuzzBatch>, String> {
    let skip = engine::check_encoding(path).map_err(|e| e.to_string())?;
    let batches = engine::read_all(
        Contacts {
            country,
            layout: Layout::spec(),
        },
        path,
        skip,
        (3, 7),
    )?;
    Ok(batches
        .into_iter()
        .map(|b| FuzzBatch {
            rows: b.rows,
            first_line: b.first_line,
            last_line: b.last_line,
            kept: b
                .good
                .rows
                .iter()
                .map(|r| (r.line, b.good.get(r, E164).to_owned()))
                .collect(),
            refused: b
                .refused
                .into_iter()
                .map(|(r, _)| (r.line, r.reason))
                .collect(),
        })
        .collect())
}

/// What the writer keeps from one batch to the next.
struct WriteState {
    groups: Vec<i64>,
    /// The highest contact id before the import: ids above it were created by it.
    before: i64,
    /// The line of the row that created or matched contact `before + 1 + i` (0: none yet) —
    /// a dense array, as the import's new contacts take consecutive ids.
    created_lines: Vec<u64>,
    /// The same for the contacts at or below `before`, which only the file's existing numbers
    /// match: id → line.
    matched_lines: HashMap<i64, u64>,
    /// The team's uids of the contacts it creates: `base` + their number in the import.
    base: String,
    created: u64,
}

/// What one batch did.
struct Written {
    imported: u64,
    existing: u64,
    /// Rows whose number an earlier row of the file already had.
    refused: Vec<Refused>,
    /// What the batch did, as the parts of its `contacts.imported` events.
    parts: Vec<shared::ImportPart>,
}

impl WriteState {
    /// The line of the row of this file that created or matched contact `id`, if any.
    fn first_line(&self, id: i64) -> Option<u64> {
        if id > self.before {
            let slot = usize::try_from(id - self.before - 1).ok()?;
            self.created_lines.get(slot).copied().filter(|&l| l != 0)
        } else {
            self.matched_lines.get(&id).copied()
        }
    }

    fn remember(&mut self, id: i64, line: u64) {
        match usize::try_from(id - self.before - 1) {
            Ok(slot) if id > self.before => {
                if self.created_lines.len() <= slot {
                    self.created_lines.resize(slot + 1, 0);
                }
                self.created_lines[slot] = line;
            }
            _ => {
                self.matched_lines.insert(id, line);
            }
        }
    }

    /// Writes one batch with prepared statements (inside the caller's transaction). A number
    /// already in the directory creates nothing and only gains the groups; a number an earlier
    /// row of this file had is refused, naming that row's line.
    fn write(
        &mut self,
        lock: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
        good: &Good,
    ) -> std::result::Result<Written, String> {
        use crate::db::raw::{Raw, Value};
        let db = Raw::new(lock);
        let mut insert = db.prepare(
            "INSERT INTO contacts (phone, name, company, address, city, state, country, description, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (phone) WHERE phone IS NOT NULL DO NOTHING",
        )?;
        let mut find = db.prepare("SELECT id FROM contacts WHERE phone = ?1")?;
        // Memberships are written once per batch and group. The batch's new contacts are the ids
        // between the first and the last it created (nothing else writes meanwhile); the existing
        // ones it matched are listed, in ascending order.
        let mut members_of_new = db.prepare(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
             SELECT id, ?1 FROM contacts WHERE id BETWEEN ?2 AND ?3",
        )?;
        let mut members_of_existing = db.prepare(
            "INSERT OR IGNORE INTO contact_group_members (contact_id, group_id)
             SELECT value, ?1 FROM json_each(?2)",
        )?;
        let mut matched: Vec<i64> = Vec::new();
        let mut created: Option<(i64, i64)> = None;
        // Foreign keys are not checked during the import: a group deleted since the last batch
        // stops it here, before any row would be linked to it.
        let mut group = db.prepare("SELECT id FROM contact_groups WHERE id = ?1")?;
        if let Some(first) = good.rows.first() {
            for &g in &self.groups {
                if group.run(&[Value::Int(g)])?.0.is_none() {
                    return Err(format!(
                        "group {g} was deleted during the import; the rows before line {} are imported",
                        first.line
                    ));
                }
            }
        }
        let now = crate::now_ms();
        let mut out = Written {
            imported: 0,
            existing: 0,
            refused: Vec::new(),
            parts: Vec::new(),
        };
        let mut parts = shared::ImportParts::new(self.created);
        for row in &good.rows {
            let f = |i| good.get(row, i);
            let e164 = f(E164);
            let (_, changed) = insert.run(&[
                Value::Text(e164),
                Value::Text(f(0)),
                Value::Text(f(2)),
                Value::Text(f(3)),
                Value::Text(f(4)),
                Value::Text(f(5)),
                Value::Text(f(6)),
                Value::Text(f(7)),
                Value::Int(now),
            ])?;
            let id = if changed == 1 {
                let id = db.last_insert_rowid();
                self.created += 1;
                parts.created(f(ENTRY));
                self.remember(id, row.line);
                out.imported += 1;
                created = Some(created.map_or((id, id), |(first, _)| (first, id)));
                continue;
            } else {
                let id = find
                    .run(&[Value::Text(e164)])?
                    .0
                    .ok_or_else(|| format!("{e164} was neither inserted nor found"))?;
                if let Some(first) = self.first_line(id) {
                    out.refused.push((
                        RefusedRow {
                            line: row.line,
                            reason: format!(
                                "duplicate within the file: {e164} is already on line {first}"
                            ),
                        },
                        good.columns(row),
                    ));
                    continue;
                }
                self.remember(id, row.line);
                out.existing += 1;
                parts.existing(e164);
                id
            };
            if !self.groups.is_empty() {
                matched.push(id);
            }
        }
        if let Some((first, last)) = created {
            // Their uids: the import's base and their numbers in it (see the migration).
            let created_before = self.created - (last - first + 1) as u64;
            db.prepare(shared::import_range_sql())?.run(&[
                Value::Text(&self.base),
                Value::Int(created_before as i64),
                Value::Int(first),
                Value::Int(last - first + 1),
            ])?;
            for &g in &self.groups {
                members_of_new.run(&[Value::Int(g), Value::Int(first), Value::Int(last)])?;
            }
        }
        if !matched.is_empty() {
            matched.sort_unstable();
            let matched = serde_json::to_string(&matched).map_err(|e| e.to_string())?;
            for &g in &self.groups {
                members_of_existing.run(&[Value::Int(g), Value::Text(&matched)])?;
            }
        }
        out.parts = parts.finish();
        Ok(out)
    }
}

/// Checkpoints the WAL on its own connection whenever a batch has committed, so that the
/// import's connection never does it itself (see `import_contacts`).
struct Checkpointer {
    wake: Arc<tokio::sync::Notify>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    fn start(mut conn: sqlx::pool::PoolConnection<sqlx::Sqlite>) -> Self {
        let wake = Arc::new(tokio::sync::Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (wake, stop) = (wake.clone(), stop.clone());
            async move {
                loop {
                    wake.notified().await;
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    // Passive: copies what no reader still needs, and never waits.
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&mut *conn)
                        .await
                    {
                        tracing::warn!(error = %e, "checkpoint during a contacts import");
                    }
                }
            }
        });
        Checkpointer { wake, stop, task }
    }

    /// A batch committed: checkpoint it (wakes once for batches that commit meanwhile).
    fn committed(&self) {
        self.wake.notify_one();
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let _ = self.task.await;
    }
}

/// Runs blocking database work from async code without stalling the other tasks of a
/// multi-threaded runtime (a current-thread runtime, as in tests, simply runs it).
pub(super) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Ctx<'_> {
    /// Imports `path` (see the module docs), reporting progress after every batch.
    pub async fn import_contacts(
        &self,
        path: &Path,
        options: ImportOptions,
        cancel: Cancel,
        progress: impl Fn(ImportProgress) + Send,
    ) -> Result<ImportReport> {
        let actor = self.actor().await?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        if let Err(refusal) = actor.require(Resource::WhatsappContacts, Action::Import) {
            let what = Change::new(
                Screen::BulkContacts,
                "contacts.import",
                format!("file “{file_name}”"),
            );
            audit::insert(
                &mut *self.db().acquire().await?,
                &actor,
                &what,
                Outcome::Denied,
                Some(&refusal.to_string()),
            )
            .await?;
            return Err(refusal.into());
        }
        let skip = check_encoding(path)?;
        let layout = match &options.columns {
            None => Layout::spec(),
            Some(columns) => Layout::of(columns).map_err(|reason| {
                ImportError::read(path, format!("the column mapping: {reason}"))
            })?,
        };
        let mut conn = self.db().acquire().await?;
        let country = super::default_country(&mut conn).await?;
        for g in &options.group_ids {
            super::ensure_group(&mut conn, *g).await?;
        }
        let before: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM contacts")
            .fetch_one(&mut *conn)
            .await?;
        // The import's connection does not checkpoint when it commits: a checkpointer on another
        // connection does, after each batch, on the other core while the next batch is written
        // (a passive checkpoint never blocks the writer). Nor does it check foreign keys: the
        // import only links the contacts it just inserted or found to the chosen groups, and
        // `WriteState::write` checks that the groups still exist, in each batch's transaction.
        // Both settings are restored, with a checkpoint, when the import ends.
        let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await?;
        let mut state = Some(WriteState {
            groups: options.group_ids.clone(),
            before,
            created_lines: Vec::new(),
            matched_lines: HashMap::new(),
            base: shared::import_base(),
            created: 0,
        });
        let group_uids = shared::group_uids(&mut conn, &options.group_ids).await?;
        let publisher = actor.clone();

        let checkpointer = Checkpointer::start(self.db().acquire().await?);
        let mut run = engine::Run::start(
            Contacts { country, layout },
            engine::Plan {
                path: path.to_path_buf(),
                skip,
                batch_rows: (FIRST_BATCH, BATCH),
                refused_path: self.imports_dir().join(format!(
                    "refused-{}-{}.csv",
                    crate::now_ms(),
                    sanitize(&file_name)
                )),
                refused_header: COLUMNS.map(String::from).to_vec(),
                cancel: cancel.clone(),
            },
        );
        // Every way out of the loop restores the connection's checkpoint setting below.
        let batches: Result<()> = async {
            while let Some(mut batch) = run.next().await? {
                let what = Change::new(
                    Screen::BulkContacts,
                    "contacts.import",
                    format!("file “{file_name}”"),
                );
                let (first, last) = (batch.first_line, batch.last_line);
                let good = std::mem::take(&mut batch.good);
                let read_refused = batch.refused.len();
                let st = state
                    .take()
                    .expect("the state comes back after every batch");
                let (group_uids, publisher) = (group_uids.clone(), publisher.clone());
                let (written, st) = audit::perform_on(
                    &mut conn,
                    &actor,
                    what,
                    Box::new(move |tx| {
                        Box::pin(async move {
                            let mut st = st;
                            let mut lock = tx.lock_handle().await?;
                            let mut written =
                                blocking(|| st.write(&mut lock, &good)).map_err(ImportError::Worker)?;
                            drop(lock);
                            // The team gets what the batch did, in the same transaction.
                            for part in std::mem::take(&mut written.parts) {
                                let event = part.event(&st.base, &group_uids);
                                crate::outbox::emit(tx, &publisher, "contacts.imported", &event).await?;
                            }
                            let detail = format!(
                                "lines {first}–{last}: {} new, {} existing given groups, {} refused",
                                written.imported,
                                written.existing,
                                written.refused.len() + read_refused
                            );
                            Ok(((written, st), Some(detail)))
                        })
                    }),
                )
                .await?;
                checkpointer.committed();
                self.outbox_written();
                state = Some(st);
                if !written.refused.is_empty() {
                    batch.refused.extend(written.refused);
                    batch.refused.sort_by_key(|(r, _)| r.line);
                }
                progress(run.done(
                    batch.rows,
                    written.imported,
                    written.existing,
                    batch.refused,
                    batch.bytes_read,
                )?);
            }
            Ok(())
        }
        .await;
        let report = run.finish().await;
        checkpointer.stop().await;
        let restored = async {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "PRAGMA wal_autocheckpoint = {autocheckpoint}"
            )))
            .execute(&mut *conn)
            .await?;
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *conn)
                .await
        }
        .await;
        let checkpoint = match &restored {
            Ok(_) => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut *conn)
                .await
                .map(|_| ()),
            Err(_) => Ok(()),
        };
        if restored.is_err() {
            // Never hand a connection with the import's settings back to the pool.
            drop(conn.detach());
        } else {
            drop(conn);
        }
        batches?;
        restored?;
        checkpoint?;
        tracing::info!(
            rows = report.rows,
            imported = report.imported,
            existing = report.existing,
            refused = report.refused,
            ms = report.elapsed_ms,
            "contacts import"
        );
        Ok(report)
    }
}

// ---- files handed over by the desktop ---------------------------------------------------------

impl Ctx<'_> {
    /// Imports a received file (named `file_name` in the log), then removes it.
    pub async fn import_upload(
        &self,
        upload: &str,
        file_name: &str,
        options: ImportOptions,
        cancel: Cancel,
        progress: impl Fn(ImportProgress) + Send,
    ) -> Result<ImportReport> {
        let file = engine::receive(self, upload, UploadPurpose::ContactsImport, file_name)?;
        self.import_contacts(&file.path, options, cancel, progress)
            .await
    }
}

impl Ctx<'_> {
    /// Copies a refused-rows file into `folder` (the user's downloads); returns the new path.
    pub async fn save_refused_rows(&self, refused_file: &str, folder: &Path) -> Result<String> {
        self.actor()
            .await?
            .require(Resource::WhatsappContacts, Action::Import)?;
        Ok(copy_refused_rows(self, refused_file, folder)?)
    }
}
