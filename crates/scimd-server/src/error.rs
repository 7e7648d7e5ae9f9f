//! The error of the server's use cases (SCIM, OAuth, operator): a SCIM error for the
//! client or an internal failure, and how the store's errors become one. Beneath every
//! use-case module, so that each can return it without reaching into another.

use scimd_core::ScimError;
use scimd_store::StoreError;

/// An error of a use case: a SCIM error for the client, or an internal failure
/// (logged with its detail, answered as a bare 500).
#[derive(Debug)]
pub enum AppError {
    Scim(ScimError),
    Internal(String),
}

impl From<ScimError> for AppError {
    fn from(e: ScimError) -> Self {
        AppError::Scim(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::Scim(ScimError::not_found("resource not found")),
            StoreError::Conflict(what) => {
                AppError::Scim(ScimError::uniqueness(format!("{what} is already taken by another resource")))
            }
            StoreError::PreconditionFailed => AppError::Scim(ScimError::precondition_failed(
                "the resource has changed: its version does not match If-Match",
            )),
            StoreError::Scim(e) => AppError::Scim(e),
            StoreError::Internal(m) => AppError::Internal(m),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
