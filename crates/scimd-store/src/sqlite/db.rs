//! The SQLite shell's [`Db`]: each statement runs on the connection the shell holds (a
//! pooled reader's, or the writer thread's inside a write's savepoint), synchronously, so
//! every future it gives is ready at once (the shell takes its output with
//! [`crate::db::ready`]). Statements are prepared once per connection (`prepare_cached`).

use std::future::Future;

use rusqlite::Connection;

use super::{internal, map_err};
use crate::StoreResult;
use crate::db::{Cell, Db, Dialect, Param, Row};

/// A connection of the SQLite store, seen as a [`Db`].
pub(crate) struct Lite<'c>(pub &'c Connection);

fn bound<'p>(params: &'p [&'p dyn Param]) -> impl Iterator<Item = &'p dyn rusqlite::ToSql> {
    params.iter().map(|p| *p as &dyn rusqlite::ToSql)
}

impl Row for rusqlite::Row<'_> {
    fn get<T: Cell>(&self, i: usize) -> StoreResult<T> {
        rusqlite::Row::get(self, i).map_err(internal)
    }

    fn str(&self, i: usize) -> StoreResult<&str> {
        self.get_ref(i).map_err(internal)?.as_str().map_err(internal)
    }
}

impl Db for Lite<'_> {
    type Row<'r> = rusqlite::Row<'r>;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = StoreResult<u64>> {
        let r = self.0.prepare_cached(sql).and_then(|mut st| st.execute(rusqlite::params_from_iter(bound(params))));
        std::future::ready(r.map(|n| n as u64).map_err(map_err))
    }

    fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> {
        let mut run = || {
            let mut st = self.0.prepare_cached(sql).map_err(map_err)?;
            let mut rows = st.query(rusqlite::params_from_iter(bound(params))).map_err(map_err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(map_err)? {
                out.push(map(row)?);
            }
            Ok(out)
        };
        std::future::ready(run())
    }

    fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&rusqlite::Row<'_>) -> StoreResult<T>,
    ) -> impl Future<Output = StoreResult<Option<T>>> {
        let run = || {
            let mut st = self.0.prepare_cached(sql).map_err(map_err)?;
            let mut rows = st.query(rusqlite::params_from_iter(bound(params))).map_err(map_err)?;
            rows.next().map_err(map_err)?.map(map).transpose()
        };
        std::future::ready(run())
    }
}
