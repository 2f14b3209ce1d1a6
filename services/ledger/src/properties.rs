//! Property tests over the pure core: random interleavings of grants
//! (some expiring), holds, extensions, text-only pricing, ends, cost
//! reports (late, repeated, reordered), corrections, timer sweeps,
//! redeliveries, appends cut short and restarts.
//! After every step the money rules of DESIGN §4 hold.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use events::ledger::LedgerEvent;
use events::{
    AccountId, ConversationId, CorrelationId, Credits, Envelope, EventId, SystemAccount, UserId,
};
use proptest::prelude::*;

use crate::account::State;
use crate::book::{Cause, envelopes};
use crate::correct::Correction;
use crate::decide::{Command, decide};
use crate::pricing::Pricing;
use crate::{expiry, grant};

const USERS: usize = 2;
const CONVERSATIONS: usize = 4;

#[derive(Clone, Debug)]
enum Step {
    Grant {
        user: usize,
        credits: i64,
        expires_in_s: Option<i64>,
    },
    Hold {
        conversation: usize,
    },
    Extend {
        conversation: usize,
        period: u32,
    },
    End {
        conversation: usize,
        duration_s: u64,
        messages: u32,
    },
    /// The call turns out text-only.
    TextOnly {
        conversation: usize,
    },
    /// Finance corrects a balance, either way.
    Correct {
        user: usize,
        credits: i64,
    },
    Report {
        conversation: usize,
        credits: i64,
        duration_s: u64,
    },
    /// Time passes and the timer sweeps.
    Tick {
        seconds: i64,
    },
    /// A past command comes again (a redelivery, a retried request).
    Redeliver {
        index: usize,
    },
    /// The next command's append stops after its first event (a crash).
    CutShort,
    /// The state is thrown away and rebuilt from the log.
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    let conversation = 0..CONVERSATIONS;
    prop_oneof![
        (0..USERS, 1..3_000i64, proptest::option::of(1..600i64)).prop_map(
            |(user, credits, expires_in_s)| Step::Grant {
                user,
                credits,
                expires_in_s
            }
        ),
        conversation
            .clone()
            .prop_map(|conversation| Step::Hold { conversation }),
        (conversation.clone(), 1..5u32).prop_map(|(conversation, period)| Step::Extend {
            conversation,
            period
        }),
        (conversation.clone(), 0..400u64, 0..60u32).prop_map(
            |(conversation, duration_s, messages)| Step::End {
                conversation,
                duration_s,
                messages
            }
        ),
        conversation
            .clone()
            .prop_map(|conversation| Step::TextOnly { conversation }),
        (0..USERS, -2_000..2_000i64).prop_map(|(user, credits)| Step::Correct { user, credits }),
        (conversation, 0..20_000i64, 0..400u64).prop_map(|(conversation, credits, duration_s)| {
            Step::Report {
                conversation,
                credits,
                duration_s,
            }
        }),
        (1..200i64).prop_map(|seconds| Step::Tick { seconds }),
        (0..64usize).prop_map(|index| Step::Redeliver { index }),
        Just(Step::CutShort),
        Just(Step::Restart),
    ]
}

struct Model {
    pricing: Pricing,
    state: State,
    log: Vec<(u64, Envelope<LedgerEvent>)>,
    now: DateTime<Utc>,
    users: Vec<UserId>,
    conversations: Vec<(ConversationId, usize)>,
    history: Vec<Command>,
    cut_short: bool,
    /// The first report booked per conversation.
    reported: HashMap<ConversationId, Credits>,
}

impl Model {
    fn new() -> Self {
        let users: Vec<UserId> = (0..USERS).map(|_| UserId::new()).collect();
        Self {
            pricing: Pricing {
                period_secs: 60,
                ttl_secs: 180,
                ..Pricing::default()
            },
            state: State::default(),
            log: Vec::new(),
            now: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            conversations: (0..CONVERSATIONS)
                .map(|i| (ConversationId::new(), i % USERS))
                .collect(),
            users,
            history: Vec::new(),
            cut_short: false,
            reported: HashMap::new(),
        }
    }

    /// Decides and appends as `Book::execute` does (one event per append,
    /// each applied at its sequence); a refusal books nothing.
    fn execute(&mut self, command: &Command) {
        let Ok(events) = decide(&self.state, &self.pricing, command) else {
            return;
        };
        let cause = Cause {
            correlation_id: CorrelationId::new(),
            causation_id: None,
        };
        let account = AccountId::User(command.user());
        let mut envelopes = envelopes(account, command, cause, events);
        if std::mem::take(&mut self.cut_short) {
            envelopes.truncate(1);
        }
        for mut envelope in envelopes {
            envelope.meta.occurred_at = self.now;
            if let LedgerEvent::ChargeAdjusted(a) = &envelope.event {
                self.reported.entry(a.conversation_id).or_insert(a.actual);
            }
            let sequence = self.log.len() as u64 + 1;
            assert!(self.state.apply(sequence, &envelope));
            self.log.push((sequence, envelope));
        }
    }

    fn run(&mut self, step: &Step) {
        let user_of = |model: &Self, i: usize| model.users[model.conversations[i].1];
        let command = match *step {
            Step::Grant {
                user,
                credits,
                expires_in_s,
            } => Command::Grant {
                user: self.users[user],
                grant_id: EventId::new(),
                credits: Credits::new(credits),
                reason: None,
                expires_at: expires_in_s.map(|s| self.now + Duration::seconds(s)),
            },
            Step::Hold { conversation } => Command::Hold {
                user: user_of(self, conversation),
                conversation: self.conversations[conversation].0,
                rate: None,
            },
            Step::Extend {
                conversation,
                period,
            } => Command::Extend {
                user: user_of(self, conversation),
                conversation: self.conversations[conversation].0,
                period,
            },
            Step::End {
                conversation,
                duration_s,
                messages,
            } => Command::Charge {
                user: user_of(self, conversation),
                conversation: self.conversations[conversation].0,
                duration_ms: duration_s * 1000,
                rate: None,
                messages: Some(messages),
            },
            Step::TextOnly { conversation } => Command::PricePerMessage {
                user: user_of(self, conversation),
                conversation: self.conversations[conversation].0,
                credits_per_message: 14,
            },
            Step::Correct { user, credits } => Command::Correct {
                user: self.users[user],
                correction: Correction {
                    id: EventId::new(),
                    credits: Credits::new(credits),
                    reason: "property".to_owned(),
                    actor: "proptest".to_owned(),
                },
            },
            Step::Report {
                conversation,
                credits,
                duration_s,
            } => Command::Adjust {
                user: user_of(self, conversation),
                conversation: self.conversations[conversation].0,
                actual: Credits::new(credits),
                call_duration_ms: duration_s * 1000,
                call_credits: None,
                llm_credits: None,
                rate: None,
            },
            Step::Tick { seconds } => {
                self.now += Duration::seconds(seconds);
                self.sweep();
                return;
            }
            Step::Redeliver { index } => match self.history.get(index) {
                Some(command) => command.clone(),
                None => return,
            },
            Step::CutShort => {
                self.cut_short = true;
                return;
            }
            Step::Restart => {
                let mut rebuilt = State::default();
                for (sequence, envelope) in &self.log {
                    rebuilt.apply(*sequence, envelope);
                }
                for user in &self.users {
                    assert_eq!(
                        rebuilt.user(*user),
                        self.state.user(*user),
                        "replay rebuilds the state"
                    );
                }
                self.state = rebuilt;
                return;
            }
        };
        let before: Vec<Credits> = self
            .users
            .iter()
            .map(|u| self.state.balance(*u).available)
            .collect();
        self.execute(&command);
        // Only ElevenLabs' figure and finance's hand may take a user below zero.
        if !matches!(command, Command::Adjust { .. } | Command::Correct { .. }) {
            for (user, before) in self.users.iter().zip(before) {
                let after = self.state.balance(*user).available;
                assert!(
                    after >= Credits::ZERO || after >= before,
                    "our estimate took {user} from {} to {}: {command:?}",
                    before.get(),
                    after.get()
                );
            }
        }
        self.history.push(command);
    }

    /// What the timer does at `now`: every due hold and grant expires.
    fn sweep(&mut self) {
        let now = self.now;
        for due in expiry::due(&self.state, &self.pricing, now) {
            self.execute(&Command::Expire {
                user: due.user,
                conversation: due.conversation,
                now,
            });
        }
        for (user, grant_id) in grant::due(&self.state, now) {
            self.execute(&Command::ExpireGrant {
                user,
                grant_id,
                now,
            });
        }
        let ttl = Duration::seconds(i64::from(self.pricing.ttl_secs));
        for (user, account) in self.state.users() {
            for (conversation, money) in &account.conversations {
                if money.hold_open > Credits::ZERO && !money.is_charged() {
                    let held_at = money.last_hold.map(|m| m.at).unwrap_or(now);
                    assert!(
                        now - held_at < ttl,
                        "the hold of {conversation} ({user}) outlived its TTL"
                    );
                }
            }
        }
    }

    /// The money rules, checked against the log itself.
    fn check(&self) {
        assert_eq!(
            self.state.total(),
            Credits::ZERO,
            "the sum of balances is zero"
        );
        let mut charges: HashMap<ConversationId, (usize, usize, Credits)> = HashMap::new();
        for (_, envelope) in &self.log {
            let (conversation, charge, adjust) = match &envelope.event {
                LedgerEvent::HoldCaptured(e) => (e.conversation_id, 1, 0),
                LedgerEvent::UsageCharged(e) => (e.conversation_id, 0, 0),
                LedgerEvent::ChargeAdjusted(e) => (e.conversation_id, 0, 1),
                _ => continue,
            };
            let entry = charges.entry(conversation).or_default();
            entry.0 += charge;
            entry.1 += adjust;
            entry.2 = entry.2
                + envelope
                    .event
                    .postings()
                    .iter()
                    .filter(|p| {
                        matches!(
                            p.account,
                            AccountId::System(SystemAccount::Usage | SystemAccount::Adjustments)
                        )
                    })
                    .map(|p| p.credits)
                    .sum();
        }
        for (conversation, (captures, adjustments, charged)) in charges {
            assert!(captures <= 1, "{conversation} captured {captures} times");
            assert!(
                adjustments <= 1,
                "{conversation} adjusted {adjustments} times"
            );
            if let Some(reported) = self.reported.get(&conversation) {
                assert_eq!(charged, *reported, "{conversation} pays what was reported");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_money_rules_hold_after_every_step(steps in proptest::collection::vec(step(), 1..80)) {
        let mut model = Model::new();
        for step in &steps {
            model.run(step);
            model.check();
        }
    }
}
