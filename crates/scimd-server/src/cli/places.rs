//! `scimd places …` and `scimd access …`: the places tree, location rules and
//! access links, on the database directly, for operators' scripts. The command names and
//! their `--json` output are kept stable.

use clap::Subcommand;
use scimd_core::places::Level;
use serde_json::{Value, json};

use crate::admin::{Admin, PREVIEW_MAX};

#[derive(Debug, Subcommand)]
pub enum PlacesCmd {
    /// Create or update a whole tree from a JSON file (`-`: standard input):
    /// `{"locations":[{"key":…,"name":…,"sections":[{"key":…,"banks":[{"key":…,"lockers":[{"key":…}]}]}]}]}`.
    /// Re-importing the same file changes nothing.
    Import {
        #[arg(long)]
        tenant: String,
        file: String,
        #[arg(long)]
        json: bool,
    },
    /// The tenant's places: level, key, name and parent (tab-separated), or with `--json` the tree.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Create one place: `scimd places create --tenant T bank b7 --parent s1 --name "Bank 7"`.
    Create {
        #[arg(long)]
        tenant: String,
        /// location, section, bank or locker.
        level: String,
        key: String,
        #[arg(long)]
        name: Option<String>,
        /// The parent's key (sections, banks and lockers).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Rename a place.
    Rename {
        #[arg(long)]
        tenant: String,
        level: String,
        key: String,
        name: String,
    },
    /// Delete a place; one with places under it only with `--cascade` (which deletes them too).
    Delete {
        #[arg(long)]
        tenant: String,
        level: String,
        key: String,
        #[arg(long)]
        cascade: bool,
    },
    /// Set a location's rules from a JSON file (`-`: standard input), or clear them:
    /// `{"provision":"all"|"rules","match":"all"|"any","rules":[{"attribute":"locality"|"language",
    /// "op":"equals"|"contains"|"not_contains","value":…}],"home":{"match":…,"rules":[…]}}`.
    Rules {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        location: String,
        #[arg(required_unless_present = "clear")]
        file: Option<String>,
        #[arg(long, conflicts_with = "file")]
        clear: bool,
        /// Save nothing: print how many users the location would then provision and the
        /// first 50 of them (userName, locations now and then, home now and then; with
        /// `--json` as JSON).
        #[arg(long)]
        dry_run: bool,
        #[arg(long, requires = "dry_run")]
        json: bool,
    },
    /// A user's locations and home location under the current rules.
    Of {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
}

/// The place an access command names: exactly one of them.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct PlaceArg {
    /// A single locker (by key).
    #[arg(long)]
    locker: Option<String>,
    /// A bank: every locker in it.
    #[arg(long)]
    bank: Option<String>,
    /// A section: every bank and locker in it.
    #[arg(long)]
    section: Option<String>,
    /// A location: every section, bank and locker in it.
    #[arg(long)]
    location: Option<String>,
}

impl PlaceArg {
    fn place(&self) -> (Level, &str) {
        [
            (Level::Locker, &self.locker),
            (Level::Bank, &self.bank),
            (Level::Section, &self.section),
            (Level::Location, &self.location),
        ]
        .into_iter()
        .find_map(|(l, k)| k.as_deref().map(|k| (l, k)))
        .expect("clap requires one place")
    }
}

#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// Give a group's members (by the group's displayName or id) access to a place: one
    /// locker, or everything in a bank, section or location.
    Grant {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        group: String,
        #[command(flatten)]
        place: PlaceArg,
    },
    /// Take a group's access to a place away.
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        group: String,
        #[command(flatten)]
        place: PlaceArg,
    },
    /// The banks (whole) and lockers a user may use: `{"banks":[…],"lockers":[…]}` with `--json`.
    Show {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// The access links: place key, group name, group id, place level (tab-separated).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// The active users that may use a place (the whole of it): id and userName (tab-separated).
    Users {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        place: PlaceArg,
        #[arg(long)]
        json: bool,
    },
}

fn level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("no such kind of place '{s}': location, section, bank or locker"))
}

fn read_json(source: &str) -> Result<Value, String> {
    let text = if source == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read standard input: {e}"))?
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{source} is not JSON: {e}"))
}

pub async fn places(admin: &Admin, cmd: PlacesCmd) -> Result<(), String> {
    match cmd {
        PlacesCmd::Import { tenant, file, json } => {
            let r = admin.import_places(&tenant, &read_json(&file)?).await?;
            if json {
                println!("{}", json!(r));
            } else {
                println!("{} created, {} updated, {} unchanged", r.created, r.updated, r.unchanged);
            }
        }
        PlacesCmd::List { tenant, json } => {
            if json {
                println!("{}", admin.places_tree(&tenant).await?);
            } else {
                for p in admin.list_places(&tenant).await? {
                    println!("{}\t{}\t{}\t{}", p.level.name(), p.key, p.name, p.parent.as_deref().unwrap_or("-"));
                }
            }
        }
        PlacesCmd::Create { tenant, level: l, key, name, parent } => {
            let p = admin.create_place(&tenant, level(&l)?, &key, name.as_deref(), parent.as_deref()).await?;
            println!("created {} {}", p.level.name(), p.key);
        }
        PlacesCmd::Rename { tenant, level: l, key, name } => {
            admin.rename_place(&tenant, level(&l)?, &key, &name).await?;
            println!("renamed {l} {key}");
        }
        PlacesCmd::Delete { tenant, level: l, key, cascade } => {
            let n = admin.delete_place(&tenant, level(&l)?, &key, cascade).await?;
            println!("deleted {n} place(s)");
        }
        PlacesCmd::Rules { tenant, location, file, clear, dry_run, json } => {
            let rules = match (&file, clear) {
                (Some(f), false) => Some(read_json(f)?),
                _ => None,
            };
            if dry_run {
                let p = admin.preview_location_rules(&tenant, &location, rules.as_ref(), 1, PREVIEW_MAX).await?;
                if json {
                    println!("{}", json!(p));
                } else {
                    println!("{} users would be provisioned by location {location}", p.total);
                    let or_dash = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(" ") };
                    for u in &p.users {
                        println!(
                            "{}\t{} -> {}\t{} -> {}",
                            u.user_name,
                            or_dash(&u.now.locations),
                            or_dash(&u.then.locations),
                            u.now.home.as_deref().unwrap_or("-"),
                            u.then.home.as_deref().unwrap_or("-")
                        );
                    }
                }
                return Ok(());
            }
            admin.set_location_rules(&tenant, &location, rules.as_ref()).await?;
            println!("rules of location {location} {}; users are recomputed", if clear { "cleared" } else { "set" });
        }
        PlacesCmd::Of { tenant, user, json } => {
            let p = admin.user_places(&tenant, &user).await?;
            if json {
                println!("{}", json!(p));
            } else {
                println!("locations\t{}", p.locations.join(" "));
                println!("home\t{}", p.home.as_deref().unwrap_or("-"));
            }
        }
    }
    Ok(())
}

pub async fn access(admin: &Admin, cmd: AccessCmd) -> Result<(), String> {
    match cmd {
        AccessCmd::Grant { tenant, group, place } => {
            let (l, key) = place.place();
            let (_, created) = admin.grant_access(&tenant, &group, l, key).await?;
            let done = if created { "now has access to" } else { "already had access to" };
            println!("{group} {done} {} {key}", l.name());
        }
        AccessCmd::Revoke { tenant, group, place } => {
            let (l, key) = place.place();
            let (_, existed) = admin.revoke_access(&tenant, &group, l, key).await?;
            let done = if existed { "no longer has access to" } else { "had no access to" };
            println!("{group} {done} {} {key}", l.name());
        }
        AccessCmd::Show { tenant, user, json } => {
            let a = admin.user_access(&tenant, &user).await?;
            if json {
                println!("{}", json!(a));
            } else {
                println!("banks\t{}", a.banks.join(" "));
                println!("lockers\t{}", a.lockers.join(" "));
            }
        }
        AccessCmd::List { tenant } => {
            for l in admin.access_links(&tenant).await? {
                // The level comes last: scripts written when every link named a bank read the
                // first three columns.
                println!("{}\t{}\t{}\t{}", l.place, l.group.as_deref().unwrap_or("-"), l.group_id, l.level.name());
            }
        }
        AccessCmd::Users { tenant, place, json } => {
            let (l, key) = place.place();
            let mut start = 1;
            loop {
                let page = admin.place_users(&tenant, l, key, start, 1000).await?;
                let n = page.users.len() as u64;
                for u in &page.users {
                    if json {
                        println!("{u}");
                    } else {
                        println!("{}\t{}", u["id"].as_str().unwrap_or(""), u["userName"].as_str().unwrap_or(""));
                    }
                }
                start += n;
                if n == 0 || start > page.total {
                    break;
                }
            }
        }
    }
    Ok(())
}
