//! The PostgreSQL shell's side of federation: for each method of `FederationStore`, where
//! its SQL (`roles::federation`) runs — a pooled connection, a write connection, or a
//! transaction when it is more than one statement.

use super::*;
use crate::roles::federation as sql;
use crate::{ClientKeys, FederationStore, Trust};

impl FederationStore for PgStore {
    fn add_trust(&self, trust: Trust, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::add_trust(&Pg(&*self.write_conn().await?), &trust, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn trusts(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        Box::pin(async move { read!(self, |db| sql::trusts(db, tenant)) })
    }

    fn trusts_of_issuer(&self, tenant: TenantId, issuer: &str) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        let issuer = issuer.to_string();
        Box::pin(async move { read!(self, |db| sql::trusts_of_issuer(db, tenant, &issuer)) })
    }

    fn bearer_trusts(&self) -> BoxFut<'_, StoreResult<Vec<Trust>>> {
        Box::pin(async move { read!(self, |db| sql::bearer_trusts(db)) })
    }

    fn trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<Option<Trust>>> {
        let name = name.to_string();
        Box::pin(async move { read!(self, |db| sql::trust_by_name(db, tenant, &name)) })
    }

    fn remove_trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<()>> {
        let name = name.to_string();
        Box::pin(async move {
            sql::remove_trust(&Pg(&*self.write_conn().await?), tenant, &name).await.map_err(retry::unknown_if_lost)
        })
    }

    fn set_client_keys(&self, client_id: &str, keys: ClientKeys, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            transaction!(self, |tx| {
                sql::set_client_keys(&Pg(&tx), &client_id, &keys, now).await?;
                Ok(())
            })
        })
    }

    fn claim_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (issuer, jti) = (issuer.to_string(), jti.to_string());
        Box::pin(async move {
            sql::claim_jti(&Pg(&*self.write_conn().await?), &issuer, &jti, expires, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}
