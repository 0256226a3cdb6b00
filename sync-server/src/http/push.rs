//! Web push subscriptions: `GET /api/push/key`, `POST|DELETE /api/push/subscriptions`.
//!
//! A subscription is checked before it is stored: the endpoint must be on a push service the
//! relay trusts (the relay will post to it, so an arbitrary URL would let anyone make the server
//! send requests into the company network), and the device key must be a real P-256 point with
//! a 16-byte secret (a message encrypted for anything else could never be read).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::push::{MAX_SUBSCRIPTIONS_PER_USER, webpush};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use qiao_model::api::{PushKey, PushSubscribe, PushUnsubscribe};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/push/key", get(key))
        .route("/api/push/subscriptions", axum::routing::post(subscribe).delete(unsubscribe))
}

async fn key(State(state): State<AppState>, _who: AuthUser) -> Json<PushKey> {
    Json(PushKey { public_key: state.push.public_key() })
}

/// Base64url as browsers write it, with or without padding.
fn decode_b64(field: &str, s: &str) -> Result<Vec<u8>, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim().trim_end_matches('='))
        .map_err(|_| AppError::BadRequest(format!("keys.{field} is not base64url")))
}

async fn subscribe(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<PushSubscribe>,
) -> Result<StatusCode, AppError> {
    state.push.check_endpoint(&req.endpoint).map_err(AppError::BadRequest)?;
    let p256dh = decode_b64("p256dh", &req.keys.p256dh)?;
    let auth = decode_b64("auth", &req.keys.auth)?;
    // Encrypting a probe proves the key is a point on the curve and the secret the right size.
    webpush::encrypt(&p256dh, &auth, b"probe").map_err(|e| AppError::BadRequest(e.to_string()))?;
    state.store.save_push_subscription(who.id(), who.session_id, &req.endpoint, &p256dh, &auth).await?;
    state.store.trim_push_subscriptions(who.id(), MAX_SUBSCRIPTIONS_PER_USER).await?;
    state.push.note_subscribed();
    state.store.audit(Some(who.id()), Some(&who.ip), "push.subscribe", false, &req.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unsubscribe(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<PushUnsubscribe>,
) -> Result<StatusCode, AppError> {
    if state.store.delete_push_subscription(who.id(), &req.endpoint).await? {
        state.store.audit(Some(who.id()), Some(&who.ip), "push.unsubscribe", false, &req.endpoint).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
