//! The envelope of DESIGN §2: one JSON message per event, metadata beside a
//! typed payload. Encoding always writes the current schema; decoding
//! upcasts older ones and refuses unknown types and newer schemas.

use std::borrow::Cow;

use chrono::{DateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::error::DecodeError;
use crate::ids::{AgentId, CorrelationId, EventId, UserId};
use crate::upcast;

/// Every `(type, current schema)` an event enum knows.
pub type EventTypes = &'static [(&'static str, u32)];

/// A family of events sharing a stream (conversation or ledger).
///
/// Implementors are adjacently tagged serde enums (`{"type", "data"}`) whose
/// tags are exactly the names in [`DomainEvent::types`].
pub trait DomainEvent: Serialize + Sized {
    /// The types of this family and their current schema.
    fn types() -> EventTypes;

    /// Builds the typed event from a stored payload, upcasting old schemas.
    fn from_data(event_type: &str, schema: u32, data: Value) -> Result<Self, DecodeError>;

    /// [`from_data`](Self::from_data) of a payload still in its JSON text.
    fn from_json_data(event_type: &str, schema: u32, data: &RawValue) -> Result<Self, DecodeError>;

    /// The dotted type name, its current schema, and the `data` payload.
    fn to_parts(&self) -> (&'static str, u32, Value) {
        let Ok(Value::Object(mut tagged)) = serde_json::to_value(self) else {
            unreachable!("adjacently tagged enums serialise to an object");
        };
        let name = tagged
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (name, schema) = Self::types()
            .iter()
            .copied()
            .find(|(known, _)| *known == name)
            .unwrap_or_else(|| unreachable!("serde tag `{name}` missing from types()"));
        let data = tagged.remove("data").unwrap_or(Value::Null);
        (name, schema, data)
    }

    /// The dotted type name, e.g. `conversation.started`.
    fn event_type(&self) -> &'static str {
        self.to_parts().0
    }
}

/// Shared `from_data` for adjacently tagged enums: check the type and schema,
/// upcast, then deserialize.
pub(crate) fn decode_adjacent<E: DeserializeOwned>(
    types: EventTypes,
    event_type: &str,
    schema: u32,
    data: Value,
) -> Result<E, DecodeError> {
    let Some(&(_, current)) = types.iter().find(|(name, _)| *name == event_type) else {
        return Err(DecodeError::UnknownType {
            event_type: event_type.to_owned(),
            schema,
        });
    };
    if schema > current {
        return Err(DecodeError::NewerSchema {
            event_type: event_type.to_owned(),
            schema,
            known: current,
        });
    }
    let data = upcast::to_current(event_type, schema, current, data)?;
    serde_json::from_value(json!({ "type": event_type, "data": data })).map_err(|source| {
        DecodeError::InvalidData {
            event_type: event_type.to_owned(),
            schema,
            source,
        }
    })
}

/// [`decode_adjacent`] of a payload still in its JSON text: at the current
/// schema it is parsed once, straight into `E`, with no [`Value`] between.
pub(crate) fn decode_adjacent_json<E: DeserializeOwned>(
    types: EventTypes,
    event_type: &str,
    schema: u32,
    data: &RawValue,
) -> Result<E, DecodeError> {
    let invalid = |source| DecodeError::InvalidData {
        event_type: event_type.to_owned(),
        schema,
        source,
    };
    match types.iter().find(|(name, _)| *name == event_type) {
        // The tag first, so serde reads the payload without buffering it;
        // `name` is a known type, with nothing to escape.
        Some(&(name, current)) if schema == current => {
            let tagged = format!(r#"{{"type":"{name}","data":{}}}"#, data.get());
            serde_json::from_str(&tagged).map_err(invalid)
        }
        _ => {
            let data = serde_json::from_str(data.get()).map_err(invalid)?;
            decode_adjacent(types, event_type, schema, data)
        }
    }
}

/// Everything about an event except its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvelopeMeta {
    pub id: EventId,
    /// Conversation id or account id, in text form.
    pub aggregate_id: String,
    /// Set once by the writer, to the millisecond (the precision of a BSON
    /// date, so projections reproduce it exactly).
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: CorrelationId,
    pub causation_id: Option<EventId>,
    pub user_id: Option<UserId>,
    pub agent_id: Option<AgentId>,
}

impl EnvelopeMeta {
    /// Metadata for a new event of `aggregate_id`, now.
    pub fn new(aggregate_id: impl Into<String>, correlation_id: CorrelationId) -> Self {
        Self {
            id: EventId::new(),
            aggregate_id: aggregate_id.into(),
            occurred_at: Utc::now().trunc_subsecs(3),
            correlation_id,
            causation_id: None,
            user_id: None,
            agent_id: None,
        }
    }

    pub fn caused_by(mut self, cause: EventId) -> Self {
        self.causation_id = Some(cause);
        self
    }

    pub fn for_user(mut self, user_id: UserId) -> Self {
        self.user_id = Some(user_id);
        self
    }

    pub fn with_agent(mut self, agent_id: AgentId) -> Self {
        self.agent_id = Some(agent_id);
        self
    }
}

/// A typed event with its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<E> {
    pub meta: EnvelopeMeta,
    pub event: E,
}

/// The JSON form on the wire. Public so tools can show events whose type
/// this build does not know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawEnvelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema: u32,
    pub aggregate_id: String,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: CorrelationId,
    #[serde(default)]
    pub causation_id: Option<EventId>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub agent_id: Option<AgentId>,
    pub data: Value,
}

impl RawEnvelope {
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        serde_json::from_slice(bytes).map_err(DecodeError::Envelope)
    }

    /// Decodes the payload into `E`, upcasting an older schema.
    pub fn into_typed<E: DomainEvent>(self) -> Result<Envelope<E>, DecodeError> {
        let event = E::from_data(&self.event_type, self.schema, self.data)?;
        Ok(Envelope {
            meta: EnvelopeMeta {
                id: self.id,
                aggregate_id: self.aggregate_id,
                occurred_at: self.occurred_at,
                correlation_id: self.correlation_id,
                causation_id: self.causation_id,
                user_id: self.user_id,
                agent_id: self.agent_id,
            },
            event,
        })
    }
}

impl<E: DomainEvent> Envelope<E> {
    pub fn new(meta: EnvelopeMeta, event: E) -> Self {
        Self { meta, event }
    }

    pub fn to_raw(&self) -> RawEnvelope {
        let (event_type, schema, data) = self.event.to_parts();
        RawEnvelope {
            id: self.meta.id,
            event_type: event_type.to_owned(),
            schema,
            aggregate_id: self.meta.aggregate_id.clone(),
            occurred_at: self.meta.occurred_at,
            correlation_id: self.meta.correlation_id,
            causation_id: self.meta.causation_id,
            user_id: self.meta.user_id,
            agent_id: self.meta.agent_id.clone(),
            data,
        }
    }

    /// The bytes of one log message.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_raw())
            .unwrap_or_else(|e| unreachable!("an envelope of JSON values always serialises: {e}"))
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let incoming: Incoming<'_> =
            serde_json::from_slice(bytes).map_err(DecodeError::Envelope)?;
        let event = E::from_json_data(&incoming.event_type, incoming.schema, incoming.data)?;
        Ok(Self {
            meta: EnvelopeMeta {
                id: incoming.id,
                aggregate_id: incoming.aggregate_id,
                occurred_at: incoming.occurred_at,
                correlation_id: incoming.correlation_id,
                causation_id: incoming.causation_id,
                user_id: incoming.user_id,
                agent_id: incoming.agent_id,
            },
            event,
        })
    }
}

/// [`RawEnvelope`] as read for decoding: the payload is borrowed, unparsed,
/// until its type says what it holds.
#[derive(Deserialize)]
struct Incoming<'a> {
    id: EventId,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    schema: u32,
    aggregate_id: String,
    occurred_at: DateTime<Utc>,
    correlation_id: CorrelationId,
    #[serde(default)]
    causation_id: Option<EventId>,
    #[serde(default)]
    user_id: Option<UserId>,
    #[serde(default)]
    agent_id: Option<AgentId>,
    #[serde(borrow)]
    data: &'a RawValue,
}
