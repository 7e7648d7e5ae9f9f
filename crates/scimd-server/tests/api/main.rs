//! Integration tests: the real server on an ephemeral port, driven over HTTP.
//! Files mirror the API: users, groups, filters, patch, discovery, auth, errors,
//! etags, and the shapes Entra ID and Okta send (quirks).

mod admin;
mod async_requests;
mod attribution;
mod audit;
mod auth;
mod bulk;
mod common;
mod conformance;
mod connections;
mod cursors;
mod discovery;
mod errors;
mod etags;
mod event_streams;
mod events;
mod events_access;
mod federation;
mod fidelity_access;
mod fidelity_import;
mod fidelity_oauth;
mod fidelity_openapi;
mod fidelity_payloads;
mod fidelity_queries;
mod fidelity_reactivate;
mod fidelity_visitor;
mod filters;
mod groups;
mod headers;
mod isolation;
/// A local token issuer with rotating keys (federation, private_key_jwt).
#[path = "../support/issuer.rs"]
mod issuer;
mod list;
mod login_attacks;
mod mail;
mod oauth;
mod oidc_client;
mod onboarding;
mod openapi;
mod ops;
mod overload;
mod patch;
mod places;
mod portal;
mod portal_audit;
mod portal_browser;
mod portal_client;
mod portal_credentials;
mod portal_directory;
mod portal_onboarding;
mod portal_places;
mod portal_sso;
mod presets;
mod private_key_jwt;
mod profile_interop;
mod profile_ipsie;
mod profiles;
mod quirks;
mod receivers;
mod redaction;
mod sms;
mod sync;
mod user_names;
mod users;
