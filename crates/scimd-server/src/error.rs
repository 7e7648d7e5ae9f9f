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

#[cfg(test)]
mod tests {
    use super::*;
    use scimd_store::{Unavailable, Why};

    #[test]
    fn a_database_that_cannot_do_it_now_is_a_503_naming_whether_anything_changed() {
        for (why, says) in [(Why::Contention, "nothing was changed"), (Why::Unknown, "may or may not")] {
            let e = AppError::from(StoreError::Unavailable(Unavailable { why, detail: "db error: x (40001)".into() }));
            let AppError::Scim(e) = e else { panic!("{e:?}") };
            assert_eq!(e.status, 503);
            assert!(e.detail.contains(says), "{}", e.detail);
            assert!(!e.detail.contains("40001"), "the driver's message stays in the log");
        }
    }
}
