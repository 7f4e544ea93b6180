//! What a piece of writing is: the kinds of entry, one list for every crate.

use serde::{Deserialize, Serialize};

/// The kind of an entry, as stored (`entries.kind`) and as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A journal entry.
    Journal,
    /// An answer to an exercise of one's own.
    Exercise,
    /// An answer to a paired exercise (hidden from the partner until both answered).
    Paired,
    /// A round of reflect-back.
    ReflectBack,
    /// A message in a thread.
    Message,
    /// A comment on a shared entry.
    Comment,
    /// Thanks for something the partner did.
    Appreciation,
    /// Something told openly (accountability's transparency).
    Openness,
}

impl EntryKind {
    pub const ALL: [EntryKind; 8] = [
        EntryKind::Journal,
        EntryKind::Exercise,
        EntryKind::Paired,
        EntryKind::ReflectBack,
        EntryKind::Message,
        EntryKind::Comment,
        EntryKind::Appreciation,
        EntryKind::Openness,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Journal => "journal",
            EntryKind::Exercise => "exercise",
            EntryKind::Paired => "paired",
            EntryKind::ReflectBack => "reflect_back",
            EntryKind::Message => "message",
            EntryKind::Comment => "comment",
            EntryKind::Appreciation => "appreciation",
            EntryKind::Openness => "openness",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored rows carry the kind as text: compare without parsing.
impl PartialEq<EntryKind> for String {
    fn eq(&self, other: &EntryKind) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<EntryKind> for &str {
    fn eq(&self, other: &EntryKind) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_itself_and_nothing_else_reads() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
            let stored: String = kind.to_string();
            assert!(stored == kind, "a stored kind compares with its kind");
        }
        for other in ["", "Journal", "journal ", "note", "reflect-back"] {
            assert_eq!(EntryKind::parse(other), None, "{other:?}");
        }
    }
}
