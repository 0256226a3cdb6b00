//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/me`.

use crate::AppState;
use crate::auth::{self, AuthUser, SESSION_COOKIE};
use crate::error::AppError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::api::{LoginRequest, LoginResponse, Me};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Json(req): Json<LoginRequest>,
) -> Result<Response, AppError> {
    let ip = crate::client_ip(&ext);
    let username = req.username.trim();
    if username.is_empty() || username.len() > 100 || req.password.len() > 1024 {
        return Err(AppError::BadRequest("username and password are required".into()));
    }
    let keys = [format!("u:{username}"), format!("ip:{ip}")];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    state.login_throttle.check(&keys)?;

    let user = state.store.user_by_username(username).await?;
    // Verify against a real hash even when the user does not exist, so timing does not tell.
    let ok = match &user {
        Some(u) => {
            let (pw, hash) = (req.password.clone(), u.password_hash.clone());
            tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash)).await.unwrap_or(false) && u.active
        }
        None => {
            let (pw, hash) = (req.password.clone(), state.dummy_hash.clone());
            let _ = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash)).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        state.login_throttle.failed(&keys);
        state.store.audit(None, Some(&ip), "auth.login", true, username).await?;
        return Err(AppError::BadCredentials);
    };
    state.login_throttle.succeeded(&keys);

    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let (token, expires_at) = auth::open_session(&state, &user, ua, &ip).await?;
    state.store.audit(Some(user.me.id), Some(&ip), "auth.login", false, "").await?;
    let cookie = auth::session_cookie(&state, &token);
    let body = LoginResponse { token, expires_at, user: user.me };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

async fn logout(State(state): State<AppState>, who: AuthUser) -> Result<Response, AppError> {
    state.store.revoke_session(who.session_id).await?;
    // Live sockets on this session close now, not at their next frame.
    state.connections.close_session(who.session_id);
    state.store.audit(Some(who.user.me.id), None, "auth.logout", false, "").await?;
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

async fn me(who: AuthUser) -> Json<Me> {
    Json(who.user.me)
}
