//! Argon2id password hashes in PHC string format.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("could not hash password: {0}")]
    Hash(String),
    #[error("stored password hash is malformed: {0}")]
    MalformedHash(String),
}

/// OWASP Password Storage Cheat Sheet, argon2id option 2: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    #[allow(clippy::expect_used)] // constant parameters, checked by the tests below
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError::Hash(err.to_string()))
}

/// `Ok(false)` for a wrong password; `Err` only when the stored hash is broken.
/// Parameters are read from the stored hash, so old hashes keep verifying
/// after the defaults change.
pub fn verify_password(password: &str, stored_hash: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored_hash)
        .map_err(|err| PasswordError::MalformedHash(err.to_string()))?;
    Ok(hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Spends the same work as a real verification, for sign-ins with an unknown
/// email, so response timing does not reveal who has an account.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY
        .get_or_init(|| hash_password("trellis-dummy-password-for-timing").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_own_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash).unwrap());
        assert!(!verify_password("correct horse batterY", &hash).unwrap());
        assert!(!verify_password("", &hash).unwrap());
    }

    #[test]
    fn the_same_password_gets_a_different_salt_each_time() {
        assert_ne!(
            hash_password("same password").unwrap(),
            hash_password("same password").unwrap()
        );
    }

    #[test]
    fn a_malformed_stored_hash_is_an_error_not_a_pass() {
        assert!(verify_password("anything", "not-a-hash").is_err());
    }

    #[test]
    fn dummy_verification_does_not_panic() {
        verify_against_dummy("whatever");
    }
}
