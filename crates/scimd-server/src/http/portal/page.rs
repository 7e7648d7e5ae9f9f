//! How a portal page is answered: a compiled template rendered into HTML with the frame
//! every page shares ([`Chrome`]: title, the person, the tenant's sections, a message),
//! the headers every portal response carries (a strict Content-Security-Policy: scripts
//! and styles only from the portal's own files, no inline script, no framing), redirects
//! after a form, and errors as pages a person can act on.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use super::assets;
use crate::admin::AdminError;
use crate::portal::Person;

/// The portal's policy: everything from its own files; images may be inline (`data:`, the
/// QR code); forms post only here; no other site may frame it.
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                          connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What a path segment or a query value escapes.
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A path segment, escaped.
pub fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// Adds the portal's headers to every response of the portal.
pub async fn headers_layer(res: Response) -> Response {
    let mut res = res;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    res
}

/// A message shown at the top of a page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    pub fn ok(text: impl Into<String>) -> Option<Flash> {
        Some(Flash { kind: "ok", text: text.into() })
    }
    /// `status` for a polite announcement, `alert` for an error.
    pub fn role(&self) -> &'static str {
        if self.kind == "error" { "alert" } else { "status" }
    }
}

/// One of a tenant's sections, in the tenant's navigation.
pub struct Tab {
    pub key: &'static str,
    pub label: &'static str,
    pub href: String,
}

/// The tenant's sections: (key, label, path under the tenant).
const TABS: &[(&str, &str, &str)] = &[
    ("overview", "Overview", ""),
    ("users", "Users", "/users"),
    ("groups", "Groups", "/groups"),
    ("places", "Places", "/places"),
    ("credentials", "Credentials", "/credentials"),
    ("connect", "Connect", "/connect"),
    ("audit", "Audit", "/audit"),
    ("golive", "Go-live", "/golive"),
    ("streams", "Events", "/streams"),
    ("people", "People", "/people"),
    ("settings", "Settings", "/settings"),
    ("onboarding", "Onboarding", "/onboarding"),
];

/// The sections only operators see (a system user is refused them: no link to a 403).
const OPERATOR_TABS: &[&str] = &["onboarding"];

/// The frame every page shares.
pub struct Chrome {
    pub title: String,
    /// The signed-in person's name, and whether they are an operator.
    pub person: Option<(String, bool)>,
    /// The session's anti-forgery token, for the forms of the page.
    pub csrf: String,
    /// The tenant the page is about.
    pub tenant: Option<String>,
    /// Which of the tenant's sections the page is.
    pub section: &'static str,
    pub flash: Option<Flash>,
}

impl Chrome {
    /// A page of a signed-in person.
    pub fn new(title: impl Into<String>, person: &Person, csrf: &str) -> Chrome {
        Chrome {
            title: title.into(),
            person: Some((person.display_name().to_string(), person.is_operator())),
            csrf: csrf.to_string(),
            tenant: None,
            section: "",
            flash: None,
        }
    }

    /// A page before sign-in.
    pub fn public(title: impl Into<String>, csrf: &str) -> Chrome {
        Chrome { title: title.into(), person: None, csrf: csrf.to_string(), tenant: None, section: "", flash: None }
    }

    /// The page is the tenant's `section`.
    pub fn in_tenant(mut self, tenant: &str, section: &'static str) -> Chrome {
        self.tenant = Some(tenant.to_string());
        self.section = section;
        self
    }

    /// With this message (none: the frame's own, if any, stays).
    pub fn with_flash(mut self, flash: Option<Flash>) -> Chrome {
        if flash.is_some() {
            self.flash = flash;
        }
        self
    }

    /// The tenant's base path (`/portal/t/NAME`).
    pub fn base(&self) -> String {
        self.tenant.as_deref().map(|t| format!("/portal/t/{}", seg(t))).unwrap_or_default()
    }

    pub fn tabs(&self) -> Vec<Tab> {
        let base = self.base();
        let operator = self.person.as_ref().is_some_and(|(_, op)| *op);
        TABS.iter()
            .filter(|(key, _, _)| operator || !OPERATOR_TABS.contains(key))
            .map(|(key, label, path)| Tab { key, label, href: format!("{base}{path}") })
            .collect()
    }

    pub fn css(&self) -> &'static str {
        assets::url(assets::PORTAL_CSS)
    }
    pub fn js(&self) -> &'static str {
        assets::url(assets::PORTAL_JS)
    }
    pub fn htmx(&self) -> &'static str {
        assets::url(assets::HTMX_JS)
    }
}

/// A rendered page.
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut res = (status, html).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "a portal page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn ok<T: Template>(t: &T) -> Response {
    render(StatusCode::OK, t)
}

/// After a form: to `to`, with a GET.
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: String,
    text: String,
}

/// A page saying one thing (an error, mostly).
pub fn message(status: StatusCode, heading: &str, text: &str) -> Response {
    let chrome = Chrome::public(heading, "");
    render(status, &MessagePage { chrome, heading: heading.into(), text: text.into() })
}

/// The status of a use case's refusal.
pub fn status_of(e: &AdminError) -> StatusCode {
    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A use case's error as a page: what went wrong and what to do; an internal failure says
/// only that (its detail goes to the log).
pub fn error(e: AdminError, chrome: Option<Chrome>) -> Response {
    let status = status_of(&e);
    let (heading, text) = if e.status >= 500 {
        tracing::error!(detail = %e.message, "internal error in the portal");
        ("Something went wrong", "The server could not do this. Try again; if it goes on, tell the operator.".into())
    } else {
        let heading = match e.status {
            404 => "Not found",
            403 => "Not allowed",
            409 => "Already there",
            429 => "Too many attempts",
            _ => "This cannot be done",
        };
        (heading, e.message)
    };
    let mut chrome = chrome.unwrap_or_else(|| Chrome::public(heading, ""));
    chrome.flash = None;
    chrome.title = heading.to_string();
    render(status, &MessagePage { chrome, heading: heading.into(), text })
}
