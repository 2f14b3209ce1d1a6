//! Identifier newtypes. Each parses once at the edge ("parse, don't validate")
//! so code that holds one never re-checks it.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::error::IdError;

/// A MongoDB ObjectId: 4 bytes of seconds, 5 random bytes fixed per process,
/// a 3-byte counter. Kept here (not from `bson`) so events stay free of the
/// driver; the projector converts through the 24-hex text form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ObjectIdBytes([u8; 12]);

impl ObjectIdBytes {
    fn mint() -> Self {
        static PROCESS: OnceLock<[u8; 5]> = OnceLock::new();
        static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
        let process = PROCESS.get_or_init(rand::random);
        let counter = COUNTER
            .get_or_init(|| AtomicU32::new(rand::random::<u32>() & 0x00ff_ffff))
            .fetch_add(1, Ordering::Relaxed);
        let secs = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX);
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(process);
        bytes[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
        Self(bytes)
    }

    fn parse(s: &str) -> Result<Self, IdError> {
        let err = || IdError::NotObjectId(s.to_owned());
        if s.len() != 24 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        let mut bytes = [0u8; 12];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| err())?;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for ObjectIdBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

macro_rules! object_id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ObjectIdBytes);

        impl $name {
            /// Mints a fresh id (time-ordered, unique within and across processes).
            pub fn new() -> Self {
                Self(ObjectIdBytes::mint())
            }

            /// The 12 raw bytes, for conversion to a BSON ObjectId.
            pub fn bytes(&self) -> [u8; 12] {
                self.0 .0
            }

            /// Wraps the raw bytes of a BSON ObjectId.
            pub fn from_bytes(bytes: [u8; 12]) -> Self {
                Self(ObjectIdBytes(bytes))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                ObjectIdBytes::parse(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

object_id_newtype!(
    /// Parlor's id of a conversation: a MongoDB ObjectId, minted when the
    /// conversation is requested; the `_id` of its read-model document and the
    /// last token of its subject `conv.<id>`.
    ConversationId
);
object_id_newtype!(
    /// A user: the 24-hex `sub` of their token and the `userId` of read models.
    UserId
);

/// An ElevenLabs agent id (`agent_…`), or the simulator's.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AgentId(String);

impl AgentId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AgentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let valid = (1..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Agent(s.to_owned()))
        }
    }
}

impl<'de> Deserialize<'de> for AgentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentId({})", self.0)
    }
}

/// The ledger's system accounts: the other side of every user posting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemAccount {
    /// Source of granted credits (its balance goes negative as credits are granted).
    Grants,
    /// Credits reserved for live conversations.
    Holds,
    /// Credits consumed by conversations.
    Usage,
    /// Corrections to ElevenLabs' reported cost.
    Adjustments,
}

impl SystemAccount {
    const ALL: [SystemAccount; 4] = [Self::Grants, Self::Holds, Self::Usage, Self::Adjustments];

    fn name(self) -> &'static str {
        match self {
            Self::Grants => "grants",
            Self::Holds => "holds",
            Self::Usage => "usage",
            Self::Adjustments => "adjustments",
        }
    }
}

/// A ledger account; its text form (`user-<hex>`, `system-<name>`) is a valid
/// NATS subject token, the last token of `ledger.<account_id>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountId {
    User(UserId),
    System(SystemAccount),
}

impl FromStr for AccountId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let err = || IdError::Account(s.to_owned());
        if let Some(hex) = s.strip_prefix("user-") {
            return hex.parse().map(Self::User).map_err(|_| err());
        }
        let name = s.strip_prefix("system-").ok_or_else(err)?;
        SystemAccount::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .map(Self::System)
            .ok_or_else(err)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(u) => write!(f, "user-{u}"),
            Self::System(s) => write!(f, "system-{}", s.name()),
        }
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One event's id: a UUID v7 (time-ordered), also its `Nats-Msg-Id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(Uuid);

impl EventId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, uuid::Error> {
        s.parse().map(Self)
    }
}

/// The request that started a chain of events; logged with every line about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(Uuid);

impl CorrelationId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for CorrelationId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_round_trip_and_differ() {
        let a = ConversationId::new();
        let b = ConversationId::new();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 24);
        assert_eq!(a.to_string().parse::<ConversationId>(), Ok(a));
        assert_eq!(ConversationId::from_bytes(a.bytes()), a);
    }

    #[test]
    fn object_id_rejects_bad_text() {
        for bad in [
            "",
            "abc",
            "zzzzzzzzzzzzzzzzzzzzzzzz",
            "0123456789abcdef012345678",
        ] {
            assert_eq!(
                bad.parse::<UserId>(),
                Err(IdError::NotObjectId(bad.to_owned()))
            );
        }
        let upper: UserId = "65A1B2C3D4E5F60718293A4B".parse().expect("upper-case hex");
        assert_eq!(upper.to_string(), "65a1b2c3d4e5f60718293a4b");
    }

    #[test]
    fn account_ids_are_subject_tokens() {
        let user: UserId = "65a1b2c3d4e5f60718293a4b".parse().expect("hex");
        let acc = AccountId::User(user);
        assert_eq!(acc.to_string(), "user-65a1b2c3d4e5f60718293a4b");
        assert_eq!(acc.to_string().parse::<AccountId>(), Ok(acc));
        let sys = AccountId::System(SystemAccount::Holds);
        assert_eq!(sys.to_string().parse::<AccountId>(), Ok(sys));
        assert!("system-bank".parse::<AccountId>().is_err());
        assert!("user.x".parse::<AccountId>().is_err());
    }

    #[test]
    fn agent_ids_refuse_subject_breaking_characters() {
        assert!("agent_01jz8x".parse::<AgentId>().is_ok());
        for bad in ["", "a.b", "a b", "a*", "a>"] {
            assert!(bad.parse::<AgentId>().is_err(), "{bad}");
        }
    }
}
