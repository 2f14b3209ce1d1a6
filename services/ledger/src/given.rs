//! Given/when/then for the pure rules: state from past commands, the events
//! a command decides, and the state after them. No I/O.

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
}

/// A ledger that has booked `commands`, in order, at the default pricing.
pub fn given(commands: &[Command]) -> Given {
    let mut given = Given {
        state: State::default(),
        pricing: Pricing::default(),
        sequence: 0,
    };
    for command in commands {
        let events = given.when(command).expect("a given command is accepted");
        given.then(command, events);
    }
    given
}

impl Given {
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
        for envelope in envelopes(account, command, cause, events) {
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
    }
}

pub fn hold(user: UserId, conversation: ConversationId) -> Command {
    Command::Hold { user, conversation }
}

pub fn charge(user: UserId, conversation: ConversationId, duration_ms: u64) -> Command {
    Command::Charge {
        user,
        conversation,
        duration_ms,
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
    }
}

/// The dotted types of `events`, for compact assertions.
pub fn types(events: &[LedgerEvent]) -> Vec<&'static str> {
    use events::DomainEvent;
    events.iter().map(DomainEvent::event_type).collect()
}
