//! Upcasters: rewrite the `data` of an old schema into the current one, one
//! version step at a time, before the typed decode. Events in the log are
//! never rewritten; readers upcast.

use serde_json::Value;

use crate::error::DecodeError;

/// Brings `data` of `event_type` from `schema` up to `current`.
pub(crate) fn to_current(
    event_type: &str,
    mut schema: u32,
    current: u32,
    mut data: Value,
) -> Result<Value, DecodeError> {
    while schema < current {
        data = step(event_type, schema, data)?;
        schema += 1;
    }
    Ok(data)
}

/// One step, `schema` → `schema + 1`.
fn step(event_type: &str, schema: u32, data: Value) -> Result<Value, DecodeError> {
    match (event_type, schema) {
        ("conversation.ended", 1) => ended_v1_to_v2(data),
        _ => Err(DecodeError::Upcast {
            event_type: event_type.to_owned(),
            schema,
            reason: "no upcaster for this version".to_owned(),
        }),
    }
}

/// `conversation.ended` v1 counted whole seconds in `duration_secs`; v2
/// counts milliseconds in `duration_ms`, like every other duration.
fn ended_v1_to_v2(mut data: Value) -> Result<Value, DecodeError> {
    let err = |reason: &str| DecodeError::Upcast {
        event_type: "conversation.ended".to_owned(),
        schema: 1,
        reason: reason.to_owned(),
    };
    let obj = data
        .as_object_mut()
        .ok_or_else(|| err("data is not an object"))?;
    let secs = obj
        .remove("duration_secs")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| err("`duration_secs` missing or not a whole number"))?;
    let ms = secs
        .checked_mul(1000)
        .ok_or_else(|| err("`duration_secs` overflows milliseconds"))?;
    obj.insert("duration_ms".to_owned(), Value::from(ms));
    Ok(data)
}
