//! The core's error type and the closed set of codes the UI branches on.
//!
//! Each module has its own `thiserror` enum with the context it needs; [`Error`] gathers them, and
//! [`ApiError`] is the only shape that crosses the command boundary: a [`ErrorCode`] and a message
//! a person can read.

use serde::{Deserialize, Serialize};

pub use crmconnect_base::ErrorCode;
use ts_rs::TS;

use crate::{
    audit, chat, clients, connection, contacts, db, documents, leads, numbers, permissions, staff,
    templates, uploads, workspace,
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Permission(#[from] permissions::PermissionError),
    #[error(transparent)]
    Staff(#[from] staff::StaffError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error(transparent)]
    Workspace(#[from] workspace::WorkspaceError),
    #[error(transparent)]
    Connection(#[from] connection::ConnectionError),
    #[error(transparent)]
    Numbers(#[from] numbers::NumbersError),
    #[error(transparent)]
    Templates(#[from] templates::TemplatesError),
    #[error(transparent)]
    Contacts(#[from] contacts::ContactsError),
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    #[error(transparent)]
    Leads(#[from] leads::LeadsError),
    #[error(transparent)]
    Clients(#[from] clients::ClientsError),
    #[error(transparent)]
    Documents(#[from] documents::DocumentsError),
    #[error(transparent)]
    Upload(#[from] uploads::UploadError),
    #[error(transparent)]
    Chat(#[from] chat::ChatError),
    /// A query failed for a reason no module anticipated (disk full, I/O error…).
    #[error("the database could not complete the operation: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The error value every Tauri command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Problems by form field (a template Meta's rules refuse); empty otherwise.
    pub fields: Vec<crate::meta::templates::FieldProblem>,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Db(e) => e.code(),
            Error::Permission(e) => e.code(),
            Error::Staff(e) => e.code(),
            Error::Audit(e) => e.code(),
            Error::Workspace(e) => e.code(),
            Error::Connection(e) => e.code(),
            Error::Numbers(e) => e.code(),
            Error::Templates(e) => e.code(),
            Error::Contacts(e) => e.code(),
            Error::Sync(e) => e.code(),
            Error::Leads(e) => e.code(),
            Error::Clients(e) => e.code(),
            Error::Documents(e) => e.code(),
            Error::Upload(e) => e.code(),
            Error::Chat(e) => e.code(),
            Error::Sql(_) => ErrorCode::Internal,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        if code == ErrorCode::Internal {
            tracing::error!(error = ?e, "internal error");
        }
        let fields = match &e {
            Error::Templates(t) => t.fields(),
            _ => vec![],
        };
        ApiError {
            code,
            message: e.to_string(),
            fields,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
