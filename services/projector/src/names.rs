//! The collection names of one projection target: the live read models
//! (no suffix), or a rebuild's or an audit's copies of them (a suffix),
//! swapped in or kept aside whole.

/// `conversations` (DESIGN §3).
pub const CONVERSATIONS: &str = "conversations";
/// Messages beyond what a document embeds.
pub const CONVERSATION_MESSAGES: &str = "conversation_messages";
/// Per user and UTC day: conversations, seconds, credits, money.
pub const USAGE_DAILY: &str = "user_usage_daily";
/// Per user and UTC month, the same figures.
pub const USAGE_MONTHLY: &str = "user_usage_monthly";
/// Per agent: calls, success rate, duration, latency percentiles, credits.
pub const AGENT_STATS: &str = "agent_stats";
/// Per ledger account: available, held, balance.
pub const LEDGER_ACCOUNTS: &str = "ledger_accounts";
/// One document per posting, with its trail to the event behind it.
pub const LEDGER_ENTRIES: &str = "ledger_entries";

/// Every collection a target has, in the order a swap renames them.
pub const ALL: [&str; 7] = [
    CONVERSATIONS,
    CONVERSATION_MESSAGES,
    USAGE_DAILY,
    USAGE_MONTHLY,
    AGENT_STATS,
    LEDGER_ACCOUNTS,
    LEDGER_ENTRIES,
];

/// The names of one target's collections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    suffix: String,
}

impl Names {
    /// The live collections.
    pub fn live() -> Self {
        Self::suffixed("")
    }

    /// The collections named `<base><suffix>`.
    pub fn suffixed(suffix: &str) -> Self {
        Self {
            suffix: suffix.to_owned(),
        }
    }

    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// `base` (one of the constants above) for this target.
    pub fn of(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }
}
