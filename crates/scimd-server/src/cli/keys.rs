//! `scimd signing-key list|rotate|retire` (the keys that sign access tokens) and `scimd
//! master-key generate|reseal` (the key that seals them in the database).

use clap::Subcommand;

use super::database::Database;
use crate::admin::Admin;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SigningKeyCmd {
    /// List the active keys: kid, created (newest first; the first one signs).
    List,
    /// Add a key that signs from now on (running servers pick it up within 30 s); the
    /// old keys keep verifying until retired.
    Rotate,
    /// Retire a key: tokens it signed stop being accepted.
    Retire { kid: String },
}

#[derive(Debug, Subcommand)]
pub enum MasterKeyCmd {
    /// Print a new random master key (base64), to be saved in the file that
    /// `--master-key-file` names.
    Generate,
    /// Seal every secret of the database under the current master key: those in clear
    /// and those sealed under `--previous-master-key-file` (`serve` does it too, at start).
    Reseal,
}

/// `scimd signing-key …`.
pub(super) async fn signing_key(admin: &Admin, cmd: SigningKeyCmd) -> Result<(), String> {
    match cmd {
        SigningKeyCmd::List => {
            for k in admin.signing_keys().await? {
                println!("{}\t{}", k.kid, k.created);
            }
            Ok(())
        }
        SigningKeyCmd::Rotate => {
            let k = admin.rotate_signing_key().await?;
            println!("signing key {} signs from now on", k.kid);
            Ok(())
        }
        SigningKeyCmd::Retire { kid } => {
            admin.retire_signing_key(&kid).await?;
            println!("signing key {kid} retired");
            Ok(())
        }
    }
}

/// `master-key generate` needs no database; `reseal` opens it.
pub(super) async fn master_key(cmd: MasterKeyCmd, cfg: &Config) -> Result<(), String> {
    match cmd {
        MasterKeyCmd::Generate => {
            println!("{}", crate::seal::MasterKey::generate_text());
            Ok(())
        }
        MasterKeyCmd::Reseal => {
            let Database { store, keyring, .. } = Database::open(cfg).await?;
            if !keyring.is_configured() {
                return Err("no master key to seal with: give --master-key-file (secrets.master_key_file)".into());
            }
            let r = crate::seal::reseal_all(&*store, &keyring).await?;
            println!(
                "sealed under master key {}: {} secret(s) that were in clear, {} that were under a previous key",
                keyring.current_id().unwrap_or_default(),
                r.sealed,
                r.rekeyed
            );
            Ok(())
        }
    }
}
