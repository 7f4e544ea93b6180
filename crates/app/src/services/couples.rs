//! Couples: a therapist starting one, partners joining, self-guided couples
//! inviting each other and linking a therapist.

use trellis_core::CoupleId;
use trellis_core::invitation::INVITATION_LIFETIME;
use trellis_core::linking::{
    LinkAction, LinkParty, LinkStatus, link_code_expiry, link_code_works, next_link_status,
};
use trellis_core::{DisplayName, EmailAddress, Millis, Role};
use trellis_crypto::SecretToken;
use trellis_store::{Couple, Invitation, LinkRequest, NewLinkRequest, NewPartner, User};

use super::accounts::{Problems, new_link_code, normalize_link_code};
use super::audit;
use super::notices::{self, Notice};
use crate::error::{AppResult, Error};
use crate::state::AppState;

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
    let mailed = match super::outbox::send(state, to_name, &invitation.email, subject, &body).await
    {
        Ok(sent) => sent == super::outbox::Sent::Now,
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
    create_couple_with(state, therapist, partners, false).await
}

/// A new couple guided by `therapist`, inviting only the partner named (who
/// asked to be seen separately first): the therapist invites the other
/// later, if and when it is right, with [`invite_partner`].
#[tracing::instrument(skip_all, fields(therapist_id = %therapist.id))]
pub async fn create_couple_inviting_one(
    state: &AppState,
    therapist: &User,
    partner: &Invitee<'_>,
) -> AppResult<(Couple, Vec<SentInvitation>)> {
    create_couple_with(state, therapist, std::slice::from_ref(partner), true).await
}

async fn create_couple_with(
    state: &AppState,
    therapist: &User,
    partners: &[Invitee<'_>],
    one_for_now: bool,
) -> AppResult<(Couple, Vec<SentInvitation>)> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    if partners.len() != if one_for_now { 1 } else { 2 } {
        return Err(Error::invalid(
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
    let now = state.now();
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
    couple_id: &CoupleId,
    invitee: Invitee<'_>,
) -> AppResult<SentInvitation> {
    let couple = state.store().couple(couple_id).await?;
    let allowed = match inviter.role {
        Role::Partner => inviter.couple_id.as_ref() == Some(&couple.id),
        Role::Therapist => couple.therapist_id.as_deref() == Some(inviter.id.as_str()),
        Role::Admin => false,
    };
    if !allowed {
        return Err(Error::NotFound);
    }
    if inviter.role == Role::Partner && couple.therapist_id.is_some() {
        return Err(Error::Conflict(
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
    let (email, name) = problems.into_pair(email, name)?;
    let token = SecretToken::generate();
    let now = state.now();
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

/// An unknown code and an expired one get the same words: a code tells no
/// one whether it ever worked.
const UNKNOWN_CODE: &str = "We don't recognise that practice code, or it is no longer current. \
     Please ask your therapist for their current code.";

/// The therapist whose practice code this is, while it still works.
async fn therapist_for_code(state: &AppState, code: &str) -> AppResult<User> {
    let code = normalize_link_code(code);
    if code.is_empty() {
        return Err(Error::invalid(
            "code",
            "Please enter the practice code your therapist gave you.",
        ));
    }
    let unknown = || Error::invalid("code", UNKNOWN_CODE);
    let therapist = state
        .store()
        .therapist_by_link_code(&code)
        .await?
        .filter(|therapist| therapist.active)
        .ok_or_else(unknown)?;
    let now = state.now();
    match state
        .store()
        .link_code_expires_at(&therapist.id, link_code_expiry(now))
        .await?
    {
        Some(expires_at) if link_code_works(expires_at, now) => Ok(therapist),
        _ => Err(unknown()),
    }
}

/// A therapist's practice code and when it stops working, if they have one.
pub async fn practice_code(
    state: &AppState,
    therapist: &User,
) -> AppResult<Option<(String, Millis)>> {
    let Some(code) = therapist.link_code.clone() else {
        return Ok(None);
    };
    let expires_at = state
        .store()
        .link_code_expires_at(&therapist.id, link_code_expiry(state.now()))
        .await?;
    Ok(expires_at.map(|at| (code, at)))
}

/// A therapist replaces their practice code: the old one stops working.
#[tracing::instrument(skip_all, fields(user_id = %therapist.id))]
pub async fn new_practice_code(state: &AppState, therapist: &User) -> AppResult<()> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    let now = state.now();
    state
        .store()
        .replace_link_code(&therapist.id, &new_link_code(), link_code_expiry(now))
        .await?;
    audit::record(
        state,
        audit::Event::new("practice_code_replaced")
            .actor(therapist)
            .subject(&therapist.id),
    )
    .await
}

/// A link request as one of the people it concerns sees it.
pub struct LinkRequestView {
    pub request: LinkRequest,
    pub therapist_name: String,
    pub requested_by_name: String,
    /// "Alex & Sam".
    pub couple_title: String,
    /// The steps the viewer may take now.
    pub actions: Vec<LinkAction>,
}

/// How `user` stands to a request; `None` when it is none of their business
/// (a therapist is not asked before both partners agree).
fn party_of(user: &User, request: &LinkRequest) -> Option<LinkParty> {
    match user.role {
        Role::Partner if user.couple_id.as_ref() == Some(&request.couple_id) => {
            Some(if user.id == request.requested_by {
                LinkParty::Requester
            } else {
                LinkParty::OtherPartner
            })
        }
        Role::Therapist if user.id == request.therapist_id && request.agreed_by.is_some() => {
            Some(LinkParty::Therapist)
        }
        _ => None,
    }
}

async fn view_link_request(
    state: &AppState,
    user: &User,
    request: LinkRequest,
) -> AppResult<LinkRequestView> {
    let store = state.store();
    let actions = match party_of(user, &request) {
        Some(party) => [
            LinkAction::Agree,
            LinkAction::Decline,
            LinkAction::Withdraw,
            LinkAction::Accept,
        ]
        .into_iter()
        .filter(|action| next_link_status(request.status, party, *action).is_some())
        .collect(),
        None => Vec::new(),
    };
    Ok(LinkRequestView {
        therapist_name: store.user(&request.therapist_id).await?.name,
        requested_by_name: store.user(&request.requested_by).await?.name,
        couple_title: title(state, &request.couple_id).await?,
        actions,
        request,
    })
}

/// The requests that concern `user`, newest first: their couple's, or those
/// a therapist was asked to answer. Admins have none.
pub async fn link_requests_for(state: &AppState, user: &User) -> AppResult<Vec<LinkRequestView>> {
    let requests = match (user.role, user.couple_id.as_ref()) {
        (Role::Partner, Some(couple_id)) => state.store().couple_link_requests(couple_id).await?,
        (Role::Therapist, _) => state.store().therapist_link_requests(&user.id).await?,
        _ => Vec::new(),
    };
    let mut views = Vec::with_capacity(requests.len());
    for request in requests {
        views.push(view_link_request(state, user, request).await?);
    }
    Ok(views)
}

/// Tells everyone else the request concerns that it moved on (a notice that
/// names no one; the details are in Trellis).
async fn tell_the_others(state: &AppState, actor: &User, request: &LinkRequest) -> AppResult<()> {
    let mut others: Vec<User> = state
        .store()
        .couple_members(&request.couple_id)
        .await?
        .into_iter()
        .filter(|member| member.id != actor.id)
        .collect();
    if request.agreed_by.is_some() && actor.id != request.therapist_id {
        others.push(state.store().user(&request.therapist_id).await?);
    }
    for other in &others {
        notices::notify(state, other, Notice::LinkRequest).await?;
    }
    Ok(())
}

/// A partner of a self-guided couple asks the therapist whose practice code
/// they were given to guide them. Nothing links yet: the other partner
/// agrees (when there is one), then the therapist accepts.
#[tracing::instrument(skip_all, fields(user_id = %partner.id))]
pub async fn request_link(
    state: &AppState,
    partner: &User,
    code: &str,
) -> AppResult<LinkRequestView> {
    let couple_id = partner.couple_id.as_ref().ok_or(Error::Forbidden)?;
    let therapist = therapist_for_code(state, code).await?;
    let alone = state
        .store()
        .couple_members(couple_id)
        .await?
        .iter()
        .all(|member| member.id == partner.id);
    let (status, agreed_by) = if alone {
        (LinkStatus::WaitingForTherapist, Some(partner.id.as_str()))
    } else {
        (LinkStatus::WaitingForPartner, None)
    };
    let request = state
        .store()
        .create_link_request(NewLinkRequest {
            couple_id,
            therapist_id: &therapist.id,
            requested_by: &partner.id,
            status,
            agreed_by,
            now: state.now(),
        })
        .await?;
    let mut event = audit::Event::new("link_requested")
        .actor(partner)
        .couple(couple_id)
        .item("link_request", &request.id);
    if alone {
        event = event.subject(&therapist.id);
    }
    audit::record(state, event).await?;
    tell_the_others(state, partner, &request).await?;
    tracing::info!(%couple_id, request_id = %request.id, "link to a therapist requested");
    view_link_request(state, partner, request).await
}

/// Why a step is not the caller's to take now.
fn not_your_step(status: LinkStatus, party: LinkParty) -> Error {
    let message = match (status, party) {
        (status, _) if !status.is_open() => "This request has already been answered.",
        (LinkStatus::WaitingForPartner, LinkParty::Requester) => {
            "This request is waiting for your partner's answer. You can withdraw it while it waits."
        }
        (LinkStatus::WaitingForPartner, _) => "You can agree to this request or decline it.",
        (_, LinkParty::Therapist) => "You can accept this request or decline it.",
        _ => {
            "This request is waiting for the therapist's answer. You can withdraw it while it waits."
        }
    };
    Error::Conflict(message.to_owned())
}

/// Someone the request concerns takes a step: the other partner agrees or
/// declines, either partner withdraws, the therapist accepts (the couple is
/// linked and their practice code replaced) or declines.
#[tracing::instrument(skip_all, fields(user_id = %user.id, request_id = %id))]
pub async fn answer_link_request(
    state: &AppState,
    user: &User,
    id: &str,
    action: &str,
) -> AppResult<LinkRequestView> {
    if user.role == Role::Admin {
        return Err(Error::Forbidden);
    }
    let request = state.store().link_request(id).await?;
    let party = party_of(user, &request).ok_or(Error::NotFound)?;
    let action = LinkAction::parse(action).ok_or(Error::NotFound)?;
    let to = next_link_status(request.status, party, action)
        .ok_or_else(|| not_your_step(request.status, party))?;
    let now = state.now();
    let request = if to == LinkStatus::Accepted {
        state
            .store()
            .accept_link_request(id, user, &new_link_code(), link_code_expiry(now), now)
            .await?
    } else {
        let agreed_by = (action == LinkAction::Agree).then_some(user.id.as_str());
        state
            .store()
            .move_link_request(id, request.status, to, agreed_by, now)
            .await?
    };
    let event_name = match action {
        LinkAction::Agree => "link_agreed",
        LinkAction::Decline => "link_declined",
        LinkAction::Withdraw => "link_withdrawn",
        LinkAction::Accept => "link_accepted",
    };
    let mut event = audit::Event::new(event_name)
        .actor(user)
        .couple(&request.couple_id)
        .item("link_request", &request.id);
    if request.agreed_by.is_some() && user.id != request.therapist_id {
        event = event.subject(&request.therapist_id);
    }
    audit::record(state, event).await?;
    tell_the_others(state, user, &request).await?;
    tracing::info!(couple_id = %request.couple_id, status = to.as_str(), "link request answered");
    view_link_request(state, user, request).await
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
    let Some(couple_id) = partner.couple_id.as_ref() else {
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
        store
            .open_couple_invitations(couple_id, state.now())
            .await?
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
pub async fn title(state: &AppState, couple_id: &CoupleId) -> AppResult<String> {
    let members = state.store().couple_members(couple_id).await?;
    Ok(title_of(members.iter().map(|m| m.name.as_str())))
}

/// The title of a couple from its partners' names.
pub fn title_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(" & ")
}

/// Whether a partner's couple is guided: it has a therapist on Trellis (who
/// can be told, and who holds its sessions).
pub async fn is_guided(state: &AppState, partner: &User) -> AppResult<bool> {
    Ok(match partner.couple_id.as_ref() {
        Some(couple_id) => state
            .store()
            .couple(couple_id)
            .await?
            .therapist_id
            .is_some(),
        None => false,
    })
}
