//! Signed-URL tokens (`conversation_signature`): issued by the REST
//! endpoint, usable to *start* a conversation for a limited time (§1.1).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;

#[derive(Debug)]
struct Issued {
    agent_id: String,
    expires_at: Instant,
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureError {
    Unknown,
    Expired,
    WrongAgent,
}

#[derive(Debug)]
pub(crate) struct SignedUrls {
    ttl: Duration,
    issued: Mutex<HashMap<String, Issued>>,
}

impl SignedUrls {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh token for `agent_id`.
    pub(crate) fn issue(&self, agent_id: &str) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let now = Instant::now();
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.retain(|_, i| i.expires_at > now);
        issued.insert(
            token.clone(),
            Issued {
                agent_id: agent_id.to_owned(),
                expires_at: now + self.ttl,
            },
        );
        token
    }

    /// The agent a token was issued for; `agent_id`, when the URL carries
    /// one, must match it.
    pub(crate) fn check(
        &self,
        token: &str,
        agent_id: Option<&str>,
    ) -> Result<String, SignatureError> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let entry = issued.get(token).ok_or(SignatureError::Unknown)?;
        if entry.expires_at <= Instant::now() {
            return Err(SignatureError::Expired);
        }
        if agent_id.is_some_and(|a| a != entry.agent_id) {
            return Err(SignatureError::WrongAgent);
        }
        Ok(entry.agent_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_agent_and_expiry() {
        let urls = SignedUrls::new(Duration::from_secs(60));
        let t = urls.issue("agent_a");
        assert_eq!(urls.check(&t, None), Ok("agent_a".to_owned()));
        assert_eq!(
            urls.check(&t, Some("agent_b")),
            Err(SignatureError::WrongAgent)
        );
        assert_eq!(urls.check("nope", None), Err(SignatureError::Unknown));
        let expired = SignedUrls::new(Duration::ZERO);
        let t = expired.issue("agent_a");
        assert_eq!(expired.check(&t, None), Err(SignatureError::Expired));
    }
}
