//! `parlor up`: the whole stack on one machine, stopped cleanly by Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::nats_child::NatsChild;

/// `parlor up`'s configuration, from the environment (see the README).
pub struct UpConfig {
    /// `PARLOR_DATA_DIR`, default `.parlor`.
    data_dir: PathBuf,
    /// `PARLOR_HTTP_ADDR`, default `127.0.0.1:8080`.
    http_addr: String,
    /// `NATS_URL`: use that server instead of starting one.
    nats_url: Option<String>,
    /// `PARLOR_NATS_PORT`, default 4222: where the child nats-server listens.
    nats_port: String,
}

impl UpConfig {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            data_dir: var("PARLOR_DATA_DIR")
                .unwrap_or_else(|| ".parlor".to_owned())
                .into(),
            http_addr: var("PARLOR_HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            nats_url: var("NATS_URL"),
            nats_port: var("PARLOR_NATS_PORT").unwrap_or_else(|| "4222".to_owned()),
        }
    }
}

pub async fn run(config: UpConfig) -> anyhow::Result<()> {
    let http_addr: SocketAddr = config.http_addr.parse().with_context(|| {
        format!(
            "PARLOR_HTTP_ADDR `{}` is not an address like 127.0.0.1:8080",
            config.http_addr
        )
    })?;
    let (nats, nats_url) = match config.nats_url {
        Some(url) => (None, url),
        None => {
            let port = config.nats_port.parse().with_context(|| {
                format!(
                    "PARLOR_NATS_PORT `{}` is not a port number",
                    config.nats_port
                )
            })?;
            let child = NatsChild::start(&config.data_dir.join("nats"), port).await?;
            let url = child.url();
            (Some(child), url)
        }
    };
    let result = run_services(http_addr, &nats_url).await;
    if let Some(nats) = nats {
        nats.stop().await;
    }
    result
}

async fn run_services(http_addr: SocketAddr, nats_url: &str) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let gateway = gateway::Application::build(gateway::Config {
        http_addr,
        nats_url: nats_url.to_owned(),
    })
    .await?;
    let gateway_addr = gateway.addr();

    let url = nats_url.to_owned();
    let mut services = JoinSet::new();
    let shutdown = until(&stopped);
    services.spawn(named("gateway", async move {
        Ok(gateway.run_until_stopped(shutdown).await?)
    }));
    let mut config = session::Config::from_env();
    config.nats_url = url.clone();
    let shutdown = until(&stopped);
    services.spawn(named("session", async move {
        Ok(session::run(config, shutdown).await?)
    }));
    let mut config = ledger::Config::from_env();
    config.nats_url = url.clone();
    let shutdown = until(&stopped);
    services.spawn(named("ledger", async move {
        Ok(ledger::run(config, shutdown).await?)
    }));
    let mut config = projector::Config::from_env();
    config.nats_url = url;
    let shutdown = until(&stopped);
    services.spawn(named("projector", async move {
        Ok(projector::run(config, shutdown).await?)
    }));

    announce(gateway_addr, nats_url);

    let mut first_error = None;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
        Some(done) = services.join_next() => first_error = exit_error(done),
    }
    let _ = stop.send(true);
    while let Some(done) = services.join_next().await {
        if first_error.is_none() {
            first_error = exit_error(done);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Completes once `stop` has been sent (or its sender dropped).
fn until(stopped: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move {
        // An error means the sender is gone: stop as well.
        let _ = stopped.wait_for(|s| *s).await;
    }
}

type ServiceResult = (&'static str, anyhow::Result<()>);

async fn named(
    name: &'static str,
    service: impl Future<Output = anyhow::Result<()>>,
) -> ServiceResult {
    (name, service.await)
}

fn exit_error(done: Result<ServiceResult, tokio::task::JoinError>) -> Option<anyhow::Error> {
    match done {
        Ok((_, Ok(()))) => None,
        Ok((name, Err(e))) => Some(e.context(format!("the {name} service stopped"))),
        Err(e) => Some(anyhow::Error::new(e).context("a service panicked")),
    }
}

#[allow(clippy::print_stdout)]
fn announce(gateway: SocketAddr, nats_url: &str) {
    println!("gateway: http://{gateway}");
    println!("nats:    {nats_url}");
    println!("parlor is ready (Ctrl-C stops it)");
}
