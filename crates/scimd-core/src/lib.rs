//! scimd-core: SCIM 2.0 semantics as pure code. No IO, no async, never reads the clock:
//! every timestamp is passed in.
//!
//! # Layout
//! - [`error`]: the SCIM error type and its JSON form.
//! - [`schema`]: attribute characteristics, schemas, resource types, the [`schema::Registry`].
//! - [`builtin`]: the built-in schemas (core User, Enterprise User, Group) and common attributes.
//! - [`canonical`]: the `type` values a tenant accepts, as its `/Schemas` declares them.
//! - [`filter`]: filter and path syntax, parser, resolution against a registry, in-memory evaluator.
//! - [`resource`]: turning client JSON into a canonical stored document (types, case,
//!   mutability, required), immutability checks, and the attribute-index entries of a document.
//! - [`patch`]: the PATCH engine (RFC 7644 §3.5.2) including the Entra ID / Okta shapes.
//! - [`projection`]: `attributes` / `excludedAttributes` and `returned` rules on output.
//! - [`list`]: list/search query parameters and ListResponse.
//! - [`cursor`]: RFC 9865 cursors, sealed and bound to the listing they were issued for.
//! - [`render`]: resources and list responses written as JSON text straight from stored documents.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes and Schemas documents.
//! - [`events`]: the security events a change yields, what a stream takes, a SET's claims.
//! - [`profile`]: per-tenant profiles (which types and operations are offered, paging,
//!   delete semantics) and the decisions made from them.
//! - [`language`]: the language a product uses for a user, derived from `preferredLanguage`.
//! - [`phone`]: phone numbers as a profile checks them (E.164 form, mobile numbers).
//! - [`places`]: the places tree (locations, sections, banks, lockers) and the location
//!   rules deciding a user's locations and home location.
//! - [`user_name`]: what makes two userNames the same name, and which are refused.
//! - [`resource_id`]: which ids given from outside (imported, an operator's) are usable.

pub mod builtin;
pub mod canonical;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod events;
pub mod filter;
pub mod language;
pub mod list;
pub mod patch;
pub mod phone;
pub mod places;
pub mod profile;
pub mod projection;
pub mod render;
pub mod resource;
pub mod resource_id;
pub mod schema;
pub mod user_name;

pub use error::{ScimError, ScimResult, ScimType};
