//! `mongo-memory --port N`: serves an in-memory MongoDB on loopback until Ctrl-C.

use std::net::SocketAddr;

use clap::Parser;
use mongo_memory::MongoMemory;

/// An in-memory MongoDB wire-protocol server for tests and local runs.
#[derive(Debug, Parser)]
#[command(name = "mongo-memory", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 27017, env = "MONGO_MEMORY_PORT")]
    port: u16,
    /// Address to bind; loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let server = MongoMemory::start_on(SocketAddr::new(args.host, args.port)).await?;
    announce(&server.uri());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}

/// The one line a supervisor waits for.
#[allow(clippy::print_stdout)]
fn announce(uri: &str) {
    println!("mongo-memory ready on {uri}");
}
