//! Client writing with an audience. Every read goes through the store's
//! viewer-scoped queries and, once more, through `privacy::may_view`; text is
//! sealed before it is stored and opened only for a reader allowed to see it.

use trellis_core::CoupleId;
use trellis_core::EntryKind;
use trellis_core::Role;
use trellis_core::privacy::{Audience, Item, Ownership, may_view, relation};
use trellis_store::{EntryFilter, NewEntry, Reader, SealedEntry, User, WritingFlag};

use super::audit;
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// Journal entries: free writing.
pub const JOURNAL: EntryKind = EntryKind::Journal;
/// The longest piece of writing we accept, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// How many entries a list shows at most.
pub const LIST_LIMIT: i64 = 500;

/// A piece of writing, opened for someone allowed to read it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub couple_id: CoupleId,
    pub author_id: String,
    pub author_name: String,
    pub kind: String,
    pub ref_id: Option<String>,
    pub audience: Audience,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Before this, only the author can read it: the undo window after
    /// sharing, or the morning it is held until.
    pub visible_from: i64,
    /// The reader wrote it.
    pub mine: bool,
    /// Just written, and it holds crisis language: show help to the writer
    /// (the therapist has been flagged; the partner is told nothing).
    pub crisis: bool,
    /// Just written, and it may hold crisis language (a possible sign,
    /// never with `crisis`): show help to the writer and offer to tell
    /// their therapist; nobody has been told.
    pub possible_crisis: bool,
}

pub fn reader<'a>(state: &AppState, user: &'a User) -> Reader<'a> {
    Reader {
        user_id: &user.id,
        role: user.role,
        couple_id: user.couple_id.as_ref(),
        now: state.now(),
    }
}

impl Entry {
    /// Shared, but others cannot read it yet: it can still be taken back.
    pub fn pending(&self, at: i64) -> bool {
        self.audience != Audience::Me && self.visible_from > at
    }
}

/// The context an entry's body is sealed with: bound to its couple, author,
/// audience and addressee (see [`crate::vault::entry_context`]).
fn context(entry: &SealedEntry, audience: Audience) -> String {
    crate::vault::entry_context(
        &entry.id,
        &entry.couple_id,
        &entry.author_id,
        audience.as_str(),
        entry.addressed_to.as_deref(),
    )
}

/// What a reader is told when an entry no longer opens (changed in the
/// database, or damaged): it is logged, and lists leave it out.
const UNREADABLE: &str =
    "This entry can no longer be opened. Please tell your practice's administrator.";

pub fn parse_body(field: &'static str, body: &str) -> AppResult<String> {
    let body = body.trim();
    if body.is_empty() {
        return Err(Error::invalid(field, "Please write something first."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Error::invalid(
            field,
            format!(
                "Please keep this to {MAX_BODY_CHARS} characters or fewer; you could split it into two entries."
            ),
        ));
    }
    Ok(body.to_owned())
}

pub fn parse_audience(field: &'static str, value: Option<&str>) -> AppResult<Audience> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Audience::default()),
        Some(value) => Audience::parse(value).ok_or_else(|| {
            Error::invalid(
                field,
                "Please choose who can see this: me, therapist, partner or partner_and_therapist.",
            )
        }),
    }
}

/// Answers to paired exercises: shown to the partner only once they answered too.
pub const PAIRED: EntryKind = EntryKind::Paired;

/// What the rule needs to know about an entry beyond its audience.
async fn item_for(state: &AppState, viewer: &User, entry: &SealedEntry) -> AppResult<Item> {
    if entry.kind == PAIRED {
        let answered = match entry.ref_id.as_deref() {
            Some(exercise) if entry.author_id != viewer.id => {
                state
                    .store()
                    .has_shared(&viewer.id, &entry.couple_id, PAIRED, exercise)
                    .await?
            }
            _ => true,
        };
        return Ok(Item::PairedAnswer {
            audience: entry.audience,
            reader_has_answered: answered,
        });
    }
    Ok(Item::Writing {
        audience: entry.audience,
    })
}

/// May `reader` still see what a comment is on? A comment never shows more
/// than its target: when the author takes the work back ("only me"), or a
/// paired answer still waits for the reader's own, its comments are hidden.
async fn comment_target_visible(
    state: &AppState,
    reader_user: &User,
    comment: &SealedEntry,
) -> AppResult<bool> {
    let Some(target) = comment.ref_id.as_deref() else {
        return Ok(false);
    };
    if let Some(entry) = state
        .store()
        .entry_for(reader(state, reader_user), target)
        .await?
    {
        if entry.author_id == reader_user.id {
            return Ok(true);
        }
        if entry.audience != Audience::PartnerAndTherapist {
            return Ok(false);
        }
        if entry.kind == PAIRED && reader_user.role == Role::Partner {
            let exercise = entry.ref_id.as_deref().unwrap_or_default();
            return Ok(state
                .store()
                .has_shared(&reader_user.id, &entry.couple_id, PAIRED, exercise)
                .await?);
        }
        return Ok(true);
    }
    // Not an entry the reader can see: an agreement of their couple, or nothing.
    match state.store().agreement(target).await {
        Ok(agreement) => Ok(agreement.couple_id == comment.couple_id),
        Err(_) => Ok(false),
    }
}

/// The rule, asked for every row the store returned (lists, single reads,
/// exports alike). The store's query already applied the audience; this adds
/// what SQL cannot see (a paired answer waiting for the reader's own, a
/// comment whose work was taken back), and catches any query mistake.
async fn visible(state: &AppState, viewer: &User, entry: &SealedEntry) -> AppResult<bool> {
    if entry.author_id != viewer.id && entry.visible_from > state.now() {
        tracing::error!(entry_id = %entry.id, viewer = %viewer.id, "the store returned writing before its time");
        return Ok(false);
    }
    let item = item_for(state, viewer, entry).await?;
    if !policy_allows(viewer, entry, item) {
        return Ok(false);
    }
    if entry.kind == super::messages::COMMENT {
        return comment_target_visible(state, viewer, entry).await;
    }
    Ok(true)
}

fn policy_allows(viewer: &User, entry: &SealedEntry, item: Item) -> bool {
    let relation = relation(
        viewer.as_viewer(),
        Ownership {
            author_id: &entry.author_id,
            couple_id: &entry.couple_id,
            couple_therapist_id: entry.couple_therapist_id.as_ref(),
            addressed_to: entry.addressed_to.as_ref(),
        },
    );
    let allowed = may_view(relation, item);
    if !allowed && matches!(item, Item::Writing { .. }) {
        tracing::error!(entry_id = %entry.id, viewer = %viewer.id, "the store returned an entry the policy refuses");
    }
    allowed
}

async fn open(state: &AppState, viewer: &User, sealed: SealedEntry) -> AppResult<Entry> {
    let body = state
        .vault()
        .open(
            state.store(),
            &sealed.couple_id,
            &sealed.body,
            &context(&sealed, sealed.audience),
        )
        .await
        .map_err(|error| {
            if crate::vault::is_unreadable(&error) {
                tracing::error!(entry_id = %sealed.id, "an entry did not open with its couple, author and audience: changed in the database?");
                Error::Gone(UNREADABLE)
            } else {
                Error::from(error)
            }
        })?;
    Ok(Entry {
        crisis: false,
        possible_crisis: false,
        mine: sealed.author_id == viewer.id,
        id: sealed.id,
        couple_id: sealed.couple_id,
        author_id: sealed.author_id.into_string(),
        author_name: sealed.author_name,
        kind: sealed.kind,
        ref_id: sealed.ref_id,
        audience: sealed.audience,
        body,
        created_at: sealed.created_at,
        updated_at: sealed.updated_at,
        visible_from: sealed.visible_from,
    })
}

/// A therapist reading a partner's writing: what the partner is told about.
fn read_by_staff(viewer: &User, entry: &Entry) -> bool {
    viewer.role == Role::Therapist && !entry.mine
}

fn reading_event<'a>(viewer: &'a User, entry: &'a Entry) -> audit::Event<'a> {
    audit::Event::new("viewed_writing")
        .actor(viewer)
        .subject(&entry.author_id)
        .couple(&entry.couple_id)
        .item(&entry.kind, &entry.id)
}

/// Records each time a therapist opens a partner's writing.
async fn record_staff_reading(state: &AppState, viewer: &User, entry: &Entry) -> AppResult<()> {
    if read_by_staff(viewer, entry) {
        audit::record(state, reading_event(viewer, entry)).await?;
    }
    Ok(())
}

pub struct NewWriting<'a> {
    pub kind: EntryKind,
    pub ref_id: Option<&'a str>,
    pub body: &'a str,
    pub audience: Audience,
}

/// A partner writes something; it is theirs, with the audience they chose.
#[tracing::instrument(skip_all, fields(author = %author.id, kind = writing.kind.as_str()))]
pub async fn write(state: &AppState, author: &User, writing: NewWriting<'_>) -> AppResult<Entry> {
    if author.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = author.couple_id.as_ref().ok_or(Error::Forbidden)?;
    write_in_couple(state, author, couple_id, writing, None).await
}

/// Writing in a couple by one of its partners or by its therapist (a
/// message, a comment), optionally addressed to one person. Callers check
/// that the author belongs there.
pub async fn write_in_couple(
    state: &AppState,
    author: &User,
    couple_id: &CoupleId,
    writing: NewWriting<'_>,
    addressed_to: Option<&str>,
) -> AppResult<Entry> {
    let body = parse_body("body", writing.body)?;
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal(
            state.store(),
            couple_id,
            &body,
            &crate::vault::entry_context(
                &id,
                couple_id,
                &author.id,
                writing.audience.as_str(),
                addressed_to,
            ),
        )
        .await?;
    // Crisis language raises a flag stored in the same transaction as the
    // writing (never one without the other); the audit entry and the
    // therapist's notice follow once both are stored.
    let signs = if author.role == Role::Partner {
        super::safety::writing_signs(&body)
    } else {
        super::safety::WritingSigns::default()
    };
    let concern = signs.concern;
    let note = match concern {
        Some(_) => Some(super::safety::writing_flag_note(state, author, couple_id).await?),
        None => None,
    };
    let now = state.now();
    let visible_from = if writing.kind == JOURNAL && writing.audience != Audience::Me {
        now.saturating_add(state.config().share_undo)
    } else {
        now
    };
    state
        .store()
        .insert_entry_with_flag(
            NewEntry {
                id: &id,
                couple_id,
                author_id: &author.id,
                kind: writing.kind,
                ref_id: writing.ref_id,
                audience: writing.audience,
                addressed_to,
                body: &sealed,
                now,
                visible_from,
            },
            concern
                .zip(note.as_deref())
                .map(|(concern, note)| WritingFlag {
                    user_id: &author.id,
                    sealed_note: note,
                    level: super::safety::flag_level(concern),
                }),
        )
        .await?;
    if let Some(concern) = concern {
        super::safety::respond(
            state,
            author,
            couple_id,
            concern,
            super::safety::Source::Writing,
        )
        .await?;
    }
    let crisis = concern.is_some();
    let possible_crisis = signs.possible;
    Ok(Entry {
        id,
        couple_id: couple_id.clone(),
        author_id: author.id.to_string(),
        author_name: author.name.clone(),
        kind: writing.kind.as_str().to_owned(),
        ref_id: writing.ref_id.map(str::to_owned),
        audience: writing.audience,
        body,
        created_at: now,
        updated_at: now,
        visible_from,
        mine: true,
        crisis,
        possible_crisis,
    })
}

/// One entry, or `NotFound` when it does not exist or is not the viewer's to see.
pub async fn read(state: &AppState, viewer: &User, id: &str) -> AppResult<Entry> {
    let sealed = state
        .store()
        .entry_for(reader(state, viewer), id)
        .await?
        .ok_or(Error::NotFound)?;
    if !visible(state, viewer, &sealed).await? {
        return Err(Error::NotFound);
    }
    let entry = open(state, viewer, sealed).await?;
    record_staff_reading(state, viewer, &entry).await?;
    Ok(entry)
}

/// Everything in `filter` the viewer may see, newest first (at most
/// [`LIST_LIMIT`]: pages and lists). Each partner's entry a therapist reads
/// is recorded, all in one write.
pub async fn list(
    state: &AppState,
    viewer: &User,
    filter: EntryFilter<'_>,
) -> AppResult<Vec<Entry>> {
    Ok(list_page(state, viewer, filter, LIST_LIMIT).await?.entries)
}

/// A page of a list, newest first, and the cursor of the next page (`None`
/// on the last page).
pub struct Page {
    pub entries: Vec<Entry>,
    pub next_cursor: Option<String>,
}

/// The cursor after `entry`: opaque to clients, `created_at.id`.
fn cursor_of(created_at: trellis_core::Millis, id: &str) -> String {
    format!("{created_at}.{id}")
}

/// A cursor given back by a client, or 422.
pub fn parse_cursor(cursor: &str) -> AppResult<(trellis_core::Millis, &str)> {
    let bad = || Error::invalid("before", "This is not a page cursor from this list.");
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    let at: trellis_core::Millis = at.parse().map_err(|_| bad())?;
    let plain = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !plain {
        return Err(bad());
    }
    Ok((at, id))
}

/// One page of what the viewer may see (at most `limit` entries, older
/// than the filter's `before`), with staff readings audited in one batch.
/// The cursor follows the last row the database gave, so an entry the
/// viewer may not see never hides the ones after it.
pub async fn list_page(
    state: &AppState,
    viewer: &User,
    filter: EntryFilter<'_>,
    limit: i64,
) -> AppResult<Page> {
    let sealed = state
        .store()
        .entries_for(reader(state, viewer), filter, limit)
        .await?;
    let next_cursor = if i64::try_from(sealed.len()).unwrap_or(i64::MAX) >= limit {
        sealed.last().map(|row| cursor_of(row.created_at, &row.id))
    } else {
        None
    };
    let entries = open_visible(state, viewer, sealed).await?;
    let readings = entries
        .iter()
        .filter(|entry| read_by_staff(viewer, entry))
        .map(|entry| reading_event(viewer, entry))
        .collect();
    audit::record_all(state, readings).await?;
    Ok(Page {
        entries,
        next_cursor,
    })
}

/// The most entries in a therapist's or admin's export: it holds every
/// client's shared writing, so its work is bounded. A partner's export holds
/// all of theirs.
pub const STAFF_EXPORT_LIMIT: i64 = 10_000;

/// Everything the viewer may see, for their export. What a therapist
/// exports of each partner's writing is recorded as one event per partner
/// (with the count), not one per entry.
pub async fn list_all(
    state: &AppState,
    viewer: &User,
    filter: EntryFilter<'_>,
) -> AppResult<Vec<Entry>> {
    let limit = if viewer.role.is_staff() {
        STAFF_EXPORT_LIMIT
    } else {
        i64::from(i32::MAX)
    };
    let entries = list_up_to(state, viewer, filter, limit).await?;
    let mut per_author: std::collections::BTreeMap<(&str, &str), usize> =
        std::collections::BTreeMap::new();
    for entry in entries.iter().filter(|entry| read_by_staff(viewer, entry)) {
        *per_author
            .entry((entry.author_id.as_str(), entry.couple_id.as_str()))
            .or_default() += 1;
    }
    let counts: Vec<((&str, &str), String)> = per_author
        .into_iter()
        .map(|(key, count)| (key, count.to_string()))
        .collect();
    let events = counts
        .iter()
        .map(|((author, couple), count)| {
            audit::Event::new(EXPORTED_WRITING)
                .actor(viewer)
                .subject(author)
                .couple(couple)
                .detail(count)
        })
        .collect();
    audit::record_all(state, events).await?;
    Ok(entries)
}

/// The audit action for a therapist's export holding a partner's writing;
/// its detail is how many entries.
pub const EXPORTED_WRITING: &str = "exported_writing";

async fn list_up_to(
    state: &AppState,
    viewer: &User,
    filter: EntryFilter<'_>,
    limit: i64,
) -> AppResult<Vec<Entry>> {
    let sealed = state
        .store()
        .entries_for(reader(state, viewer), filter, limit)
        .await?;
    open_visible(state, viewer, sealed).await
}

/// The rows the viewer may see, opened.
async fn open_visible(
    state: &AppState,
    viewer: &User,
    sealed: Vec<SealedEntry>,
) -> AppResult<Vec<Entry>> {
    let mut entries = Vec::with_capacity(sealed.len());
    for row in sealed {
        if visible(state, viewer, &row).await? {
            match open(state, viewer, row).await {
                Ok(entry) => entries.push(entry),
                // Logged in `open`; the rest of the list still shows.
                Err(Error::Gone(_)) => continue,
                Err(error) => return Err(error),
            }
        }
    }
    Ok(entries)
}

/// The author changes who may see their writing; the change is recorded.
/// Someone who can see the entry but did not write it gets `Forbidden`;
/// someone who cannot see it, `NotFound`. The audience is parsed only after
/// those checks, so a caller learns nothing about an entry they cannot see
/// from how their input is judged.
#[tracing::instrument(skip_all, fields(viewer = %viewer.id, entry = id))]
pub async fn change_audience(
    state: &AppState,
    viewer: &User,
    id: &str,
    audience: Option<&str>,
) -> AppResult<Entry> {
    let entry = own_entry(state, viewer, id).await?;
    if entry.kind == super::messages::MESSAGE || entry.kind == super::messages::COMMENT {
        return Err(Error::Conflict(
            "A message keeps the audience of its thread.".to_owned(),
        ));
    }
    let audience = match audience {
        Some(value) => parse_audience("audience", Some(value))?,
        None => {
            return Err(Error::invalid(
                "audience",
                "Please choose who can see this.",
            ));
        }
    };
    // Sharing private writing opens the same undo window as sharing it at once.
    let visible_from =
        (entry.kind == JOURNAL && entry.audience == Audience::Me && audience != Audience::Me)
            .then(|| state.now().saturating_add(state.config().share_undo));
    reaudience(state, viewer, entry, audience, visible_from).await
}

/// Gives the author's entry a new audience (sealed again for it, recorded,
/// audited) and, when given, the moment others may read it from, in one
/// store transaction.
async fn reaudience(
    state: &AppState,
    viewer: &User,
    entry: SealedEntry,
    audience: Audience,
    visible_from: Option<i64>,
) -> AppResult<Entry> {
    // Opened first: the body is sealed again, bound to the new audience.
    let mut updated = open(state, viewer, entry.clone()).await?;
    let resealed = state
        .vault()
        .seal(
            state.store(),
            &entry.couple_id,
            &updated.body,
            &context(&entry, audience),
        )
        .await?;
    let from = state
        .store()
        .change_audience(
            &entry.id,
            &viewer.id,
            audience,
            &resealed,
            state.now(),
            visible_from,
        )
        .await?;
    if from != audience {
        audit::record(
            state,
            audit::Event::new("audience_changed")
                .actor(viewer)
                .subject(&viewer.id)
                .couple(&entry.couple_id)
                .item(&entry.kind, &entry.id)
                .detail(&format!("{} → {}", from.as_str(), audience.as_str())),
        )
        .await?;
    }
    updated.audience = audience;
    if let Some(at) = visible_from {
        updated.visible_from = at;
    }
    Ok(updated)
}

/// The viewer's own entry: `NotFound` when they cannot see it, `Forbidden`
/// when they can but did not write it (as for every author-only change).
async fn own_entry(state: &AppState, viewer: &User, id: &str) -> AppResult<SealedEntry> {
    let entry = state
        .store()
        .entry_for(reader(state, viewer), id)
        .await?
        .ok_or(Error::NotFound)?;
    if !visible(state, viewer, &entry).await? {
        return Err(Error::NotFound);
    }
    if entry.author_id != viewer.id {
        return Err(Error::Forbidden);
    }
    Ok(entry)
}

/// What the author does with shared writing nobody else can read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingChoice {
    /// Keep it to themselves after all (it stays, private).
    Undo,
    /// Let it wait until seven in the morning, their time.
    HoldUntilMorning,
    /// Let it be read now.
    ShareNow,
}

/// The people besides the author who can read writing with this audience in
/// the author's couple, by name: what the author is told after sharing.
pub async fn readers(
    state: &AppState,
    author: &User,
    audience: Audience,
) -> AppResult<Vec<String>> {
    use trellis_core::privacy::{Relation, visible_audiences};
    let Some(couple_id) = author.couple_id.as_ref() else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    if visible_audiences(Relation::Partner).contains(&audience) {
        for member in state.store().couple_members(couple_id).await? {
            if member.id != author.id {
                names.push(member.name);
            }
        }
    }
    if visible_audiences(Relation::CoupleTherapist).contains(&audience)
        && let Some(therapist_id) = state.store().couple(couple_id).await?.therapist_id
    {
        names.push(state.store().user(&therapist_id).await?.name);
    }
    Ok(names)
}

/// The hour held writing is let through, in the author's time zone.
const MORNING_HOUR: i8 = 7;

/// Undo, hold until morning, or share now: only while the entry is still
/// waiting. Once others may read it, the author can still change who can
/// see it from then on, but cannot take back that it was read.
#[tracing::instrument(skip_all, fields(viewer = %viewer.id, entry = id))]
pub async fn settle_pending(
    state: &AppState,
    viewer: &User,
    id: &str,
    choice: PendingChoice,
) -> AppResult<Entry> {
    let sealed = own_entry(state, viewer, id).await?;
    let at = state.now();
    if sealed.audience == Audience::Me || sealed.visible_from <= at {
        return Err(Error::Conflict(
            "This is no longer waiting: it has been shared, or it was only yours. You can still change who can see it."
                .to_owned(),
        ));
    }
    let visible_from = match choice {
        PendingChoice::Undo | PendingChoice::ShareNow => at,
        PendingChoice::HoldUntilMorning => {
            let zone = super::notices::zone_for(state, viewer).await?;
            crate::when::next_at_hour(at, MORNING_HOUR, &zone)
        }
    };
    let entry = match choice {
        // back to private and out of the window, together
        PendingChoice::Undo => {
            reaudience(state, viewer, sealed.clone(), Audience::Me, Some(at)).await?
        }
        PendingChoice::HoldUntilMorning | PendingChoice::ShareNow => {
            state
                .store()
                .set_visible_from(id, &viewer.id, visible_from)
                .await?;
            Entry {
                visible_from,
                ..open(state, viewer, sealed.clone()).await?
            }
        }
    };
    if choice == PendingChoice::HoldUntilMorning {
        audit::record(
            state,
            audit::Event::new("sharing_held")
                .actor(viewer)
                .subject(&viewer.id)
                .couple(&sealed.couple_id)
                .item(&sealed.kind, id),
        )
        .await?;
    }
    Ok(entry)
}

/// Before a partner leaves their couple: everything they shared, sealed
/// again for "only me" (the audience it goes back to), as `(entry id, body)`.
/// An entry that does not open is left out (logged) and stays unreadable.
pub async fn resealed_for_withdrawal(
    state: &AppState,
    author: &User,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    let filter = EntryFilter {
        author_id: Some(&author.id),
        ..EntryFilter::default()
    };
    let mut resealed = Vec::new();
    for entry in state
        .store()
        .entries_for(reader(state, author), filter, i64::from(i32::MAX))
        .await?
    {
        if entry.author_id != author.id || entry.audience == Audience::Me {
            continue;
        }
        let Ok(body) = state
            .vault()
            .open(
                state.store(),
                &entry.couple_id,
                &entry.body,
                &context(&entry, entry.audience),
            )
            .await
        else {
            tracing::error!(entry_id = %entry.id, "a shared entry did not open while withdrawing it");
            continue;
        };
        let sealed = state
            .vault()
            .seal(
                state.store(),
                &entry.couple_id,
                &body,
                &context(&entry, Audience::Me),
            )
            .await?;
        resealed.push((entry.id, sealed));
    }
    Ok(resealed)
}
