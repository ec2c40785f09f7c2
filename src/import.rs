//! The one CSV import engine, for Bulk Contacts and for leads (and whatever imports come next).
//!
//! What every import shares lives here: the encoding check, a reader thread that streams the file
//! and hands checked batches over a bounded channel (so memory stays flat whatever the file's
//! size), line numbers that are right in CRLF files, blank lines skipped, unreadable rows
//! refused by line, progress in bytes and rows, cancelling between batches, the refused-rows
//! file (the file's columns plus `line` and `reason`, to fix and import again), and the report.
//!
//! What differs is a [`Kind`]: how one row is checked and kept. The writing is the caller's:
//! each kind writes a batch its own way, in its own transaction with its activity-log entry,
//! between [`Run::next`] and [`Run::done`].

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;
use ts_rs::TS;

use crate::ErrorCode;
use crate::uploads::UploadPurpose;
use crate::workspace::Workspace;

/// Refused rows kept in the report itself (all of them go to the refused-rows file).
pub const SAMPLE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is {encoding}; save it as UTF-8 (\"CSV UTF-8\" in Excel) and import it again")]
    Encoding {
        path: String,
        encoding: &'static str,
    },
    #[error("the import stopped: {0}")]
    Worker(String),
}

impl crate::error::Coded for ImportError {
    fn code(&self) -> ErrorCode {
        ImportError::code(self)
    }
}

impl ImportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ImportError::Read { .. } | ImportError::Encoding { .. } => ErrorCode::Invalid,
            ImportError::Worker(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn read(path: &Path, reason: impl Into<String>) -> Self {
        ImportError::Read {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct ImportProgress {
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub rows: u64,
    pub imported: u64,
    pub existing: u64,
    pub refused: u64,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RefusedRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// How many rows were refused for one kind of reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ReasonCount {
    /// The reason up to its details: "invalid phone number", "wrong column count".
    pub reason: String,
    pub rows: u64,
}

/// A refusal's kind: its reason up to the first colon (the details differ row by row).
fn reason_kind(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason).trim()
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ImportReport {
    pub rows: u64,
    /// New records created.
    pub imported: u64,
    /// Records already there (a number or an email already known): nothing created.
    pub existing: u64,
    pub refused: u64,
    /// The first refused rows, with their line and reason.
    pub refused_sample: Vec<RefusedRow>,
    /// Every refused row counted by its kind of reason ("invalid phone number"), most first.
    pub refused_reasons: Vec<ReasonCount>,
    /// Every refused row as CSV (the original columns plus line and reason), to fix and re-import.
    pub refused_file: Option<String>,
    pub cancelled: bool,
    pub elapsed_ms: u64,
}

/// Set it to stop an import between two batches.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A refused row: why, and its fields for the refused-rows file.
pub type Refused = (RefusedRow, Vec<String>);

/// What one kind of import does with each row the engine reads.
pub trait Kind: Send + 'static {
    /// The good rows of a batch, as the kind's writer wants them.
    type Good: Send + 'static;

    /// An empty batch for up to `rows` rows.
    fn batch(&self, rows: usize) -> Self::Good;

    /// How many good rows `good` holds.
    fn len(good: &Self::Good) -> usize;

    /// Checks one row of the file (never a blank line) and keeps it in `good`; or says why it is
    /// refused, with the fields to write to the refused-rows file.
    fn check(
        &mut self,
        line: u64,
        record: &csv::ByteRecord,
        good: &mut Self::Good,
    ) -> Result<(), (String, Vec<String>)>;
}

/// One batch read and checked.
pub struct Batch<G> {
    pub good: G,
    pub refused: Vec<Refused>,
    pub first_line: u64,
    pub last_line: u64,
    /// Rows read (blank lines aside), good or refused.
    pub rows: u64,
    pub bytes_read: u64,
}

/// How to read a file.
pub struct Plan {
    pub path: PathBuf,
    /// Bytes to skip at the start (a UTF-8 byte-order mark; see [`check_encoding`]).
    pub skip: usize,
    /// Rows in the first batch (small, so that writing and the progress bar start early) and in
    /// the others.
    pub batch_rows: (usize, usize),
    /// Where refused rows go, and the header for it (`line` and `reason` are added).
    pub refused_path: PathBuf,
    pub refused_header: Vec<String>,
    pub cancel: Cancel,
}

/// Whether the file is UTF-8 (with or without a byte-order mark); returns the bytes to skip.
pub fn check_encoding(path: &Path) -> Result<usize, ImportError> {
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| ImportError::read(path, e.to_string()))?;
    let n = f.read(&mut head).unwrap_or(0);
    let p = path.display().to_string();
    match &head[..n] {
        [0xEF, 0xBB, 0xBF, ..] => Ok(3),
        [0xFF, 0xFE, 0, 0] | [0, 0, 0xFE, 0xFF] => Err(ImportError::Encoding {
            path: p,
            encoding: "UTF-32 encoded",
        }),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Err(ImportError::Encoding {
            path: p,
            encoding: "UTF-16 encoded",
        }),
        _ => Ok(0),
    }
}

/// The header row, raw, read before anything else so that a kind can refuse the file at once.
pub fn read_header(path: &Path, skip: usize) -> Result<csv::ByteRecord, String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if skip > 0 {
        let mut bom = vec![0u8; skip];
        f.read_exact(&mut bom).map_err(|e| e.to_string())?;
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(f);
    csv.byte_headers()
        .cloned()
        .map_err(|e| format!("unreadable header: {e}"))
}

/// The record's fields, invalid UTF-8 replaced (for the refused-rows file).
pub fn lossy(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// A file name with anything but ASCII letters, digits, `.` and `-` replaced by `_`.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How a file's lines end, read off its first line. The CSV reader counts lines by `\n` only:
/// its count lags by one in CRLF files (it stops at the `\r`) and stays at 1 in files whose
/// lines end in a lone `\r` (classic Mac, as Excel for Mac still writes "CSV (Macintosh)").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnds {
    Lf,
    CrLf,
    Cr,
}

impl LineEnds {
    fn of(head: &[u8]) -> LineEnds {
        match head.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) if head[i] == b'\r' => match head.get(i + 1) {
                Some(b'\n') => LineEnds::CrLf,
                _ => LineEnds::Cr,
            },
            _ => LineEnds::Lf,
        }
    }

    /// The line a record at `p` starts on (1 is the header). In a CR file, a record's index: a
    /// quoted field there with a line break in it makes the rows after it look one line early.
    fn line(self, p: &csv::Position) -> u64 {
        match self {
            LineEnds::Lf => p.line(),
            LineEnds::CrLf => p.line() + 1,
            LineEnds::Cr => p.record() + 1,
        }
    }
}

/// Counts bytes as the CSV reader pulls them, for the progress bar.
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

type Sender<G> = tokio::sync::mpsc::Sender<Result<Batch<G>, String>>;

/// The reader thread: CSV → checked batches.
fn read_batches<K: Kind>(
    mut kind: K,
    plan: (PathBuf, usize, (usize, usize)),
    read: Arc<AtomicU64>,
    tx: Sender<K::Good>,
    cancel: Cancel,
) {
    let (path, skip, (first_size, rest_size)) = plan;
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.blocking_send(Err(e.to_string()));
            return;
        }
    };
    let mut input = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            read: read.clone(),
        },
    );
    if skip > 0 {
        let mut bom = vec![0u8; skip];
        let _ = input.read_exact(&mut bom);
    }
    let ends = LineEnds::of(input.fill_buf().unwrap_or_default());
    // Each row's line is after the one before, whatever the file mixes (a lone `\r` among
    // `\n`s): two refused rows never share a line number.
    let mut previous = 1u64;
    let mut next_line = |p: Option<&csv::Position>| {
        let line = p.map_or(0, |p| ends.line(p)).max(previous + 1);
        previous = line;
        line
    };
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
    let mut size = first_size;
    while !done && !cancel.is_cancelled() {
        let mut good = kind.batch(size);
        let mut refused: Vec<Refused> = Vec::new();
        let (mut rows, mut first_line, mut last_line) = (0u64, 0u64, 0u64);
        while K::len(&good) + refused.len() < size {
            match csv.read_byte_record(&mut record) {
                Ok(true) => {
                    let line = next_line(record.position());
                    if first_line == 0 {
                        first_line = line;
                    }
                    last_line = line;
                    if record.len() == 1 && record.get(0).is_some_and(|f| f.trim_ascii().is_empty())
                    {
                        continue; // a blank line is not a row
                    }
                    rows += 1;
                    if let Err((reason, fields)) = kind.check(line, &record, &mut good) {
                        refused.push((RefusedRow { line, reason }, fields));
                    }
                }
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let line = next_line(e.position());
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
            return; // the writer stopped
        }
        size = rest_size;
    }
}

/// For the fuzz target `contacts_csv` (fuzz/): reads the whole file at `path` with `kind` as an
/// import does (the same reader, on a thread of its own), without a database: every batch, or
/// the reader's error.
#[cfg(fuzzing)]
pub fn read_all<K: Kind>(
    kind: K,
    path: &Path,
    skip: usize,
    batch_rows: (usize, usize),
) -> Result<Vec<Batch<K::Good>>, String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let job = (path.to_path_buf(), skip, batch_rows);
    std::thread::scope(|s| {
        s.spawn(|| {
            read_batches(
                kind,
                job,
                Arc::new(AtomicU64::new(0)),
                tx,
                Cancel::default(),
            )
        });
        let mut batches = Vec::new();
        while let Some(b) = rx.blocking_recv() {
            batches.push(b?);
        }
        Ok(batches)
    })
}

/// An import under way: batches come from the reader thread; the caller writes each and says
/// what it did with [`Run::done`].
pub struct Run<G> {
    rx: tokio::sync::mpsc::Receiver<Result<Batch<G>, String>>,
    reader: tokio::task::JoinHandle<()>,
    path: PathBuf,
    bytes_total: u64,
    started: Instant,
    cancel: Cancel,
    refused_path: PathBuf,
    refused_header: Vec<String>,
    refused_writer: Option<csv::Writer<std::fs::File>>,
    report: ImportReport,
}

impl<G: Send + 'static> Run<G> {
    /// Starts reading `plan.path` with `kind` on a blocking thread.
    pub fn start<K: Kind<Good = G>>(kind: K, plan: Plan) -> Self {
        let bytes_total = std::fs::metadata(&plan.path).map(|m| m.len()).unwrap_or(0);
        let read = Arc::new(AtomicU64::new(0));
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let reader = {
            let job = (plan.path.clone(), plan.skip, plan.batch_rows);
            let cancel = plan.cancel.clone();
            tokio::task::spawn_blocking(move || read_batches(kind, job, read, tx, cancel))
        };
        Run {
            rx,
            reader,
            path: plan.path,
            bytes_total,
            started: Instant::now(),
            cancel: plan.cancel,
            refused_path: plan.refused_path,
            refused_header: plan.refused_header,
            refused_writer: None,
            report: ImportReport {
                rows: 0,
                imported: 0,
                existing: 0,
                refused: 0,
                refused_sample: vec![],
                refused_reasons: vec![],
                refused_file: None,
                cancelled: false,
                elapsed_ms: 0,
            },
        }
    }

    /// The next batch, or `None` when the file is read (or the import was cancelled).
    pub async fn next(&mut self) -> Result<Option<Batch<G>>, ImportError> {
        if self.cancel.is_cancelled() {
            self.report.cancelled = true;
            return Ok(None);
        }
        match self.rx.recv().await {
            None => Ok(None),
            Some(Ok(batch)) => Ok(Some(batch)),
            Some(Err(reason)) => Err(ImportError::read(&self.path, reason)),
        }
    }

    /// A batch is written: counts it, writes its refused rows (`refused`, in line order) to the
    /// refused-rows file, and answers the progress to report. Once cancelled, [`Run::next`]
    /// answers `None`: the batches written stay.
    pub fn done(
        &mut self,
        rows: u64,
        imported: u64,
        existing: u64,
        refused: Vec<Refused>,
        bytes_read: u64,
    ) -> Result<ImportProgress, ImportError> {
        let report = &mut self.report;
        report.rows += rows;
        report.imported += imported;
        report.existing += existing;
        report.refused += refused.len() as u64;
        if !refused.is_empty() {
            if self.refused_writer.is_none() {
                if let Some(dir) = self.refused_path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| ImportError::read(dir, e.to_string()))?;
                }
                let mut w = csv::Writer::from_path(&self.refused_path)
                    .map_err(|e| ImportError::read(&self.refused_path, e.to_string()))?;
                let mut header = self.refused_header.clone();
                header.extend(["line".to_owned(), "reason".to_owned()]);
                let _ = w.write_record(&header);
                self.refused_writer = Some(w);
            }
            if let Some(w) = self.refused_writer.as_mut() {
                for (row, fields) in &refused {
                    let mut out = fields.clone();
                    out.resize(self.refused_header.len(), String::new());
                    out.push(row.line.to_string());
                    out.push(row.reason.clone());
                    let _ = w.write_record(&out);
                }
            }
            for (row, _) in refused {
                let kind = reason_kind(&row.reason);
                match report.refused_reasons.iter_mut().find(|r| r.reason == kind) {
                    Some(r) => r.rows += 1,
                    None => report.refused_reasons.push(ReasonCount {
                        reason: kind.to_owned(),
                        rows: 1,
                    }),
                }
                if report.refused_sample.len() < SAMPLE {
                    report.refused_sample.push(row);
                }
            }
        }
        Ok(ImportProgress {
            bytes_read,
            bytes_total: self.bytes_total,
            rows: report.rows,
            imported: report.imported,
            existing: report.existing,
            refused: report.refused,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        })
    }

    /// Stops the reader and answers the report.
    pub async fn finish(self) -> ImportReport {
        let Run {
            rx,
            reader,
            started,
            cancel,
            refused_path,
            refused_writer,
            mut report,
            ..
        } = self;
        drop(rx);
        let _ = reader.await;
        if let Some(mut w) = refused_writer {
            let _ = w.flush();
            report.refused_file = Some(refused_path.display().to_string());
        }
        report.cancelled |= cancel.is_cancelled();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report
            .refused_reasons
            .sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.reason.cmp(&b.reason)));
        report
    }
}

/// An upload taken for an import, renamed after the user's file name (the activity log and the
/// refused-rows file carry that name, not the upload id). Dropping it removes the file.
pub(crate) struct Received {
    folder: PathBuf,
    pub path: PathBuf,
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Takes upload `upload`, sent for `purpose`, as the file `file_name`.
pub(crate) fn receive(
    ws: &Workspace,
    upload: &str,
    purpose: UploadPurpose,
    file_name: &str,
) -> crate::Result<Received> {
    let sent = crate::uploads::path(ws, upload, purpose)?;
    let folder = sent.with_extension("d");
    let path = folder.join(sanitize(file_name));
    std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::rename(&sent, &path))
        .map_err(|e| ImportError::read(&sent, e.to_string()))?;
    Ok(Received { folder, path })
}

/// Copies a refused-rows file this workspace wrote into `folder`; returns the new path. The
/// caller checks the permission of the import that wrote it.
pub(crate) fn copy_refused_rows(
    ws: &Workspace,
    refused_file: &str,
    folder: &Path,
) -> Result<String, ImportError> {
    let src = PathBuf::from(refused_file);
    let io = |e: std::io::Error| ImportError::Read {
        path: refused_file.into(),
        reason: e.to_string(),
    };
    // Only files this workspace wrote.
    if src.parent() != Some(ws.imports_dir().as_path()) {
        return Err(ImportError::Read {
            path: refused_file.into(),
            reason: "not a refused-rows file of this workspace".into(),
        });
    }
    let Some(name) = src.file_name().filter(|_| src.is_file()) else {
        return Err(ImportError::Read {
            path: refused_file.into(),
            reason: "not a refused-rows file of this workspace".into(),
        });
    };
    std::fs::create_dir_all(folder).map_err(io)?;
    let dest = folder.join(name);
    std::fs::copy(&src, &dest).map_err(io)?;
    Ok(dest.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_lines_end_is_read_off_the_header() {
        assert_eq!(LineEnds::of(b"a,b\r\n1,2\r\n"), LineEnds::CrLf);
        assert_eq!(LineEnds::of(b"a,b\n1,2\r\n"), LineEnds::Lf);
        assert_eq!(LineEnds::of(b"a,b\r1,2\r"), LineEnds::Cr);
        assert_eq!(LineEnds::of(b"\n"), LineEnds::Lf);
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(sanitize("my leads (2).csv"), "my_leads__2_.csv");
        assert_eq!(sanitize("../x"), ".._x");
    }
}
