//! The `parlor` command's library half: the code that assembles Parlor's
//! services into one running stack, shared by `parlor up` and the
//! end-to-end tests so both run exactly the same thing, and the load
//! harness that drives it.
//!
//! It owns process orchestration only; every business rule lives in the
//! services and libs it starts.
//!
//! # Layout
//!
//! * [`stack`] — `Stack`: the four services in one process, started and
//!   stopped together.
//! * [`load`] — the load and abuse harness behind `parlor load`, also
//!   used by the end-to-end tests at small N; [`load::OwnStack`], the
//!   throwaway stack it runs against.
//! * [`bench`] — `parlor bench`: each figure beside a baseline of the same run.
//! * [`nats_child`] — nats-server as a child process with a data directory.

pub mod bench;
pub mod load;
pub mod nats_child;
pub mod stack;
