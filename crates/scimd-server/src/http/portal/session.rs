//! Who is asking, and whether a form is theirs. The session lives in a `__Host-` cookie
//! (`Secure; HttpOnly; SameSite=Strict; Path=/`: only this host, never to script, never on
//! a request another site starts). A posted form must carry the session's anti-forgery
//! token and, when the browser says where the request came from (`Sec-Fetch-Site`,
//! `Origin`), come from this origin: three defences, each enough against a forged form.
//! Forms before sign-in (sign-in, invitation) compare their token with a cookie of their
//! own instead (a double-submitted token), as no session exists yet.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use super::page;
use crate::audit::AuditSlot;
use crate::auth::same_secret;
use crate::http::AppState;
use crate::portal::{Person, Signed};

/// The session cookie.
pub(super) const SESSION: &str = "__Host-scimd_session";
/// The anti-forgery cookie of the forms shown before sign-in.
pub(super) const PRE: &str = "__Host-scimd_pre";
/// The largest form accepted (a CSV import is posted as a file, within the server's body limit).
const MAX_FORM: usize = 64 * 1024;

/// A cookie's value in the request.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for the portal's cookie `name` (`SameSite=Strict`, kept until the
/// browser closes); `None` removes it.
pub(super) fn set_cookie(name: &str, value: Option<&str>) -> HeaderValue {
    cookie_header(name, value, "Strict", None)
}

/// A `Set-Cookie` value: only this host (`__Host-` names), https, never to scripts; with
/// `same_site` and, when given, a lifetime in seconds. `None` removes the cookie.
pub(super) fn cookie_header(name: &str, value: Option<&str>, same_site: &str, max_age: Option<u32>) -> HeaderValue {
    let v = match (value, max_age) {
        (Some(v), Some(age)) => format!("{name}={v}; Path=/; Secure; HttpOnly; SameSite={same_site}; Max-Age={age}"),
        (Some(v), None) => format!("{name}={v}; Path=/; Secure; HttpOnly; SameSite={same_site}"),
        (None, _) => format!("{name}=; Path=/; Secure; HttpOnly; SameSite={same_site}; Max-Age=0"),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The caller's address.
pub(super) fn peer(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

pub(super) fn user_agent(parts: &Parts) -> Option<String> {
    parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Whether the request may have come from another site: refused when the browser says so
/// (`Sec-Fetch-Site` other than `same-origin`), or names an `Origin` that is not ours.
fn cross_site(parts: &Parts, state: &AppState) -> bool {
    let site = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return true;
    }
    let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let ours = crate::http::origin::origin(&state.http, &parts.headers).root;
    // The root may carry a path a proxy mounts the server under: compare scheme and host.
    let authority = |u: &str| u.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    authority(&ours) != origin
}

/// Notes the person (and the tenant) on the request's audit event. Portal events keep no
/// payloads: a form may hold a password.
fn audit_as(slot: Option<&AuditSlot>, person: &Person, tenant: Option<scimd_store::TenantId>) {
    if let Some(slot) = slot {
        let tenant = tenant.or_else(|| person.own_tenant().map(|t| t.id));
        slot.set_caller(tenant, Some(person.audit_name()), Some(scimd_store::DetailsLevel::Off));
    }
}

/// Notes who tried to sign in (the name as typed) on the request's audit event.
pub(super) fn audit_sign_in(parts: &Parts, login: &str) {
    if let Some(slot) = parts.extensions.get::<std::sync::Arc<AuditSlot>>() {
        let name: String = login.trim().chars().take(100).collect();
        slot.set_caller(None, Some(format!("portal:{name}")), Some(scimd_store::DetailsLevel::Off));
    }
}

/// A signed-in person. Without a session, a page answers with the sign-in page's address.
pub(super) struct Viewer {
    pub signed: Signed,
    /// The session cookie's token.
    pub token: String,
    slot: Option<std::sync::Arc<AuditSlot>>,
    /// The message of the change just made (`flash`), shown in the page's frame.
    flash: Option<String>,
}

impl Viewer {
    pub fn person(&self) -> &Person {
        &self.signed.person
    }

    /// The tenant a page is about, when the person may open it (a system user asking for
    /// another tenant is told there is none); noted on the request's audit event.
    pub async fn open(&self, state: &AppState, name: &str) -> Result<crate::admin::TenantView, Response> {
        let refused = self.person().may_open(name).err();
        // The tenant as stored: the preset its profile came from is read only by the pages
        // that show it (`Admin::tenant_view`), not by every page.
        let found = state.admin.tenant(name).await;
        if let Some(e) = refused {
            // A system user works in both stages of their customer (promotion keeps the
            // integration tenant's people): the other stage opens too, nothing else. Any
            // other name is "not found", whether it exists or not.
            let own = self.person().own_tenant();
            let other_stage = matches!((&found, own), (Ok(t), Some(own))
                if own.counterpart == Some(t.id) || t.counterpart == Some(own.id));
            if !other_stage {
                return Err(self.error(e));
            }
        }
        let t: crate::admin::TenantView = found.map_err(|e| self.error(e))?.into();
        audit_as(self.slot.as_deref(), self.person(), Some(scimd_store::TenantId(t.id)));
        Ok(t)
    }

    /// The page frame for this person, with the message of the change just made.
    pub fn chrome(&self, title: impl Into<String>) -> page::Chrome {
        page::Chrome::new(title, self.person(), &self.signed.csrf)
            .with_flash(self.flash.clone().and_then(page::Flash::ok))
    }

    /// A use case's error as a page in this person's frame.
    pub fn error(&self, e: crate::admin::AdminError) -> Response {
        page::error(e, Some(self.chrome("")))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION).map(str::to_string) else {
            return Err(to_sign_in(parts));
        };
        match state.portal.signed(&token).await {
            Ok(Some(signed)) => {
                let slot = parts.extensions.get::<std::sync::Arc<AuditSlot>>().cloned();
                audit_as(slot.as_deref(), &signed.person, None);
                let flash = parts.extensions.get::<super::flash::Flashed>().map(|f| f.0.clone());
                Ok(Viewer { signed, token, slot, flash })
            }
            Ok(None) => Err(to_sign_in(parts)),
            Err(e) => Err(page::error(e, None)),
        }
    }
}

/// To the sign-in page, coming back to this page after (for a GET).
fn to_sign_in(parts: &Parts) -> Response {
    let next = (parts.method == Method::GET)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
        .flatten()
        .filter(|p| p.starts_with("/portal/") && !p.starts_with("/portal/login"));
    let to = match next {
        Some(n) => format!("/portal/login?next={}", percent_encoding::utf8_percent_encode(&n, page::COMPONENT)),
        None => "/portal/login".to_string(),
    };
    let mut res = page::see_other(&to);
    res.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION, None));
    res
}

/// A form's fields, by name (a repeated name keeps every value, in order).
#[derive(Debug, Default)]
pub(super) struct Fields(pub HashMap<String, Vec<String>>);

impl Fields {
    pub(super) fn parse(body: &[u8]) -> Fields {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Fields(map)
    }

    /// The field's (first) value, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether a checkbox is ticked.
    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// The value, or `None` when empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|s| !s.is_empty())
    }
}

/// A form posted by a signed-in person: same origin, with the session's token.
pub(super) struct Submit {
    pub viewer: Viewer,
    pub fields: Fields,
}

fn forged() -> Response {
    page::message(
        axum::http::StatusCode::FORBIDDEN,
        "This form cannot be accepted",
        "It has expired or was sent from another site. Go back, reload the page and try again.",
    )
}

impl FromRequest<AppState> for Submit {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let fields = checked_form(state, parts, body, &viewer.signed.csrf).await?;
        Ok(Submit { viewer, fields })
    }
}

/// A form posted before sign-in: same origin, its token equal to the pre-session cookie's.
pub(super) struct PreForm {
    pub fields: Fields,
    pub parts: Parts,
}

impl FromRequest<AppState> for PreForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let pre = cookie(&parts.headers, PRE).map(str::to_string).ok_or_else(forged)?;
        let fields = checked_form(state, parts.clone(), body, &pre).await?;
        Ok(PreForm { fields, parts })
    }
}

/// A form from this origin whose token is `expected`.
pub(super) async fn checked_form(
    state: &AppState,
    parts: Parts,
    body: axum::body::Body,
    expected: &str,
) -> Result<Fields, Response> {
    if cross_site(&parts, state) {
        return Err(forged());
    }
    let bytes = read_form(Request::from_parts(parts, body), state).await?;
    let fields = Fields::parse(&bytes);
    if same_secret(fields.get("_csrf"), expected) { Ok(fields) } else { Err(forged()) }
}

async fn read_form(req: Request, state: &AppState) -> Result<Bytes, Response> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(page::message(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "This form cannot be accepted",
            "The portal accepts forms sent by its own pages.",
        ));
    }
    let b = Bytes::from_request(req, state).await.map_err(|e| e.into_response())?;
    if b.len() > MAX_FORM {
        return Err(page::message(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "Too much data",
            "The form is too large.",
        ));
    }
    Ok(b)
}

/// The pre-session token of a page showing a form before sign-in: the cookie's, or a new
/// one to set.
pub(super) fn pre_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, PRE) {
        Some(t) if t.len() >= 32 && t.len() <= 100 => (t.to_string(), None),
        _ => {
            let t = crate::auth::generate_token();
            let c = set_cookie(PRE, Some(&t));
            (t, Some(c))
        }
    }
}
