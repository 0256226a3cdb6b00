//! Survey answers and results: `POST /api/surveys/{id}/answers`, `GET /api/surveys/answered`,
//! `GET /api/surveys/{id}/results` and `GET /api/surveys/{id}/results.csv`.
//!
//! The surveys are the synced surveys document ([`qiao_model::schema::surveys`]); the relay reads
//! its own copy of it to decide, for each answer, whether the survey exists, is open, and is
//! addressed to the sender's department (or a parent of it) — 404, 409 and 403 otherwise — and
//! checks the answers against the questions ([`surveys::check_answers`]). A second answer is 409.
//! Storing keeps an anonymous survey's answers apart from who gave them (see
//! [`crate::store::surveys`]). Results are for the survey's author and super admins only.
//! Everything answers 403 while the suggestions module (意见箱, which surveys belong to) is off.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::DocKind;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::acl::Module;
use qiao_model::schema::surveys::{self, SubmitAnswers, Survey, SurveyResults};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/surveys/answered", get(answered))
        .route("/api/surveys/{id}/answers", post(answer))
        .route("/api/surveys/{id}/results", get(results))
        .route("/api/surveys/{id}/results.csv", get(results_csv))
}

async fn survey(state: &AppState, id: &str) -> Result<Survey, AppError> {
    if id.is_empty() || id.len() > 64 {
        return Err(AppError::NotFound("no such survey".into()));
    }
    let found = state.registry.read_doc(surveys::document_id(), &DocKind::Surveys, |d| surveys::get(d, id)).await?;
    found.filter(|s| !s.deleted).ok_or_else(|| AppError::NotFound("no such survey".into()))
}

async fn answered(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<String>>, AppError> {
    crate::actions::modules::require(&state, Module::Suggestions).await?;
    Ok(Json(state.store.surveys_answered(who.id()).await?))
}

async fn answer(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<SubmitAnswers>,
) -> Result<StatusCode, AppError> {
    crate::actions::modules::require_for(&state, Module::Suggestions, who.id(), Some(&who.ip), "survey.answer").await?;
    let s = survey(&state, &id).await?;
    let chain = state.store.dept_chain(who.user.dept.as_ref()).await?;
    if !s.addressed_to(&chain) {
        return Err(AppError::Forbidden("this survey is not addressed to your department".into()));
    }
    if !s.is_open(crate::store::now_ms()) {
        return Err(AppError::Conflict("this survey is closed".into()));
    }
    let answers = surveys::check_answers(&s, &req.answers).map_err(|e| AppError::BadRequest(e.to_string()))?;
    state.store.record_survey_answer(&s.id, who.id(), s.anonymous, &answers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The survey and its responses, for someone allowed to see its results.
async fn responses(
    state: &AppState,
    who: &AuthUser,
    id: &str,
) -> Result<(Survey, Vec<crate::store::surveys::Response>), AppError> {
    crate::actions::modules::require(state, Module::Suggestions).await?;
    let s = survey(state, id).await?;
    if !s.may_see_results(who.id(), who.user.me.role) {
        return Err(AppError::Forbidden("only the survey's author and super admins see its results".into()));
    }
    let r = state.store.survey_responses(&s.id).await?;
    Ok((s, r))
}

async fn results(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<SurveyResults>, AppError> {
    let (s, r) = responses(&state, &who, &id).await?;
    let audience = state.store.survey_audience(&s.depts).await?;
    let respondents = state.store.survey_respondents(&s.id).await?;
    let answered_targeted = respondents.iter().filter(|u| audience.contains(u)).count() as u32;
    let answers: Vec<_> = r.into_iter().map(|r| r.answers).collect();
    Ok(Json(surveys::tally(&s, &answers, audience.len() as u32, answered_targeted)))
}

async fn results_csv(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let (s, r) = responses(&state, &who, &id).await?;
    let names: Vec<String> = r.iter().map(|r| r.respondent.clone().unwrap_or_default()).collect();
    let answers: Vec<_> = r.into_iter().map(|r| r.answers).collect();
    let body = surveys::csv(&s, &answers, (!s.anonymous).then_some(names.as_slice()));
    let disposition =
        format!("attachment; filename=\"survey-{}.csv\"", s.id.replace(|c: char| !c.is_ascii_alphanumeric(), ""));
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    ))
}
