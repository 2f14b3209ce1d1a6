//! `MongoMemory`: binds a loopback port, accepts connections and serves each
//! one message at a time until the handle is shut down or dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::commands;
use crate::state::State;
use crate::wire::{
    OP_MSG, OP_QUERY, OpMsg, OpQuery, WireError, encode_op_msg_reply, encode_op_reply, read_frame,
};

/// At most this many client connections are served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running in-memory server; dropping it stops it.
#[derive(Debug)]
pub struct MongoMemory {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept_loop: Option<JoinHandle<()>>,
}

impl MongoMemory {
    /// Starts a server on a free loopback port.
    pub async fn start() -> Result<Self, StartError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a server on `addr`.
    pub async fn start_on(addr: SocketAddr) -> Result<Self, StartError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let (shutdown, stopped) = watch::channel(false);
        let accept_loop = tokio::spawn(accept(listener, Arc::new(State::default()), stopped));
        tracing::info!(%addr, "mongo-memory listening");
        Ok(Self {
            addr,
            shutdown,
            accept_loop: Some(accept_loop),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection string; `directConnection` keeps drivers from looking for a replica set.
    pub fn uri(&self) -> String {
        format!("mongodb://{}/?directConnection=true", self.addr)
    }

    /// Stops accepting, closes every connection and waits for the accept loop.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(accept_loop) = self.accept_loop.take() {
            // The loop only ends by the signal just sent; a join error means it panicked, already logged.
            let _ = accept_loop.await;
        }
    }
}

impl Drop for MongoMemory {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn accept(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let next_connection_id = AtomicI32::new(1);
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let connection_id = next_connection_id.fetch_add(1, Ordering::Relaxed);
                let state = Arc::clone(&state);
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    if let Err(error) = serve(stream, &state, connection_id, stopped).await {
                        tracing::debug!(%peer, connection_id, %error, "connection closed");
                    }
                    drop(permit);
                });
            }
            Err(error) => tracing::warn!(%error, "accept failed"),
        }
    }
}

/// Serves one connection; any malformed message ends it (and only it).
async fn serve(
    stream: TcpStream,
    state: &State,
    connection_id: i32,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), WireError> {
    // Replies are single small writes; don't let Nagle hold them back.
    stream.set_nodelay(true)?;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut next_request_id: i32 = 1;
    loop {
        let frame = tokio::select! {
            frame = read_frame(&mut reader) => frame?,
            _ = stopped.wait_for(|stop| *stop) => return Ok(()),
        };
        let Some(frame) = frame else { return Ok(()) };
        next_request_id = next_request_id.wrapping_add(1);
        let reply = match frame.op_code {
            OP_MSG => {
                let message = OpMsg::parse(&frame.body, &frame.header)?;
                let reply = commands::run_op_msg(state, connection_id, message.command);
                if message.more_to_come {
                    continue;
                }
                encode_op_msg_reply(next_request_id, frame.request_id, &reply)
            }
            OP_QUERY => {
                let query = OpQuery::parse(&frame.body)?;
                let reply =
                    commands::run_op_query(state, connection_id, &query.database, query.command);
                encode_op_reply(next_request_id, frame.request_id, &reply)
            }
            other => return Err(WireError::UnknownOpCode(other)),
        };
        writer.write_all(&reply).await?;
    }
}
