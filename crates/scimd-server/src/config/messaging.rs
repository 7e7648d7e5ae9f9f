//! The configuration's messaging sections: `[email]` (the SMTP relay), `[sms]` (the HTTP
//! gateway for text messages) and `[onboarding]` (what the messages are signed with), and
//! how the first two become the settings [`crate::mail`] and [`crate::sms`] take, their
//! secrets read from their files. They are checked when the configuration loads, so a
//! broken template or an unreadable file stops scimd at start, not at the first message.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Config, read_secret};
use crate::mail::{SmtpSettings, SmtpTls};
use crate::sms::{SmsError, SmsFormat, SmsGateway, SmsMethod, SmsSettings};

/// The SMTP relay that sends invitations and onboarding messages; without `host`, none
/// is sent and the links are printed instead.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub port: u16,
    pub tls: SmtpTls,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text::optional")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text::optional")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// The sender of every message (`Product <noreply@example.com>`).
    pub from: String,
    /// Extra certificate authorities (PEM), for a relay with a private CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Default for EmailSection {
    fn default() -> Self {
        EmailSection {
            host: None,
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            password_file: None,
            from: "scimd <noreply@localhost>".into(),
            ca_file: None,
        }
    }
}

// By hand: the password shows as `***`.
impl fmt::Debug for EmailSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSection")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// The HTTP gateway that sends text messages (see [`SmsSettings`] for the placeholders);
/// without `url`, none is sent and the secret is printed instead.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub method: SmsMethod,
    pub format: SmsFormat,
    /// `[name, value]` pairs, not a table: a table's keys come out sorted, and some
    /// gateways read their fields in order.
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "pairs::deserialize")]
    pub fields: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text::optional")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "text::optional")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<String>,
    #[serde(with = "super::duration")]
    pub timeout: Duration,
}

impl Default for SmsSection {
    fn default() -> Self {
        let d = SmsSettings::default();
        SmsSection {
            url: None,
            method: d.method,
            format: d.format,
            fields: Vec::new(),
            body: None,
            auth_header: None,
            auth_value: None,
            username: None,
            secret: None,
            secret_file: None,
            timeout: d.timeout,
        }
    }
}

// By hand: the secret shows as `***`.
impl fmt::Debug for SmsSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsSection")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("format", &self.format)
            .field("fields", &self.fields)
            .field("body", &self.body)
            .field("auth_header", &self.auth_header)
            .field("auth_value", &self.auth_value)
            .field("username", &self.username)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("secret_file", &self.secret_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What the onboarding's messages (email and text) say about who sends them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnboardingSection {
    /// The product name the messages are signed with.
    #[serde(deserialize_with = "text::required")]
    pub product_name: String,
    /// Where recipients may write for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
}

impl Default for OnboardingSection {
    fn default() -> Self {
        OnboardingSection { product_name: "scimd".into(), support_email: None }
    }
}

/// A secret given itself or as a file, not both.
fn secret(key: &str, value: &Option<String>, file: &Option<String>) -> Result<Option<String>, String> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!("{key} and {key}_file are both set: keep one")),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, Some(path)) => read_secret(&format!("{key}_file"), path).map(Some),
        (None, None) => Ok(None),
    }
}

impl Config {
    /// How email is sent, or `None` when `email.host` is unset; reads `email.password_file`
    /// and `email.ca_file`.
    pub fn smtp_settings(&self) -> Result<Option<SmtpSettings>, String> {
        let e = &self.email;
        let Some(host) = &e.host else { return Ok(None) };
        let password = secret("email.password", &e.password, &e.password_file)?;
        if e.username.is_some() != password.is_some() {
            return Err("email.username and email.password (or password_file) go together".into());
        }
        let extra_ca_pem = match &e.ca_file {
            Some(path) => {
                let pem =
                    std::fs::read_to_string(path).map_err(|err| format!("email.ca_file: cannot read {path}: {err}"))?;
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(format!("email.ca_file: {path} holds no PEM certificate"));
                }
                Some(pem)
            }
            None => None,
        };
        Ok(Some(SmtpSettings {
            host: host.clone(),
            port: e.port,
            tls: e.tls,
            username: e.username.clone(),
            password,
            from: e.from.clone(),
            extra_ca_pem,
        }))
    }

    /// How text messages are sent, or `None` when `sms.url` is unset; reads
    /// `sms.secret_file` and checks the gateway's template.
    pub fn sms_settings(&self) -> Result<Option<SmsSettings>, String> {
        let s = &self.sms;
        let Some(url) = &s.url else { return Ok(None) };
        let settings = SmsSettings {
            url: url.clone(),
            method: s.method,
            format: s.format,
            fields: s.fields.clone(),
            body: s.body.clone(),
            auth_header: s.auth_header.clone(),
            auth_value: s.auth_value.clone(),
            username: s.username.clone(),
            secret: secret("sms.secret", &s.secret, &s.secret_file)?,
            timeout: s.timeout,
        };
        SmsGateway::new(&settings).map_err(|e| match e {
            SmsError::Settings(m) => format!("sms: {m}"),
            other => format!("sms: {other}"),
        })?;
        Ok(Some(settings))
    }

    /// Checks the messaging sections (their files read, their templates built).
    pub(super) fn check_messaging(&self) -> Result<(), String> {
        self.email
            .from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("email.from '{}': {e}", self.email.from))?;
        self.smtp_settings()?;
        if self.sms.timeout < Duration::from_secs(1) {
            return Err("sms.timeout must be at least 1s".into());
        }
        self.sms_settings()?;
        let o = &self.onboarding;
        if o.product_name.trim().is_empty() {
            return Err("onboarding.product_name must not be empty".into());
        }
        if let Some(a) = &o.support_email {
            a.parse::<lettre::Address>()
                .map_err(|e| format!("onboarding.support_email '{a}' is not an email address ({e})"))?;
        }
        Ok(())
    }

    /// Hides the messaging sections' secrets (for `scimd config show`).
    pub(super) fn redact_messaging(&mut self) {
        for s in [&mut self.email.password, &mut self.sms.secret] {
            if s.is_some() {
                *s = Some("***".into());
            }
        }
    }
}

/// Text settings that an environment variable may give as digits or `true`: the
/// environment's values are typed (`SCIMD_SMS__SECRET=12345678` arrives as an integer),
/// and a password of digits must stay the text it is, never echoed in a type error.
mod text {
    use serde::de::{Deserializer, Error, Visitor};

    struct Text;

    impl Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(Text)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(Text).map(Some)
    }
}

/// `sms.fields`: an array of `[name, value]` pairs, or (from `SCIMD_SMS__FIELDS`) the same
/// array written as TOML text.
mod pairs {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};

    struct Pairs;

    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of [name, value] pairs in the order they are sent (a table has no order)")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(pair) = seq.next_element::<(String, String)>()? {
                out.push(pair);
            }
            Ok(out)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Wrapped {
                #[serde(deserialize_with = "deserialize")]
                fields: Vec<(String, String)>,
            }
            toml::from_str::<Wrapped>(&format!("fields = {v}"))
                .map(|w| w.fields)
                .map_err(|e| E::custom(format!("not an array of [name, value] pairs: {}", e.message())))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        d.deserialize_any(Pairs)
    }
}

#[cfg(test)]
mod tests;
