//! The one surface the store's SQL is written against, so that each statement, each row
//! mapping and each decision is written once for both databases.
//!
//! A role's code (`roles/`) is an `async fn` generic over [`Db`]: it runs statements and
//! maps rows through this trait and never names a driver. The two execution shells
//! implement it: SQLite's over a `rusqlite::Connection` (its futures are always ready: the
//! shell runs them to completion with [`ready`] on the thread holding the connection, a
//! reader's or the writer's), PostgreSQL's over a pooled connection or a transaction.
//!
//! SQL is written with `?` parameters in order; PostgreSQL's shell numbers them
//! (`$1`, `$2`, …). Where the two dialects really differ, the role asks [`Db::dialect`].

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub(crate) use crate::sqlfilter::Dialect;
use crate::{StoreError, StoreResult};

/// A value bound to a statement: anything both drivers can bind (integers, text, bytes,
/// booleans, and `Option`s of them).
pub(crate) trait Param: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync {}
impl<T: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync + ?Sized> Param for T {}

/// A list of values bound as one parameter, for a statement that takes a list of any
/// length without a statement per length: PostgreSQL reads it as an array
/// (`unnest(?::bigint[])`, `= ANY(?::text[])`), SQLite as a JSON array (`IN (SELECT value
/// FROM json_each(?))`).
pub(crate) struct List<'a, T>(pub &'a [T]);

impl<T: serde::Serialize> rusqlite::ToSql for List<'_, T> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        let json = serde_json::to_string(self.0).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(rusqlite::types::ToSqlOutput::from(json))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: tokio_postgres::types::ToSql + std::fmt::Debug> tokio_postgres::types::ToSql for List<'_, T> {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        <&[T] as tokio_postgres::types::ToSql>::to_sql(&self.0, ty, out)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <&[T] as tokio_postgres::types::ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A value read from a row by both drivers. PostgreSQL is strict about types: an `i64`
/// reads a `BIGINT`, a `bool` a `BOOLEAN` (SQLite stores it as 0 or 1).
pub(crate) trait Cell: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>> Cell for T {}

/// A result row of either driver.
pub(crate) trait Row {
    /// Column `i` (from 0).
    fn get<T: Cell>(&self, i: usize) -> StoreResult<T>;

    /// Text column `i`, borrowed from the row (no copy).
    fn str(&self, i: usize) -> StoreResult<&str>;
}

/// A connection (or transaction) of either database.
pub(crate) trait Db {
    type Row<'r>: Row;

    fn dialect(&self) -> Dialect;

    /// Runs one statement; the number of rows it changed.
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = StoreResult<u64>>;

    /// Runs one statement and maps each of its rows.
    fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>>;

    /// Runs one statement and maps its first row, if any.
    fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Self::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Option<T>>>;

    /// Runs a statement built for one request (a filter's, a page's with its limits), and
    /// maps each of its rows. PostgreSQL's shell does not keep it prepared: its statement
    /// cache per connection has no bound. SQLite's has one (least recently used), so
    /// there it is [`Db::query`].
    fn query_once<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> {
        self.query(sql, params, map)
    }

    /// Runs a statement built for one request from a filter (its values typed as the
    /// compiler made them), as [`Db::query_once`]. PostgreSQL sends it with its values'
    /// types in one round trip (no statement kept, none prepared first); SQLite keeps it
    /// in its bounded cache as any other.
    fn query_built<T>(
        &self,
        sql: &str,
        values: &[crate::sqlfilter::SqlValue],
        map: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> {
        async move {
            let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
            self.query_once(sql, &params, map).await
        }
    }

    /// Runs a statement built for one request, as [`Db::query_once`]; the number of rows it
    /// changed.
    fn execute_once(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = StoreResult<u64>> {
        self.execute(sql, params)
    }

    /// Runs one statement that must change a row: [`StoreError::NotFound`] if it changed none.
    fn execute_one(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = StoreResult<()>> {
        async move {
            match self.execute(sql, params).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        }
    }
}

/// The output of a future that is ready when first polled, as every future of the
/// SQLite shell is (its statements run synchronously on the calling thread).
pub(crate) fn ready<T>(fut: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(StoreError::Internal("a SQLite statement waited".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_gives_a_ready_output_and_refuses_a_pending_one() {
        assert_eq!(ready(async { Ok(7) }).ok(), Some(7));
        let pending = std::future::pending::<StoreResult<()>>();
        assert!(matches!(ready(pending), Err(StoreError::Internal(_))));
    }
}
