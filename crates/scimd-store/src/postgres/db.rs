//! The PostgreSQL shell's [`Db`]: each statement runs on a pooled connection or inside a
//! transaction (anything `GenericClient`), prepared once per connection, its `?`
//! parameters numbered (`$1`, `$2`, …) as PostgreSQL writes them.

use deadpool_postgres::GenericClient;
use std::future::Future;

use tokio_postgres::types::{ToSql, Type};

use super::pg;
use crate::db::{Cell, Db, Dialect, Param, Row};
use crate::sqlfilter::{SqlValue, numbered};
use crate::{StoreError, StoreResult};

/// A pooled connection or transaction of the PostgreSQL store, seen as a [`Db`].
pub(crate) struct Pg<'c, C>(pub &'c C);

fn bound<'p>(params: &'p [&'p dyn Param]) -> Vec<&'p (dyn ToSql + Sync)> {
    params.iter().map(|p| *p as &(dyn ToSql + Sync)).collect()
}

impl Row for tokio_postgres::Row {
    fn get<T: Cell>(&self, i: usize) -> StoreResult<T> {
        self.try_get(i).map_err(|e| StoreError::Internal(format!("column {i}: {e}")))
    }

    fn str(&self, i: usize) -> StoreResult<&str> {
        self.try_get(i).map_err(|e| StoreError::Internal(format!("column {i}: {e}")))
    }
}

/// What runs a statement with its parameters' types given: one round trip, nothing kept
/// prepared (deadpool's `GenericClient` does not offer it; the driver's client and
/// transaction do).
pub(crate) trait Typed {
    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>> + Send;
}

/// `Typed` for what derefs to the driver's client or transaction.
macro_rules! typed {
    ($($ty:ty => $driver:path),*) => {$(
        impl Typed for $ty {
            fn query_typed(
                &self,
                sql: &str,
                params: &[(&(dyn ToSql + Sync), Type)],
            ) -> impl Future<Output = Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>> + Send {
                <$driver>::query_typed(self, sql, params)
            }
        }
    )*};
}
typed!(
    deadpool_postgres::ClientWrapper => tokio_postgres::Client,
    deadpool_postgres::Client => tokio_postgres::Client,
    deadpool_postgres::Transaction<'_> => tokio_postgres::Transaction
);

impl<C: GenericClient + Typed + Sync> Db for Pg<'_, C> {
    type Row<'r> = tokio_postgres::Row;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&self, sql: &str, params: &[&dyn Param]) -> StoreResult<u64> {
        let st = self.0.prepare_cached(&numbered(sql)).await.map_err(pg)?;
        self.0.execute(&st, &bound(params)).await.map_err(pg)
    }

    async fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&tokio_postgres::Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let st = self.0.prepare_cached(&numbered(sql)).await.map_err(pg)?;
        self.0.query(&st, &bound(params)).await.map_err(pg)?.iter().map(map).collect()
    }

    async fn query_once<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&tokio_postgres::Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.0.query(numbered(sql).as_str(), &bound(params)).await.map_err(pg)?.iter().map(map).collect()
    }

    async fn query_built<T>(
        &self,
        sql: &str,
        values: &[SqlValue],
        map: impl FnMut(&tokio_postgres::Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = values
            .iter()
            .map(|v| {
                let ty = match v {
                    SqlValue::Integer(_) => Type::INT8,
                    SqlValue::Real(_) => Type::FLOAT8,
                    SqlValue::Text(_) => Type::TEXT,
                };
                (v as &(dyn ToSql + Sync), ty)
            })
            .collect();
        self.0.query_typed(numbered(sql).as_str(), &typed).await.map_err(pg)?.iter().map(map).collect()
    }

    async fn execute_once(&self, sql: &str, params: &[&dyn Param]) -> StoreResult<u64> {
        self.0.execute(numbered(sql).as_str(), &bound(params)).await.map_err(pg)
    }

    async fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&tokio_postgres::Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let st = self.0.prepare_cached(&numbered(sql)).await.map_err(pg)?;
        self.0.query_opt(&st, &bound(params)).await.map_err(pg)?.as_ref().map(map).transpose()
    }
}
