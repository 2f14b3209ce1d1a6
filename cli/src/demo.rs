//! `parlor demo`: one simulated conversation through the running stack's
//! gateway, with ElevenLabs' own protocol (the `elevenlabs` client pointed
//! at the gateway, the demo token as its API key), then the resulting
//! Conversation document and the user's balance, both read through the
//! gateway's HTTP routes as any client of it would.

use std::time::Duration;

use anyhow::{Context, bail};
use elevenlabs::{
    ApiKey, ClientMessage, Conversation, ConversationInitiationClientData, ConversationOptions,
    Endpoints, ServerEvent, Target,
};
use serde::Deserialize;
use serde_json::Value;

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

    let http = reqwest::Client::new();
    let document = wait_for_document(&http, &demo, &elevenlabs_id).await?;
    println!("{}", serde_json::to_string_pretty(&document)?);

    let balance: UserBalance = http
        .get(format!(
            "{}/api/users/{}/balance",
            demo.gateway_url, demo.user_id
        ))
        .bearer_auth(&demo.token)
        .send()
        .await
        .context("asking the gateway for the balance")?
        .error_for_status()?
        .json()
        .await?;
    println!(
        "balance of {}: {} available, {} held",
        demo.user_id, balance.available, balance.held
    );
    Ok(())
}

/// What `GET /api/users/{userId}/balance` answers, as far as the demo prints it.
#[derive(Deserialize)]
struct UserBalance {
    available: i64,
    held: i64,
}

/// The call's document (`GET /api/conversations/{id}`) once ElevenLabs'
/// cost is in (`status: done`) and the ledger's adjustment to it has been
/// projected (`cost` is the figure).
async fn wait_for_document(
    http: &reqwest::Client,
    demo: &DemoInfo,
    elevenlabs_id: &str,
) -> anyhow::Result<Value> {
    let url = format!("{}/api/conversations/{elevenlabs_id}", demo.gateway_url);
    let deadline = tokio::time::Instant::now() + DOCUMENT_WAIT;
    loop {
        let response = http
            .get(&url)
            .bearer_auth(&demo.token)
            .send()
            .await
            .context("asking the gateway for the conversation")?;
        // 404 until the projector has the call's first event.
        if response.status() != reqwest::StatusCode::NOT_FOUND {
            let document: Value = response.error_for_status()?.json().await?;
            if finished(&document) {
                return Ok(document);
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("no finished conversation {elevenlabs_id} after {DOCUMENT_WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn finished(document: &Value) -> bool {
    let reported = document
        .pointer("/metadata/reported_credits")
        .and_then(Value::as_f64);
    document["status"] == "done"
        && reported.is_some_and(|credits| document["cost"].as_f64() == Some(credits))
}
