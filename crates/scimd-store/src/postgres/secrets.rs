//! On PostgreSQL: the deployment's secrets (`server_secrets`), as opaque bytes, the same
//! for every replica: the first to store one wins, the others read it.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::{StoreError, StoreResult, normalized_time};

impl PgStore {
    /// The secret of that name, storing `fresh` first if there is none.
    pub(super) async fn server_secret_now(
        &self,
        name: &str,
        fresh: Vec<u8>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<u8>> {
        let now = normalized_time(now);
        self.exec(
            "INSERT INTO server_secrets (name, value, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            &[&name, &fresh, &now],
        )
        .await?;
        let row = self.query_opt("SELECT value FROM server_secrets WHERE name = $1", &[&name]).await?;
        row.map(|r| r.get(0)).ok_or_else(|| StoreError::Internal(format!("the server secret '{name}' vanished")))
    }

    pub(super) async fn server_secret_values_now(&self) -> StoreResult<Vec<crate::NamedSecret>> {
        let rows = self.query("SELECT name, value FROM server_secrets ORDER BY name", &[]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub(super) async fn replace_server_secret_now(&self, name: &str, old: Vec<u8>, new: Vec<u8>) -> StoreResult<bool> {
        let n = self
            .exec("UPDATE server_secrets SET value = $1 WHERE name = $2 AND value = $3", &[&new, &name, &old])
            .await?;
        Ok(n == 1)
    }
}
