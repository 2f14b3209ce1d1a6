//! The properties every parser of outside input must hold, one function per
//! fuzz target: `fuzz/fuzz_targets/<target>.rs` calls `bad_input::<target>`
//! with the fuzzer's bytes, and `tests/corpus_replay.rs` calls it with every
//! committed file of `fuzz/corpus/<target>/` on stable, in CI. A function
//! returns when its property holds and panics (the fuzzer's crash) when not:
//! the parser never panics; whatever parses re-encodes and parses back the
//! same; a verifier refuses what was not signed or sealed with its key.
//!
//! It never parses anything itself or holds a parser of its own: every
//! function drives the real one through the public API its service uses,
//! so a fix belongs in that parser, with the crashing input kept in the
//! corpus.
//!
//! # Layout
//! * [`messages`] — ElevenLabs client and server frames.
//! * [`webhook`] — the ElevenLabs webhook signature check and envelope.
//! * [`envelope`] — the event envelope decoder and its upcasters.
//! * [`wire`] — mongo-memory's framing, `OP_MSG` and `OP_QUERY`.
//! * [`tokens`] — the gateway's bearer JWTs and NextAuth session JWEs, with
//!   the keys and the signing and sealing the targets and tests share.

pub mod envelope;
pub mod messages;
pub mod tokens;
pub mod webhook;
pub mod wire;

pub use envelope::event_envelope;
pub use messages::{elevenlabs_client_message, elevenlabs_server_message};
pub use tokens::{jwt, nextauth};
pub use webhook::webhook_verifier;
pub use wire::mongo_wire;

/// One target: fed any bytes, it returns when its property holds.
pub type Target = fn(&[u8]);

/// Every target, by the name of its fuzz target and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("elevenlabs_client_message", elevenlabs_client_message),
    ("elevenlabs_server_message", elevenlabs_server_message),
    ("event_envelope", event_envelope),
    ("webhook_verifier", webhook_verifier),
    ("jwt", jwt),
    ("nextauth", nextauth),
    ("mongo_wire", mongo_wire),
];
