//! On SQLite: the deployment's secrets (`server_secrets`), as opaque bytes.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{SqliteStore, internal};
use crate::{StoreResult, normalized_time};

impl SqliteStore {
    /// The secret of that name, storing `fresh` first if there is none.
    pub(super) fn server_secret_now(
        &self,
        name: &str,
        fresh: Vec<u8>,
        now: DateTime<Utc>,
    ) -> impl std::future::Future<Output = StoreResult<Vec<u8>>> + Send + 'static {
        let (name, now) = (name.to_string(), normalized_time(now));
        self.write(move |w| {
            w.prepare_cached(
                "INSERT INTO server_secrets (name, value, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![name, fresh, now]))
            .map_err(internal)?;
            w.prepare_cached("SELECT value FROM server_secrets WHERE name = ?")
                .and_then(|mut st| st.query_row([&name], |r| r.get(0)))
                .map_err(internal)
        })
    }

    pub(super) fn server_secret_values_now(&self) -> StoreResult<Vec<crate::NamedSecret>> {
        self.read_one(|conn| {
            let mut st =
                conn.prepare_cached("SELECT name, value FROM server_secrets ORDER BY name").map_err(internal)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(internal)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(internal)
        })
    }

    pub(super) fn replace_server_secret_now(
        &self,
        name: &str,
        old: Vec<u8>,
        new: Vec<u8>,
    ) -> impl std::future::Future<Output = StoreResult<bool>> + Send + 'static {
        let name = name.to_string();
        self.write(move |w| {
            // The old bytes are overwritten in the file, not left in a free page.
            w.execute_batch("PRAGMA secure_delete = ON").map_err(internal)?;
            let n =
                w.execute("UPDATE server_secrets SET value = ? WHERE name = ? AND value = ?", params![new, name, old]);
            w.execute_batch("PRAGMA secure_delete = OFF").map_err(internal)?;
            Ok(n.map_err(internal)? == 1)
        })
    }
}
