//! `scimd export` and `scimd import` (a deployment's data, or some tenants', moved between
//! databases: see `transfer`), `scimd backup` and `scimd restore` (copies of a SQLite
//! deployment's files; PostgreSQL's are `pg_dump`'s and `pg_restore`'s).

use std::path::PathBuf;

use clap::Args;
use scimd_store::sqlite::backup;

use super::database::Database;
use crate::config::{Config, is_postgres, redacted_url, sqlite_path};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export this tenant only (repeat for several): its users and groups, memberships,
    /// credentials, places, event streams, audit trail. Without it, everything: every
    /// tenant and the deployment's own keys, operators and operator tokens.
    #[arg(long = "tenant", value_name = "NAME")]
    pub tenants: Vec<String>,
    /// Where to write the export (created owner-only; an existing file is refused), or
    /// `-` for standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
    pub output: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An export file (`scimd export`). A whole export goes into an empty database; a
    /// tenant's into a database without that tenant. The file is checked whole before
    /// anything is written, and the database read back against it afterwards.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy of the database (and `PATH-audit`, the audit journal's);
    /// neither may exist. SQLite only: for PostgreSQL use `pg_dump`.
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup made by `scimd backup` (`PATH` and `PATH-audit`). The server must be
    /// stopped; the current files are moved to `<database>.before-restore-<time>/`.
    /// SQLite only: for PostgreSQL use `pg_restore`.
    pub path: PathBuf,
}

/// A store error as an operator reads it (the files' problems are not "internal").
fn plain(e: scimd_store::StoreError) -> String {
    match e {
        scimd_store::StoreError::Internal(m) => m,
        e => e.to_string(),
    }
}

/// The database's SQLite path, or why this command does not apply.
fn sqlite_only(cfg: &Config, what: &str, instead: &str) -> Result<String, String> {
    let url = &cfg.database.url;
    if is_postgres(url) {
        return Err(format!(
            "scimd {what} copies SQLite files; {} is PostgreSQL: {instead} (see the book's Backups chapter)",
            redacted_url(url)
        ));
    }
    sqlite_path(url)
}

/// `scimd export`.
pub(super) async fn export(cfg: &Config, args: ExportArgs) -> Result<(), String> {
    let db = Database::open(cfg).await?;
    let summary = match args.output.as_str() {
        "-" => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            crate::transfer::export(&*db.store, &db.keyring, &*db.clock, &args.tenants, &mut out).await?
        }
        path => {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let f = opts.open(path).map_err(|e| format!("cannot create {path}: {e}"))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            let r = crate::transfer::export(&*db.store, &db.keyring, &*db.clock, &args.tenants, &mut out).await;
            if r.is_err() {
                drop(out);
                let _ = std::fs::remove_file(path);
            }
            r?
        }
    };
    eprintln!(
        "exported {} rows of {} tenant(s) from {} ({})",
        summary.rows(),
        summary.header.tenants.len(),
        summary.header.source,
        if args.output == "-" { "standard output" } else { &args.output }
    );
    Ok(())
}

/// `scimd import`.
pub(super) async fn import(cfg: &Config, args: ImportArgs) -> Result<(), String> {
    // A SQLite target is written by this process alone: a server's writer would hand out
    // the same audit event ids as the import's.
    let _held = match is_postgres(&cfg.database.url) {
        true => None,
        false => Some(backup::Exclusive::take(&sqlite_path(&cfg.database.url)?).map_err(plain)?),
    };
    let db = Database::open(cfg).await?;
    let s = crate::transfer::import(db.store.clone(), &db.keyring, db.clock.clone(), &args.file).await?;
    db.store.close();
    println!(
        "imported {} rows of {} tenant(s) from {} (exported from {} on {}); counts and digests verified",
        s.rows(),
        s.header.tenants.len(),
        args.file.display(),
        s.header.source,
        s.header.created
    );
    Ok(())
}

/// `scimd backup`.
pub(super) fn backup(cfg: &Config, args: BackupArgs) -> Result<(), String> {
    let path = sqlite_only(
        cfg,
        "backup",
        &format!("pg_dump -Fc --no-owner -d '{}' -f {}", redacted_url(&cfg.database.url), args.path.display()),
    )?;
    let r = backup::backup(&path, &args.path).map_err(plain)?;
    for (file, size) in [&r.database, &r.journal] {
        println!("{}\t{size} bytes", file.display());
    }
    Ok(())
}

/// `scimd restore`.
pub(super) fn restore(cfg: &Config, args: RestoreArgs) -> Result<(), String> {
    let path = sqlite_only(
        cfg,
        "restore",
        &format!(
            "createdb, then pg_restore --no-owner --single-transaction -d '{}' {}, then scimd migrate",
            redacted_url(&cfg.database.url),
            args.path.display()
        ),
    )?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let r = backup::restore(&path, &args.path, &stamp).map_err(plain)?;
    if let Some(dir) = r.moved_aside {
        println!("the files replaced are in {}", dir.display());
    }
    println!("restored {} from {}; integrity checked, schema current", path, args.path.display());
    Ok(())
}
