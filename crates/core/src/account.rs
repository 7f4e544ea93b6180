//! Input a person types about themselves, parsed once at the edge into types
//! that cannot hold a bad value.

use serde::Serialize;

/// Why a piece of input was refused, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The form field or JSON key the message is about.
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Text a person wrote, trimmed, that must say something and fit in `max`
/// characters: the one reading of short free text (promise words, titles,
/// thanks), with kind errors naming `field`.
pub fn bounded_text(
    field: &'static str,
    text: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, "Please write what it is."));
    }
    if text.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("Please keep it to {max} characters or fewer."),
        ));
    }
    Ok(text.to_owned())
}

/// Free text that may be left empty, trimmed, within `max` characters: a
/// note, a reply, a topic. The error names it as `what` reads in a sentence
/// ("the note": "Please keep the note to 500 characters or fewer.").
pub fn within_limit<'a>(
    field: &'static str,
    what: &str,
    text: &'a str,
    max: usize,
) -> Result<&'a str, ValidationError> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("Please keep {what} to {max} characters or fewer."),
        ));
    }
    Ok(text)
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        let email = input.trim().to_lowercase();
        let invalid = || {
            ValidationError::new(
                field,
                "Please enter an email address like name@example.com.",
            )
        };
        if email.is_empty() {
            return Err(ValidationError::new(
                field,
                "Please enter an email address.",
            ));
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                "That email address is too long.",
            ));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text with a length limit and no control characters, trimmed.
fn short_text(
    field: &'static str,
    input: &str,
    max_chars: usize,
    empty_message: &str,
) -> Result<String, ValidationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, empty_message));
    }
    if text.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("Please keep this to {max_chars} characters or fewer."),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "Please use ordinary letters, numbers and punctuation here.",
        ));
    }
    Ok(text.to_owned())
}

/// The name a person wants to be called by in Trellis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        short_text(
            field,
            input,
            Self::MAX_CHARS,
            "Please tell us what to call you.",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The public name of a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeName(String);

impl PracticeName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        short_text(
            field,
            input,
            Self::MAX_CHARS,
            "Please give the practice a name.",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone is choosing. Length is what matters (NIST SP 800-63B):
/// no composition rules, spaces allowed, an upper bound so hashing stays bounded.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValidationError::new(
                field,
                format!(
                    "Please choose a password of at least {} characters. A few words in a row work well.",
                    Self::MIN_CHARS
                ),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                field,
                format!(
                    "Please keep the password to {} characters or fewer.",
                    Self::MAX_CHARS
                ),
            ));
        }
        if input.trim().is_empty() {
            return Err(ValidationError::new(
                field,
                "A password cannot be only spaces.",
            ));
        }
        if is_leaked(input) {
            return Err(ValidationError::new(
                field,
                "This password appears in lists of leaked passwords, so others may try it. \
                 Please choose another one: a few unrelated words in a row work well.",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Common passwords from public breach lists, lower-cased, one a line: those
/// of at least [`NewPassword::MIN_CHARS`] characters (shorter ones are refused
/// anyway) from the list Django ships (`common-passwords.txt.gz`) and the one
/// zxcvbn ships (`frequency_lists.js`). Checked locally: nothing leaves the server.
const LEAKED_PASSWORDS: &str = include_str!("leaked_passwords.txt");

static LEAKED: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| LEAKED_PASSWORDS.lines().collect());

/// True when the password (trimmed, in any case) is on the list of leaked passwords.
pub fn is_leaked(password: &str) -> bool {
    LEAKED.contains(password.trim().to_lowercase().as_str())
}

/// Never print a password, not even in debug logs.
impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = EmailAddress::parse("email", "  Alex@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alex@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_the_field_named() {
        for bad in [
            "",
            "   ",
            "alex",
            "alex@",
            "@example.com",
            "alex@example",
            "alex@@example.com",
            "alex@example..com",
            "alex@.example.com",
            "alex@example.com.",
            "al ex@example.com",
            "alex@exa\u{0}mple.com",
        ] {
            let err = EmailAddress::parse("email", bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
        }
    }

    #[test]
    fn very_long_emails_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse("email", &long).is_err());
    }

    #[test]
    fn unicode_emails_are_accepted() {
        assert!(EmailAddress::parse("email", "zoë@exämple.de").is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("name", "  Sam ").unwrap().as_str(),
            "Sam"
        );
        assert!(DisplayName::parse("name", "   ").is_err());
        assert!(DisplayName::parse("name", &"x".repeat(81)).is_err());
        assert!(DisplayName::parse("name", &"é".repeat(80)).is_ok());
        assert!(DisplayName::parse("name", "Sam\nRiley").is_err());
    }

    #[test]
    fn practice_names_allow_longer_text() {
        assert!(PracticeName::parse("name", &"p".repeat(120)).is_ok());
        assert!(PracticeName::parse("name", &"p".repeat(121)).is_err());
    }

    #[test]
    fn passwords_need_ten_characters_and_not_only_spaces() {
        assert!(NewPassword::parse("password", "short").is_err());
        assert!(NewPassword::parse("password", "123456789").is_err());
        assert!(NewPassword::parse("password", "7203918465").is_ok());
        assert!(NewPassword::parse("password", "          ").is_err());
        assert!(NewPassword::parse("password", "correct horse battery").is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(257)).is_err());
        // Counted in characters, not bytes.
        assert!(NewPassword::parse("password", "ééééé").is_err());
    }

    #[test]
    fn leaked_passwords_are_refused_in_any_case() {
        for leaked in ["1234567890", "QwertyUIOP", " password12 "] {
            let refused = NewPassword::parse("password", leaked).unwrap_err();
            assert!(refused.message.contains("leaked"), "{leaked}");
        }
        assert!(!is_leaked("a calm test password"));
    }

    #[test]
    fn passwords_never_show_in_debug_output() {
        let password = NewPassword::parse("password", "a secret phrase").unwrap();
        assert!(!format!("{password:?}").contains("secret"));
    }

    #[test]
    fn short_text_is_trimmed_and_bounded() {
        assert_eq!(
            bounded_text("text", "  Walk at six  ", 20),
            Ok("Walk at six".to_owned())
        );
        assert_eq!(bounded_text("text", "   ", 20).unwrap_err().field, "text");
        assert_eq!(
            bounded_text("title", &"é".repeat(5), 5),
            Ok("é".repeat(5)),
            "characters, not bytes"
        );
        assert_eq!(
            bounded_text("title", &"a".repeat(6), 5).unwrap_err().field,
            "title"
        );
    }

    #[test]
    fn text_within_a_limit_is_trimmed_may_be_empty_and_counts_characters() {
        assert_eq!(within_limit("note", "the note", "  hi  ", 2), Ok("hi"));
        assert_eq!(within_limit("note", "the note", "   ", 2), Ok(""));
        assert_eq!(within_limit("note", "the note", "éé", 2), Ok("éé"));
        let e = within_limit("note", "the note", "abc", 2).unwrap_err();
        assert_eq!(e.field, "note");
        assert_eq!(e.message, "Please keep the note to 2 characters or fewer.");
    }
}
