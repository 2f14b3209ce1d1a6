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

/// A read model, as `parlor rebuild --projection` names it, and its
/// collections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Projection {
    /// Every read model.
    #[default]
    All,
    /// `conversations` and their overflow, `conversation_messages`.
    Conversations,
    /// Per-user usage by day and by month.
    Usage,
    /// Per-agent statistics.
    AgentStats,
    /// Ledger accounts and entries.
    Ledger,
}

impl Projection {
    pub const ALL: [Self; 5] = [
        Self::All,
        Self::Conversations,
        Self::Usage,
        Self::AgentStats,
        Self::Ledger,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Conversations => "conversations",
            Self::Usage => "usage",
            Self::AgentStats => "agent-stats",
            Self::Ledger => "ledger",
        }
    }

    /// The projection called `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The collections it swaps in.
    pub fn collections(self) -> &'static [&'static str] {
        match self {
            Self::All => &ALL,
            Self::Conversations => &[CONVERSATIONS, CONVERSATION_MESSAGES],
            Self::Usage => &[USAGE_DAILY, USAGE_MONTHLY],
            Self::AgentStats => &[AGENT_STATS],
            Self::Ledger => &[LEDGER_ACCOUNTS, LEDGER_ENTRIES],
        }
    }
}

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
