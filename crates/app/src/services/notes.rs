//! A therapist's session notes: written by the couple's therapist, readable
//! only by them (not the couple, not other therapists, not admins), sealed
//! with the couple's key, and never part of a client's export.

use trellis_core::CoupleId;
use trellis_core::privacy::{Item, Relation, may_view};
use trellis_store::{NoteRow, User};

use super::audit;
use super::writing::parse_body;
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// A starting point the therapist may use or ignore.
pub const TEMPLATE: &str = "Presenting concerns:\n\nInterventions:\n\nHomework:\n\nPlan:\n";

#[derive(Debug, Clone)]
pub struct Note {
    pub id: String,
    pub couple_id: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn context(id: &str) -> String {
    format!("note:{id}")
}

async fn open(state: &AppState, therapist: &User, row: NoteRow) -> AppResult<Note> {
    // The store selected by author already; the rule is asked once more.
    let relation = if row.therapist_id == therapist.id {
        Relation::Author
    } else {
        Relation::Outsider
    };
    if !may_view(relation, Item::TherapistNote) {
        return Err(Error::NotFound);
    }
    let body = state
        .vault()
        .open(state.store(), &row.couple_id, &row.body, &context(&row.id))
        .await?;
    Ok(Note {
        id: row.id,
        couple_id: row.couple_id,
        body,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

async fn guided(state: &AppState, therapist: &User, couple_id: &CoupleId) -> AppResult<CoupleId> {
    Ok(
        super::program::therapist_couple(state, therapist, couple_id)
            .await?
            .id,
    )
}

#[tracing::instrument(skip_all, fields(therapist = %therapist.id, couple_id))]
pub async fn write(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    body: &str,
) -> AppResult<Note> {
    let couple_id = guided(state, therapist, couple_id).await?;
    let body = parse_body("body", body)?;
    if body.trim() == TEMPLATE.trim() {
        return Err(Error::invalid(
            "body",
            "Please write something in the note first.",
        ));
    }
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal(state.store(), &couple_id, &body, &context(&id))
        .await?;
    let row = state
        .store()
        .insert_note(&id, &couple_id, &therapist.id, &sealed, state.now())
        .await?;
    audit::record(
        state,
        audit::Event::new("note_written")
            .actor(therapist)
            .couple(&couple_id)
            .item("note", &id),
    )
    .await?;
    open(state, therapist, row).await
}

#[tracing::instrument(skip_all, fields(therapist = %therapist.id, id))]
pub async fn update(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    id: &str,
    body: &str,
) -> AppResult<Note> {
    let couple_id = guided(state, therapist, couple_id).await?;
    let existing = state.store().note(&therapist.id, id).await?;
    if existing.couple_id != couple_id {
        return Err(Error::NotFound);
    }
    let body = parse_body("body", body)?;
    let sealed = state
        .vault()
        .seal(state.store(), &couple_id, &body, &context(id))
        .await?;
    state
        .store()
        .update_note(&therapist.id, id, &sealed, state.now())
        .await?;
    let row = state.store().note(&therapist.id, id).await?;
    open(state, therapist, row).await
}

/// The therapist's own notes about a couple they guide, newest first.
pub async fn list(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<Note>> {
    let couple_id = guided(state, therapist, couple_id).await?;
    let mut notes = Vec::new();
    for row in state.store().notes_about(&therapist.id, &couple_id).await? {
        notes.push(open(state, therapist, row).await?);
    }
    Ok(notes)
}
