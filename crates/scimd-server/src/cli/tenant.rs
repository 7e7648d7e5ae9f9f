//! `scimd tenant create|set|profile|catalog|list`: tenants, their SCIM feature, audit
//! settings and profile (from a file, standard input or a preset), and the catalogs of the
//! resource types their profiles declare.

use clap::{Subcommand, ValueEnum};

use crate::admin::Admin;
use crate::config::Details;

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant (with the SCIM feature, unless `--without-scim`).
    Create {
        name: String,
        /// Create it without SCIM access (turn it on later with `tenant set`).
        #[arg(long)]
        without_scim: bool,
        /// Start from a preset's profile (examples/presets/): the product or published SCIM
        /// profile it reproduces.
        #[arg(long, ignore_case = true, value_parser = preset_names())]
        preset: Option<String>,
        /// `integration` (a customer integrates first, then is promoted) or `production`.
        #[arg(long, value_enum, default_value = "integration")]
        stage: StageArg,
    },
    /// Make an integration tenant's production counterpart (same profile, places,
    /// operator-made groups and access links; new credentials sent to its contacts).
    Promote {
        name: String,
        /// The production tenant's name (default: `NAME` without `-integration`, or
        /// `NAME-production`).
        #[arg(long = "as")]
        production: Option<String>,
    },
    /// Change a tenant's settings.
    Set {
        name: String,
        /// The SCIM provisioning feature: a tenant without it gets 403 on every SCIM request.
        #[arg(long, value_enum)]
        scim: Option<OnOff>,
        /// Which requests' payloads (redacted) the audit trail keeps: `changes` (every
        /// request but successful reads), `all`, or `off`.
        #[arg(long, value_enum)]
        audit_details: Option<Details>,
        /// Days the tenant's audit events are kept.
        #[arg(long)]
        audit_events_days: Option<i64>,
        /// Days the tenant's payloads are kept (at most the events' days).
        #[arg(long)]
        audit_details_days: Option<i64>,
        /// The tenant's profile, from a JSON file (`-` for standard input); see the
        /// book's "Tenant profiles" (docs/book). `--profile default` goes back to the default.
        #[arg(long, conflicts_with = "preset")]
        profile: Option<String>,
        /// Replace the tenant's profile with a preset's (examples/presets/): the product or
        /// published SCIM profile it reproduces.
        #[arg(long, ignore_case = true, value_parser = preset_names())]
        preset: Option<String>,
    },
    /// Print a tenant's profile (JSON, every setting spelled out).
    Profile { name: String },
    /// How long the tenant's user deactivations took, from the identity provider's request
    /// to its last effect (the row written, the user's logins ended): count, median, 95th
    /// percentile and longest, then the latest ones (time, user id, milliseconds, logins ended).
    Deactivations {
        name: String,
        /// Over the last this many days (1 to 366).
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// The rows of a resource type the tenant's profile declares (its Roles, Entitlements…):
    /// clients read them over SCIM, the operator loads them.
    Catalog {
        #[command(subcommand)]
        cmd: CatalogCmd,
    },
    /// List tenants: id, name, created, SCIM on/off, the preset its profile came from or
    /// `-`, the stage, the counterpart or `-` (tab-separated).
    List,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Make the type's rows those of a JSON file (an array of resources, each with its
    /// `id`): every row is checked first (one bad row changes nothing); new ids are
    /// created, changed rows replaced, rows not in the file deleted. Prints what changed.
    Set {
        tenant: String,
        /// The declared type's name (`Role`).
        #[arg(value_name = "TYPE")]
        type_name: String,
        /// The JSON file (`-` for standard input).
        #[arg(long)]
        file: String,
    },
    /// Print the type's rows (a JSON array, each row with its `id`).
    Show {
        tenant: String,
        #[arg(value_name = "TYPE")]
        type_name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    Integration,
    Production,
}

impl StageArg {
    fn stage(self) -> scimd_store::Stage {
        match self {
            StageArg::Integration => scimd_store::Stage::Integration,
            StageArg::Production => scimd_store::Stage::Production,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// Every built-in preset's name, so that `--help` lists them all and a misspelt one is
/// refused with the list.
fn preset_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::presets::PRESETS.iter().map(|(name, _)| *name))
}

/// `scimd tenant …`.
pub(super) async fn run(admin: &Admin, cmd: TenantCmd) -> Result<(), String> {
    match cmd {
        TenantCmd::Create { name, without_scim, preset, stage } => {
            let t = match &preset {
                Some(p) => admin.create_tenant_with_preset(&name, !without_scim, p, stage.stage()).await?,
                None => admin.create_staged_tenant(&name, !without_scim, stage.stage()).await?,
            };
            println!(
                "created {} tenant {} (id {}){}{}",
                t.stage.as_str(),
                t.name,
                t.id,
                if without_scim { " without SCIM" } else { "" },
                preset.map(|p| format!(" with the {p} preset")).unwrap_or_default()
            );
            Ok(())
        }
        TenantCmd::Promote { .. } => Err("promotion runs with the onboarding's messages (cli::onboard)".into()),
        TenantCmd::Profile { name } => {
            println!("{}", serde_json::to_string_pretty(&admin.profile(&name).await?).map_err(|e| e.to_string())?);
            Ok(())
        }
        TenantCmd::Deactivations { name, days } => {
            let d = admin.deactivations(&name, days).await?;
            let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v} ms"));
            println!(
                "tenant {}: {} deactivations since {}; median {}, 95th percentile {}, longest {}; {} logins ended",
                d.tenant,
                d.count,
                d.since,
                ms(d.median_ms),
                ms(d.p95_ms),
                ms(d.max_ms),
                d.logins_ended
            );
            for r in &d.recent {
                println!("{}\t{}\t{}\t{}", r.at, r.id, r.ms, r.logins);
            }
            Ok(())
        }
        TenantCmd::Set { name, scim, audit_details, audit_events_days, audit_details_days, profile, preset } => {
            if scim.is_none()
                && audit_details.is_none()
                && audit_events_days.is_none()
                && audit_details_days.is_none()
                && profile.is_none()
                && preset.is_none()
            {
                return Err(
                    "nothing to set: give --scim, --audit-details, --audit-events-days, --audit-details-days, \
                            --profile or --preset"
                        .into(),
                );
            }
            if let Some(preset) = preset {
                admin.set_preset(&name, &preset).await?;
                println!("tenant {name}: profile of the {} preset", preset.to_ascii_lowercase());
            }
            if let Some(source) = profile {
                let value = if source == "default" {
                    None
                } else {
                    let text = if source == "-" {
                        std::io::read_to_string(std::io::stdin())
                            .map_err(|e| format!("cannot read the profile: {e}"))?
                    } else {
                        std::fs::read_to_string(&source).map_err(|e| format!("cannot read {source}: {e}"))?
                    };
                    Some(serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("{source}: {e}"))?)
                };
                admin.set_profile(&name, value.as_ref()).await?;
                println!("tenant {name}: profile {}", if value.is_some() { "set" } else { "back to the default" });
            }
            if let Some(scim) = scim {
                let on = scim == OnOff::On;
                admin.set_scim(&name, on).await?;
                println!("tenant {name}: SCIM {}", if on { "on" } else { "off" });
            }
            if audit_details.is_some() || audit_events_days.is_some() || audit_details_days.is_some() {
                let t = admin
                    .set_audit(&name, audit_details.map(Details::level), audit_events_days, audit_details_days)
                    .await?;
                println!(
                    "tenant {name}: audit payloads of {} requests, events kept {} days, payloads {} days",
                    match t.audit_details {
                        scimd_store::DetailsLevel::Off => "no",
                        scimd_store::DetailsLevel::Changes => "changing and failed",
                        scimd_store::DetailsLevel::All => "all",
                    },
                    t.audit_events_days,
                    t.audit_details_days
                );
            }
            Ok(())
        }
        TenantCmd::Catalog { cmd: CatalogCmd::Set { tenant, type_name, file } } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read the catalog: {e}"))?
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?
            };
            let rows = serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("{file}: {e}"))?;
            let d = admin.replace_catalog(&tenant, &type_name, &rows).await?;
            println!(
                "tenant {}: {} catalog loaded: {} added, {} changed, {} removed, {} unchanged",
                d.tenant,
                d.type_name,
                d.added.len(),
                d.changed.len(),
                d.removed.len(),
                d.unchanged
            );
            for (what, ids) in [("added", &d.added), ("changed", &d.changed), ("removed", &d.removed)] {
                for id in ids {
                    println!("{what}\t{id}");
                }
            }
            Ok(())
        }
        TenantCmd::Catalog { cmd: CatalogCmd::Show { tenant, type_name } } => {
            let rows = admin.show_catalog(&tenant, &type_name).await?;
            println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
            Ok(())
        }
        TenantCmd::List => {
            for t in admin.list_tenants().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.created,
                    if t.scim_enabled { "scim" } else { "no-scim" },
                    t.preset.as_deref().unwrap_or("-"),
                    t.stage.as_str(),
                    t.counterpart.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
    }
}
