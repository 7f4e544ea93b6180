//! The store's conformance suite: every behaviour below runs against a fresh
//! SQLite file and, when `TRELLIS_TEST_DATABASE_URL` names a server, a fresh
//! PostgreSQL database, so both backends are held to one contract.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use trellis_core::privacy::Audience;
use trellis_core::time::{DAY, HOUR, MINUTE};
use trellis_core::{CoupleId, UserId};
use trellis_core::{EmailAddress, InvitationKind, Millis, Role};
use trellis_crypto::SecretToken;
use trellis_store::{
    AudienceChange, Backend, Cell, Conflict, Couple, EntryFilter, FlagLevel, Invitation,
    InvitationAccepted, MarkRow, NewAppointment, NewEntry, NewMeasure, NewPartner,
    NewPracticeWithAdmin, NewScreeningDecision, NewSession, NewTurn, OneTimePurpose,
    PartnerSummary, Practice, Reader, Scope, SessionKind, Store, StoreError, ThrottleAttempt, User,
    WritingFlag,
};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Runs `test` against a fresh SQLite file that lives as long as the test.
async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    test(store.clone()).await;
    store.close().await;
    drop(dir);
}

/// Runs `test` against a fresh PostgreSQL database, or says it was skipped.
async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = trellis_store::testing::postgres_server_url() else {
        assert!(
            std::env::var_os("TRELLIS_REQUIRE_POSTGRES").is_none(),
            "TRELLIS_REQUIRE_POSTGRES is set but TRELLIS_TEST_DATABASE_URL is not"
        );
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: PostgreSQL conformance test (set TRELLIS_TEST_DATABASE_URL)"
        );
        return;
    };
    let url = trellis_store::testing::create_postgres_database(&server)
        .await
        .unwrap();
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    test(store.clone()).await;
    store.close().await;
}

/// `conformance!(a, b)` makes `mod a { sqlite(), postgres() }` for each
/// `async fn a(Store)` in this file.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::on_sqlite(super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::on_postgres(super::$name).await;
            }
        }
    )+};
}

conformance!(
    an_empty_store_fills_with_its_first_practice,
    users_are_found_by_id_and_by_email,
    a_setup_token_works_once,
    a_failed_setup_creates_nothing,
    a_duplicate_admin_email_leaves_the_setup_token_open,
    a_session_finds_its_user_for_its_kind_only,
    an_expired_session_is_removed_on_sight,
    a_session_slides_while_in_use,
    signing_out_ends_sessions,
    setting_a_password_ends_every_session,
    one_time_tokens_are_open_for_their_purpose_until_used_or_expired,
    a_reset_token_resets_once_and_closes_the_others,
    a_new_couple_has_two_open_invitations,
    accepting_a_partner_invitation_joins_the_couple,
    an_expired_invitation_is_gone,
    a_registered_email_cannot_accept_an_invitation,
    a_couple_never_gets_a_third_member,
    partner_invitations_respect_the_couple_size,
    a_therapist_invitation_makes_a_therapist_in_the_practice,
    a_fresh_therapist_invitation_replaces_the_open_one,
    a_self_guided_couple_links_to_a_therapist_once,
    the_caseload_shows_the_therapists_couples_newest_first,
    the_practice_lists_its_therapists_with_couple_counts,
    open_invitation_lists_leave_out_used_and_expired_ones,
    a_practice_can_be_renamed,
    concurrent_accepts_of_one_invitation_admit_one_person,
    concurrent_accepts_never_overfill_a_couple,
    concurrent_invitations_never_overbook_a_couple,
    concurrent_setups_with_one_token_create_one_practice,
    an_entry_and_its_flag_are_stored_together_or_not_at_all,
    a_flag_that_may_be_urgent_is_kept_and_counted_apart,
    waiting_writing_is_its_authors_alone_until_its_moment,
    closed_sets_refuse_unknown_words_in_the_database_itself,
    a_start_puts_back_a_missing_guard_and_never_narrows_a_set,
    bulk_rows_arrive_whole_with_nulls_and_bytes_or_not_at_all,
    scoped_reads_cover_a_caseload_and_nothing_else,
    a_device_belongs_to_whoever_turned_notices_on_last,
    mail_waits_in_the_outbox_until_sent_and_is_claimed_once,
    writing_reaches_exactly_the_readers_its_audience_names,
    only_the_author_moves_writing_and_each_move_is_kept,
    a_talks_turns_take_each_number_once_and_its_first_end_holds,
    a_timeout_invites_the_couple_back_once_its_time_has_come,
    a_days_marks_merge_into_one_and_a_new_version_ends_the_old,
    an_agreement_holds_once_accepted_and_retires_the_version_it_replaces,
    a_proposed_promise_is_taken_on_once_by_its_owner,
    a_reminder_is_due_once_and_never_for_a_cancelled_session,
    a_session_belongs_to_its_couple_and_the_people_in_it,
    throttled_attempts_count_within_their_window_even_in_parallel,
    a_locked_key_counts_nothing_until_its_lock_ends,
);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const T0: Millis = 1_700_000_000_000;
const IDLE: Millis = 30 * MINUTE;
const WEEK: Millis = 7 * DAY;

/// A fresh token hash, as the web layer would store it.
fn token() -> String {
    SecretToken::generate().hash().as_str().to_owned()
}

fn email(address: &str) -> EmailAddress {
    EmailAddress::parse("email", address).unwrap()
}

fn idle(_: Role) -> Millis {
    IDLE
}

async fn practice_with_admin(store: &Store, name: &str, admin_email: &str) -> (Practice, User) {
    store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: name,
            admin_email,
            admin_name: "Ada Admin",
            password_hash: "admin-hash",
            setup_token_hash: None,
            now: T0,
        })
        .await
        .unwrap()
}

/// A therapist in the admin's practice, brought in by invitation.
async fn therapist(store: &Store, admin: &User, address: &str, name: &str, code: &str) -> User {
    let hash = token();
    store
        .create_therapist_invitation(admin, address, name, &hash, T0, T0 + WEEK)
        .await
        .unwrap();
    store
        .accept_invitation(&hash, name, "therapist-hash", Some(code), T0 + 1)
        .await
        .unwrap()
        .user
}

/// A therapist's new couple with one open invitation per address, each with
/// the token hash that accepts it.
async fn couple(
    store: &Store,
    therapist: &User,
    addresses: &[&str],
    now: Millis,
) -> (Couple, Vec<(String, Invitation)>) {
    let hashes: Vec<String> = addresses.iter().map(|_| token()).collect();
    let names: Vec<String> = addresses.iter().map(|a| format!("Name of {a}")).collect();
    let partners: Vec<NewPartner<'_>> = addresses
        .iter()
        .zip(&hashes)
        .zip(&names)
        .map(|((email, token_hash), name)| NewPartner {
            email,
            name,
            token_hash,
        })
        .collect();
    let (couple, invitations) = store
        .create_couple_with_invitations(therapist, &partners, now, now + WEEK)
        .await
        .unwrap();
    (couple, hashes.into_iter().zip(invitations).collect())
}

async fn accept(store: &Store, hash: &str, now: Millis) -> Result<InvitationAccepted, StoreError> {
    store
        .accept_invitation(hash, "Accepting Person", "partner-hash", None, now)
        .await
}

async fn invite_partner(
    store: &Store,
    couple_id: &CoupleId,
    inviter: &User,
    address: &str,
    token_hash: &str,
    now: Millis,
) -> Result<Invitation, StoreError> {
    let partner = NewPartner {
        email: address,
        name: "Partner",
        token_hash,
    };
    store
        .create_partner_invitation(couple_id, inviter, partner, now, now + WEEK)
        .await
}

async fn web_session(store: &Store, user_id: &str, now: Millis) -> String {
    let hash = token();
    store
        .create_session(NewSession {
            token_hash: &hash,
            user_id,
            kind: SessionKind::Web,
            now,
            expires_at: now + IDLE,
        })
        .await
        .unwrap();
    hash
}

async fn session_user(store: &Store, hash: &str, now: Millis) -> Option<User> {
    store
        .session_user(hash, SessionKind::Web, now, idle)
        .await
        .unwrap()
}

fn assert_gone<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::Gone)),
        "expected Gone, got {result:?}"
    );
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(&result, Err(StoreError::Conflict(w)) if w.as_str() == what),
        "expected Conflict({what:?}), got {result:?}"
    );
}

fn partner(name: &str, address: &str, joined: bool) -> PartnerSummary {
    PartnerSummary {
        name: name.to_owned(),
        email: address.to_owned(),
        joined,
    }
}

// ---------------------------------------------------------------------------
// The store, practices and users
// ---------------------------------------------------------------------------

async fn an_empty_store_fills_with_its_first_practice(store: Store) {
    assert!(store.ping().await);
    assert!(store.is_empty().await.unwrap());

    let (practice, admin) = practice_with_admin(&store, "Willow Practice", "ada@example.com").await;

    assert!(!store.is_empty().await.unwrap());
    assert_eq!(practice.name, "Willow Practice");
    assert_eq!(practice.description, "");
    assert_eq!(practice.created_at, T0);
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(admin.email, "ada@example.com");
    assert_eq!(admin.name, "Ada Admin");
    assert_eq!(admin.practice_id.as_deref(), Some(practice.id.as_str()));
    assert_eq!(admin.couple_id, None);
    assert_eq!(admin.link_code, None);
    assert_eq!(admin.created_at, T0);
    assert_eq!(store.practice(&practice.id).await.unwrap(), practice);
    assert_eq!(store.user(&admin.id).await.unwrap(), admin);
    // An admin is not one of the practice's therapists.
    assert!(store.therapists(&practice.id).await.unwrap().is_empty());
}

async fn users_are_found_by_id_and_by_email(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;

    let found = store
        .user_by_email(&email("  ADA@Example.com "))
        .await
        .unwrap()
        .expect("the admin by a normalised address");
    assert_eq!(found.user, admin);
    assert_eq!(found.password_hash, "admin-hash");
    assert_eq!(store.password_hash(&admin.id).await.unwrap(), "admin-hash");

    assert!(
        store
            .user_by_email(&email("nobody@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    assert_not_found(store.user("no-such-id").await);
    assert_not_found(store.password_hash(&UserId::new("no-such-id")).await);

    // The store keeps addresses exactly as given and compares them exactly;
    // normalising is the caller's job (EmailAddress).
    let mixed = store
        .sign_up_self_guided("Sam@Example.com", "Sam", "sam-hash", T0)
        .await
        .unwrap();
    assert_eq!(
        store.user(&mixed.id).await.unwrap().email,
        "Sam@Example.com"
    );
    assert!(
        store
            .user_by_email(&email("sam@example.com"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_setup_token_works_once(store: Store) {
    let setup = token();
    store
        .create_one_time_token(&setup, OneTimePurpose::Setup, None, T0, T0 + DAY)
        .await
        .unwrap();
    assert!(
        store
            .one_time_token_is_open(&setup, OneTimePurpose::Setup, T0)
            .await
            .unwrap()
    );

    let (practice, admin) = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Willow",
            admin_email: "ada@example.com",
            admin_name: "Ada",
            password_hash: "h",
            setup_token_hash: Some(&setup),
            now: T0 + 1,
        })
        .await
        .unwrap();
    assert_eq!(admin.practice_id.as_deref(), Some(practice.id.as_str()));
    assert!(
        !store
            .one_time_token_is_open(&setup, OneTimePurpose::Setup, T0 + 2)
            .await
            .unwrap()
    );

    let again = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Second",
            admin_email: "eve@example.com",
            admin_name: "Eve",
            password_hash: "h",
            setup_token_hash: Some(&setup),
            now: T0 + 3,
        })
        .await;
    assert_gone(again);
    assert!(
        store
            .user_by_email(&email("eve@example.com"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_failed_setup_creates_nothing(store: Store) {
    let setup = token();
    store
        .create_one_time_token(&setup, OneTimePurpose::Setup, None, T0, T0 + DAY)
        .await
        .unwrap();
    let reset_purpose = token();
    store
        .create_one_time_token(
            &reset_purpose,
            OneTimePurpose::PasswordReset,
            None,
            T0,
            T0 + DAY,
        )
        .await
        .unwrap();
    let attempt = |hash: String, now: Millis| {
        let store = store.clone();
        async move {
            store
                .create_practice_with_admin(NewPracticeWithAdmin {
                    practice_name: "Willow",
                    admin_email: "ada@example.com",
                    admin_name: "Ada",
                    password_hash: "h",
                    setup_token_hash: Some(&hash),
                    now,
                })
                .await
        }
    };

    // Expired (at its expiry instant), unknown, and a token for another purpose.
    assert_gone(attempt(setup.clone(), T0 + DAY).await);
    assert_gone(attempt(token(), T0).await);
    assert_gone(attempt(reset_purpose, T0).await);
    assert!(store.is_empty().await.unwrap());

    // The expired token stays unusable; a live one still works.
    assert!(
        !store
            .one_time_token_is_open(&setup, OneTimePurpose::Setup, T0 + DAY)
            .await
            .unwrap()
    );
    assert!(attempt(setup, T0 + DAY - 1).await.is_ok());
    assert!(!store.is_empty().await.unwrap());
}

async fn a_duplicate_admin_email_leaves_the_setup_token_open(store: Store) {
    practice_with_admin(&store, "First", "ada@example.com").await;
    let setup = token();
    store
        .create_one_time_token(&setup, OneTimePurpose::Setup, None, T0, T0 + DAY)
        .await
        .unwrap();
    let duplicate = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Second",
            admin_email: "ada@example.com",
            admin_name: "Ada again",
            password_hash: "h",
            setup_token_hash: Some(&setup),
            now: T0 + 1,
        })
        .await;
    assert_conflict(duplicate, "email");
    // The transaction rolled back: the token was not spent.
    assert!(
        store
            .one_time_token_is_open(&setup, OneTimePurpose::Setup, T0 + 2)
            .await
            .unwrap()
    );
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

async fn a_session_finds_its_user_for_its_kind_only(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let web = web_session(&store, &sam.id, T0).await;

    let found = session_user(&store, &web, T0 + 1)
        .await
        .expect("live session");
    assert_eq!(found, sam);
    assert!(found.couple_id.is_some());
    assert_eq!(found.role, Role::Partner);

    // A browser cookie is not an API token, nor the other way round.
    assert!(
        store
            .session_user(&web, SessionKind::Api, T0 + 1, idle)
            .await
            .unwrap()
            .is_none()
    );
    let api = token();
    store
        .create_session(NewSession {
            token_hash: &api,
            user_id: &sam.id,
            kind: SessionKind::Api,
            now: T0,
            expires_at: T0 + IDLE,
        })
        .await
        .unwrap();
    assert!(session_user(&store, &api, T0 + 1).await.is_none());
    let by_api = store
        .session_user(&api, SessionKind::Api, T0 + 1, idle)
        .await
        .unwrap();
    assert_eq!(by_api, Some(sam.clone()));
    // The wrong-kind lookups did not end either session.
    assert!(session_user(&store, &web, T0 + 2).await.is_some());

    assert!(session_user(&store, &token(), T0).await.is_none());

    // The idle timeout is asked for the session user's role.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    store
        .session_user(&web, SessionKind::Web, T0 + 3, move |role| {
            seen.lock().unwrap().push(role);
            IDLE
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*asked.lock().unwrap(), vec![Role::Partner]);
}

async fn an_expired_session_is_removed_on_sight(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let hash = web_session(&store, &sam.id, T0).await;
    assert!(session_user(&store, &hash, T0 + IDLE - 1).await.is_some());
    let later = web_session(&store, &sam.id, T0).await;

    // `later` was not used, so it expires at T0 + IDLE exactly.
    assert!(session_user(&store, &later, T0 + IDLE).await.is_none());
    // Gone for good: not even a clock that runs behind brings it back.
    assert!(session_user(&store, &later, T0).await.is_none());
    // The other session, refreshed above, is unaffected.
    assert!(session_user(&store, &hash, T0 + IDLE).await.is_some());
}

async fn a_session_slides_while_in_use(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let hash = web_session(&store, &sam.id, T0).await;

    // Each use keeps the session alive for IDLE from that moment.
    let first = T0 + IDLE - 1;
    assert!(session_user(&store, &hash, first).await.is_some());
    let second = first + IDLE - 1;
    assert!(session_user(&store, &hash, second).await.is_some());
    let third = second + IDLE - 1;
    assert!(session_user(&store, &hash, third).await.is_some());
    // Left alone for a full IDLE, it ends.
    assert!(session_user(&store, &hash, third + IDLE).await.is_none());
    assert!(session_user(&store, &hash, third).await.is_none());
}

async fn signing_out_ends_sessions(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let kim = store
        .sign_up_self_guided("kim@example.com", "Kim", "h", T0)
        .await
        .unwrap();
    let laptop = web_session(&store, &sam.id, T0).await;
    let phone = web_session(&store, &sam.id, T0).await;
    let tablet = web_session(&store, &sam.id, T0).await;
    let kims = web_session(&store, &kim.id, T0).await;

    store.delete_session(&laptop).await.unwrap();
    assert!(session_user(&store, &laptop, T0 + 1).await.is_none());
    assert!(session_user(&store, &phone, T0 + 1).await.is_some());
    // Deleting an unknown or already deleted session is fine.
    store.delete_session(&laptop).await.unwrap();

    store.delete_user_sessions(&sam.id).await.unwrap();
    assert!(session_user(&store, &phone, T0 + 2).await.is_none());
    assert!(session_user(&store, &tablet, T0 + 2).await.is_none());
    assert_eq!(
        session_user(&store, &kims, T0 + 2).await.map(|u| u.id),
        Some(kim.id)
    );
}

async fn setting_a_password_ends_every_session(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "old-hash", T0)
        .await
        .unwrap();
    let kim = store
        .sign_up_self_guided("kim@example.com", "Kim", "kim-hash", T0)
        .await
        .unwrap();
    let web = web_session(&store, &sam.id, T0).await;
    let api = token();
    store
        .create_session(NewSession {
            token_hash: &api,
            user_id: &sam.id,
            kind: SessionKind::Api,
            now: T0,
            expires_at: T0 + IDLE,
        })
        .await
        .unwrap();
    let kims = web_session(&store, &kim.id, T0).await;

    store.set_password(&sam.id, "new-hash").await.unwrap();

    assert_eq!(store.password_hash(&sam.id).await.unwrap(), "new-hash");
    assert_eq!(
        store
            .user_by_email(&email("sam@example.com"))
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert!(session_user(&store, &web, T0 + 1).await.is_none());
    assert!(
        store
            .session_user(&api, SessionKind::Api, T0 + 1, idle)
            .await
            .unwrap()
            .is_none()
    );
    assert!(session_user(&store, &kims, T0 + 1).await.is_some());
    assert_eq!(store.password_hash(&kim.id).await.unwrap(), "kim-hash");
    assert_not_found(store.set_password(&UserId::new("no-such-id"), "x").await);
}

// ---------------------------------------------------------------------------
// One-time tokens and password resets
// ---------------------------------------------------------------------------

async fn one_time_tokens_are_open_for_their_purpose_until_used_or_expired(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let reset = token();
    store
        .create_one_time_token(
            &reset,
            OneTimePurpose::PasswordReset,
            Some(&sam.id),
            T0,
            T0 + DAY,
        )
        .await
        .unwrap();
    let is_open = |hash: String, purpose: OneTimePurpose, now: Millis| {
        let store = store.clone();
        async move {
            store
                .one_time_token_is_open(&hash, purpose, now)
                .await
                .unwrap()
        }
    };

    assert!(is_open(reset.clone(), OneTimePurpose::PasswordReset, T0).await);
    assert!(is_open(reset.clone(), OneTimePurpose::PasswordReset, T0 + DAY - 1).await);
    assert!(!is_open(reset.clone(), OneTimePurpose::PasswordReset, T0 + DAY).await);
    assert!(!is_open(reset.clone(), OneTimePurpose::Setup, T0).await);
    assert!(!is_open(token(), OneTimePurpose::PasswordReset, T0).await);

    store.reset_password(&reset, "new", T0 + 1).await.unwrap();
    assert!(!is_open(reset, OneTimePurpose::PasswordReset, T0 + 2).await);
}

async fn a_reset_token_resets_once_and_closes_the_others(store: Store) {
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "old-hash", T0)
        .await
        .unwrap();
    let kim = store
        .sign_up_self_guided("kim@example.com", "Kim", "kim-hash", T0)
        .await
        .unwrap();
    let mut reset_for = Vec::new();
    for user in [&sam, &sam, &kim] {
        let hash = token();
        store
            .create_one_time_token(
                &hash,
                OneTimePurpose::PasswordReset,
                Some(&user.id),
                T0,
                T0 + DAY,
            )
            .await
            .unwrap();
        reset_for.push(hash);
    }
    let [first, second, kims] = <[String; 3]>::try_from(reset_for).unwrap();
    let session = web_session(&store, &sam.id, T0).await;
    let kims_session = web_session(&store, &kim.id, T0).await;

    let user_id = store
        .reset_password(&first, "new-hash", T0 + 10)
        .await
        .unwrap();
    assert_eq!(user_id, sam.id);
    assert_eq!(store.password_hash(&sam.id).await.unwrap(), "new-hash");
    assert!(session_user(&store, &session, T0 + 11).await.is_none());

    // Once only, and the other open link for the same account closed too.
    assert_not_found(store.reset_password(&first, "again", T0 + 12).await);
    assert!(
        !store
            .one_time_token_is_open(&second, OneTimePurpose::PasswordReset, T0 + 12)
            .await
            .unwrap()
    );
    assert_not_found(store.reset_password(&second, "again", T0 + 12).await);
    assert_eq!(store.password_hash(&sam.id).await.unwrap(), "new-hash");

    // Another person's link and session are untouched.
    assert!(
        store
            .one_time_token_is_open(&kims, OneTimePurpose::PasswordReset, T0 + 12)
            .await
            .unwrap()
    );
    assert!(session_user(&store, &kims_session, T0 + 12).await.is_some());

    // Unknown, expired, and setup tokens do not reset anything.
    assert_not_found(store.reset_password(&token(), "x", T0).await);
    assert_not_found(store.reset_password(&kims, "x", T0 + DAY).await);
    let setup = token();
    store
        .create_one_time_token(&setup, OneTimePurpose::Setup, None, T0, T0 + DAY)
        .await
        .unwrap();
    assert_not_found(store.reset_password(&setup, "x", T0 + 1).await);
    assert_eq!(store.password_hash(&kim.id).await.unwrap(), "kim-hash");
    assert!(
        store
            .one_time_token_is_open(&setup, OneTimePurpose::Setup, T0 + 1)
            .await
            .unwrap()
    );
}

// ---------------------------------------------------------------------------
// Couples and invitations
// ---------------------------------------------------------------------------

async fn a_new_couple_has_two_open_invitations(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;

    let (couple, invitations) = couple(
        &store,
        &theo,
        &["ann@example.com", "ben@example.com"],
        T0 + 5,
    )
    .await;

    assert_eq!(couple.therapist_id.as_deref(), Some(theo.id.as_str()));
    assert_eq!(couple.practice_id.as_deref(), Some(practice.id.as_str()));
    assert_eq!(couple.created_at, T0 + 5);
    assert_eq!(store.couple(&couple.id).await.unwrap(), couple);
    assert!(store.couple_members(&couple.id).await.unwrap().is_empty());
    assert_eq!(invitations.len(), 2);
    for ((hash, invitation), address) in invitations
        .iter()
        .zip(["ann@example.com", "ben@example.com"])
    {
        assert_eq!(invitation.kind, InvitationKind::Partner);
        assert_eq!(invitation.email, address);
        assert_eq!(invitation.name, format!("Name of {address}"));
        assert_eq!(invitation.couple_id.as_deref(), Some(couple.id.as_str()));
        assert_eq!(
            invitation.practice_id.as_deref(),
            Some(practice.id.as_str())
        );
        assert_eq!(invitation.invited_by, theo.id);
        assert_eq!(invitation.created_at, T0 + 5);
        assert_eq!(invitation.expires_at, T0 + 5 + WEEK);
        assert_eq!(invitation.used_at, None);
        assert_eq!(
            store.invitation_by_token(hash).await.unwrap().as_ref(),
            Some(invitation)
        );
    }
    let open = store
        .open_couple_invitations(&couple.id, T0 + 6)
        .await
        .unwrap();
    let expected: Vec<Invitation> = invitations.into_iter().map(|(_, i)| i).collect();
    assert_eq!(open, expected);
    assert!(store.invitation_by_token(&token()).await.unwrap().is_none());
    assert_not_found(store.couple(&CoupleId::new("no-such-couple")).await);
}

async fn accepting_a_partner_invitation_joins_the_couple(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let (ann_token, ann_invitation) = &invitations[0];

    let accepted = store
        .accept_invitation(ann_token, "Ann", "ann-hash", Some("IGNORED-1"), T0 + 10)
        .await
        .unwrap();

    let ann = &accepted.user;
    assert_eq!(ann.role, Role::Partner);
    assert_eq!(ann.email, "ann@example.com");
    assert_eq!(ann.name, "Ann");
    assert_eq!(ann.couple_id.as_deref(), Some(couple.id.as_str()));
    assert_eq!(ann.practice_id, None);
    assert_eq!(ann.link_code, None, "partners have no link code");
    assert_eq!(ann.created_at, T0 + 10);
    assert_eq!(accepted.invitation.id, ann_invitation.id);
    assert_eq!(accepted.invitation.used_at, Some(T0 + 10));
    assert_eq!(store.password_hash(&ann.id).await.unwrap(), "ann-hash");
    assert_eq!(
        store
            .invitation_by_token(ann_token)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(T0 + 10)
    );
    assert_eq!(
        store.couple_members(&couple.id).await.unwrap(),
        vec![ann.clone()]
    );
    let open = store
        .open_couple_invitations(&couple.id, T0 + 11)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].email, "ben@example.com");

    // Used once; an unknown link is a different answer.
    assert_gone(accept(&store, ann_token, T0 + 11).await);
    assert_not_found(accept(&store, &token(), T0 + 11).await);

    let ben = accept(&store, &invitations[1].0, T0 + 12)
        .await
        .unwrap()
        .user;
    let members = store.couple_members(&couple.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| &m.id).collect::<Vec<_>>(),
        vec![&ann.id, &ben.id],
        "members in the order they joined"
    );
}

async fn an_expired_invitation_is_gone(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let expires = T0 + WEEK;

    assert_gone(accept(&store, &invitations[0].0, expires).await);
    assert!(
        store
            .user_by_email(&email("ann@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .open_couple_invitations(&couple.id, expires)
            .await
            .unwrap()
            .is_empty()
    );
    // Its last millisecond still counts.
    assert!(accept(&store, &invitations[1].0, expires - 1).await.is_ok());
}

async fn a_registered_email_cannot_accept_an_invitation(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let ann = store
        .sign_up_self_guided("ann@example.com", "Ann", "h", T0)
        .await
        .unwrap();
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;

    assert_conflict(accept(&store, &invitations[0].0, T0 + 1).await, "email");

    // Nothing changed: Ann stays in her own couple, the link stays open.
    assert_eq!(store.user(&ann.id).await.unwrap(), ann);
    assert!(store.couple_members(&couple.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .invitation_by_token(&invitations[0].0)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
    assert_eq!(
        store
            .open_couple_invitations(&couple.id, T0 + 2)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn a_couple_never_gets_a_third_member(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) = couple(
        &store,
        &theo,
        &["ann@example.com", "ben@example.com", "cat@example.com"],
        T0,
    )
    .await;

    accept(&store, &invitations[0].0, T0 + 1).await.unwrap();
    accept(&store, &invitations[1].0, T0 + 2).await.unwrap();
    assert_conflict(
        accept(&store, &invitations[2].0, T0 + 3).await,
        "couple is full",
    );

    assert_eq!(store.couple_members(&couple.id).await.unwrap().len(), 2);
    assert!(
        store
            .user_by_email(&email("cat@example.com"))
            .await
            .unwrap()
            .is_none(),
        "no account was left behind"
    );
    assert_eq!(
        store
            .invitation_by_token(&invitations[2].0)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
}

async fn partner_invitations_respect_the_couple_size(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (full, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let invite = |couple_id: CoupleId, inviter: User, address: &'static str, now: Millis| {
        let store = store.clone();
        async move {
            let hash = token();
            store
                .create_partner_invitation(
                    &couple_id,
                    &inviter,
                    NewPartner {
                        email: address,
                        name: "Fresh Name",
                        token_hash: &hash,
                    },
                    now,
                    now + WEEK,
                )
                .await
                .map(|invitation| (hash, invitation))
        }
    };

    // Two open invitations fill the couple.
    assert_conflict(
        invite(full.id.clone(), theo.clone(), "cat@example.com", T0 + 1).await,
        "couple is full",
    );
    // A fresh link for an invited address replaces the older one.
    let (fresh_token, fresh) = invite(full.id.clone(), theo.clone(), "ben@example.com", T0 + 2)
        .await
        .unwrap();
    assert_eq!(fresh.couple_id.as_deref(), Some(full.id.as_str()));
    assert_eq!(fresh.practice_id, full.practice_id);
    assert_eq!(fresh.invited_by, theo.id);
    let open = store
        .open_couple_invitations(&full.id, T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&invitations[0].1.id, &fresh.id]
    );
    assert_gone(accept(&store, &invitations[1].0, T0 + 3).await);
    // A joined member plus an open invitation is also full.
    accept(&store, &invitations[0].0, T0 + 4).await.unwrap();
    assert_conflict(
        invite(full.id.clone(), theo.clone(), "cat@example.com", T0 + 5).await,
        "couple is full",
    );
    // A refused invitation did not expire the open one.
    assert!(accept(&store, &fresh_token, T0 + 6).await.is_ok());
    assert_conflict(
        invite(full.id.clone(), theo.clone(), "cat@example.com", T0 + 7).await,
        "couple is full",
    );

    // A self-guided partner invites the other; an expired link frees the seat.
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    let own = sam.couple_id.clone().unwrap();
    let (_, first) = invite(own.clone(), sam.clone(), "kim@example.com", T0)
        .await
        .unwrap();
    assert_eq!(first.practice_id, None);
    assert_eq!(first.kind, InvitationKind::Partner);
    assert_conflict(
        invite(own.clone(), sam.clone(), "lee@example.com", T0 + 1).await,
        "couple is full",
    );
    let (lee_token, _) = invite(own.clone(), sam.clone(), "lee@example.com", T0 + WEEK)
        .await
        .unwrap();
    let lee = accept(&store, &lee_token, T0 + WEEK + 1)
        .await
        .unwrap()
        .user;
    assert_eq!(lee.couple_id.as_deref(), Some(own.as_str()));

    assert_not_found(invite(CoupleId::new("no-such-couple"), sam, "x@example.com", T0).await);
}

async fn a_therapist_invitation_makes_a_therapist_in_the_practice(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let hash = token();
    let invitation = store
        .create_therapist_invitation(&admin, "theo@example.com", "Theo", &hash, T0, T0 + WEEK)
        .await
        .unwrap();
    assert_eq!(invitation.kind, InvitationKind::Therapist);
    assert_eq!(
        invitation.practice_id.as_deref(),
        Some(practice.id.as_str())
    );
    assert_eq!(invitation.couple_id, None);
    assert_eq!(invitation.invited_by, admin.id);

    let accepted = store
        .accept_invitation(&hash, "Dr Theo", "theo-hash", Some("K7QM-2XRD"), T0 + 1)
        .await
        .unwrap();
    let theo = accepted.user;
    assert_eq!(theo.role, Role::Therapist);
    assert_eq!(theo.name, "Dr Theo");
    assert_eq!(theo.email, "theo@example.com");
    assert_eq!(theo.practice_id.as_deref(), Some(practice.id.as_str()));
    assert_eq!(theo.link_code.as_deref(), Some("K7QM-2XRD"));
    assert_eq!(theo.couple_id, None);
    assert_gone(accept(&store, &hash, T0 + 2).await);

    assert_eq!(
        store.therapist_by_link_code("K7QM-2XRD").await.unwrap(),
        Some(theo.clone())
    );
    assert_eq!(
        store.therapist_by_link_code("NOPE-0000").await.unwrap(),
        None
    );

    // Only an account with a practice can invite therapists.
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    assert_not_found(
        store
            .create_therapist_invitation(&sam, "x@example.com", "X", &token(), T0, T0 + WEEK)
            .await,
    );
}

async fn a_fresh_therapist_invitation_replaces_the_open_one(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let (first, second, other) = (token(), token(), token());
    store
        .create_therapist_invitation(&admin, "theo@example.com", "Theo", &first, T0, T0 + WEEK)
        .await
        .unwrap();
    store
        .create_therapist_invitation(&admin, "uma@example.com", "Uma", &other, T0, T0 + WEEK)
        .await
        .unwrap();
    let fresh = store
        .create_therapist_invitation(
            &admin,
            "theo@example.com",
            "Theo T.",
            &second,
            T0 + 10,
            T0 + 10 + WEEK,
        )
        .await
        .unwrap();

    let open = store
        .open_therapist_invitations(&practice.id, T0 + 11)
        .await
        .unwrap();
    let mut names: Vec<&str> = open.iter().map(|i| i.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["Theo T.", "Uma"]);
    assert!(open.iter().any(|i| i.id == fresh.id));

    assert_gone(accept(&store, &first, T0 + 11).await);
    assert!(accept(&store, &second, T0 + 12).await.is_ok());
    assert!(accept(&store, &other, T0 + 13).await.is_ok());
}

async fn a_self_guided_couple_links_to_a_therapist_once(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let tess = therapist(&store, &admin, "tess@example.com", "Tess", "TESS-0001").await;

    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "sam-hash", T0 + 5)
        .await
        .unwrap();
    assert_eq!(sam.role, Role::Partner);
    assert_eq!(sam.practice_id, None);
    assert_eq!(sam.link_code, None);
    assert_eq!(store.password_hash(&sam.id).await.unwrap(), "sam-hash");
    let couple_id = sam.couple_id.clone().expect("a couple of their own");
    let couple = store.couple(&couple_id).await.unwrap();
    assert_eq!(couple.therapist_id, None);
    assert_eq!(couple.practice_id, None);
    assert_eq!(couple.created_at, T0 + 5);
    assert_eq!(
        store.couple_members(&couple_id).await.unwrap(),
        vec![sam.clone()]
    );
    assert_conflict(
        store
            .sign_up_self_guided("sam@example.com", "Sam 2", "h", T0 + 6)
            .await,
        "email",
    );

    let found = store
        .therapist_by_link_code("THEO-0001")
        .await
        .unwrap()
        .unwrap();
    store.link_therapist(&couple_id, &found).await.unwrap();
    let linked = store.couple(&couple_id).await.unwrap();
    assert_eq!(linked.therapist_id.as_deref(), Some(theo.id.as_str()));
    assert_eq!(linked.practice_id.as_deref(), Some(practice.id.as_str()));

    assert_conflict(
        store.link_therapist(&couple_id, &tess).await,
        "couple already has a therapist",
    );
    assert_eq!(store.couple(&couple_id).await.unwrap(), linked);
    assert_not_found(
        store
            .link_therapist(&CoupleId::new("no-such-couple"), &tess)
            .await,
    );

    let caseload = store.caseload(&theo.id).await.unwrap();
    assert_eq!(caseload.len(), 1);
    assert_eq!(caseload[0].couple, linked);
    assert_eq!(
        caseload[0].partners,
        vec![partner("Sam", "sam@example.com", true)]
    );
    assert!(store.caseload(&tess.id).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// What therapists and admins see
// ---------------------------------------------------------------------------

async fn the_caseload_shows_the_therapists_couples_newest_first(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let tess = therapist(&store, &admin, "tess@example.com", "Tess", "TESS-0001").await;
    assert!(store.caseload(&theo.id).await.unwrap().is_empty());

    let (older, older_invites) = couple(
        &store,
        &theo,
        &["ann@example.com", "ben@example.com"],
        T0 + 10,
    )
    .await;
    let (newer, _) = couple(
        &store,
        &theo,
        &["cat@example.com", "dan@example.com"],
        T0 + 20,
    )
    .await;
    let (others, _) = couple(
        &store,
        &tess,
        &["eve@example.com", "fay@example.com"],
        T0 + 30,
    )
    .await;

    let caseload = store.caseload(&theo.id).await.unwrap();
    assert_eq!(
        caseload.iter().map(|c| &c.couple).collect::<Vec<_>>(),
        vec![&newer, &older]
    );
    assert_eq!(
        caseload[1].partners,
        vec![
            partner("Name of ann@example.com", "ann@example.com", false),
            partner("Name of ben@example.com", "ben@example.com", false),
        ]
    );

    // Ben joins under the name he chose; Ann is still invited.
    store
        .accept_invitation(&older_invites[1].0, "Benjamin", "h", None, T0 + 40)
        .await
        .unwrap();
    // Cat's link runs out unused: she still shows, so the therapist notices.
    let after_expiry = T0 + 20 + WEEK + 1;
    let caseload = store.caseload(&theo.id).await.unwrap();
    assert_eq!(
        caseload[1].partners,
        vec![
            partner("Benjamin", "ben@example.com", true),
            partner("Name of ann@example.com", "ann@example.com", false),
        ],
        "joined partners first, not duplicated by their used invitation"
    );
    assert!(
        store
            .open_couple_invitations(&newer.id, after_expiry)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.caseload(&theo.id).await.unwrap()[0].partners,
        vec![
            partner("Name of cat@example.com", "cat@example.com", false),
            partner("Name of dan@example.com", "dan@example.com", false),
        ]
    );

    // Both joined: two members, no invitations listed.
    store
        .accept_invitation(&older_invites[0].0, "Ann", "h", None, T0 + 50)
        .await
        .unwrap();
    let caseload = store.caseload(&theo.id).await.unwrap();
    assert_eq!(
        caseload[1].partners,
        vec![
            partner("Benjamin", "ben@example.com", true),
            partner("Ann", "ann@example.com", true),
        ]
    );
    // A re-sent link shows the invitee once, under the latest name.
    let fresh = token();
    store
        .create_partner_invitation(
            &newer.id,
            &theo,
            NewPartner {
                email: "cat@example.com",
                name: "Catherine",
                token_hash: &fresh,
            },
            after_expiry,
            after_expiry + WEEK,
        )
        .await
        .unwrap();
    let partners = &store.caseload(&theo.id).await.unwrap()[0].partners;
    assert_eq!(
        partners
            .iter()
            .filter(|p| p.email == "cat@example.com")
            .count(),
        1
    );
    assert!(
        partners.contains(&partner("Catherine", "cat@example.com", false)),
        "{partners:?}"
    );

    // Tess sees only her couple.
    let theirs = store.caseload(&tess.id).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].couple, others);
    assert!(
        store
            .caseload(&UserId::new("no-such-therapist"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_practice_lists_its_therapists_with_couple_counts(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let (elsewhere, other_admin) = practice_with_admin(&store, "Oak", "oz@example.com").await;
    let zoe = therapist(&store, &admin, "zoe@example.com", "Zoe", "ZOE0-0001").await;
    let abe = therapist(&store, &admin, "abe@example.com", "Abe", "ABE0-0001").await;
    let outsider = therapist(&store, &other_admin, "out@example.com", "Out", "OUT0-0001").await;
    couple(&store, &zoe, &["a@example.com", "b@example.com"], T0).await;
    couple(&store, &zoe, &["c@example.com", "d@example.com"], T0 + 1).await;
    let sam = store
        .sign_up_self_guided("sam@example.com", "Sam", "h", T0)
        .await
        .unwrap();
    store
        .link_therapist(sam.couple_id.as_ref().unwrap(), &abe)
        .await
        .unwrap();
    couple(&store, &outsider, &["e@example.com", "f@example.com"], T0).await;

    let therapists = store.therapists(&practice.id).await.unwrap();
    let listed: Vec<(&str, i64)> = therapists
        .iter()
        .map(|t| (t.user.name.as_str(), t.couples))
        .collect();
    assert_eq!(
        listed,
        vec![("Abe", 1), ("Zoe", 2)],
        "by name, admins left out"
    );
    assert_eq!(therapists[0].user, abe);

    let theirs = store.therapists(&elsewhere.id).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].user, outsider);
    assert_eq!(theirs[0].couples, 1);
    assert!(
        store
            .therapists("no-such-practice")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn open_invitation_lists_leave_out_used_and_expired_ones(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let (elsewhere, other_admin) = practice_with_admin(&store, "Oak", "oz@example.com").await;
    let (used, expired, open) = (token(), token(), token());
    store
        .create_therapist_invitation(&admin, "used@example.com", "Used", &used, T0, T0 + WEEK)
        .await
        .unwrap();
    store
        .create_therapist_invitation(&admin, "old@example.com", "Old", &expired, T0, T0 + DAY)
        .await
        .unwrap();
    let still_open = store
        .create_therapist_invitation(&admin, "open@example.com", "Open", &open, T0, T0 + WEEK)
        .await
        .unwrap();
    store
        .create_therapist_invitation(&other_admin, "x@example.com", "X", &token(), T0, T0 + WEEK)
        .await
        .unwrap();
    let theo = accept(&store, &used, T0 + 1).await.unwrap().user;

    let now = T0 + DAY;
    assert_eq!(
        store
            .open_therapist_invitations(&practice.id, now)
            .await
            .unwrap(),
        vec![still_open]
    );
    assert_eq!(
        store
            .open_therapist_invitations(&practice.id, T0 + 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .open_therapist_invitations(&elsewhere.id, now)
            .await
            .unwrap()
            .len(),
        1
    );

    // Partner invitations are not therapist invitations, and vice versa.
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    assert_eq!(
        store
            .open_therapist_invitations(&practice.id, now)
            .await
            .unwrap()
            .len(),
        1
    );
    accept(&store, &invitations[0].0, T0 + 2).await.unwrap();
    let open_partners = store
        .open_couple_invitations(&couple.id, now)
        .await
        .unwrap();
    assert_eq!(open_partners, vec![invitations[1].1.clone()]);
    assert!(
        store
            .open_couple_invitations(&couple.id, T0 + WEEK)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .open_couple_invitations(&CoupleId::new("no-such-couple"), now)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_practice_can_be_renamed(store: Store) {
    let (practice, _) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    store
        .update_practice(&practice.id, "Willow & Oak", "Couples therapy in town.")
        .await
        .unwrap();
    let renamed = store.practice(&practice.id).await.unwrap();
    assert_eq!(renamed.name, "Willow & Oak");
    assert_eq!(renamed.description, "Couples therapy in town.");
    assert_eq!(renamed.created_at, practice.created_at);
    assert_eq!(renamed.id, practice.id);

    assert_not_found(store.update_practice("no-such-practice", "X", "").await);
    assert_not_found(store.practice("no-such-practice").await);
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

async fn concurrent_accepts_of_one_invitation_admit_one_person(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    for round in 0..5 {
        let ann = format!("ann{round}@example.com");
        let ben = format!("ben{round}@example.com");
        let (couple, invitations) = couple(&store, &theo, &[ann.as_str(), ben.as_str()], T0).await;
        let hash = &invitations[0].0;

        let (one, two) = tokio::join!(
            store.accept_invitation(hash, "First", "h1", None, T0 + 1),
            store.accept_invitation(hash, "Second", "h2", None, T0 + 1),
        );

        let (won, lost) = match (one, two) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            other => panic!("round {round}: exactly one accept must succeed, got {other:?}"),
        };
        assert!(
            matches!(lost, StoreError::Gone | StoreError::Conflict(_)),
            "round {round}: the loser is told the link is gone, got {lost:?}"
        );
        assert_eq!(
            store.couple_members(&couple.id).await.unwrap(),
            vec![won.user.clone()]
        );
        assert_eq!(
            store
                .user_by_email(&email(&ann))
                .await
                .unwrap()
                .map(|u| u.user),
            Some(won.user)
        );
    }
}

async fn concurrent_accepts_never_overfill_a_couple(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    for round in 0..5 {
        let addresses = [
            format!("ann{round}@example.com"),
            format!("ben{round}@example.com"),
            format!("cat{round}@example.com"),
        ];
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        // Three invitations made directly, one already accepted.
        let (couple, invitations) = couple(&store, &theo, &addresses, T0).await;
        accept(&store, &invitations[0].0, T0 + 1).await.unwrap();

        let (one, two) = tokio::join!(
            accept(&store, &invitations[1].0, T0 + 2),
            accept(&store, &invitations[2].0, T0 + 2),
        );

        let lost = match (one, two) {
            (Ok(_), Err(lost)) | (Err(lost), Ok(_)) => lost,
            other => panic!("round {round}: exactly one accept must succeed, got {other:?}"),
        };
        assert!(
            matches!(lost, StoreError::Conflict(Conflict::CoupleFull)),
            "round {round}: got {lost:?}"
        );
        assert_eq!(
            store.couple_members(&couple.id).await.unwrap().len(),
            2,
            "round {round}"
        );
    }
}

async fn concurrent_invitations_never_overbook_a_couple(store: Store) {
    for round in 0..5 {
        let sam = store
            .sign_up_self_guided(&format!("sam{round}@example.com"), "Sam", "h", T0)
            .await
            .unwrap();
        let couple_id = sam.couple_id.clone().unwrap();
        let (kim, lee) = (token(), token());

        let (one, two) = tokio::join!(
            invite_partner(&store, &couple_id, &sam, "kim@example.com", &kim, T0 + 1),
            invite_partner(&store, &couple_id, &sam, "lee@example.com", &lee, T0 + 1),
        );

        let lost = match (one, two) {
            (Ok(_), Err(lost)) | (Err(lost), Ok(_)) => lost,
            other => panic!("round {round}: exactly one invitation must be made, got {other:?}"),
        };
        assert!(
            matches!(lost, StoreError::Conflict(Conflict::CoupleFull)),
            "round {round}: got {lost:?}"
        );
        assert_eq!(
            store
                .open_couple_invitations(&couple_id, T0 + 2)
                .await
                .unwrap()
                .len(),
            1,
            "round {round}"
        );
    }
}

async fn concurrent_setups_with_one_token_create_one_practice(store: Store) {
    let setup = token();
    store
        .create_one_time_token(&setup, OneTimePurpose::Setup, None, T0, T0 + DAY)
        .await
        .unwrap();
    let setup_as = |address: &'static str| {
        store.create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Willow",
            admin_email: address,
            admin_name: "Ada",
            password_hash: "h",
            setup_token_hash: Some(&setup),
            now: T0 + 1,
        })
    };

    let (one, two) = tokio::join!(setup_as("one@example.com"), setup_as("two@example.com"));

    match (one, two) {
        (Ok(_), Err(StoreError::Gone)) | (Err(StoreError::Gone), Ok(_)) => {}
        other => panic!("exactly one setup must succeed, got {other:?}"),
    }
    let admins = [
        store
            .user_by_email(&email("one@example.com"))
            .await
            .unwrap(),
        store
            .user_by_email(&email("two@example.com"))
            .await
            .unwrap(),
    ];
    assert_eq!(admins.iter().flatten().count(), 1);
}

/// The default program's stages were reordered (migration 0022): a couple's
/// old unlocks open the new stages that now hold the same exercises, and
/// the answers (keyed by exercise id) are untouched.
async fn old_unlocks_follow_their_exercises_into_the_new_stages(url: String) {
    trellis_store::testing::migrate_before(&url, 22)
        .await
        .unwrap();
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        for sql in [
            "INSERT INTO couples (id, created_at) VALUES ('c1', 1)",
            "INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at) VALUES ('c1', 'acknowledging-the-pain', 't', 5)",
            "INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at) VALUES ('c1', 'root-causes', 't', 6)",
            "INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at) VALUES ('c1', 'accountability', 't', 7)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    let mut unlocked = store.unlocked_stages(&CoupleId::new("c1")).await.unwrap();
    unlocked.sort();
    assert_eq!(
        unlocked,
        [
            "acknowledging-the-pain",
            "atoning",
            "rebuilding-together",
            "understanding-how-it-happened"
        ]
    );
    store.close().await;
}

mod old_unlocks_follow_their_exercises_into_the_new_stages {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = trellis_store::Store::sqlite_url(&dir.path().join("t.db"));
        super::old_unlocks_follow_their_exercises_into_the_new_stages(url).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(server) = trellis_store::testing::postgres_server_url() else {
            return;
        };
        let url = trellis_store::testing::create_postgres_database(&server)
            .await
            .unwrap();
        super::old_unlocks_follow_their_exercises_into_the_new_stages(url).await;
    }
}

/// Ann, alone so far in her couple with Theo (the set-up of tests about one
/// person's writing).
async fn ann_joined(store: &Store) -> (Couple, User) {
    let (_, admin) = practice_with_admin(store, "Willow", "ada@example.com").await;
    let theo = therapist(store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let ann = accept(store, &invitations[0].0, T0 + 1).await.unwrap().user;
    (couple, ann)
}

/// A private journal entry of `author`'s, written at `T0 + 2`.
fn private_journal<'a>(couple: &'a Couple, author: &'a User, id: &'a str) -> NewEntry<'a> {
    NewEntry {
        id,
        couple_id: &couple.id,
        author_id: &author.id,
        kind: trellis_core::EntryKind::Journal,
        ref_id: None,
        audience: trellis_core::privacy::Audience::Me,
        addressed_to: None,
        body: b"sealed words",
        now: T0 + 2,
        visible_from: T0 + 2,
    }
}

/// Writing in crisis is stored with its safety flag in one transaction: when
/// the flag cannot be stored, neither is the writing.
async fn an_entry_and_its_flag_are_stored_together_or_not_at_all(store: Store) {
    let (couple, ann) = ann_joined(&store).await;
    let entry = |id| private_journal(&couple, &ann, id);
    let flag = |user_id| WritingFlag {
        user_id,
        sealed_note: b"sealed note",
        level: FlagLevel {
            tier: "urgent",
            at_risk: "themselves",
            may_be_urgent: false,
        },
    };
    let reader = Reader {
        user_id: &ann.id,
        role: Role::Partner,
        couple_id: Some(&couple.id),
        now: T0 + 3,
    };

    store
        .insert_entry_with_flag(entry("entry-1"), Some(flag(&ann.id)))
        .await
        .unwrap();
    assert!(store.entry_for(reader, "entry-1").await.unwrap().is_some());
    let flags = store.safety_flags(&couple.id).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].user_id, ann.id);

    // the flag cannot be stored (nobody has that id): the writing is not either
    assert!(
        store
            .insert_entry_with_flag(entry("entry-2"), Some(flag("no-such-person")))
            .await
            .is_err()
    );
    assert!(store.entry_for(reader, "entry-2").await.unwrap().is_none());
    assert_eq!(store.safety_flags(&couple.id).await.unwrap().len(), 1);

    // ordinary writing goes in alone
    store
        .insert_entry_with_flag(entry("entry-3"), None)
        .await
        .unwrap();
    assert!(store.entry_for(reader, "entry-3").await.unwrap().is_some());
    assert_eq!(store.safety_flags(&couple.id).await.unwrap().len(), 1);
}

/// A guard a migration lost comes back at the next start, and a start never
/// takes away a word a newer version put in force (an older instance or
/// the CLI may start after a newer one).
async fn a_start_puts_back_a_missing_guard_and_never_narrows_a_set(store: Store) {
    let (couple, ann) = ann_joined(&store).await;
    store
        .insert_entry(private_journal(&couple, &ann, "known"))
        .await
        .unwrap();
    let raw = |sql: &'static str| {
        let store = store.clone();
        async move { trellis_store::testing::execute(&store, sql).await }
    };
    // a newer version writes 'letter', and a migration rebuilt the table
    raw("INSERT INTO maintenance (name, version, done_at) VALUES ('closed_set:entries.kind=letter', 1, 0)")
        .await
        .unwrap();
    let drop_guard = match store.backend() {
        Backend::Postgres => "ALTER TABLE entries DROP CONSTRAINT entries_kind_known",
        Backend::Sqlite => "DROP TRIGGER entries_kind_known_update",
    };
    raw(drop_guard).await.unwrap();
    assert_eq!(
        raw("UPDATE entries SET kind = 'journl' WHERE id = 'known'")
            .await
            .unwrap(),
        1,
        "without its guard the column takes anything"
    );
    raw("UPDATE entries SET kind = 'journal' WHERE id = 'known'")
        .await
        .unwrap();
    let restarted = trellis_store::testing::reopen(&store).await.unwrap();
    let guards = trellis_store::testing::closed_set_guards(&restarted)
        .await
        .unwrap();
    assert!(
        guards.iter().any(|g| g.starts_with("entries_kind_known")),
        "{guards:?}"
    );
    assert!(
        raw("UPDATE entries SET kind = 'journl' WHERE id = 'known'")
            .await
            .is_err(),
        "the guard is back"
    );
    assert_eq!(
        raw("UPDATE entries SET kind = 'letter' WHERE id = 'known'")
            .await
            .unwrap(),
        1,
        "the newer version's word is still allowed"
    );
    raw("UPDATE entries SET kind = 'journal' WHERE id = 'known'")
        .await
        .unwrap();
    restarted.close().await;
}

/// Every closed column is guarded in the database, and the guard refuses a
/// word outside core's set on insert and on update while core's own words
/// pass: a query with a misspelt kind fails instead of writing rows no
/// reader would ever match.
async fn closed_sets_refuse_unknown_words_in_the_database_itself(store: Store) {
    let guards = trellis_store::testing::closed_set_guards(&store)
        .await
        .unwrap();
    for column in trellis_store::closed_columns() {
        let stem = format!("{}_{}_known", column.table, column.column);
        assert!(
            guards.iter().any(|g| g.starts_with(&stem)),
            "{stem} is not guarded: {guards:?}"
        );
    }
    let (couple, ann) = ann_joined(&store).await;
    let entry = |id| private_journal(&couple, &ann, id);
    store.insert_entry(entry("known")).await.unwrap();
    let raw = |sql: String| {
        let store = store.clone();
        async move { trellis_store::testing::execute(&store, &sql).await }
    };
    assert!(
        raw("UPDATE entries SET kind = 'letter' WHERE id = 'known'".to_owned())
            .await
            .is_err(),
        "an unknown kind was written over a known one"
    );
    assert!(
        raw("UPDATE entries SET audience = 'everyone' WHERE id = 'known'".to_owned())
            .await
            .is_err(),
        "an unknown audience was written"
    );
    assert_eq!(
        raw("UPDATE entries SET kind = 'openness' WHERE id = 'known'".to_owned())
            .await
            .unwrap(),
        1,
        "core's own kinds pass"
    );
    let copy = |kind: &str| {
        format!(
            "INSERT INTO entries (id, couple_id, author_id, kind, ref_id, audience, body, created_at, updated_at, visible_from) \
             SELECT 'copy-{kind}', couple_id, author_id, '{kind}', ref_id, audience, body, created_at, updated_at, visible_from \
             FROM entries WHERE id = 'known'"
        )
    };
    assert!(
        raw(copy("journl")).await.is_err(),
        "a misspelt kind was inserted"
    );
    assert_eq!(raw(copy("journal")).await.unwrap(), 1);
    let everything = trellis_store::EntryFilter::default();
    let reader = Reader {
        user_id: &ann.id,
        role: Role::Partner,
        couple_id: Some(&couple.id),
        now: T0 + 3,
    };
    let listed = store.entries_for(reader, everything, 10).await.unwrap();
    assert_eq!(listed.len(), 2, "the refused writes left nothing behind");
}

/// A distress flag the coach's word statistics read as possibly urgent keeps
/// that reading, and the caseload counts it apart from plain distress and
/// from urgent flags; closing it takes it out of every count.
async fn a_flag_that_may_be_urgent_is_kept_and_counted_apart(store: Store) {
    let (couple, ann) = ann_joined(&store).await;
    let theo = couple.therapist_id.clone().unwrap();
    let level = |tier, may_be_urgent| FlagLevel {
        tier,
        at_risk: "themselves",
        may_be_urgent,
    };
    for (i, flag) in [
        level("distress", true),
        level("distress", false),
        level("urgent", false),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .record_concern(
                &ann.id,
                &couple.id,
                b"sealed note",
                (flag, trellis_store::ConcernSource::Writing),
                T0 + 2 + i as i64,
            )
            .await
            .unwrap();
    }
    let flags = store.safety_flags(&couple.id).await.unwrap();
    let read: Vec<(&str, bool)> = flags
        .iter()
        .map(|f| (f.tier.as_str(), f.may_be_urgent))
        .collect();
    assert_eq!(
        read,
        [("distress", true), ("distress", false), ("urgent", false)]
    );
    let news = &store.caseload_news(&theo, T0 + 10).await.unwrap()[couple.id.as_str()];
    assert_eq!(
        (
            news.open_flags,
            news.urgent_flags,
            news.possibly_urgent_flags
        ),
        (3, 1, 1)
    );
    store
        .record_screening_decision(NewScreeningDecision {
            couple_id: &couple.id,
            user_id: &ann.id,
            decision: "conjoint_ok",
            sealed_note: None,
            decided_by: &theo,
            flag_id: Some(&flags[0].screening_id),
            now: T0 + 20,
        })
        .await
        .unwrap();
    let news = &store.caseload_news(&theo, T0 + 30).await.unwrap()[couple.id.as_str()];
    assert_eq!(
        (
            news.open_flags,
            news.urgent_flags,
            news.possibly_urgent_flags
        ),
        (2, 1, 0)
    );
}

/// Shared writing in its undo window (or held until morning) is read by its
/// author alone: partner and therapist get nothing, by list, by id or in the
/// caseload's news, until `visible_from` has come; the author may move it.
async fn waiting_writing_is_its_authors_alone_until_its_moment(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let ann = accept(&store, &invitations[0].0, T0 + 1)
        .await
        .unwrap()
        .user;
    let ben = accept(&store, &invitations[1].0, T0 + 1)
        .await
        .unwrap()
        .user;
    store
        .insert_entry(NewEntry {
            id: "waiting",
            couple_id: &couple.id,
            author_id: &ann.id,
            kind: trellis_core::EntryKind::Journal,
            ref_id: None,
            audience: trellis_core::privacy::Audience::PartnerAndTherapist,
            addressed_to: None,
            body: b"sealed words",
            now: T0 + 2,
            visible_from: T0 + 100,
        })
        .await
        .unwrap();
    fn as_of(user: &trellis_store::User, now: i64) -> Reader<'_> {
        Reader {
            user_id: &user.id,
            role: user.role,
            couple_id: user.couple_id.as_ref(),
            now,
        }
    }
    let theo_reads = |now| Reader {
        user_id: &theo.id,
        role: Role::Therapist,
        couple_id: None,
        now,
    };
    let everything = trellis_store::EntryFilter::default();
    for now in [T0 + 3, T0 + 99] {
        assert!(
            store
                .entry_for(as_of(&ann, now), "waiting")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .entry_for(as_of(&ben, now), "waiting")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .entry_for(theo_reads(now), "waiting")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .entries_for(as_of(&ben, now), everything.clone(), 50)
                .await
                .unwrap()
                .is_empty()
        );
        let news = store.caseload_news(&theo.id, now).await.unwrap();
        assert_eq!(
            news[couple.id.as_str()].new_shared,
            0,
            "not news before it is readable"
        );
    }
    for now in [T0 + 100, T0 + 500] {
        assert!(
            store
                .entry_for(as_of(&ben, now), "waiting")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .entry_for(theo_reads(now), "waiting")
                .await
                .unwrap()
                .is_some()
        );
    }
    // one couple's news is the caseload's row for it; before a first
    // session, "since the session" counts everything shared, even once seen
    store
        .record_couple_view(&theo.id, &couple.id, T0 + 600)
        .await
        .unwrap();
    let one = store
        .couple_news(&theo.id, &couple.id, T0 + 700)
        .await
        .unwrap();
    let all = store.caseload_news(&theo.id, T0 + 700).await.unwrap();
    assert_eq!(one, all[couple.id.as_str()]);
    assert_eq!((one.new_shared, one.shared_since_session), (0, 1));
    assert_eq!((one.last_session, one.since_session()), (None, None));
    // only the author moves the moment
    assert!(matches!(
        store.set_visible_from("waiting", &ben.id, T0 + 1).await,
        Err(trellis_store::StoreError::NotFound)
    ));
    store
        .set_visible_from("waiting", &ann.id, T0 + 1_000)
        .await
        .unwrap();
    assert!(
        store
            .entry_for(as_of(&ben, T0 + 500), "waiting")
            .await
            .unwrap()
            .is_none()
    );
}

/// Loading many rows at once (`trellis loadgen`): more rows than one
/// statement may bind, NULLs and bytes kept as given, and a failing row
/// leaves nothing of its batch behind.
async fn bulk_rows_arrive_whole_with_nulls_and_bytes_or_not_at_all(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let ann = accept(&store, &invitations[0].0, T0 + 1)
        .await
        .unwrap()
        .user;
    const COLUMNS: [&str; 9] = [
        "id",
        "user_id",
        "couple_id",
        "instrument_id",
        "score",
        "score_sealed",
        "answers",
        "note",
        "created_at",
    ];
    let row = |i: i64| -> Vec<Cell> {
        vec![
            format!("m-{i:05}").into(),
            ann.id.as_str().into(),
            couple.id.as_str().into(),
            "trust-pulse".into(),
            0.into(),
            Some(vec![1u8, 2, 3]).into(),
            vec![0u8, 255, 7].into(),
            if i % 2 == 0 {
                Cell::NullBytes
            } else {
                Some(b"n".to_vec()).into()
            },
            (T0 + i).into(),
        ]
    };
    // more rows than one PostgreSQL statement binds (1,000 a statement here)
    let rows: Vec<Vec<Cell>> = (0..4_000).map(row).collect();
    store.insert_rows("measures", &COLUMNS, rows).await.unwrap();
    let stored = store.measures_of(&ann.id).await.unwrap();
    assert_eq!(stored.len(), 4_000);
    assert_eq!(stored[0].answers, vec![0u8, 255, 7]);
    assert_eq!(stored[0].score_sealed.as_deref(), Some(&[1u8, 2, 3][..]));
    assert_eq!(stored[0].note, None);
    assert_eq!(stored[1].note.as_deref(), Some(&b"n"[..]));
    assert_eq!(stored[3_999].created_at, T0 + 3_999);

    // a duplicate id late in the batch undoes the rows before it too
    let mut again: Vec<Vec<Cell>> = (4_000..8_000).map(row).collect();
    again[3_500][0] = "m-00001".into();
    assert!(
        store
            .insert_rows("measures", &COLUMNS, again)
            .await
            .is_err()
    );
    assert_eq!(store.measures_of(&ann.id).await.unwrap().len(), 4_000);
    // a row of the wrong width is refused before anything is written
    let short = vec![vec![Cell::from("m-x")]];
    assert!(
        store
            .insert_rows("measures", &COLUMNS, short)
            .await
            .is_err()
    );
}

/// A caseload read covers exactly the therapist's couples, and agrees with
/// reading each couple on its own.
async fn scoped_reads_cover_a_caseload_and_nothing_else(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let uma = therapist(&store, &admin, "uma@example.com", "Uma", "UMAA-0001").await;
    let mut people = Vec::new();
    let mut couples = Vec::new();
    for (who, emails) in [
        (&theo, ["a1@example.com", "a2@example.com"]),
        (&theo, ["b1@example.com", "b2@example.com"]),
        (&uma, ["c1@example.com", "c2@example.com"]),
    ] {
        let (couple, invitations) = couple(&store, who, &emails, T0).await;
        for (token, _) in &invitations {
            let user = accept(&store, token, T0 + 1).await.unwrap().user;
            store
                .insert_measure(NewMeasure {
                    id: &trellis_store::new_id(),
                    user_id: &user.id,
                    couple_id: &couple.id,
                    instrument_id: "csi4",
                    score_sealed: b"sealed",
                    answers: b"answers",
                    note: None,
                    now: T0 + 2,
                })
                .await
                .unwrap();
            store
                .record_screening_decision(NewScreeningDecision {
                    couple_id: &couple.id,
                    user_id: &user.id,
                    decision: "conjoint_ok",
                    sealed_note: None,
                    decided_by: &who.id,
                    flag_id: None,
                    now: T0 + 3,
                })
                .await
                .unwrap();
            let promise = trellis_store::new_id();
            store
                .insert_promise(&promise, &couple.id, &user.id, b"p", "{}", 10, None, T0)
                .await
                .unwrap();
            store.mark_kept(&promise, 12, T0 + 4).await.unwrap();
            store.mark_kept(&promise, 2, T0 + 4).await.unwrap();
            people.push(user);
        }
        couples.push(couple);
    }
    store.set_cadence_days(&couples[1].id, 3).await.unwrap();
    store
        .pause_shared_work(&couples[1].id, &people[2].id, T0 + 5)
        .await
        .unwrap();
    let theirs: Vec<&str> = couples[..2].iter().map(|c| c.id.as_str()).collect();
    let caseload = Scope::Caseload(&theo.id);

    let members = store.members_in(caseload).await.unwrap();
    assert_eq!(members.len(), 4);
    assert!(
        members.iter().all(
            |(c, u)| theirs.contains(&c.as_str()) && u.couple_id.as_deref() == Some(c.as_str())
        )
    );
    let measures = store.measures_in(caseload).await.unwrap();
    assert_eq!(measures.len(), 4);
    assert!(
        measures
            .iter()
            .all(|m| theirs.contains(&m.couple_id.as_str()))
    );
    let one = store
        .measures_in(Scope::Couple(&couples[2].id))
        .await
        .unwrap();
    assert_eq!(one.len(), 2);
    assert_eq!(one[0].user_id, people[4].id);
    // the ends of a longer history: the first check-in and the last three
    for n in 0..5 {
        store
            .insert_measure(NewMeasure {
                id: &format!("later-{n}"),
                user_id: &people[0].id,
                couple_id: &couples[0].id,
                instrument_id: "csi4",
                score_sealed: b"sealed",
                answers: b"answers",
                note: None,
                now: T0 + 100 + n,
            })
            .await
            .unwrap();
    }
    let ends = store.measure_ends_in(caseload, 3).await.unwrap();
    let first_person: Vec<&str> = ends
        .iter()
        .filter(|m| m.user_id == people[0].id)
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(first_person.len(), 4, "{first_person:?}");
    assert_eq!(&first_person[1..], ["later-2", "later-3", "later-4"]);
    assert_eq!(ends.len(), 4 + 3);
    let promises = store.promises_in(caseload).await.unwrap();
    assert_eq!(promises.len(), 4);
    let marks = store.promise_marks_in(caseload, 10).await.unwrap();
    assert_eq!(
        marks.len(),
        4,
        "one mark from day 10 on for each of the four promises"
    );
    assert!(
        marks
            .values()
            .all(|m| m.len() == 1 && m[0].day == 12 && m[0].kept)
    );
    let decisions = store.screening_decisions_in(caseload).await.unwrap();
    assert_eq!(decisions.len(), 4);
    assert_eq!(
        store.screening_decisions(&couples[0].id).await.unwrap(),
        decisions
            .iter()
            .filter(|(c, _)| *c == couples[0].id)
            .map(|(_, d)| d.clone())
            .collect::<Vec<_>>()
    );
    let cadences = store.cadences_in(caseload).await.unwrap();
    assert_eq!(cadences.get(couples[1].id.as_str()), Some(&3));
    assert_eq!(
        cadences.get(couples[0].id.as_str()),
        None,
        "unset: the caller's default"
    );
    assert_eq!(
        store
            .cadences_in(Scope::Couple(&couples[2].id))
            .await
            .unwrap()[couples[2].id.as_str()],
        7
    );
    assert_eq!(
        store.shared_work_pauses_in(caseload).await.unwrap(),
        vec![(couples[1].id.to_string(), people[2].id.to_string())]
    );
    assert!(
        store
            .last_safety_checks_in(caseload)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.score_sharing_in(caseload).await.unwrap().is_empty());
    assert!(
        store
            .members_in(Scope::Caseload(&admin.id))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_device_belongs_to_whoever_turned_notices_on_last(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (_, invitations) = couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let ann = accept(&store, &invitations[0].0, T0 + 1)
        .await
        .unwrap()
        .user;
    let ben = accept(&store, &invitations[1].0, T0 + 1)
        .await
        .unwrap()
        .user;
    let phone = "https://push.example.com/phone";
    let laptop = "https://push.example.com/laptop";
    store
        .save_push_subscription(&ann.id, phone, "p1", "a1", T0)
        .await
        .unwrap();
    store
        .save_push_subscription(&ann.id, laptop, "p2", "a2", T0 + 1)
        .await
        .unwrap();
    let mine = store.push_subscriptions_for(&ann.id).await.unwrap();
    assert_eq!(
        mine.iter().map(|d| d.endpoint.as_str()).collect::<Vec<_>>(),
        [phone, laptop]
    );
    assert_eq!(
        (mine[0].p256dh.as_str(), mine[0].auth.as_str()),
        ("p1", "a1")
    );

    // Ben signs in on Ann's old phone and turns notices on: it is his now,
    // with the keys his browser gave
    store
        .save_push_subscription(&ben.id, phone, "p3", "a3", T0 + 2)
        .await
        .unwrap();
    let ann_devices = store.push_subscriptions_for(&ann.id).await.unwrap();
    assert_eq!(ann_devices.len(), 1);
    assert_eq!(ann_devices[0].endpoint, laptop);
    let ben_devices = store.push_subscriptions_for(&ben.id).await.unwrap();
    assert_eq!(ben_devices.len(), 1);
    assert_eq!(
        (ben_devices[0].p256dh.as_str(), ben_devices[0].auth.as_str()),
        ("p3", "a3")
    );

    // one may only turn off one's own devices
    assert!(
        !store
            .delete_push_subscription(&ann.id, phone)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_push_subscription(&ben.id, phone)
            .await
            .unwrap()
    );
    assert!(
        store
            .push_subscriptions_for(&ben.id)
            .await
            .unwrap()
            .is_empty()
    );

    // a push service's "gone" forgets the address, whoever had it
    store.forget_push_endpoint(laptop).await.unwrap();
    assert!(
        store
            .push_subscriptions_for(&ann.id)
            .await
            .unwrap()
            .is_empty()
    );

    // all at once, and with the account
    store
        .save_push_subscription(&ann.id, phone, "p1", "a1", T0 + 3)
        .await
        .unwrap();
    store
        .save_push_subscription(&ann.id, laptop, "p2", "a2", T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        store.delete_push_subscriptions_of(&ann.id).await.unwrap(),
        2
    );
    store
        .save_push_subscription(&ben.id, phone, "p3", "a3", T0 + 4)
        .await
        .unwrap();
    store.delete_account(&ben.id, T0 + 5).await.unwrap();
    assert!(
        store
            .push_subscriptions_for(&ben.id)
            .await
            .unwrap()
            .is_empty()
    );
    // settings for devices default on, and keep what was chosen
    let mut settings = store.person_settings(&ann.id).await.unwrap();
    assert!(settings.push_messages && settings.push_reminders);
    settings.push_messages = false;
    settings.push_intake = false;
    store.set_person_settings(&ann.id, &settings).await.unwrap();
    let again = store.person_settings(&ann.id).await.unwrap();
    assert_eq!(again, settings);
    assert!(again.notify_messages, "mail keeps its own choice");
}

async fn mail_waits_in_the_outbox_until_sent_and_is_claimed_once(store: Store) {
    use trellis_store::NewMail;
    let lease = 2 * MINUTE;
    let mail = |id| NewMail {
        id,
        to_name: "Ann",
        to_email: "ann@example.com",
        subject: "A session was booked",
        body: "sealed body",
    };
    store.enqueue_mail(mail("first"), T0).await.unwrap();
    store.enqueue_mail(mail("second"), T0 + 1).await.unwrap();
    assert_eq!(store.outbox_backlog().await.unwrap(), 2);

    // one claim wins; while it holds the mail nobody else gets it
    let claimed = store
        .claim_mail("first", T0 + 2, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.attempts, claimed.body.as_str()),
        (1, "sealed body")
    );
    assert_eq!(
        store.claim_mail("first", T0 + 3, lease).await.unwrap(),
        None
    );
    let due = store.claim_due_mail(T0 + 3, lease, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["second"]
    );
    // a holder that vanished: after its lease the mail is due again
    let again = store
        .claim_due_mail(T0 + 3 + lease, lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].attempts, 2);

    // not sent: it waits until the retry time, then comes back
    store
        .mail_not_sent("first", "connection refused", Some(T0 + HOUR), T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_mail("first", T0 + HOUR - 1, lease)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .claim_mail("first", T0 + HOUR, lease)
            .await
            .unwrap()
            .is_some()
    );
    // given up on: it is no longer due, its body is gone, and it is pruned later
    store
        .mail_not_sent("first", "mailbox unavailable", None, T0 + HOUR)
        .await
        .unwrap();
    assert!(
        store
            .claim_due_mail(T0 + DAY, lease, 10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != "first")
    );
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);
    assert_eq!(store.prune_failed_mail(T0 + HOUR).await.unwrap(), 0);
    assert_eq!(store.prune_failed_mail(T0 + HOUR + 1).await.unwrap(), 1);

    // sent: it leaves the outbox
    store.mail_sent("second").await.unwrap();
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
    assert!(
        store
            .claim_due_mail(T0 + DAY, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------
// Writing, talks, accountability, appointments and the throttle
// ---------------------------------------------------------------------------

/// A therapist's couple whose two partners, named as given, have both joined.
async fn joined_couple(
    store: &Store,
    therapist: &User,
    (a, a_name): (&str, &str),
    (b, b_name): (&str, &str),
) -> (Couple, User, User) {
    let (couple, invitations) = couple(store, therapist, &[a, b], T0).await;
    let mut joined = Vec::new();
    for ((hash, _), name) in invitations.iter().zip([a_name, b_name]) {
        let accepted = store
            .accept_invitation(hash, name, "partner-hash", None, T0 + 1)
            .await
            .unwrap();
        joined.push(accepted.user);
    }
    let second = joined.pop().unwrap();
    let first = joined.pop().unwrap();
    (couple, first, second)
}

/// How `user` reads writing at `now`, as the web layer builds it.
fn reader(user: &User, now: Millis) -> Reader<'_> {
    Reader {
        user_id: &user.id,
        role: user.role,
        couple_id: user.couple_id.as_ref(),
        now,
    }
}

/// Entry "e" as `who` reads it at `now`, if they may.
async fn read_e(store: &Store, who: &User, now: Millis) -> Option<trellis_store::SealedEntry> {
    store.entry_for(reader(who, now), "e").await.unwrap()
}

#[allow(clippy::too_many_arguments)]
async fn write(
    store: &Store,
    id: &str,
    couple_id: &str,
    author: &User,
    audience: Audience,
    addressed_to: Option<&str>,
    body: &[u8],
    now: Millis,
) {
    store
        .insert_entry(NewEntry {
            id,
            couple_id,
            author_id: &author.id,
            kind: if addressed_to.is_some() {
                trellis_core::EntryKind::Message
            } else {
                trellis_core::EntryKind::Journal
            },
            ref_id: None,
            audience,
            addressed_to,
            body,
            now,
            visible_from: now,
        })
        .await
        .unwrap();
}

async fn listed(store: &Store, reader: Reader<'_>, filter: EntryFilter<'_>) -> Vec<String> {
    store
        .entries_for(reader, filter, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// The audience rule, from the database side: for each reader, the list and
/// the by-id read both hold exactly the writing the audience names, and no
/// one outside the couple (another couple, another therapist, an admin)
/// reads any of it.
async fn writing_reaches_exactly_the_readers_its_audience_names(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let uma = therapist(&store, &admin, "uma@example.com", "Uma", "UMAA-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let (theirs, cat, dan) = joined_couple(
        &store,
        &uma,
        ("cat@example.com", "Cat"),
        ("dan@example.com", "Dan"),
    )
    .await;
    use Audience::{Me, Partner, PartnerAndTherapist as Both, Therapist};
    // the therapist's private thread with each partner is addressed to that
    // partner and kept from the other (as messages.rs writes it)
    let writings = [
        ("me", &ours, &ann, Me, None),
        ("partner", &ours, &ann, Partner, None),
        ("therapist", &ours, &ann, Therapist, None),
        ("both", &ours, &ann, Both, None),
        ("to-ann", &ours, &theo, Therapist, Some(&ann)),
        ("to-ben", &ours, &theo, Therapist, Some(&ben)),
        ("cat-both", &theirs, &cat, Both, None),
        ("cat-therapist", &theirs, &cat, Therapist, None),
    ];
    for (at, (id, couple, author, audience, to)) in (T0 + 10..).zip(writings) {
        let to = to.map(|u: &User| u.id.as_str());
        write(
            &store,
            id,
            &couple.id,
            author,
            audience,
            to,
            id.as_bytes(),
            at,
        )
        .await;
    }
    let all = writings.map(|w| w.0);

    let now = T0 + 20;
    // newest first, as each reader lists them
    for (who, expected) in [
        (&ann, &["to-ann", "both", "therapist", "partner", "me"][..]),
        (&ben, &["to-ben", "both", "partner"][..]),
        (&theo, &["to-ben", "to-ann", "both", "therapist"][..]),
        (&uma, &["cat-therapist", "cat-both"][..]),
        (&cat, &["cat-therapist", "cat-both"][..]),
        (&dan, &["cat-both"][..]),
        (&admin, &[][..]),
    ] {
        let everything = EntryFilter::default();
        assert_eq!(
            listed(&store, reader(who, now), everything).await,
            expected,
            "{} lists",
            who.name
        );
        for id in all {
            let read = store.entry_for(reader(who, now), id).await.unwrap();
            assert_eq!(
                read.is_some(),
                expected.contains(&id),
                "{} reading {id}",
                who.name
            );
        }
    }
    // a filter narrows what may be read, it never widens it
    let elsewhere = EntryFilter {
        couple_id: Some(&theirs.id),
        ..EntryFilter::default()
    };
    assert!(
        listed(&store, reader(&theo, now), elsewhere)
            .await
            .is_empty()
    );
    let by_cat = EntryFilter {
        author_id: Some(&cat.id),
        ..EntryFilter::default()
    };
    assert!(listed(&store, reader(&ann, now), by_cat).await.is_empty());
    // what the reader gets says who wrote it and to whom
    let message = store
        .entry_for(reader(&ann, now), "to-ann")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            message.author_name.as_str(),
            message.addressed_to.as_deref()
        ),
        ("Theo", Some(ann.id.as_str()))
    );
    assert_eq!(
        message.couple_therapist_id.as_deref(),
        Some(theo.id.as_str())
    );
    assert_eq!(
        (message.audience, &message.body[..]),
        (Therapist, &b"to-ann"[..])
    );
}

/// Only the author moves writing to another audience; each move is recorded,
/// the new audience's readers follow at once (or from the moment given), and
/// a "move" to where it already is records nothing.
async fn only_the_author_moves_writing_and_each_move_is_kept(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    write(
        &store,
        "e",
        &ours.id,
        &ann,
        Audience::Me,
        None,
        b"mine",
        T0 + 10,
    )
    .await;
    // Ben cannot share what Ann wrote
    assert_not_found(
        store
            .change_audience("e", &ben.id, Audience::Partner, b"x", T0 + 11, None)
            .await,
    );
    assert!(read_e(&store, &ben, T0 + 11).await.is_none());
    assert!(store.audience_changes("e").await.unwrap().is_empty());

    let from = store
        .change_audience("e", &ann.id, Audience::Partner, b"for ben", T0 + 12, None)
        .await
        .unwrap();
    assert_eq!(from, Audience::Me);
    let seen = read_e(&store, &ben, T0 + 12)
        .await
        .expect("shared with Ben");
    assert_eq!(seen.audience, Audience::Partner);
    assert_eq!(seen.body, b"for ben", "sealed again for its new readers");
    assert_eq!((seen.created_at, seen.updated_at), (T0 + 10, T0 + 12));
    assert!(read_e(&store, &theo, T0 + 12).await.is_none());

    // already there: nothing to record
    let from = store
        .change_audience("e", &ann.id, Audience::Partner, b"for ben", T0 + 13, None)
        .await
        .unwrap();
    assert_eq!(from, Audience::Partner);
    assert_eq!(store.audience_changes("e").await.unwrap().len(), 1);

    // to the therapist instead, readable by them only after an undo window;
    // Ben loses it at once
    store
        .change_audience(
            "e",
            &ann.id,
            Audience::Therapist,
            b"for theo",
            T0 + 20,
            Some(T0 + 100),
        )
        .await
        .unwrap();
    assert!(read_e(&store, &ben, T0 + 20).await.is_none());
    assert!(read_e(&store, &theo, T0 + 99).await.is_none());
    assert_eq!(
        read_e(&store, &theo, T0 + 100).await.unwrap().body,
        b"for theo"
    );
    assert_eq!(
        read_e(&store, &ann, T0 + 20).await.unwrap().body,
        b"for theo"
    );
    let change = |from, to, changed_at| AudienceChange {
        changed_by: ann.id.to_string(),
        from,
        to,
        changed_at,
    };
    assert_eq!(
        store.audience_changes("e").await.unwrap(),
        [
            change(Audience::Me, Audience::Partner, T0 + 12),
            change(Audience::Partner, Audience::Therapist, T0 + 20),
        ]
    );
}

/// The store numbers nothing itself: the caller proposes each turn's number
/// and the store admits one turn per number and talk, so two racing turns
/// collide instead of forking the talk. The first move that ends a talk
/// dates its end.
async fn a_talks_turns_take_each_number_once_and_its_first_end_holds(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let talk = store
        .create_talk("talk", &ours.id, &ann.id, &ben.id, b"topic", true, T0 + 10)
        .await
        .unwrap();
    assert_eq!(talk.couple_therapist_id.as_deref(), Some(theo.id.as_str()));
    assert_eq!(
        (talk.opened_by.as_str(), talk.other_partner.as_str()),
        (ann.id.as_str(), ben.id.as_str())
    );
    assert!(talk.therapist_can_read);
    assert_eq!((talk.created_at, talk.ended_at), (T0 + 10, None));
    fn turn<'a>(talk_id: &'a str, seq: i64, author: &'a User, ends: bool) -> NewTurn<'a> {
        NewTurn {
            talk_id,
            seq,
            author_id: &author.id,
            kind: if ends { "leave" } else { "speak" },
            body: b"sealed turn",
            now: T0 + 10 + seq,
            ends,
        }
    }

    store
        .insert_turn(turn("talk", 1, &ann, false))
        .await
        .unwrap();
    store
        .insert_turn(turn("talk", 2, &ben, false))
        .await
        .unwrap();
    // a second turn 2 (a stale page) is refused; the first stays
    assert_conflict(
        store.insert_turn(turn("talk", 2, &ann, false)).await,
        "turn",
    );
    // both partners move at once: one turn 3, the other told to replay
    let (one, two) = tokio::join!(
        store.insert_turn(turn("talk", 3, &ann, false)),
        store.insert_turn(turn("talk", 3, &ben, false)),
    );
    let winner = match (one, two) {
        (Ok(()), Err(StoreError::Conflict(Conflict::Turn))) => &ann,
        (Err(StoreError::Conflict(Conflict::Turn)), Ok(())) => &ben,
        other => panic!("exactly one turn 3 must be taken, got {other:?}"),
    };
    let turns = store.turns_after("talk", 0).await.unwrap();
    assert_eq!(
        turns
            .iter()
            .map(|t| (t.seq, t.author_id.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, ann.id.as_str()),
            (2, ben.id.as_str()),
            (3, winner.id.as_str())
        ]
    );
    assert_eq!(
        (turns[1].author_name.as_str(), turns[1].created_at),
        ("Ben", T0 + 12)
    );
    let after_two = store.turns_after("talk", 2).await.unwrap();
    assert_eq!(after_two.iter().map(|t| t.seq).collect::<Vec<_>>(), [3]);
    assert!(store.turns_after("talk", 3).await.unwrap().is_empty());

    // numbers are per talk: another talk starts again at 1
    store
        .create_talk("later", &ours.id, &ben.id, &ann.id, b"t", false, T0 + 20)
        .await
        .unwrap();
    store
        .insert_turn(turn("later", 1, &ben, false))
        .await
        .unwrap();
    let talks = store.talks_of_couple(&ours.id).await.unwrap();
    assert_eq!(
        talks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["later", "talk"],
        "newest first"
    );
    assert!(!talks[0].therapist_can_read);

    // leaving ends the talk at that turn's time
    store
        .insert_turn(turn("talk", 4, &ben, true))
        .await
        .unwrap();
    assert_eq!(store.talk("talk").await.unwrap().ended_at, Some(T0 + 14));
    // nothing is added to an ended talk, and its end stays where it was
    assert!(matches!(
        store.insert_turn(turn("talk", 5, &ann, true)).await,
        Err(StoreError::Gone)
    ));
    assert_eq!(store.talk("talk").await.unwrap().ended_at, Some(T0 + 14));
    assert_eq!(store.turns_after("talk", 4).await.unwrap().len(), 0);
    assert_eq!(store.talk("later").await.unwrap().ended_at, None);
    assert_not_found(store.talk("no-such-talk").await);
}

/// A time-out is due from its return time, and its invitation back is
/// claimed once, so only one instance sends it.
async fn a_timeout_invites_the_couple_back_once_its_time_has_come(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let (theirs, cat, _) = joined_couple(
        &store,
        &theo,
        ("cat@example.com", "Cat"),
        ("dan@example.com", "Dan"),
    )
    .await;
    store
        .create_talk("talk", &ours.id, &ann.id, &ben.id, b"topic", true, T0 + 5)
        .await
        .unwrap();
    let first_back = T0 + 10 + 20 * MINUTE;
    let first = store
        .create_timeout(
            "first",
            &ours.id,
            &ann.id,
            Some("talk"),
            T0 + 10,
            first_back,
        )
        .await
        .unwrap();
    assert_eq!(
        (first.caller_id.as_str(), first.caller_name.as_str()),
        (ann.id.as_str(), "Ann")
    );
    assert_eq!(first.talk_id.as_deref(), Some("talk"));
    assert_eq!((first.started_at, first.return_at), (T0 + 10, first_back));
    let second_back = T0 + 20 + HOUR;
    store
        .create_timeout("second", &ours.id, &ben.id, None, T0 + 20, second_back)
        .await
        .unwrap();
    store
        .create_timeout("theirs", &theirs.id, &cat.id, None, T0 + 30, T0 + 30 + HOUR)
        .await
        .unwrap();

    let ids = |rows: Vec<trellis_store::TimeoutRow>| -> Vec<String> {
        rows.into_iter().map(|t| t.id).collect()
    };
    // a couple's time-outs, newest first, from a moment on
    assert_eq!(
        ids(store.timeouts_of_couple(&ours.id, T0).await.unwrap()),
        ["second", "first"]
    );
    assert_eq!(
        ids(store.timeouts_of_couple(&ours.id, T0 + 11).await.unwrap()),
        ["second"]
    );
    // due from the return time on, soonest first
    assert!(store.timeouts_due(first_back - 1).await.unwrap().is_empty());
    assert_eq!(
        ids(store.timeouts_due(first_back).await.unwrap()),
        ["first"]
    );
    let later = T0 + DAY;
    assert_eq!(
        ids(store.timeouts_due(later).await.unwrap()),
        ["first", "second", "theirs"]
    );

    // two instances race to invite them back: one wins, and it is not due again
    let (one, two) = tokio::join!(
        store.claim_timeout_return("first", later),
        store.claim_timeout_return("first", later),
    );
    assert!(one.unwrap() ^ two.unwrap(), "exactly one claim wins");
    assert!(
        !store
            .claim_timeout_return("first", later + 1)
            .await
            .unwrap()
    );
    assert_eq!(
        ids(store.timeouts_due(later).await.unwrap()),
        ["second", "theirs"]
    );
    assert!(
        !store
            .claim_timeout_return("no-such-timeout", later)
            .await
            .unwrap()
    );
}

/// A promise's marks are one per day: kept, noticed (with thanks) and context
/// merge into that day's mark, and marking again changes nothing else. A
/// pause covers the days until it is lifted, and a new version of a promise
/// ends the one it replaces (in its own couple only).
async fn a_days_marks_merge_into_one_and_a_new_version_ends_the_old(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, _) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let (theirs, cat, _) = joined_couple(
        &store,
        &theo,
        ("cat@example.com", "Cat"),
        ("dan@example.com", "Dan"),
    )
    .await;
    store
        .insert_promise("walk", &ours.id, &ann.id, b"walk", "{}", 10, None, T0)
        .await
        .unwrap();
    let walk = store.promise("walk").await.unwrap();
    assert_eq!((walk.status.as_str(), walk.start_day), ("active", 10));
    assert_eq!(
        (walk.owner_id.as_str(), walk.supersedes),
        (ann.id.as_str(), None)
    );
    assert!(!walk.ritual && !walk.proposal_pending);

    // a double tap: one mark
    store.mark_kept("walk", 12, T0 + 1).await.unwrap();
    store.mark_kept("walk", 12, T0 + 2).await.unwrap();
    // Ben notices the same day and thanks her: the same mark
    store
        .mark_noticed("walk", 12, Some(b"thank you"), T0 + 3)
        .await
        .unwrap();
    // a word on a missed day: neither kept nor noticed
    store
        .mark_context("walk", 11, b"was ill", "partner")
        .await
        .unwrap();
    // kept again: the noticing and the thanks stay
    store.mark_kept("walk", 12, T0 + 4).await.unwrap();
    let marks = store.promise_marks("walk").await.unwrap();
    assert_eq!(
        marks,
        [
            MarkRow {
                day: 11,
                kept: false,
                noticed: false,
                thanks: None,
                context: Some(b"was ill".to_vec()),
                context_audience: Some("partner".to_owned()),
            },
            MarkRow {
                day: 12,
                kept: true,
                noticed: true,
                thanks: Some(b"thank you".to_vec()),
                context: None,
                context_audience: None,
            },
        ]
    );

    // paused from day 14: open until lifted, then up to the day before
    store
        .set_promise_status("walk", "paused", 14, T0 + 5)
        .await
        .unwrap();
    assert_eq!(store.promise("walk").await.unwrap().status, "paused");
    assert_eq!(store.promise_pauses("walk", 20).await.unwrap(), [(14, 20)]);
    store
        .set_promise_status("walk", "active", 17, T0 + 6)
        .await
        .unwrap();
    assert_eq!(store.promise("walk").await.unwrap().status, "active");
    assert_eq!(store.promise_pauses("walk", 20).await.unwrap(), [(14, 16)]);

    // a new version ends the old one, together
    store
        .insert_promise(
            "walk-2",
            &ours.id,
            &ann.id,
            b"walk longer",
            "{}",
            18,
            Some("walk"),
            T0 + 7,
        )
        .await
        .unwrap();
    assert_eq!(store.promise("walk").await.unwrap().status, "ended");
    let walk_2 = store.promise("walk-2").await.unwrap();
    assert_eq!(
        (walk_2.status.as_str(), walk_2.supersedes.as_deref()),
        ("active", Some("walk"))
    );
    assert_eq!(
        store
            .promises_of_couple(&ours.id)
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["walk", "walk-2"]
    );
    // another couple's promise is not ended by naming it
    store
        .insert_promise("cats", &theirs.id, &cat.id, b"call", "{}", 1, None, T0)
        .await
        .unwrap();
    store
        .insert_promise(
            "walk-3",
            &ours.id,
            &ann.id,
            b"w",
            "{}",
            19,
            Some("cats"),
            T0 + 8,
        )
        .await
        .unwrap();
    assert_eq!(store.promise("cats").await.unwrap().status, "active");
    assert_not_found(store.promise("no-such-promise").await);
}

/// An agreement is in force once accepted, and accepted once; a new version
/// retires the old one only when it is accepted in turn. Only the couple's
/// other partner may accept it.
async fn an_agreement_holds_once_accepted_and_retires_the_version_it_replaces(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    store
        .insert_agreement("v1", &ours.id, b"title", b"body", &ann.id, None, T0 + 1)
        .await
        .unwrap();
    let proposed = store.agreement("v1").await.unwrap();
    assert_eq!(proposed.status, "proposed");
    assert_eq!((proposed.agreed_at, proposed.agreed_by), (None, None));
    assert_eq!(proposed.proposed_by, ann.id);

    // not the one who proposed it, nor anyone outside the couple
    assert!(matches!(
        store.accept_agreement("v1", &ann.id, T0 + 2).await,
        Err(StoreError::Conflict(Conflict::Proposer))
    ));
    assert_not_found(store.accept_agreement("v1", &theo.id, T0 + 2).await);
    assert_not_found(store.accept_agreement("v1", &admin.id, T0 + 2).await);
    assert_eq!(store.agreement("v1").await.unwrap().status, "proposed");
    store.accept_agreement("v1", &ben.id, T0 + 2).await.unwrap();
    let agreed = store.agreement("v1").await.unwrap();
    assert_eq!(agreed.status, "agreed");
    assert_eq!(
        (agreed.agreed_at, agreed.agreed_by.as_deref()),
        (Some(T0 + 2), Some(ben.id.as_str()))
    );
    // a second accept (a stale page) is told it is gone, and changes nothing
    assert_gone(store.accept_agreement("v1", &ben.id, T0 + 3).await);
    assert_eq!(store.agreement("v1").await.unwrap(), agreed);

    // the old version stays in force until the new one is accepted
    store
        .insert_agreement(
            "v2",
            &ours.id,
            b"title",
            b"new body",
            &ben.id,
            Some("v1"),
            T0 + 4,
        )
        .await
        .unwrap();
    assert_eq!(store.agreement("v1").await.unwrap().status, "agreed");
    store.accept_agreement("v2", &ann.id, T0 + 5).await.unwrap();
    assert_eq!(store.agreement("v1").await.unwrap().status, "superseded");
    assert_eq!(store.agreement("v2").await.unwrap().status, "agreed");
    // superseded is not a proposal either
    assert_gone(store.accept_agreement("v1", &ben.id, T0 + 6).await);
    assert_eq!(
        store
            .agreements_of_couple(&ours.id)
            .await
            .unwrap()
            .iter()
            .map(|a| (a.id.as_str(), a.status.as_str()))
            .collect::<Vec<_>>(),
        [("v1", "superseded"), ("v2", "agreed")]
    );
    assert_not_found(
        store
            .accept_agreement("no-such-agreement", &ann.id, T0)
            .await,
    );
    assert_not_found(store.agreement("no-such-agreement").await);
}

/// A therapist's proposed promise is taken on by its owner alone, once, and
/// starts on the day it is taken on.
async fn a_proposed_promise_is_taken_on_once_by_its_owner(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    store
        .insert_promise("call", &ours.id, &ben.id, b"call", "{}", 5, None, T0)
        .await
        .unwrap();
    store
        .set_promise_kind("call", false, Some(&theo.id))
        .await
        .unwrap();
    let proposal = store.promise("call").await.unwrap();
    assert!(proposal.proposal_pending);
    assert_eq!(proposal.proposed_by.as_deref(), Some(theo.id.as_str()));

    assert_gone(store.accept_proposal("call", &ann.id, 9, T0 + 1).await);
    assert!(store.promise("call").await.unwrap().proposal_pending);
    store
        .accept_proposal("call", &ben.id, 9, T0 + 2)
        .await
        .unwrap();
    let taken = store.promise("call").await.unwrap();
    assert!(!taken.proposal_pending);
    assert_eq!(taken.start_day, 9);
    assert_eq!(
        taken.proposed_by.as_deref(),
        Some(theo.id.as_str()),
        "still says who suggested it"
    );
    assert_gone(store.accept_proposal("call", &ben.id, 10, T0 + 3).await);
    assert_eq!(store.promise("call").await.unwrap().start_day, 9);

    // a shared ritual is nobody's proposal
    store.set_promise_kind("call", true, None).await.unwrap();
    let ritual = store.promise("call").await.unwrap();
    assert!(ritual.ritual && !ritual.proposal_pending);
    assert_eq!(ritual.proposed_by, None);
}

fn session_at<'a>(
    couple: &'a Couple,
    therapist: &'a User,
    starts_at: Millis,
) -> NewAppointment<'a> {
    NewAppointment {
        couple_id: &couple.id,
        therapist_id: &therapist.id,
        starts_at,
        ends_at: starts_at + HOUR,
        location_kind: "video",
        location: "https://meet.example.com/room",
        now: T0,
    }
}

async fn due_reminders(store: &Store, now: Millis, horizon: Millis) -> Vec<String> {
    store
        .unreminded_appointments(now, horizon)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.appointment.id)
        .collect()
}

/// A session's reminder is due within the horizon, claimed once, due again
/// when the session moves, and never due once the session is cancelled.
async fn a_reminder_is_due_once_and_never_for_a_cancelled_session(store: Store) {
    let (practice, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (ours, _, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let soon = store
        .create_appointment(session_at(&ours, &theo, T0 + 2 * HOUR))
        .await
        .unwrap();
    assert_eq!((soon.status.as_str(), soon.sequence), ("scheduled", 0));
    assert_eq!(
        (soon.therapist_name.as_str(), soon.reminded_at),
        ("Theo", None)
    );
    let later = store
        .create_appointment(session_at(&ours, &theo, T0 + 2 * DAY))
        .await
        .unwrap();
    let dropped = store
        .create_appointment(session_at(&ours, &theo, T0 + 3 * HOUR))
        .await
        .unwrap();
    store
        .cancel_appointment(&ours.id, &dropped.id, T0 + 1)
        .await
        .unwrap();
    let dropped = store.appointment(&ours.id, &dropped.id).await.unwrap();
    assert_eq!(
        (dropped.status.as_str(), dropped.sequence),
        ("cancelled", 1)
    );

    // within a day: the soon one only, with its practice's lead time
    let due = store.unreminded_appointments(T0 + 10, DAY).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].appointment, soon);
    assert_eq!(due[0].practice_id.as_deref(), Some(practice.id.as_str()));
    assert_eq!(due[0].reminder_hours, 24);
    store
        .update_practice_details(&practice.id, "", "UTC", 48)
        .await
        .unwrap();
    assert_eq!(
        store.unreminded_appointments(T0 + 10, DAY).await.unwrap()[0].reminder_hours,
        48
    );
    // the horizon's far end counts, a session starting now does not
    assert_eq!(
        due_reminders(&store, T0 + DAY, DAY).await,
        [later.id.as_str()]
    );
    assert!(due_reminders(&store, T0 + 2 * DAY, DAY).await.is_empty());

    // two senders race: one wins, and it is not due again
    let (one, two) = tokio::join!(
        store.claim_reminder(&soon.id, T0 + 20),
        store.claim_reminder(&soon.id, T0 + 20),
    );
    assert!(one.unwrap() ^ two.unwrap(), "exactly one claim wins");
    assert!(!store.claim_reminder(&soon.id, T0 + 21).await.unwrap());
    assert!(due_reminders(&store, T0 + 30, DAY).await.is_empty());
    assert_eq!(
        store
            .appointment(&ours.id, &soon.id)
            .await
            .unwrap()
            .reminded_at,
        Some(T0 + 20)
    );

    // moved, it needs a reminder again, and calendars see a new version
    let moved = store
        .reschedule_appointment(
            &ours.id,
            &soon.id,
            T0 + 5 * HOUR,
            T0 + 6 * HOUR,
            "in_person",
            "Room 2",
            T0 + 40,
        )
        .await
        .unwrap();
    assert_eq!((moved.reminded_at, moved.sequence), (None, 1));
    assert_eq!(
        (moved.starts_at, moved.location.as_str()),
        (T0 + 5 * HOUR, "Room 2")
    );
    assert_eq!(
        due_reminders(&store, T0 + 50, DAY).await,
        [soon.id.as_str()]
    );

    // cancelled: not due, and neither cancelled, moved nor asked to move again
    store
        .cancel_appointment(&ours.id, &soon.id, T0 + 60)
        .await
        .unwrap();
    assert!(due_reminders(&store, T0 + 70, DAY).await.is_empty());
    assert_conflict(
        store.cancel_appointment(&ours.id, &soon.id, T0 + 61).await,
        "the session was already cancelled",
    );
    assert_conflict(
        store
            .reschedule_appointment(
                &ours.id,
                &soon.id,
                T0 + DAY,
                T0 + DAY + HOUR,
                "video",
                "",
                T0 + 62,
            )
            .await,
        "the session was cancelled",
    );
    assert_conflict(
        store
            .request_reschedule(&ours.id, &soon.id, &ben.id, None, T0 + 63)
            .await,
        "the session was cancelled",
    );
    let cancelled = store.appointment(&ours.id, &soon.id).await.unwrap();
    assert_eq!(
        (cancelled.status.as_str(), cancelled.sequence),
        ("cancelled", 2)
    );
    assert_eq!(cancelled.starts_at, T0 + 5 * HOUR);
    assert!(!store.claim_reminder("no-such-session", T0).await.unwrap());
}

/// A session is reached through its own couple only, and listed for the
/// partners of that couple and the therapist who leads it.
async fn a_session_belongs_to_its_couple_and_the_people_in_it(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let uma = therapist(&store, &admin, "uma@example.com", "Uma", "UMAA-0001").await;
    let (ours, ann, ben) = joined_couple(
        &store,
        &theo,
        ("ann@example.com", "Ann"),
        ("ben@example.com", "Ben"),
    )
    .await;
    let (theirs, cat, _) = joined_couple(
        &store,
        &uma,
        ("cat@example.com", "Cat"),
        ("dan@example.com", "Dan"),
    )
    .await;
    let ours_session = store
        .create_appointment(session_at(&ours, &theo, T0 + DAY))
        .await
        .unwrap();
    let theirs_session = store
        .create_appointment(session_at(&theirs, &uma, T0 + DAY))
        .await
        .unwrap();

    for (who, expected) in [
        (&ann, &ours_session),
        (&ben, &ours_session),
        (&theo, &ours_session),
        (&cat, &theirs_session),
        (&uma, &theirs_session),
    ] {
        assert_eq!(
            store.appointments_of_person(&who.id, T0).await.unwrap(),
            std::slice::from_ref(expected),
            "{}",
            who.name
        );
    }
    assert!(
        store
            .appointments_of_person(&admin.id, T0)
            .await
            .unwrap()
            .is_empty()
    );
    // listed until it has ended
    let ends = ours_session.ends_at;
    assert_eq!(
        store
            .appointments_of_couple(&ours.id, ends - 1)
            .await
            .unwrap(),
        std::slice::from_ref(&ours_session)
    );
    assert!(
        store
            .appointments_of_couple(&ours.id, ends)
            .await
            .unwrap()
            .is_empty()
    );

    // named through another couple, it is not there to read or change
    let id = &ours_session.id;
    assert_not_found(store.appointment(&theirs.id, id).await);
    assert_not_found(store.cancel_appointment(&theirs.id, id, T0 + 1).await);
    assert_not_found(
        store
            .reschedule_appointment(&theirs.id, id, T0, T0 + HOUR, "video", "", T0 + 1)
            .await,
    );
    assert_not_found(
        store
            .request_reschedule(&theirs.id, id, &cat.id, None, T0 + 1)
            .await,
    );
    assert_eq!(store.appointment(&ours.id, id).await.unwrap(), ours_session);

    // a partner asks to move it; moving it answers the request
    store
        .request_reschedule(&ours.id, id, &ben.id, Some(b"sealed note"), T0 + 2)
        .await
        .unwrap();
    let asked = store.appointment(&ours.id, id).await.unwrap();
    assert_eq!(
        asked.reschedule_requested_by.as_deref(),
        Some(ben.id.as_str())
    );
    assert_eq!(asked.reschedule_note.as_deref(), Some(&b"sealed note"[..]));
    assert_eq!((asked.sequence, asked.updated_at), (0, T0 + 2));
    let moved = store
        .reschedule_appointment(
            &ours.id,
            id,
            T0 + 2 * DAY,
            T0 + 2 * DAY + HOUR,
            "video",
            "",
            T0 + 3,
        )
        .await
        .unwrap();
    assert_eq!(
        (moved.reschedule_requested_by, moved.reschedule_note),
        (None, None)
    );
}

const WINDOW: Millis = 15 * MINUTE;
const LOCK: Millis = 10 * MINUTE;

async fn attempt(store: &Store, key: &str, now: Millis, lock_after: i64) -> ThrottleAttempt {
    store
        .throttle_attempt(key, now, WINDOW, |n| if n >= lock_after { LOCK } else { 0 })
        .await
        .unwrap()
}

/// Attempts are counted per key within their window, and attempts older
/// than the window are not; parallel attempts are each counted, so they
/// cannot all slip under the limit together.
async fn throttled_attempts_count_within_their_window_even_in_parallel(store: Store) {
    const NEVER: i64 = i64::MAX;
    let go = |attempts| ThrottleAttempt::Go { attempts };
    assert_eq!(attempt(&store, "ann", T0, NEVER).await, go(1));
    assert_eq!(attempt(&store, "ann", T0 + 1, NEVER).await, go(2));
    assert_eq!(attempt(&store, "ann", T0 + 2, NEVER).await, go(3));
    // each key counts its own
    assert_eq!(attempt(&store, "ben", T0 + 3, NEVER).await, go(1));
    // still within the window of the first
    assert_eq!(
        attempt(&store, "ben", T0 + 3 + WINDOW - 1, NEVER).await,
        go(2)
    );
    // a full window after the last of them, none counts any more
    assert_eq!(attempt(&store, "ann", T0 + 2 + WINDOW, NEVER).await, go(1));
    assert_eq!(attempt(&store, "ann", T0 + 3 + WINDOW, NEVER).await, go(2));

    // eight at once: each is counted once
    let mut counts: Vec<i64> = attempts_at_once(&store, "parallel", 8, NEVER)
        .await
        .into_iter()
        .map(|a| match a {
            ThrottleAttempt::Go { attempts } => attempts,
            locked => panic!("nothing locks here, got {locked:?}"),
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=8).collect::<Vec<_>>());
    // eight at once against a limit of three: three go ahead
    let outcomes = attempts_at_once(&store, "limited", 8, 3).await;
    let mut gone_ahead: Vec<i64> = outcomes
        .iter()
        .filter_map(|a| match a {
            ThrottleAttempt::Go { attempts } => Some(*attempts),
            ThrottleAttempt::Locked { .. } => None,
        })
        .collect();
    gone_ahead.sort_unstable();
    assert_eq!(gone_ahead, [1, 2, 3], "{outcomes:?}");
}

/// `n` attempts on `key` at once, all at T0.
async fn attempts_at_once(
    store: &Store,
    key: &str,
    n: usize,
    lock_after: i64,
) -> Vec<ThrottleAttempt> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let store = store.clone();
            let key = key.to_owned();
            tokio::spawn(async move { attempt(&store, &key, T0, lock_after).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// Once locked, a key's attempts are refused without being counted until the
/// lock ends; a refund lifts only a lock its own attempt set, and clearing
/// the key starts it afresh.
async fn a_locked_key_counts_nothing_until_its_lock_ends(store: Store) {
    let go = |attempts| ThrottleAttempt::Go { attempts };
    assert_eq!(attempt(&store, "ann", T0, 3).await, go(1));
    assert_eq!(attempt(&store, "ann", T0 + 1, 3).await, go(2));
    // the third is still checked, and locks the key after it
    assert_eq!(attempt(&store, "ann", T0 + 2, 3).await, go(3));
    let until = T0 + 2 + LOCK;
    for now in [T0 + 3, T0 + 4, until - 1] {
        assert_eq!(
            attempt(&store, "ann", now, 3).await,
            ThrottleAttempt::Locked { until },
            "refused, not counted, and the lock not moved"
        );
    }
    // after the lock (and within the window), counting goes on from three
    assert_eq!(attempt(&store, "ann", until, 3).await, go(4));
    let relocked = until + LOCK;
    // a refund of that fourth leaves three: enough for the lock to hold
    let lock_after_three = |n: i64| if n >= 3 { LOCK } else { 0 };
    store
        .throttle_refund("ann", until + 1, lock_after_three)
        .await
        .unwrap();
    assert_eq!(
        attempt(&store, "ann", until + 2, 3).await,
        ThrottleAttempt::Locked { until: relocked }
    );

    // a refund of the attempt that set the lock lifts it
    assert_eq!(attempt(&store, "ben", T0, 2).await, go(1));
    assert_eq!(attempt(&store, "ben", T0 + 1, 2).await, go(2));
    store
        .throttle_refund("ben", T0 + 2, |n| if n >= 2 { LOCK } else { 0 })
        .await
        .unwrap();
    assert_eq!(attempt(&store, "ben", T0 + 3, 2).await, go(2));

    // cleared: a fresh start, lock and all
    store.throttle_clear("ann").await.unwrap();
    assert_eq!(attempt(&store, "ann", until + 3, 3).await, go(1));
    // clearing or refunding a key never seen is fine
    store.throttle_clear("nobody").await.unwrap();
    store
        .throttle_refund("nobody", T0, lock_after_three)
        .await
        .unwrap();
    assert_eq!(attempt(&store, "nobody", T0, 3).await, go(1));
}
