//! `$regex` patterns: MongoDB's options (`i m s x`) mapped onto Rust's
//! regex engine. Patterns Rust cannot compile (look-around, back-references)
//! are refused with MongoDB's "Regular expression is invalid" error.

use bson::Bson;
use regex::Regex;

use crate::engine::error::EngineError;

/// A compiled query regex, remembering its BSON form for equality with
/// stored regex values.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: bson::Regex,
    compiled: Regex,
}

impl Pattern {
    /// Compiles a pattern with MongoDB option letters.
    pub fn new(pattern: &str, options: &str) -> Result<Pattern, EngineError> {
        let mut flags = String::new();
        for flag in options.chars() {
            match flag {
                'i' | 'm' | 's' | 'x' => flags.push(flag),
                // Rust regexes are always Unicode-aware.
                'u' => {}
                other => {
                    return Err(EngineError::location(
                        51108,
                        format!("invalid flag in regex options: {other}"),
                    ));
                }
            }
        }
        let full = if flags.is_empty() {
            pattern.to_owned()
        } else {
            format!("(?{flags}){pattern}")
        };
        let compiled = Regex::new(&full).map_err(|e| {
            EngineError::location(51091, format!("Regular expression is invalid: {e}"))
        })?;
        let mut sorted: Vec<char> = options.chars().collect();
        sorted.sort_unstable();
        Ok(Pattern {
            source: bson::Regex {
                pattern: pattern.to_owned(),
                options: sorted.into_iter().collect(),
            },
            compiled,
        })
    }

    /// Compiles a BSON regex value (`/abc/i`).
    pub fn from_bson(regex: &bson::Regex) -> Result<Pattern, EngineError> {
        Pattern::new(&regex.pattern, &regex.options)
    }

    /// Strings and symbols match by pattern; a stored regex matches if it is
    /// the same regex.
    pub fn matches(&self, value: &Bson) -> bool {
        match value {
            Bson::String(s) | Bson::Symbol(s) => self.compiled.is_match(s),
            Bson::RegularExpression(r) => {
                r.pattern == self.source.pattern && {
                    let mut options: Vec<char> = r.options.chars().collect();
                    options.sort_unstable();
                    options.into_iter().collect::<String>() == self.source.options
                }
            }
            _ => false,
        }
    }
}
