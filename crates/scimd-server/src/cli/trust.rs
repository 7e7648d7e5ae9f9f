//! `scimd trust add|list|remove`: a tenant's federated trusts, the identity providers
//! whose signed tokens the tenant accepts (the JWT bearer grant, and clients bound to a
//! trust by `scimd client set --trust`).

use std::collections::BTreeMap;

use clap::Subcommand;

use crate::admin::{Admin, TrustSpec};

#[derive(Debug, Subcommand)]
pub enum TrustCmd {
    /// Trust an issuer for a tenant: its tokens, signed with a key of its key set, meant
    /// for one of the audiences, of an accepted subject, get the scopes.
    Add {
        tenant: String,
        /// The trust's name, unique in the tenant.
        name: String,
        /// The issuer (`iss`), exactly as its tokens write it (https).
        #[arg(long)]
        issuer: String,
        /// Where its key set is (https); default: discovered from the issuer's metadata
        /// (OpenID Connect discovery, then RFC 8414).
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// A value its tokens' `aud` must hold (repeat for several; one is enough).
        #[arg(long = "audience", required = true)]
        audiences: Vec<String>,
        /// A `sub` it admits (repeat for several); at least one subject or claim is needed.
        #[arg(long = "subject")]
        subjects: Vec<String>,
        /// A claim its tokens must carry with this value, `NAME=VALUE` (repeat for
        /// several; e.g. Entra's `tid`, `appid` or `azp`).
        #[arg(long = "claim", value_name = "NAME=VALUE")]
        claims: Vec<String>,
        /// Scopes its tokens get (repeat, or space-separated; default `scim`).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Also accept its tokens as bearer tokens at the SCIM API (an identity provider
        /// sending its own access tokens).
        #[arg(long)]
        accept_bearer: bool,
        /// Print the trust as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's trusts: name, issuer, key set URL (`discovered` when none),
    /// audiences, subjects, claims, scopes, `bearer` when its tokens open the SCIM API
    /// (tab-separated; `--json`: one object a line).
    List {
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a tenant's trust: its tokens are refused from now on.
    Remove { tenant: String, name: String },
}

/// `scimd trust …`.
pub(super) async fn run(admin: &Admin, cmd: TrustCmd) -> Result<(), String> {
    match cmd {
        TrustCmd::Add { tenant, name, issuer, jwks_uri, audiences, subjects, claims, scopes, accept_bearer, json } => {
            let mut required = BTreeMap::new();
            for c in claims {
                let Some((k, v)) = c.split_once('=') else {
                    return Err(format!("--claim '{c}' must be NAME=VALUE"));
                };
                required.insert(k.trim().to_string(), v.to_string());
            }
            let spec =
                TrustSpec { name, issuer, jwks_uri, audiences, subjects, claims: required, scopes, accept_bearer };
            let t = admin.add_trust(&tenant, spec).await?;
            if json {
                println!("{}", serde_json::to_string(&t).map_err(|e| e.to_string())?);
            } else {
                println!("trust {} of tenant {tenant} added: tokens of {} are accepted", t.name, t.issuer);
            }
            Ok(())
        }
        TrustCmd::List { tenant, json } => {
            for t in admin.list_trusts(&tenant).await? {
                if json {
                    println!("{}", serde_json::to_string(&t).map_err(|e| e.to_string())?);
                } else {
                    let claims: Vec<String> = t.claims.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        t.name,
                        t.issuer,
                        t.jwks_uri.as_deref().unwrap_or("discovered"),
                        t.audiences.join(" "),
                        t.subjects.join(" "),
                        claims.join(" "),
                        t.scopes.join(" "),
                        if t.accept_bearer { "bearer" } else { "-" }
                    );
                }
            }
            Ok(())
        }
        TrustCmd::Remove { tenant, name } => {
            admin.remove_trust(&tenant, &name).await?;
            println!("trust {name} of tenant {tenant} removed");
            Ok(())
        }
    }
}
