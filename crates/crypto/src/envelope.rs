//! Envelope encryption of client writing.
//!
//! Each couple has its own random data key; text is sealed with it using
//! XChaCha20-Poly1305 (random 192-bit nonces, so no nonce bookkeeping).
//! Data keys are stored only wrapped (sealed) by a master key that lives
//! outside the database, so a database copy alone reveals no writing.
//!
//! The master key itself is never used directly: HKDF-SHA256 derives one key
//! for wrapping data keys and another for tags (calendar addresses, form
//! stamps). Wrappings and tags made before that split (with the raw master
//! key) still open and verify, so existing deployments keep working; the
//! server re-wraps old wrappings when it meets them.
//!
//! Sealed text names the version of the data key that sealed it, so a data
//! key can be replaced while old text stays readable (see [`sealed_version`]).
//!
//! Master keys live in a keyring file: the first key is current (wraps new
//! data keys), later ones are retired but still unwrap older wrappings, so a
//! rotation never makes existing data unreadable.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEYRING_HEADER: &str =
    "# Trellis master keys. Keep this file secret and backed up apart from the database.";
const KEY_LINE_PREFIX: &str = "trellis-master-key-v1";
/// HKDF `info` for the key that wraps data keys.
const WRAP_INFO: &[u8] = b"trellis wrap data keys v2";
/// HKDF `info` for the key that makes tags.
const MAC_INFO: &[u8] = b"trellis tags v2";
/// A wrapping made with the derived key starts with this byte (legacy
/// wrappings are exactly nonce + key + tag long and have no prefix).
const WRAP_V2: u8 = 2;
const LEGACY_WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + 16;
/// Sealed text in the versioned format starts with these bytes, then the
/// data key's version (u32, big-endian). Older sealed text is a bare
/// nonce + ciphertext; a chance match of the magic is handled by the
/// caller trying the legacy reading when the versioned one fails.
const SEALED_MAGIC: [u8; 3] = [0xA5, 0x5A, 0x02];
const SEALED_HEADER_LEN: usize = SEALED_MAGIC.len() + 4;

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the sealed data is damaged or was sealed with another key")]
    Open,
    #[error("no master key with id {0} is in the keyring")]
    UnknownMasterKey(String),
    #[error("the keyring file is not valid: {0}")]
    Keyring(String),
    #[error("keyring file: {0}")]
    Io(#[from] std::io::Error),
}

fn random_key() -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    OsRng.fill_bytes(&mut key);
    key
}

fn seal_with(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Encryption fails only for messages beyond 256 GiB.
        .unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open_with(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    if sealed.len() < NONCE_LEN {
        return Err(EnvelopeError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| EnvelopeError::Open)
}

fn derive(master: &[u8; KEY_LEN], info: &[u8]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    // Expanding 32 bytes never exceeds HKDF's limit (255 blocks).
    let _ = hkdf::Hkdf::<Sha256>::new(None, master).expand(info, &mut out);
    out
}

/// The data key version named by sealed text in the versioned format, or
/// `None` for text sealed before versions existed (version 1 of its key).
pub fn sealed_version(sealed: &[u8]) -> Option<u32> {
    if sealed.len() < SEALED_HEADER_LEN + NONCE_LEN + 16 || sealed[..3] != SEALED_MAGIC {
        return None;
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&sealed[3..SEALED_HEADER_LEN]);
    Some(u32::from_be_bytes(version))
}

/// A couple's data key, in memory only while in use.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    pub fn generate() -> Self {
        Self(random_key())
    }

    /// Seals text. `context` (such as `entry:<id>`) is bound to the result,
    /// so sealed text moved to another row no longer opens.
    pub fn seal(&self, plaintext: &str, context: &str) -> Vec<u8> {
        seal_with(&self.0, plaintext.as_bytes(), context.as_bytes())
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, EnvelopeError> {
        let bytes = open_with(&self.0, sealed, context.as_bytes())?;
        String::from_utf8(bytes).map_err(|_| EnvelopeError::Open)
    }

    /// Seals text in the versioned format, naming `version` as this key's
    /// version. The header is bound too, so it cannot be changed.
    pub fn seal_versioned(&self, version: u32, plaintext: &str, context: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(SEALED_HEADER_LEN + NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&SEALED_MAGIC);
        out.extend_from_slice(&version.to_be_bytes());
        let aad = versioned_aad(&out, context);
        out.extend_from_slice(&seal_with(&self.0, plaintext.as_bytes(), &aad));
        out
    }

    /// Opens text sealed by [`DataKey::seal_versioned`].
    pub fn open_versioned(&self, sealed: &[u8], context: &str) -> Result<String, EnvelopeError> {
        if sealed_version(sealed).is_none() {
            return Err(EnvelopeError::Open);
        }
        let (header, body) = sealed.split_at(SEALED_HEADER_LEN);
        let bytes = open_with(&self.0, body, &versioned_aad(header, context))?;
        String::from_utf8(bytes).map_err(|_| EnvelopeError::Open)
    }
}

fn versioned_aad(header: &[u8], context: &str) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(context.as_bytes());
    aad
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A data key sealed by a master key, as stored in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_key_id: String,
    pub sealed: Vec<u8>,
}

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct MasterKey {
    #[zeroize(skip)]
    id: String,
    /// The raw key: saved to the keyring file, and used only to open
    /// wrappings and check tags made before the keys were split.
    key: [u8; KEY_LEN],
    wrap: [u8; KEY_LEN],
    mac: [u8; KEY_LEN],
}

impl MasterKey {
    fn new(key: [u8; KEY_LEN]) -> Self {
        let digest = Sha256::digest(key);
        let id = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Self {
            id,
            wrap: derive(&key, WRAP_INFO),
            mac: derive(&key, MAC_INFO),
            key,
        }
    }
}

/// A data key opened from its wrapping, and whether that wrapping is in the
/// legacy form (made with the raw master key) and should be re-wrapped.
#[derive(Debug)]
pub struct Unwrapped {
    pub key: DataKey,
    pub legacy: bool,
}

/// The master keys: the current one first, retired ones after.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current_id())
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Keyring {
    /// A keyring with one fresh key (not saved).
    pub fn generate() -> Self {
        Self {
            keys: vec![MasterKey::new(random_key())],
        }
    }

    pub fn current_id(&self) -> &str {
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// Ids of every key, current first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    pub fn wrap(&self, data_key: &DataKey) -> WrappedKey {
        let Some(current) = self.keys.first() else {
            return WrappedKey {
                master_key_id: String::new(),
                sealed: Vec::new(),
            };
        };
        let mut sealed = vec![WRAP_V2];
        sealed.extend_from_slice(&seal_with(
            &current.wrap,
            &data_key.0,
            current.id.as_bytes(),
        ));
        WrappedKey {
            master_key_id: current.id.clone(),
            sealed,
        }
    }

    /// Wraps the way keys were wrapped before the derived wrapping key (for
    /// tests that stand in for an existing deployment).
    pub fn wrap_legacy(&self, data_key: &DataKey) -> WrappedKey {
        let Some(current) = self.keys.first() else {
            return self.wrap(data_key);
        };
        WrappedKey {
            master_key_id: current.id.clone(),
            sealed: seal_with(&current.key, &data_key.0, current.id.as_bytes()),
        }
    }

    pub fn unwrap_key(&self, wrapped: &WrappedKey) -> Result<DataKey, EnvelopeError> {
        Ok(self.unwrap_checked(wrapped)?.key)
    }

    /// Opens a wrapping of either form and says which it was.
    pub fn unwrap_checked(&self, wrapped: &WrappedKey) -> Result<Unwrapped, EnvelopeError> {
        let master = self
            .keys
            .iter()
            .find(|k| k.id == wrapped.master_key_id)
            .ok_or_else(|| EnvelopeError::UnknownMasterKey(wrapped.master_key_id.clone()))?;
        let (legacy, mut bytes) = match wrapped.sealed.split_first() {
            Some((&WRAP_V2, rest)) if wrapped.sealed.len() != LEGACY_WRAPPED_LEN => {
                (false, open_with(&master.wrap, rest, master.id.as_bytes())?)
            }
            _ => (
                true,
                open_with(&master.key, &wrapped.sealed, master.id.as_bytes())?,
            ),
        };
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::Open)?;
        bytes.zeroize();
        Ok(Unwrapped {
            key: DataKey(key),
            legacy,
        })
    }

    /// A short tag that proves this server made `message` for `purpose`
    /// (a calendar address, a form's time stamp), keyed by the current
    /// master key's tag key so the database alone cannot forge one.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        self.keys
            .first()
            .map(|key| tag_with(&key.mac, purpose, message))
            .unwrap_or_default()
    }

    /// Does `tag` hold for `message`, under any key still in the keyring?
    /// (Tags made before a rotation keep working until their key is retired;
    /// tags made with the raw master key before the keys were split, such as
    /// calendar addresses already handed out, keep working the same way.)
    pub fn verify(&self, purpose: &str, message: &str, tag: &str) -> bool {
        self.keys.iter().any(|key| {
            [&key.mac, &key.key].into_iter().any(|k| {
                crate::token::constant_time_eq(
                    tag_with(k, purpose, message).as_bytes(),
                    tag.as_bytes(),
                )
            })
        })
    }

    /// A tag made the way tags were made before the keys were split (for
    /// tests that stand in for an existing deployment).
    pub fn sign_legacy(&self, purpose: &str, message: &str) -> String {
        self.keys
            .first()
            .map(|key| tag_with(&key.key, purpose, message))
            .unwrap_or_default()
    }

    /// A new current key, keeping all existing keys as retired.
    pub fn rotated(&self) -> Self {
        let mut keys = vec![MasterKey::new(random_key())];
        keys.extend(self.keys.iter().cloned());
        Self { keys }
    }

    /// Only the keys still in use (by id), current always kept.
    pub fn retaining(&self, in_use: &[String]) -> Self {
        let keys = self
            .keys
            .iter()
            .enumerate()
            .filter(|(i, k)| *i == 0 || in_use.contains(&k.id))
            .map(|(_, k)| k.clone())
            .collect();
        Self { keys }
    }

    pub fn load(path: &Path) -> Result<Self, EnvelopeError> {
        let text = std::fs::read_to_string(path)?;
        let mut keys = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| EnvelopeError::Keyring(format!("line {}: {why}", number + 1));
            let mut parts = line.split_whitespace();
            if parts.next() != Some(KEY_LINE_PREFIX) {
                return Err(bad("expected a trellis-master-key-v1 line"));
            }
            let encoded = parts.next().ok_or_else(|| bad("the key is missing"))?;
            let mut bytes = STANDARD
                .decode(encoded)
                .map_err(|_| bad("the key is not base64"))?;
            let key: [u8; KEY_LEN] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| bad("a key must be 32 bytes"))?;
            bytes.zeroize();
            keys.push(MasterKey::new(key));
        }
        if keys.is_empty() {
            return Err(EnvelopeError::Keyring("the file holds no key".to_owned()));
        }
        Ok(Self { keys })
    }

    /// Writes the keyring readable by its owner only, replacing the file atomically.
    pub fn save(&self, path: &Path) -> Result<(), EnvelopeError> {
        let mut text = String::from(KEYRING_HEADER);
        text.push('\n');
        for key in &self.keys {
            text.push_str(&format!("{KEY_LINE_PREFIX} {}\n", STANDARD.encode(key.key)));
        }
        let written = write_secret_file(path, text.as_bytes());
        text.zeroize();
        written?;
        Ok(())
    }

    /// Loads the keyring at `path`, creating one (0600) if there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, EnvelopeError> {
        if path.exists() {
            return Self::load(path);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let keyring = Self::generate();
        keyring.save(path)?;
        Ok(keyring)
    }
}

/// Writes a key file readable by its owner only, replacing any old one
/// atomically (a crash leaves the old file or the new, never half of one).
pub fn write_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

/// HMAC-SHA256 over `purpose`, a separator and `message`, the first 128 bits
/// in unpadded base64url.
fn tag_with(key: &[u8; KEY_LEN], purpose: &str, message: &str) -> String {
    use hmac::Mac as _;
    let Ok(mut mac) = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(message.as_bytes());
    let tag = mac.finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let key = DataKey::generate();
        let sealed = key.seal("I felt alone at the party.", "entry:1");
        assert!(
            !sealed.windows(5).any(|w| w == b"alone"),
            "ciphertext must not contain the text"
        );
        assert_eq!(
            key.open(&sealed, "entry:1").unwrap(),
            "I felt alone at the party."
        );
        assert!(
            key.open(&sealed, "entry:2").is_err(),
            "moved to another row"
        );
        assert!(
            DataKey::generate().open(&sealed, "entry:1").is_err(),
            "another couple's key"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open(&tampered, "entry:1").is_err());
        assert!(key.open(&[1, 2, 3], "entry:1").is_err());
        assert!(key.open(&[], "entry:1").is_err());
    }

    #[test]
    fn the_same_text_seals_differently_each_time() {
        let key = DataKey::generate();
        assert_ne!(key.seal("same", "c"), key.seal("same", "c"));
    }

    #[test]
    fn unicode_and_empty_text_survive() {
        let key = DataKey::generate();
        for text in ["", "💔 → 💚", "Ünïcödé\u{0}text"] {
            assert_eq!(key.open(&key.seal(text, "x"), "x").unwrap(), text);
        }
    }

    #[test]
    fn a_rotated_keyring_still_unwraps_old_wrappings_and_wraps_with_the_new_key() {
        let keyring = Keyring::generate();
        let data_key = DataKey::generate();
        let old = keyring.wrap(&data_key);
        let rotated = keyring.rotated();
        assert_ne!(rotated.current_id(), keyring.current_id());
        let opened = rotated.unwrap_key(&old).unwrap();
        let sealed = data_key.seal("still readable", "e");
        assert_eq!(opened.open(&sealed, "e").unwrap(), "still readable");
        let new = rotated.wrap(&opened);
        assert_eq!(new.master_key_id, rotated.current_id());
        assert!(matches!(
            keyring.unwrap_key(&new),
            Err(EnvelopeError::UnknownMasterKey(_))
        ));
        let trimmed = rotated.retaining(&[rotated.current_id().to_owned()]);
        assert_eq!(trimmed.key_ids(), vec![rotated.current_id()]);
    }

    #[test]
    fn keyrings_round_trip_through_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let created = Keyring::load_or_create(&path).unwrap();
        let loaded = Keyring::load_or_create(&path).unwrap();
        assert_eq!(created.key_ids(), loaded.key_ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let rotated = loaded.rotated();
        rotated.save(&path).unwrap();
        assert_eq!(Keyring::load(&path).unwrap().key_ids(), rotated.key_ids());
    }

    #[test]
    fn broken_keyring_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        for (content, expected) in [
            ("", "no key"),
            ("something else\n", "line 1"),
            ("trellis-master-key-v1 !!!\n", "base64"),
            ("trellis-master-key-v1 AAAA\n", "32 bytes"),
        ] {
            std::fs::write(&path, content).unwrap();
            let err = Keyring::load(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{content:?}: {err}");
        }
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let keyring = Keyring::generate();
        let shown = format!("{keyring:?} {:?}", DataKey::generate());
        assert!(shown.contains(keyring.current_id()));
        assert!(!shown.contains("key: ["));
    }

    #[test]
    fn versioned_sealed_text_names_its_key_version_and_binds_the_header() {
        let key = DataKey::generate();
        let sealed = key.seal_versioned(7, "We argued about money.", "entry:1");
        assert_eq!(sealed_version(&sealed), Some(7));
        assert!(!sealed.windows(6).any(|w| w == b"argued"));
        assert_eq!(
            key.open_versioned(&sealed, "entry:1").unwrap(),
            "We argued about money."
        );
        assert!(key.open_versioned(&sealed, "entry:2").is_err());
        assert!(
            key.open(&sealed, "entry:1").is_err(),
            "not the legacy format"
        );
        let mut relabelled = sealed.clone();
        relabelled[6] = 8;
        assert_eq!(sealed_version(&relabelled), Some(8));
        assert!(
            key.open_versioned(&relabelled, "entry:1").is_err(),
            "the version is bound"
        );
        let legacy = key.seal("old", "entry:1");
        assert!(key.open_versioned(&legacy, "entry:1").is_err());
        assert_eq!(sealed_version(&[0xA5, 0x5A, 0x02, 0, 0, 0, 1]), None);
    }

    #[test]
    fn wrapping_and_tags_use_derived_keys_and_still_accept_the_legacy_forms() {
        let keyring = Keyring::generate();
        let data_key = DataKey::generate();
        let sealed = data_key.seal("x", "c");
        let new = keyring.wrap(&data_key);
        let legacy = keyring.wrap_legacy(&data_key);
        assert_ne!(new.sealed.len(), legacy.sealed.len());
        let opened = keyring.unwrap_checked(&new).unwrap();
        assert!(!opened.legacy);
        assert_eq!(opened.key.open(&sealed, "c").unwrap(), "x");
        let opened = keyring.unwrap_checked(&legacy).unwrap();
        assert!(opened.legacy);
        assert_eq!(opened.key.open(&sealed, "c").unwrap(), "x");
        // The derived wrapping is not the raw master key's.
        let mut as_legacy = new.clone();
        as_legacy.sealed.remove(0);
        assert!(keyring.unwrap_key(&as_legacy).is_err());

        let tag = keyring.sign("calendar", "feed-1");
        let old_tag = keyring.sign_legacy("calendar", "feed-1");
        assert_ne!(tag, old_tag, "tags no longer use the raw master key");
        assert!(keyring.verify("calendar", "feed-1", &tag));
        assert!(keyring.verify("calendar", "feed-1", &old_tag));
        assert!(!keyring.verify("calendar", "feed-2", &old_tag));
    }

    #[test]
    fn tags_hold_across_a_rotation_until_the_key_is_retired() {
        let keyring = Keyring::generate();
        let tag = keyring.sign("calendar", "feed-1");
        assert_eq!(tag.len(), 22);
        assert!(keyring.verify("calendar", "feed-1", &tag));
        assert!(
            !keyring.verify("calendar", "feed-2", &tag),
            "another message"
        );
        assert!(!keyring.verify("form", "feed-1", &tag), "another purpose");
        assert!(!keyring.verify("calendar", "feed-1", ""));
        let rotated = keyring.rotated();
        assert_ne!(rotated.sign("calendar", "feed-1"), tag);
        assert!(
            rotated.verify("calendar", "feed-1", &tag),
            "old tags still hold"
        );
        let retired = rotated.retaining(&[]);
        assert!(!retired.verify("calendar", "feed-1", &tag));
        assert!(!Keyring::generate().verify("calendar", "feed-1", &tag));
    }
}
