//! `parlor serve <service>`: one service alone, configured by the same
//! environment variables as its own binary (see the README), until Ctrl-C
//! or SIGTERM. One binary holding every service is what a single-image
//! deployment and the fault tests (which kill copies with SIGKILL) run.

use clap::{Args, ValueEnum};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The service to run.
    service: Service,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Service {
    Gateway,
    Session,
    Ledger,
    Projector,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = stopped();
    match args.service {
        Service::Gateway => {
            let app = gateway::Application::build(gateway::Config::from_env()?).await?;
            app.run_until_stopped(shutdown).await?;
        }
        Service::Session => session::run(session::Config::from_env()?, shutdown).await?,
        Service::Ledger => ledger::run(ledger::Config::from_env()?, shutdown).await?,
        Service::Projector => projector::run(projector::Config::from_env(), shutdown).await?,
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what an orchestrator sends to stop).
async fn stopped() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            // If the signal cannot be watched, stopping by kill still works.
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
