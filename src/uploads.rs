//! Files the webview hands over piece by piece (it has no file paths): a CSV of leads to import,
//! a PDF to attach to a document. Each caller checks its own permission before using these.
//!
//! An upload is a file `uploads/<id>` in the workspace's imports folder; the id is 24 random
//! alphanumerics, and anything else is refused, so an id can never name a path outside it.

use std::io::Write;
use std::path::PathBuf;

use crate::ErrorCode;
use crate::workspace::Workspace;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("“{0}” is not an upload id")]
    BadId(String),
    #[error("upload {0} does not exist (finished, or never started)")]
    Missing(String),
    #[error("cannot write the upload {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the file is larger than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
}

impl UploadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            UploadError::BadId(_) | UploadError::TooLarge { .. } => ErrorCode::Invalid,
            UploadError::Missing(_) => ErrorCode::NotFound,
            UploadError::Io { .. } => ErrorCode::Internal,
        }
    }
}

fn path_of(ws: &Workspace, id: &str) -> Result<PathBuf, UploadError> {
    if id.len() != 24 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(UploadError::BadId(id.into()));
    }
    Ok(ws.imports_dir().join("uploads").join(id))
}

fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> UploadError + '_ {
    move |e| UploadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Starts an empty upload; returns its id.
pub(crate) fn begin(ws: &Workspace) -> Result<String, UploadError> {
    let id: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    let path = path_of(ws, &id)?;
    std::fs::create_dir_all(path.parent().expect("uploads folder")).map_err(io(&path))?;
    std::fs::File::create(&path).map_err(io(&path))?;
    Ok(id)
}

/// Appends a piece, refusing to grow past `limit` bytes; returns the bytes received so far.
pub(crate) fn append(
    ws: &Workspace,
    id: &str,
    bytes: &[u8],
    limit: u64,
) -> Result<u64, UploadError> {
    let path = path_of(ws, id)?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|_| UploadError::Missing(id.into()))?;
    let len = f.metadata().map_err(io(&path))?.len();
    if len + bytes.len() as u64 > limit {
        drop(f);
        let _ = std::fs::remove_file(&path);
        return Err(UploadError::TooLarge {
            limit_mb: limit / 1_000_000,
        });
    }
    f.write_all(bytes).map_err(io(&path))?;
    Ok(len + bytes.len() as u64)
}

/// The received file's path (it exists); the caller removes it when done with [`finish`].
pub(crate) fn path(ws: &Workspace, id: &str) -> Result<PathBuf, UploadError> {
    let path = path_of(ws, id)?;
    if !path.is_file() {
        return Err(UploadError::Missing(id.into()));
    }
    Ok(path)
}

pub(crate) fn finish(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
}
