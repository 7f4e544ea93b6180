//! Web push: notices on a person's own phone or computer, sent through the
//! push service of their browser (RFC 8030), encrypted for that browser alone
//! (RFC 8291) and signed with this server's key (VAPID, RFC 8292).
//!
//! The push service sees only ciphertext, and what is inside says no more
//! than a notice mail: that something is waiting, never who wrote what.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::{Auth, WebPushBuilder, p256};

const KEY_LINE_PREFIX: &str = "trellis-vapid-key-v1";
/// Longest address a push service hands out that we accept (FCM's are ~200).
const MAX_ENDPOINT_LEN: usize = 2_048;
/// How long a push service may keep a notice for a device that is offline:
/// a day, after which "a new message" is old news.
const TIME_TO_LIVE: Duration = Duration::from_secs(24 * 60 * 60);

/// What a notice on a device shows, and where tapping it leads.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PushPayload {
    pub title: String,
    pub body: String,
    /// A path on this server ("/messages"), opened when the notice is tapped.
    pub url: String,
    /// Notices with the same tag replace each other on the device, so ten
    /// messages make one notice, not ten.
    pub tag: String,
}

/// How one delivery went.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The push service no longer knows this address: forget it.
    Gone,
    Failed(String),
}

/// Why a browser's subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionProblem {
    Endpoint,
    Keys,
}

/// A subscription whose parts were checked: it can be stored and used.
#[derive(Debug, Clone)]
pub struct CheckedSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// This server's VAPID key and the client that talks to push services.
pub struct Pusher {
    key: ES256KeyPair,
    public_key: String,
    contact: String,
    client: reqwest::Client,
    allow_local_endpoints: bool,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("public_key", &self.public_key)
            .field("allow_local_endpoints", &self.allow_local_endpoints)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Loads the key at `path`, creating one (readable by its owner only)
    /// on first start. It sits beside the master key: a new key would make
    /// every browser's subscription useless, so it must survive restarts.
    pub fn from_key_file(
        path: &Path,
        contact: &str,
        allow_local_endpoints: bool,
    ) -> anyhow::Result<Self> {
        let key = if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the push key {}", path.display()))?;
            parse_key(&text)
                .with_context(|| format!("the push key {} is not valid", path.display()))?
        } else {
            let key = ES256KeyPair::generate();
            save_key(path, &key)
                .with_context(|| format!("could not write the push key {}", path.display()))?;
            tracing::info!(path = %path.display(), "created a key for web push");
            key
        };
        Self::with_key(key, contact, allow_local_endpoints)
    }

    fn with_key(
        key: ES256KeyPair,
        contact: &str,
        allow_local_endpoints: bool,
    ) -> anyhow::Result<Self> {
        let public_key =
            URL_SAFE_NO_PAD.encode(key.public_key().public_key().to_bytes_uncompressed());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // a push service answers; it never sends us elsewhere
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("could not build the web push client")?;
        Ok(Self {
            key,
            public_key,
            contact: contact.to_owned(),
            client,
            allow_local_endpoints,
        })
    }

    /// The public half, for `pushManager.subscribe` (unpadded base64url of
    /// the uncompressed point).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Checks what a browser sent before it is stored. Addresses must be
    /// https and not point into this server's own network: otherwise anyone
    /// signed in could make the server post to internal addresses.
    pub fn check_subscription(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<CheckedSubscription, SubscriptionProblem> {
        let endpoint = endpoint.trim();
        if endpoint.len() > MAX_ENDPOINT_LEN || !self.endpoint_allowed(endpoint) {
            return Err(SubscriptionProblem::Endpoint);
        }
        let (p256dh, auth) = (p256dh.trim(), auth.trim());
        decode_keys(p256dh, auth).ok_or(SubscriptionProblem::Keys)?;
        Ok(CheckedSubscription {
            endpoint: endpoint.to_owned(),
            p256dh: p256dh.to_owned(),
            auth: auth.to_owned(),
        })
    }

    fn endpoint_allowed(&self, endpoint: &str) -> bool {
        let Ok(uri) = endpoint.parse::<http::Uri>() else {
            return false;
        };
        let Some(host) = uri.host() else {
            return false;
        };
        if self.allow_local_endpoints {
            return matches!(uri.scheme_str(), Some("https" | "http"));
        }
        if uri.scheme_str() != Some("https") {
            return false;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
            return false;
        }
        match host.parse::<IpAddr>() {
            // push services are named hosts; a bare address is refused when
            // it is one of ours (loopback, private, link-local…)
            Ok(ip) => is_public(ip),
            Err(_) => true,
        }
    }

    /// Sends one notice to one device.
    #[tracing::instrument(skip_all)]
    pub async fn deliver(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        payload: &PushPayload,
    ) -> Delivery {
        let Some((public, auth)) = decode_keys(p256dh, auth) else {
            return Delivery::Gone;
        };
        let Ok(uri) = endpoint.parse::<http::Uri>() else {
            return Delivery::Gone;
        };
        let Ok(body) = serde_json::to_vec(payload) else {
            return Delivery::Failed("the notice could not be written".to_owned());
        };
        let request = match WebPushBuilder::new(uri, public, auth)
            .with_valid_duration(TIME_TO_LIVE)
            .with_vapid(&self.key, &self.contact)
            .build(body)
        {
            Ok(request) => request,
            Err(err) => return Delivery::Failed(format!("could not encrypt the notice: {err}")),
        };
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.post(endpoint).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        // the same notice again replaces the one still waiting
        outgoing = outgoing.header("Topic", topic(&payload.tag));
        match outgoing.send().await {
            Ok(response) => match response.status().as_u16() {
                200..=299 => Delivery::Delivered,
                404 | 410 => Delivery::Gone,
                status => Delivery::Failed(format!("the push service answered {status}")),
            },
            Err(err) => Delivery::Failed(format!("could not reach the push service: {err}")),
        }
    }
}

/// The browser's keys, if they are what RFC 8291 asks for: a P-256 point
/// and a 16-byte secret.
fn decode_keys(p256dh: &str, auth: &str) -> Option<(p256::PublicKey, Auth)> {
    let point = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).ok()?;
    let public = p256::PublicKey::from_sec1_bytes(&point).ok()?;
    let secret = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).ok()?;
    if secret.len() != 16 {
        return None;
    }
    Some((public, Auth::clone_from_slice(&secret)))
}

/// A `Topic` header value: at most 32 characters of the URL-safe alphabet.
fn topic(tag: &str) -> String {
    tag.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect()
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                // shared address space (carrier-grade NAT), 100.64.0.0/10
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                // unique local fc00::/7 and link-local fe80::/10
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn parse_key(text: &str) -> anyhow::Result<ES256KeyPair> {
    let line = text
        .lines()
        .find(|line| line.starts_with(KEY_LINE_PREFIX))
        .context("expected a trellis-vapid-key-v1 line")?;
    let encoded = line[KEY_LINE_PREFIX.len()..].trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .context("the key is not base64url")?;
    ES256KeyPair::from_bytes(&bytes).map_err(|err| anyhow::anyhow!("not a P-256 key: {err}"))
}

fn save_key(path: &Path, key: &ES256KeyPair) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = format!(
        "# The key Trellis signs web push notices with. Keep it beside the master key;\n\
         # a new one means every device must turn notices on again.\n\
         {KEY_LINE_PREFIX} {}\n",
        URL_SAFE_NO_PAD.encode(key.to_bytes())
    );
    trellis_crypto::write_secret_file(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_pusher(allow_local: bool) -> Pusher {
        Pusher::with_key(
            ES256KeyPair::generate(),
            "mailto:care@example.com",
            allow_local,
        )
        .unwrap()
    }

    fn browser_keys() -> (String, String) {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        (
            URL_SAFE_NO_PAD.encode(point.as_bytes()),
            URL_SAFE_NO_PAD.encode([7u8; 16]),
        )
    }

    #[test]
    fn the_key_survives_a_restart_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vapid.key");
        let first = Pusher::from_key_file(&path, "mailto:a@example.com", false).unwrap();
        let again = Pusher::from_key_file(&path, "mailto:a@example.com", false).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(first.public_key()).unwrap().len(),
            65
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, "trellis-vapid-key-v1 not-a-key\n").unwrap();
        assert!(Pusher::from_key_file(&path, "mailto:a@example.com", false).is_err());
    }

    #[test]
    fn only_public_https_addresses_are_taken() {
        let pusher = new_pusher(false);
        let (p256dh, auth) = browser_keys();
        let ok = |endpoint: &str| pusher.check_subscription(endpoint, &p256dh, &auth).is_ok();
        assert!(ok("https://fcm.googleapis.com/fcm/send/abc:def"));
        assert!(ok(
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA"
        ));
        assert!(ok("https://8.8.8.8/push"));
        for refused in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://localhost/push",
            "https://api.localhost/push",
            "https://127.0.0.1/push",
            "https://10.1.2.3/push",
            "https://192.168.0.4/push",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/push",
            "https://[::1]/push",
            "https://[fd00::1]/push",
            "https://[::ffff:127.0.0.1]/push",
            "ftp://example.com/push",
            "not an address",
            "",
        ] {
            assert!(!ok(refused), "{refused} was taken");
        }
        let long = format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(!ok(&long));
        // tests run their own push service on this machine
        let local = new_pusher(true);
        assert!(
            local
                .check_subscription("http://127.0.0.1:4000/push", &p256dh, &auth)
                .is_ok()
        );
    }

    #[test]
    fn keys_must_be_a_point_and_a_sixteen_byte_secret() {
        let pusher = new_pusher(false);
        let (p256dh, auth) = browser_keys();
        let endpoint = "https://push.example.com/a";
        assert!(pusher.check_subscription(endpoint, &p256dh, &auth).is_ok());
        assert_eq!(
            pusher
                .check_subscription(endpoint, &p256dh, &URL_SAFE_NO_PAD.encode([1u8; 15]))
                .unwrap_err(),
            SubscriptionProblem::Keys
        );
        assert_eq!(
            pusher
                .check_subscription(endpoint, &URL_SAFE_NO_PAD.encode([4u8; 65]), &auth)
                .unwrap_err(),
            SubscriptionProblem::Keys
        );
        assert_eq!(
            pusher
                .check_subscription(endpoint, "%%%", &auth)
                .unwrap_err(),
            SubscriptionProblem::Keys
        );
    }

    #[test]
    fn topics_fit_the_header_rules() {
        assert_eq!(topic("new-message"), "new-message");
        assert_eq!(topic("a b/c:d"), "abcd");
        assert_eq!(topic(&"x".repeat(40)).len(), 32);
    }
}
