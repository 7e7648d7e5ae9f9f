//! The SQLite shell's side of federation: for each method of `FederationStore`, where its
//! SQL (`roles::federation`) runs — a reader, or the writer thread (one closure: one
//! transaction).

use super::*;
use crate::roles::federation as sql;
use crate::{ClientKeys, FederationStore, Trust};

impl FederationStore for SqliteStore {
    fn add_trust(&self, trust: Trust, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(sql::add_trust(&Lite(w), &trust, now))))
    }

    fn trusts(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        let r = self.read_one(|c| ready(sql::trusts(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn trusts_of_issuer(&self, tenant: TenantId, issuer: &str) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        let r = self.read_one(|c| ready(sql::trusts_of_issuer(&Lite(c), tenant, issuer)));
        Box::pin(async move { r })
    }

    fn bearer_trusts(&self) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        let r = self.read_one(|c| ready(sql::bearer_trusts(&Lite(c))));
        Box::pin(async move { r })
    }

    fn trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<Option<Trust>>> {
        let r = self.read_one(|c| ready(sql::trust_by_name(&Lite(c), tenant, name)));
        Box::pin(async move { r })
    }

    fn remove_trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<()>> {
        let name = name.to_string();
        Box::pin(self.write(move |w| ready(sql::remove_trust(&Lite(w), tenant, &name))))
    }

    fn set_client_keys(&self, client_id: &str, keys: ClientKeys, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(self.write(move |w| ready(sql::set_client_keys(&Lite(w), &client_id, &keys, now))))
    }

    fn claim_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (issuer, jti) = (issuer.to_string(), jti.to_string());
        Box::pin(self.write(move |w| ready(sql::claim_jti(&Lite(w), &issuer, &jti, expires, now))))
    }
}
