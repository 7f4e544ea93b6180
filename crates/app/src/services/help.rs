//! Where help is shown: the crisis resources of the practice someone
//! belongs to (its regions, see `content/helplines.toml`), or the
//! international ones when there is no practice.

use trellis_core::helplines::FALLBACK_REGION;
use trellis_core::safety::Resource;
use trellis_store::{Practice, User};

use crate::error::AppResult;
use crate::state::AppState;

/// The regions a practice shows helplines for; the fallback without one.
pub fn region_of(practice: Option<&Practice>) -> &str {
    practice.map_or(FALLBACK_REGION, |p| p.helpline_region.as_str())
}

async fn region_for(state: &AppState, user: &User) -> AppResult<String> {
    let practice = super::practice::practice_for_user(state, user).await?;
    Ok(region_of(practice.as_ref()).to_owned())
}

/// The helplines for someone signed in: their practice's regions.
pub async fn resources_for(state: &AppState, user: &User) -> AppResult<Vec<Resource>> {
    Ok(state
        .content()
        .helplines_for(&region_for(state, user).await?))
}

/// [`resources_for`] as one plain sentence, for answers without links.
pub async fn in_words_for(state: &AppState, user: &User) -> AppResult<String> {
    Ok(state
        .content()
        .helplines_in_words_for(&region_for(state, user).await?))
}
