//! The NATS KV buckets gateway copies share (the live-call cap, redeemed
//! signatures), opened or made at start.
//!
//! The bucket's stream is made here rather than by `create_key_value`,
//! which first asks for the account's info in a form nats-server 2.9 (the
//! one Parlor runs, DESIGN §7) does not answer. The stream is what a KV
//! bucket is: `KV_<bucket>` over `$KV.<bucket>.>`, one message per key.

use std::time::Duration;

use async_nats::jetstream::stream::{self, DiscardPolicy};
use async_nats::jetstream::{self, kv};

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("cannot open the NATS KV bucket {bucket} (is JetStream on?): {source}")]
pub struct BucketError {
    pub bucket: &'static str,
    #[source]
    pub source: Source,
}

/// The bucket, made if no copy made it yet; entries unwritten for
/// `max_age` are dropped.
pub async fn bucket(
    js: &jetstream::Context,
    bucket: &'static str,
    description: &str,
    max_age: Duration,
) -> Result<kv::Store, BucketError> {
    let fail = |source: Source| BucketError { bucket, source };
    let config = stream::Config {
        name: format!("KV_{bucket}"),
        description: Some(description.to_owned()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    if let Err(error) = js.get_or_create_stream(config).await {
        // Another copy may have made it between our look and our create.
        if js.get_stream(format!("KV_{bucket}")).await.is_err() {
            return Err(fail(error.into()));
        }
    }
    js.get_key_value(bucket)
        .await
        .map_err(|error| fail(error.into()))
}
