//! Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s), as every
//! authenticator app speaks them, with replay protection: a code's time step
//! must be newer than the last one accepted.

use rand::RngCore;
use rand::rngs::OsRng;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
/// Codes from one step before or after now are accepted (clock drift).
const SKEW_STEPS: i64 = 1;

fn totp(secret_base32: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_owned()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS,
        bytes,
        Some("Trellis".to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// A new random secret (160 bits), base32 as apps expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` link an authenticator app reads (usually from a QR code).
pub fn provisioning_uri(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account).map(|t| t.get_url())
}

/// The time step of a valid code, if `code` is valid now and newer than
/// `last_step`. Spaces in the code are ignored.
pub fn verify(secret_base32: &str, code: &str, unix_seconds: u64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_base32, "")?;
    let now_step = i64::try_from(unix_seconds / STEP_SECONDS).ok()?;
    (now_step - SKEW_STEPS..=now_step + SKEW_STEPS)
        .filter(|step| *step > last_step && *step >= 0)
        .find(|step| {
            let at = u64::try_from(*step).unwrap_or(0) * STEP_SECONDS;
            crate::token::constant_time_eq(totp.generate(at).as_bytes(), code.as_bytes())
        })
}

/// The current code (for tests and for showing a sample).
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    totp(secret_base32, "").map(|t| t.generate(unix_seconds))
}

/// Ten single-use recovery codes like `k7qm-2xrd-9fht`.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 12];
            OsRng.fill_bytes(&mut bytes);
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// Recovery codes are compared in this form: lower case, no separators.
pub fn normalize_recovery_code(input: &str) -> String {
    input
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 test secret "12345678901234567890".
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_test_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_234_567_890).unwrap(), "005924");
    }

    #[test]
    fn a_code_is_accepted_once_within_its_window() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = verify(&secret, &code, now, 0).expect("valid now");
        assert_eq!(step, i64::try_from(now / 30).unwrap());
        assert_eq!(verify(&secret, &code, now, step), None, "replayed");
        assert!(
            verify(&secret, &code, now + 30, 0).is_some(),
            "one step of drift is fine"
        );
        assert_eq!(verify(&secret, &code, now + 90, 0), None, "too old");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&secret, &spaced, now, 0).is_some());
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = new_secret();
        for bad in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(verify(&secret, bad, 1_800_000_000, 0), None, "{bad:?}");
        }
        assert_eq!(verify("not base32!", "123456", 1_800_000_000, 0), None);
    }

    #[test]
    fn provisioning_links_name_trellis_and_the_account() {
        let uri = provisioning_uri(&new_secret(), "priya@example.com").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Trellis:priya%40example.com?secret="),
            "{uri}"
        );
        assert!(uri.contains("issuer=Trellis"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalize() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes[0].len(), 14);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert_eq!(normalize_recovery_code(" K7QM-2xrd 9FHT "), "k7qm2xrd9fht");
    }
}
