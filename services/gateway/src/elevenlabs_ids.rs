//! `ElevenLabsIds`: which Parlor conversation each live call's ElevenLabs
//! id (`conv_…`) belongs to, in the NATS KV bucket [`BUCKET`] every gateway
//! copy shares. The relay writes it as the call's first frame
//! (`conversation_initiation_metadata`) passes, so a transcript saved or a
//! webhook sent under that id right after the call lands on the live
//! call's aggregate even while the projector has not yet written the id
//! into the read model (which is the fallback, and holds it for good).

use std::time::Duration;

use async_nats::jetstream::kv;
use events::ConversationId;

use crate::kv::{BucketError, Buckets, bucket};

pub const BUCKET: &str = "parlor_elevenlabs_ids";
/// Long past any webhook retry or transcript save; the read model has the
/// id by then.
const ENTRY_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A lookup is on a request path: past this the read model answers.
const KV_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct ElevenLabsIds {
    kv: kv::Store,
}

impl ElevenLabsIds {
    pub async fn open(buckets: &Buckets) -> Result<Self, BucketError> {
        let description = "the Parlor conversation of each live call's ElevenLabs id";
        Ok(Self {
            kv: bucket(buckets, BUCKET, description, ENTRY_MAX_AGE).await?,
        })
    }

    /// Records `elevenlabs_id` as `conversation_id`'s, off the caller's path;
    /// a failure is logged (the read model still gets the id).
    pub fn remember(&self, elevenlabs_id: String, conversation_id: ConversationId) {
        let kv = self.kv.clone();
        tokio::spawn(async move {
            let put = tokio::time::timeout(
                KV_TIMEOUT,
                kv.put(&elevenlabs_id, conversation_id.to_string().into()),
            )
            .await;
            match put {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, %conversation_id, elevenlabs_id, "could not record the ElevenLabs id");
                }
                Err(_) => {
                    tracing::warn!(%conversation_id, elevenlabs_id, "recording the ElevenLabs id timed out");
                }
            }
        });
    }

    /// The conversation recorded under `elevenlabs_id`; `None` when there
    /// is none or the bucket does not answer.
    pub async fn lookup(&self, elevenlabs_id: &str) -> Option<ConversationId> {
        match tokio::time::timeout(KV_TIMEOUT, self.kv.get(elevenlabs_id)).await {
            Ok(Ok(value)) => value.and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()),
            Ok(Err(error)) => {
                tracing::warn!(%error, elevenlabs_id, "cannot look the ElevenLabs id up");
                None
            }
            Err(_) => {
                tracing::warn!(elevenlabs_id, "looking the ElevenLabs id up timed out");
                None
            }
        }
    }
}
