//! The SQLite shell's side of export and import: pages are read on a reader in one read
//! transaction; a batch of imported rows is one write of the writer thread, and imported
//! audit events take their ids from the writer's counter (saved in the journal, where they
//! go).

use super::*;
use crate::roles::transfer::{self as sql, ImportShell};
use crate::transfer::{Field, ImportRow, Selection, TransferPage, TransferStore};

impl ImportShell for &Writer {
    fn event_id(&mut self) -> StoreResult<Option<i64>> {
        event_id(self).map(Some)
    }
}

impl TransferStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn export_page<'a>(
        &'a self,
        kind: usize,
        selection: &'a Selection,
        after: Option<Vec<Field>>,
        limit: usize,
    ) -> BoxFut<'a, StoreResult<TransferPage>> {
        let r = match self.kinds().get(kind) {
            Some(k) => self.read(|c| ready(sql::page(&Lite(c), k, selection, after, limit))),
            None => Err(StoreError::Internal(format!("no kind {kind}"))),
        };
        Box::pin(async move { r })
    }

    fn import_rows(&self, kind: usize, rows: Vec<ImportRow>) -> BoxFut<'_, StoreResult<()>> {
        let Some(k) = self.kinds().get(kind) else {
            return Box::pin(async move { Err(StoreError::Internal(format!("no kind {kind}"))) });
        };
        Box::pin(self.write(move |w| {
            let mut shell = w;
            ready(sql::import(&Lite(w), &mut shell, k, &rows))?;
            if w.next_event.get() > 0 {
                save_event_counter(w, EventFile::Journal)?;
            }
            Ok(())
        }))
    }

    fn import_links(&self, kind: usize, rows: Vec<Vec<Field>>) -> BoxFut<'_, StoreResult<()>> {
        let Some(k) = self.kinds().get(kind) else {
            return Box::pin(async move { Err(StoreError::Internal(format!("no kind {kind}"))) });
        };
        Box::pin(self.write(move |w| ready(sql::links(&Lite(w), k, &rows))))
    }
}
