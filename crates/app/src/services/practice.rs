//! Running a practice: its settings and its therapists.

use trellis_core::CoupleId;
use trellis_core::invitation::INVITATION_LIFETIME;
use trellis_core::schedule::MAX_REMINDER_HOURS;
use trellis_core::{DisplayName, EmailAddress, PracticeName, Role};
use trellis_crypto::SecretToken;
use trellis_store::{Practice, User};

use super::accounts::Problems;
use super::audit;
use super::couples::{Invitee, SentInvitation};
use crate::error::{AppResult, Error};
use crate::state::AppState;

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
    /// The regions whose helplines the practice shows (ids from
    /// `helplines.toml`, separated by commas).
    pub helpline_region: Option<&'a str>,
}

/// The practice someone belongs to: staff through their account, partners
/// through their couple. `None` for a self-guided couple.
pub async fn practice_for_user(state: &AppState, user: &User) -> AppResult<Option<Practice>> {
    let practice_id = match (user.role, &user.couple_id) {
        (Role::Partner, Some(couple_id)) => state.store().couple(couple_id).await?.practice_id,
        (Role::Partner, None) => None,
        _ => user.practice_id.clone(),
    };
    match practice_id {
        Some(id) => Ok(Some(state.store().practice(&id).await?)),
        None => Ok(None),
    }
}

fn practice_of(admin: &User) -> AppResult<&str> {
    if admin.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    admin.practice_id.as_deref().ok_or(Error::Forbidden)
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
    let helpline_region = match settings.helpline_region {
        None => current.helpline_region.clone(),
        Some(choice) => state.content().helpline_choice(choice).unwrap_or_else(|| {
            problems.add(
                "helpline_region",
                "Please choose one of the listed regions for the helplines.",
            );
            String::new()
        }),
    };
    problems.into_result()?;
    let Some(name) = name else {
        return Err(Error::Unexpected(anyhow::anyhow!(
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
    state
        .store()
        .set_practice_helpline_region(practice_id, &helpline_region)
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
    let (email, name) = problems.into_pair(email, name)?;
    let token = SecretToken::generate();
    let now = state.now();
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

/// A member of staff of the admin's own practice, active or not.
async fn own_staff(state: &AppState, admin: &User, user_id: &str) -> AppResult<User> {
    let practice_id = practice_of(admin)?;
    let person = match state.store().user(user_id).await {
        Ok(person) => person,
        Err(trellis_store::StoreError::NotFound) => return Err(Error::NotFound),
        Err(other) => return Err(other.into()),
    };
    if !person.role.is_staff() || person.practice_id.as_deref() != Some(practice_id) {
        return Err(Error::NotFound);
    }
    Ok(person)
}

/// Removes a therapist's or admin's access at once (someone who left the
/// practice): sessions and tokens end, sign-in is refused. Their couples
/// keep everything and wait for the admin to give them another therapist.
#[tracing::instrument(skip_all, fields(admin_id = %admin.id, user_id))]
pub async fn deactivate_staff(state: &AppState, admin: &User, user_id: &str) -> AppResult<()> {
    let person = own_staff(state, admin, user_id).await?;
    if person.id == admin.id {
        return Err(Error::Conflict(
            "You can't remove your own access. Please ask another admin of the practice."
                .to_owned(),
        ));
    }
    let practice_id = practice_of(admin)?;
    if person.role == Role::Admin {
        let admins = state
            .store()
            .practice_staff(practice_id)
            .await?
            .into_iter()
            .filter(|s| s.role == Role::Admin)
            .count();
        if admins <= 1 {
            return Err(Error::Conflict(
                "A practice needs at least one admin.".to_owned(),
            ));
        }
    }
    match state
        .store()
        .deactivate_staff(practice_id, &person.id, state.now())
        .await
    {
        Ok(()) => {}
        // Already removed: nothing more to do.
        Err(trellis_store::StoreError::NotFound) => return Ok(()),
        Err(other) => return Err(other.into()),
    }
    audit::record(
        state,
        audit::Event::new("staff_deactivated")
            .actor(admin)
            .subject(&person.id),
    )
    .await?;
    tracing::info!(user_id = %person.id, "staff access removed");
    Ok(())
}

/// Resets a colleague's two-step sign-in (a lost phone): they set it up
/// again at their next sign-in if the practice requires it.
#[tracing::instrument(skip_all, fields(admin_id = %admin.id, user_id))]
pub async fn reset_two_factor(state: &AppState, admin: &User, user_id: &str) -> AppResult<()> {
    let person = own_staff(state, admin, user_id).await?;
    state.store().disable_totp(&person.id).await?;
    state.store().delete_user_sessions(&person.id).await?;
    audit::record(
        state,
        audit::Event::new("two_factor_reset")
            .actor(admin)
            .subject(&person.id),
    )
    .await?;
    Ok(())
}

/// Gives a couple of the practice to another of its active therapists.
#[tracing::instrument(skip_all, fields(admin_id = %admin.id, couple_id))]
pub async fn move_couple(
    state: &AppState,
    admin: &User,
    couple_id: &CoupleId,
    therapist_id: &str,
) -> AppResult<()> {
    let practice_id = practice_of(admin)?;
    let couple = match state.store().couple(couple_id).await {
        Ok(couple) if couple.practice_id.as_deref() == Some(practice_id) => couple,
        Ok(_) | Err(trellis_store::StoreError::NotFound) => return Err(Error::NotFound),
        Err(other) => return Err(other.into()),
    };
    let therapist = match own_staff(state, admin, therapist_id.trim()).await {
        Ok(person) if person.role == Role::Therapist && person.active => person,
        Ok(_) | Err(Error::NotFound) => {
            return Err(Error::invalid(
                "therapist_id",
                "Please choose one of the practice's therapists.",
            ));
        }
        Err(other) => return Err(other),
    };
    state
        .store()
        .move_couple(practice_id, &couple.id, &therapist.id)
        .await?;
    audit::record(
        state,
        audit::Event::new("couple_moved")
            .actor(admin)
            .subject(&therapist.id)
            .couple(&couple.id),
    )
    .await?;
    Ok(())
}

/// Everyone who works or worked at the admin's practice.
pub async fn staff(state: &AppState, admin: &User) -> AppResult<Vec<User>> {
    let practice_id = practice_of(admin)?;
    Ok(state.store().staff_ever(practice_id).await?)
}
