//! `parlor demo`: one simulated conversation through the running stack's
//! gateway, with ElevenLabs' own protocol (the `elevenlabs` client pointed
//! at the gateway, the demo token as its API key), then the resulting
//! Conversation document and the user's balance.

use std::time::Duration;

use anyhow::{Context, bail};
use elevenlabs::{
    ApiKey, ClientMessage, Conversation, ConversationInitiationClientData, ConversationOptions,
    Endpoints, ServerEvent, Target,
};
use events::command::{Balance, GetBalance, subject};
use mongodb::bson::{Document, doc};

use crate::up::{DemoInfo, data_dir};

const LINES: [&str; 2] = ["Hello! What can you do for me?", "Thanks, bye!"];
const DOCUMENT_WAIT: Duration = Duration::from_secs(60);
/// About 15 characters a second: the simulator's speaking pace.
const SPEECH_PER_CHAR: Duration = Duration::from_millis(70);

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[allow(clippy::print_stdout)]
pub async fn run() -> anyhow::Result<()> {
    let path = data_dir().join("demo.json");
    let demo: DemoInfo = serde_json::from_slice(
        &std::fs::read(&path)
            .with_context(|| format!("reading {} (is `parlor up` running?)", path.display()))?,
    )
    .with_context(|| format!("{} is not what `parlor up` writes", path.display()))?;

    let endpoints = Endpoints::from_http_base(&demo.gateway_url)?;
    let target = Target::Agent {
        agent_id: demo.agent_id.clone(),
        api_key: Some(ApiKey::new(demo.token.clone())),
    };
    // Text-only, so the next line waits for a whole answer instead of
    // talking over the agent's audio.
    let init: ConversationInitiationClientData = serde_json::from_value(serde_json::json!({
        "conversation_config_override": { "conversation": { "text_only": true } }
    }))?;
    let mut conversation =
        Conversation::connect(&endpoints, target, init, &ConversationOptions::default())
            .await
            .context("opening a conversation through the gateway")?;
    let elevenlabs_id = conversation.conversation_id().to_owned();
    println!("conversation {elevenlabs_id} open");

    let mut lines = LINES.iter();
    while let Some(event) = conversation.next_event().await {
        let ServerEvent::AgentResponse(r) = event else {
            continue;
        };
        println!("agent: {}", r.agent_response);
        if let Some(line) = lines.next() {
            // Let the agent finish its turn, as a person would; talking
            // over it is a barge-in and truncates what it said.
            tokio::time::sleep(SPEECH_PER_CHAR * saturating_u32(r.agent_response.chars().count()))
                .await;
            println!("user:  {line}");
            conversation
                .send(ClientMessage::user_message(*line))
                .await?;
        }
    }
    let end = conversation.finish().await?;
    println!(
        "ended: {} {}",
        end.code.map_or(1000, |c| c.as_u16()),
        end.reason
    );

    let document = wait_for_document(&demo.mongodb_uri, &elevenlabs_id).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(
            &mongodb::bson::Bson::Document(document).into_relaxed_extjson()
        )?
    );

    let client = async_nats::connect(eventstore::server_addrs(&demo.nats_url)?).await?;
    let ask = GetBalance {
        user_id: demo.user_id,
    };
    let balance: Balance = bus::request(
        &client,
        subject::LEDGER_BALANCE,
        &ask,
        Duration::from_secs(5),
    )
    .await?;
    println!(
        "balance of {}: {} available, {} held",
        demo.user_id,
        balance.available.get(),
        balance.held.get()
    );
    Ok(())
}

/// The call's document once ElevenLabs' cost is in (`status: done`) and
/// the ledger's adjustment to it has been projected (`cost` is the figure).
async fn wait_for_document(uri: &str, elevenlabs_id: &str) -> anyhow::Result<Document> {
    let conversations = mongodb::Client::with_uri_str(uri)
        .await?
        .database("parlor")
        .collection::<Document>("conversations");
    let filter = doc! { "metadata.elevenlabs_conversation_id": elevenlabs_id, "status": "done" };
    let deadline = tokio::time::Instant::now() + DOCUMENT_WAIT;
    loop {
        if let Some(document) = conversations.find_one(filter.clone()).await? {
            let reported = document
                .get_document("metadata")
                .ok()
                .and_then(|m| m.get_i64("reported_credits").ok());
            if reported.is_some_and(|credits| document.get_f64("cost") == Ok(credits as f64)) {
                return Ok(document);
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("no finished Conversation document for {elevenlabs_id} after {DOCUMENT_WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
