//! One agent turn being spoken: its text, its audio chunks (all sharing the
//! turn's `event_id`) spread over the playback window, and the truncation
//! an interruption leaves.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::audio::Format;
use crate::config::TimingConfig;

/// What a finished or interrupted turn adds to the transcript.
#[derive(Debug, Default, Clone)]
pub(crate) struct TurnExtras {
    pub(crate) tool_calls: Vec<Value>,
    pub(crate) tool_results: Vec<Value>,
    pub(crate) latency: Option<Duration>,
    pub(crate) end_call: bool,
}

#[derive(Debug)]
pub(crate) struct Speech {
    pub(crate) event_id: u64,
    pub(crate) text: String,
    pub(crate) extras: TurnExtras,
    /// Offset into the call when the turn started.
    pub(crate) time_in_call: Duration,
    chunks: VecDeque<String>,
    total_chunks: usize,
    started: Instant,
    window: Duration,
}

impl Speech {
    /// A turn starting now; `format` is `None` in text-only mode.
    pub(crate) fn new(
        text: String,
        event_id: u64,
        format: Option<Format>,
        timing: &TimingConfig,
        extras: TurnExtras,
    ) -> Self {
        let chars = text.chars().count() as f64;
        let spoken = Duration::from_secs_f64(chars / timing.speech_chars_per_sec.max(1.0));
        let mut chunks = VecDeque::new();
        if let Some(format) = format {
            let step = timing.audio_chunk.max(Duration::from_millis(10));
            let mut at = Duration::ZERO;
            while at < spoken {
                let len = step.min(spoken - at);
                let bytes = format.tone(format.samples_in(at), len);
                chunks.push_back(STANDARD.encode(bytes));
                at += len;
            }
        }
        let window = if format.is_some() {
            spoken.mul_f64(timing.speech_pacing.max(0.0))
        } else {
            Duration::ZERO
        };
        Self {
            event_id,
            text,
            extras,
            time_in_call: Duration::ZERO,
            total_chunks: chunks.len(),
            chunks,
            started: Instant::now(),
            window,
        }
    }

    fn sent(&self) -> usize {
        self.total_chunks - self.chunks.len()
    }

    /// When the next chunk is due, or playback ends.
    pub(crate) fn next_due(&self) -> Instant {
        if self.chunks.is_empty() {
            return self.started + self.window;
        }
        let fraction = self.sent() as f64 / self.total_chunks as f64;
        self.started + self.window.mul_f64(fraction)
    }

    /// Base64 chunks due by `now`.
    pub(crate) fn due_chunks(&mut self, now: Instant) -> Vec<String> {
        let mut due = Vec::new();
        while !self.chunks.is_empty() && self.next_due() <= now {
            if let Some(chunk) = self.chunks.pop_front() {
                due.push(chunk);
            }
        }
        due
    }

    /// All audio sent and played out.
    pub(crate) fn finished(&self, now: Instant) -> bool {
        self.chunks.is_empty() && now >= self.started + self.window
    }

    /// Part of the turn the user has heard by `now`, 0 to 1.
    pub(crate) fn heard_fraction(&self, now: Instant) -> f64 {
        if self.window.is_zero() {
            return 1.0;
        }
        (now.saturating_duration_since(self.started).as_secs_f64() / self.window.as_secs_f64())
            .clamp(0.0, 1.0)
    }

    /// The text heard by `now`, cut at a word boundary.
    pub(crate) fn heard_text(&self, now: Instant) -> String {
        let chars: Vec<char> = self.text.chars().collect();
        let cut = (chars.len() as f64 * self.heard_fraction(now)).ceil() as usize;
        let heard: String = chars[..cut.min(chars.len())].iter().collect();
        if cut >= chars.len() {
            return heard;
        }
        match heard.rfind(' ') {
            Some(space) => heard[..space].to_owned(),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_spoken_length() {
        let timing = TimingConfig::fast();
        let format = Format::parse("pcm_16000");
        let mut s = Speech::new("x".repeat(30), 1, format, &timing, TurnExtras::default());
        let chunks = s.due_chunks(Instant::now());
        assert_eq!(chunks.len(), 8);
        let bytes: usize = chunks
            .iter()
            .map(|c| STANDARD.decode(c).map(|b| b.len()).unwrap_or(0))
            .sum();
        assert_eq!(bytes, 2 * 16000 * 2);
        assert!(s.finished(Instant::now()));
    }

    #[test]
    fn paced_speech_is_cut_at_a_word() {
        let timing = TimingConfig {
            speech_pacing: 1.0,
            ..TimingConfig::fast()
        };
        let s = Speech::new(
            "one two three four".into(),
            1,
            Format::parse("pcm_8000"),
            &timing,
            TurnExtras::default(),
        );
        let half = s.started + s.window / 2;
        assert_eq!(s.heard_text(half), "one two");
        assert_eq!(s.heard_text(s.started + s.window), "one two three four");
    }
}
