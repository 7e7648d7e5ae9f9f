//! `scimd onboard` (a tenant's credentials made and sent; a set-password link re-sent or
//! revoked; the messages sent), `scimd tenant promote`, and `scimd golive`: the
//! customer's `submit` (its `scimd sync --report` file, over HTTP with its own
//! credentials) and the operator's `list`, `show`, `approve` and `reject`. The work is in
//! `onboard`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::admin::Caller;
use crate::onboard::{Delivery, OnboardOutcome, OnboardRequest, Onboarding};

/// Who acts on the command line, as the trail and the messages name them.
const BY: &str = "operator:cli";

/// Make what a tenant is missing for its customer and send it: the API system user's
/// set-password link and the client id by email, the client secret by text message, a
/// signup link to each system user. Without an email relay or SMS gateway configured,
/// what would have been sent is printed.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OnboardArgs {
    #[command(subcommand)]
    pub cmd: Option<OnboardCmd>,
    /// The tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The SCIM API system user's email (a service account): its set-password link and
    /// the client id go there.
    #[arg(long)]
    pub api_user_email: Option<String>,
    /// The mobile number (E.164, `+31612345678`) the client secret is texted to.
    #[arg(long)]
    pub secret_mobile: Option<String>,
    /// A person who gets the website (repeat for several): each receives a signup link.
    #[arg(long = "system-user-email")]
    pub system_user_emails: Vec<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OnboardCmd {
    /// Send an API system user a new set-password link (the one before stops working).
    Resend {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        api_user: String,
    },
    /// Make a pending link stop working: an API system user's set-password link, or a
    /// system user's signup link.
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long, required_unless_present = "system_user", conflicts_with = "system_user")]
        api_user: Option<String>,
        /// A system user's email.
        #[arg(long)]
        system_user: Option<String>,
    },
    /// The messages sent for a tenant, newest first: time, channel, kind, recipient,
    /// outcome (tab-separated; never a secret).
    Messages {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GoliveCmd {
    /// Submit a test run for the go-live check (the customer): the report `scimd sync
    /// --report` wrote, sent with the same credentials as the sync.
    Submit(SubmitArgs),
    /// A tenant's submissions, newest first: id, state, window, submitted by, decided by.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// A submission beside what the audit trail recorded in its window.
    Show {
        #[arg(long)]
        tenant: String,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve: the tenant is promoted (unless it was) and its production credentials sent.
    Approve {
        #[arg(long)]
        tenant: String,
        id: i64,
    },
    /// Reject with feedback, emailed to the customer.
    Reject {
        #[arg(long)]
        tenant: String,
        id: i64,
        #[arg(long)]
        feedback: String,
    },
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The report file `scimd sync --report` wrote.
    #[arg(long)]
    pub report: PathBuf,
    /// The server (`https://host`); default: the origin of the report's target.
    #[arg(long)]
    pub server: Option<String>,
    #[command(flatten)]
    pub auth: super::sync::AuthArgs,
}

fn delivery_line(what: &str, d: &Delivery) -> String {
    match (d.outcome, &d.secret) {
        ("sent", _) => format!("{what}: sent by {} to {}", d.channel, d.to),
        ("failed", Some(v)) => {
            format!("{what}: NOT sent ({}): hand it over yourself: {v}", d.reason.as_deref().unwrap_or("failed"))
        }
        (_, Some(v)) => format!("{what} (no {} configured: hand it over yourself): {v}", relay(d.channel)),
        _ => format!("{what}: {}", d.outcome),
    }
}

fn relay(channel: &str) -> &'static str {
    if channel == "sms" { "SMS gateway" } else { "email relay" }
}

fn print_outcome(o: &OnboardOutcome) {
    println!("tenant {} ({})", o.tenant, o.stage.as_str());
    if let Some(u) = &o.api_user {
        let made = if u.created { "made" } else { "exists" };
        println!("API user {} ({made}); its link works until {}", u.username, u.expires);
        println!("  {}", delivery_line("set-password link", &u.delivery));
    }
    if let Some(c) = &o.client {
        println!("client {} ({})", c.client_id, if c.created { "made" } else { "new secret" });
        if let Some(d) = &c.id_delivery {
            println!("  {}", delivery_line("client id", d));
        }
        println!("  {}", delivery_line("client secret", &c.secret_delivery));
    }
    for s in &o.system_users {
        match (&s.delivery, &s.skipped) {
            (Some(d), _) => println!("system user {}\n  {}", s.email, delivery_line("signup link", d)),
            (None, Some(why)) => println!("system user {}: skipped: {why}", s.email),
            _ => {}
        }
    }
}

/// `scimd onboard …`.
pub(super) async fn onboard(o: &Onboarding, a: OnboardArgs) -> Result<(), String> {
    match a.cmd {
        Some(OnboardCmd::Resend { tenant, api_user }) => {
            let sent = o.resend_api_user_link(&tenant, &api_user).await?;
            println!("{}", delivery_line(&format!("set-password link for {}", sent.username), &sent.delivery));
        }
        Some(OnboardCmd::Revoke { tenant, api_user: Some(user), .. }) => {
            o.revoke_api_user_link(&tenant, &user).await?;
            println!("{user}'s set-password link no longer works");
        }
        Some(OnboardCmd::Revoke { tenant, system_user, .. }) => {
            let email = system_user.ok_or("give --api-user or --system-user")?;
            o.revoke_invitation(&tenant, &email).await?;
            println!("{email}'s signup link no longer works");
        }
        Some(OnboardCmd::Messages { tenant }) => {
            for m in o.messages(&tenant, 1000).await? {
                println!("{}\t{}\t{}\t{}\t{}", m.sent, m.channel, m.kind, m.recipient, m.outcome);
            }
        }
        None => {
            let tenant = a.tenant.ok_or("--tenant is required")?;
            if a.api_user_email.is_none() && a.secret_mobile.is_none() && a.system_user_emails.is_empty() {
                return Err("nothing to send: give --api-user-email, --secret-mobile or --system-user-email".into());
            }
            let req = OnboardRequest {
                tenant,
                api_user_email: a.api_user_email,
                secret_mobile: a.secret_mobile,
                system_user_emails: a.system_user_emails,
                by: BY.into(),
            };
            let outcome = o.onboard(req, Caller::CommandLine).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())?);
            } else {
                print_outcome(&outcome);
            }
        }
    }
    Ok(())
}

/// `scimd tenant promote NAME [--as PRODUCTION]`.
pub(super) async fn promote(o: &Onboarding, name: &str, production: Option<&str>) -> Result<(), String> {
    let p = o.promote(name, production, Caller::CommandLine).await?;
    println!(
        "promoted {name} to production tenant {} (id {}): {} places, {} groups, {} access links copied",
        p.production.name, p.production.id, p.places, p.groups, p.access_links
    );
    print_outcome(&p.credentials);
    Ok(())
}

/// `scimd golive …` on the operator's side.
pub(super) async fn golive(o: &Onboarding, cmd: GoliveCmd) -> Result<(), String> {
    match cmd {
        GoliveCmd::Submit(_) => return Err("`golive submit` runs on the customer's side".into()),
        GoliveCmd::List { tenant } => {
            for s in o.submissions(&tenant).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.state,
                    s.claim.from,
                    s.claim.to,
                    s.submitted_by,
                    s.decided_by.as_deref().unwrap_or("-")
                );
            }
        }
        GoliveCmd::Show { tenant, id, json } => {
            let r = o.review(&tenant, id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?);
                return Ok(());
            }
            let s = &r.submission;
            println!(
                "submission {} of {} ({}, {}): {} to {}",
                s.id, s.tenant, s.state, s.source, s.claim.from, s.claim.to
            );
            println!("{:<20}{:>10}{:>10}", "", "claimed", "computed");
            for row in &r.rows {
                let mark = if row.differs { "  <- differs" } else { "" };
                println!("{:<20}{:>10}{:>10}{mark}", row.what, row.claimed, row.computed);
            }
            println!("{} failed request(s) in the window", r.errors.len());
            for e in r.errors.iter().take(20) {
                println!(
                    "  {}\t{}\t{} {}\t{}",
                    e.time,
                    e.status,
                    e.method,
                    e.path,
                    e.scim_type.as_deref().unwrap_or("")
                );
            }
            if let Some(f) = &s.feedback {
                println!("feedback: {f}");
            }
        }
        GoliveCmd::Approve { tenant, id } => {
            let d = o.decide(&tenant, id, true, None, BY, Caller::CommandLine).await?;
            println!("submission {id} approved");
            if let Some(p) = &d.promoted {
                println!("promoted to production tenant {}", p.production.name);
                print_outcome(&p.credentials);
            }
        }
        GoliveCmd::Reject { tenant, id, feedback } => {
            let d = o.decide(&tenant, id, false, Some(&feedback), BY, Caller::CommandLine).await?;
            println!("submission {id} rejected");
            for n in &d.notices {
                println!("  {}", delivery_line("feedback", n));
            }
        }
    }
    Ok(())
}

/// `scimd golive submit`: the customer's report sent to the server. Exit status 0 when
/// accepted, 2 when not.
pub async fn submit(a: SubmitArgs) -> u8 {
    match send_report(&a).await {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            eprintln!("scimd golive submit: {e}");
            2
        }
    }
}

async fn send_report(a: &SubmitArgs) -> Result<String, String> {
    let text = std::fs::read_to_string(&a.report).map_err(|e| format!("cannot read {}: {e}", a.report.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a report (JSON): {e}", a.report.display()))?;
    let server = match &a.server {
        Some(s) => s.trim_end_matches('/').to_string(),
        None => {
            let target = report["target"].as_str().ok_or("the report names no target: give --server")?;
            let url = reqwest::Url::parse(target).map_err(|e| format!("the report's target '{target}': {e}"))?;
            url.origin().ascii_serialization()
        }
    };
    let http =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    let auth = scimd_sync::auth::Auth::new(super::sync::credentials(&a.auth)?, http.clone());
    let token = auth.token().await.map_err(|e| e.to_string())?;
    let res = http
        .post(format!("{server}/golive/v1/submissions"))
        .bearer_auth(token)
        .json(&report)
        .send()
        .await
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail");
        return Err(format!("the server refused it ({status}): {detail}"));
    }
    Ok(format!(
        "submitted go-live check {} for {} to {}: the operator reviews it",
        body["id"],
        body["claim"]["from"].as_str().unwrap_or("?"),
        body["claim"]["to"].as_str().unwrap_or("?")
    ))
}
