//! Why a run could not start or stopped: the source, authentication, the target, or IO.

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("source: {0}")]
    Source(String),
    #[error("authentication: {0}")]
    Auth(String),
    #[error("target: {0}")]
    Target(String),
    #[error("{0}")]
    Io(String),
}
