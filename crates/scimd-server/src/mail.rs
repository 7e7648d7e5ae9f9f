//! Outgoing email: invitations and the onboarding's messages, sent over SMTP (STARTTLS or
//! TLS from the first byte, with authentication) through lettre. Plain SMTP is refused
//! except to a loopback address: lettre would send the password in clear.

use std::time::Duration;

use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain, then `STARTTLS` (port 587), required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only to a loopback address (a local relay, tests).
    None,
}

/// Where and how email is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender (`Product <noreply@example.com>`).
    pub from: String,
    /// Extra certificate authorities (PEM), for a relay with a private CA.
    pub extra_ca_pem: Option<String>,
}

/// An email to send: plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Why an email was not sent (never holding the password or the message's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the email settings cannot work: {0}")]
    Settings(String),
    #[error("the email could not be sent: {0}")]
    Send(String),
}

/// Sends email as the settings say.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

fn loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Mailer {
    pub fn new(s: &SmtpSettings) -> Result<Mailer, MailError> {
        let settings = |m: String| MailError::Settings(m);
        let from: Mailbox = s.from.parse().map_err(|e| settings(format!("the sender '{}': {e}", s.from)))?;
        let tls_params = || {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(pem) = &s.extra_ca_pem {
                let ca = lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| settings(format!("the extra certificate authority: {e}")))?;
                b = b.add_root_certificate(ca);
            }
            b.build().map_err(|e| settings(format!("TLS for {}: {e}", s.host)))
        };
        let tls = match s.tls {
            SmtpTls::Starttls => Tls::Required(tls_params()?),
            SmtpTls::Implicit => Tls::Wrapper(tls_params()?),
            SmtpTls::None if loopback(&s.host) => Tls::None,
            SmtpTls::None => {
                return Err(settings(format!(
                    "plain SMTP to {} would send the password in clear: use starttls or implicit",
                    s.host
                )));
            }
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Mailer { transport: b.build(), from })
    }

    /// Sends one email.
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let to: Mailbox = email.to.parse().map_err(|e| MailError::Send(format!("the address '{}': {e}", email.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .body(email.text.clone())
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, tls: SmtpTls) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 25,
            tls,
            username: Some("u".into()),
            password: Some("p".into()),
            from: "scimd <noreply@example.com>".into(),
            extra_ca_pem: None,
        }
    }

    #[test]
    fn plain_smtp_only_to_a_loopback_relay() {
        assert!(Mailer::new(&settings("127.0.0.1", SmtpTls::None)).is_ok());
        assert!(Mailer::new(&settings("localhost", SmtpTls::None)).is_ok());
        let refused = Mailer::new(&settings("smtp.example.com", SmtpTls::None)).err().unwrap();
        assert!(refused.to_string().contains("in clear"), "{refused}");
        assert!(Mailer::new(&settings("smtp.example.com", SmtpTls::Starttls)).is_ok());
        let bad_from = SmtpSettings { from: "not an address".into(), ..settings("127.0.0.1", SmtpTls::None) };
        assert!(Mailer::new(&bad_from).is_err());
    }
}
