//! Helpdesk (报修): `GET|POST /api/helpdesk/tickets`, `GET /api/helpdesk/tickets/{id}`,
//! `GET|PUT /api/helpdesk/agents`, `GET /api/helpdesk/stats?from=&to=`. A ticket's own fields
//! are synced, not served here (see [`crate::actions::helpdesk`]).

use crate::AppState;
use crate::actions::helpdesk as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use qiao_model::schema::helpdesk::{Agent, CreateTicket, Figures, SetAgents, TicketList, TicketSummary};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/helpdesk/tickets", get(list).post(create))
        .route("/api/helpdesk/tickets/{id}", get(one))
        .route("/api/helpdesk/agents", get(agents).put(set_agents))
        .route("/api/helpdesk/stats", get(stats))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<TicketList>, AppError> {
    Ok(Json(act::list(&state, &who).await?))
}

async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<CreateTicket>,
) -> Result<Json<TicketSummary>, AppError> {
    Ok(Json(act::do_create(&state, &who, &req).await?))
}

async fn one(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<TicketSummary>, AppError> {
    Ok(Json(act::one(&state, &who, &id).await?))
}

async fn agents(State(state): State<AppState>, _who: AuthUser) -> Result<Json<Vec<Agent>>, AppError> {
    Ok(Json(act::agents(&state).await?))
}

async fn set_agents(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<SetAgents>,
) -> Result<Json<Vec<Agent>>, AppError> {
    Ok(Json(act::do_set_agents(&state, &who, &req.users).await?))
}

#[derive(Deserialize)]
struct Period {
    from: i64,
    to: i64,
}

async fn stats(
    State(state): State<AppState>,
    who: AuthUser,
    Query(p): Query<Period>,
) -> Result<Json<Figures>, AppError> {
    Ok(Json(act::figures(&state, &who, p.from, p.to).await?))
}
