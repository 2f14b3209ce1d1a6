//! `$type` operands: BSON type names, numbers, and the `"number"` alias.

use bson::Bson;

use crate::engine::error::EngineError;

/// The set of types a `$type` predicate accepts.
#[derive(Debug, Clone, Default)]
pub struct TypeSet {
    codes: Vec<i32>,
    any_number: bool,
}

/// MongoDB's `$type` aliases and their type numbers.
const ALIASES: &[(&str, i32)] = &[
    ("double", 1),
    ("string", 2),
    ("object", 3),
    ("array", 4),
    ("binData", 5),
    ("undefined", 6),
    ("objectId", 7),
    ("bool", 8),
    ("date", 9),
    ("null", 10),
    ("regex", 11),
    ("dbPointer", 12),
    ("javascript", 13),
    ("symbol", 14),
    ("javascriptWithScope", 15),
    ("int", 16),
    ("timestamp", 17),
    ("long", 18),
    ("decimal", 19),
    ("minKey", -1),
    ("maxKey", 127),
];

/// The BSON type number of a value.
pub fn type_code(value: &Bson) -> i32 {
    match value {
        Bson::MinKey => -1,
        other => other.element_type() as i32,
    }
}

/// The `$type` alias of a value (`"int"`, `"string"`, …).
pub fn type_name(value: &Bson) -> &'static str {
    let code = type_code(value);
    ALIASES
        .iter()
        .find(|(_, c)| *c == code)
        .map_or("unknown", |(name, _)| name)
}

impl TypeSet {
    /// Parses a `$type` operand: one name or number, or an array of them.
    pub fn parse(operand: &Bson) -> Result<TypeSet, EngineError> {
        let mut set = TypeSet::default();
        match operand {
            Bson::Array(items) => {
                for item in items {
                    set.add(item)?;
                }
            }
            single => set.add(single)?,
        }
        Ok(set)
    }

    fn add(&mut self, operand: &Bson) -> Result<(), EngineError> {
        match operand {
            Bson::String(name) if name == "number" => self.any_number = true,
            Bson::String(name) => {
                let (_, code) =
                    ALIASES
                        .iter()
                        .find(|(alias, _)| alias == name)
                        .ok_or_else(|| {
                            EngineError::bad_value(format!("Unknown type name alias: {name}"))
                        })?;
                self.codes.push(*code);
            }
            other => {
                let code = crate::engine::order::Number::of(other)
                    .and_then(|n| n.as_i64())
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| {
                        EngineError::bad_value(format!(
                            "type must be represented as a number or a string, not {other}"
                        ))
                    })?;
                if !ALIASES.iter().any(|(_, c)| *c == code) {
                    return Err(EngineError::bad_value(format!(
                        "Invalid numerical type code: {code}"
                    )));
                }
                self.codes.push(code);
            }
        }
        Ok(())
    }

    /// Whether a value has one of the accepted types.
    pub fn contains(&self, value: &Bson) -> bool {
        let numeric = matches!(
            value,
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
        );
        (self.any_number && numeric) || self.codes.contains(&type_code(value))
    }
}
