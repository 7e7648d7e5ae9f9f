//! How one message reaches a receiver over HTTP: signing, sending, and when to try again.
//! A leaf: it knows nothing of streams, the outbox or ordering (the event dispatcher
//! decides what to send and in which order; this says how one message goes out and what
//! the receiver's answer means).
//! - `webhook`: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`, HMAC-SHA256 under a `whsec_` secret);
//! - `send`: one POST with a client built once (no redirects, bounded in time), and its
//!   answer classified as delivered, to try again, or rejected for good;
//! - `backoff`: how long to wait before the next attempt (exponential with jitter, or the
//!   receiver's `Retry-After`).
//!
//! Security Event Tokens themselves are signed by [`crate::oauth::OAuth::sign_set`], which
//! owns the signing keys.

pub mod backoff;
pub mod send;
pub mod webhook;

pub use backoff::{Backoff, RETRY_AFTER_MAX, retry_after};
pub use send::{Outcome, Sender};
