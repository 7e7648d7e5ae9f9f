//! `scimd events stream add|list|show|pause|resume|delete` (a tenant's event streams) and
//! `scimd events tail` (the tenant's recorded events, as they are written). A stream's
//! one-time credential is printed alone on the last line, for scripts; lists are
//! tab-separated; `--json` prints JSON instead.

use std::time::Duration;

use clap::{ArgGroup, Subcommand};
use serde_json::json;

use crate::admin::{Admin, Caller, EventView, StreamSpec};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// Manage a tenant's event streams (push, poll or webhook).
    #[command(subcommand)]
    Stream(StreamCmd),
    /// Print a tenant's recorded events, oldest first: sequence number, time, event type,
    /// resource (type/id) and the attributes changed (tab-separated). Events are recorded
    /// only while the tenant has at least one event stream, and kept until every stream
    /// has them (or the retention bound drops them): a tenant without streams shows none.
    Tail(TailArgs),
}

#[derive(Debug, Subcommand)]
pub enum StreamCmd {
    /// Add an event stream to a tenant; it takes the events written from now on. Prints
    /// the stream's id on the first line; a webhook's signing secret or a poll receiver's
    /// token is printed once, alone on the last line.
    Add(AddArgs),
    /// List a tenant's streams: id, method, receiver URL (or -), status (active, paused,
    /// failing), backlog, lag in seconds, delivered, rejected, dropped, last error (or -),
    /// tab-separated.
    List {
        #[arg(long)]
        tenant: String,
        /// Print the streams as a JSON array, with every figure.
        #[arg(long)]
        json: bool,
    },
    /// Show one stream as JSON, with its status and progress.
    Show {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Pause a stream: its events wait for it (counted in its backlog) until it is resumed.
    Pause {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Resume a paused stream: it delivers the events that waited, in order.
    Resume {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Delete a stream; the events it had not delivered are lost to it (the tenant's last
    /// stream takes the tenant's recorded events with it).
    Delete {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("method").required(true).args(["push", "poll", "webhook"])))]
pub struct AddArgs {
    #[arg(long)]
    pub tenant: String,
    /// Push signed SETs (RFC 8935) to this receiver URL (http or https).
    #[arg(long, value_name = "URL")]
    pub push: Option<String>,
    /// Let the receiver poll for SETs (RFC 8936) with a token printed once. The poll URL
    /// is under server.public_url; without it, the path /events/v1/poll is printed, to
    /// put after the server's address.
    #[arg(long)]
    pub poll: bool,
    /// POST plain JSON to this receiver URL, signed the Standard Webhooks way with a
    /// secret printed once.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// The SETs' audience (`aud`); the receiver URL (or the poll URL) when not given.
    #[arg(long)]
    pub audience: Option<String>,
    /// Events carry the resource as a GET returns it (RFC 9967's full form), not only the
    /// names of the attributes changed.
    #[arg(long)]
    pub full: bool,
    /// Only these resource types (User, Group), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub types: Option<Vec<String>>,
    /// Only these event types, comma-separated: create, put, patch, delete, activate,
    /// deactivate, access, asyncresp, or their URIs.
    #[arg(long, value_delimiter = ',', value_name = "EVENTS")]
    pub events: Option<Vec<String>>,
    /// The bearer token the push receiver expects (sent as `Authorization: Bearer …`;
    /// stored sealed under the master key).
    #[arg(long, value_name = "TOKEN")]
    pub bearer: Option<String>,
    /// Print JSON: `{"id"}` for push, `{"id", "secret"}` for webhook, `{"id", "poll_url",
    /// "token"}` for poll.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    #[arg(long)]
    pub tenant: String,
    /// Keep printing events as they are written (every 500 ms) until interrupted (Ctrl-C).
    #[arg(long)]
    pub follow: bool,
    /// Print one JSON object per event and line.
    #[arg(long)]
    pub json: bool,
    /// Only events after this sequence number.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub after: i64,
}

/// `scimd events …`.
pub(super) async fn run(admin: &Admin, cmd: EventsCmd, cfg: &Config) -> Result<(), String> {
    match cmd {
        EventsCmd::Stream(cmd) => stream(admin, cmd, cfg).await,
        EventsCmd::Tail(args) => tail(admin, args).await,
    }
}

fn to_json(v: &impl serde::Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(v).map_err(|e| e.to_string())
}

async fn stream(admin: &Admin, cmd: StreamCmd, cfg: &Config) -> Result<(), String> {
    let cli = || Caller::CommandLine;
    match cmd {
        StreamCmd::Add(a) => add(admin, a, cfg).await,
        StreamCmd::List { tenant, json } => {
            let streams = admin.list_streams(&tenant).await?;
            if json {
                println!("{}", to_json(&streams)?);
                return Ok(());
            }
            for s in streams {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.method.as_str(),
                    s.url.as_deref().unwrap_or("-"),
                    s.status.as_str(),
                    s.backlog,
                    s.lag_seconds,
                    s.delivered,
                    s.rejected,
                    s.dropped,
                    s.last_error.as_deref().map(|e| e.replace(['\t', '\n'], " ")).as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
        StreamCmd::Show { tenant, id } => {
            println!("{}", to_json(&admin.stream(&tenant, &id).await?)?);
            Ok(())
        }
        StreamCmd::Pause { tenant, id } => {
            admin.pause_stream(&tenant, &id, true, cli()).await?;
            println!("stream {id} of tenant {tenant} paused");
            Ok(())
        }
        StreamCmd::Resume { tenant, id } => {
            admin.pause_stream(&tenant, &id, false, cli()).await?;
            println!("stream {id} of tenant {tenant} resumed");
            Ok(())
        }
        StreamCmd::Delete { tenant, id } => {
            admin.delete_stream(&tenant, &id, cli()).await?;
            println!("stream {id} of tenant {tenant} deleted");
            Ok(())
        }
    }
}

async fn add(admin: &Admin, a: AddArgs, cfg: &Config) -> Result<(), String> {
    let (method, url) = match (&a.push, &a.webhook) {
        (Some(u), _) => ("push", Some(u.clone())),
        (_, Some(u)) => ("webhook", Some(u.clone())),
        _ => ("poll", None),
    };
    let spec = StreamSpec {
        method: method.into(),
        url,
        audience: a.audience,
        full: a.full,
        resource_types: a.types,
        events: a.events,
        bearer_token: a.bearer,
    };
    let root = cfg.server.public_url.as_deref();
    let c = admin.add_stream(&a.tenant, spec, root, Caller::CommandLine).await?;
    let id = &c.stream.id;
    match (&c.secret, &c.token, &c.poll_url) {
        (Some(secret), _, _) if a.json => println!("{}", json!({"id": id, "secret": secret})),
        (_, Some(token), Some(poll)) if a.json => println!("{}", json!({"id": id, "poll_url": poll, "token": token})),
        _ if a.json => println!("{}", json!({"id": id})),
        (Some(secret), _, _) => println!("{id}\nthe webhook's signing secret, shown once:\n{secret}"),
        (_, Some(token), Some(poll)) => {
            let relative =
                if root.is_none() { " (server.public_url is not set: put the server's address before it)" } else { "" };
            println!("{id}\npoll URL: {poll}{relative}\nthe receiver's token, shown once:\n{token}")
        }
        _ => println!("{id}"),
    }
    Ok(())
}

/// One event as a line: seq, time, type, resource, attributes (or the payload).
fn line(e: &EventView) -> String {
    let detail = match e.payload.get("attributes").and_then(|a| a.as_array()) {
        Some(attrs) => attrs.iter().filter_map(|a| a.as_str()).collect::<Vec<_>>().join(","),
        None if e.payload.as_object().is_some_and(|o| !o.is_empty()) => e.payload.to_string(),
        None => "-".into(),
    };
    format!(
        "{}\t{}\t{}\t{}/{}\t{}",
        e.seq,
        e.time,
        e.event,
        e.resource_type,
        e.id,
        if detail.is_empty() { "-" } else { &detail }
    )
}

/// Prints a page at a time; with `--follow`, then waits for more.
async fn tail(admin: &Admin, a: TailArgs) -> Result<(), String> {
    let mut after = a.after;
    loop {
        let page = admin.tail_events(&a.tenant, after, 1000).await?;
        for e in &page {
            if a.json {
                println!("{}", serde_json::to_string(e).map_err(|e| e.to_string())?);
            } else {
                println!("{}", line(e));
            }
            after = after.max(e.seq);
        }
        if page.is_empty() {
            if !a.follow {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
