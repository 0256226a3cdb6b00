//! Authentication: argon2 password hashes, opaque session tokens, and the [`AuthUser`] extractor.
//!
//! A session token is 32 random bytes, hex-encoded, given to the client once at login (in an
//! HttpOnly `SameSite=Strict` cookie for the browser, and in the body for scripts). The database
//! keeps only its SHA-256, so a leaked database does not leak live sessions. A request presents
//! the token in the cookie or an `Authorization: Bearer` header — never in a URL, where it would
//! end up in logs and history.
//!
//! Role-gated handlers take [`SuperAdmin`] or [`DeptAdmin`] instead of [`AuthUser`]: the
//! extractor refuses anyone else with 403 and a clear message, and records the refusal in the
//! audit log (`admin.access`) before the handler could have done anything.

use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditRecord, UserRow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use qiao_model::acl::{Actor, Role};
use qiao_model::audit::Event;
use qiao_model::ids::UserId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "qiao_session";
/// Sessions last 30 days; logging out or an admin revokes them earlier.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh token and the hash that is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new session for `user`, as every way of logging in opens one (password, single sign-on):
/// the person's own state document exists, the directory catches up in the background, and
/// the session row is stored. Returns the token (given to the client once) and its expiry.
pub async fn open_session(
    state: &AppState,
    user: &UserRow,
    user_agent: Option<&str>,
    ip: &str,
) -> Result<(String, i64), AppError> {
    state.store.ensure_user_state(user.me.id).await?;
    // Accounts made from the command line (`qiao-server user add`, run beside a live relay)
    // reach the directory document here at the latest; a publish that changes nothing writes
    // nothing. In the background: the login does not wait for it.
    {
        let state = state.clone();
        tokio::spawn(async move { crate::actions::directory::publish_after_commit(&state).await });
    }
    let (token, hash) = new_token();
    let expires_at = crate::store::now_ms() + SESSION_TTL_MS;
    state.store.create_session(user.me.id, &hash, expires_at, user_agent, Some(ip)).await?;
    Ok((token, expires_at))
}

/// The `Set-Cookie` value that hands the browser its session (HttpOnly, `SameSite=Strict`).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", SESSION_TTL_MS / 1000)
}

/// The value of cookie `name` in a request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The token a request carries, from the `Authorization` header or the session cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    cookie(headers, SESSION_COOKIE)
}

/// A logged-in, active user. Extracting it fails with 401 for anyone else.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: UserRow,
    pub session_id: i64,
    /// The client's address ("" without connect info), for the audit log.
    pub ip: String,
}

impl AuthUser {
    pub fn id(&self) -> UserId {
        self.user.me.id
    }
    /// Who is acting, as the permission rules ([`qiao_model::acl`]) see them.
    pub fn actor(&self) -> Actor {
        Actor { role: self.user.me.role, dept: self.user.dept.clone() }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_headers(&parts.headers).ok_or(AppError::Unauthenticated)?;
        if token.len() != 64 {
            return Err(AppError::Unauthenticated);
        }
        let (user, session_id) =
            state.store.session_user(&token_hash(&token)).await?.ok_or(AppError::Unauthenticated)?;
        Ok(AuthUser { user, session_id, ip: crate::client_ip(&parts.extensions) })
    }
}

/// A logged-in super admin (超级管理员).
#[derive(Clone, Debug)]
pub struct SuperAdmin(pub AuthUser);

/// A logged-in department admin (部门管理员) or super admin. Which people and things a department
/// admin may touch is decided per action by [`qiao_model::acl`] (their own department).
#[derive(Clone, Debug)]
pub struct DeptAdmin(pub AuthUser);

impl std::ops::Deref for SuperAdmin {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl std::ops::Deref for DeptAdmin {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

/// Refuse `who` an endpoint that needs `needed`: one audit row, then 403.
async fn refuse_role(state: &AppState, parts: &Parts, who: &AuthUser, needed: &str) -> AppError {
    let target = format!("{} {}", parts.method, parts.uri.path());
    let rec = AuditRecord::refused(Event::AdminAccess)
        .by(who.id())
        .ip(&who.ip)
        .target(target)
        .detail(format!("needs {needed}, has {}", who.user.me.role.as_str()));
    if let Err(e) = state.store.audit_record(&rec).await {
        return e;
    }
    AppError::Forbidden(format!("only a {needed} may do this"))
}

impl FromRequestParts<AppState> for SuperAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let who = AuthUser::from_request_parts(parts, state).await?;
        if who.user.me.role != Role::SuperAdmin {
            return Err(refuse_role(state, parts, &who, "super admin (超级管理员)").await);
        }
        Ok(SuperAdmin(who))
    }
}

impl FromRequestParts<AppState> for DeptAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let who = AuthUser::from_request_parts(parts, state).await?;
        match who.user.me.role {
            Role::SuperAdmin | Role::DeptAdmin => Ok(DeptAdmin(who)),
            Role::Employee => {
                Err(refuse_role(state, parts, &who, "department admin (部门管理员) or super admin").await)
            }
        }
    }
}

/// Whether a request's `Origin` (if any) is one the relay serves. Browsers always send it on
/// websocket upgrades and cross-origin POSTs; scripts send none. Allowed: the configured origins,
/// or — when none are configured — the origin that matches the request's own `Host`.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a == origin);
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// Failed-login throttle per username and per client address: after 5 failures within 5
/// minutes, further attempts are refused until the window passes.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(300);

impl LoginThrottle {
    pub fn check(&self, keys: &[&str]) -> Result<(), AppError> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            if let Some((n, since)) = map.get(*k)
                && *n >= MAX_FAILURES
                && since.elapsed() < WINDOW
            {
                return Err(AppError::RateLimited((WINDOW - since.elapsed()).as_secs() + 1));
            }
        }
        Ok(())
    }
    pub fn failed(&self, keys: &[&str]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        for k in keys {
            let e = map.entry(k.to_string()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }
    pub fn succeeded(&self, keys: &[&str]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            map.remove(*k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn password_hash_verifies_only_the_password() {
        let h = hash_password("s3cret-密码").unwrap();
        assert!(verify_password("s3cret-密码", &h));
        assert!(!verify_password("s3cret", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn token_from_cookie_or_bearer() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; qiao_session=abc; c=d"));
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        assert_eq!(token_from_headers(&h).as_deref(), Some("xyz"));
    }

    #[test]
    fn origin_must_match_host_or_list() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(origin_allowed(&h, &[]));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(origin_allowed(&h, &[]));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(!origin_allowed(&h, &[]));
        assert!(origin_allowed(&h, &["http://evil.example".into()]));
    }

    #[test]
    fn throttle_blocks_after_five_failures() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            assert!(t.check(&["u:a"]).is_ok());
            t.failed(&["u:a"]);
        }
        assert!(matches!(t.check(&["u:a"]), Err(AppError::RateLimited(_))));
        assert!(t.check(&["u:b"]).is_ok());
    }
}
