//! Reconciliation over `cmd.ledger.reconcile`, on a run with a matching
//! report, an LLM pass-through, a rate difference, a missing report, an
//! inflated report and a hold for a conversation the log never saw.

use events::command::{Reconcile, subject};
use events::conversation::{ConversationEvent, CostReported};
use events::ledger::ChargeFlag;
use events::{AccountId, ConversationId, Credits, SystemAccount, UserId};
use ledger::reconcile::{Cause, Issue, Report};

use crate::support::{Harness, balance, cost_reported, drain_until, ended, requested};

fn split_report(credits: i64, call: i64, llm: i64) -> ConversationEvent {
    ConversationEvent::CostReported(CostReported {
        elevenlabs_conversation_id: "conv_split".to_owned(),
        credits: Credits::new(credits),
        call_duration_ms: 60_000,
        charging: Some(serde_json::json!({"call_charge": call, "llm_charge": llm})),
    })
}

#[tokio::test]
async fn the_report_lists_exactly_the_differences_missing_and_inflated_reports_and_balances() {
    let harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let user = UserId::new();
    harness.grant(user, 100_000).await;
    let calls: Vec<(ConversationId, Option<ConversationEvent>)> = vec![
        (ConversationId::new(), Some(cost_reported(400, 60_000))),
        (ConversationId::new(), Some(split_report(450, 400, 50))),
        (ConversationId::new(), Some(cost_reported(500, 60_000))),
        (ConversationId::new(), None),
        (ConversationId::new(), Some(cost_reported(40_000, 60_000))),
    ];
    for (conversation, report) in &calls {
        harness.hold(user, *conversation).await.expect("held");
        let mut events = vec![requested(), ended(60_000)];
        events.extend(report.clone());
        harness.conversation(*conversation, user, events).await;
    }
    let stray = ConversationId::new();
    harness.hold(user, stray).await.expect("held");
    let expected = 100_000 - 400 - 450 - 500 - 400 - 40_000 - 4_000;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(expected, 4_000)
    })
    .await;

    let report: Report = harness
        .request(subject::LEDGER_RECONCILE, &Reconcile::default())
        .await
        .expect("a report");
    let ids: Vec<_> = calls.iter().map(|(id, _)| *id).collect();
    assert_eq!(report.no_cost_report, [ids[3]]);
    assert_eq!(report.charges_without_conversation, [stray]);
    let line = |id| {
        report
            .conversations
            .iter()
            .find(|l| l.conversation_id == id)
            .expect("a line per conversation")
    };
    let summary: Vec<_> = ids
        .iter()
        .map(|id| {
            let l = line(*id);
            (
                l.estimate.get(),
                l.final_charge.get(),
                l.difference.get(),
                l.cause,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (400, 400, 0, None),
            (400, 450, 50, Some(Cause::LlmPassThrough)),
            (400, 500, 100, Some(Cause::Rate)),
            (400, 400, 0, None),
            (400, 40_000, 39_600, Some(Cause::Rate)),
        ]
    );
    assert_eq!(
        (line(ids[1]).reported_call, line(ids[1]).reported_llm),
        (Some(Credits::new(400)), Some(Credits::new(50)))
    );
    assert!(matches!(
        line(ids[4]).flags.as_slice(),
        [
            ChargeFlag::ExceedsHold { .. },
            ChargeFlag::AboveRateCard { .. }
        ]
    ));
    let flagged: Vec<_> = report
        .conversations
        .iter()
        .filter(|l| !l.flags.is_empty() || !l.issues.is_empty())
        .map(|l| l.conversation_id)
        .collect();
    assert_eq!(
        flagged.len(),
        3,
        "only the inflated, the unreported and the stray"
    );
    assert!(line(ids[3]).issues.contains(&Issue::NoCostReport));

    let log = harness.log_balances().await;
    let charged = log[&AccountId::System(SystemAccount::Usage)]
        + log[&AccountId::System(SystemAccount::Adjustments)];
    assert_eq!(
        report.totals.final_charge, charged,
        "totals match the postings"
    );
    assert_eq!(report.totals.posted, charged);
    assert_eq!(report.users.len(), 1);
    assert_eq!(report.users[0].sums.final_charge, charged);
    assert_eq!(report.trial_balance.total, Credits::ZERO);
    assert_eq!(
        report.trial_balance.accounts[&AccountId::User(user).to_string()],
        Credits::new(expected)
    );
}

#[tokio::test]
async fn a_report_too_large_for_one_message_is_refused_with_the_way_out_not_left_to_time_out() {
    let harness = Harness::start().await;
    let _ledger = harness.ledger().await;
    let user = UserId::new();
    let calls: Vec<ConversationId> = (0..3_000).map(|_| ConversationId::new()).collect();
    for chunk in calls.chunks(250) {
        futures::future::join_all(
            chunk
                .iter()
                .map(|&c| harness.conversation(c, user, vec![requested(), ended(1_000)])),
        )
        .await;
    }
    let refused = harness
        .request::<_, Report>(subject::LEDGER_RECONCILE, &Reconcile::default())
        .await
        .expect_err("too large for one NATS message");
    assert_eq!(refused.code, events::command::RefusalCode::InvalidRequest);
    assert!(
        refused.message.contains("parlor reconcile"),
        "{}",
        refused.message
    );
}
