//! Fault injection: misbehaviours a test arms in the config or at run time,
//! each consumed by the next conversation (or request) it applies to.

use std::sync::Mutex;
use std::time::Duration;

/// One misbehaviour of the real service.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Drop the TCP connection without a close frame once the agent has
    /// finished `after_agent_turns` turns (the first message counts).
    DropSocket {
        /// Agent turns completed before the drop.
        after_agent_turns: u32,
    },
    /// Send `error` (`unknown_websocket_crash`) and close **1011** once the
    /// agent has finished `after_agent_turns` turns.
    Close1011 {
        /// Agent turns completed before the close.
        after_agent_turns: u32,
    },
    /// Answer the WebSocket upgrade with HTTP 429 `too_many_concurrent_requests`.
    RefuseWs429,
    /// Answer the next authenticated REST request with HTTP 429
    /// `too_many_concurrent_requests`.
    RefuseRest429,
    /// Hold the post-call webhook back this long before its first attempt.
    DelayWebhook(Duration),
    /// Never send the post-call webhook.
    LoseWebhook,
    /// Report `metadata.cost` this many credits away from the duration estimate.
    CostDelta(i64),
}

/// A fault and how many times it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// Remaining firings; `None` fires forever.
    pub times: Option<u32>,
}

impl FaultRule {
    /// Fires once.
    pub fn once(fault: Fault) -> Self {
        Self {
            fault,
            times: Some(1),
        }
    }

    /// Fires every time.
    pub fn always(fault: Fault) -> Self {
        Self { fault, times: None }
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        Self::once(fault)
    }
}

/// The armed faults, shared by every part of the simulator.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        Self {
            rules: Mutex::new(rules),
        }
    }

    pub(crate) fn arm(&self, rule: FaultRule) {
        self.lock().push(rule);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// Consumes one firing of the first fault `pick` accepts.
    pub(crate) fn take<T>(&self, pick: impl Fn(&Fault) -> Option<T>) -> Option<T> {
        let mut rules = self.lock();
        let index = rules.iter().position(|r| pick(&r.fault).is_some())?;
        let value = pick(&rules[index].fault);
        if let Some(times) = rules[index].times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                rules.remove(index);
            }
        }
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        // A poisoned lock only means a panic elsewhere; the list stays valid.
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_fires_once_and_always_forever() {
        let faults = Faults::new(vec![FaultRule::once(Fault::LoseWebhook)]);
        let lose = |f: &Fault| (*f == Fault::LoseWebhook).then_some(());
        assert!(faults.take(lose).is_some());
        assert!(faults.take(lose).is_none());
        faults.arm(FaultRule::always(Fault::CostDelta(5)));
        let cost = |f: &Fault| match f {
            Fault::CostDelta(d) => Some(*d),
            _ => None,
        };
        assert_eq!(faults.take(cost), Some(5));
        assert_eq!(faults.take(cost), Some(5));
    }
}
