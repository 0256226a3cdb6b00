//! Single sign-on routes: `GET /api/auth/oidc` (no login: whether the login page offers it),
//! `GET /api/auth/oidc/start` and `GET /api/auth/oidc/callback` (browser navigations that end in
//! a redirect), and `GET`/`PUT /api/admin/settings/oidc` (super admins).
//!
//! Both navigations end in a `303` to the app: `/` logged in, or `/?sso_error=<code>` (an
//! [`qiao_model::api::SsoError`] code the login page turns into a message; nothing secret ever
//! rides in that URL).

use crate::AppState;
use crate::actions::oidc::{self, CallbackParams};
use crate::auth::{self, SuperAdmin};
use crate::error::AppError;
use crate::oidc::{BINDING_COOKIE, Failure, PENDING_TTL};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiao_model::api::{OidcLoginOption, OidcSettings, SetOidcSettings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/oidc", get(login_option))
        .route("/api/auth/oidc/start", get(start))
        .route("/api/auth/oidc/callback", get(callback))
        .route("/api/admin/settings/oidc", get(settings).put(set_settings))
}

async fn login_option(State(state): State<AppState>) -> Result<Json<OidcLoginOption>, AppError> {
    Ok(Json(oidc::login_option(&state).await?))
}

async fn settings(State(state): State<AppState>, _admin: SuperAdmin) -> Result<Json<OidcSettings>, AppError> {
    let c = oidc::config(&state).await?;
    Ok(Json(oidc::view(&state, &c)))
}

async fn set_settings(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Json(req): Json<SetOidcSettings>,
) -> Result<Json<OidcSettings>, AppError> {
    Ok(Json(oidc::do_set_oidc_settings(&state, &admin, &req).await?))
}

/// The binding cookie: sent back only to these routes, and on the provider's top-level GET
/// redirect (`Lax`), never readable by scripts.
fn binding_cookie(state: &AppState, value: &str, max_age: u64) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    format!("{BINDING_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/api/auth/oidc; Max-Age={max_age}{secure}")
}

fn see_other(location: &str, cookies: Vec<String>) -> Response {
    let cookies = AppendHeaders(cookies.into_iter().map(|c| (header::SET_COOKIE, c)));
    (
        StatusCode::SEE_OTHER,
        cookies,
        [(header::LOCATION, location.to_string()), (header::CACHE_CONTROL, "no-store".to_string())],
    )
        .into_response()
}

fn back_to_login(state: &AppState, f: &Failure) -> Response {
    see_other(&format!("/?sso_error={}", f.code.as_str()), vec![binding_cookie(state, "", 0)])
}

async fn start(State(state): State<AppState>) -> Response {
    match oidc::start(&state).await {
        Ok(s) => see_other(&s.location, vec![binding_cookie(&state, &s.binding, PENDING_TTL.as_secs())]),
        Err(f) => {
            tracing::warn!(code = f.code.as_str(), detail = %f.detail, "single sign-on cannot start");
            back_to_login(&state, &f)
        }
    }
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    RawQuery(query): RawQuery,
) -> Response {
    let params = callback_params(query.as_deref().unwrap_or(""));
    let ip = crate::client_ip(&ext);
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let binding = auth::cookie(&headers, BINDING_COOKIE);
    match oidc::do_callback(&state, &params, binding.as_deref(), ua, &ip).await {
        Ok(done) => see_other("/", vec![auth::session_cookie(&state, &done.token), binding_cookie(&state, "", 0)]),
        Err(f) => {
            tracing::info!(code = f.code.as_str(), detail = %f.detail, "single sign-on refused");
            back_to_login(&state, &f)
        }
    }
}

/// The callback's parameters, the first of each name (a malformed query is a failed login like
/// any other, not a bare 400).
fn callback_params(query: &str) -> CallbackParams {
    let mut p = CallbackParams::default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "code" => &mut p.code,
            "state" => &mut p.state,
            "error" => &mut p.error,
            "iss" => &mut p.iss,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(v.into_owned());
        }
    }
    p
}
