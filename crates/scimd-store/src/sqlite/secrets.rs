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
}
