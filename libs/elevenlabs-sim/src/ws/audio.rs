//! Audio: the `<pcm|ulaw>_<rate>` formats of §1.4, synthesised agent
//! speech (a quiet tone) and a level detector for user audio.

use std::f64::consts::TAU;
use std::time::Duration;

/// Pitch of the synthesised agent voice.
const TONE_HZ: f64 = 220.0;
/// Tone amplitude as a fraction of full scale.
const TONE_LEVEL: f64 = 0.25;
/// RMS (fraction of full scale) above which user audio counts as speech.
pub(crate) const SPEECH_RMS: f64 = 0.02;

/// A parsed audio format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Format {
    ulaw: bool,
    rate: u32,
}

impl Format {
    /// `pcm_16000`, the default both ways.
    pub(crate) const PCM_16000: Self = Self {
        ulaw: false,
        rate: 16000,
    };

    /// `pcm_16000`, `ulaw_8000`, …; `None` for anything else.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let (kind, rate) = name.split_once('_')?;
        let rate: u32 = rate.parse().ok()?;
        match (kind, rate) {
            ("pcm", 8000 | 16000 | 22050 | 24000 | 44100 | 48000) => {
                Some(Self { ulaw: false, rate })
            }
            ("ulaw", 8000) => Some(Self { ulaw: true, rate }),
            _ => None,
        }
    }

    fn bytes_per_sample(self) -> usize {
        if self.ulaw { 1 } else { 2 }
    }

    /// Audio length of `len` bytes.
    pub(crate) fn duration_of(self, len: usize) -> Duration {
        let samples = len / self.bytes_per_sample();
        Duration::from_secs_f64(samples as f64 / f64::from(self.rate))
    }

    /// `duration` of tone starting at sample `offset`, encoded.
    pub(crate) fn tone(self, offset: u64, duration: Duration) -> Vec<u8> {
        let samples = (duration.as_secs_f64() * f64::from(self.rate)).round() as u64;
        let mut out = Vec::with_capacity(samples as usize * self.bytes_per_sample());
        for n in offset..offset + samples {
            let t = n as f64 / f64::from(self.rate);
            let value = ((TAU * TONE_HZ * t).sin() * TONE_LEVEL * f64::from(i16::MAX)) as i16;
            if self.ulaw {
                out.push(ulaw_encode(value));
            } else {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        out
    }

    /// RMS level of `bytes` as a fraction of full scale.
    pub(crate) fn rms(self, bytes: &[u8]) -> f64 {
        let samples: Vec<f64> = if self.ulaw {
            bytes.iter().map(|b| f64::from(ulaw_decode(*b))).collect()
        } else {
            bytes
                .chunks_exact(2)
                .map(|p| f64::from(i16::from_le_bytes([p[0], p[1]])))
                .collect()
        };
        if samples.is_empty() {
            return 0.0;
        }
        let mean_square = samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64;
        mean_square.sqrt() / f64::from(i16::MAX)
    }

    /// Samples in `duration`, for tone phase bookkeeping.
    pub(crate) fn samples_in(self, duration: Duration) -> u64 {
        (duration.as_secs_f64() * f64::from(self.rate)).round() as u64
    }
}

/// G.711 μ-law encoding of one sample.
fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = i32::from(sample);
    let sign = if s < 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s;
    }
    s = s.min(CLIP) + BIAS;
    // s >= BIAS > 128, so s >> 7 >= 1 and the exponent is 0..=7.
    let exponent = 31 - (s >> 7).leading_zeros() as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// G.711 μ-law decoding of one byte.
fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_formats() {
        assert!(Format::parse("pcm_16000").is_some());
        assert!(Format::parse("ulaw_8000").is_some());
        assert!(Format::parse("pcm_1234").is_none());
        assert!(Format::parse("mp3_44100").is_none());
    }

    #[test]
    fn tone_has_the_right_length_and_is_loud() {
        let f = Format::parse("pcm_16000").expect("format");
        let tone = f.tone(0, Duration::from_millis(250));
        assert_eq!(tone.len(), 8000);
        assert_eq!(f.duration_of(tone.len()), Duration::from_millis(250));
        assert!(f.rms(&tone) > SPEECH_RMS);
        assert!(f.rms(&vec![0u8; 8000]) < SPEECH_RMS);
    }

    #[test]
    fn ulaw_round_trips_closely() {
        for s in [-30000i16, -1000, -10, 0, 10, 1000, 30000] {
            let back = ulaw_decode(ulaw_encode(s));
            assert!(
                (i32::from(back) - i32::from(s)).abs() <= i32::from(s).abs() / 16 + 8,
                "{s} -> {back}"
            );
        }
        let f = Format::parse("ulaw_8000").expect("format");
        assert!(f.rms(&f.tone(0, Duration::from_millis(100))) > SPEECH_RMS);
    }
}
