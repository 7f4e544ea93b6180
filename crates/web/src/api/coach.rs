use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;

/// The longest message the coach reads, in characters.
const MAX_CHARS: usize = 20_000;

#[derive(Deserialize, ToSchema)]
pub struct AnalyzeRequest {
    pub text: Option<String>,
}

/// Hints on a message being written (partners). The text is analysed in
/// memory and never stored or logged; the answer never blocks sending.
#[utoipa::path(post, path = "/api/v1/coach/analyze", tag = "coach", security(("bearer" = [])), request_body = AnalyzeRequest,
    responses((status = 200, description = "`{\"text\",\"labels\":[…],\"findings\":[{\"kind\",\"start\",\"end\",\"cue\",\"explanation\"}],\"suggestion\"}`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn analyze(
    RoleUser(_partner): PartnerUser,
    ApiJson(request): ApiJson<AnalyzeRequest>,
) -> AppResult<Json<trellis_coach::Analysis>> {
    let text = request
        .text
        .ok_or_else(|| AppError::invalid("text", "Please send the message as `text`."))?;
    if text.chars().count() > MAX_CHARS {
        return Err(AppError::invalid(
            "text",
            format!("The coach reads messages of up to {MAX_CHARS} characters."),
        ));
    }
    Ok(Json(trellis_coach::analyze(&text)))
}
