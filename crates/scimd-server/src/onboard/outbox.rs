//! Delivering the onboarding's messages: email through the SMTP relay, text messages
//! through the SMS gateway, each logged (with its secret replaced) in the message log.
//! Without a relay or a gateway configured, nothing is sent: the secret is handed back to
//! be shown to the operator, who passes it on, and the log says so.

use std::sync::Arc;

use scimd_store::{NewMessage, Store, TenantId};
use serde::Serialize;

use crate::clock::Clock;
use crate::mail::{Email, Mailer};
use crate::sms::SmsGateway;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// `email` or `sms`.
    pub channel: &'static str,
    /// The address, or the mobile number masked.
    pub to: String,
    /// `sent`, `failed` or `printed`.
    pub outcome: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The link or secret, when it was not sent: for the operator to pass on. Named
    /// `secret` so that the audit trail's redaction removes it from a kept response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One message to deliver.
pub struct Outgoing<'a> {
    pub tenant: TenantId,
    /// What it carries (`api-user-password`, `client-id`, …).
    pub kind: &'static str,
    /// The subject (email only).
    pub subject: String,
    /// The text sent, and the same with the secret replaced, for the log.
    pub text: String,
    pub logged: String,
    /// The link or secret it carries, handed back when it is not sent.
    pub secret: Option<&'a str>,
}

/// The relay and the gateway, either of which may be absent.
pub struct Outbox {
    mailer: Option<Mailer>,
    sms: Option<SmsGateway>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(
        mailer: Option<Mailer>,
        sms: Option<SmsGateway>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Outbox {
        Outbox { mailer, sms, store, clock }
    }

    pub async fn email(&self, to: &str, m: Outgoing<'_>) -> Delivery {
        let result = match &self.mailer {
            None => None,
            Some(mailer) => {
                let email = Email { to: to.to_string(), subject: m.subject.clone(), text: m.text.clone() };
                Some(mailer.send(&email).await.map_err(|e| e.to_string()))
            }
        };
        self.record("email", to.to_string(), m, result, None).await
    }

    /// A text message to `to` (E.164).
    pub async fn sms(&self, to: &str, m: Outgoing<'_>) -> Delivery {
        let (result, via) = match &self.sms {
            None => (None, None),
            Some(gateway) => {
                let r = gateway.send(to, &m.text).await.map(|_| ()).map_err(|e| e.to_string());
                (Some(r), Some(format!("through {}", gateway.host())))
            }
        };
        self.record("sms", crate::sms::masked(to), m, result, via).await
    }

    async fn record(
        &self,
        channel: &'static str,
        to: String,
        m: Outgoing<'_>,
        result: Option<Result<(), String>>,
        via: Option<String>,
    ) -> Delivery {
        let (outcome, reason) = match &result {
            None => ("printed", None),
            Some(Ok(())) => ("sent", None),
            Some(Err(e)) => ("failed", Some(e.clone())),
        };
        if let Some(reason) = &reason {
            tracing::warn!(channel, kind = m.kind, %reason, "a message could not be sent");
        }
        let entry = NewMessage {
            tenant: Some(m.tenant),
            channel: channel.into(),
            kind: m.kind.into(),
            recipient: to.clone(),
            outcome: outcome.into(),
            detail: reason.clone().or(via),
            text: m.logged,
        };
        if let Err(e) = self.store.log_message(entry, self.clock.now()).await {
            tracing::warn!(error = %e, "the message log could not be written");
        }
        let secret = if outcome == "sent" { None } else { m.secret.map(str::to_string) };
        Delivery { channel, to, outcome, reason, secret }
    }
}
