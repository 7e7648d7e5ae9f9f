//! Security events: which events a change of a resource yields (RFC 9967's provisioning
//! events, and scimd's own access event), the attributes a change touched, which events
//! a stream takes, and the claims of the Security Event Token (RFC 8417) that carries one.
//!
//! Pure: the store records events in the change's transaction, the server signs and
//! delivers them. One recorded event is one SET, so a receiver sees them one by one, in
//! the order of the tenant's sequence numbers.

use serde_json::{Map, Value, json};

use crate::schema::ResourceKind;

/// The prefix of the event URIs RFC 9967 registers.
const SCIM_EVENT: &str = "urn:ietf:params:scim:event:";

/// scimd's own event: a user's effective banks and lockers changed. Not an IETF URN,
/// so no receiver mistakes it for a standard event.
pub const ACCESS_EVENT_URI: &str = "urn:scimd:event:access";

/// The private claim carrying the tenant's sequence number of an event.
pub const SEQ_CLAIM: &str = "seq";

/// A kind of event, as a stream filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Create,
    Put,
    Patch,
    Delete,
    Activate,
    Deactivate,
    /// A user's effective access to places changed.
    Access,
    /// The outcome of an asynchronous request.
    AsyncResponse,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::Create,
        EventType::Put,
        EventType::Patch,
        EventType::Delete,
        EventType::Activate,
        EventType::Deactivate,
        EventType::Access,
        EventType::AsyncResponse,
    ];

    /// The short name scimd uses (filters, the webhook `type`, the database).
    pub fn name(self) -> &'static str {
        match self {
            EventType::Create => "create",
            EventType::Put => "put",
            EventType::Patch => "patch",
            EventType::Delete => "delete",
            EventType::Activate => "activate",
            EventType::Deactivate => "deactivate",
            EventType::Access => "access",
            EventType::AsyncResponse => "asyncresp",
        }
    }

    /// The event's URI in a SET: the notice or the full form where RFC 9967 has both.
    pub fn uri(self, full: bool) -> &'static str {
        match (self, full) {
            (EventType::Create, false) => "urn:ietf:params:scim:event:prov:create:notice",
            (EventType::Create, true) => "urn:ietf:params:scim:event:prov:create:full",
            (EventType::Put, false) => "urn:ietf:params:scim:event:prov:put:notice",
            (EventType::Put, true) => "urn:ietf:params:scim:event:prov:put:full",
            (EventType::Patch, false) => "urn:ietf:params:scim:event:prov:patch:notice",
            (EventType::Patch, true) => "urn:ietf:params:scim:event:prov:patch:full",
            (EventType::Delete, _) => "urn:ietf:params:scim:event:prov:delete",
            (EventType::Activate, _) => "urn:ietf:params:scim:event:prov:activate",
            (EventType::Deactivate, _) => "urn:ietf:params:scim:event:prov:deactivate",
            (EventType::Access, _) => ACCESS_EVENT_URI,
            (EventType::AsyncResponse, _) => "urn:ietf:params:scim:event:misc:asyncresp",
        }
    }

    /// Whether the event has a full form carrying the resource (`data`).
    pub fn has_full_form(self) -> bool {
        matches!(self, EventType::Create | EventType::Put | EventType::Patch)
    }

    /// A short name or any of the event's URIs (case-insensitive), as an operator writes
    /// it in a stream's filter.
    pub fn parse(s: &str) -> Option<EventType> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == ACCESS_EVENT_URI {
            return Some(EventType::Access);
        }
        let short = lower.strip_prefix(SCIM_EVENT).unwrap_or(&lower);
        let short = short.strip_prefix("prov:").or_else(|| short.strip_prefix("misc:")).unwrap_or(short);
        let short = short.strip_suffix(":notice").or_else(|| short.strip_suffix(":full")).unwrap_or(short);
        EventType::ALL.into_iter().find(|t| t.name() == short)
    }
}

/// What a write did to a resource, as events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    /// PUT (or a user brought back by a POST of its name).
    Replace,
    Patch,
    Delete,
}

/// One event of a change, before the store numbers it: its type and its payload in the
/// notice form (`attributes`, or the access event's banks and lockers).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub event: EventType,
    pub payload: Value,
}

/// Whether a user document is active: `active` absent or anything but false.
pub fn is_active(doc: &Value) -> bool {
    doc.get("active") != Some(&Value::Bool(false))
}

/// Attributes that are the resource's frame, not its content.
fn framing(name: &str) -> bool {
    matches!(name, "schemas" | "id" | "meta")
}

/// The attributes whose value differs between two documents, by name: top-level
/// attributes by their name, an extension's attributes by their URN-qualified name
/// (`urn:…:User:department`). Sorted, so a change names them the same way every time.
pub fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let (b, a) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for key in keys {
        if framing(key) || b.get(key) == a.get(key) {
            continue;
        }
        if key.starts_with("urn:") {
            let (eb, ea) = (
                b.get(key).and_then(Value::as_object).unwrap_or(&empty),
                a.get(key).and_then(Value::as_object).unwrap_or(&empty),
            );
            let inner: std::collections::BTreeSet<&String> = eb.keys().chain(ea.keys()).collect();
            let before_len = out.len();
            for k in inner {
                if eb.get(k) != ea.get(k) {
                    out.push(format!("{key}:{k}"));
                }
            }
            if out.len() == before_len {
                out.push(key.clone());
            }
        } else {
            out.push(key.clone());
        }
    }
    out.sort();
    out
}

/// The facts of one change the events are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct ChangeFacts<'a> {
    pub write: Write,
    pub kind: ResourceKind,
    /// The stored document before the change (none on create).
    pub before: Option<&'a Value>,
    /// The stored document after it (none on delete).
    pub after: Option<&'a Value>,
    /// A new password was set (never its value: only that it changed).
    pub password: bool,
    /// The group's members, or the user's groups, changed.
    pub members: bool,
}

/// The events a change yields, in the order a receiver should see them: the write's
/// own event, then a user's activation or deactivation. A write that changed nothing a
/// receiver can see yields none.
pub fn prov_events(c: ChangeFacts<'_>) -> Vec<Draft> {
    let empty = Value::Object(Map::new());
    let member_attr = match c.kind {
        ResourceKind::Group | ResourceKind::Custom(_) => "members",
        ResourceKind::User => "groups",
    };
    let mut attributes = match c.write {
        Write::Delete => return vec![Draft { event: EventType::Delete, payload: json!({}) }],
        Write::Create => changed_attributes(&empty, c.after.unwrap_or(&empty)),
        Write::Replace | Write::Patch => changed_attributes(c.before.unwrap_or(&empty), c.after.unwrap_or(&empty)),
    };
    for (set, name) in [(c.password, "password"), (c.members, member_attr)] {
        if set && !attributes.iter().any(|a| a == name) {
            attributes.push(name.to_string());
        }
    }
    attributes.sort();
    let event = match c.write {
        Write::Create => EventType::Create,
        Write::Replace => EventType::Put,
        _ => EventType::Patch,
    };
    let mut out = Vec::new();
    if !attributes.is_empty() || c.write == Write::Create {
        out.push(Draft { event, payload: json!({ "attributes": attributes }) });
    }
    if c.kind == ResourceKind::User
        && let (Some(before), Some(after)) = (c.before, c.after)
    {
        match (is_active(before), is_active(after)) {
            (true, false) => out.push(Draft { event: EventType::Deactivate, payload: json!({}) }),
            (false, true) => out.push(Draft { event: EventType::Activate, payload: json!({}) }),
            _ => {}
        }
    }
    out
}

/// The membership event of a group whose members changed through another resource (a
/// member deleted, a user's groups set on the user).
pub fn members_changed() -> Draft {
    Draft { event: EventType::Patch, payload: json!({ "attributes": ["members"] }) }
}

/// A recorded event: what the store keeps until every stream has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The tenant's sequence number: gap-free and in commit order per tenant.
    pub seq: i64,
    /// The SET's unique id.
    pub jti: String,
    /// When the change was committed, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub kind: ResourceKind,
    /// The resource's id; or, for an event about no resource (the outcome of an
    /// asynchronous POST that failed), a path relative to the SCIM base starting with
    /// `/` (its collection, `/Users`), which `sub_id` names as it is.
    pub resource_id: String,
    pub external_id: Option<String>,
    /// The resource's version after the change (none after a delete).
    pub version: Option<i64>,
    pub event: EventType,
    /// The notice form's payload (JSON object).
    pub payload: Value,
    /// The request it came from (its request id), for `txn`.
    pub txn: Option<String>,
}

/// Which events a stream takes: by resource type and by event type; `None` takes all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFilter {
    pub kinds: Option<Vec<ResourceKind>>,
    pub events: Option<Vec<EventType>>,
}

impl StreamFilter {
    pub fn admits(&self, e: &Event) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && self.events.as_ref().is_none_or(|t| t.contains(&e.event))
    }
}

/// The ETag of a version, as `meta.version` writes it.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The event's member of a SET's `events`: its URI and payload. `data` (the resource as
/// a GET returns it) turns a create, put or patch into its full form.
pub fn event_member(e: &Event, data: Option<Value>) -> (&'static str, Value) {
    let full = data.is_some() && e.event.has_full_form();
    let mut payload = match &e.payload {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let (true, Some(d)) = (full, data) {
        payload.remove("attributes");
        payload.insert("data".into(), d);
    }
    if let Some(v) = e.version {
        payload.insert("version".into(), Value::String(etag(v)));
    }
    (e.event.uri(full), Value::Object(payload))
}

/// The claims of the SET carrying an event (RFC 8417 §2.2, RFC 9967 §2): `sub_id` names
/// the resource in the SCIM subject format, relative to the tenant's SCIM base; `seq` and
/// `tenant` are scimd's claims. No `exp`: a SET states a fact, it does not expire.
pub fn set_claims(e: &Event, issuer: &str, audience: &str, tenant: &str, iat: i64, data: Option<Value>) -> Value {
    let mut sub = Map::new();
    sub.insert("format".into(), json!("scim"));
    let uri = if e.resource_id.starts_with('/') {
        e.resource_id.clone()
    } else {
        format!("{}/{}", e.kind.endpoint(), e.resource_id)
    };
    sub.insert("uri".into(), Value::String(uri));
    if let Some(x) = &e.external_id {
        sub.insert("externalId".into(), Value::String(x.clone()));
    }
    let (uri, payload) = event_member(e, data);
    let mut claims = Map::new();
    claims.insert("iss".into(), Value::String(issuer.into()));
    claims.insert("iat".into(), json!(iat));
    claims.insert("jti".into(), Value::String(e.jti.clone()));
    claims.insert("aud".into(), Value::String(audience.into()));
    claims.insert("toe".into(), json!(e.time_ms.div_euclid(1000)));
    if let Some(t) = &e.txn {
        claims.insert("txn".into(), Value::String(t.clone()));
    }
    claims.insert("sub_id".into(), Value::Object(sub));
    claims.insert("events".into(), json!({ uri: payload }));
    claims.insert(SEQ_CLAIM.into(), json!(e.seq));
    claims.insert("tenant".into(), Value::String(tenant.into()));
    Value::Object(claims)
}

#[cfg(test)]
mod tests;
