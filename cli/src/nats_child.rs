//! nats-server as a child process of `parlor up`, its store in the data
//! directory so the log survives restarts of the stack.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

const START_DEADLINE: Duration = Duration::from_secs(20);
const STOP_DEADLINE: Duration = Duration::from_secs(10);

pub struct NatsChild {
    child: Child,
    port: u16,
}

impl NatsChild {
    /// Starts `nats-server -js` on 127.0.0.1:`port` with its store and log
    /// under `dir`, and waits until it accepts connections.
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let log_path = dir.join("nats-server.log");
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            bail!(
                "port {port} is already in use; stop what runs there, or set NATS_URL to use that server, or PARLOR_NATS_PORT for another port"
            );
        }
        let mut child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.join("jetstream"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => anyhow::anyhow!(
                    "nats-server is not on PATH; install it with `sudo apt-get install -y nats-server` (./dev up does)"
                ),
                _ => anyhow::Error::new(e).context("starting nats-server"),
            })?;
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(Self { child, port });
            }
            if let Some(status) = child.try_wait()? {
                bail!("nats-server exited ({status}); see {}", log_path.display());
            }
            if started.elapsed() > START_DEADLINE {
                bail!(
                    "nats-server did not accept connections within {START_DEADLINE:?}; see {}",
                    log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Asks nats-server to stop (SIGTERM, so it flushes its store), and
    /// kills it if it has not stopped in time.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let term = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
            if term.is_ok()
                && tokio::time::timeout(STOP_DEADLINE, self.child.wait())
                    .await
                    .is_ok()
            {
                return;
            }
        }
        if let Err(e) = self.child.kill().await {
            tracing::warn!(error = %e, "could not kill nats-server");
        }
    }
}
