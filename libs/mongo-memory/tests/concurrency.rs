//! Many connections at once: writes are atomic per document, a reader never
//! sees half of an update, and unique keys hold under racing inserts.

use futures::future::join_all;
use mongo_memory::MongoMemory;
use mongodb::Client;
use mongodb::bson::{Document, doc};

const WRITERS: i32 = 4;
const READERS: i32 = 4;
const ROUNDS: i32 = 200;

async fn client(server: &MongoMemory) -> Client {
    Client::with_uri_str(server.uri()).await.expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_half_an_update() {
    let server = MongoMemory::start().await.expect("start");
    let setup = client(&server).await;
    let coll = setup.database("c").collection::<Document>("pair");
    coll.insert_one(doc! { "_id": 1, "a": 0, "b": 0 })
        .await
        .expect("seed");

    let writers = (0..WRITERS).map(|_| {
        let coll = coll.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                coll.update_one(doc! { "_id": 1 }, doc! { "$inc": { "a": 1, "b": 1 } })
                    .await
                    .expect("inc");
            }
        })
    });
    let readers = (0..READERS).map(|_| {
        let coll = coll.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let pair = coll
                    .find_one(doc! { "_id": 1 })
                    .await
                    .expect("find")
                    .expect("exists");
                assert_eq!(pair.get_i32("a"), pair.get_i32("b"), "torn read: {pair}");
            }
        })
    });
    for task in join_all(writers.chain(readers)).await {
        task.expect("task");
    }
    let done = coll
        .find_one(doc! { "_id": 1 })
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(done.get_i32("a"), Ok(WRITERS * ROUNDS), "no increment lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_inserts_of_one_key_admit_exactly_one() {
    let server = MongoMemory::start().await.expect("start");
    let clients = join_all((0..8).map(|_| client(&server))).await;
    let attempts = clients.iter().map(|c| {
        let coll = c.database("c").collection::<Document>("once");
        async move { coll.insert_one(doc! { "_id": "the-key" }).await.is_ok() }
    });
    let successes = join_all(attempts)
        .await
        .into_iter()
        .filter(|ok| *ok)
        .count();
    assert_eq!(successes, 1);
}
