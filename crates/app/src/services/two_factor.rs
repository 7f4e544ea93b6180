//! Two-step sign-in with an authenticator app: setting it up, the second step
//! of signing in, recovery codes, and the practice's requirement for staff.

use trellis_crypto::{SecretToken, TokenHash, totp};
use trellis_store::User;

use super::audit;
use super::throttle::{self, Limit, OnSuccess};
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// How long the second step may take after the password was right.
const PENDING_LIFETIME: i64 = 5 * trellis_core::time::MINUTE;

/// The context a person's authenticator secret is sealed with (the
/// `system` key: a database copy alone no longer defeats two-step sign-in).
pub fn secret_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// Staff of a practice that requires two-step sign-in, who have not set it up.
pub async fn setup_required(state: &AppState, user: &User) -> AppResult<bool> {
    if !user.role.is_staff() || user.two_factor {
        return Ok(false);
    }
    match user.practice_id.as_deref() {
        Some(practice_id) => Ok(state
            .store()
            .practice_requires_two_factor(practice_id)
            .await?),
        None => Ok(false),
    }
}

/// What a person needs to add Trellis to their authenticator app.
pub struct Enrollment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

pub fn begin_enrollment(user: &User) -> AppResult<Enrollment> {
    let secret = totp::new_secret();
    enrollment_for(user, secret)
}

pub fn enrollment_for(user: &User, secret: String) -> AppResult<Enrollment> {
    let uri = totp::provisioning_uri(&secret, &user.email).ok_or_else(|| {
        Error::invalid(
            "secret",
            "That setup code is not valid; please start again.",
        )
    })?;
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            // Inline in a page: drop the XML prolog, label it for screen readers.
            let start = svg.find("<svg").unwrap_or(0);
            svg[start..].replacen(
                "<svg",
                "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"",
                1,
            )
        })
        .unwrap_or_default();
    Ok(Enrollment {
        secret,
        uri,
        qr_svg,
    })
}

fn unix_seconds() -> u64 {
    // codes follow the real clock, as the person's authenticator app does
    u64::try_from(crate::state::system_now() / 1000).unwrap_or(0)
}

/// Turns two-step sign-in on once a first code proves the app is set up and
/// the current password proves the person (so a borrowed, signed-in device
/// cannot lock its owner out). Returns the recovery codes, shown once.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn enable(
    state: &AppState,
    user: &User,
    secret: &str,
    code: &str,
    password: &str,
) -> AppResult<Vec<String>> {
    if !super::accounts::confirm_password(state, user, password).await? {
        return Err(Error::invalid(
            "password",
            "That password isn't right. Please type the one you sign in with.",
        ));
    }
    if totp::verify(secret, code, unix_seconds(), 0).is_none() {
        return Err(Error::invalid(
            "code",
            "That code didn't match. Check that your phone's clock is right and type the newest code.",
        ));
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| {
            TokenHash::of(&totp::normalize_recovery_code(c))
                .as_str()
                .to_owned()
        })
        .collect();
    let sealed = state
        .vault()
        .seal_text(
            state.store(),
            trellis_store::SYSTEM_KEY_OWNER,
            secret,
            &secret_context(&user.id),
        )
        .await?;
    state
        .store()
        .enable_totp(&user.id, &sealed, &hashes)
        .await?;
    audit::record(
        state,
        audit::Event::new("two_factor_enabled")
            .actor(user)
            .subject(&user.id),
    )
    .await?;
    Ok(codes)
}

pub async fn disable(state: &AppState, user: &User, password: &str) -> AppResult<()> {
    if user.role.is_staff()
        && let Some(practice_id) = user.practice_id.as_deref()
        && state
            .store()
            .practice_requires_two_factor(practice_id)
            .await?
    {
        return Err(Error::Conflict(
            "Your practice asks therapists and admins to use two-step sign-in, so it stays on."
                .to_owned(),
        ));
    }
    if !super::accounts::confirm_password(state, user, password).await? {
        return Err(Error::invalid("password", "That password isn't right."));
    }
    state.store().disable_totp(&user.id).await?;
    audit::record(
        state,
        audit::Event::new("two_factor_disabled")
            .actor(user)
            .subject(&user.id),
    )
    .await?;
    Ok(())
}

/// Checks a code from the app, or a recovery code (used up once). Wrong
/// codes are throttled like wrong passwords.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn check_second_step(state: &AppState, user: &User, code: &str) -> AppResult<()> {
    let limits = [Limit::new(
        format!("second-step:{}", user.id),
        trellis_core::throttle::ACCOUNT_FREE_FAILURES,
        OnSuccess::Clear,
    )];
    let mut refusal = None;
    let check = async {
        match check_codes(state, user, code).await {
            Ok(()) => Ok(true),
            Err(wrong @ Error::Invalid(_)) => {
                refusal = Some(wrong);
                Ok(false)
            }
            Err(other) => Err(other),
        }
    };
    if throttle::attempt(state, &limits, check).await? {
        return Ok(());
    }
    Err(refusal.unwrap_or(Error::InvalidCredentials))
}

async fn check_codes(state: &AppState, user: &User, code: &str) -> AppResult<()> {
    let store = state.store();
    let Some((sealed, last_step)) = store.totp(&user.id).await? else {
        return Ok(());
    };
    let secret = state
        .vault()
        .open_text(
            store,
            trellis_store::SYSTEM_KEY_OWNER,
            &sealed,
            &secret_context(&user.id),
        )
        .await?;
    if let Some(step) = totp::verify(&secret, code, unix_seconds(), last_step)
        && store.use_totp_step(&user.id, step).await?
    {
        return Ok(());
    }
    let recovery = totp::normalize_recovery_code(code);
    if recovery.len() == 12
        && store
            .use_recovery_code(&user.id, TokenHash::of(&recovery).as_str(), state.now())
            .await?
    {
        audit::record(
            state,
            audit::Event::new("recovery_code_used")
                .actor(user)
                .subject(&user.id),
        )
        .await?;
        return Ok(());
    }
    Err(Error::invalid(
        "code",
        "That code didn't work. Codes change every 30 seconds; please type the newest one.",
    ))
}

/// After a right password: a short-lived token for the second step.
pub async fn start_pending(state: &AppState, user: &User) -> AppResult<SecretToken> {
    let token = SecretToken::generate();
    state
        .store()
        .create_pending_sign_in(
            token.hash().as_str(),
            &user.id,
            state.now() + PENDING_LIFETIME,
        )
        .await?;
    Ok(token)
}

/// The second step of a pending sign-in; returns the user it completes.
pub async fn finish_pending(state: &AppState, token: &str, code: &str) -> AppResult<User> {
    let hash = SecretToken::from_client(token).hash();
    let user_id = state
        .store()
        .pending_sign_in(hash.as_str(), state.now())
        .await?
        .ok_or(Error::Gone(
            "That sign-in took too long. Please start again with your password.",
        ))?;
    let user = state.store().user(&user_id).await?;
    check_second_step(state, &user, code).await?;
    state.store().finish_pending_sign_in(hash.as_str()).await?;
    audit::record(
        state,
        audit::Event::new("signed_in")
            .actor(&user)
            .subject(&user.id)
            .detail("two-step"),
    )
    .await?;
    Ok(user)
}
