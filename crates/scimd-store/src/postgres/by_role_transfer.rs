//! The PostgreSQL shell's side of export and import: a page is one statement on a pooled
//! connection; a batch of imported rows is one transaction (run again, as every write
//! transaction, when PostgreSQL breaks it off), whose attribute-key ids are published once
//! it committed (audit events take their ids from the table's identity).

use super::*;
use crate::roles::transfer::{self as sql, ImportShell};
use crate::transfer::{Field, ImportRow, Selection, TransferPage, TransferStore};

impl ImportShell for Unit<'_, '_> {
    fn event_id(&mut self) -> StoreResult<Option<i64>> {
        Ok(None)
    }
}

impl TransferStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn export_page<'a>(
        &'a self,
        kind: usize,
        selection: &'a Selection,
        after: Option<Vec<Field>>,
        limit: usize,
    ) -> BoxFut<'a, StoreResult<TransferPage>> {
        Box::pin(async move {
            let k = self.kinds().get(kind).ok_or_else(|| StoreError::Internal(format!("no kind {kind}")))?;
            read!(self, |db| sql::page(db, k, selection, after.clone(), limit))
        })
    }

    fn import_rows(&self, kind: usize, rows: Vec<ImportRow>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            let k = self.kinds().get(kind).ok_or_else(|| StoreError::Internal(format!("no kind {kind}")))?;
            let pending = transaction!(self, |tx| {
                let mut unit = Unit::new(self, &tx);
                sql::import(&Pg(&tx), &mut unit, k, &rows).await?;
                Ok(unit.pending)
            })?;
            self.publish_keys(pending);
            Ok(())
        })
    }

    fn import_links(&self, kind: usize, rows: Vec<Vec<Field>>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            let k = self.kinds().get(kind).ok_or_else(|| StoreError::Internal(format!("no kind {kind}")))?;
            transaction!(self, |tx| { sql::links(&Pg(&tx), k, &rows).await })
        })
    }
}
