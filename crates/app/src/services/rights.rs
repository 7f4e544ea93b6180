//! A person's rights over their data: see it all, take it with them, see who
//! looked at what they shared, leave, be forgotten.

use serde::Serialize;
use trellis_core::Role;
use trellis_core::time::utc_date;
use trellis_store::{AuditEvent, EntryFilter, User};

use super::{audit, writing};
use crate::error::{AppResult, Error};
use crate::state::AppState;

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedEntry {
    pub id: String,
    pub kind: String,
    pub author: String,
    pub written_by_me: bool,
    pub audience: String,
    pub audience_description: String,
    pub created: String,
    pub created_at: i64,
    pub body: String,
    /// For my own entries: every change of audience, oldest first.
    pub audience_history: Vec<ExportedAudienceChange>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedAudienceChange {
    pub from: String,
    pub to: String,
    pub changed_at: i64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedMeasure {
    pub instrument: String,
    pub score: i64,
    pub taken: String,
    pub note: Option<String>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedActivity {
    pub at: i64,
    pub date: String,
    pub what: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Export {
    pub exported_at: i64,
    pub account: ExportedAccount,
    pub entries: Vec<ExportedEntry>,
    /// Your own check-ins and measures, with any private notes.
    pub measures: Vec<ExportedMeasure>,
    /// The answers to the private safety check are not in this copy, so a
    /// file saved on a shared device cannot reveal them; this says how to
    /// ask the practice for them. Set for partners.
    pub safety_answers_note: Option<String>,
    /// The structured talks of your couple, every turn.
    pub talks: Vec<super::talks::TalkView>,
    pub activity: Vec<ExportedActivity>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub couple_id: Option<String>,
    pub partner: Option<String>,
    pub therapist: Option<String>,
}

/// A line of the activity log, in plain words for the person it is about.
pub fn describe(event: &AuditEvent, me: &str) -> String {
    let actor = match (&event.actor_id, &event.actor_name) {
        (Some(id), _) if id == me => "You".to_owned(),
        (_, Some(name)) => name.clone(),
        _ => "Someone".to_owned(),
    };
    let item = match event.item_kind.as_deref() {
        Some("journal") => "a journal entry of yours",
        Some(_) => "something you wrote",
        None => "your writing",
    };
    match event.action.as_str() {
        "viewed_writing" => format!("{actor} opened {item}."),
        "audience_changed" => format!(
            "{actor} changed who can see a piece of writing ({}).",
            event.detail.replace('_', " ")
        ),
        "signed_in" => format!("{actor} signed in."),
        "sign_in_failed" => "Someone tried to sign in with a wrong password.".to_owned(),
        "exported" => format!("{actor} downloaded a copy of your data."),
        writing::EXPORTED_WRITING => format!(
            "{actor} downloaded a copy of what you shared with them ({} pieces of writing).",
            event.detail
        ),
        "signed_out_everywhere" => format!("{actor} signed out on every device."),
        "left_couple" => format!("{actor} left the couple."),
        "two_factor_reset" if event.actor_id.is_none() => {
            "Two-step sign-in was reset by the server's operator.".to_owned()
        }
        "two_factor_reset" => format!("{actor} reset two-step sign-in."),
        "staff_deactivated" => format!("{actor} removed this account's access."),
        "accepted_invitation" => {
            format!("{actor} accepted the invitation and created the account.")
        }
        other => format!("{actor}: {}.", other.replace('_', " ")),
    }
}

pub async fn activity(state: &AppState, user: &User) -> AppResult<Vec<ExportedActivity>> {
    let events = state.store().audit_events_about(&user.id, 500).await?;
    Ok(events
        .iter()
        .map(|event| ExportedActivity {
            at: event.at,
            date: utc_date(event.at),
            what: describe(event, &user.id),
        })
        .collect())
}

/// Everything the person wrote or may see, opened, in one document.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn export(state: &AppState, user: &User) -> AppResult<Export> {
    let store = state.store();
    let entries = writing::list_all(state, user, EntryFilter::default()).await?;
    let mut exported = Vec::with_capacity(entries.len());
    for entry in entries {
        let audience_history = if entry.mine {
            store
                .audience_changes(&entry.id)
                .await?
                .into_iter()
                .map(|c| ExportedAudienceChange {
                    from: c.from.as_str().to_owned(),
                    to: c.to.as_str().to_owned(),
                    changed_at: c.changed_at,
                })
                .collect()
        } else {
            Vec::new()
        };
        exported.push(ExportedEntry {
            created: utc_date(entry.created_at),
            id: entry.id,
            kind: entry.kind,
            author: entry.author_name,
            written_by_me: entry.mine,
            audience: entry.audience.as_str().to_owned(),
            audience_description: entry.audience.describe().to_owned(),
            created_at: entry.created_at,
            body: entry.body,
            audience_history,
        });
    }
    let overview = super::couples::overview_for_partner(state, user).await?;
    let (partner, therapist) = match overview {
        Some(o) => (o.partner.map(|p| p.name), o.therapist.map(|t| t.name)),
        None => (None, None),
    };
    audit::record(
        state,
        audit::Event::new("exported").actor(user).subject(&user.id),
    )
    .await?;
    Ok(Export {
        exported_at: state.now(),
        account: ExportedAccount {
            id: user.id.to_string(),
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role.as_str().to_owned(),
            couple_id: user.couple_id.as_deref().map(str::to_owned),
            partner,
            therapist,
        },
        entries: exported,
        measures: own_measures(state, user).await?,
        safety_answers_note: safety_answers_note(state, user).await?,
        talks: super::talks::export_for(state, user).await?,
        activity: activity(state, user).await?,
    })
}

/// Why the safety check answers are not in the export, and whom to ask.
async fn safety_answers_note(state: &AppState, user: &User) -> AppResult<Option<String>> {
    if user.role != Role::Partner {
        return Ok(None);
    }
    const LEFT_OUT: &str = "Your answers to the private safety check are not included in this copy, \
         so that a saved file can never show them to someone else.";
    let ask = match super::practice::practice_for_user(state, user).await? {
        Some(practice) if !practice.contact.trim().is_empty() => format!(
            "If you would like them, you can ask {} for them: {}",
            practice.name,
            practice.contact.trim()
        ),
        Some(practice) => format!(
            "If you would like them, you can ask {} for them.",
            practice.name
        ),
        None => "If you would like them, you can ask whoever runs this Trellis service for them."
            .to_owned(),
    };
    Ok(Some(format!("{LEFT_OUT} {ask}")))
}

pub async fn sign_out_everywhere(state: &AppState, user: &User) -> AppResult<()> {
    state.store().delete_user_sessions(&user.id).await?;
    audit::record(
        state,
        audit::Event::new("signed_out_everywhere")
            .actor(user)
            .subject(&user.id),
    )
    .await?;
    Ok(())
}

pub async fn leave_couple(state: &AppState, user: &User, password: &str) -> AppResult<()> {
    if user.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let old = user.couple_id.clone().ok_or(Error::NotFound)?;
    // Leaving cannot be undone by one person alone: the password says it
    // is really them, and really meant.
    if password.is_empty() {
        return Err(Error::invalid(
            "password",
            "Type your password to confirm that you want to leave the couple.",
        ));
    }
    if !super::accounts::confirm_password(state, user, password).await? {
        return Err(Error::invalid(
            "password",
            "That password isn't right, so you are still in the couple.",
        ));
    }
    let resealed = super::writing::resealed_for_withdrawal(state, user).await?;
    state
        .store()
        .leave_couple(&user.id, &resealed, state.now())
        .await?;
    audit::record(
        state,
        audit::Event::new("left_couple")
            .actor(user)
            .subject(&user.id)
            .couple(&old),
    )
    .await?;
    Ok(())
}

/// Deletes a partner's account after checking their password. Staff
/// accounts hold couples and practices, so an admin removes them instead.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_account(state: &AppState, user: &User, password: &str) -> AppResult<()> {
    if user.role != Role::Partner {
        return Err(Error::Conflict(
            "Therapist and admin accounts hold other people's care. Please ask your practice admin to remove this account.".to_owned(),
        ));
    }
    if !super::accounts::confirm_password(state, user, password).await? {
        return Err(Error::invalid(
            "password",
            "That password isn't right, so nothing was deleted.",
        ));
    }
    state.store().delete_account(&user.id, state.now()).await?;
    audit::record(
        state,
        audit::Event::new("account_deleted").subject(&user.id),
    )
    .await?;
    tracing::info!("account deleted");
    Ok(())
}

async fn own_measures(state: &AppState, user: &User) -> AppResult<Vec<ExportedMeasure>> {
    let mut measures = Vec::new();
    for row in super::measures::measures_of(state, &user.id).await? {
        let note = match &row.note {
            Some(sealed) => Some(
                state
                    .vault()
                    .open(
                        state.store(),
                        &row.couple_id,
                        sealed,
                        &format!("measure-note:{}", row.id),
                    )
                    .await?,
            ),
            None => None,
        };
        measures.push(ExportedMeasure {
            instrument: row.instrument_id,
            score: row.score,
            taken: utc_date(row.created_at),
            note,
        });
    }
    Ok(measures)
}
