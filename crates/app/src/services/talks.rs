//! Structured talks between the two partners, live: opening one, making
//! moves under the rules of `trellis_core::talk`, reading it (the therapist
//! only when the couple allowed it), and following it as it happens.
//!
//! Turns are numbered; the number is the event id a listener resumes from.
//! A new turn is announced to this process's listeners at once and, on
//! PostgreSQL, to every other instance through LISTEN/NOTIFY; listeners then
//! read what is new from the database, which stays the one source of truth.

use std::collections::VecDeque;
use std::time::Duration;
use trellis_core::CoupleId;
use trellis_core::account::within_limit;

use serde::Serialize;
use trellis_core::Role;
use trellis_core::talk::{Move, Phase, TOPIC_MAX_CHARS, Talk, Waiting};
use trellis_store::{NewTurn, StoreError, TalkRow, TurnRow, User};

use crate::error::{AppResult, Error};
use crate::state::AppState;
use crate::streams::{StreamSession, StreamSlot};

/// How long a listener waits for news before looking anyway.
const POLL_EVERY: Duration = Duration::from_secs(10);
/// How long one stream lives before the client must reconnect, and so prove
/// again that it may listen (a session ended elsewhere stops it by then).
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// How long after words in crisis were flagged (on a first try) sending them
/// again, confirmed, raises nothing more.
const CONFIRM_WINDOW: trellis_core::Millis = 10 * trellis_core::time::MINUTE;

fn topic_context(talk_id: &str) -> String {
    format!("talk:{talk_id}:topic")
}

fn turn_context(talk_id: &str, seq: i64) -> String {
    format!("talk:{talk_id}:turn:{seq}")
}

/// One turn as people read it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnView {
    /// The turn's number in the talk: the event id to resume from.
    pub seq: i64,
    pub author_id: String,
    pub author_name: String,
    /// `speak`, `paraphrase`, `confirm`, `clarify`, `hand_over`, `solve`,
    /// `agenda`, `idea`, `propose`, `accept`, `follow_up` or `leave`.
    pub kind: String,
    /// How the move reads after the name ("said", "heard", …).
    pub verb: String,
    pub body: String,
    pub created_at: i64,
}

/// A talk as one person sees it, with the moves open to them now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TalkView {
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub couple_id: CoupleId,
    pub topic: String,
    /// The couple's choice when the talk started.
    pub therapist_can_read: bool,
    /// `listening`, `problem_solving` or `ended`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub phase: Phase,
    pub speaker_name: String,
    pub listener_name: String,
    /// `speaker`, `paraphrase` or `confirmation`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub waiting: Waiting,
    /// What the caller may do now (empty for the therapist, who reads).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub your_moves: Vec<Move>,
    /// In plain words: whose move it is.
    pub status: String,
    pub turns: Vec<TurnView>,
    pub created_at: i64,
}

async fn partner_names(state: &AppState, talk: &TalkRow) -> AppResult<[String; 2]> {
    let mut names = [String::new(), String::new()];
    for (slot, id) in names.iter_mut().zip([&talk.opened_by, &talk.other_partner]) {
        *slot = state.store().user(id).await?.name;
    }
    Ok(names)
}

/// The talk, if `viewer` may read it: its two partners always, the couple's
/// therapist when the couple allowed it; anyone else gets `NotFound`.
async fn readable(state: &AppState, viewer: &User, talk_id: &str) -> AppResult<TalkRow> {
    let talk = match state.store().talk(talk_id).await {
        Ok(talk) => talk,
        Err(StoreError::NotFound) => return Err(Error::NotFound),
        Err(other) => return Err(other.into()),
    };
    let relation = trellis_core::privacy::relation(
        viewer.as_viewer(),
        trellis_core::privacy::Ownership {
            author_id: &talk.opened_by,
            couple_id: &talk.couple_id,
            couple_therapist_id: talk.couple_therapist_id.as_ref(),
            addressed_to: None,
        },
    );
    let item = trellis_core::privacy::Item::Joint {
        therapist_may_read: talk.therapist_can_read,
    };
    if trellis_core::privacy::may_view(relation, item) {
        Ok(talk)
    } else {
        Err(Error::NotFound)
    }
}

async fn open_topic(state: &AppState, talk: &TalkRow) -> AppResult<String> {
    Ok(state
        .vault()
        .open(
            state.store(),
            &talk.couple_id,
            &talk.topic,
            &topic_context(&talk.id),
        )
        .await?)
}

fn replay(talk: &TalkRow, turns: &[TurnRow]) -> Talk {
    let mut rules = Talk::new(&talk.opened_by, &talk.other_partner);
    for turn in turns {
        if let Some(action) = Move::parse(&turn.kind) {
            // Stored turns passed the rules when they were made.
            let _ = rules.apply(&turn.author_id, action, usize::from(action.has_body()));
        }
    }
    rules
}

async fn open_turn(
    state: &AppState,
    talk_id: &str,
    couple_id: &str,
    row: TurnRow,
) -> AppResult<TurnView> {
    let body = if row.body.is_empty() {
        String::new()
    } else {
        state
            .vault()
            .open(
                state.store(),
                couple_id,
                &row.body,
                &turn_context(talk_id, row.seq),
            )
            .await?
    };
    Ok(TurnView {
        seq: row.seq,
        verb: Move::parse(&row.kind).map_or("", Move::verb).to_owned(),
        author_id: row.author_id.into_string(),
        author_name: row.author_name,
        kind: row.kind,
        body,
        created_at: row.created_at,
    })
}

fn status(rules: &Talk, names: &[String; 2], viewer: &User) -> String {
    let speaker = &names[rules.floor];
    let listener = &names[1 - rules.floor];
    let you_speak = rules.speaker() == viewer.id;
    let you_listen = rules.listener() == viewer.id;
    match (rules.phase, rules.waiting) {
        (Phase::Ended, _) => "This talk has ended.".to_owned(),
        (Phase::ProblemSolving, _) => {
            "Problem-solving: name what to solve, brainstorm without judging, then agree.".to_owned()
        }
        (Phase::Listening, Waiting::Speaker) if you_speak => {
            "You have the floor. Say one thing, briefly, starting from \"I\"; or hand the floor over.".to_owned()
        }
        (Phase::Listening, Waiting::Speaker) => format!("{speaker} has the floor."),
        (Phase::Listening, Waiting::Paraphrase) if you_listen => {
            format!("Say back what you heard {speaker} say, in your own words. No answering yet.")
        }
        (Phase::Listening, Waiting::Paraphrase) => format!("{listener} is saying back what they heard."),
        (Phase::Listening, Waiting::Confirmation) if you_speak => {
            format!("Did {listener} get it? Confirm, or clarify what you meant.")
        }
        (Phase::Listening, Waiting::Confirmation) => format!("{speaker} is checking your paraphrase."),
    }
}

/// The whole talk for `viewer`.
pub async fn view(state: &AppState, viewer: &User, talk_id: &str) -> AppResult<TalkView> {
    let talk = readable(state, viewer, talk_id).await?;
    let rows = state.store().turns_after(&talk.id, 0).await?;
    let rules = replay(&talk, &rows);
    let names = partner_names(state, &talk).await?;
    let mut turns = Vec::with_capacity(rows.len());
    for row in rows {
        turns.push(open_turn(state, &talk.id, &talk.couple_id, row).await?);
    }
    let topic = open_topic(state, &talk).await?;
    Ok(TalkView {
        status: status(&rules, &names, viewer),
        your_moves: rules.allowed(&viewer.id),
        speaker_name: names[rules.floor].clone(),
        listener_name: names[1 - rules.floor].clone(),
        phase: rules.phase,
        waiting: rules.waiting,
        id: talk.id,
        couple_id: talk.couple_id,
        topic,
        therapist_can_read: talk.therapist_can_read,
        turns,
        created_at: talk.created_at,
    })
}

/// A partner opens a talk with the other partner, who must have joined.
#[tracing::instrument(skip_all, fields(partner = %partner.id))]
pub async fn open(
    state: &AppState,
    partner: &User,
    topic: &str,
    therapist_can_read: bool,
) -> AppResult<TalkView> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::Forbidden)?;
    let couple = state.store().couple(couple_id).await?;
    super::safety::require_shared_work(state, &couple.id).await?;
    let topic = topic.trim();
    if topic.is_empty() {
        return Err(Error::invalid(
            "topic",
            "Please name what you would like to talk about.",
        ));
    }
    within_limit("topic", "the topic", topic, TOPIC_MAX_CHARS)?;
    let other = state
        .store()
        .couple_members(couple_id)
        .await?
        .into_iter()
        .find(|m| m.id != partner.id)
        .ok_or_else(|| {
            Error::Conflict("A talk needs both of you: your partner has not joined yet.".to_owned())
        })?;
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal(state.store(), couple_id, topic, &topic_context(&id))
        .await?;
    state
        .store()
        .create_talk(
            &id,
            couple_id,
            &partner.id,
            &other.id,
            &sealed,
            therapist_can_read,
            state.now(),
        )
        .await?;
    super::notices::notify(state, &other, super::notices::Notice::TalkOpened).await?;
    view(state, partner, &id).await
}

/// A partner's move. A move against the rules is refused with the reason
/// (`Conflict`); words with crisis language flag the therapist at once and
/// are sent only once the writer confirms, having seen where to get help.
#[tracing::instrument(skip_all, fields(partner = %partner.id, talk_id, kind = action.as_str()))]
pub async fn make_move(
    state: &AppState,
    partner: &User,
    talk_id: &str,
    action: Move,
    body: &str,
    confirmed: bool,
) -> AppResult<TurnView> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let talk = readable(state, partner, talk_id).await?;
    let body = if action.has_body() { body.trim() } else { "" };
    let chars = body.chars().count();
    let signs = if action.has_body() {
        super::safety::writing_signs(body)
    } else {
        super::safety::WritingSigns::default()
    };
    let (concern, possible) = (signs.concern, signs.possible);
    // A closed gate stops the talk, except leaving it and sending, once
    // confirmed, words in crisis (so someone in danger is never silenced).
    if action != Move::Leave && !((concern.is_some() || possible) && confirmed) {
        super::safety::require_shared_work(state, &talk.couple_id).await?;
    }
    // the confirmed resend of words flagged a moment ago (on the first try)
    // tells no one twice
    let told_a_moment_ago = match concern {
        Some(concern) if confirmed => {
            super::safety::flagged_within(
                state,
                partner,
                &talk.couple_id,
                (CONFIRM_WINDOW, None),
                concern,
            )
            .await?
        }
        _ => false,
    };
    let mut checked = false;
    for _attempt in 0..5 {
        let rows = state.store().turns_after(&talk.id, 0).await?;
        let mut rules = replay(&talk, &rows);
        rules
            .apply(&partner.id, action, chars)
            .map_err(|refusal| Error::Conflict(refusal.0))?;
        if possible && !confirmed {
            // the partner reads what is sent: a possible sign is checked
            // with the writer first, and nobody is told
            let tell = if talk.couple_therapist_id.is_some() {
                "If you would like your therapist to know, you can tell them from your journal page. "
            } else {
                ""
            };
            return Err(Error::ConfirmationNeeded(format!(
                "Some of what you wrote may mean that you, or someone close to you, are not safe. \
                 Nobody has been told. If anyone is in danger now, call your local emergency number. {} \
                 {tell}If you still want to send it, send it again and confirm.",
                super::help::in_words_for(state, partner).await?
            )));
        }
        if let Some(concern) = concern.filter(|_| !checked && !told_a_moment_ago) {
            checked = true;
            let next =
                super::safety::raise_for_writing(state, partner, &talk.couple_id, concern).await?;
            if !confirmed {
                return Err(Error::ConfirmationNeeded(format!(
                    "What you wrote sounds like someone may not be safe. {next} \
                     If anyone is in danger now, call your local emergency number. {} \
                     If you still want to send it, send it again and confirm.",
                    super::help::in_words_for(state, partner).await?
                )));
            }
        }
        let seq = i64::try_from(rows.len()).unwrap_or(i64::MAX - 1) + 1;
        let sealed = if body.is_empty() {
            Vec::new()
        } else {
            state
                .vault()
                .seal(
                    state.store(),
                    &talk.couple_id,
                    body,
                    &turn_context(&talk.id, seq),
                )
                .await?
        };
        let now = state.now();
        let inserted = state
            .store()
            .insert_turn(NewTurn {
                talk_id: &talk.id,
                seq,
                author_id: &partner.id,
                kind: action.as_str(),
                body: &sealed,
                now,
                ends: action == Move::Leave,
            })
            .await;
        match inserted {
            Ok(()) => {
                state.announce_turn(&talk.id);
                if let Err(err) = state.store().notify_talk(&talk.id).await {
                    tracing::warn!(error = ?err, "could not tell other instances about a turn");
                }
                return Ok(TurnView {
                    seq,
                    author_id: partner.id.to_string(),
                    author_name: partner.name.clone(),
                    kind: action.as_str().to_owned(),
                    verb: action.verb().to_owned(),
                    body: body.to_owned(),
                    created_at: now,
                });
            }
            // Someone else's turn took this number: look again.
            Err(StoreError::Conflict(_)) => continue,
            // The other partner ended the talk a moment ago.
            Err(StoreError::Gone) => {
                return Err(Error::Conflict("This talk has ended.".to_owned()));
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(Error::Conflict(
        "The talk moved on while you were writing. Please look at the latest turn and try again."
            .to_owned(),
    ))
}

/// The couple's talks, newest first, for a partner or (those they may read) the therapist.
pub async fn list(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<(TalkRow, String)>> {
    let couple = super::program::couple_for(state, viewer, couple_id).await?;
    let mut talks = Vec::new();
    for talk in state.store().talks_of_couple(&couple.id).await? {
        if viewer.role == Role::Therapist && !talk.therapist_can_read {
            continue;
        }
        let topic = open_topic(state, &talk).await?;
        talks.push((talk, topic));
    }
    Ok(talks)
}

/// A talk that waits on a partner's move, for their "today" list.
#[derive(Debug, Clone)]
pub struct MoveWaiting {
    pub talk_id: String,
    pub topic: String,
    /// The other partner's name.
    pub other_name: String,
    /// The move asked of the partner: the speaker checks a paraphrase.
    pub confirm_paraphrase: bool,
    /// When the talk last moved.
    pub since: i64,
}

/// The talks of a partner's couple that wait on this partner now: their
/// floor, their paraphrase, their confirmation, or a problem-solving step
/// the other partner made last. Talks paused by a time-out wait on no one.
pub async fn waiting_on(state: &AppState, partner: &User) -> AppResult<Vec<MoveWaiting>> {
    let (Role::Partner, Some(couple_id)) = (partner.role, partner.couple_id.as_ref()) else {
        return Ok(Vec::new());
    };
    let paused: Vec<String> = state
        .store()
        .timeouts_of_couple(couple_id, state.now() - trellis_core::time::DAY)
        .await?
        .into_iter()
        .filter(|t| t.return_at > state.now())
        .filter_map(|t| t.talk_id)
        .collect();
    let mut waiting = Vec::new();
    for talk in state.store().talks_of_couple(couple_id).await? {
        if talk.ended_at.is_some() || paused.contains(&talk.id) {
            continue;
        }
        let rows = state.store().turns_after(&talk.id, 0).await?;
        let rules = replay(&talk, &rows);
        let last = rows.last();
        let mine = |id: &str| id == partner.id;
        let (yours, confirm_paraphrase) = match (rules.phase, rules.waiting) {
            (Phase::Ended, _) => (false, false),
            (Phase::ProblemSolving, _) => (last.is_some_and(|t| !mine(&t.author_id)), false),
            (Phase::Listening, Waiting::Speaker) => (mine(rules.speaker()), false),
            (Phase::Listening, Waiting::Paraphrase) => (mine(rules.listener()), false),
            (Phase::Listening, Waiting::Confirmation) => (mine(rules.speaker()), true),
        };
        if !yours {
            continue;
        }
        let names = partner_names(state, &talk).await?;
        let other = usize::from(talk.opened_by == partner.id);
        waiting.push(MoveWaiting {
            topic: open_topic(state, &talk).await?,
            other_name: names[other].clone(),
            confirm_paraphrase,
            since: last.map_or(talk.created_at, |t| t.created_at),
            talk_id: talk.id,
        });
    }
    Ok(waiting)
}

/// Every talk of a partner's couple, for their export.
pub async fn export_for(state: &AppState, partner: &User) -> AppResult<Vec<TalkView>> {
    let (Role::Partner, Some(couple_id)) = (partner.role, partner.couple_id.as_ref()) else {
        return Ok(Vec::new());
    };
    let mut talks = Vec::new();
    for talk in state.store().talks_of_couple(couple_id).await? {
        talks.push(view(state, partner, &talk.id).await?);
    }
    Ok(talks)
}

/// Turns after `after`, as they come, for as long as the caller listens.
/// Checks access up front and again on every wake: the stream ends once the
/// viewer may no longer read the talk or `session` has ended. A person holds
/// at most [`crate::streams::MAX_STREAMS_PER_PERSON`] streams at once.
pub async fn follow(
    state: &AppState,
    viewer: &User,
    session: StreamSession,
    talk_id: &str,
    after: i64,
) -> AppResult<impl futures_util::Stream<Item = TurnView> + Send + use<>> {
    let talk = readable(state, viewer, talk_id).await?;
    let slot = state.streams().claim(&viewer.id)?;
    let announcements = state.turn_announcements();
    let start = Follow {
        _slot: slot,
        session,
        session_endings: state.store().session_endings(),
        state: state.clone(),
        viewer_id: viewer.id.to_string(),
        until: tokio::time::Instant::now() + STREAM_LIFETIME,
        talk,
        last: after.max(0),
        pending: VecDeque::new(),
        announcements,
    };
    Ok(futures_util::stream::unfold(
        start,
        |mut follow| async move {
            let turn = follow.next_turn().await?;
            Some((turn, follow))
        },
    ))
}

struct Follow {
    _slot: StreamSlot,
    session: StreamSession,
    /// Ticks when sessions end in this process: look again at once.
    session_endings: tokio::sync::watch::Receiver<u64>,
    state: AppState,
    viewer_id: String,
    /// Streams end after a while; the browser reconnects (with
    /// `Last-Event-ID`) and is authenticated again.
    until: tokio::time::Instant,
    talk: TalkRow,
    last: i64,
    pending: VecDeque<TurnView>,
    announcements: tokio::sync::broadcast::Receiver<String>,
}

impl Follow {
    async fn next_turn(&mut self) -> Option<TurnView> {
        loop {
            if let Some(turn) = self.pending.pop_front() {
                self.last = turn.seq;
                return Some(turn);
            }
            if tokio::time::Instant::now() >= self.until || !self.still_allowed().await {
                return None;
            }
            match self
                .state
                .store()
                .turns_after(&self.talk.id, self.last)
                .await
            {
                Ok(rows) if !rows.is_empty() => {
                    for row in rows {
                        match open_turn(&self.state, &self.talk.id, &self.talk.couple_id, row).await
                        {
                            Ok(turn) => self.pending.push_back(turn),
                            Err(err) => {
                                tracing::warn!(error = ?err, "could not open a turn for a listener");
                                return None;
                            }
                        }
                    }
                    continue;
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = ?err, "could not read new turns; trying again"),
            }
            if !self.wait_for_news().await {
                return None;
            }
        }
    }

    /// Whether the listener may still read the talk: their session may have
    /// ended, they may have left the couple, or the therapist been unlinked,
    /// since the stream began.
    async fn still_allowed(&self) -> bool {
        let session = &self.session;
        match self
            .state
            .store()
            .session_is_open(
                &session.token_hash,
                session.kind,
                self.state.now(),
                session.max_age,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => return false,
            Err(err) => {
                tracing::warn!(error = ?err, "could not check a listener's session");
                return false;
            }
        }
        match self.state.store().user(&self.viewer_id).await {
            Ok(viewer) => readable(&self.state, &viewer, &self.talk.id).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Waits until this talk is announced, sessions end, or a while has
    /// passed. False when the process is shutting down.
    async fn wait_for_news(&mut self) -> bool {
        let deadline = (tokio::time::Instant::now() + POLL_EVERY).min(self.until);
        let talk_id = &self.talk.id;
        let announcements = &mut self.announcements;
        let news = async {
            loop {
                match announcements.recv().await {
                    Ok(id) if id == *talk_id => return true,
                    Ok(_other_talk) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return true,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => true,
            // A closed channel (the store is gone) is news too: look again.
            _ = self.session_endings.changed() => true,
            open = news => open,
        }
    }
}

/// Relays other instances' turns to this process's listeners, for as long
/// as the process runs (PostgreSQL only; reconnects after a lost connection).
pub async fn relay_other_instances(state: AppState) {
    loop {
        match state.store().listen_talks().await {
            Ok(None) => return,
            Ok(Some(mut listener)) => loop {
                match listener.next().await {
                    Ok(talk_id) => state.announce_turn(&talk_id),
                    Err(err) => {
                        tracing::warn!(error = ?err, "lost the talk notifications; reconnecting");
                        break;
                    }
                }
            },
            Err(err) => tracing::warn!(error = ?err, "could not listen for talk notifications"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
