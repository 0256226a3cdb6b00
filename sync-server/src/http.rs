//! The HTTP API and the static app. Each resource module exposes `router()`.

pub mod admin_users;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod directory;
pub mod files;
pub mod helpdesk;
pub mod import;
pub mod kb;
pub mod library;
pub mod modules;
pub mod oidc;
pub mod projects;
pub mod push;
pub mod sessions;
pub mod settings;
pub mod suggestions;
pub mod surveys;

use crate::AppState;
use crate::error::AppError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(channels::router())
        .merge(directory::router())
        .merge(files::router())
        .merge(projects::router())
        .merge(helpdesk::router())
        .merge(push::router())
        .merge(kb::router())
        .merge(library::router())
        .merge(sessions::router())
        .merge(modules::router())
        .merge(settings::router())
        .merge(oidc::router())
        .merge(admin_users::router())
        .merge(import::router())
        .merge(audit::router())
        .merge(suggestions::router())
        .merge(surveys::router())
        .route("/api/health", axum::routing::get(|| async { "ok" }))
}

/// Refuse state-changing requests from a foreign `Origin` (CSRF), before any handler runs.
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, AppError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The websocket upgrade is a GET: it is checked here too, because a foreign page can open one.
    let upgrade = req.headers().contains_key(header::UPGRADE);
    if (!safe || upgrade) && !crate::auth::origin_allowed(req.headers(), &state.config.allowed_origins) {
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let _ = state.store.audit(None, None, "request.foreign_origin", true, &origin).await;
        return Err(AppError::Forbidden(format!("origin {origin} is not allowed")));
    }
    Ok(next.run(req).await)
}

/// Security headers on every response. A handler that sets its own, stricter content security
/// policy or caching keeps them: downloaded files ([`files`]) carry a `sandbox` policy that the
/// app's policy must not replace.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A PDF preview is framed by the app itself (it sets SAMEORIGIN); nothing else is framed.
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            // 'unsafe-inline' for scripts is needed by the loader trunk injects into index.html;
            // object-src/base-uri/frame-ancestors close the usual injection routes regardless.
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
        );
    }
    // The shell and the service worker must be revalidated, or users stay on an old version.
    let shell =
        path == "/" || path.ends_with(".html") || path == "/sw.js" || path == "/sw-register.js" || !path.contains('.');
    if shell && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    res
}
