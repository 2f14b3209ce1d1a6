//! Free loopback ports, and waiting (with a deadline) for one to accept.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// A port that was free a moment ago. Another process may take it before
/// the caller binds it, so callers retry on "address in use".
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Polls `addr` until it accepts a TCP connection, `alive()` turns false, or
/// `deadline` passes. Returns whether it accepted.
pub fn wait_until_accepting(
    addr: SocketAddr,
    deadline: Duration,
    alive: impl FnMut() -> bool,
) -> bool {
    let mut alive = alive;
    let start = Instant::now();
    while start.elapsed() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if !alive() {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}
