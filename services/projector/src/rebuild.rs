//! Blue/green rebuild: project the log into fresh collections (suffix
//! `_rebuild`) with the same batches as the live projection while the live
//! ones keep serving, then pause live copies, wait for the batches they had
//! begun (see [`crate::control`]), catch the fresh collections up, swap
//! every one of them in with `renameCollection … dropTarget`, hand over the
//! checkpoints and record the projection version. Live copies
//! resume from there, so events written during the swap are projected
//! once, in order.
//!
//! A dry run builds the fresh collections, reports how they differ from the
//! live ones and drops them. An "as of" build projects up to a sequence or
//! time (optionally from one) into collections of its own name, kept for
//! audits and never swapped in.
//!
//! `Options::projection` swaps in one read model's collections only; live
//! copies then resume from their own checkpoints.
//!
//! A rebuild killed at any point leaves the live collections as they were
//! (or swapped whole); the next rebuild starts over.

use std::collections::HashMap;

use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Document, doc};

use crate::checkpoint::Checkpoints;
use crate::config::Tuning;
use crate::consumer::{Bounds, Projector, Until};
use crate::control::{Control, PROJECTION_VERSION};
use crate::error::Error;
use crate::fold;
use crate::names::{self, Names, Projection};
use crate::store::Conversations;

/// The suffix of the collections a rebuild projects into before the swap;
/// dropped first if a previous rebuild left them behind.
pub const REBUILD_SUFFIX: &str = "_rebuild";

/// What to rebuild, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Report the differences instead of swapping.
    pub dry_run: bool,
    /// Build an "as of" view into collections suffixed `_<name>`.
    pub into: Option<String>,
    /// With `into`: where each stream starts.
    pub from: Option<ReplayFrom>,
    /// With `into`: the last event (sequence or time) to project.
    pub to: Option<Until>,
    /// Who holds the rebuild lease (a projector instance, or the CLI).
    pub holder: String,
    /// The read model swapped in (or compared, for a dry run); every one
    /// is built, since they all come from one pass over the log.
    pub projection: Projection,
}

/// How the fresh collections differ from the live ones, per collection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub collection: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

/// What a rebuild did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events read from both streams, before and after the pause.
    pub events: u64,
    /// For a dry run, what would change.
    pub drift: Vec<Drift>,
}

/// Rebuilds every read model in `db` from the event log and swaps it in.
pub async fn rebuild(store: &EventStore, db: &Database) -> Result<Rebuilt, Error> {
    let options = Options {
        holder: "rebuild".to_owned(),
        ..Options::default()
    };
    rebuild_with(store, db, Tuning::default(), &options, &mut |_| {}).await
}

/// Events stored in both streams now: what a full rebuild reads.
pub async fn log_size(store: &EventStore) -> Result<u64, Error> {
    let js = async_nats::jetstream::new(store.client().clone());
    let mut total = 0_u64;
    for stream in StreamName::ALL {
        let info = js
            .get_stream(stream.as_str())
            .await
            .map_err(|e| Error::Feed {
                stream: stream.as_str(),
                message: e.to_string(),
            })?
            .info()
            .await
            .map_err(|e| Error::Feed {
                stream: stream.as_str(),
                message: e.to_string(),
            })?
            .state
            .messages;
        total = total.saturating_add(info);
    }
    Ok(total)
}

/// [`rebuild`] as `options` say, batched by `tuning`, telling `progress`
/// the events read so far.
pub async fn rebuild_with(
    store: &EventStore,
    db: &Database,
    tuning: Tuning,
    options: &Options,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Rebuilt, Error> {
    rebuild_checked(store, db, tuning, options, progress, async |_: &str| {}).await
}

/// [`rebuild_with`], running `before_swap` on the name of the fresh
/// `conversations` collection once it is built, before anything is swapped
/// (a verification that reports drift).
pub async fn rebuild_checked(
    store: &EventStore,
    db: &Database,
    tuning: Tuning,
    options: &Options,
    progress: &mut (dyn FnMut(u64) + Send),
    before_swap: impl AsyncFnOnce(&str),
) -> Result<Rebuilt, Error> {
    if let Some(name) = &options.into {
        return build_view(store, db, tuning, options, name, progress).await;
    }
    let control = Control::new(db, names::CONVERSATIONS);
    if !control.lease(&options.holder).await? {
        return Err(Error::RebuildBusy {
            target: names::CONVERSATIONS.to_owned(),
        });
    }
    let outcome = build_and_swap(store, db, tuning, options, &control, progress, before_swap).await;
    // The version is of every read model: a partial rebuild leaves it.
    let version = match &outcome {
        Ok(_) if !options.dry_run && options.projection == Projection::All => {
            Some(PROJECTION_VERSION)
        }
        _ => None,
    };
    control.release(&options.holder, version).await?;
    outcome
}

async fn build_and_swap(
    store: &EventStore,
    db: &Database,
    tuning: Tuning,
    options: &Options,
    control: &Control,
    progress: &mut (dyn FnMut(u64) + Send),
    before_swap: impl AsyncFnOnce(&str),
) -> Result<Rebuilt, Error> {
    let fresh_names = Names::suffixed(REBUILD_SUFFIX);
    let builder = fresh_projector(store, db, &tuning, &fresh_names).await?;
    let fresh = Conversations::new(db, &fresh_names);
    let mut rebuilt = Rebuilt {
        events: fold::replay(store, &fresh, &tuning, Bounds::default(), progress).await?,
        ..Rebuilt::default()
    };
    before_swap(&fresh_names.of(names::CONVERSATIONS)).await;
    let swapped = options.projection.collections();
    if options.dry_run {
        rebuilt.drift = drift(db, &fresh_names, swapped).await?;
        drop_all(db, &fresh_names).await?;
        builder.checkpoints().reset().await?;
        return Ok(rebuilt);
    }
    control.pause(&options.holder).await?;
    // Batches live copies entered before the pause are written first.
    control.await_writers().await?;
    let done = rebuilt.events;
    let caught_up = builder
        .drain_with(Bounds::default(), &mut |n| progress(done.saturating_add(n)))
        .await?;
    rebuilt.events = rebuilt.events.saturating_add(count(caught_up));
    swap(db, &fresh_names, swapped).await?;
    drop_all(db, &fresh_names).await?;
    if options.projection == Projection::All {
        let live = Checkpoints::new(db, names::CONVERSATIONS);
        live.reset().await?;
        for stream in StreamName::ALL {
            live.advance(stream, builder.checkpoints().load(stream).await?)
                .await?;
        }
    }
    // Otherwise live copies resume from their own checkpoints: the
    // collections kept get what they missed, and the swapped-in ones,
    // already past it, change nothing (every write is guarded by what a
    // document applied).
    builder.checkpoints().reset().await?;
    tracing::info!(
        events = rebuilt.events,
        projection = options.projection.name(),
        "read models rebuilt and swapped in"
    );
    Ok(rebuilt)
}

/// An "as of" view into collections suffixed `_<name>`.
async fn build_view(
    store: &EventStore,
    db: &Database,
    tuning: Tuning,
    options: &Options,
    name: &str,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Rebuilt, Error> {
    let view = Names::suffixed(&format!("_{name}"));
    fresh_projector(store, db, &tuning, &view).await?;
    let bounds = Bounds {
        from: options.from,
        until: options.to,
    };
    let target = Conversations::new(db, &view);
    let events = fold::replay(store, &target, &tuning, bounds, progress).await?;
    tracing::info!(events, view = name, "as-of view built");
    Ok(Rebuilt {
        events,
        drift: Vec::new(),
    })
}

/// A projector on freshly emptied collections named by `names`.
async fn fresh_projector(
    store: &EventStore,
    db: &Database,
    tuning: &Tuning,
    names: &Names,
) -> Result<Projector, Error> {
    drop_all(db, names).await?;
    let builder = Projector::start_with(store, Conversations::new(db, names), tuning.clone())
        .await?
        .defer_rollups();
    builder.checkpoints().reset().await?;
    Ok(builder)
}

async fn drop_all(db: &Database, names: &Names) -> Result<(), Error> {
    for base in names::ALL {
        db.collection::<Document>(&names.of(base)).drop().await?;
    }
    Ok(())
}

/// Renames each of the fresh `collections` over its live one; a model the
/// fresh build never wrote has no collection, and its live one goes too.
async fn swap(db: &Database, fresh: &Names, collections: &[&str]) -> Result<(), Error> {
    let existing = db.list_collection_names().await?;
    for &base in collections {
        let from = fresh.of(base);
        if !existing.contains(&from) {
            db.collection::<Document>(base).drop().await?;
            continue;
        }
        db.client()
            .database("admin")
            .run_command(doc! {
                "renameCollection": format!("{}.{from}", db.name()),
                "to": format!("{}.{base}", db.name()),
                "dropTarget": true,
            })
            .await?;
    }
    Ok(())
}

/// Documents of `collections` only in the live ones, only in the fresh
/// ones, and in both but different.
async fn drift(db: &Database, fresh: &Names, collections: &[&str]) -> Result<Vec<Drift>, Error> {
    let mut drifts = Vec::new();
    for &base in collections {
        let read = |name: String| async move {
            let all: Vec<Document> = db
                .collection::<Document>(&name)
                .find(doc! {})
                .await?
                .try_collect()
                .await?;
            Ok::<_, Error>(
                all.into_iter()
                    .filter_map(|d| Some((d.get("_id")?.to_string(), d)))
                    .collect::<HashMap<_, _>>(),
            )
        };
        let live = read(base.to_owned()).await?;
        let rebuilt = read(fresh.of(base)).await?;
        let mut drift = Drift {
            collection: base.to_owned(),
            ..Drift::default()
        };
        for (id, document) in &rebuilt {
            match live.get(id) {
                None => drift.added += 1,
                Some(current) if current != document => drift.changed += 1,
                Some(_) => {}
            }
        }
        drift.removed = count(live.keys().filter(|id| !rebuilt.contains_key(*id)).count());
        drifts.push(drift);
    }
    Ok(drifts)
}

fn count(events: usize) -> u64 {
    u64::try_from(events).unwrap_or(u64::MAX)
}
