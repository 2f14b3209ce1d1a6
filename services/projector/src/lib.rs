//! The projector service owns the MongoDB read models of DESIGN §3, above
//! all `conversations` in the shape of the Prisma `Conversation` model,
//! built only from the event log (both streams), and their rebuild by replay.
//!
//! It never emits events, never answers users and never decides money: the
//! cost it shows is what the ledger's events say.
//!
//! # The model it writes
//!
//! Every field is present with this type from the first event on (an
//! in-progress call has `transcript` "", `duration` 0, `cost` 0.0, zeroed
//! `metrics` and `endedAt` at its last event). Prisma's `Int` is a BSON
//! Int32, `Float` a Double, `DateTime` a Date. The extra `projection`
//! sub-document (stream sequences applied, version, raw credits) is the
//! projector's bookkeeping; Prisma ignores it.
//!
//! ```prisma
//! model Conversation {
//!   id         String    @id @default(auto()) @map("_id") @db.ObjectId
//!   userId     String    @db.ObjectId
//!   agentId    String
//!   transcript String
//!   duration   Int
//!   cost       Float
//!   startedAt  DateTime
//!   endedAt    DateTime  @updatedAt
//!   status     String    // initiated | in-progress | processing | done | failed
//!   messages   Message[]
//!   metrics    Metrics
//!   metadata   Json?
//!
//!   @@index([userId])
//!   @@index([agentId])
//!   @@map("conversations")
//! }
//!
//! type Message {
//!   role           String   // user | agent
//!   message        String
//!   timeInCallSecs Int
//!   at             DateTime
//!   latencyMs      Int?
//!   interrupted    Boolean?
//! }
//!
//! type Metrics {
//!   totalLatency   Int
//!   averageLatency Float
//!   messageCount   Int
//!   creditsUsed    Float
//!   costPerMinute  Float
//! }
//! ```
//!
//! `metadata` holds `mode`, `elevenlabs_conversation_id`,
//! `termination_reason` (`agent_ended`, `session_lost`, …), `close_code`,
//! `failure_message`, `tool_calls`, `reported_credits`, `charging`,
//! `analysis`, `sentiment` (`{score?, label, source}`, see [`sentiment`])
//! and `messages_overflow`, each once known. Messages carry a `sentiment`
//! score beside the Prisma fields.
//!
//! # Keeping up
//!
//! Events are applied in batches (whatever has arrived, up to
//! `PARLOR_PROJECTOR_BATCH_EVENTS`): one read of the documents a batch
//! touches, one write of what changed (`$push` of new messages, `$set` of
//! changed fields; never the whole document), then the checkpoint. A
//! document embeds the first `PARLOR_PROJECTOR_EMBEDDED_MESSAGES` messages
//! (and their transcript lines); later ones go to `conversation_messages`
//! only, `metadata.messages_overflow` says how many, and `metrics` count
//! them all. So one long call neither stalls others nor outgrows 16 MB.
//!
//! # Layout
//!
//! * [`config`] — `Config` and `Tuning` from the environment.
//! * [`document`] — `ConversationDoc`: the model above plus bookkeeping.
//! * [`transcript`], [`metrics`] — derived fields, pure.
//! * [`sentiment`] — the English/Spanish scorer of messages and conversations.
//! * [`sketch`] — turn latencies as a mergeable DDSketch.
//! * [`apply`] — events → document changes, pure and idempotent.
//! * [`diff`] — stored document → new version as update operators, pure.
//! * [`overflow`] — `conversation_messages`: messages beyond the embedded ones.
//! * [`names`] — the collections of a target (live, rebuild, audit).
//! * [`store`] — the collections: indexes, batched reads and conditional writes.
//! * [`route`] — a log message decoded and routed to its conversation.
//! * [`batch`] — one batch of messages → grouped writes; parking.
//! * [`ledger_book`] — ledger entries and accounts from any event's postings.
//! * [`rollup`] — per-user usage by day and month, per-agent statistics.
//! * [`parked`] — `projector_parked`: events that could not be applied.
//! * [`control`] — `projector_control`: projection versions, rebuild lease, pause, copies mid-batch.
//! * [`checkpoint`] — `projector_checkpoints`: where each stream was written up to.
//! * [`feed`] — both streams followed live from a checkpoint.
//! * [`fold`] — a replay folded in memory, each document written once (rebuilds).
//! * [`consumer`] — `Projector` with `drain`/`run`.
//! * [`rebuild`] — replay into fresh collections, swap them in.
//! * [`single`] — one conversation rebuilt from its own events and replaced.
//! * [`error`] — `Error`.
//! * [`run`] — the service: connect, rebuild if the version is older, project until `shutdown`.

pub mod apply;
pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod consumer;
pub mod control;
pub mod diff;
pub mod document;
pub mod error;
pub mod feed;
pub mod fold;
pub mod ledger_book;
pub mod metrics;
pub mod names;
pub mod overflow;
pub mod parked;
pub mod rebuild;
pub mod rollup;
pub mod route;
pub mod sentiment;
pub mod single;
pub mod sketch;
pub mod store;
pub mod transcript;

use std::future::Future;

pub use config::{Config, Tuning};
pub use consumer::Projector;
use control::{Control, PROJECTION_VERSION};
pub use document::ConversationDoc;
pub use error::Error;
use eventstore::EventStore;
pub use rebuild::{Rebuilt, rebuild};
pub use store::Conversations;

/// Connects to MongoDB (`config.mongodb_uri`, database `config.mongodb_database`).
pub async fn connect_database(config: &Config) -> Result<mongodb::Database, Error> {
    let client = mongodb::Client::with_uri_str(&config.mongodb_uri).await?;
    Ok(client.database(&config.mongodb_database))
}

/// Runs the projector service until `shutdown` completes: first a rebuild
/// when the stored read models are of an older projection version (or
/// waiting for the copy that is rebuilding them), then live projection.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let tuning = Tuning::from_env()?;
    let instance = config::instance_from_env();
    let store = EventStore::connect(&config.nats_url).await?;
    store.ensure_streams().await?;
    let db = connect_database(&config).await?;
    // A predecessor of this instance killed mid-batch left its entry; a
    // rebuild, this copy's own below included, need not wait for it.
    Control::new(&db, names::CONVERSATIONS)
        .forget_writers(&config::writer_instance())
        .await?;
    tokio::pin!(shutdown);
    tokio::select! {
        () = &mut shutdown => return Ok(()),
        upgraded = upgrade(&store, &db, &tuning, &instance) => upgraded?,
    }
    let projector = Projector::start_with(&store, Conversations::live(&db), tuning).await?;
    tracing::info!(
        nats = %config.nats_url,
        database = %config.mongodb_database,
        %instance,
        "projector ready"
    );
    projector.run(shutdown).await?;
    tracing::info!("projector stopped");
    Ok(())
}

/// Rebuilds the read models when they are older than [`PROJECTION_VERSION`].
async fn upgrade(
    store: &EventStore,
    db: &mongodb::Database,
    tuning: &Tuning,
    instance: &str,
) -> Result<(), Error> {
    let control = Control::new(db, names::CONVERSATIONS);
    let checkpoints = checkpoint::Checkpoints::new(db, names::CONVERSATIONS);
    loop {
        let stored = control.state().await?.version;
        if stored >= PROJECTION_VERSION {
            return Ok(());
        }
        let mut written = 0;
        for stream in eventstore::StreamName::ALL {
            written += checkpoints.load(stream).await?;
        }
        let documents = db
            .collection::<mongodb::bson::Document>(names::CONVERSATIONS)
            .estimated_document_count()
            .await?;
        // Nothing was ever projected here (by this build or an older one):
        // live projection builds it all.
        if written == 0 && documents == 0 && control.lease(instance).await? {
            control.release(instance, Some(PROJECTION_VERSION)).await?;
            return Ok(());
        }
        tracing::info!(
            stored,
            current = PROJECTION_VERSION,
            "read models are of an older projection version; rebuilding"
        );
        let options = rebuild::Options {
            holder: instance.to_owned(),
            ..rebuild::Options::default()
        };
        match rebuild::rebuild_with(store, db, tuning.clone(), &options, &mut |_| {}).await {
            Ok(_) => return Ok(()),
            // Another copy rebuilds them; its version shows when it is done.
            Err(Error::RebuildBusy { .. }) => tokio::time::sleep(tuning.retry_delay).await,
            Err(error) => return Err(error),
        }
    }
}
