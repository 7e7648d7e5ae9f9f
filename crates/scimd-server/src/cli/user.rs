//! `scimd user import`: a tenant's existing users, with their ids, from CSV or JSON Lines;
//! all or nothing, refused rows printed with their line and reason.

use clap::Subcommand;

use crate::admin::Admin;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Import users that exist in the product already, keeping their ids, whatever the
    /// tenant's profile lets its identity provider do (each user is checked against the
    /// tenant's schemas and rules as a POST would be). All or nothing: a refused row is
    /// printed with its line and the reason, and nothing is imported. An id the tenant
    /// has already is refused (an import creates, it does not update). Passwords are
    /// stored hashed. Each user created has an audit event (operation `import`).
    Import {
        /// The tenant the users are imported into.
        #[arg(long)]
        tenant: String,
        /// A CSV file with a header row (columns `id`, `password`, SCIM attribute paths
        /// such as `name.givenName` or `emails[type eq "work"].value`, or the short names
        /// userName, givenName, familyName, email, active, externalId), or JSON Lines
        /// (`.jsonl`) of SCIM users with their `id`.
        file: std::path::PathBuf,
        /// `csv` or `jsonl`; by default from the file's extension (`.csv`; `.jsonl`,
        /// `.ndjson`, `.json`).
        #[arg(long)]
        format: Option<String>,
        /// Check every row and print what would be refused; import nothing.
        #[arg(long)]
        check: bool,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `scimd user …`.
pub(super) async fn run(admin: &Admin, cmd: UserCmd) -> Result<(), String> {
    match cmd {
        UserCmd::Import { tenant, file, format, check, json } => {
            import_users(admin, &tenant, &file, format.as_deref(), check, json).await
        }
    }
}

/// `scimd user import`: reads the file, imports it, prints the report.
async fn import_users(
    admin: &crate::admin::Admin,
    tenant: &str,
    file: &std::path::Path,
    format: Option<&str>,
    check: bool,
    json: bool,
) -> Result<(), String> {
    use crate::admin::ImportFormat;
    let format = match format {
        Some(f) => ImportFormat::parse(f).ok_or_else(|| format!("unknown format '{f}': use csv or jsonl"))?,
        None => file
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ImportFormat::parse)
            .ok_or_else(|| format!("{}: say --format csv or --format jsonl", file.display()))?,
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let (_, r) = admin.import_users(tenant, format, &text, check, crate::admin::ImportOrigin::CommandLine).await?;
    if json {
        println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
    } else {
        for e in &r.errors {
            let id = e.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
            eprintln!("{}: line {}{id}: {}", file.display(), e.line, e.reason);
        }
        if r.more_errors > 0 {
            eprintln!("{}: {} more rows refused", file.display(), r.more_errors);
        }
    }
    if r.refused() > 0 {
        return Err(format!("{} of {} users refused: nothing was imported", r.refused(), r.rows));
    }
    if !json {
        match check {
            true => println!("{} users of {} can be imported into tenant {tenant}", r.rows, file.display()),
            false => println!("imported {} users into tenant {tenant}", r.imported),
        }
    }
    Ok(())
}
