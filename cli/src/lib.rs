//! The `parlor` command's library half: the code that assembles Parlor's
//! services into one running stack, shared by `parlor up` and the
//! end-to-end tests so both run exactly the same thing.
//!
//! It owns process orchestration only; every business rule lives in the
//! services and libs it starts.
//!
//! # Layout
//!
//! * [`stack`] — `Stack`: the four services in one process, started and
//!   stopped together.

pub mod stack;
