//! A small, documented sentiment scorer for English and Spanish messages.
//!
//! Words are lower-cased and matched against two short lexicons of
//! positive and negative words (both languages, with and without accents).
//! A negator (`not`, `no`, `never`, `nunca`, `jamás`, `ni`, …) within the
//! two words before a lexicon word flips it. With `p` positive and `n`
//! negative hits, a message scores `(p − n) / (p + n + 1)`, in (−1, 1):
//! one hit gives ±0.5, and more agreeing hits approach ±1. Above
//! [`POSITIVE_ABOVE`] is `positive`, below [`NEGATIVE_BELOW`] `negative`,
//! else `neutral`.
//!
//! A conversation's sentiment is the mean score of its user messages (what
//! the caller felt); when ElevenLabs' analysis carries a sentiment of its
//! own, that one is shown instead (`source: "elevenlabs"`).

use std::collections::HashSet;
use std::sync::LazyLock;

use mongodb::bson::{Bson, Document, doc};

/// Scores above this are `positive`.
pub const POSITIVE_ABOVE: f64 = 0.2;
/// Scores below this are `negative`.
pub const NEGATIVE_BELOW: f64 = -0.2;
/// How many words before a lexicon word a negator reaches.
const NEGATION_REACH: usize = 2;

const POSITIVE: &[&str] = &[
    // English
    "good",
    "great",
    "excellent",
    "amazing",
    "awesome",
    "perfect",
    "love",
    "like",
    "happy",
    "glad",
    "thanks",
    "thank",
    "helpful",
    "nice",
    "wonderful",
    "fantastic",
    "pleased",
    "easy",
    "fine",
    "best",
    "resolved",
    "works",
    "appreciate",
    // Spanish
    "bueno",
    "buena",
    "buenísimo",
    "genial",
    "excelente",
    "perfecto",
    "perfecta",
    "gracias",
    "encanta",
    "feliz",
    "contento",
    "contenta",
    "amable",
    "útil",
    "util",
    "fácil",
    "facil",
    "maravilloso",
    "estupendo",
    "mejor",
    "resuelto",
    "funciona",
    "agradezco",
];

const NEGATIVE: &[&str] = &[
    // English
    "bad",
    "terrible",
    "awful",
    "horrible",
    "hate",
    "angry",
    "annoyed",
    "upset",
    "problem",
    "broken",
    "wrong",
    "worst",
    "useless",
    "slow",
    "disappointed",
    "frustrated",
    "frustrating",
    "complaint",
    "cancel",
    "refund",
    "fails",
    "error",
    "poor",
    // Spanish
    "malo",
    "mala",
    "terrible",
    "horrible",
    "odio",
    "enojado",
    "enfadado",
    "molesto",
    "problema",
    "roto",
    "mal",
    "peor",
    "inútil",
    "inutil",
    "lento",
    "decepcionado",
    "frustrado",
    "queja",
    "cancelar",
    "reembolso",
    "falla",
    "fallo",
];

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "doesn't", "didn't", "isn't", "wasn't", "nunca",
    "jamás", "jamas", "ni", "tampoco", "nada",
];

/// The score of one message, in (−1, 1); 0 when no lexicon word occurs.
pub fn score(text: &str) -> f64 {
    static POSITIVE_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| set(POSITIVE));
    static NEGATIVE_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| set(NEGATIVE));
    static NEGATING_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| set(NEGATORS));
    let lowered = text.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let (mut positive, mut negative) = (0_u32, 0_u32);
    for (i, word) in words.iter().enumerate() {
        let polarity = if POSITIVE_WORDS.contains(word) {
            1
        } else if NEGATIVE_WORDS.contains(word) {
            -1
        } else {
            continue;
        };
        let negated = words
            .get(i.saturating_sub(NEGATION_REACH)..i)
            .is_some_and(|before| before.iter().any(|w| NEGATING_WORDS.contains(w)));
        match (polarity > 0) != negated {
            true => positive += 1,
            false => negative += 1,
        }
    }
    (f64::from(positive) - f64::from(negative)) / (f64::from(positive + negative) + 1.0)
}

/// A lexicon, for lookups: every message's every word is looked up.
fn set(words: &'static [&'static str]) -> HashSet<&'static str> {
    words.iter().copied().collect()
}

/// `positive`, `negative` or `neutral`.
pub fn label(score: f64) -> &'static str {
    if score > POSITIVE_ABOVE {
        "positive"
    } else if score < NEGATIVE_BELOW {
        "negative"
    } else {
        "neutral"
    }
}

/// The conversation's sentiment: ElevenLabs' when its analysis has one,
/// else the mean of the user messages' scores (`None` without any).
pub fn of_conversation(
    analysis: Option<&Document>,
    user_sum: f64,
    user_messages: i64,
) -> Option<Document> {
    if let Some(reported) = analysis.and_then(elevenlabs_sentiment) {
        return Some(reported);
    }
    if user_messages <= 0 {
        return None;
    }
    let mean = user_sum / user_messages as f64;
    Some(doc! { "score": mean, "label": label(mean), "source": "lexicon" })
}

/// `analysis.sentiment`, or the data-collection result named `sentiment`,
/// as a label (text) or a score (number).
fn elevenlabs_sentiment(analysis: &Document) -> Option<Document> {
    let value = analysis.get("sentiment").or_else(|| {
        analysis
            .get_document("data_collection_results")
            .ok()?
            .get_document("sentiment")
            .ok()?
            .get("value")
    })?;
    match value {
        Bson::String(text) => Some(doc! { "label": text.to_lowercase(), "source": "elevenlabs" }),
        Bson::Double(score) => {
            Some(doc! { "score": *score, "label": label(*score), "source": "elevenlabs" })
        }
        Bson::Int32(_) | Bson::Int64(_) => {
            let score = value.as_i64().or(value.as_i32().map(i64::from))? as f64;
            Some(doc! { "score": score, "label": label(score), "source": "elevenlabs" })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_spanish_words_score_by_polarity() {
        assert_eq!(score("This is great, thank you"), 2.0 / 3.0);
        assert_eq!(score("Esto es terrible, quiero un reembolso"), -2.0 / 3.0);
        assert_eq!(score("The weather is cloudy"), 0.0);
        assert_eq!(score("¡Muchas gracias, muy amable!"), 2.0 / 3.0);
    }

    #[test]
    fn a_negator_flips_the_word_after_it() {
        assert_eq!(score("this is not good"), -0.5);
        assert_eq!(score("no es malo"), 0.5);
        assert_eq!(label(score("I don't like it")), "negative");
    }

    #[test]
    fn labels_split_at_the_documented_thresholds() {
        assert_eq!(label(0.5), "positive");
        assert_eq!(label(0.0), "neutral");
        assert_eq!(label(-0.5), "negative");
    }

    #[test]
    fn elevenlabs_analysis_wins_over_the_lexicon() {
        let analysis = doc! { "data_collection_results": { "sentiment": { "value": "Positive" } } };
        assert_eq!(
            of_conversation(Some(&analysis), -3.0, 3),
            Some(doc! { "label": "positive", "source": "elevenlabs" })
        );
        assert_eq!(
            of_conversation(None, -1.0, 2),
            Some(doc! { "score": -0.5, "label": "negative", "source": "lexicon" })
        );
        assert_eq!(of_conversation(None, 0.0, 0), None);
    }
}
