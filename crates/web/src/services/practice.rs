//! Running a practice: its settings and its therapists.

use trellis_core::invitation::INVITATION_LIFETIME;
use trellis_core::schedule::MAX_REMINDER_HOURS;
use trellis_core::{DisplayName, EmailAddress, PracticeName, Role};
use trellis_crypto::SecretToken;
use trellis_store::User;

use super::accounts::Problems;
use super::couples::{Invitee, SentInvitation};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, now};

/// The longest practice description we accept.
pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
pub const CONTACT_MAX_CHARS: usize = 1_000;

/// The practice's settings, as the admin typed them.
pub struct Settings<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// How to reach the practice (shown on its public page). `None` here
    /// and below: left as it is.
    pub contact: Option<&'a str>,
    /// An IANA time zone name.
    pub time_zone: Option<&'a str>,
    /// Whole hours before a session its reminder goes out; "0" for none.
    pub reminder_hours: Option<&'a str>,
    pub require_two_factor: bool,
}

fn practice_of(admin: &User) -> AppResult<&str> {
    if admin.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    admin.practice_id.as_deref().ok_or(AppError::Forbidden)
}

#[tracing::instrument(skip_all, fields(admin_id = %admin.id))]
pub async fn update_settings(
    state: &AppState,
    admin: &User,
    settings: Settings<'_>,
) -> AppResult<()> {
    let practice_id = practice_of(admin)?;
    let mut problems = Problems::default();
    let name = problems.check(PracticeName::parse("name", settings.name));
    let description = settings.description.trim();
    let current = state.store().practice(practice_id).await?;
    let contact = settings.contact.unwrap_or(&current.contact).trim();
    if contact.chars().count() > CONTACT_MAX_CHARS {
        problems.add(
            "contact",
            format!("Please keep the contact details to {CONTACT_MAX_CHARS} characters or fewer."),
        );
    }
    let zone = problems.check(crate::when::time_zone(
        "time_zone",
        settings.time_zone.unwrap_or(&current.time_zone),
    ));
    let current_hours = current.reminder_hours.to_string();
    let reminder_hours = match settings
        .reminder_hours
        .unwrap_or(&current_hours)
        .trim()
        .parse::<i64>()
    {
        Ok(hours) if (0..=MAX_REMINDER_HOURS).contains(&hours) => hours,
        _ => {
            problems.add(
                "reminder_hours",
                format!("Please give the reminder time in whole hours, from 0 (no reminders) to {MAX_REMINDER_HOURS}."),
            );
            0
        }
    };
    if description.chars().count() > DESCRIPTION_MAX_CHARS {
        problems.add(
            "description",
            format!("Please keep the description to {DESCRIPTION_MAX_CHARS} characters or fewer."),
        );
    }
    problems.into_result()?;
    let Some(name) = name else {
        return Err(AppError::Unexpected(anyhow::anyhow!(
            "validated practice name missing"
        )));
    };
    state
        .store()
        .update_practice(practice_id, name.as_str(), description)
        .await?;
    let zone_name = zone.as_ref().map_or("UTC", crate::when::zone_name);
    state
        .store()
        .update_practice_details(practice_id, contact, zone_name, reminder_hours)
        .await?;
    state
        .store()
        .set_practice_requires_two_factor(practice_id, settings.require_two_factor)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(admin_id = %admin.id))]
pub async fn invite_therapist(
    state: &AppState,
    admin: &User,
    invitee: Invitee<'_>,
) -> AppResult<SentInvitation> {
    practice_of(admin)?;
    let mut problems = Problems::default();
    let email = problems.check(EmailAddress::parse("email", invitee.email));
    let name = problems.check(DisplayName::parse("name", invitee.name));
    if let Some(email) = &email
        && state.store().user_by_email(email).await?.is_some()
    {
        problems.add("email", format!("{email} already has a Trellis account."));
    }
    problems.into_result()?;
    let (Some(email), Some(name)) = (email, name) else {
        return Err(AppError::Unexpected(anyhow::anyhow!(
            "validated invitee fields missing"
        )));
    };
    let token = SecretToken::generate();
    let now = now();
    let invitation = state
        .store()
        .create_therapist_invitation(
            admin,
            email.as_str(),
            name.as_str(),
            token.hash().as_str(),
            now,
            now + INVITATION_LIFETIME,
        )
        .await?;
    let practice = state.store().practice(practice_of(admin)?).await?;
    let lines = format!(
        "{admin} has invited you to join {practice} on Trellis as a therapist.",
        admin = admin.name,
        practice = practice.name,
    );
    Ok(super::couples::mail_invitation(
        state,
        invitation,
        &token,
        "Join your practice on Trellis",
        &lines,
        true,
    )
    .await)
}
