//! Signing in, first-run setup, invitations, self-guided sign-up, passwords.

use std::net::IpAddr;

use trellis_core::invitation::{InvitationStatus, invitation_status};
use trellis_core::throttle::{ACCOUNT_FREE_FAILURES, ADDRESS_FREE_FAILURES};
use trellis_core::time::{DAY, HOUR};
use trellis_core::{
    DisplayName, EmailAddress, InvitationKind, NewPassword, PracticeName, ValidationError,
};
use trellis_crypto::SecretToken;
use trellis_store::{NewPracticeWithAdmin, OneTimePurpose, Store, User};

use super::audit;
use super::throttle::{self, Limit, OnSuccess};
use crate::error::{AppResult, Error};
use crate::state::{AppState, WebConfig};

/// How long a first-run setup link works.
const SETUP_LINK_LIFETIME: i64 = DAY;
/// How long a password reset link works.
const RESET_LINK_LIFETIME: i64 = HOUR;

/// Collects every validation problem of a form at once, so a person fixes
/// everything in one go instead of one error per submit.
#[derive(Default)]
pub struct Problems(Vec<ValidationError>);

impl Problems {
    pub fn check<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(err);
                None
            }
        }
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }

    /// Every problem at once, or the two checked fields (present whenever
    /// nothing was refused).
    pub fn into_pair<A, B>(self, a: Option<A>, b: Option<B>) -> AppResult<(A, B)> {
        self.into_result()?;
        match (a, b) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(Error::Unexpected(anyhow::anyhow!(
                "a field passed its check but has no value"
            ))),
        }
    }
}

/// The limits a sign-in for `email` is charged to. A browser that already
/// signed in to this account (its device cookie) is held to its own count, so
/// neither a stranger guessing at the account nor everyone behind one proxy
/// address can lock the owner out of a device they have used before.
pub fn sign_in_limits(
    email: &str,
    client: Option<IpAddr>,
    known_device: Option<&str>,
) -> Vec<Limit> {
    if let Some(device) = known_device {
        return vec![Limit::new(
            format!("device:{device}"),
            ACCOUNT_FREE_FAILURES,
            OnSuccess::Clear,
        )];
    }
    let mut limits = vec![Limit::new(
        format!("account:{}", email.trim().to_lowercase()),
        ACCOUNT_FREE_FAILURES,
        OnSuccess::Clear,
    )];
    if let Some(ip) = client {
        limits.push(Limit::new(
            format!("address:{ip}"),
            ADDRESS_FREE_FAILURES,
            OnSuccess::Refund,
        ));
    }
    limits
}

/// Checks a password, counted before it is checked against the `limits`
/// (see [`sign_in_limits`]; the counters live in the database, so a restart
/// resets nothing and parallel guesses cannot pass the limit). Unknown
/// emails and deactivated accounts are answered like wrong passwords.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    limits: &[Limit],
) -> AppResult<User> {
    let store = state.store();
    let account = match EmailAddress::parse("email", email) {
        Ok(email) => store.user_by_email(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = match account {
        Some(found) if found.user.active => (Some(found.user), Some(found.password_hash)),
        _ => (None, None),
    };
    let verified =
        throttle::attempt(state, limits, state.passwords().verify(password, hash)).await?;
    match user {
        Some(user) if verified => {
            // With two-step sign-in, "signed in" is recorded after the second step.
            if !user.two_factor {
                audit::record(
                    state,
                    audit::Event::new("signed_in")
                        .actor(&user)
                        .subject(&user.id),
                )
                .await?;
            }
            tracing::info!(user_id = %user.id, role = %user.role, "signed in");
            Ok(user)
        }
        user => {
            if let Some(user) = &user {
                audit::record(state, audit::Event::new("sign_in_failed").subject(&user.id)).await?;
            }
            tracing::info!("sign-in refused");
            Err(Error::InvalidCredentials)
        }
    }
}

/// Checks the password of someone already signed in (before changing the
/// password, deleting the account, turning two-step sign-in on or off),
/// counted like sign-in so a borrowed session cannot be used to guess it.
pub async fn confirm_password(state: &AppState, user: &User, password: &str) -> AppResult<bool> {
    let limits = [Limit::new(
        format!("account:{}", user.email),
        ACCOUNT_FREE_FAILURES,
        OnSuccess::Clear,
    )];
    let stored = state.store().password_hash(&user.id).await?;
    throttle::attempt(
        state,
        &limits,
        state.passwords().verify(password, Some(stored)),
    )
    .await
}

/// Creates a one-time setup link if nobody has an account yet.
pub async fn setup_link_if_empty(
    store: &Store,
    config: &WebConfig,
) -> anyhow::Result<Option<String>> {
    if !store.is_empty().await? {
        return Ok(None);
    }
    let token = SecretToken::generate();
    let now = crate::state::system_now();
    store
        .create_one_time_token(
            token.hash().as_str(),
            OneTimePurpose::Setup,
            None,
            now,
            now + SETUP_LINK_LIFETIME,
        )
        .await?;
    Ok(Some(config.link(&format!("/setup/{}", token.expose()))))
}

pub async fn setup_link_is_open(state: &AppState, token: &str) -> AppResult<()> {
    let hash = SecretToken::from_client(token).hash();
    if state
        .store()
        .one_time_token_is_open(hash.as_str(), OneTimePurpose::Setup, state.now())
        .await?
    {
        Ok(())
    } else {
        Err(Error::Gone(
            "This setup link has already been used or has expired. Restart Trellis on an empty database for a new one, or sign in.",
        ))
    }
}

pub struct SetupForm<'a> {
    pub practice_name: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

#[tracing::instrument(skip_all)]
pub async fn complete_setup(state: &AppState, token: &str, form: SetupForm<'_>) -> AppResult<User> {
    setup_link_is_open(state, token).await?;
    let mut problems = Problems::default();
    let practice_name = problems.check(PracticeName::parse("practice_name", form.practice_name));
    let name = problems.check(DisplayName::parse("name", form.name));
    let email = problems.check(EmailAddress::parse("email", form.email));
    let password = problems.check(NewPassword::parse("password", form.password));
    problems.into_result()?;
    let (Some(practice_name), Some(name), Some(email), Some(password)) =
        (practice_name, name, email, password)
    else {
        return Err(Error::Unexpected(anyhow::anyhow!(
            "validated setup fields missing"
        )));
    };
    let password_hash = state.passwords().hash(password.expose()).await?;
    let (_, admin) = state
        .store()
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: practice_name.as_str(),
            admin_email: email.as_str(),
            admin_name: name.as_str(),
            password_hash: &password_hash,
            setup_token_hash: Some(SecretToken::from_client(token).hash().as_str()),
            now: state.now(),
        })
        .await?;
    tracing::info!(user_id = %admin.id, "first practice admin created");
    Ok(admin)
}

/// What an invitation link shows before it is accepted.
pub struct InvitationPreview {
    pub name: String,
    pub email: String,
    pub kind: InvitationKind,
}

pub async fn preview_invitation(state: &AppState, token: &str) -> AppResult<InvitationPreview> {
    let hash = SecretToken::from_client(token).hash();
    let invitation = state
        .store()
        .invitation_by_token(hash.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    match invitation_status(invitation.expires_at, invitation.used_at, state.now()) {
        InvitationStatus::Open => Ok(InvitationPreview {
            name: invitation.name,
            email: invitation.email,
            kind: invitation.kind,
        }),
        InvitationStatus::Used => Err(Error::Gone(
            "This invitation has already been accepted. If that was you, please sign in.",
        )),
        InvitationStatus::Expired => Err(Error::Gone(
            "This invitation has expired. Please ask whoever invited you to send a new link.",
        )),
    }
}

#[tracing::instrument(skip_all)]
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    name: &str,
    password: &str,
) -> AppResult<User> {
    let preview = preview_invitation(state, token).await?;
    let mut problems = Problems::default();
    let name = problems.check(DisplayName::parse("name", name));
    let password = problems.check(NewPassword::parse("password", password));
    problems.into_result()?;
    let (Some(name), Some(password)) = (name, password) else {
        return Err(Error::Unexpected(anyhow::anyhow!(
            "validated invitation fields missing"
        )));
    };
    let password_hash = state.passwords().hash(password.expose()).await?;
    let link_code = (preview.kind == InvitationKind::Therapist).then(new_link_code);
    let accepted = state
        .store()
        .accept_invitation(
            SecretToken::from_client(token).hash().as_str(),
            name.as_str(),
            &password_hash,
            link_code.as_deref(),
            state.now(),
        )
        .await?;
    let mut event = audit::Event::new("accepted_invitation")
        .actor(&accepted.user)
        .subject(&accepted.user.id);
    if let Some(couple_id) = accepted.user.couple_id.as_ref() {
        event = event.couple(couple_id);
    }
    audit::record(state, event).await?;
    tracing::info!(user_id = %accepted.user.id, role = %accepted.user.role, "invitation accepted");
    Ok(accepted.user)
}

pub struct SignUpForm<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

/// How long a sign-up link works.
const SIGN_UP_LINK_LIFETIME: i64 = DAY;
/// Sign-ups and reset requests one address may send in the throttle window
/// before it waits, and mails one mailbox may receive from those forms.
const FORM_MAILS_PER_ADDRESS: i64 = 10;
const FORM_MAILS_PER_MAILBOX: i64 = 3;

/// Counts a request that ends in a mail, per client address and per target
/// mailbox, so the forms can neither flood an inbox nor be used cheaply in
/// bulk. Counted the same whether or not the address has an account.
async fn limit_form_mail(
    state: &AppState,
    form: &str,
    email: &EmailAddress,
    client: Option<IpAddr>,
) -> AppResult<()> {
    let now = state.now();
    let window = trellis_core::throttle::WINDOW;
    let mut keys = vec![(
        format!("{form}-mailbox:{}", email.as_str()),
        FORM_MAILS_PER_MAILBOX,
    )];
    if let Some(ip) = client {
        keys.push((format!("{form}-address:{ip}"), FORM_MAILS_PER_ADDRESS));
    }
    for (key, free) in keys {
        let attempt = state
            .store()
            .throttle_attempt(&key, now, window, |n| if n >= free { window } else { 0 })
            .await?;
        if let trellis_store::ThrottleAttempt::Locked { until } = attempt {
            return Err(Error::TooManyRequests {
                retry_after_secs: (until - now + 999) / 1000,
            });
        }
    }
    Ok(())
}

/// A partner starting self-guided. Nothing is created yet: a link goes to
/// the address, and the account exists once it is opened
/// ([`confirm_sign_up`]). If the address already has an account, its owner
/// is told by mail instead. Either way the answer, and the work done, are
/// the same, so the form tells no one who has an account.
#[tracing::instrument(skip_all)]
pub async fn sign_up_self_guided(
    state: &AppState,
    form: SignUpForm<'_>,
    client: Option<IpAddr>,
) -> AppResult<()> {
    let mut problems = Problems::default();
    let name = problems.check(DisplayName::parse("name", form.name));
    let email = problems.check(EmailAddress::parse("email", form.email));
    let password = problems.check(NewPassword::parse("password", form.password));
    problems.into_result()?;
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(Error::Unexpected(anyhow::anyhow!(
            "validated sign-up fields missing"
        )));
    };
    limit_form_mail(state, "sign-up", &email, client).await?;
    let password_hash = state.passwords().hash(password.expose()).await?;
    if let Some(existing) = state.store().user_by_email(&email).await? {
        let body = format!(
            "Hello {name},\n\nSomeone (perhaps you) tried to create a new Trellis account with this \
             email address. It already has an account, so nothing was changed.\n\n\
             If it was you, you can sign in here:\n\n{login}\n\n\
             If you have forgotten your password, you can choose a new one here:\n\n{forgot}\n\n\
             If it wasn't you, you can ignore this mail.\n\n— Trellis\n",
            name = existing.user.name,
            login = state.config().link("/login"),
            forgot = state.config().link("/password/forgot"),
        );
        spawn_form_mail(state, "", email.as_str(), "Your Trellis account", body);
        tracing::info!("sign-up asked for an address that has an account; its owner was told");
        return Ok(());
    }
    let token = SecretToken::generate();
    let now = state.now();
    state
        .store()
        .create_pending_sign_up(trellis_store::PendingSignUp {
            token_hash: token.hash().as_str(),
            email: email.as_str(),
            name: name.as_str(),
            password_hash: &password_hash,
            now,
            expires_at: now + SIGN_UP_LINK_LIFETIME,
        })
        .await?;
    let body = format!(
        "Hello,\n\nTo finish creating your Trellis account, open this link within a day:\n\n{link}\n\n\
         If you did not ask for an account, you can ignore this mail; nothing is created unless the link is opened.\n\n— Trellis\n",
        link = state
            .config()
            .link(&format!("/signup/confirm/{}", token.expose())),
    );
    spawn_form_mail(
        state,
        "",
        email.as_str(),
        "Finish creating your Trellis account",
        body,
    );
    tracing::info!("self-guided sign-up waits for its link to be opened");
    Ok(())
}

/// Sends a mail from a public form after the answer has gone: how long a
/// mail server takes must not tell anyone whether an address has an
/// account. A failure is logged, never shown, for the same reason.
fn spawn_form_mail(state: &AppState, to_name: &str, to: &str, subject: &str, body: String) {
    let (state, to_name, to, subject) = (
        state.clone(),
        to_name.to_owned(),
        to.to_owned(),
        subject.to_owned(),
    );
    tokio::spawn(async move {
        if let Err(err) = super::outbox::send(&state, &to_name, &to, &subject, &body).await {
            tracing::error!(error = ?err, "could not send a mail from a public form");
        }
    });
}

pub async fn sign_up_link_is_open(state: &AppState, token: &str) -> AppResult<()> {
    let hash = SecretToken::from_client(token).hash();
    if state
        .store()
        .pending_sign_up_is_open(hash.as_str(), state.now())
        .await?
    {
        Ok(())
    } else {
        Err(Error::Gone(
            "This link has already been used or has expired. You can sign up again, or sign in if your account is ready.",
        ))
    }
}

/// The owner of the mailbox opened their sign-up link: the account and its
/// own couple are made now.
#[tracing::instrument(skip_all)]
pub async fn confirm_sign_up(state: &AppState, token: &str) -> AppResult<User> {
    let hash = SecretToken::from_client(token).hash();
    let user = match state
        .store()
        .complete_pending_sign_up(hash.as_str(), state.now())
        .await
    {
        Ok(user) => user,
        Err(trellis_store::StoreError::NotFound | trellis_store::StoreError::Conflict(_)) => {
            return Err(Error::Gone(
                "This link has already been used or has expired. You can sign up again, or sign in if your account is ready.",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    audit::record(
        state,
        audit::Event::new("signed_up")
            .actor(&user)
            .subject(&user.id),
    )
    .await?;
    tracing::info!(user_id = %user.id, "self-guided sign-up");
    Ok(user)
}

/// Always answers the same, with the same work done (one lookup, one token
/// written, the mail sent after the answer), so the form cannot be used to
/// find out who has an account; counted per mailbox and per address so it
/// cannot flood an inbox. A link goes out only when an account exists.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    state: &AppState,
    email: &str,
    client: Option<IpAddr>,
) -> AppResult<()> {
    let email = EmailAddress::parse("email", email)?;
    limit_form_mail(state, "reset", &email, client).await?;
    let user = state.store().user_by_email(&email).await?.map(|a| a.user);
    let token = SecretToken::generate();
    let now = state.now();
    // For an unknown address the token is a decoy nobody ever receives.
    state
        .store()
        .create_one_time_token(
            token.hash().as_str(),
            OneTimePurpose::PasswordReset,
            user.as_ref().map(|u| u.id.as_str()),
            now,
            now + RESET_LINK_LIFETIME,
        )
        .await?;
    let Some(user) = user else {
        tracing::info!("password reset asked for an unknown address");
        return Ok(());
    };
    let link = state
        .config()
        .link(&format!("/password/reset/{}", token.expose()));
    let body = format!(
        "Hello {name},\n\nSomeone (hopefully you) asked to reset the password of your Trellis account.\n\
         To choose a new password, open this link within the next hour:\n\n{link}\n\n\
         If you did not ask for this, you can ignore this message; your password stays as it is.\n\n— Trellis\n",
        name = user.name
    );
    spawn_form_mail(
        state,
        &user.name,
        &user.email,
        "Reset your Trellis password",
        body,
    );
    tracing::info!(user_id = %user.id, "password reset link sent");
    Ok(())
}

pub async fn reset_link_is_open(state: &AppState, token: &str) -> AppResult<()> {
    let hash = SecretToken::from_client(token).hash();
    if state
        .store()
        .one_time_token_is_open(hash.as_str(), OneTimePurpose::PasswordReset, state.now())
        .await?
    {
        Ok(())
    } else {
        Err(Error::Gone(
            "This reset link has already been used or has expired. You can ask for a new one.",
        ))
    }
}

#[tracing::instrument(skip_all)]
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> AppResult<User> {
    reset_link_is_open(state, token).await?;
    let password = NewPassword::parse("password", password)?;
    let hash = state.passwords().hash(password.expose()).await?;
    let user_id = state
        .store()
        .reset_password(
            SecretToken::from_client(token).hash().as_str(),
            &hash,
            state.now(),
        )
        .await?;
    tracing::info!(%user_id, "password reset");
    Ok(state.store().user(&user_id).await?)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn change_password(
    state: &AppState,
    user: &User,
    current: &str,
    new: &str,
) -> AppResult<()> {
    if !confirm_password(state, user, current).await? {
        return Err(Error::invalid(
            "current_password",
            "Your current password isn't right. Please try again.",
        ));
    }
    let new = NewPassword::parse("new_password", new)?;
    let hash = state.passwords().hash(new.expose()).await?;
    state.store().set_password(&user.id, &hash).await?;
    tracing::info!("password changed; other sessions ended");
    Ok(())
}

/// Letters and digits that cannot be mistaken for each other when read aloud.
const LINK_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A therapist's practice code, like `K7QM-2XRD`.
pub fn new_link_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let index = rng.gen_range(0..LINK_CODE_ALPHABET.len());
        code.push(char::from(LINK_CODE_ALPHABET[index]));
    }
    code
}

/// Accepts codes typed with spaces, lower case or without the dash.
pub fn normalize_link_code(input: &str) -> String {
    let compact: String = input
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() == 8 {
        format!("{}-{}", &compact[..4], &compact[4..])
    } else {
        compact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_codes_have_the_documented_shape() {
        let code = new_link_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            code.chars()
                .filter(|c| *c != '-')
                .all(|c| LINK_CODE_ALPHABET.contains(&(c as u8)))
        );
    }

    #[test]
    fn typed_codes_are_normalized() {
        assert_eq!(normalize_link_code(" k7qm 2xrd "), "K7QM-2XRD");
        assert_eq!(normalize_link_code("K7QM-2XRD"), "K7QM-2XRD");
        assert_eq!(normalize_link_code("k7q"), "K7Q");
        assert_eq!(normalize_link_code("ÄÖ"), "");
    }
}
