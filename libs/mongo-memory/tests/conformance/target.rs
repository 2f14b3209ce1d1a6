//! Where the suite runs: a real MongoDB when `PARLOR_TEST_MONGODB_URI` is set
//! (one fresh database per test, dropped afterwards), otherwise a fresh
//! `MongoMemory` per test.

use std::sync::atomic::{AtomicU32, Ordering};

use mongo_memory::MongoMemory;
use mongodb::{Client, Collection, Database, bson::Document};

const REAL_SERVER_ENV: &str = "PARLOR_TEST_MONGODB_URI";

/// One test's server connection and database.
pub struct Target {
    pub client: Client,
    pub db: Database,
    real_uri: Option<String>,
    _server: Option<MongoMemory>,
}

impl Target {
    pub async fn start() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "conformance_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (uri, server) = match std::env::var(REAL_SERVER_ENV) {
            Ok(uri) => (uri, None),
            Err(_) => {
                let server = MongoMemory::start().await.expect("start mongo-memory");
                (server.uri(), Some(server))
            }
        };
        let client = Client::with_uri_str(&uri).await.expect("client");
        let db = client.database(&name);
        Self {
            client,
            db,
            real_uri: server.is_none().then_some(uri),
            _server: server,
        }
    }

    pub fn coll(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// The database-level name, for commands like `renameCollection`.
    pub fn ns(&self, collection: &str) -> String {
        format!("{}.{collection}", self.db.name())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let Some(uri) = self.real_uri.take() else {
            return;
        };
        let name = self.db.name().to_owned();
        // The test's runtime is single-threaded and busy dropping us: clean up
        // the real server's database from a thread with its own runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let client = Client::with_uri_str(&uri).await?;
                client.database(&name).drop().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
        let _ = cleanup.join();
    }
}

/// The server's error code inside a driver error (command or single write error).
pub fn error_code(error: &mongodb::error::Error) -> Option<i32> {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        ErrorKind::InsertMany(many) => many.write_errors.as_ref()?.first().map(|e| e.code),
        _ => None,
    }
}

/// The server's message inside a driver error.
pub fn error_message(error: &mongodb::error::Error) -> String {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Command(command) => command.message.clone(),
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.message.clone(),
        _ => error.to_string(),
    }
}
