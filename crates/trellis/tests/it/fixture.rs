//! A practice made for one test, without the demo: its admin
//! (`admin@example.com`) and two therapists (`therapist@example.com`,
//! `therapist2@example.com`), signing in with [`DEMO_PASSWORD`], staff two-step sign-in not
//! required, helplines for the US and the UK. Couples are then added the way
//! a therapist adds them (see `helpers::join_couple`), so a test holds only
//! what it made, and changing the demo's story never changes a test.

use trellis_core::time::DAY;
use trellis_crypto::SecretToken;
use trellis_store::NewPracticeWithAdmin;

use crate::helpers::{DEMO_PASSWORD, TestApp};

impl TestApp {
    /// A server with a [`Practice`] in it and nothing else.
    pub async fn with_practice(backend: crate::helpers::Backend) -> Option<TestApp> {
        let app = Self::start(backend, None).await?;
        practice(&app).await;
        Some(app)
    }

    /// [`TestApp::with_practice`] with the session cache off
    /// (`session_cache_ms = 0`): every request reads its session anew.
    pub async fn without_session_cache(backend: crate::helpers::Backend) -> Option<TestApp> {
        let app = Self::start_with(backend, |config| config.session_cache_ms = 0).await?;
        practice(&app).await;
        Some(app)
    }
}

/// Makes the practice in the (empty) database behind `app`.
pub async fn practice(app: &TestApp) {
    let store = &app.store;
    let now = trellis_web::state::system_now();
    let hash = trellis_crypto::hash_password(DEMO_PASSWORD).unwrap();
    let (_, admin) = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Test Practice",
            admin_email: "admin@example.com",
            admin_name: "Ada Admin",
            password_hash: &hash,
            setup_token_hash: None,
            now: now - 30 * DAY,
        })
        .await
        .unwrap();
    let practice_id = admin.practice_id.clone().unwrap();
    store
        .set_practice_requires_two_factor(&practice_id, false)
        .await
        .unwrap();
    store
        .set_practice_helpline_region(&practice_id, "us,uk")
        .await
        .unwrap();
    for (email, name, code) in [
        ("therapist@example.com", "Dr. Priya Natarajan", "PRYA-2026"),
        ("therapist2@example.com", "Tom Becker", "TMBC-2026"),
    ] {
        let token = SecretToken::generate();
        store
            .create_therapist_invitation(
                &admin,
                email,
                name,
                token.hash().as_str(),
                now - 29 * DAY,
                now + DAY,
            )
            .await
            .unwrap();
        store
            .accept_invitation(
                token.hash().as_str(),
                name,
                &hash,
                Some(code),
                now - 28 * DAY,
            )
            .await
            .unwrap();
    }
}
