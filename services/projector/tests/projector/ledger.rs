//! Ledger accounts and entries from any ledger event's postings: known
//! types, a type this build does not know, and never twice on replay.

use events::ledger::{CreditsGranted, CreditsHeld, HoldReleased};
use events::{
    AccountId, CorrelationId, Credits, Envelope, EnvelopeMeta, LedgerEvent, Posting, SystemAccount,
};
use eventstore::{ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use projector::Conversations;
use projector::Tuning;
use projector::batch::Batcher;

use crate::support::{Call, World};

fn holds() -> AccountId {
    AccountId::System(SystemAccount::Holds)
}

async fn account(world: &World, id: &AccountId) -> Document {
    world
        .db
        .collection::<Document>("ledger_accounts")
        .find_one(doc! { "_id": id.to_string() })
        .await
        .expect("find")
        .expect("an account document")
}

/// An event of a type this build does not know, on `call`'s user subject.
async fn publish_unknown(
    world: &World,
    call: &mut Call,
    event_type: &str,
    postings: &[Posting],
) -> u64 {
    let user = AccountId::User(call.user);
    let meta = EnvelopeMeta::new(user.to_string(), CorrelationId::new());
    let mut raw = Envelope::new(
        meta,
        LedgerEvent::AccountOpened(events::ledger::AccountOpened { account: user }),
    )
    .to_raw();
    event_type.clone_into(&mut raw.event_type);
    raw.data = serde_json::json!({ "conversation_id": call.id.to_string(), "postings": postings });
    let sequence = async_nats::jetstream::new(world.store.client().clone())
        .publish(
            format!("ledger.{user}"),
            serde_json::to_vec(&raw).expect("json").into(),
        )
        .await
        .expect("publish")
        .await
        .expect("stored")
        .sequence;
    call.set_ledger_version(sequence);
    sequence
}

#[tokio::test]
async fn accounts_and_entries_follow_every_ledger_event_once() {
    let world = World::start().await;
    let mut call = Call::new();
    let user = AccountId::User(call.user);
    let grants = AccountId::System(SystemAccount::Grants);
    let granted = LedgerEvent::CreditsGranted(CreditsGranted {
        credits: Credits::new(1_000),
        reason: None,
        postings: Posting::transfer(grants, user, Credits::new(1_000)).to_vec(),
        expires_at: None,
    });
    call.append_ledger(&world.store, 0, granted).await;
    let held = LedgerEvent::CreditsHeld(CreditsHeld {
        conversation_id: call.id,
        credits: Credits::new(600),
        postings: Posting::transfer(user, holds(), Credits::new(600)).to_vec(),
        period: 0,
        covers_ms: None,
        credits_per_minute: None,
    });
    call.append_ledger(&world.store, 10, held).await;
    // A newer ledger's extension of the hold, unknown to this build.
    let extended = Posting::transfer(user, holds(), Credits::new(100));
    publish_unknown(&world, &mut call, "hold.extended", &extended).await;
    let captured = call.captured(300);
    call.append_ledger(&world.store, 20, captured).await;
    let released = LedgerEvent::HoldReleased(HoldReleased {
        conversation_id: call.id,
        credits: Credits::new(400),
        postings: Posting::transfer(holds(), user, Credits::new(400)).to_vec(),
        reason: events::ledger::ReleaseReason::Settled,
    });
    call.append_ledger(&world.store, 30, released).await;
    let unbalanced = [Posting {
        account: user,
        credits: Credits::new(5),
    }];
    let refused = publish_unknown(&world, &mut call, "credits.conjured", &unbalanced).await;
    world.drain().await;

    let mine = account(&world, &user).await;
    assert_eq!(mine.get_i64("available"), Ok(700), "{mine}");
    assert_eq!(mine.get_i64("held"), Ok(0), "{mine}");
    assert_eq!(mine.get_i64("balance"), Ok(700), "{mine}");
    let usage = account(&world, &AccountId::System(SystemAccount::Usage)).await;
    assert_eq!(usage.get_i64("available"), Ok(300));
    assert_eq!(account(&world, &holds()).await.get_i64("available"), Ok(0));

    let entries = world.db.collection::<Document>("ledger_entries");
    let trail: Vec<Document> = entries
        .find(doc! { "account": user.to_string() })
        .sort(doc! { "sequence": 1 })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read");
    let types: Vec<&str> = trail
        .iter()
        .filter_map(|e| e.get_str("eventType").ok())
        .collect();
    assert_eq!(
        types,
        [
            "credits.granted",
            "credits.held",
            "hold.extended",
            "hold.released"
        ]
    );
    assert!(
        trail
            .iter()
            .all(|e| e.get_str("eventId").is_ok() && e.get_i64("sequence").is_ok())
    );
    assert_eq!(
        trail[2].get_str("conversationId"),
        Ok(call.id.to_string().as_str())
    );
    let parked = projector::parked::Parked::new(&world.db)
        .list()
        .await
        .expect("parked");
    assert_eq!(parked.len(), 1);
    assert_eq!(
        parked[0].get_i64("sequence"),
        Ok(i64::try_from(refused).unwrap_or(0))
    );

    // Every ledger event again, one by one and all at once: nothing moves.
    let batcher = Batcher::new(Conversations::live(&world.db), &Tuning::default());
    let replayed: Vec<_> = world
        .store
        .replay(StreamName::Ledger, ReplayFrom::Beginning)
        .await
        .expect("replay")
        .map_ok(|m| (StreamName::Ledger, m))
        .try_collect()
        .await
        .expect("read");
    for single in &replayed {
        batcher
            .apply(std::slice::from_ref(single))
            .await
            .expect("apply");
    }
    batcher.apply(&replayed).await.expect("apply");
    assert_eq!(account(&world, &user).await, mine);
    assert_eq!(entries.count_documents(doc! {}).await.expect("count"), 10);
    world.finish().await;
}
