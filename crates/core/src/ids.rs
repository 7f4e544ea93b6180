//! Typed ids: a person's id and a couple's id are different types, so one
//! cannot be passed where the other is meant (the visibility rule compares
//! them, and a swap there would be a privacy bug, not a typo).
//!
//! Each is a string underneath (UUIDv7 text, as stored) and reads as `&str`
//! wherever plain text is wanted (SQL binds, logs, JSON), so only the
//! places that mean one kind of id have to say so.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

typed_id!(
    /// A person: partner, therapist or admin (`users.id`).
    UserId
);
typed_id!(
    /// A couple (`couples.id`).
    CoupleId
);
typed_id!(
    /// A practice (`practices.id`).
    PracticeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_text_and_compare_with_it() {
        let couple = CoupleId::new("0193-couple");
        assert_eq!(couple.as_str(), "0193-couple");
        assert_eq!(&*couple, "0193-couple");
        assert!(couple == "0193-couple");
        assert_eq!(couple.to_string(), "0193-couple");
        assert_eq!(format!("{couple:?}"), "\"0193-couple\"");
        assert_eq!(String::from(couple.clone()), "0193-couple");
        let json = serde_json::to_string(&couple).unwrap();
        assert_eq!(json, "\"0193-couple\"");
        let back: CoupleId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, couple);
    }
}
