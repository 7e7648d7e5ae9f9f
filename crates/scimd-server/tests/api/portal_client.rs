//! A browser as far as the portal needs one, for tests over HTTP: a cookie jar (the
//! portal's cookies are `Secure`, which a real browser keeps on loopback too), forms
//! posted with the page's anti-forgery token and the headers a browser sends
//! (`Origin`, `Sec-Fetch-Site`), redirects followed by hand so tests see each one.

use std::collections::HashMap;

use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};

use super::common::TestServer;

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// A hidden field's value (`name="X" value="…"`), the first on the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.body[at + name.len() + 15..];
        Some(html_unescape(&rest[..rest.find('"')?]))
    }

    /// The page's anti-forgery token.
    pub fn csrf(&self) -> String {
        self.field("_csrf").unwrap_or_else(|| panic!("no form token on the page:\n{}", self.body))
    }

    /// The text between `start` and the next `end` after it.
    pub fn between(&self, start: &str, end: &str) -> Option<String> {
        let at = self.body.find(start)? + start.len();
        let rest = &self.body[at..];
        Some(html_unescape(&rest[..rest.find(end)?]))
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }
}

pub fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// The origin forms say they come from (a forged form says another).
    pub origin: String,
    /// The operator's authenticator: its key and the last time a code was made for.
    pub totp: Option<(String, u64)>,
}

impl Browser {
    pub fn new(s: &TestServer) -> Browser {
        let base = s.root("");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let origin = base.trim_end_matches('/').to_string();
        Browser { base, http, cookies: HashMap::new(), origin, totp: None }
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for c in headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    fn jar(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.trim_end_matches('/'), path)
    }

    /// A GET of a path of the portal, or of an absolute URL elsewhere (an identity
    /// provider: it gets none of the portal's cookies).
    pub async fn get(&mut self, path: &str) -> Page {
        let ours = !path.starts_with("http") || path.starts_with(self.base.trim_end_matches('/'));
        let url = if path.starts_with("http") { path.to_string() } else { self.url(path) };
        let jar = if ours { self.jar() } else { String::new() };
        let res = self.http.get(url).header(COOKIE, jar).header("sec-fetch-site", "none").send().await.unwrap();
        self.page(res).await
    }

    /// A form as a browser posts it from one of the portal's pages.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let site = if self.origin == self.base.trim_end_matches('/') { "same-origin" } else { "cross-site" };
        self.post_with(path, fields, &[("sec-fetch-site", site)]).await
    }

    pub async fn post_with(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut req = self
            .http
            .post(self.url(path))
            .header(COOKIE, self.jar())
            .header("origin", &self.origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        self.page(res).await
    }

    async fn page(&mut self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        self.keep(&headers);
        let body = res.text().await.unwrap();
        Page { status, headers, body }
    }

    /// Follows a page's redirects (303) with GETs.
    pub async fn follow(&mut self, page: Page) -> Page {
        let mut page = page;
        for _ in 0..5 {
            if !matches!(page.status, 301..=303 | 307 | 308) {
                break;
            }
            let to = page.location().unwrap().to_string();
            page = self.get(&to).await;
        }
        page
    }

    /// Signs an operator in (password, then the code of its second factor, setting it up
    /// on the first sign-in); the portal's home after.
    pub async fn sign_in_operator(&mut self, username: &str, password: &str) -> Page {
        let login = self.get("/portal/login").await;
        let csrf = login.csrf();
        let step = self.post("/portal/login", &[("_csrf", &csrf), ("login", username), ("password", password)]).await;
        assert_eq!(step.status, 303, "{}", step.body);
        let second = self.follow(step).await;
        assert_eq!(second.status, 200, "{}", second.body);
        let code = self.code(&second);
        let done = self.post("/portal/login/code", &[("_csrf", &second.csrf()), ("code", &code)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        self.follow(done).await
    }

    /// The authenticator's code: set up from the page at the first sign-in; a code of a
    /// later step than the last one used (a code is good once; the next step's is accepted).
    pub fn code(&mut self, page: &Page) -> String {
        if let Some(secret) = page.between("id=\"totp-secret\" class=\"secret\">", "<") {
            self.totp = Some((secret, 0));
        }
        let (secret, last) = self.totp.clone().expect("the operator's key");
        let now = (chrono::Utc::now().timestamp() as u64).max(last + 30);
        self.totp = Some((secret.clone(), now));
        scimd_server::portal::code_at(&secret, now).unwrap()
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        let page = self.get("/portal/login").await;
        let csrf = page.csrf();
        let step = self.post("/portal/login", &[("_csrf", &csrf), ("login", login), ("password", password)]).await;
        self.follow(step).await
    }
}
