//! Couples: a therapist starting one, partners joining, self-guided couples
//! inviting each other and linking a therapist.

use trellis_core::invitation::INVITATION_LIFETIME;
use trellis_core::{DisplayName, EmailAddress, Role};
use trellis_crypto::SecretToken;
use trellis_store::{Couple, Invitation, NewPartner, User};

use super::accounts::{Problems, normalize_link_code};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, now};

/// A person to invite, as typed.
pub struct Invitee<'a> {
    pub email: &'a str,
    pub name: &'a str,
}

/// An invitation just made. Its secret link went only into the invitee's
/// mail: whoever invites never sees it, so accepting proves the mailbox.
pub struct SentInvitation {
    pub invitation: Invitation,
    /// Whether the mail went out; if not, a fresh invitation can be sent.
    pub mailed: bool,
}

/// Mails the secret link of an invitation to the invitee, and only there.
/// `lines` is the mail's text before the link; `by_name` greets the invitee
/// by the name the inviter typed (only when staff invite: see
/// [`partner_invitation_text`]). A mail failure is logged and reported back,
/// never answered with the link instead.
pub(crate) async fn mail_invitation(
    state: &AppState,
    invitation: Invitation,
    token: &SecretToken,
    subject: &str,
    lines: &str,
    by_name: bool,
) -> SentInvitation {
    let link = state
        .config()
        .link(&format!("/invitations/{}", token.expose()));
    let (greeting, to_name) = if by_name {
        (
            format!("Hello {}", invitation.name),
            invitation.name.as_str(),
        )
    } else {
        ("Hello".to_owned(), "")
    };
    let body = format!(
        "{greeting},\n\n{lines}\n\n\
         To accept, open this link within seven days and choose a password:\n\n{link}\n\n\
         If you weren't expecting this, you can simply ignore this mail: nothing happens unless you open the link.\n\n— Trellis\n",
    );
    let mailed = match state
        .mailer()
        .send(to_name, &invitation.email, subject, body)
        .await
    {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(error = ?err, invitation_id = %invitation.id, "could not send the invitation mail");
            false
        }
    };
    SentInvitation { invitation, mailed }
}

/// The words of a partner's invitation. A partner inviting the other has
/// chosen the names typed, and nothing yet proves who they are, so their
/// invitation carries no words they chose: no names, a neutral note.
fn partner_invitation_text(inviter: &User, what: &str) -> String {
    let who = if inviter.role == Role::Partner {
        "Someone"
    } else {
        inviter.name.as_str()
    };
    format!(
        "{who} has invited you {what} on Trellis, a private space for couples rebuilding \
         trust between therapy sessions.\n\n\
         What you write in Trellis is private to you unless you choose to share it."
    )
}

async fn mail_partner_invitation(
    state: &AppState,
    inviter: &User,
    invitation: Invitation,
    token: &SecretToken,
    what: &str,
) -> SentInvitation {
    mail_invitation(
        state,
        invitation,
        token,
        "You're invited to Trellis",
        &partner_invitation_text(inviter, what),
        inviter.role != Role::Partner,
    )
    .await
}

fn parse_invitee(
    problems: &mut Problems,
    index: usize,
    invitee: &Invitee<'_>,
) -> Option<(EmailAddress, DisplayName)> {
    const EMAIL_FIELDS: [&str; 2] = ["partners[0].email", "partners[1].email"];
    const NAME_FIELDS: [&str; 2] = ["partners[0].name", "partners[1].name"];
    let email = problems.check(EmailAddress::parse(
        EMAIL_FIELDS[index.min(1)],
        invitee.email,
    ));
    let name = problems.check(DisplayName::parse(NAME_FIELDS[index.min(1)], invitee.name));
    Some((email?, name?))
}

async fn refuse_existing_accounts(
    state: &AppState,
    problems: &mut Problems,
    field: &'static str,
    email: &EmailAddress,
) -> AppResult<()> {
    if state.store().user_by_email(email).await?.is_some() {
        problems.add(field, format!("{email} already has a Trellis account."));
    }
    Ok(())
}

/// A therapist starts a couple and invites both partners.
#[tracing::instrument(skip_all, fields(therapist_id = %therapist.id))]
pub async fn create_couple(
    state: &AppState,
    therapist: &User,
    partners: &[Invitee<'_>],
) -> AppResult<(Couple, Vec<SentInvitation>)> {
    if therapist.role != Role::Therapist {
        return Err(AppError::Forbidden);
    }
    if partners.len() != 2 {
        return Err(AppError::invalid(
            "partners",
            "Please name both partners of the couple.",
        ));
    }
    let mut problems = Problems::default();
    let parsed: Vec<_> = partners
        .iter()
        .enumerate()
        .map(|(i, p)| parse_invitee(&mut problems, i, p))
        .collect();
    if let [Some((a, _)), Some((b, _))] = parsed.as_slice()
        && a == b
    {
        problems.add(
            "partners[1].email",
            "Each partner needs their own email address.",
        );
    }
    for (index, parsed) in parsed.iter().enumerate() {
        if let Some((email, _)) = parsed {
            let field = if index == 0 {
                "partners[0].email"
            } else {
                "partners[1].email"
            };
            refuse_existing_accounts(state, &mut problems, field, email).await?;
        }
    }
    problems.into_result()?;
    let parsed: Vec<(EmailAddress, DisplayName)> = parsed.into_iter().flatten().collect();
    let tokens: Vec<SecretToken> = parsed.iter().map(|_| SecretToken::generate()).collect();
    let hashes: Vec<_> = tokens.iter().map(SecretToken::hash).collect();
    let new_partners: Vec<NewPartner<'_>> = parsed
        .iter()
        .zip(&hashes)
        .map(|((email, name), hash)| NewPartner {
            email: email.as_str(),
            name: name.as_str(),
            token_hash: hash.as_str(),
        })
        .collect();
    let now = now();
    let (couple, invitations) = state
        .store()
        .create_couple_with_invitations(therapist, &new_partners, now, now + INVITATION_LIFETIME)
        .await?;
    let mut sent = Vec::with_capacity(invitations.len());
    for (invitation, token) in invitations.into_iter().zip(&tokens) {
        sent.push(
            mail_partner_invitation(
                state,
                therapist,
                invitation,
                token,
                "to join your couple's space",
            )
            .await,
        );
    }
    tracing::info!(couple_id = %couple.id, "couple created");
    Ok((couple, sent))
}

/// Invites someone into a couple: a self-guided partner inviting the other,
/// or a therapist sending a fresh link to a partner who has not joined yet.
/// Once a therapist guides the couple, only they send invitations: a partner
/// must not be able to choose who takes the other seat.
#[tracing::instrument(skip_all, fields(inviter_id = %inviter.id, couple_id))]
pub async fn invite_partner(
    state: &AppState,
    inviter: &User,
    couple_id: &str,
    invitee: Invitee<'_>,
) -> AppResult<SentInvitation> {
    let couple = state.store().couple(couple_id).await?;
    let allowed = match inviter.role {
        Role::Partner => inviter.couple_id.as_deref() == Some(couple.id.as_str()),
        Role::Therapist => couple.therapist_id.as_deref() == Some(inviter.id.as_str()),
        Role::Admin => false,
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    if inviter.role == Role::Partner && couple.therapist_id.is_some() {
        return Err(AppError::Conflict(
            "Your therapist sends invitations for your couple. Please ask them to send a fresh one."
                .to_owned(),
        ));
    }
    let mut problems = Problems::default();
    let email = problems.check(EmailAddress::parse("email", invitee.email));
    let name = problems.check(DisplayName::parse("name", invitee.name));
    if let Some(email) = &email {
        if email.as_str() == inviter.email {
            problems.add(
                "email",
                "Please enter your partner's email address, not your own.",
            );
        } else {
            refuse_existing_accounts(state, &mut problems, "email", email).await?;
        }
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
        .create_partner_invitation(
            &couple.id,
            inviter,
            NewPartner {
                email: email.as_str(),
                name: name.as_str(),
                token_hash: token.hash().as_str(),
            },
            now,
            now + INVITATION_LIFETIME,
        )
        .await?;
    let what = if inviter.role == Role::Partner {
        "to join them"
    } else {
        "to join your couple's space"
    };
    Ok(mail_partner_invitation(state, inviter, invitation, &token, what).await)
}

/// A self-guided couple links the therapist whose practice code they were given.
#[tracing::instrument(skip_all, fields(user_id = %partner.id))]
pub async fn link_therapist(state: &AppState, partner: &User, code: &str) -> AppResult<User> {
    let couple_id = partner.couple_id.as_deref().ok_or(AppError::Forbidden)?;
    let code = normalize_link_code(code);
    if code.is_empty() {
        return Err(AppError::invalid(
            "code",
            "Please enter the practice code your therapist gave you.",
        ));
    }
    let therapist = state
        .store()
        .therapist_by_link_code(&code)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "code",
                "We don't recognise that practice code. Please check it with your therapist.",
            )
        })?;
    state.store().link_therapist(couple_id, &therapist).await?;
    tracing::info!(%couple_id, therapist_id = %therapist.id, "couple linked to a therapist");
    Ok(therapist)
}

/// What a partner's home needs to know about their couple.
pub struct CoupleOverview {
    pub couple: Couple,
    pub partner: Option<User>,
    pub open_invitations: Vec<Invitation>,
    pub therapist: Option<User>,
}

pub async fn overview_for_partner(
    state: &AppState,
    partner: &User,
) -> AppResult<Option<CoupleOverview>> {
    let Some(couple_id) = partner.couple_id.as_deref() else {
        return Ok(None);
    };
    let store = state.store();
    let couple = store.couple(couple_id).await?;
    let other = store
        .couple_members(couple_id)
        .await?
        .into_iter()
        .find(|member| member.id != partner.id);
    let open_invitations = if other.is_none() {
        store.open_couple_invitations(couple_id, now()).await?
    } else {
        Vec::new()
    };
    let therapist = match couple.therapist_id.as_deref() {
        Some(id) => Some(store.user(id).await?),
        None => None,
    };
    Ok(Some(CoupleOverview {
        couple,
        partner: other,
        open_invitations,
        therapist,
    }))
}

/// "Alex & Sam": a couple as staff read it in lists and headings.
pub async fn title(state: &AppState, couple_id: &str) -> AppResult<String> {
    Ok(state
        .store()
        .couple_members(couple_id)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(" & "))
}
