//! The projector service's configuration, from environment variables.

/// Where the projector service finds its dependencies.
#[derive(Clone, Debug)]
pub struct Config {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `MONGODB_URI`, default `mongodb://127.0.0.1:27017`.
    pub mongodb_uri: String,
    /// `MONGODB_DATABASE`, default `parlor` (DESIGN §3).
    pub mongodb_database: String,
}

impl Config {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Self {
            nats_url: var("NATS_URL", "nats://127.0.0.1:4222"),
            mongodb_uri: var("MONGODB_URI", "mongodb://127.0.0.1:27017"),
            mongodb_database: var("MONGODB_DATABASE", "parlor"),
        }
    }
}
