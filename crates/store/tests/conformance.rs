//! The store's conformance suite: every behaviour below runs against a fresh
//! SQLite file and, when `TRELLIS_TEST_DATABASE_URL` names a server, a fresh
//! PostgreSQL database, so both backends are held to one contract.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use trellis_core::time::{DAY, HOUR, MINUTE};
use trellis_core::{EmailAddress, InvitationKind, Millis, Role};
use trellis_crypto::SecretToken;
use trellis_store::{
    Backend, Cell, Couple, FlagLevel, Invitation, InvitationAccepted, NewEntry, NewMeasure,
    NewPartner, NewPracticeWithAdmin, NewScreeningDecision, NewSession, OneTimePurpose,
    PartnerSummary, Practice, Reader, Scope, SessionKind, Store, StoreError, User, WritingFlag,
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
    waiting_writing_is_its_authors_alone_until_its_moment,
    bulk_rows_arrive_whole_with_nulls_and_bytes_or_not_at_all,
    scoped_reads_cover_a_caseload_and_nothing_else,
    a_device_belongs_to_whoever_turned_notices_on_last,
    mail_waits_in_the_outbox_until_sent_and_is_claimed_once,
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
    couple_id: &str,
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
        matches!(&result, Err(StoreError::Conflict(w)) if *w == what),
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
    assert_not_found(store.password_hash("no-such-id").await);

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
    assert_not_found(store.set_password("no-such-id", "x").await);
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
    assert_not_found(store.couple("no-such-couple").await);
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
    let invite = |couple_id: String, inviter: User, address: &'static str, now: Millis| {
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

    assert_not_found(invite("no-such-couple".to_owned(), sam, "x@example.com", T0).await);
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
    assert_not_found(store.link_therapist("no-such-couple", &tess).await);

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
            .caseload("no-such-therapist")
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
        .link_therapist(sam.couple_id.as_deref().unwrap(), &abe)
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
            .open_couple_invitations("no-such-couple", now)
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
            matches!(lost, StoreError::Conflict("couple is full")),
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
            matches!(lost, StoreError::Conflict("couple is full")),
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
    let mut unlocked = store.unlocked_stages("c1").await.unwrap();
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

/// Writing in crisis is stored with its safety flag in one transaction: when
/// the flag cannot be stored, neither is the writing.
async fn an_entry_and_its_flag_are_stored_together_or_not_at_all(store: Store) {
    let (_, admin) = practice_with_admin(&store, "Willow", "ada@example.com").await;
    let theo = therapist(&store, &admin, "theo@example.com", "Theo", "THEO-0001").await;
    let (couple, invitations) =
        couple(&store, &theo, &["ann@example.com", "ben@example.com"], T0).await;
    let ann = accept(&store, &invitations[0].0, T0 + 1)
        .await
        .unwrap()
        .user;
    let entry = |id| NewEntry {
        id,
        couple_id: &couple.id,
        author_id: &ann.id,
        kind: "journal",
        ref_id: None,
        audience: trellis_core::privacy::Audience::Me,
        addressed_to: None,
        body: b"sealed words",
        now: T0 + 2,
        visible_from: T0 + 2,
    };
    let flag = |user_id| WritingFlag {
        user_id,
        sealed_note: b"sealed note",
        level: FlagLevel {
            tier: "urgent",
            at_risk: "themselves",
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
            kind: "journal",
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
            couple_id: user.couple_id.as_deref(),
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
            news[&couple.id].new_shared, 0,
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
    assert_eq!(one, all[&couple.id]);
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
    assert_eq!(cadences.get(&couples[1].id), Some(&3));
    assert_eq!(
        cadences.get(&couples[0].id),
        None,
        "unset: the caller's default"
    );
    assert_eq!(
        store
            .cadences_in(Scope::Couple(&couples[2].id))
            .await
            .unwrap()[&couples[2].id],
        7
    );
    assert_eq!(
        store.shared_work_pauses_in(caseload).await.unwrap(),
        vec![(couples[1].id.clone(), people[2].id.clone())]
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
