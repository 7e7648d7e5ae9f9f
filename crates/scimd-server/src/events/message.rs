//! What a receiver gets for one event: the SET's claims (the same for every method), as a
//! signed SET (push, poll) or as a Standard Webhooks message (webhook).

use scimd_core::events::{Event, set_claims};
use scimd_core::projection::Projection;
use scimd_store::{Method, StoredEvent, StoredResource, Stream};
use serde_json::{Value, json};

use super::Events;
use crate::delivery::webhook;
use crate::error::{AppError, AppResult};

/// One request's worth: content type, headers, body.
pub(super) struct Message {
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

impl Events {
    /// The claims of an event's SET for a stream: its audience, and the resource itself
    /// when the stream wants the full form.
    pub(super) async fn claims(&self, s: &Stream, e: &StoredEvent) -> AppResult<Value> {
        let data = match (&e.data, s.full) {
            (Some(doc), true) => Some(self.resource(s, &e.event, doc, e.created.as_deref()).await?),
            _ => None,
        };
        let audience = s.audience.as_deref().or(s.url.as_deref()).unwrap_or(&self.issuer);
        let iat = chrono::Utc::now().timestamp();
        Ok(set_claims(&e.event, &self.issuer, audience, &s.tenant_name, iat, data))
    }

    /// A signed SET (RFC 8417) carrying the event.
    pub(super) async fn set(&self, s: &Stream, e: &StoredEvent) -> AppResult<String> {
        let claims = self.claims(s, e).await?;
        self.oauth.sign_set(&claims).await
    }

    /// The request delivering an event to a push or webhook stream's receiver.
    pub(super) async fn message(&self, s: &Stream, secret: Option<&str>, e: &StoredEvent) -> AppResult<Message> {
        match s.method {
            Method::Webhook => {
                let claims = self.claims(s, e).await?;
                let time = chrono::DateTime::from_timestamp_millis(e.event.time_ms).unwrap_or_default();
                let kind = e.event.kind.name().to_ascii_lowercase();
                let body = json!({
                    "type": format!("{kind}.{}", e.event.event.name()),
                    "timestamp": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "data": claims,
                });
                let body = serde_json::to_vec(&body).map_err(|e| AppError::Internal(e.to_string()))?;
                let secret = secret.ok_or_else(|| AppError::Internal(format!("stream {} has no secret", s.id)))?;
                let headers = webhook::headers(secret, &e.event.jti, chrono::Utc::now().timestamp(), &body)
                    .map_err(|_| AppError::Internal(format!("stream {}: its secret is not a webhook secret", s.id)))?;
                Ok(Message { content_type: "application/json", headers, body })
            }
            Method::Push | Method::Poll => {
                let mut headers = vec![("accept", "application/json".to_string())];
                if let Some(token) = secret {
                    headers.push(("authorization", format!("Bearer {token}")));
                }
                let body = self.set(s, e).await?.into_bytes();
                Ok(Message { content_type: "application/secevent+jwt", headers, body })
            }
        }
    }

    /// The resource as a GET returned it after the change (the full form's `data`).
    async fn resource(&self, s: &Stream, e: &Event, doc: &str, created: Option<&str>) -> AppResult<Value> {
        let time = chrono::DateTime::from_timestamp_millis(e.time_ms).unwrap_or_default();
        let stored = StoredResource {
            kind: e.kind,
            id: e.resource_id.clone(),
            version: e.version.unwrap_or(1),
            created: created.map(str::to_string).unwrap_or_else(|| scimd_store::normalized_time(time)),
            last_modified: scimd_store::normalized_time(time),
            data: doc.to_string(),
            related: None,
        };
        let body = self.service.render_for_event(s.tenant, &self.scim_base, stored, &Projection::default()).await?;
        serde_json::from_slice(&body).map_err(|e| AppError::Internal(e.to_string()))
    }
}
