//! Which upstream calls still have an open socket, so a test (in this
//! process through [`crate::Simulator::open_calls`], or in another one
//! through `GET /_sim/open-calls`) can check that none was left running.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Conversation ids whose socket has not closed yet.
#[derive(Debug, Default)]
pub(crate) struct OpenCalls(Mutex<BTreeSet<String>>);

impl OpenCalls {
    /// Marks `conversation_id` open until the returned guard is dropped, so
    /// every way a session task ends (even an abort) clears it.
    pub(crate) fn open(self: &Arc<Self>, conversation_id: &str) -> OpenCall {
        self.lock().insert(conversation_id.to_owned());
        OpenCall {
            calls: self.clone(),
            conversation_id: conversation_id.to_owned(),
        }
    }

    /// The open ids, sorted.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One open call; dropping it marks the call closed.
#[derive(Debug)]
pub(crate) struct OpenCall {
    calls: Arc<OpenCalls>,
    conversation_id: String,
}

impl Drop for OpenCall {
    fn drop(&mut self) {
        self.calls.lock().remove(&self.conversation_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_open_until_its_guard_drops() {
        let calls = Arc::new(OpenCalls::default());
        let b = calls.open("conv_b");
        let a = calls.open("conv_a");
        assert_eq!(calls.ids(), ["conv_a", "conv_b"]);
        drop(b);
        assert_eq!(calls.ids(), ["conv_a"]);
        drop(a);
        assert!(calls.ids().is_empty());
    }
}
