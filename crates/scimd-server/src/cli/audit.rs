//! `scimd audit events|event|summary|errors`: reading the audit trail, tab-separated or
//! as JSON lines.

use clap::Subcommand;

use crate::admin::Admin;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// A tenant's events, newest first: id, time, request id, client, method and path, op,
    /// status, scimType, duration, resource id (tab-separated; `--json`: JSON lines).
    Events {
        #[arg(long, required_unless_present = "no_tenant")]
        tenant: Option<String>,
        /// The events no tenant could be attributed to instead: requests without a
        /// credential, or with one that names no tenant.
        #[arg(long, conflicts_with = "tenant")]
        no_tenant: bool,
        /// From this time (RFC 3339, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339, exclusive).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        status: Option<u16>,
        /// create, replace, patch, delete, read, list, search, token, …
        #[arg(long)]
        op: Option<String>,
        /// Only events older than this event id (the next page).
        #[arg(long)]
        before: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One event's redacted request and response (JSON).
    Event {
        #[arg(long, required_unless_present = "no_tenant")]
        tenant: Option<String>,
        /// An event no tenant could be attributed to.
        #[arg(long, conflicts_with = "tenant")]
        no_tenant: bool,
        id: i64,
    },
    /// The go-live check: what the tenant's callers did between two times.
    Summary {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// One JSON object (keys include created, updated, deactivated, deleted, errors).
        #[arg(long)]
        json: bool,
    },
    /// Internal errors, newest first: id, time, request id, method and path, detail.
    Errors {
        /// Only those of this tenant's requests.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

/// `scimd audit …`.
pub(super) async fn run(admin: &Admin, cmd: AuditCmd) -> Result<(), String> {
    match cmd {
        AuditCmd::Events { tenant, no_tenant: _, from, to, client, status, op, before, limit, json } => {
            let f = crate::admin::EventFilter {
                from,
                to,
                client,
                status,
                op,
                before,
                limit: Some(limit),
                ..Default::default()
            };
            for e in admin.audit_events(tenant.as_deref(), f).await? {
                if json {
                    println!("{}", serde_json::to_string(&e).map_err(|e| e.to_string())?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{} {}\t{}\t{}\t{}\t{:.1}ms\t{}",
                        e.id,
                        e.time,
                        e.request_id,
                        e.client.as_deref().unwrap_or("-"),
                        e.method,
                        e.path,
                        e.op,
                        e.status,
                        e.scim_type.as_deref().unwrap_or("-"),
                        e.duration_ms,
                        e.resource_id.as_deref().unwrap_or("-"),
                    );
                }
            }
            Ok(())
        }
        AuditCmd::Event { tenant, no_tenant: _, id } => {
            let d = admin.audit_event_details(tenant.as_deref(), id).await?;
            println!("{}", serde_json::to_string(&d).map_err(|e| e.to_string())?);
            Ok(())
        }
        AuditCmd::Summary { tenant, from, to, json } => {
            let s = admin.audit_summary(&tenant, &from, &to).await?;
            if json {
                println!("{s}");
            } else {
                println!("tenant {tenant}, {} to {}", s["from"], s["to"]);
                println!(
                    "first event {}, last event {}, {} requests",
                    s["first_event"], s["last_event"], s["requests"]
                );
                for (label, key) in [("users", "users"), ("groups", "groups")] {
                    let t = &s[key];
                    println!(
                        "{label}: {} created, {} updated ({} deactivated), {} deleted, {} reads",
                        t["created"], t["updated"], t["deactivated"], t["deleted"], t["reads"]
                    );
                }
                println!("errors: {} {}", s["error_count"], s["errors"]);
            }
            Ok(())
        }
        AuditCmd::Errors { tenant, from, to, limit, json } => {
            for e in admin.errors(tenant.as_deref(), from.as_deref(), to.as_deref(), limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&e).map_err(|e| e.to_string())?);
                } else {
                    println!("{}\t{}\t{}\t{} {}\t{}", e.id, e.time, e.request_id, e.method, e.path, e.detail);
                }
            }
            Ok(())
        }
    }
}
