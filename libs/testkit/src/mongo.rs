//! A MongoDB for one test: mongo-memory on a free port, or the real server
//! named by `PARLOR_TEST_MONGODB_URI`, with a database of the test's own.

use std::sync::atomic::{AtomicU32, Ordering};

use mongo_memory::MongoMemory;

/// Set to a real server's URI to run the suites against real MongoDB.
pub const REAL_SERVER_ENV: &str = "PARLOR_TEST_MONGODB_URI";

/// A MongoDB and a database name no other test uses.
pub struct TestMongo {
    uri: String,
    database: String,
    server: Option<MongoMemory>,
}

impl TestMongo {
    /// Starts mongo-memory, unless `PARLOR_TEST_MONGODB_URI` names a server.
    /// `prefix` names the database (`<prefix>_<pid>_<n>`), so a real
    /// server's leftovers say which suite made them.
    pub async fn start(prefix: &str) -> Result<Self, mongo_memory::StartError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        match std::env::var(REAL_SERVER_ENV) {
            Ok(uri) if !uri.is_empty() => Ok(Self {
                uri,
                database,
                server: None,
            }),
            _ => {
                let server = MongoMemory::start().await?;
                Ok(Self {
                    uri: server.uri(),
                    database,
                    server: Some(server),
                })
            }
        }
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// True against a real server, where the test should drop its database.
    pub fn is_real(&self) -> bool {
        self.server.is_none()
    }
}
