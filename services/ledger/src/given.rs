//! Given/when/then for the pure rules: state from past commands, the events
//! a command decides, and the state after them. No I/O.

use chrono::{DateTime, Utc};
use events::command::Refusal;
use events::ledger::LedgerEvent;
use events::{AccountId, ConversationId, CorrelationId, Credits, EventId, UserId};

use crate::account::State;
use crate::book::{Cause, envelopes};
use crate::decide::{Command, decide};
use crate::pricing::Pricing;

pub struct Given {
    pub state: State,
    pub pricing: Pricing,
    sequence: u64,
    /// `occurred_at` of the events booked next; now when unset.
    clock: Option<DateTime<Utc>>,
}

/// The pricing of the rule tests: the default rate, ten-minute periods.
pub fn pricing() -> Pricing {
    Pricing {
        period_secs: 600,
        ttl_secs: 1_200,
        ..Pricing::default()
    }
}

/// A ledger that has booked `commands`, in order, at [`pricing`].
pub fn given(commands: &[Command]) -> Given {
    let mut given = Given {
        state: State::default(),
        pricing: pricing(),
        sequence: 0,
        clock: None,
    };
    for command in commands {
        given.book(command);
    }
    given
}

impl Given {
    /// Events booked from now on occurred at `at`.
    pub fn at(&mut self, at: DateTime<Utc>) {
        self.clock = Some(at);
    }

    /// Decides `command`, which must be accepted, and applies what it decided.
    pub fn book(&mut self, command: &Command) {
        let events = self.when(command).expect("a given command is accepted");
        self.then(command, events);
    }

    pub fn when(&self, command: &Command) -> Result<Vec<LedgerEvent>, Refusal> {
        decide(&self.state, &self.pricing, command)
    }

    /// Applies the `events` decided for `command` as the executor would
    /// append them, one sequence each.
    pub fn then(&mut self, command: &Command, events: Vec<LedgerEvent>) {
        let account = AccountId::User(command.user());
        let cause = Cause {
            correlation_id: CorrelationId::new(),
            causation_id: None,
        };
        for mut envelope in envelopes(account, command, cause, events) {
            if let Some(at) = self.clock {
                envelope.meta.occurred_at = at;
            }
            self.sequence += 1;
            assert!(self.state.apply(self.sequence, &envelope));
        }
        assert_eq!(self.state.total(), Credits::ZERO, "double entry holds");
    }

    pub fn available(&self, user: UserId) -> i64 {
        self.state.balance(user).available.get()
    }

    pub fn held(&self, user: UserId) -> i64 {
        self.state.balance(user).held.get()
    }
}

pub fn grant(user: UserId, credits: i64) -> Command {
    Command::Grant {
        user,
        grant_id: EventId::new(),
        credits: Credits::new(credits),
        reason: None,
        expires_at: None,
    }
}

pub fn hold(user: UserId, conversation: ConversationId) -> Command {
    Command::Hold {
        user,
        conversation,
        rate: None,
    }
}

pub fn extend(user: UserId, conversation: ConversationId, period: u32) -> Command {
    Command::Extend {
        user,
        conversation,
        period,
    }
}

pub fn expire(user: UserId, conversation: ConversationId, now: DateTime<Utc>) -> Command {
    Command::Expire {
        user,
        conversation,
        now,
    }
}

pub fn charge(user: UserId, conversation: ConversationId, duration_ms: u64) -> Command {
    Command::Charge {
        user,
        conversation,
        duration_ms,
        rate: None,
        messages: None,
    }
}

pub fn adjust(
    user: UserId,
    conversation: ConversationId,
    actual: i64,
    call_duration_ms: u64,
) -> Command {
    Command::Adjust {
        user,
        conversation,
        actual: Credits::new(actual),
        call_duration_ms,
        call_credits: None,
        llm_credits: None,
        rate: None,
    }
}

/// The dotted types of `events`, for compact assertions.
pub fn types(events: &[LedgerEvent]) -> Vec<&'static str> {
    use events::DomainEvent;
    events.iter().map(DomainEvent::event_type).collect()
}
