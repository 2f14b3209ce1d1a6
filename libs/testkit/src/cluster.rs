//! Three `nats-server -js` nodes routed into one JetStream cluster on
//! loopback, each with its own store, for tests of replicated streams and
//! of a node going away and coming back.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::nats::TestkitError;
use crate::port::{free_port, wait_until_accepting};

/// Nodes in the cluster: the least that keeps a quorum with one gone.
pub const NODES: usize = 3;
const START_ATTEMPTS: usize = 5;
const START_DEADLINE: Duration = Duration::from_secs(30);
const CLUSTER_NAME: &str = "parlor-test";

/// The ports one node listens on.
#[derive(Clone, Copy, Debug)]
struct Ports {
    client: u16,
    route: u16,
    monitor: u16,
}

struct Node {
    name: String,
    ports: Ports,
    child: Option<Child>,
}

/// A running 3-node JetStream cluster, killed and its stores deleted on drop.
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: TempDir,
}

impl NatsCluster {
    /// Starts three routed nodes on free ports and waits until every one
    /// reports JetStream healthy (a meta leader is elected and known).
    pub fn start() -> Result<Self, TestkitError> {
        let dir = tempfile::Builder::new()
            .prefix("parlor-nats-cluster-")
            .tempdir()?;
        let mut cluster = Self {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..START_ATTEMPTS {
            cluster.nodes = (0..NODES)
                .map(|i| {
                    Ok(Node {
                        name: format!("node-{}", i + 1),
                        ports: Ports {
                            client: free_port()?,
                            route: free_port()?,
                            monitor: free_port()?,
                        },
                        child: None,
                    })
                })
                .collect::<Result<_, std::io::Error>>()?;
            let mut all_up = true;
            for i in 0..NODES {
                if !cluster.spawn(i)? {
                    all_up = false;
                    break;
                }
            }
            if all_up && cluster.wait_healthy((0..NODES).collect()) {
                return Ok(cluster);
            }
            cluster.kill_all();
        }
        Err(TestkitError::NatsServerStart {
            attempts: START_ATTEMPTS,
            log: cluster.log_path(0),
        })
    }

    /// Every node's client URL, comma-separated, as `NATS_URL` takes them.
    pub fn url(&self) -> String {
        (0..NODES)
            .map(|i| self.node_url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// One node's client URL.
    pub fn node_url(&self, node: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[node].ports.client)
    }

    /// Kills one node at once (SIGKILL, as a crash would), keeping its store.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            // Already exited is fine: either way it is gone after `wait`.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed node again on its ports and store, and waits until
    /// it has rejoined the cluster's JetStream.
    pub fn restart(&mut self, node: usize) -> Result<(), TestkitError> {
        self.kill(node);
        for _ in 0..START_ATTEMPTS {
            if self.spawn(node)? && self.wait_healthy(vec![node]) {
                return Ok(());
            }
            self.kill(node);
        }
        Err(TestkitError::NatsServerStart {
            attempts: START_ATTEMPTS,
            log: self.log_path(node),
        })
    }

    /// Whether the node is running (not killed).
    pub fn is_running(&self, node: usize) -> bool {
        self.nodes[node].child.is_some()
    }

    fn log_path(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("node-{}.log", node + 1))
    }

    fn store_dir(&self, node: usize) -> PathBuf {
        self.dir.path().join(format!("node-{}", node + 1))
    }

    /// Spawns one node; `Ok(false)` when it exited before accepting.
    fn spawn(&mut self, node: usize) -> Result<bool, TestkitError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path(node))?;
        let routes = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != node)
            .map(|(_, n)| format!("nats-route://127.0.0.1:{}", n.ports.route))
            .collect::<Vec<_>>()
            .join(",");
        let Node { name, ports, .. } = &self.nodes[node];
        let mut child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-n", name, "--cluster_name"])
            .arg(CLUSTER_NAME)
            .arg("-p")
            .arg(ports.client.to_string())
            .arg("-m")
            .arg(ports.monitor.to_string())
            .arg("--cluster")
            .arg(format!("nats://127.0.0.1:{}", ports.route))
            .arg("--routes")
            .arg(routes)
            .arg("-sd")
            .arg(self.store_dir(node))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TestkitError::NatsServerMissing,
                _ => TestkitError::Io(e),
            })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], ports.client));
        let up = wait_until_accepting(addr, START_DEADLINE, || {
            matches!(child.try_wait(), Ok(None))
        });
        if up {
            self.nodes[node].child = Some(child);
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
        Ok(up)
    }

    /// Polls each node's `/healthz` until it answers 200, which a clustered
    /// node does once it is current with the JetStream meta leader.
    fn wait_healthy(&mut self, nodes: Vec<usize>) -> bool {
        let start = Instant::now();
        let mut waiting = nodes;
        while start.elapsed() < START_DEADLINE {
            waiting.retain(|&i| !healthy(self.nodes[i].ports.monitor));
            if waiting.is_empty() {
                return true;
            }
            let exited = waiting.iter().any(|&i| {
                self.nodes[i]
                    .child
                    .as_mut()
                    .is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
            });
            if exited {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn kill_all(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// One `GET /healthz` on the monitoring port; true on HTTP 200.
fn healthy(monitor: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], monitor));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_nodes_are_healthy_and_one_comes_back_after_a_kill() {
        let mut cluster = NatsCluster::start().expect("cluster");
        assert_eq!(cluster.url().matches("nats://").count(), NODES);
        let monitor = cluster.nodes[1].ports.monitor;
        cluster.kill(1);
        assert!(!cluster.is_running(1));
        assert!(!healthy(monitor));
        cluster.restart(1).expect("restart");
        assert!(healthy(monitor));
        let dir = cluster.dir.path().to_path_buf();
        drop(cluster);
        assert!(!dir.exists(), "the stores are deleted on drop");
    }
}
