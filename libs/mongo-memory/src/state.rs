//! What every connection shares: the catalog and the open cursors.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::cursors::Cursors;
use crate::store::Catalog;

/// Shared server state. Commands run synchronously under the catalog lock,
/// never across an await, so a reader never sees half of a write.
#[derive(Debug, Default)]
pub struct State {
    catalog: RwLock<Catalog>,
    cursors: Cursors,
}

impl State {
    // A poisoned lock means a command panicked mid-way; the data is still
    // structurally sound (each write is applied in one step), so keep serving.
    pub fn read(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Catalog> {
        self.catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn cursors(&self) -> &Cursors {
        &self.cursors
    }
}
