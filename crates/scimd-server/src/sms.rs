//! Outgoing text messages: one SMS sent through an HTTP gateway (Twilio, Vonage,
//! MessageBird, …) that the operator describes as a template (URL, method, form fields or a
//! JSON body, one authentication header). This module owns the template's rules (which
//! placeholder may go where, and how each value is escaped there), the sending (no
//! redirects, one retry) and the operator's mobile numbers ([`e164_mobile`], [`masked`]).
//!
//! Templates are split into literal text and placeholders once, when the gateway is built,
//! so filling one is a single pass: a value (the message's text) holding `{to}` or
//! `{secret}` is copied as it is, never read as a placeholder. The credential only ever
//! fills the authentication header, built once; the message's text, the credential and the
//! gateway's answer (which may echo the text) stay out of errors, logs and `Debug`.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url, redirect};
use serde::{Deserialize, Serialize};

/// How long to wait before the one retry of a message (a gateway's brief outage or a
/// dropped connection; longer waits belong to the caller, who knows whether a person waits).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The HTTP method of the gateway's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SmsMethod {
    #[default]
    Post,
    Put,
}

/// How the message goes in the request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsFormat {
    /// `fields`, form-encoded (`application/x-www-form-urlencoded`), in their order.
    #[default]
    Form,
    /// `body`, a JSON document (`application/json`).
    Json,
}

/// The gateway as the configuration describes it. Placeholders: `{to}` (the number in
/// E.164, with `+`), `{to_digits}` (the same without `+`), `{text}` (the message) in the
/// body and the fields (`{to}`, `{to_digits}` also in the URL's path and query);
/// `{secret}` and `{secret_basic}` (base64 of `username:secret`) in `auth_value` only.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsSettings {
    pub url: String,
    pub method: SmsMethod,
    pub format: SmsFormat,
    /// Form fields, name and value template, sent in this order.
    pub fields: Vec<(String, String)>,
    /// The JSON body's template: placeholders go inside its strings.
    pub body: Option<String>,
    pub auth_header: Option<String>,
    pub auth_value: Option<String>,
    pub username: Option<String>,
    /// The gateway's credential.
    pub secret: Option<String>,
    pub timeout: Duration,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            url: String::new(),
            method: SmsMethod::Post,
            format: SmsFormat::Form,
            fields: Vec::new(),
            body: None,
            auth_header: None,
            auth_value: None,
            username: None,
            secret: None,
            timeout: Duration::from_secs(10),
        }
    }
}

// By hand: the credential shows as `***`.
impl fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsSettings")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("format", &self.format)
            .field("fields", &self.fields)
            .field("body", &self.body)
            .field("auth_header", &self.auth_header)
            .field("auth_value", &self.auth_value)
            .field("username", &self.username)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The gateway's answer to a message it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsReceipt {
    pub status: u16,
}

/// Why a message was not sent. Never holds the message's text, the credential or the
/// gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The template cannot work (or the recipient given to `send` is not in E.164).
    #[error("the SMS settings cannot work: {0}")]
    Settings(String),
    /// The gateway answered other than 2xx (a 5xx twice, a redirect, a 4xx).
    #[error("the SMS gateway refused the message (HTTP {status})")]
    Refused { status: u16 },
    /// No answer came, twice: the connection failed or timed out.
    #[error("the SMS gateway could not be reached: {0}")]
    Unreachable(String),
}

fn settings(message: String) -> SmsError {
    SmsError::Settings(message)
}

/// A placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    To,
    ToDigits,
    Text,
    Secret,
    SecretBasic,
}

impl Slot {
    fn named(name: &str) -> Option<Slot> {
        Some(match name {
            "to" => Slot::To,
            "to_digits" => Slot::ToDigits,
            "text" => Slot::Text,
            "secret" => Slot::Secret,
            "secret_basic" => Slot::SecretBasic,
            _ => return None,
        })
    }
}

const RECIPIENT: &[Slot] = &[Slot::To, Slot::ToDigits];
const MESSAGE: &[Slot] = &[Slot::To, Slot::ToDigits, Slot::Text];
const CREDENTIAL: &[Slot] = &[Slot::Secret, Slot::SecretBasic];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Slot(Slot),
}

/// A template split into literal text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(Vec<Part>);

impl Template {
    /// Splits `text`; `{name}` (letters, digits, `_`) is a placeholder and must be one of
    /// `allowed`; any other brace is literal text. `what` names the setting in errors.
    fn parse(text: &str, allowed: &[Slot], what: &str) -> Result<Template, SmsError> {
        let (mut parts, mut literal, mut rest) = (Vec::new(), String::new(), text);
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if len == 0 || !after[len..].starts_with('}') {
                literal.push('{');
                rest = after;
                continue;
            }
            let name = &after[..len];
            let slot = Slot::named(name).ok_or_else(|| {
                settings(format!(
                    "{what}: unknown placeholder {{{name}}} (there are {{to}}, {{to_digits}} and {{text}}, and \
                     {{secret}} and {{secret_basic}} in auth_value)"
                ))
            })?;
            if !allowed.contains(&slot) {
                let why = match slot {
                    Slot::Secret | Slot::SecretBasic => "the credential goes in auth_value only",
                    Slot::Text if allowed == RECIPIENT => "the message stays out of the URL, which gateways log",
                    _ if allowed == CREDENTIAL => "auth_value takes {secret} and {secret_basic} only",
                    _ => "no placeholder goes here",
                };
                return Err(settings(format!("{what}: {{{name}}} is not allowed here ({why})")));
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Slot(slot));
            rest = &after[len + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template(parts))
    }

    fn uses(&self, slot: Slot) -> bool {
        self.0.contains(&Part::Slot(slot))
    }

    /// The text with each placeholder replaced by `value(slot)`, in one pass.
    fn fill(&self, value: impl Fn(Slot) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(l) => out.push_str(l),
                Part::Slot(s) => out.push_str(&value(*s)),
            }
        }
        out
    }
}

/// A JSON body's template: its strings are templates, the rest stays as written.
#[derive(Debug, Clone)]
enum JsonTemplate {
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
    Other(serde_json::Value),
}

impl JsonTemplate {
    fn parse(v: serde_json::Value) -> Result<JsonTemplate, SmsError> {
        Ok(match v {
            serde_json::Value::String(s) => JsonTemplate::String(Template::parse(&s, MESSAGE, "body")?),
            serde_json::Value::Array(a) => {
                JsonTemplate::Array(a.into_iter().map(JsonTemplate::parse).collect::<Result<_, _>>()?)
            }
            serde_json::Value::Object(o) => JsonTemplate::Object(
                o.into_iter()
                    .map(|(k, v)| {
                        Template::parse(&k, &[], &format!("body: the key \"{k}\""))?;
                        Ok((k, JsonTemplate::parse(v)?))
                    })
                    .collect::<Result<_, SmsError>>()?,
            ),
            other => JsonTemplate::Other(other),
        })
    }

    fn uses(&self, slot: Slot) -> bool {
        match self {
            JsonTemplate::String(t) => t.uses(slot),
            JsonTemplate::Array(a) => a.iter().any(|v| v.uses(slot)),
            JsonTemplate::Object(o) => o.iter().any(|(_, v)| v.uses(slot)),
            JsonTemplate::Other(_) => false,
        }
    }

    /// The document with its strings filled: values become JSON strings, so quotes and
    /// backslashes in them are escaped by the serializer, never by hand.
    fn fill(&self, value: &impl Fn(Slot) -> String) -> serde_json::Value {
        match self {
            JsonTemplate::String(t) => serde_json::Value::String(t.fill(value)),
            JsonTemplate::Array(a) => a.iter().map(|v| v.fill(value)).collect(),
            JsonTemplate::Object(o) => o.iter().map(|(k, v)| (k.clone(), v.fill(value))).collect(),
            JsonTemplate::Other(v) => v.clone(),
        }
    }
}

enum Body {
    Form(Vec<(String, Template)>),
    Json(JsonTemplate),
}

impl Body {
    fn uses(&self, slot: Slot) -> bool {
        match self {
            Body::Form(fields) => fields.iter().any(|(_, t)| t.uses(slot)),
            Body::Json(j) => j.uses(slot),
        }
    }
}

/// What a URL placeholder's value is escaped with: everything but RFC 3986's unreserved
/// characters, so it fits a path segment or a query value alike (`+` becomes `%2B`).
const URL_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Values that stand for the real ones when the template is checked.
const SAMPLE_TO: &str = "+447911123456";
const SAMPLE_TEXT: &str = "a \"sample\" message & more = +1 \\ é";

fn loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Sends text messages through one gateway; built once, from checked settings.
pub struct SmsGateway {
    client: reqwest::Client,
    method: Method,
    url: Template,
    body: Body,
    /// The authentication header, filled once and marked sensitive.
    auth: Option<(HeaderName, HeaderValue)>,
    host: String,
}

impl fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateway").field("host", &self.host).field("method", &self.method).finish_non_exhaustive()
    }
}

impl SmsGateway {
    /// Checks the template and builds the client: an http(s) URL (plain http only to a
    /// loopback address) whose placeholders lie in its path or query, known placeholders
    /// where they are allowed, a body of the format's kind, the recipient and the text
    /// sent somewhere, a credential that is used.
    pub fn new(s: &SmsSettings) -> Result<SmsGateway, SmsError> {
        let url = Template::parse(&s.url, RECIPIENT, "url")?;
        let origin_fixed = !url.0.iter().any(|p| matches!(p, Part::Slot(_)))
            || matches!(url.0.first(), Some(Part::Literal(l))
                if l.split_once("://").is_some_and(|(_, rest)| rest.contains(['/', '?'])));
        if !origin_fixed {
            return Err(settings("url: placeholders go in the URL's path or query, not its scheme or host".into()));
        }
        let sample = url.fill(|slot| sample_value(slot, URL_VALUE));
        let parsed = Url::parse(&sample).map_err(|e| settings(format!("url: not a valid URL ({e})")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(settings("url: credentials go in auth_header and auth_value, not in the URL".into()));
        }
        let host = parsed.host_str().unwrap_or_default().to_string();
        match parsed.scheme() {
            "https" if !host.is_empty() => {}
            "http" if loopback(&host) => {}
            "http" => return Err(settings(format!("url: plain http to {host} would send the credential in clear"))),
            _ => return Err(settings("url: an https URL is needed".into())),
        }
        let body = match s.format {
            SmsFormat::Form => {
                if s.body.is_some() || s.fields.is_empty() {
                    return Err(settings("format \"form\" sends `fields` (and no `body`)".into()));
                }
                let fields = s.fields.iter().map(|(name, value)| {
                    let what = format!("fields: '{name}'");
                    Template::parse(name, &[], &format!("{what}, its name"))?;
                    Ok((name.clone(), Template::parse(value, MESSAGE, &what)?))
                });
                Body::Form(fields.collect::<Result<_, SmsError>>()?)
            }
            SmsFormat::Json => {
                let (Some(text), true) = (&s.body, s.fields.is_empty()) else {
                    return Err(settings("format \"json\" sends `body` (and no `fields`)".into()));
                };
                let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                    settings(format!("body: not a JSON document ({e}); placeholders go inside strings: \"{{text}}\""))
                })?;
                Body::Json(JsonTemplate::parse(v)?)
            }
        };
        if !body.uses(Slot::Text) {
            return Err(settings("{text} is in neither the fields nor the body: the message would not be sent".into()));
        }
        if !RECIPIENT.iter().any(|&r| url.uses(r) || body.uses(r)) {
            return Err(settings("{to} or {to_digits} must be in the URL, the fields or the body".into()));
        }
        let auth = auth_header(s)?;
        let method = match s.method {
            SmsMethod::Post => Method::POST,
            SmsMethod::Put => Method::PUT,
        };
        if s.timeout.is_zero() {
            return Err(settings("the timeout must be longer than zero".into()));
        }
        let client = reqwest::Client::builder()
            // A redirect would carry the message (a secret, often) and the credential elsewhere.
            .redirect(redirect::Policy::none())
            .timeout(s.timeout)
            .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| settings(format!("the HTTP client: {e}")))?;
        Ok(SmsGateway { client, method, url, body, auth, host })
    }

    /// The gateway's host, for the send log.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The request for one message: URL, content type, body.
    fn request(&self, to: &str, text: &str) -> Result<(String, &'static str, Vec<u8>), SmsError> {
        let digits = to.strip_prefix('+').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        let Some(to_digits) = digits else {
            return Err(settings(format!("the recipient {} is not an E.164 number", masked(to))));
        };
        let value = |slot: Slot| match slot {
            Slot::To => to,
            Slot::ToDigits => to_digits,
            Slot::Text => text,
            // Refused outside auth_value when the template was read.
            Slot::Secret | Slot::SecretBasic => "",
        };
        let url = self.url.fill(|slot| utf8_percent_encode(value(slot), URL_VALUE).to_string());
        let raw = |slot: Slot| value(slot).to_string();
        Ok(match &self.body {
            Body::Form(fields) => {
                let mut form = form_urlencoded::Serializer::new(String::new());
                for (name, template) in fields {
                    form.append_pair(name, &template.fill(raw));
                }
                (url, "application/x-www-form-urlencoded", form.finish().into_bytes())
            }
            Body::Json(template) => {
                let body = serde_json::to_vec(&template.fill(&raw)).map_err(|e| settings(format!("body: {e}")))?;
                (url, "application/json", body)
            }
        })
    }

    /// Sends `text` to `to` (E.164, with `+`). A 2xx is success; a failed connection or a
    /// 5xx is tried once more after a second; anything else fails at once.
    pub async fn send(&self, to: &str, text: &str) -> Result<SmsReceipt, SmsError> {
        let (url, content_type, body) = self.request(to, text)?;
        let mut retried = false;
        loop {
            let mut request =
                self.client.request(self.method.clone(), &url).header(CONTENT_TYPE, content_type).body(body.clone());
            if let Some((name, value)) = &self.auth {
                request = request.header(name.clone(), value.clone());
            }
            // The answer's body is never read: it may echo the message.
            let failure = match request.send().await {
                Ok(r) if r.status().is_success() => return Ok(SmsReceipt { status: r.status().as_u16() }),
                Ok(r) if r.status().is_server_error() => SmsError::Refused { status: r.status().as_u16() },
                Ok(r) => return Err(SmsError::Refused { status: r.status().as_u16() }),
                Err(e) => SmsError::Unreachable(describe(e)),
            };
            if retried {
                return Err(failure);
            }
            tracing::warn!(host = %self.host, to = %masked(to), error = %failure, "SMS not sent; trying once more");
            retried = true;
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }
}

/// A placeholder's sample value, escaped with `set`.
fn sample_value(slot: Slot, set: &'static AsciiSet) -> String {
    let v = match slot {
        Slot::To => SAMPLE_TO,
        Slot::ToDigits => &SAMPLE_TO[1..],
        _ => SAMPLE_TEXT,
    };
    utf8_percent_encode(v, set).to_string()
}

/// The authentication header, filled with the credential once.
fn auth_header(s: &SmsSettings) -> Result<Option<(HeaderName, HeaderValue)>, SmsError> {
    let (header, template) = match (&s.auth_header, &s.auth_value) {
        (None, None) => (None, None),
        (Some(h), Some(v)) => (Some(h), Some(Template::parse(v, CREDENTIAL, "auth_value")?)),
        _ => return Err(settings("auth_header and auth_value go together".into())),
    };
    let uses = |slot| template.as_ref().is_some_and(|t| t.uses(slot));
    if s.secret.is_some() && !uses(Slot::Secret) && !uses(Slot::SecretBasic) {
        return Err(settings("the secret is set but auth_value uses neither {secret} nor {secret_basic}".into()));
    }
    if s.username.is_some() && !uses(Slot::SecretBasic) {
        return Err(settings("username is set but auth_value does not use {secret_basic}".into()));
    }
    let (Some(header), Some(template)) = (header, template.as_ref()) else { return Ok(None) };
    let name = HeaderName::from_bytes(header.as_bytes())
        .map_err(|_| settings(format!("auth_header '{header}' is not an HTTP header name")))?;
    let secret = match (&s.secret, uses(Slot::Secret) || uses(Slot::SecretBasic)) {
        (Some(secret), _) => secret.as_str(),
        (None, true) => return Err(settings("auth_value uses the secret, which is not set".into())),
        (None, false) => "",
    };
    let basic = match (&s.username, uses(Slot::SecretBasic)) {
        (Some(user), true) => base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")),
        (None, true) => return Err(settings("{secret_basic} needs username".into())),
        _ => String::new(),
    };
    let filled = template.fill(|slot| if slot == Slot::SecretBasic { basic.clone() } else { secret.to_string() });
    // The value is not echoed: it holds the credential.
    let mut value = HeaderValue::from_str(&filled)
        .map_err(|_| settings("auth_value: the filled header has characters HTTP does not allow".into()))?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

/// What went wrong before an answer came, without the URL (it holds the recipient).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The innermost cause (an OS error, a TLS alert) says the most.
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(next) = cause.and_then(|c| c.source()) {
        cause = Some(next);
    }
    match cause {
        Some(c) => format!("{what}: {c}"),
        None => what.to_string(),
    }
}

/// An operator's mobile number in E.164: written with `+` and the country code (spaces
/// and dashes allowed), valid in libphonenumber's metadata, and of a type that receives
/// text messages (mobile, or fixed-line-or-mobile where the two share a plan, as in North
/// America). Errors say why, for the operator's form.
pub fn e164_mobile(input: &str) -> Result<String, String> {
    use phonenumber::{Mode, Type};
    let input = input.trim();
    if !input.starts_with('+') {
        return Err(format!("'{input}' does not start with '+': write the country code first, e.g. +44 7911 123456"));
    }
    let number = phonenumber::parse(None, input).map_err(|e| format!("'{input}' is not a phone number ({e})"))?;
    if !phonenumber::is_valid(&number) {
        return Err(format!("'{input}' is not a valid phone number"));
    }
    let kind = match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => return Ok(number.format().mode(Mode::E164).to_string()),
        Type::FixedLine => "a landline",
        Type::TollFree => "a toll-free number",
        Type::PremiumRate | Type::SharedCost => "a premium-rate or shared-cost number",
        Type::Voip => "a VoIP number",
        Type::Pager => "a pager",
        _ => "of a type that does not receive text messages",
    };
    Err(format!("'{input}' is not a mobile number: it is {kind}"))
}

/// A number fit for logs: its first 3 characters (`+` and the country code, or its start)
/// and its last 4 digits, `+44…3456`; a number too short to keep 4 digits hidden shows its
/// first 3 characters only.
pub fn masked(e164: &str) -> String {
    let chars: Vec<char> = e164.chars().collect();
    let head: String = chars.iter().take(3).collect();
    if chars.len() < 8 {
        return format!("{head}…");
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests;
