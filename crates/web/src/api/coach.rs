use axum::Json;
use serde::{Deserialize, Serialize};
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
    responses((status = 200, body = AnalysisJson),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn analyze(
    RoleUser(_partner): PartnerUser,
    ApiJson(request): ApiJson<AnalyzeRequest>,
) -> AppResult<Json<AnalysisJson>> {
    let text = request
        .text
        .ok_or_else(|| AppError::invalid("text", "Please send the message as `text`."))?;
    if text.chars().count() > MAX_CHARS {
        return Err(AppError::invalid(
            "text",
            format!("The coach reads messages of up to {MAX_CHARS} characters."),
        ));
    }
    Ok(Json(trellis_coach::analyze(&text).into()))
}

/// The coach's reading of a message, as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct AnalysisJson {
    /// The analysed text, unchanged.
    pub text: String,
    /// Distinct labels, each a finding's kind, crisis first; `["neutral"]`
    /// when nothing was found.
    pub labels: Vec<&'static str>,
    /// Findings, crisis first, then in text order.
    pub findings: Vec<FindingJson>,
    /// A gentle start-up for a harsh message.
    pub suggestion: Option<String>,
}

/// One thing the coach noticed.
#[derive(Serialize, ToSchema)]
pub struct FindingJson {
    /// `crisis`, `criticism`, `contempt`, `defensiveness`, `stonewalling`,
    /// `i_statement`, `repair` or `appreciation`.
    pub kind: &'static str,
    /// Byte offset where the words that caught the coach's eye start.
    pub start: usize,
    /// Byte offset just past them.
    pub end: usize,
    /// Those words, in canonical form.
    pub cue: String,
    /// One warm, plain sentence for the writer.
    pub explanation: String,
}

impl From<trellis_coach::Analysis> for AnalysisJson {
    fn from(analysis: trellis_coach::Analysis) -> Self {
        Self {
            text: analysis.text,
            labels: analysis.labels.into_iter().map(|l| l.as_str()).collect(),
            findings: analysis
                .findings
                .into_iter()
                .map(|f| FindingJson {
                    kind: f.kind.as_str(),
                    start: f.start,
                    end: f.end,
                    cue: f.cue,
                    explanation: f.explanation.into_owned(),
                })
                .collect(),
            suggestion: analysis.suggestion,
        }
    }
}
