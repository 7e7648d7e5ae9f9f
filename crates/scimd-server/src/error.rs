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
            // The store logged the driver's message; the client may try again.
            StoreError::Unavailable(u) => AppError::Scim(ScimError::new(503, None, unavailable(u.why))),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// What a client is told when the database could not do its request now.
pub(crate) fn unavailable(why: scimd_store::Why) -> &'static str {
    match why {
        scimd_store::Why::Unknown => {
            "the connection to the database broke while the change was being made: it may or may not have \
             taken effect; read the resource before trying again"
        }
        _ => "the database could not complete the request now; nothing was changed: try again in a moment",
    }
}
