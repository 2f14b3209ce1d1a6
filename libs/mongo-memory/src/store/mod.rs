//! The data: databases → collections → documents, all in memory. Commands
//! hold the catalog's lock for their whole run, which makes each one atomic.

mod collection;
mod index_key;

use std::collections::BTreeMap;

use bson::Document;

pub use collection::{Collection, ID_INDEX, Index};

use crate::error::{CommandError, code};

/// Every database the server holds.
#[derive(Debug, Default)]
pub struct Catalog {
    databases: BTreeMap<String, Database>,
}

/// A database is its collections; it exists while it has one.
#[derive(Debug, Default)]
pub struct Database {
    pub collections: BTreeMap<String, Collection>,
}

impl Catalog {
    pub fn databases(&self) -> impl Iterator<Item = (&String, &Database)> {
        self.databases.iter()
    }

    pub fn database(&self, db: &str) -> Option<&Database> {
        self.databases.get(db)
    }

    pub fn collection(&self, db: &str, name: &str) -> Option<&Collection> {
        self.databases.get(db)?.collections.get(name)
    }

    pub fn collection_mut(&mut self, db: &str, name: &str) -> Option<&mut Collection> {
        self.databases.get_mut(db)?.collections.get_mut(name)
    }

    /// The collection, created implicitly (as a write does) when missing.
    pub fn collection_or_create(
        &mut self,
        db: &str,
        name: &str,
    ) -> Result<&mut Collection, CommandError> {
        validate_database_name(db)?;
        validate_collection_name(name)?;
        let database = self.databases.entry(db.to_owned()).or_default();
        Ok(database
            .collections
            .entry(name.to_owned())
            .or_insert_with(|| Collection::new(format!("{db}.{name}"), Document::new())))
    }

    /// Creates a collection explicitly; fails when it exists.
    pub fn create(&mut self, db: &str, name: &str, options: Document) -> Result<(), CommandError> {
        validate_database_name(db)?;
        validate_collection_name(name)?;
        let database = self.databases.entry(db.to_owned()).or_default();
        if database.collections.contains_key(name) {
            return Err(CommandError::new(
                code::NAMESPACE_EXISTS,
                format!("Collection {db}.{name} already exists."),
            ));
        }
        database.collections.insert(
            name.to_owned(),
            Collection::new(format!("{db}.{name}"), options),
        );
        Ok(())
    }

    /// Drops a collection, returning it; an emptied database disappears.
    pub fn drop_collection(&mut self, db: &str, name: &str) -> Option<Collection> {
        let database = self.databases.get_mut(db)?;
        let dropped = database.collections.remove(name);
        if database.collections.is_empty() {
            self.databases.remove(db);
        }
        dropped
    }

    pub fn drop_database(&mut self, db: &str) -> bool {
        self.databases.remove(db).is_some()
    }

    /// Moves `from` to `to` in one step (both are `(db, collection)`).
    pub fn rename(
        &mut self,
        from: (&str, &str),
        to: (&str, &str),
        drop_target: bool,
    ) -> Result<(), CommandError> {
        validate_database_name(to.0)?;
        validate_collection_name(to.1)?;
        if self.collection(from.0, from.1).is_none() {
            return Err(CommandError::new(
                code::NAMESPACE_NOT_FOUND,
                "source namespace does not exist",
            ));
        }
        if from == to {
            return Err(CommandError::new(
                code::ILLEGAL_OPERATION,
                "Can't rename a collection to itself",
            ));
        }
        if self.collection(to.0, to.1).is_some() {
            if !drop_target {
                return Err(CommandError::new(
                    code::NAMESPACE_EXISTS,
                    "target namespace exists",
                ));
            }
            self.drop_collection(to.0, to.1);
        }
        let Some(mut moved) = self.drop_collection(from.0, from.1) else {
            return Err(CommandError::new(
                code::NAMESPACE_NOT_FOUND,
                "source namespace does not exist",
            ));
        };
        moved.namespace = format!("{}.{}", to.0, to.1);
        self.databases
            .entry(to.0.to_owned())
            .or_default()
            .collections
            .insert(to.1.to_owned(), moved);
        Ok(())
    }
}

pub fn validate_database_name(db: &str) -> Result<(), CommandError> {
    let bad = db.is_empty() || db.len() > 63 || db.contains(['/', '\\', '.', ' ', '"', '$', '\0']);
    if bad {
        return Err(CommandError::new(
            code::INVALID_NAMESPACE,
            format!("Invalid database name: '{db}'"),
        ));
    }
    Ok(())
}

pub fn validate_collection_name(name: &str) -> Result<(), CommandError> {
    let bad = name.is_empty()
        || name.contains(['$', '\0'])
        || name.starts_with('.')
        || name.starts_with("system.");
    if bad {
        return Err(CommandError::new(
            code::INVALID_NAMESPACE,
            format!("Invalid collection name: '{name}'"),
        ));
    }
    Ok(())
}
