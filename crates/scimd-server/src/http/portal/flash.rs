//! The message a page shows after a change ("Token revoked."). Handlers redirect to
//! `…?done=TEXT`; this layer moves that text out of the address into a short-lived cookie
//! of the portal's own on the way out, and on the way in hands it to the page as a
//! [`Flashed`] request extension (`session::Viewer` puts it in the page's frame). The
//! `done` parameter itself never reaches a handler: one that arrives without that cookie
//! — a link someone made up, to show their words in the portal's green box — shows
//! nothing, and nothing the person did is shown in an address, a browser's history or a
//! log.

use axum::extract::Request;
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use super::session::cookie;

const FLASH: &str = "__Host-scimd_flash";

/// The message of the change just made, for the page asked for after it.
#[derive(Debug, Clone)]
pub(super) struct Flashed(pub String);

fn flash_cookie(value: Option<&str>) -> HeaderValue {
    super::session::cookie_header(FLASH, value, "Strict", Some(60))
}

/// `uri` without its `done` parameter, with `done` set to `text` when given.
fn with_done(uri: &Uri, text: Option<&str>) -> Option<Uri> {
    let query = uri.query()?;
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut changed = false;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "done" {
            changed = true;
        } else {
            out.append_pair(&k, &v);
        }
    }
    if let Some(t) = text {
        out.append_pair("done", t);
        changed = true;
    }
    if !changed {
        return None;
    }
    let q = out.finish();
    let pq = if q.is_empty() { uri.path().to_string() } else { format!("{}?{q}", uri.path()) };
    pq.parse().ok()
}

/// The `done` text of an address, if it has one.
fn done_of(location: &str) -> Option<String> {
    let (_, query) = location.split_once('?')?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done").map(|(_, v)| v.into_owned())
}

pub(super) async fn layer(mut req: Request, next: Next) -> Response {
    let kept =
        cookie(req.headers(), FLASH).map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
    let arrived = req.uri().query().is_some_and(|q| q.contains("done="));
    if arrived {
        if let Some(new) = with_done(req.uri(), None) {
            *req.uri_mut() = new;
        }
        // The kept text counts only on the page it was meant for (one that asks for it).
        if let Some(text) = kept.clone().filter(|t| !t.is_empty()) {
            req.extensions_mut().insert(Flashed(text));
        }
    }
    let mut res = next.run(req).await;
    if kept.is_some() && arrived {
        res.headers_mut().append(header::SET_COOKIE, flash_cookie(None));
    }
    let location = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some((loc, text)) = location.and_then(|l| done_of(&l).map(|t| (l, t))) {
        // The address keeps a bare `done` so the next page knows to ask for the text.
        let bare = loc.parse::<Uri>().ok().and_then(|u| with_done(&u, Some("")));
        if let Some(v) = bare.and_then(|u| HeaderValue::from_str(&u.to_string()).ok()) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        let encoded = percent_encoding::utf8_percent_encode(&text, super::page::COMPONENT).to_string();
        res.headers_mut().append(header::SET_COOKIE, flash_cookie(Some(&encoded)));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_done_parameter_is_replaced_or_dropped() {
        let u: Uri = "/portal/t/acme/users?page=2&done=Evil%20words".parse().unwrap();
        assert_eq!(with_done(&u, None).unwrap().to_string(), "/portal/t/acme/users?page=2");
        assert_eq!(
            with_done(&u, Some("User deleted.")).unwrap().to_string(),
            "/portal/t/acme/users?page=2&done=User+deleted."
        );
        let plain: Uri = "/portal/t/acme/users?page=2".parse().unwrap();
        assert!(with_done(&plain, None).is_none());
        assert_eq!(done_of("/portal/t/x?done=Token+revoked."), Some("Token revoked.".into()));
    }
}
