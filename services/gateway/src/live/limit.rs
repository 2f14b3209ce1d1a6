//! `LiveCalls`: how many live calls each user holds open through this
//! gateway copy. The count is per copy: with several copies a user could hold
//! the limit on each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use events::UserId;

#[derive(Debug)]
pub struct LiveCalls {
    per_user_max: usize,
    open: Mutex<HashMap<UserId, usize>>,
}

/// One open call; dropping it frees the slot.
#[derive(Debug)]
pub struct LiveCall {
    calls: Arc<LiveCalls>,
    user_id: UserId,
}

impl LiveCalls {
    pub fn new(per_user_max: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user_max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `user_id`, or `None` when the user is at the limit.
    pub fn begin(self: &Arc<Self>, user_id: UserId) -> Option<LiveCall> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user_id).or_insert(0);
        if *count >= self.per_user_max {
            return None;
        }
        *count += 1;
        Some(LiveCall {
            calls: Arc::clone(self),
            user_id,
        })
    }
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        let mut open = self
            .calls
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_the_limit_and_slots_come_back() {
        let calls = LiveCalls::new(2);
        let (alice, bob) = (UserId::new(), UserId::new());
        let first = calls.begin(alice).expect("first");
        let _second = calls.begin(alice).expect("second");
        assert!(calls.begin(alice).is_none());
        assert!(calls.begin(bob).is_some());
        drop(first);
        assert!(calls.begin(alice).is_some());
    }
}
