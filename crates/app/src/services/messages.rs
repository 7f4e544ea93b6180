//! Messages: a thread for the couple and their therapist, and a private
//! thread between each partner and the therapist that the other partner
//! never sees. Messages are client writing (sealed, in the author's export,
//! read through the visibility rule); a message's thread fixes its audience.
//! Therapists also comment on shared work, visible to the couple.

use trellis_core::CoupleId;
use trellis_core::EntryKind;
use trellis_core::Role;
use trellis_core::privacy::Audience;
use trellis_store::{EntryFilter, User};

use super::notices::{self, Notice};
use super::program::couple_for;
use super::writing::{self, Entry, NewWriting};
use crate::error::{AppResult, Error};
use crate::state::AppState;

pub const MESSAGE: EntryKind = EntryKind::Message;
pub const COMMENT: EntryKind = EntryKind::Comment;

/// Which thread, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadKind {
    Couple,
    Private,
}

impl ThreadKind {
    pub fn parse(value: &str) -> AppResult<Self> {
        match value.trim() {
            "couple" => Ok(ThreadKind::Couple),
            "private" => Ok(ThreadKind::Private),
            _ => Err(Error::invalid(
                "thread",
                "Please choose a thread: couple or private.",
            )),
        }
    }
}

/// One thread, resolved for the person asking: its couple, its key, who else
/// is in it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub kind: ThreadKind,
    pub couple_id: CoupleId,
    /// The partner of a private thread.
    pub partner_id: Option<String>,
    pub key: String,
}

impl Thread {
    fn audience(&self) -> Audience {
        match self.kind {
            ThreadKind::Couple => Audience::PartnerAndTherapist,
            ThreadKind::Private => Audience::Therapist,
        }
    }
}

/// Threads are for partners and therapists; admins run the practice and
/// read no client writing.
pub fn may_use_threads(user: &User) -> AppResult<()> {
    if user.role == Role::Admin {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Resolves a thread for `viewer`. Partners name only the kind (their couple
/// and their own private thread are implied); therapists name the couple,
/// and for a private thread the partner.
pub async fn thread(
    state: &AppState,
    viewer: &User,
    kind: ThreadKind,
    couple_id: Option<&CoupleId>,
    partner_id: Option<&str>,
) -> AppResult<Thread> {
    let (couple, partner_id) = match viewer.role {
        Role::Partner => {
            let couple_id = viewer.couple_id.as_ref().ok_or(Error::NotFound)?;
            (
                couple_for(state, viewer, couple_id).await?,
                viewer.id.to_string(),
            )
        }
        Role::Therapist => {
            let couple_id = couple_id.filter(|c| !c.is_empty()).ok_or_else(|| {
                Error::invalid("couple_id", "Please say which couple this is for.")
            })?;
            let couple = couple_for(state, viewer, couple_id).await?;
            let partner = match kind {
                ThreadKind::Couple => String::new(),
                ThreadKind::Private => {
                    let partner_id = partner_id.filter(|p| !p.is_empty()).ok_or_else(|| {
                        Error::invalid("partner_id", "Please say which partner this is for.")
                    })?;
                    let members = state.store().couple_members(&couple.id).await?;
                    if !members.iter().any(|m| m.id == partner_id) {
                        return Err(Error::invalid(
                            "partner_id",
                            "That person is not a partner in this couple.",
                        ));
                    }
                    partner_id.to_owned()
                }
            };
            (couple, partner)
        }
        Role::Admin => return Err(Error::Forbidden),
    };
    if kind == ThreadKind::Private && couple.therapist_id.is_none() {
        return Err(Error::Conflict(
            "Private messages are with your therapist, and your couple has not linked one yet."
                .to_owned(),
        ));
    }
    let key = match kind {
        ThreadKind::Couple => format!("couple:{}", couple.id),
        ThreadKind::Private => format!("private:{partner_id}"),
    };
    Ok(Thread {
        kind,
        couple_id: couple.id,
        partner_id: (kind == ThreadKind::Private).then_some(partner_id),
        key,
    })
}

/// Writes a message in a thread and tells the others in it (by mail, if
/// they want: that a message is waiting, never what it says).
#[tracing::instrument(skip_all, fields(author = %author.id, thread = %thread.key))]
pub async fn post(
    state: &AppState,
    author: &User,
    thread: &Thread,
    body: &str,
) -> AppResult<Entry> {
    let addressed_to = match (author.role, &thread.partner_id) {
        (Role::Therapist, Some(partner)) => Some(partner.as_str()),
        _ => None,
    };
    let entry = writing::write_in_couple(
        state,
        author,
        &thread.couple_id,
        NewWriting {
            kind: MESSAGE,
            ref_id: Some(&thread.key),
            body,
            audience: thread.audience(),
        },
        addressed_to,
    )
    .await?;
    state
        .store()
        .mark_thread_read(&author.id, &thread.key, state.now())
        .await?;
    let couple = state.store().couple(&thread.couple_id).await?;
    let mut recipients = Vec::new();
    if author.role == Role::Partner
        && let Some(therapist_id) = &couple.therapist_id
    {
        recipients.push(therapist_id.to_string());
    }
    match thread.kind {
        ThreadKind::Couple => {
            for member in state.store().couple_members(&couple.id).await? {
                if member.id != author.id {
                    recipients.push(member.id.into_string());
                }
            }
        }
        ThreadKind::Private => {
            if let Some(partner) = addressed_to {
                recipients.push(partner.to_owned());
            }
        }
    }
    for id in recipients {
        if let Ok(user) = state.store().user(&id).await {
            notices::notify(state, &user, Notice::NewMessage).await?;
        }
    }
    Ok(entry)
}

/// A thread's messages, oldest first; opening it marks it read.
pub async fn read_thread(
    state: &AppState,
    viewer: &User,
    thread: &Thread,
) -> AppResult<Vec<Entry>> {
    let mut entries = writing::list(
        state,
        viewer,
        EntryFilter::answers(&thread.couple_id, MESSAGE, &thread.key),
    )
    .await?;
    entries.reverse();
    state
        .store()
        .mark_thread_read(&viewer.id, &thread.key, state.now())
        .await?;
    Ok(entries)
}

/// How many messages wait unread for the person, in all their threads.
pub async fn unread_for_partner(state: &AppState, partner: &User) -> AppResult<usize> {
    let Some(couple_id) = partner.couple_id.as_ref() else {
        return Ok(0);
    };
    let keys = [
        format!("couple:{couple_id}"),
        format!("private:{}", partner.id),
    ];
    let unread = state
        .store()
        .unread_messages_for(
            writing::reader(state, partner),
            &[keys[0].as_str(), keys[1].as_str()],
        )
        .await?;
    Ok(usize::try_from(unread).unwrap_or(0))
}

/// The therapist comments on shared work: an exercise answer or journal
/// entry shared with both partners and the therapist, or an agreement. The
/// comment is visible to the couple and the therapist.
#[tracing::instrument(skip_all, fields(therapist = %therapist.id, target = target_id))]
pub async fn comment(
    state: &AppState,
    therapist: &User,
    target_id: &str,
    body: &str,
) -> AppResult<Entry> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    if target_id.trim().is_empty() {
        return Err(Error::invalid(
            "target_id",
            "Please say which piece of work the comment is on.",
        ));
    }
    let couple_id = match writing::read(state, therapist, target_id).await {
        Ok(entry) => {
            if entry.audience != Audience::PartnerAndTherapist || entry.kind == MESSAGE {
                return Err(Error::Conflict(
                    "Comments go on work the couple shared with both of you; this was shared with you alone."
                        .to_owned(),
                ));
            }
            if entry.kind == writing::PAIRED && !both_answered(state, &entry).await? {
                return Err(Error::Conflict(
                    "This answer waits for the other partner's own: comment once both have answered, so your words give nothing away."
                        .to_owned(),
                ));
            }
            entry.couple_id
        }
        Err(Error::NotFound) => {
            let agreement = state.store().agreement(target_id).await?;
            couple_for(state, therapist, &agreement.couple_id).await?.id
        }
        Err(other) => return Err(other),
    };
    writing::write_in_couple(
        state,
        therapist,
        &couple_id,
        NewWriting {
            kind: COMMENT,
            ref_id: Some(target_id),
            body,
            audience: Audience::PartnerAndTherapist,
        },
        None,
    )
    .await
}

/// Has the other partner answered this paired exercise too?
async fn both_answered(state: &AppState, answer: &Entry) -> AppResult<bool> {
    let Some(exercise) = answer.ref_id.as_deref() else {
        return Ok(false);
    };
    let couple = &answer.couple_id;
    for member in state.store().couple_members(couple).await? {
        if member.id != answer.author_id
            && !state
                .store()
                .has_shared(&member.id, couple, writing::PAIRED, exercise)
                .await?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Comments on one piece of work, oldest first.
pub async fn comments_on(
    state: &AppState,
    viewer: &User,
    couple_id: &str,
    target_id: &str,
) -> AppResult<Vec<Entry>> {
    let mut entries = writing::list(
        state,
        viewer,
        EntryFilter::answers(couple_id, COMMENT, target_id),
    )
    .await?;
    entries.reverse();
    Ok(entries)
}
