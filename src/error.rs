//! The core's error type and the closed set of codes the UI branches on.
//!
//! Each module has its own `thiserror` enum with the context it needs and implements [`Coded`] for
//! it; [`Error`] carries any of them (this file names no module), and [`ApiError`] is the only
//! shape that crosses the command boundary: a [`ErrorCode`] and a message a person can read.

use serde::{Deserialize, Serialize};

pub use crmconnect_base::ErrorCode;
use ts_rs::TS;

use crate::meta::templates::FieldProblem;
use crmconnect_access::permissions::PermissionError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error a module can return through [`Error`]: it says which [`ErrorCode`] the UI gets, and
/// may name form fields. Each module implements it for its own error enum, so this file names no
/// module and every module can return any other's errors.
pub trait Coded: std::error::Error + Send + Sync + 'static {
    fn code(&self) -> ErrorCode;

    /// Problems by form field (a template Meta's rules refuse); none by default.
    fn fields(&self) -> Vec<FieldProblem> {
        Vec::new()
    }
}

/// The core's error: any module's error ([`Coded`]), or a query that failed for a reason no
/// module anticipated.
pub struct Error(Box<dyn Coded>);

impl<E: Coded> From<E> for Error {
    fn from(e: E) -> Self {
        Error(Box::new(e))
    }
}

/// A query failed for a reason no module anticipated (disk full, I/O error…).
#[derive(Debug, thiserror::Error)]
#[error("the database could not complete the operation: {0}")]
pub struct SqlError(#[from] sqlx::Error);

impl Coded for SqlError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        SqlError(e).into()
    }
}

impl Coded for PermissionError {
    fn code(&self) -> ErrorCode {
        PermissionError::code(self)
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        self.0.code()
    }
}

/// The error value every Tauri command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Problems by form field (a template Meta's rules refuse); empty otherwise.
    pub fields: Vec<FieldProblem>,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        if code == ErrorCode::Internal {
            tracing::error!(error = ?e, "internal error");
        }
        let fields = e.0.fields();
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
