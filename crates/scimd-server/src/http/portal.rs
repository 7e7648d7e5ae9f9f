//! The portal: the web console of operators and of tenants' system users, served under
//! `/portal/` as pages rendered on the server from compiled templates (`templates/portal/`),
//! with the portal's own stylesheet and scripts embedded in the binary. Every form works
//! without JavaScript; scripts only add to it. Each handler translates between a page and
//! a use case (`portal`, `admin`), like the admin API's.
//!
//! - `session`: the session cookie, the signed-in person, forms' anti-forgery checks;
//! - `page`: the frame of every page, rendering, the portal's headers, errors as pages;
//!   `flash`: the message after a change, carried in a cookie rather than the address;
//! - `assets`: the embedded stylesheet, scripts and vendored libraries;
//! - `signin`: signing in (password, second factor), out, and invitations;
//! - `sso`: single sign-on through a tenant's OpenID Connect provider;
//! - `home`: tenants, a tenant's overview, the person's account;
//! - `places`, `places_rules`: a tenant's places tree, access links, location rules, users' access;
//! - `settings`: a tenant's profile and audit settings;
//! - `credentials`, `connect`, `people`: a tenant's tokens, OAuth clients and API users;
//!   its identity providers' settings; its system users and single sign-on;
//! - `audit`, `golive`, `golive_review`, `streams`: a tenant's audit trail and error log,
//!   its go-live summary and chart, the test runs submitted and their review (approved,
//!   rejected), its event streams;
//! - `onboarding`: a tenant's credentials sent, its promotion, its message log (operators);
//! - `users`, `groups`, `import`: a tenant's users and groups (search, view, change by
//!   hand) and users imported from a CSV file, through the SCIM and import use cases;
//!   `directory`: what those pages share (the SCIM context of a portal request, paging).

pub(crate) mod assets;
mod audit;
mod connect;
mod credentials;
mod directory;
mod flash;
mod golive;
mod golive_review;
mod groups;
mod home;
mod import;
mod onboarding;
mod page;
mod people;
mod places;
mod places_rules;
mod session;
mod set_password;
mod settings;
mod signin;
mod sso;
mod streams;
mod users;

use axum::Router;
use axum::http::Method;

use super::AppState;
use super::routes::{RouteTable, Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

/// The portal's routes (recorded in `table`), with the portal's headers on every answer.
pub(super) fn routes(table: &mut RouteTable) -> Router<AppState> {
    use Method as M;
    Routes::new("", table)
        .route("/portal", on(M::GET, PortalPage, signin::root))
        .route("/portal/", on(M::GET, PortalPage, signin::home))
        .route("/portal/static/{file}", on(M::GET, PortalPage, assets::serve))
        .route(
            "/portal/login",
            on(M::GET, PortalPage, signin::login_form).on(M::POST, Portal("portal-sign-in"), signin::login),
        )
        .route(
            "/portal/login/code",
            on(M::GET, PortalPage, signin::code_form).on(M::POST, Portal("portal-second-factor"), signin::code),
        )
        .route("/portal/sign-out", on(M::POST, Portal("portal-sign-out"), signin::sign_out))
        .route(
            "/portal/invite",
            on(M::GET, PortalPage, signin::invite_form).on(M::POST, Portal("portal-accept-invitation"), signin::invite),
        )
        .route(
            "/portal/set-password",
            on(M::GET, PortalPage, set_password::show).on(
                M::POST,
                Portal("portal-set-api-password"),
                set_password::set,
            ),
        )
        .route("/portal/sso", on(M::GET, PortalPage, sso::start))
        .route("/portal/sso/callback", on(M::GET, Portal("portal-sso-sign-in"), sso::callback))
        .route("/portal/account", on(M::GET, PortalPage, home::account))
        .route("/portal/account/sessions/end", on(M::POST, Portal("portal-end-sessions"), home::end_sessions))
        .route(
            "/portal/tenants",
            on(M::GET, PortalPage, home::tenants).on(M::POST, Portal("portal-create-tenant"), home::create_tenant),
        )
        .route("/portal/t/{tenant}", on(M::GET, PortalPage, home::tenant))
        .route("/portal/t/{tenant}/scim", on(M::POST, Portal("portal-set-scim"), home::set_scim))
        .with(places::routes)
        .with(places_rules::routes)
        .with(settings::routes)
        .with(credentials::routes)
        .with(connect::routes)
        .with(people::routes)
        .with(audit::routes)
        .with(golive::routes)
        .with(golive_review::routes)
        .with(onboarding::routes)
        .with(streams::routes)
        .with(users::routes)
        .with(groups::routes)
        .with(import::routes)
        .into_router()
        .layer(axum::middleware::from_fn(flash::layer))
        .layer(axum::middleware::map_response(page::headers_layer))
}
