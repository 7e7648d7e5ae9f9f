//! Who makes a change through the operator's use cases, and how the change reaches the
//! audit trail: an HTTP request (admin API, portal) records it on its own event; the
//! command line, which works on the database directly, writes an event for it.

use scimd_store::{AuditRecord, NewEvent, Tenant};

use super::Admin;
use crate::audit::AuditSlot;

/// Who makes a change, for the change's audit event.
#[derive(Clone, Copy)]
pub enum Caller<'a> {
    /// An admin API or portal request: its own event records the change (its tenant and
    /// the changed thing's id noted here).
    Request(Option<&'a AuditSlot>),
    /// The command line, on the database directly: an event is written for the change.
    CommandLine,
}

/// A change to note in the audit trail.
pub struct Change<'a> {
    /// The operation (`stream_add`, `golive_approve`, …).
    pub op: &'a str,
    /// What kind of thing changed (`EventStream`, `GoLiveSubmission`, …).
    pub rtype: &'a str,
    pub id: &'a str,
    pub status: u16,
    /// The command that made it, as the trail's path shows a command line's change
    /// (`scimd events stream add`).
    pub command: &'a str,
}

impl Admin {
    /// Notes a change for the audit trail: on the request's event, or (from the command
    /// line) in an event of its own.
    pub(crate) async fn audit_change(&self, t: &Tenant, caller: Caller<'_>, c: Change<'_>) {
        match caller {
            Caller::Request(slot) => {
                if let Some(slot) = slot {
                    let mut info = slot.info.lock().expect("audit slot");
                    info.tenant = Some(t.id);
                    info.resource_id = Some(c.id.to_string());
                }
            }
            Caller::CommandLine => {
                let event = NewEvent {
                    tenant: Some(t.id),
                    time: self.now(),
                    request_id: self.cli_request_id(),
                    client: None,
                    method: "CLI".into(),
                    path: c.command.to_string(),
                    rtype: Some(c.rtype.into()),
                    resource_id: Some(c.id.to_string()),
                    op: c.op.into(),
                    status: c.status,
                    scim_type: None,
                    duration_ms: 0.0,
                    deactivated: false,
                    client_request_id: None,
                };
                // The change is made: a trail that cannot be written is logged, not
                // reported as the change failing.
                if let Err(e) = self.store.record_audit(vec![AuditRecord::Event(event, None)]).await {
                    tracing::warn!(error = %e, op = c.op, "recording a change in the audit trail failed");
                }
            }
        }
    }

    /// One id for every event of this process's command (a command line runs one).
    pub(crate) fn cli_request_id(&self) -> String {
        static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        ID.get_or_init(|| format!("cli-{}", uuid::Uuid::new_v4().simple())).clone()
    }
}
