//! Files the webview hands over piece by piece (it has no file paths): a CSV of contacts or leads
//! to import, a PDF to attach to a document, a file to send in a chat. One pair of operations for
//! all of them, [`Ctx::begin_upload`] and [`Ctx::append_upload`]; what an upload is for
//! ([`UploadPurpose`]) decides who may send it, how large it may grow, and which operation may use
//! it, so a PDF upload can never be sent as chat media nor a chat file imported as contacts.
//!
//! An upload is a file `uploads/<purpose>-<id>` in the workspace's imports folder; its id is that
//! name, the id part 24 random alphanumerics; anything else is refused, so an id can never name a
//! path outside the folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::permissions::{Action, PermissionError, Principal, Resource};
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum UploadPurpose {
    /// A CSV of Bulk Contacts to import.
    ContactsImport,
    /// A CSV of leads to import.
    LeadsImport,
    /// A PDF for a document (created with it, or attached later).
    DocumentPdf,
    /// A file to send in a conversation (image, video, audio or document).
    ChatMedia,
}

impl UploadPurpose {
    const ALL: [UploadPurpose; 4] = [
        UploadPurpose::ContactsImport,
        UploadPurpose::LeadsImport,
        UploadPurpose::DocumentPdf,
        UploadPurpose::ChatMedia,
    ];

    fn key(self) -> &'static str {
        match self {
            UploadPurpose::ContactsImport => "contacts",
            UploadPurpose::LeadsImport => "leads",
            UploadPurpose::DocumentPdf => "pdf",
            UploadPurpose::ChatMedia => "media",
        }
    }

    fn label(self) -> &'static str {
        match self {
            UploadPurpose::ContactsImport => "a contacts import",
            UploadPurpose::LeadsImport => "a leads import",
            UploadPurpose::DocumentPdf => "a document's PDF",
            UploadPurpose::ChatMedia => "a file to send in a chat",
        }
    }

    /// The largest file accepted, in bytes.
    pub fn limit(self) -> u64 {
        match self {
            // A directory of millions of rows; only the disk bounds it in practice.
            UploadPurpose::ContactsImport => 4_000_000_000,
            // Lead CSVs are small next to contact directories; 200 MB is far beyond any real one.
            UploadPurpose::LeadsImport => 200_000_000,
            // Meta's largest media (documents) and the largest PDF a document takes.
            UploadPurpose::DocumentPdf | UploadPurpose::ChatMedia => 100 * 1024 * 1024,
        }
    }

    /// Whether `actor` may send such a file: the permission of what will use it.
    pub fn allowed(self, actor: &Principal) -> std::result::Result<(), PermissionError> {
        match self {
            UploadPurpose::ContactsImport => {
                actor.require(Resource::WhatsappContacts, Action::Import)
            }
            UploadPurpose::LeadsImport => actor.require(Resource::Leads, Action::Import),
            UploadPurpose::DocumentPdf => actor
                .require(Resource::Documents, Action::Edit)
                .or_else(|_| actor.require(Resource::Documents, Action::Create)),
            UploadPurpose::ChatMedia => actor.require(Resource::WhatsappChat, Action::Send),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("“{0}” is not an upload id")]
    BadId(String),
    #[error("upload {0} does not exist (finished, or never started)")]
    Missing(String),
    #[error("upload {id} was sent for {sent}, not for {wanted}")]
    WrongPurpose {
        id: String,
        sent: &'static str,
        wanted: &'static str,
    },
    #[error("cannot write the upload {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the file is larger than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
}

impl crate::error::Coded for UploadError {
    fn code(&self) -> ErrorCode {
        UploadError::code(self)
    }
}

impl UploadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            UploadError::BadId(_)
            | UploadError::TooLarge { .. }
            | UploadError::WrongPurpose { .. } => ErrorCode::Invalid,
            UploadError::Missing(_) => ErrorCode::NotFound,
            UploadError::Io { .. } => ErrorCode::Internal,
        }
    }
}

/// The upload's purpose and its file, for a well-formed id.
fn parse(ws: &Workspace, id: &str) -> std::result::Result<(UploadPurpose, PathBuf), UploadError> {
    let bad = || UploadError::BadId(id.into());
    let (key, random) = id.split_once('-').ok_or_else(bad)?;
    let purpose = UploadPurpose::ALL
        .into_iter()
        .find(|p| p.key() == key)
        .ok_or_else(bad)?;
    if random.len() != 24 || !random.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    Ok((purpose, ws.imports_dir().join("uploads").join(id)))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> UploadError + '_ {
    move |e| UploadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The received file of upload `id`, which must be for `purpose`; the caller removes it when
/// done with [`finish`].
pub(crate) fn path(
    ws: &Workspace,
    id: &str,
    purpose: UploadPurpose,
) -> std::result::Result<PathBuf, UploadError> {
    let (sent, path) = parse(ws, id)?;
    if sent != purpose {
        return Err(UploadError::WrongPurpose {
            id: id.into(),
            sent: sent.label(),
            wanted: purpose.label(),
        });
    }
    if !path.is_file() {
        return Err(UploadError::Missing(id.into()));
    }
    Ok(path)
}

pub(crate) fn finish(path: &Path) {
    let _ = std::fs::remove_file(path);
}

impl Ctx<'_> {
    /// Starts an empty upload for `purpose`, if the actor may use such a file; returns its id.
    pub async fn begin_upload(&self, purpose: UploadPurpose) -> Result<String> {
        purpose.allowed(&self.actor().await?)?;
        let random: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(24)
            .collect();
        let id = format!("{}-{random}", purpose.key());
        let (_, path) = parse(self, &id)?;
        std::fs::create_dir_all(path.parent().expect("uploads folder")).map_err(io(&path))?;
        std::fs::File::create(&path).map_err(io(&path))?;
        Ok(id)
    }

    /// Appends a piece to upload `id`, refusing to grow it past its purpose's limit (the upload
    /// is then removed); returns the bytes received so far.
    pub async fn append_upload(&self, id: &str, bytes: &[u8]) -> Result<u64> {
        let (purpose, path) = parse(self, id)?;
        purpose.allowed(&self.actor().await?)?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|_| UploadError::Missing(id.into()))?;
        let len = f.metadata().map_err(io(&path))?.len();
        let limit = purpose.limit();
        if len + bytes.len() as u64 > limit {
            drop(f);
            let _ = std::fs::remove_file(&path);
            return Err(UploadError::TooLarge {
                limit_mb: limit / 1_000_000,
            }
            .into());
        }
        f.write_all(bytes).map_err(io(&path))?;
        Ok(len + bytes.len() as u64)
    }
}

/// Creates `name` in `folder` (made if missing) for writing, or `stem (2).ext`, `stem (3).ext`…
/// when the name is taken: a file saved for the person (a report, a media file) never replaces
/// one already there. Returns the file and its path.
pub fn create_new_file(folder: &Path, name: &str) -> std::io::Result<(std::fs::File, PathBuf)> {
    std::fs::create_dir_all(folder)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    for n in 1.. {
        let candidate = if n == 1 {
            folder.join(name)
        } else {
            folder.join(format!("{stem} ({n}){ext}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((f, candidate)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("1.. never ends")
}
