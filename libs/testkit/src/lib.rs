//! Starts the real servers Parlor's tests talk to, each on a free loopback
//! port with its own temporary directory, and stops and cleans them up on
//! drop, so tests run in parallel and leave nothing behind.
//!
//! It never fakes a server: a test that needs NATS gets a real `nats-server`,
//! one that needs MongoDB gets a wire-protocol server (mongo-memory, or a
//! real MongoDB) reached through the official driver. For a second,
//! independent client it makes a Python virtualenv with an official SDK, or
//! installs pinned npm packages (a browser driver) into a cache.
//!
//! # Layout
//!
//! * [`nats`] — `NatsServer`: `nats-server -js` with a temp store; stop and
//!   restart on the same directory and port for crash tests.
//! * [`cluster`] — `NatsCluster`: three routed `nats-server -js` nodes, each
//!   with its own store; kill one and start it again on the same ports.
//! * [`mongo`] — `TestMongo`: mongo-memory, or the real MongoDB named by
//!   `PARLOR_TEST_MONGODB_URI`, with a database per test.
//! * [`request`] — ask a service over NATS until it is there to answer.
//! * [`port`] — free loopback ports and waiting for a port to accept.
//! * [`python`] — `PythonEnv`: a virtualenv with given PyPI packages, made
//!   once under the target dir, for tests that drive an official Python SDK.
//! * [`npm`] — `NpmPackages`: what a `package-lock.json` pins, installed
//!   once into a cache, and where Debian's `chromium` is, for browser tests.

pub mod cluster;
pub mod mongo;
pub mod nats;
pub mod npm;
pub mod port;
pub mod python;
pub mod request;

pub use cluster::NatsCluster;
pub use mongo::TestMongo;
pub use nats::{NatsServer, TestkitError};
