//! Cryptography for Trellis, kept in one small crate so it can be reviewed on its own.
//! Everything here is synchronous and CPU-bound; callers run password hashing
//! off the async runtime.

pub mod envelope;
pub mod password;
pub mod token;
pub mod totp;

pub use envelope::{
    DataKey, EnvelopeError, Keyring, Unwrapped, WrappedKey, sealed_version, write_secret_file,
};
pub use password::{PasswordError, hash_password, verify_against_dummy, verify_password};
pub use token::{SecretToken, TokenHash};
