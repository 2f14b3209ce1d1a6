//! Reconciliation, a pure function of the log: per conversation what was
//! held, estimated, finally charged and reported by ElevenLabs (call and
//! LLM parts), the difference and its cause, and the flags; conversations
//! with no cost report; charges without a conversation; per-user and total
//! sums; and the trial balance, which must be zero.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::conversation::ConversationEvent;
use events::ledger::{ChargeFlag, LedgerEvent};
use events::{AccountId, ConversationId, Credits, SystemAccount, UserId};
use serde::{Deserialize, Serialize};

use crate::history::History;
use crate::pricing::estimate;
use crate::rates::{Decimal, Price};

/// Which conversations a report covers: those whose first event occurred
/// in `[from, to)`; the trial balance is taken at `to`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to)
    }

    fn before_end(&self, at: DateTime<Utc>) -> bool {
        self.to.is_none_or(|to| at < to)
    }
}

/// Why the final charge differs from our estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// ElevenLabs passed an LLM cost through on top of the call.
    LlmPassThrough,
    /// The report bills another call time than the one we estimated.
    Duration,
    /// The report bills the call at another rate than our rate card's.
    Rate,
}

/// Something finance must look at that is not on a ledger event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    /// The call ended but ElevenLabs has not reported its cost.
    NoCostReport,
    /// The ledger charged a conversation the conversation log does not know.
    ChargeWithoutConversation,
    /// ElevenLabs reported a cost the ledger has not booked.
    ReportNotBooked,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationLine {
    pub conversation_id: ConversationId,
    pub user_id: Option<UserId>,
    pub agent_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    /// Everything held for the call (start hold and extensions).
    pub held: Credits,
    pub extensions: u32,
    pub hold_expired: bool,
    /// What our duration estimate charged.
    pub estimate: Credits,
    /// What the user finally paid: ElevenLabs' figure once booked.
    pub final_charge: Credits,
    /// The same, as the postings to the usage and adjustments accounts say.
    pub posted: Credits,
    pub reported: Option<Credits>,
    pub reported_call: Option<Credits>,
    pub reported_llm: Option<Credits>,
    pub difference: Credits,
    pub cause: Option<Cause>,
    pub flags: Vec<ChargeFlag>,
    pub issues: Vec<Issue>,
    /// `final_charge` in money.
    pub amount: Decimal,
    #[serde(skip)]
    rate: Option<u32>,
    #[serde(skip)]
    reported_duration_ms: Option<u64>,
    #[serde(skip)]
    ended: bool,
    #[serde(skip)]
    adjusted: bool,
}

/// Sums over conversations, per user or in total.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    pub conversations: usize,
    pub estimate: Credits,
    pub final_charge: Credits,
    pub posted: Credits,
    pub reported: Credits,
    pub difference: Credits,
    pub flagged: usize,
    pub amount: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserSums {
    pub user_id: UserId,
    #[serde(flatten)]
    pub sums: Sums,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrialBalance {
    /// Every account's balance at the window's end.
    pub accounts: BTreeMap<String, Credits>,
    /// Their sum: zero, or double entry broke.
    pub total: Credits,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub window: Window,
    pub price: Price,
    pub conversations: Vec<ConversationLine>,
    pub no_cost_report: Vec<ConversationId>,
    pub charges_without_conversation: Vec<ConversationId>,
    pub users: Vec<UserSums>,
    pub totals: Sums,
    pub trial_balance: TrialBalance,
}

/// The reconciliation of `history` over `window`, money at `price`.
pub fn reconcile(history: &History, window: Window, price: &Price) -> Report {
    let mut lines: BTreeMap<ConversationId, ConversationLine> = BTreeMap::new();
    let mut known = std::collections::HashSet::new();
    for logged in &history.conversations {
        let meta = &logged.envelope.meta;
        let Ok(id) = meta.aggregate_id.parse::<ConversationId>() else {
            continue;
        };
        known.insert(id);
        let line = line_of(&mut lines, id, meta.occurred_at);
        line.user_id = line.user_id.or(meta.user_id);
        if line.agent_id.is_none() {
            line.agent_id = meta.agent_id.as_ref().map(ToString::to_string);
        }
        match &logged.envelope.event {
            ConversationEvent::Ended(_)
            | ConversationEvent::Failed(_)
            | ConversationEvent::TranscriptSubmitted(_) => line.ended = true,
            ConversationEvent::CostReported(r) if line.reported.is_none() => {
                line.reported = Some(r.credits);
                line.reported_duration_ms = Some(r.call_duration_ms);
            }
            _ => {}
        }
    }
    let mut trial = BTreeMap::new();
    for logged in &history.ledger {
        let envelope = &logged.envelope;
        if window.before_end(envelope.meta.occurred_at) {
            for posting in envelope.event.postings() {
                let balance = trial
                    .entry(posting.account.to_string())
                    .or_insert(Credits::ZERO);
                *balance = *balance + posting.credits;
            }
        }
        let Some(id) = conversation_of(&envelope.event) else {
            continue;
        };
        let line = line_of(&mut lines, id, envelope.meta.occurred_at);
        line.user_id = line.user_id.or(envelope.meta.user_id);
        book(line, &envelope.event);
    }
    let mut report = Report {
        window,
        price: price.clone(),
        ..Report::default()
    };
    let mut users: BTreeMap<UserId, Sums> = BTreeMap::new();
    for (id, mut line) in lines {
        if !line.started_at.is_some_and(|at| window.contains(at)) {
            continue;
        }
        finish(&mut line, known.contains(&id), price);
        if line.issues.contains(&Issue::NoCostReport) {
            report.no_cost_report.push(id);
        }
        if line.issues.contains(&Issue::ChargeWithoutConversation) {
            report.charges_without_conversation.push(id);
        }
        add(&mut report.totals, &line);
        if let Some(user) = line.user_id {
            add(users.entry(user).or_default(), &line);
        }
        report.conversations.push(line);
    }
    report.users = users
        .into_iter()
        .map(|(user_id, sums)| UserSums { user_id, sums })
        .collect();
    report.trial_balance = TrialBalance {
        total: trial.values().copied().sum(),
        accounts: trial,
    };
    report
}

/// The line of conversation `id`, first seen no later than `at`.
fn line_of(
    lines: &mut BTreeMap<ConversationId, ConversationLine>,
    id: ConversationId,
    at: DateTime<Utc>,
) -> &mut ConversationLine {
    let line = lines.entry(id).or_insert_with(|| ConversationLine {
        conversation_id: id,
        ..ConversationLine::default()
    });
    line.started_at = Some(line.started_at.map_or(at, |s| s.min(at)));
    line
}

fn conversation_of(event: &LedgerEvent) -> Option<ConversationId> {
    match event {
        LedgerEvent::CreditsHeld(e) => Some(e.conversation_id),
        LedgerEvent::HoldCaptured(e) => Some(e.conversation_id),
        LedgerEvent::HoldReleased(e) => Some(e.conversation_id),
        LedgerEvent::UsageCharged(e) => Some(e.conversation_id),
        LedgerEvent::ChargeAdjusted(e) => Some(e.conversation_id),
        LedgerEvent::CallPricedPerMessage(e) => Some(e.conversation_id),
        LedgerEvent::AccountOpened(_)
        | LedgerEvent::CreditsGranted(_)
        | LedgerEvent::CreditsExpired(_)
        | LedgerEvent::CreditsCorrected(_) => None,
    }
}

/// What one ledger event adds to its conversation's line.
fn book(line: &mut ConversationLine, event: &LedgerEvent) {
    let to_charges = |account: AccountId| {
        matches!(
            account,
            AccountId::System(SystemAccount::Usage | SystemAccount::Adjustments)
        )
    };
    match event {
        LedgerEvent::CreditsHeld(e) => {
            line.held = line.held + e.credits;
            line.extensions = line.extensions.max(e.period);
            line.rate = line.rate.or(e.credits_per_minute);
        }
        LedgerEvent::HoldCaptured(e) => line.estimate = line.estimate + e.credits,
        LedgerEvent::UsageCharged(e) => line.estimate = line.estimate + e.credits,
        LedgerEvent::HoldReleased(e) => {
            line.hold_expired |= e.reason == events::ledger::ReleaseReason::Expired;
        }
        LedgerEvent::ChargeAdjusted(e) => {
            line.reported = Some(e.actual);
            line.reported_call = e.detail.call_credits;
            line.reported_llm = e.detail.llm_credits;
            line.reported_duration_ms = e.detail.reported_duration_ms.or(line.reported_duration_ms);
            line.flags.clone_from(&e.detail.flags);
            line.adjusted = true;
        }
        _ => {}
    }
    line.posted = line.posted
        + event
            .postings()
            .iter()
            .filter(|p| to_charges(p.account))
            .map(|p| p.credits)
            .sum();
}

/// Derives what follows from the whole line once every event is in.
fn finish(line: &mut ConversationLine, known: bool, price: &Price) {
    line.final_charge = match (line.adjusted, line.reported) {
        (true, Some(actual)) => actual,
        _ => line.estimate,
    };
    line.difference = line.final_charge - line.estimate;
    line.cause = cause(line);
    line.amount = price.of(line.final_charge);
    if !known {
        line.issues.push(Issue::ChargeWithoutConversation);
    }
    if line.ended && line.reported.is_none() {
        line.issues.push(Issue::NoCostReport);
    }
    if line.reported.is_some() && !line.adjusted {
        line.issues.push(Issue::ReportNotBooked);
    }
}

fn cause(line: &ConversationLine) -> Option<Cause> {
    if line.difference == Credits::ZERO {
        return None;
    }
    let reported = line.reported?;
    let llm = line.reported_llm.unwrap_or_default();
    if llm > Credits::ZERO && reported - llm == line.estimate {
        return Some(Cause::LlmPassThrough);
    }
    let call = line.reported_call.unwrap_or(reported - llm);
    match (line.rate, line.reported_duration_ms) {
        (Some(rate), Some(ms)) if estimate(rate, ms) == call => Some(Cause::Duration),
        _ => Some(Cause::Rate),
    }
}

fn add(sums: &mut Sums, line: &ConversationLine) {
    sums.conversations += 1;
    sums.estimate = sums.estimate + line.estimate;
    sums.final_charge = sums.final_charge + line.final_charge;
    sums.posted = sums.posted + line.posted;
    sums.reported = sums.reported + line.reported.unwrap_or_default();
    sums.difference = sums.difference + line.difference;
    sums.flagged += usize::from(!line.flags.is_empty() || !line.issues.is_empty());
    sums.amount = sums.amount + line.amount;
}
