//! The conversation read routes against read models written here in the
//! projector's shapes (mongo-memory, or `PARLOR_TEST_MONGODB_URI`): what a
//! live stack rarely reaches in a test, such as messages past the embedded
//! cap and many conversations starting in the same millisecond.

use std::time::Duration;

use events::UserId;
use gateway::{Application, Config, JwtSecret, Role};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use serde_json::Value;
use testkit::{NatsServer, TestMongo};

struct Running {
    _nats: NatsServer,
    _mongo: TestMongo,
    db: mongodb::Database,
    base: String,
    secret: JwtSecret,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    async fn start() -> Self {
        let nats = NatsServer::start().expect("nats-server");
        let mongo = TestMongo::start("gateway_reads").await.expect("mongodb");
        let secret = JwtSecret::random();
        let mut config = Config::new(
            "127.0.0.1:0".parse().expect("addr"),
            nats.url(),
            secret.clone(),
        );
        config.mongodb_uri = mongo.uri().to_owned();
        config.mongodb_database = mongo.database().to_owned();
        let db = mongodb::Client::with_uri_str(mongo.uri())
            .await
            .expect("client")
            .database(mongo.database());
        let app = Application::build(config).await.expect("build");
        let base = format!("http://{}", app.addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            _nats: nats,
            _mongo: mongo,
            db,
            base,
            secret,
            stop: Some(stop),
        }
    }

    fn token(&self, user: UserId) -> String {
        gateway::issue_token(&self.secret, user, Role::User, Duration::from_secs(600))
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("json")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn message(role: &str, text: &str, secs: i32) -> Document {
    doc! { "role": role, "message": text, "timeInCallSecs": secs, "at": DateTime::from_millis(1_000 * i64::from(secs)) }
}

/// A done conversation of `user` in the projector's shape.
fn conversation(
    id: ObjectId,
    user: UserId,
    started: DateTime,
    messages: Vec<Document>,
) -> Document {
    doc! {
        "_id": id,
        "userId": ObjectId::from_bytes(user.bytes()),
        "agentId": "agent_reads",
        "transcript": "",
        "duration": 12_i32,
        "cost": 160.0,
        "startedAt": started,
        "endedAt": started,
        "status": "done",
        "messages": messages,
        "metrics": { "totalLatency": 0_i32, "averageLatency": 0.0, "messageCount": 2_i32, "creditsUsed": 160.0, "costPerMinute": 800.0 },
        "metadata": { "elevenlabs_conversation_id": format!("conv_{}", id.to_hex()) },
        "projection": {},
    }
}

#[tokio::test]
async fn messages_past_the_embedded_cap_are_read_and_searched() {
    let running = Running::start().await;
    let user = UserId::new();
    let id = ObjectId::new();
    let mut document = conversation(
        id,
        user,
        DateTime::now(),
        vec![message("user", "first", 0), message("agent", "second", 1)],
    );
    document
        .get_document_mut("metadata")
        .expect("metadata")
        .insert(
            "messages_overflow",
            doc! { "collection": "conversation_messages", "count": 3_i64 },
        );
    running
        .db
        .collection::<Document>("conversations")
        .insert_one(document)
        .await
        .expect("insert");
    let overflow: Vec<Document> = [
        (4, "agent", "fifth"),
        (2, "user", "third zebra"),
        (3, "agent", "fourth"),
    ]
    .into_iter()
    .map(|(index, role, text)| {
        let mut m = message(role, text, index);
        m.insert("_id", format!("{}:{index}", id.to_hex()));
        m.insert("conversationId", id);
        m.insert("index", i64::from(index));
        m
    })
    .collect();
    running
        .db
        .collection::<Document>("conversation_messages")
        .insert_many(overflow)
        .await
        .expect("insert");
    let token = running.token(user);

    let whole = running
        .get(&token, &format!("/api/conversations/{}", id.to_hex()))
        .await;
    let texts: Vec<&str> = whole["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["first", "second", "third zebra", "fourth", "fifth"]);
    let elevenlabs = running
        .get(
            &token,
            &format!("/v1/convai/conversations/conv_{}", id.to_hex()),
        )
        .await;
    assert_eq!(elevenlabs["transcript"].as_array().map(Vec::len), Some(5));
    assert_eq!(elevenlabs["transcript"][2]["message"], "third zebra");

    let found = running.get(&token, "/api/conversations?q=ZEBRA").await;
    assert_eq!(found["conversations"][0]["id"], id.to_hex());
    let found = running
        .get(&token, "/v1/convai/conversations?search=zebra")
        .await;
    assert_eq!(found["conversations"].as_array().map(Vec::len), Some(1));
    let stranger = running.token(UserId::new());
    let found = running.get(&stranger, "/api/conversations?q=zebra").await;
    assert_eq!(found["conversations"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn conversations_started_in_the_same_millisecond_page_without_gaps() {
    let running = Running::start().await;
    let user = UserId::new();
    let at = DateTime::from_millis(1_700_000_000_000);
    let later = DateTime::from_millis(1_700_000_000_001);
    let mut ids: Vec<ObjectId> = (0..7).map(|_| ObjectId::new()).collect();
    let documents: Vec<Document> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| conversation(*id, user, if i == 0 { later } else { at }, Vec::new()))
        .collect();
    running
        .db
        .collection::<Document>("conversations")
        .insert_many(documents)
        .await
        .expect("insert");
    let token = running.token(user);
    // Newest first, then by id, highest first.
    let newest = ids.remove(0);
    ids.sort();
    ids.reverse();
    ids.insert(0, newest);
    let expected: Vec<String> = ids.iter().map(|id| id.to_hex()).collect();
    for (base, key) in [
        ("/api/conversations?page_size=3", "id"),
        ("/v1/convai/conversations?page_size=3", "conversation_id"),
    ] {
        let mut seen = Vec::new();
        let mut path = base.to_owned();
        for _ in 0..10 {
            let page = running.get(&token, &path).await;
            for item in page["conversations"].as_array().expect("page") {
                let id = item[key].as_str().expect("id");
                seen.push(id.trim_start_matches("conv_").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("{base}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{base}");
    }
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_a_problem() {
    let running = Running::start().await;
    let token = running.token(UserId::new());
    for path in [
        "/api/conversations/%FF",
        "/v1/convai/conversations/%FF",
        "/api/agents/%FF/stats",
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", running.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}
