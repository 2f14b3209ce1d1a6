//! A real `nats-server` with JetStream for one test.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use thiserror::Error;

use crate::port::{free_port, wait_until_accepting};

const START_ATTEMPTS: usize = 5;
const START_DEADLINE: Duration = Duration::from_secs(20);

#[derive(Debug, Error)]
pub enum TestkitError {
    #[error(
        "`nats-server` is not on PATH; install it with `sudo apt-get install -y nats-server` \
         (or run `./dev test`, which installs it)"
    )]
    NatsServerMissing,
    #[error("nats-server did not start after {attempts} attempts; its log: {log}")]
    NatsServerStart { attempts: usize, log: PathBuf },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A running `nats-server -js`, killed and its store deleted on drop.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server on a free port with a fresh store directory.
    pub fn start() -> Result<Self, TestkitError> {
        let dir = tempfile::Builder::new().prefix("parlor-nats-").tempdir()?;
        let mut server = Self {
            child: None,
            port: 0,
            dir,
        };
        for _ in 0..START_ATTEMPTS {
            server.port = free_port()?;
            if server.spawn()? {
                return Ok(server);
            }
        }
        Err(TestkitError::NatsServerStart {
            attempts: START_ATTEMPTS,
            log: server.log_path(),
        })
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("jetstream")
    }

    /// Kills the server at once (SIGKILL, as a crash would), keeping its store.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine: either way it is gone after `wait`.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store directory.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.kill();
        // The port was ours a moment ago; retry briefly in case the kernel
        // has not released it yet.
        for _ in 0..START_ATTEMPTS {
            if self.spawn()? {
                return Ok(());
            }
        }
        Err(TestkitError::NatsServerStart {
            attempts: START_ATTEMPTS,
            log: self.log_path(),
        })
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// Spawns on `self.port`; `Ok(false)` when it exited before accepting.
    fn spawn(&mut self) -> Result<bool, TestkitError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let mut child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.store_dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TestkitError::NatsServerMissing,
                _ => TestkitError::Io(e),
            })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let up = wait_until_accepting(addr, START_DEADLINE, || {
            matches!(child.try_wait(), Ok(None))
        });
        if up {
            self.child = Some(child);
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
        Ok(up)
    }

    /// The directory holding the store and the server's log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpStream;

    fn info_line(url_port: u16) -> String {
        let stream = TcpStream::connect(("127.0.0.1", url_port)).expect("connect");
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .expect("read INFO");
        line
    }

    #[test]
    fn starts_with_jetstream_and_restarts_on_the_same_port() {
        let mut server = NatsServer::start().expect("nats-server");
        let port = server.port;
        assert!(info_line(port).contains("\"jetstream\":true"));
        server.kill();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
        server.restart().expect("restart");
        assert!(info_line(port).starts_with("INFO "));
        let dir = server.dir().to_path_buf();
        drop(server);
        assert!(!dir.exists(), "the store is deleted on drop");
    }
}
