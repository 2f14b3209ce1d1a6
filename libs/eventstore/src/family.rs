//! Which stream an event family lives in, and each aggregate's subject.

use std::fmt::Display;

use events::{AccountId, ConversationEvent, ConversationId, DomainEvent, LedgerEvent};

use crate::stream::StreamName;

/// An event family bound to its stream; `Id` names one aggregate in it.
pub trait Family: DomainEvent {
    type Id: Display + Copy;
    const STREAM: StreamName;

    /// The subject holding every event of aggregate `id`.
    fn subject(id: Self::Id) -> String {
        format!("{}.{id}", Self::STREAM.subject_prefix())
    }
}

impl Family for ConversationEvent {
    type Id = ConversationId;
    const STREAM: StreamName = StreamName::Conversations;
}

impl Family for LedgerEvent {
    type Id = AccountId;
    const STREAM: StreamName = StreamName::Ledger;
}
